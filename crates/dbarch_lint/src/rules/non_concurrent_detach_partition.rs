//! `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY` on an existing partitioned
//! table.
//!
//! ## Why
//! A plain detach takes an `ACCESS EXCLUSIVE` lock on the partitioned table and on the
//! partition: every query on any partition of the table — reads included — waits for it,
//! and it waits for every query already running. Since PostgreSQL 14,
//! `DETACH PARTITION ... CONCURRENTLY` takes only `SHARE UPDATE EXCLUSIVE` locks and waits
//! for the queries that may still see the partition to finish instead of blocking new ones.
//!
//! `CONCURRENTLY` cannot run in a transaction block, and is refused when the table has a
//! default partition. The severity is not scaled by size (the partitioned table itself holds
//! no rows). Not flagged: tables created earlier in the same file, servers older
//! than 14, and, when the catalog is known (`--url`), tables with a default partition.
//!
//! Lock: AccessExclusiveLock on the partitioned table and on the partition.
//!
//! ## Example
//! ```sql
//! ALTER TABLE measurements DETACH PARTITION measurements_2024;
//! ```
//!
//! ## Instead
//! ```sql
//! -- dbarch:no-transaction
//! ALTER TABLE measurements DETACH PARTITION measurements_2024 CONCURRENTLY;
//! ```
//! If a concurrent detach is interrupted, the partition stays "detach pending": finish with
//! `ALTER TABLE measurements DETACH PARTITION measurements_2024 FINALIZE`.
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE (`DETACH PARTITION ... CONCURRENTLY | FINALIZE`)
//!   and "Partition Maintenance" (5.12.4).

use super::ops_util::{no_transaction_fix, sql_name};
use crate::migration::ast::{RelName, alter_cmds, cmd_type};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::AlterTableStmt(a) = stmt.node else {
        return;
    };
    let Some(rv) = &a.relation else { return };
    let parent = RelName::of(rv);
    if state.is_new(&parent) || state.ctx.server_major.is_some_and(|m| m < 14) {
        return;
    }
    for cmd in alter_cmds(a) {
        if cmd_type(cmd) != AlterTableType::AtDetachPartition {
            continue;
        }
        let Some(NodeEnum::PartitionCmd(p)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else {
            continue;
        };
        if p.concurrent {
            continue;
        }
        let Some(part) = p.name.as_ref().map(RelName::of) else {
            continue;
        };
        if has_default_partition(state, &parent) {
            continue;
        }
        let fix = no_transaction_fix(
            state,
            &format!(
                "ALTER TABLE {} DETACH PARTITION {} CONCURRENTLY;",
                sql_name(&parent),
                sql_name(&part)
            ),
        );
        // Not scaled: a partitioned table's own size (none) says nothing of its traffic.
        out.push(
            stmt.diag(
                "M007",
                format!(
                    "DETACH PARTITION {part} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock \
                     on {parent}: every query on the table, reads included, waits"
                ),
            )
            .with_object(parent.to_string())
            .with_help(
                "Detach with DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+) in a migration \
                 that does not run in a transaction (`-- dbarch:no-transaction`).",
            )
            .with_fix(fix),
        );
    }
}

/// The catalog shows a `DEFAULT` partition of the table (which forbids `CONCURRENTLY`).
fn has_default_partition(state: &State, parent: &RelName) -> bool {
    let Some(db) = state.catalog else {
        return false;
    };
    db.tables.iter().any(|t| {
        t.partition_of.as_ref().is_some_and(|p| {
            p.parent.name == parent.name
                && p.parent.schema == parent.schema_or_public()
                && p.bound.trim().eq_ignore_ascii_case("DEFAULT")
        })
    })
}
