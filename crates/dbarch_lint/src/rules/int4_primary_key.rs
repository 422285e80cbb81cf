//! A single-column primary key of type `integer` or `smallint` (including `serial`), on a
//! table whose rows are generated.
//!
//! ## Why
//! `integer` keys run out at 2,147,483,647. Tables that grow without bound (logs, events,
//! chunks, messages) reach that, and the fix is then an `ALTER COLUMN ... TYPE bigint` that
//! rewrites the table and every index under an ACCESS EXCLUSIVE lock, plus every referencing
//! column. `bigint` costs 4 more bytes per row.
//!
//! ## Example
//! ```sql
//! CREATE TABLE ai_logs (id SERIAL PRIMARY KEY);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE ai_logs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
//! ```
//!
//! ## References
//! - PostgreSQL wiki, "Don't Do This": don't use serial.

use crate::util::{own_tables, table_label};
use crate::{Context, registry::diag};
use dbarch_model::Database;
use dbarch_report::Diagnostic;

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        let [pk] = t.primary_key_columns() else {
            continue;
        };
        let Some(col) = t.column(pk) else { continue };
        if !matches!(col.data_type.as_str(), "integer" | "smallint") {
            continue;
        }
        // A generated key: serial's nextval default or an identity column.
        let generated = col.identity.is_some()
            || col
                .default
                .as_deref()
                .is_some_and(|d| d.starts_with("nextval("));
        if !generated {
            continue;
        }
        out.push(
            diag(
                "S009",
                format!(
                    "primary key {}.{} is {}: it overflows at {} rows",
                    table_label(t),
                    col.name,
                    col.data_type,
                    if col.data_type == "integer" {
                        "2.1 billion"
                    } else {
                        "32,767"
                    }
                ),
            )
            .with_object(format!("{}.{}", table_label(t), col.name))
            .with_help(
                "Use bigint identity keys; changing the type later rewrites the table and its \
                 referencing columns.",
            ),
        );
    }
}
