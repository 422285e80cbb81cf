//! `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` on a materialized view that already
//! exists.
//!
//! ## Why
//! A plain refresh runs the view's query and swaps in the result under an `ACCESS EXCLUSIVE`
//! lock held for the whole refresh: every `SELECT` from the view waits until the query has
//! run again — seconds to minutes for the views worth materializing.
//! `REFRESH ... CONCURRENTLY` computes the new contents beside the old ones and applies the
//! difference under an `EXCLUSIVE` lock, which lets reads go on.
//!
//! `CONCURRENTLY` has two conditions: the view must have a `UNIQUE` index on plain columns,
//! without a `WHERE` clause, and it must already be populated (not created or last refreshed
//! `WITH NO DATA`). When the catalog is known (`--url`) and shows no such index, the finding
//! says so. Not flagged: views created earlier in the same file, and `WITH NO DATA` (which
//! cannot be concurrent).
//!
//! Lock: AccessExclusiveLock on the materialized view, AccessShareLock on the tables its query reads.
//!
//! ## Example
//! ```sql
//! REFRESH MATERIALIZED VIEW order_totals;
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS order_totals_customer_id_key
//!     ON order_totals (customer_id);  -- once, in a no-transaction migration
//! REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;
//! ```
//! Unlike the index operations, `REFRESH ... CONCURRENTLY` may run inside a transaction.
//!
//! ## References
//! - PostgreSQL documentation, REFRESH MATERIALIZED VIEW (`CONCURRENTLY`).
//! - PostgreSQL documentation, "Explicit Locking" (table-level lock modes).

use super::ops_util::catalog_matview;
use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_model::IndexTarget;
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::RefreshMatViewStmt(r) = stmt.node else {
        return;
    };
    let Some(rv) = &r.relation else { return };
    let rel = RelName::of(rv);
    if r.concurrent || r.skip_data || state.is_new(&rel) {
        return;
    }
    let has_unique = catalog_matview(state, &rel).map(|v| {
        v.indexes.iter().any(|i| {
            i.unique
                && i.valid
                && i.predicate.is_none()
                && i.keys
                    .iter()
                    .all(|k| matches!(k.target, IndexTarget::Column(_)))
        })
    });
    let mut help = "Refresh with REFRESH MATERIALIZED VIEW CONCURRENTLY: reads go on during the \
                    refresh. It needs a UNIQUE index on plain columns of the view (no WHERE \
                    clause) and a populated view."
        .to_string();
    let mut fix = format!(
        "REFRESH MATERIALIZED VIEW CONCURRENTLY {};",
        super::ops_util::sql_name(&rel)
    );
    if has_unique == Some(false) {
        help = format!(
            "{rel} has no UNIQUE index on plain columns, which CONCURRENTLY requires: create \
             one (CREATE UNIQUE INDEX CONCURRENTLY, in a no-transaction migration) on the \
             columns that identify a row, then refresh with REFRESH MATERIALIZED VIEW \
             CONCURRENTLY."
        );
        fix = format!(
            "-- first, in a no-transaction migration:\n-- CREATE UNIQUE INDEX CONCURRENTLY {}_key ON {} (<columns identifying a row>);\n{fix}",
            rel.name,
            super::ops_util::sql_name(&rel)
        );
    }
    let d = stmt
        .diag(
            "M006",
            format!(
                "REFRESH MATERIALIZED VIEW {rel} without CONCURRENTLY blocks every read of the \
                 view until the refresh ends"
            ),
        )
        .with_object(rel.to_string())
        .with_help(help)
        .with_fix(fix);
    out.push(state.scale(d, &rel));
}
