//! `REINDEX` without `CONCURRENTLY`.
//!
//! ## Why
//! A plain `REINDEX` blocks writes to the table for the whole rebuild (a `SHARE` lock) and
//! takes an `ACCESS EXCLUSIVE` lock on each index it rebuilds; since the planner locks every
//! index of a table it plans a query on, reads of the table block too. `REINDEX TABLE`,
//! `SCHEMA` and `DATABASE` do this to every index in turn. `REINDEX ... CONCURRENTLY`
//! (PostgreSQL 12+) builds a new copy of each index beside the old one and swaps them,
//! blocking neither reads nor writes.
//!
//! Not flagged: indexes and tables created earlier in the same file, and `REINDEX SYSTEM`
//! (system catalogs cannot be reindexed concurrently).
//!
//! Lock: ShareLock on the table, AccessExclusiveLock on each index it rebuilds.
//!
//! ## Example
//! ```sql
//! REINDEX INDEX orders_status_idx;
//! ```
//!
//! ## Instead
//! ```sql
//! -- dbarch:no-transaction
//! REINDEX INDEX CONCURRENTLY orders_status_idx;
//! ```
//! `CONCURRENTLY` cannot run in a transaction block. If it fails it leaves an invalid
//! `_ccnew` index behind: drop it (`DROP INDEX CONCURRENTLY`) before trying again. On
//! PostgreSQL 14.0–14.3, upgrade first (see `M040`).
//!
//! ## References
//! - PostgreSQL documentation, REINDEX ("Rebuilding Indexes Concurrently").
//! - squawk `require-concurrent-index-creation` covers builds; strong_migrations lists
//!   `REINDEX` among operations to run concurrently.

use super::ops_util::{catalog_index, no_transaction_fix, option_on, sql_name, table_rel};
use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_model::quote_ident;
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::ReindexObjectType;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::ReindexStmt(r) = stmt.node else {
        return;
    };
    if option_on(&r.params, "concurrently") {
        return;
    }
    let rel = r.relation.as_ref().map(RelName::of);
    let kind = ReindexObjectType::try_from(r.kind).unwrap_or(ReindexObjectType::Undefined);
    let (keyword, target, table) = match (kind, &rel) {
        (ReindexObjectType::ReindexObjectIndex, Some(rel)) => {
            if state.is_new(rel) {
                return;
            }
            let table = catalog_index(state, rel).map(|(t, _)| table_rel(t));
            ("INDEX", rel.to_string(), table)
        }
        (ReindexObjectType::ReindexObjectTable, Some(rel)) => {
            if state.is_new(rel) || rel.schema.as_deref() == Some("pg_catalog") {
                return;
            }
            ("TABLE", rel.to_string(), Some(rel.clone()))
        }
        (ReindexObjectType::ReindexObjectSchema, _) => {
            if r.name == "pg_catalog" {
                return;
            }
            ("SCHEMA", r.name.clone(), None)
        }
        (ReindexObjectType::ReindexObjectDatabase, _) => ("DATABASE", r.name.clone(), None),
        _ => return,
    };
    let what = format!("{keyword} {target}").trim_end().to_string();
    let blocked = match &table {
        Some(t) => format!("writes to {t}"),
        None if keyword == "INDEX" => "writes to its table".to_string(),
        None => "writes to every table it reaches".to_string(),
    };
    let target_sql = match &rel {
        Some(rel) => format!(" {}", sql_name(rel)),
        None if r.name.is_empty() => String::new(),
        None => format!(" {}", quote_ident(&r.name)),
    };
    let fix = no_transaction_fix(
        state,
        &format!("REINDEX {keyword} CONCURRENTLY{target_sql};"),
    );
    let d = stmt
        .diag(
            "M005",
            format!(
                "REINDEX {what} without CONCURRENTLY blocks {blocked} and, through the \
                 ACCESS EXCLUSIVE lock on each index, the queries that plan with it"
            ),
        )
        .with_object(target)
        .with_help(
            "Rebuild with REINDEX ... CONCURRENTLY in a migration that does not run in a \
             transaction (`-- dbarch:no-transaction`).",
        )
        .with_fix(fix);
    out.push(match &table {
        Some(t) => state.scale(d, t),
        None => d,
    });
}
