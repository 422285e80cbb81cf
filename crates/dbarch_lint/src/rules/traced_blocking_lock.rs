//! With `--trace`: a statement held a lock that blocks writes (or reads and writes) on a
//! table that existed before the migration — measured in `pg_locks`, not guessed.
//!
//! ## Why
//! Static rules predict locks from the statement's text; the trace reads the locks the
//! statement really held, inside the migration's transaction before it commits (or, for
//! statements that run outside a transaction, by watching the session from a second
//! connection). A write-blocking lock held while the table is rewritten or scanned queues
//! every writer behind the migration. The finding gives the lock and the statement's
//! duration on the trace server's data.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);
//! ```
//!
//! ## Instead
//! Use the online form the static finding on the same line suggests (a concurrent build, a
//! `NOT VALID` constraint validated later, an expand/contract column change), or run it in a
//! maintenance window with a short `lock_timeout`.
//!
//! ## References
//! - PostgreSQL documentation, "Explicit Locking" (13.3), table-level lock modes.
