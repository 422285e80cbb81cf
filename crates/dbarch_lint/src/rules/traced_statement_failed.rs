//! With `--trace`: a statement failed when the migration ran on the trace server.
//!
//! ## Why
//! The trace server holds the target's schema (with `--url`) filled with synthetic rows, or
//! an empty database, and runs each file as the runner would. A failure there — a missing
//! object, a constraint the existing rows violate, `NOT NULL` without a default on a
//! non-empty table, `CONCURRENTLY` in a transaction — is a failure in production too.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD COLUMN region text NOT NULL;  -- orders has rows
//! ```
//!
//! ## Instead
//! ```sql
//! ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';
//! ```
//!
//! ## References
//! - `dbarch lint --trace`; `dbarch migrate test` rehearses whole histories the same way.
