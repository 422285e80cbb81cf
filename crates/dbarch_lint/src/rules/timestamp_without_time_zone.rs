//! A `timestamp without time zone` column.
//!
//! ## Why
//! `timestamp` stores a wall-clock reading with no zone: the same value means different
//! instants to sessions with different `TimeZone` settings, `now()` is silently converted to the
//! session's local time on insert, and daylight-saving transitions make ranges ambiguous.
//! `timestamptz` stores an instant (UTC) and converts on display; it costs the same 8 bytes.
//!
//! ## Example
//! ```sql
//! CREATE TABLE ai_logs (created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE ai_logs (created_at timestamptz NOT NULL DEFAULT now());
//! ```
//! Converting an existing column rewrites the table (`ALTER COLUMN ... TYPE timestamptz USING
//! created_at AT TIME ZONE 'UTC'`); on a large table, add a new column and backfill instead.
//!
//! ## References
//! - PostgreSQL wiki, "Don't Do This": don't use timestamp (without time zone).

use crate::util::{own_tables, table_label, table_sql};
use crate::{Context, registry::diag};
use dbarch_model::{Database, quote_ident};
use dbarch_report::Diagnostic;

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        for c in t.columns.iter().filter(|c| c.is_local) {
            let ty = c.data_type.as_str();
            if !(ty.starts_with("timestamp") && ty.ends_with("without time zone")) {
                continue;
            }
            let col = quote_ident(&c.name);
            out.push(
                diag(
                    "S008",
                    format!(
                        "column {}.{} is timestamp without time zone",
                        table_label(t),
                        c.name
                    ),
                )
                .with_object(format!("{}.{}", table_label(t), c.name))
                .with_help(
                    "Use timestamptz. The conversion rewrites the table: on a large one, add a \
                     column and backfill.",
                )
                .with_fix(format!(
                    "ALTER TABLE {} ALTER COLUMN {col} TYPE timestamptz USING {col} AT TIME ZONE 'UTC';",
                    table_sql(t)
                )),
            );
        }
    }
}
