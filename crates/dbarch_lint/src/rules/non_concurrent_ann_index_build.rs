//! `CREATE INDEX ... USING hnsw` / `ivfflat` without `CONCURRENTLY` on an existing table.
//!
//! ## Why
//! A pgvector index build computes distances between embeddings for every row: minutes on a
//! few hundred thousand rows, hours on tens of millions. Without `CONCURRENTLY` the table is
//! under a `SHARE` lock for all that time — reads go on, but every `INSERT`, `UPDATE` and
//! `DELETE` waits. The build is also much faster with enough `maintenance_work_mem` (the HNSW
//! graph should fit in it) and parallel workers (`max_parallel_maintenance_workers`), both
//! session settings to raise just before it. Tables created earlier in the file are not
//! flagged, nor `ON ONLY` a partitioned parent. Other index methods are `M002`'s.
//!
//! Lock: ShareLock on the table.
//!
//! ## Example
//! ```sql
//! CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);
//! ```
//!
//! ## Instead
//! ```sql
//! -- dbarch:no-transaction
//! SET maintenance_work_mem = '4GB';
//! SET max_parallel_maintenance_workers = 7;
//! CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);
//! ```
//!
//! ## References
//! - pgvector README, "Index Build Time" and "Indexing Progress".
//! - PostgreSQL documentation, CREATE INDEX, "Building Indexes Concurrently".

use super::non_concurrent_index_build::ANN_METHODS;
use super::table_changes::concurrent_index_sql;
use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::IndexStmt(ix) = stmt.node else {
        return;
    };
    let Some(rv) = &ix.relation else { return };
    let rel = RelName::of(rv);
    let method = ix.access_method.to_ascii_lowercase();
    if ix.concurrent || state.is_new(&rel) || !rv.inh || !ANN_METHODS.contains(&method.as_str()) {
        return;
    }
    let d = stmt
        .diag(
            "V005",
            format!(
                "{method} index build without CONCURRENTLY blocks writes to {rel} for the whole \
                 build (minutes to hours)"
            ),
        )
        .with_object(rel.to_string())
        .with_help(
            "Build it CONCURRENTLY in a migration that does not run in a transaction, after \
             raising maintenance_work_mem (so the graph fits in memory) and \
             max_parallel_maintenance_workers for the session.",
        )
        .with_fix(format!(
            "-- dbarch:no-transaction\nSET maintenance_work_mem = '2GB';\nSET max_parallel_maintenance_workers = 4;\n{};",
            concurrent_index_sql(stmt.text()).trim_end_matches(';')
        ));
    out.push(state.scale(d, &rel));
}
