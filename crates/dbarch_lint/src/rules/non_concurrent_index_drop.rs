//! `DROP INDEX` without `CONCURRENTLY` on an index the file did not create.
//!
//! ## Why
//! A plain `DROP INDEX` takes an `ACCESS EXCLUSIVE` lock on the index's table. The drop
//! itself is quick, but the lock has to wait for every query already running on the table,
//! and while it waits every new query on the table — reads included — queues behind it; on
//! a busy table one slow report turns a millisecond drop into an outage.
//!
//! Not flagged: indexes created earlier in the same file, and, when the catalog is known
//! (`--url`), indexes that implement a constraint (`DROP INDEX` refuses them: drop the
//! constraint), indexes attached to a partitioned parent's index, and indexes of partitioned
//! tables — `DROP INDEX CONCURRENTLY` supports none of these, so there is no concurrent
//! alternative to suggest.
//!
//! Lock: AccessExclusiveLock on the table (and on the index it drops).
//!
//! ## Example
//! ```sql
//! DROP INDEX orders_status_idx;
//! ```
//!
//! ## Instead
//! ```sql
//! -- dbarch:no-transaction
//! DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
//! ```
//! `CONCURRENTLY` waits for the transactions using the index to finish instead of blocking
//! new ones (`SHARE UPDATE EXCLUSIVE` on the table). It drops one index per statement, does
//! not support `CASCADE`, and cannot run in a transaction block.
//!
//! ## References
//! - PostgreSQL documentation, DROP INDEX (`CONCURRENTLY`).
//! - squawk `require-concurrent-index-deletion`; strong_migrations "Removing an index
//!   non-concurrently" (an optional check there).

use super::ops_util::{
    catalog_index, drop_names, no_transaction_fix, object_type, sql_name, table_rel,
};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::{DropBehavior, ObjectType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::DropStmt(d) = stmt.node else {
        return;
    };
    if d.concurrent || object_type(d.remove_type) != ObjectType::ObjectIndex {
        return;
    }
    let cascade = DropBehavior::try_from(d.behavior) == Ok(DropBehavior::DropCascade);
    for name in drop_names(&d.objects) {
        if state.is_new(&name) {
            continue;
        }
        let table = catalog_index(state, &name);
        if let Some((t, ix)) = table
            && (ix.constraint.is_some() || ix.parent_index.is_some() || t.partition_key.is_some())
        {
            continue;
        }
        let on = table.map_or("its table".to_string(), |(t, _)| table_rel(t).to_string());
        let mut help = "Drop it with DROP INDEX CONCURRENTLY, one index per statement, in a \
                        migration that does not run in a transaction (`-- dbarch:no-transaction`)."
            .to_string();
        if cascade {
            help.push_str(
                " CONCURRENTLY does not support CASCADE: drop the objects that depend on the \
                 index first.",
            );
        }
        let fix = no_transaction_fix(
            state,
            &format!("DROP INDEX CONCURRENTLY IF EXISTS {};", sql_name(&name)),
        );
        let mut diag = stmt
            .diag(
                "M003",
                format!(
                    "DROP INDEX {name} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on \
                     {on}: every query on it, reads included, waits behind the drop"
                ),
            )
            .with_object(name.to_string())
            .with_help(help)
            .with_fix(fix);
        if let Some((t, _)) = table {
            diag = state.scale(diag, &table_rel(t));
        }
        out.push(diag);
    }
}
