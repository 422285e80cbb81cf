//! A `jsonb` column that the workload filters with containment or key-existence operators
//! (`@>`, `?`, `?|`, `?&`, `@?`, `@@`) but that has no GIN index.
//!
//! ## Why
//! Those operators can only use a GIN index (a btree cannot answer "does this document
//! contain that one"); without it every such query reads the whole table and decodes every
//! document. The rule speaks only when a workload is known (`dbarch lint --workload FILE`,
//! `dbarch review --example`), since the schema alone does not say how a column is queried.
//!
//! ## Example
//! ```sql
//! CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
//! -- workload: SELECT id FROM events WHERE payload @> '{"type": "signup"}';
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE INDEX CONCURRENTLY events_payload_idx ON events USING gin (payload jsonb_path_ops);
//! ```
//! `jsonb_path_ops` is smaller and faster for `@>` (and `@?`, `@@`); the default `jsonb_ops`
//! also serves the key-existence operators `?`, `?|`, `?&`.
//!
//! ## References
//! - PostgreSQL documentation, "jsonb Indexing" (8.14.4).

use crate::util::{index_name, table_label};
use crate::workload::operator_uses;
use crate::{Context, registry::diag};
use dbarch_model::{Database, IndexTarget, quote_ident};
use dbarch_report::Diagnostic;
use std::collections::BTreeMap;

const JSONB_OPS: &[&str] = &["@>", "?", "?|", "?&", "@?", "@@"];
/// The operators `jsonb_path_ops` serves.
const PATH_OPS: &[&str] = &["@>", "@?", "@@"];

pub(crate) fn check(db: &Database, ctx: &Context, out: &mut Vec<Diagnostic>) {
    let mut by_column: BTreeMap<(String, String, String), Vec<(String, String)>> = BTreeMap::new();
    for u in operator_uses(db, &ctx.workload) {
        if JSONB_OPS.contains(&u.operator.as_str()) {
            by_column
                .entry((u.schema, u.table, u.column))
                .or_default()
                .push((u.operator, u.query));
        }
    }
    for ((schema, table, column), uses) in by_column {
        let Some(t) = db
            .tables
            .iter()
            .find(|t| t.schema == schema && t.name == table)
        else {
            continue;
        };
        let Some(c) = t.columns.iter().find(|c| c.name == column) else {
            continue;
        };
        if c.data_type != "jsonb" {
            continue;
        }
        let indexed = t.indexes.iter().any(|i| {
            i.method == "gin"
                && i.keys.first().is_some_and(|k| match &k.target {
                    IndexTarget::Column(n) => *n == column,
                    IndexTarget::Expression(_) => false,
                })
        });
        if indexed {
            continue;
        }
        let ops: Vec<&str> = uses.iter().map(|(o, _)| o.as_str()).collect();
        let opclass = if ops.iter().all(|o| PATH_OPS.contains(o)) {
            " jsonb_path_ops"
        } else {
            ""
        };
        out.push(
            diag(
                "S010",
                format!(
                    "{}.{column} is filtered with {} but has no GIN index: each such query reads every row (e.g. {})",
                    table_label(t),
                    ops.join(", "),
                    uses[0].1
                ),
            )
            .with_object(format!("{}.{column}", table_label(t)))
            .with_help("Index the column with GIN so containment and key lookups use it.")
            .with_fix(format!(
                "CREATE INDEX CONCURRENTLY {} ON {} USING gin ({}{opclass});",
                index_name(&t.name, &[column.as_str()]),
                t.qualified_name().sql(),
                quote_ident(&column)
            )),
        );
    }
}
