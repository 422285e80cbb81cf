//! With `--trace`: a statement read a whole existing table (a sequential scan counted in
//! `pg_stat_xact_user_tables`).
//!
//! ## Why
//! A full scan under a lock that blocks writes (validating a constraint added without
//! `NOT VALID`, `SET NOT NULL`, a type change) keeps writers waiting for as long as the scan
//! takes, which grows with the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
//! ```
//!
//! ## Instead
//! Scan under a weaker lock: add the constraint `NOT VALID` and `VALIDATE CONSTRAINT` it in
//! a later transaction (`SHARE UPDATE EXCLUSIVE`: writes go on).
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "VALIDATE CONSTRAINT".
