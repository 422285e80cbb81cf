//! A `varchar(n)` column: a length limit that is usually arbitrary (255, 100, 50).
//!
//! ## Why
//! In PostgreSQL `varchar(n)` stores exactly like `text`; the limit only rejects data. Limits
//! picked by habit reject real values (long names, e-mail addresses, titles), and raising one
//! later is an `ALTER TABLE` that takes an ACCESS EXCLUSIVE lock (widening itself does not
//! rewrite). When a limit is a real business rule, a `CHECK` constraint states it and can be
//! changed without touching the type.
//!
//! ## Example
//! ```sql
//! CREATE TABLE users (name varchar(100) NOT NULL);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE users (name text NOT NULL CHECK (length(name) <= 200));
//! ```
//!
//! ## References
//! - PostgreSQL documentation, "Character Types" (8.3): no performance difference between them.

use crate::util::{own_tables, table_label, table_sql};
use crate::{Context, registry::diag};
use dbarch_model::{Database, quote_ident};
use dbarch_report::Diagnostic;

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        for c in t.columns.iter().filter(|c| c.is_local) {
            let Some(limit) = c
                .data_type
                .strip_prefix("character varying(")
                .and_then(|r| r.strip_suffix(')'))
            else {
                continue;
            };
            let col = quote_ident(&c.name);
            out.push(
                diag(
                    "S005",
                    format!(
                        "column {}.{} is varchar({limit}): is {limit} a business rule?",
                        table_label(t),
                        c.name
                    ),
                )
                .with_object(format!("{}.{}", table_label(t), c.name))
                .with_help(
                    "Use text, with a CHECK constraint when the limit is real. varchar to text \
                     is binary-coercible: no rewrite.",
                )
                .with_fix(format!(
                    "ALTER TABLE {} ALTER COLUMN {col} TYPE text, ADD CHECK (length({col}) <= {limit});",
                    table_sql(t)
                )),
            );
        }
    }
}
