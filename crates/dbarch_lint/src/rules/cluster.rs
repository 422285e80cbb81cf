//! `CLUSTER` in a migration.
//!
//! ## Why
//! `CLUSTER` rewrites the table in the order of an index, rebuilding every index, under an
//! `ACCESS EXCLUSIVE` lock held for the whole rewrite: no query can read or write the table
//! meanwhile, and the rewrite needs disk space for a full copy. The order is not maintained
//! afterwards, so the downtime buys a benefit that fades with every write. `CLUSTER` without
//! a table name re-clusters every table clustered before.
//!
//! Not flagged: tables created earlier in the same file.
//!
//! Lock: AccessExclusiveLock on the table and on its indexes.
//!
//! ## Example
//! ```sql
//! CLUSTER orders USING orders_customer_id_idx;
//! ```
//!
//! ## Instead
//! Reorder the table online, outside the migration, with `pg_repack --table=public.orders
//! --order-by=customer_id` (or `pg_squeeze`), which takes an exclusive lock only for the
//! final swap. Often an index that covers the query (`INCLUDE`) or a BRIN index on a
//! naturally ordered column gives the same benefit without moving rows.
//!
//! ## References
//! - PostgreSQL documentation, CLUSTER.
//! - pg_repack documentation (`--order-by`).

use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::ClusterStmt(c) = stmt.node else {
        return;
    };
    let help = "Reorder the table online with pg_repack --order-by (or pg_squeeze), outside \
                the migration; CLUSTER keeps the table unreadable for the whole rewrite.";
    let Some(rv) = &c.relation else {
        out.push(
            stmt.diag(
                "M009",
                "CLUSTER without a table rewrites every previously clustered table of the \
                 database, each under an ACCESS EXCLUSIVE lock that blocks reads and writes",
            )
            .with_help(help),
        );
        return;
    };
    let rel = RelName::of(rv);
    if state.is_new(&rel) {
        return;
    }
    let d = stmt
        .diag(
            "M009",
            format!(
                "CLUSTER rewrites {rel} under an ACCESS EXCLUSIVE lock: no query can read or \
                 write it until the rewrite ends"
            ),
        )
        .with_object(rel.to_string())
        .with_help(help);
    out.push(state.scale(d, &rel));
}
