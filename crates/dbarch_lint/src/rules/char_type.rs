//! A `char(n)` / `character(n)` column.
//!
//! ## Why
//! `char(n)` pads every value with spaces up to `n` characters and strips them again in
//! most — not all — operations: comparisons ignore the padding, `LIKE`, regular expressions
//! and concatenation with `text` see it differently, and application code gets the padded
//! string back. It saves nothing: PostgreSQL stores `char(n)`, `varchar(n)` and `text` the
//! same way, and the padding makes `char(n)` slightly bigger and slower. Bare `char` is
//! `char(1)`. (The quoted single-byte `"char"` system type is not flagged.)
//!
//! ## Example
//! ```sql
//! CREATE TABLE countries (code char(2) PRIMARY KEY, name text NOT NULL);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE countries (code text PRIMARY KEY CHECK (length(code) = 2), name text NOT NULL);
//! ```
//!
//! ## References
//! - PostgreSQL documentation, "Character Types" (8.3), the tip on performance.
//! - PostgreSQL wiki, "Don't Do This": "Don't use char(n)"; squawk `ban-char-field`.

use super::table_changes::flag_column_types;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    flag_column_types(
        stmt,
        state,
        out,
        "M031",
        // `pg_catalog.bpchar` is what the grammar makes of char/character; `"char"` stays `char`.
        |t| t.name == "bpchar",
        |_| "text".to_string(),
        |object, t| {
            format!(
                "{object} is {}: blank-padded, and no faster than text",
                t.display()
            )
        },
        "Use text (or varchar) with a CHECK on the length if the length matters.",
    );
}
