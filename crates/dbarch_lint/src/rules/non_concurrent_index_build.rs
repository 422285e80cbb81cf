//! `CREATE INDEX` without `CONCURRENTLY` on a table that already exists.
//!
//! Lock: ShareLock on the table.
//!
//! ## Why
//! A plain index build takes a `SHARE` lock on the table for the whole build: reads go on,
//! but every `INSERT`, `UPDATE` and `DELETE` waits until the index is built — minutes to
//! hours on a large table, and the queue of waiting writers grows behind it. Tables created
//! earlier in the same file are not flagged (nobody uses them yet), nor is
//! `CREATE INDEX ON ONLY` a partitioned parent (it builds nothing). pgvector indexes have
//! their own rule (`V005`).
//!
//! ## Example
//! ```sql
//! CREATE INDEX orders_customer_id_idx ON orders (customer_id);
//! ```
//!
//! ## Instead
//! ```sql
//! -- dbarch:no-transaction
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
//! ```
//! `CONCURRENTLY` takes `SHARE UPDATE EXCLUSIVE` (writes go on), scans the table twice and
//! cannot run in a transaction block. If it fails it leaves an `INVALID` index: drop it and
//! build again (dbarch's runner does this itself).
//!
//! ## References
//! - PostgreSQL documentation, CREATE INDEX, "Building Indexes Concurrently".
//! - squawk `require-concurrent-index-creation`; strong_migrations "Adding an index
//!   non-concurrently".

use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

/// Index methods with their own rule.
pub(crate) const ANN_METHODS: &[&str] = &["hnsw", "ivfflat"];

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::IndexStmt(ix) = stmt.node else {
        return;
    };
    let Some(rv) = &ix.relation else { return };
    let rel = RelName::of(rv);
    if ix.concurrent
        || state.is_new(&rel)
        || !rv.inh
        || ANN_METHODS.contains(&ix.access_method.as_str())
    {
        return;
    }
    let name = if ix.idxname.is_empty() {
        String::new()
    } else {
        format!("{} ", ix.idxname)
    };
    let d = stmt
        .diag(
            "M002",
            format!(
                "CREATE INDEX {name}without CONCURRENTLY blocks writes to {rel} for the whole build"
            ),
        )
        .with_object(rel.to_string())
        .with_help(
            "Build it with CREATE INDEX CONCURRENTLY in a migration that does not run in a \
             transaction (`-- dbarch:no-transaction`).",
        )
        .with_fix(concurrent_form(stmt.text()));
    out.push(state.scale(d, &rel));
}

/// The statement with `CONCURRENTLY` inserted after `INDEX` (best effort, for the fix).
fn concurrent_form(text: &str) -> String {
    let upper = text.to_ascii_uppercase();
    match upper.find("INDEX") {
        Some(i) => format!("{}INDEX CONCURRENTLY{}", &text[..i], &text[i + 5..]),
        None => text.to_string(),
    }
}
