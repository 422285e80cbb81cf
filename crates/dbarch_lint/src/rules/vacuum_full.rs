//! `VACUUM FULL` in a migration.
//!
//! ## Why
//! `VACUUM FULL` rewrites the table into a new file, with every index rebuilt, under an
//! `ACCESS EXCLUSIVE` lock held from start to end: no query can read or write the table
//! meanwhile, and the rewrite needs free disk space for a full copy. On a table worth
//! compacting that is minutes to hours of downtime. Without a table name it does this to
//! every table of the database, one after the other.
//!
//! Not flagged: tables created earlier in the same file (empty: nothing to compact).
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! -- dbarch:no-transaction
//! VACUUM FULL orders;
//! ```
//!
//! ## Instead
//! Reclaim the space online, outside the migration, with `pg_repack` (`pg_repack
//! --table=public.orders`) or `pg_squeeze`: both build the compacted copy while the table
//! stays in use and take an exclusive lock only for the final swap. A plain `VACUUM` (no
//! lock on reads or writes) makes dead space reusable without returning it to the
//! operating system:
//! ```sql
//! -- dbarch:no-transaction
//! VACUUM (ANALYZE) orders;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, VACUUM (`FULL`) and "Routine Vacuuming" (24.1.2).
//! - pg_repack and pg_squeeze documentation.

use super::ops_util::sql_name;
use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::VacuumStmt(v) = stmt.node else {
        return;
    };
    if !v.is_vacuumcmd || !super::ops_util::option_on(&v.options, "full") {
        return;
    }
    let rels: Vec<RelName> = v
        .rels
        .iter()
        .filter_map(|n| match n.node.as_ref()? {
            NodeEnum::VacuumRelation(r) => r.relation.as_ref().map(RelName::of),
            NodeEnum::RangeVar(r) => Some(RelName::of(r)),
            _ => None,
        })
        .collect();
    let help = "Compact the table online with pg_repack or pg_squeeze, outside the migration; \
                a plain VACUUM makes the dead space reusable without locking out queries.";
    if rels.is_empty() {
        out.push(
            stmt.diag(
                "M008",
                "VACUUM FULL without a table rewrites every table of the database, each under \
                 an ACCESS EXCLUSIVE lock that blocks reads and writes",
            )
            .with_help(help)
            .with_fix("VACUUM (ANALYZE);"),
        );
        return;
    }
    for rel in rels.iter().filter(|r| !state.is_new(r)) {
        let d = stmt
            .diag(
                "M008",
                format!(
                    "VACUUM FULL rewrites {rel} under an ACCESS EXCLUSIVE lock: no query can \
                     read or write it until the rewrite ends"
                ),
            )
            .with_object(rel.to_string())
            .with_help(help)
            .with_fix(format!("VACUUM (ANALYZE) {};", sql_name(rel)));
        out.push(state.scale(d, rel));
    }
}
