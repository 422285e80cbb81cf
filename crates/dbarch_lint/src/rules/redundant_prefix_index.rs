//! A non-unique btree index whose key columns are a leading prefix of another btree index on
//! the same table.
//!
//! ## Why
//! A btree on `(a, b)` serves every lookup, range and sort that a btree on `(a)` serves, so the
//! shorter index only costs writes, disk and cache. (The longer index is somewhat larger to
//! scan; keep the short one only when measurements show it matters.)
//!
//! ## Example
//! ```sql
//! CREATE INDEX orders_customer ON orders (customer_id);
//! CREATE INDEX orders_customer_created ON orders (customer_id, created_at);
//! ```
//!
//! ## Instead
//! ```sql
//! DROP INDEX CONCURRENTLY orders_customer;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, "Multicolumn Indexes" (11.3).

use crate::util::{own_tables, table_label};
use crate::{Context, registry::diag};
use dbarch_model::{Database, QualifiedName};
use dbarch_report::Diagnostic;

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        for short in t
            .indexes
            .iter()
            .filter(|i| i.valid && !i.unique && i.constraint.is_none() && i.method == "btree")
        {
            let longer = t.indexes.iter().find(|long| {
                long.valid
                    && long.method == "btree"
                    && long.predicate == short.predicate
                    && long.keys.len() > short.keys.len()
                    && long.keys[..short.keys.len()] == short.keys[..]
            });
            if let Some(long) = longer {
                let name = QualifiedName::new(&t.schema, &short.name);
                out.push(
                    diag(
                        "S004",
                        format!(
                            "index {} on {} is a prefix of {}",
                            short.name,
                            table_label(t),
                            long.name
                        ),
                    )
                    .with_object(name.to_string())
                    .with_help("The longer index serves the same queries.")
                    .with_fix(format!("DROP INDEX CONCURRENTLY {};", name.sql())),
                );
            }
        }
    }
}
