//! A `json` column (rather than `jsonb`).
//!
//! ## Why
//! `json` stores the input text as is and re-parses it on every access: `->`, `->>` and
//! `@>`-style queries are slower, it has no equality operator (no `DISTINCT`, `GROUP BY`,
//! `UNION` or unique index on it), and no GIN index can serve containment or key-existence
//! searches. `jsonb` stores a parsed binary form with all of these. Keep `json` only when the
//! exact text — key order, duplicate keys, whitespace — must be preserved.
//!
//! ## Example
//! ```sql
//! CREATE TABLE webhooks (id bigint PRIMARY KEY, payload json NOT NULL);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE webhooks (id bigint PRIMARY KEY, payload jsonb NOT NULL);
//! ```
//!
//! ## References
//! - PostgreSQL documentation, "JSON Types" (8.14), on choosing between json and jsonb.
//! - eugene "Adding a json column"; strong_migrations notes json's missing equality
//!   operator (it breaks `SELECT DISTINCT` queries on the table).

use super::table_changes::flag_column_types;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    flag_column_types(
        stmt,
        state,
        out,
        "M035",
        |t| t.canonical() == "json",
        |_| "jsonb".to_string(),
        |object, _| {
            format!("{object} is json: re-parsed on each access, no equality, no GIN index")
        },
        "Use jsonb unless the exact input text (key order, duplicate keys) must be kept.",
    );
}
