//! A `-- dbarch:ignore CODE reason` directive that silenced nothing.
//!
//! ## Why
//! A stale directive hides nothing today but will silently hide a real finding later, when
//! someone edits the statement it covers. A directive that names no known rule is a typo.
//!
//! ## Example
//! ```sql
//! -- dbarch:ignore M002 the table is tiny
//! CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
//! ```
//!
//! ## Instead
//! Delete the directive, or point it at the statement that raises the finding:
//! ```sql
//! CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
//! ```
//!
//! ## References
//! - Directives: `-- dbarch:ignore CODE[,CODE] reason` covers the next statement (or the
//!   statement it trails on the same line); `-- dbarch:ignore-file CODE reason` the file.
