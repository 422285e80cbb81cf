//! `CREATE INDEX CONCURRENTLY` or `REINDEX CONCURRENTLY` on PostgreSQL 14.0 to 14.3.
//!
//! ## Why
//! PostgreSQL 14.0–14.3 had a bug by which an index built or rebuilt concurrently could miss
//! rows updated during the build: the index is silently corrupt, and queries that use it
//! return wrong results (a unique index may also let duplicates in). 14.4 fixed it. The
//! finding needs the server's version (linting with `--url`); without it the rule is silent.
//!
//! ## Example
//! ```sql
//! -- on PostgreSQL 14.2
//! CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
//! ```
//!
//! ## Instead
//! Upgrade to the latest 14.x minor release (a restart, no dump), then build the index.
//! Indexes already built or rebuilt concurrently on 14.0–14.3 should be checked with
//! `pg_amcheck --heapallindexed` (B-tree) and rebuilt:
//! ```sql
//! -- dbarch:no-transaction
//! REINDEX INDEX CONCURRENTLY orders_customer_id_idx;  -- after upgrading to 14.4+
//! ```
//!
//! ## References
//! - PostgreSQL 14.4 release notes ("Prevent possible corruption of indexes created or
//!   rebuilt with the CONCURRENTLY option").
//! - pg_amcheck documentation.

use super::ops_util::option_on;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some(version) = state.ctx.server_version_num else {
        return;
    };
    if !(140000..=140003).contains(&version) {
        return;
    }
    let what = match stmt.node {
        NodeEnum::IndexStmt(ix) if ix.concurrent => "CREATE INDEX CONCURRENTLY",
        NodeEnum::ReindexStmt(r) if option_on(&r.params, "concurrently") => "REINDEX CONCURRENTLY",
        _ => return,
    };
    out.push(
        stmt.diag(
            "M040",
            format!(
                "{what} on PostgreSQL 14.{} can build a corrupt index (a bug fixed in 14.4)",
                version - 140000
            ),
        )
        .with_help(
            "Upgrade the server to the latest 14.x minor release first; check indexes built \
             concurrently on 14.0–14.3 with pg_amcheck --heapallindexed and rebuild them.",
        ),
    );
}
