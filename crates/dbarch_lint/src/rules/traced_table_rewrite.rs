//! With `--trace`: a statement rewrote an existing table or index (its data file was
//! replaced: `relfilenode` changed).
//!
//! ## Why
//! A rewrite copies every row and rebuilds every index while holding an
//! `ACCESS EXCLUSIVE` lock: reads and writes wait for minutes or hours on a large table, and
//! the table needs twice its disk space meanwhile.
//!
//! ## Example
//! ```sql
//! ALTER TABLE events ALTER COLUMN id TYPE bigint;
//! ```
//!
//! ## Instead
//! Add a new column, backfill it in batches (`dbarch migrate backfill`), keep it in sync with
//! a trigger, then switch (`dbarch migrate plan --online` writes these steps).
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "Notes" (which forms rewrite the table).
