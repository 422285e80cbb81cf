//! A foreign key whose columns are not the leading columns of any index on the referencing
//! table.
//!
//! ## Why
//! Every `DELETE` or key `UPDATE` on the referenced table must find the referencing rows: without
//! an index that is a sequential scan of the child table, per parent row, while holding locks.
//! Joins from parent to children get the same full scans. The seed document lists "not indexing
//! foreign keys" among the anti-patterns; PostgreSQL indexes the referenced key, never the
//! referencing one.
//!
//! ## Example
//! ```sql
//! CREATE TABLE document_chunks (id bigint PRIMARY KEY, document_id integer REFERENCES documents (id));
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE INDEX CONCURRENTLY document_chunks_document_id_idx ON document_chunks (document_id);
//! ```
//! Any valid, non-partial index whose leading columns are the foreign key's columns (in any
//! order) covers it, including a primary key or unique constraint.
//!
//! ## References
//! - PostgreSQL documentation, "Foreign Keys" (5.5.5): indexing the referencing columns.

use crate::util::{index_name, key_columns, own_tables, table_label, table_sql};
use crate::{Context, registry::diag};
use dbarch_model::{Database, Table};
use dbarch_report::Diagnostic;

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        for (fk, r) in t.foreign_keys() {
            if !fk.is_local || covered(t, r.columns) {
                continue;
            }
            let cols: Vec<&str> = r.columns.iter().map(String::as_str).collect();
            let quoted: Vec<String> = cols.iter().map(|c| dbarch_model::quote_ident(c)).collect();
            out.push(
                diag(
                    "S001",
                    format!(
                        "foreign key {} on {} ({}) has no index: deletes and updates of {} scan {}",
                        fk.name,
                        table_label(t),
                        cols.join(", "),
                        r.references,
                        table_label(t)
                    ),
                )
                .with_object(format!("{}.{}", table_label(t), fk.name))
                .with_help("Index the referencing columns; build it CONCURRENTLY on a live table.")
                .with_fix(format!(
                    "CREATE INDEX CONCURRENTLY {} ON {} ({});",
                    index_name(&t.name, &cols),
                    table_sql(t),
                    quoted.join(", ")
                )),
            );
        }
    }
}

/// True when some usable index starts with exactly these columns, in any order.
pub(crate) fn covered(t: &Table, columns: &[String]) -> bool {
    t.indexes.iter().any(|i| {
        i.valid
            && i.predicate.is_none()
            && key_columns(i).is_some_and(|keys| {
                keys.len() >= columns.len()
                    && columns
                        .iter()
                        .all(|c| keys[..columns.len()].contains(&c.as_str()))
            })
    })
}
