//! A `CONCURRENTLY` operation that PostgreSQL refuses to run inside a transaction block.
//!
//! ## Why
//! `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY` and
//! `ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY` commit several transactions of their
//! own, so PostgreSQL rejects them inside a transaction block with
//! `cannot run inside a transaction block` (SQLSTATE 25001). The block may be the runner's
//! (dbarch, like most migration tools, wraps each migration in one transaction unless it is
//! marked otherwise) or an explicit `BEGIN` earlier in the file. The migration fails when it
//! reaches the statement, after doing everything before it.
//!
//! `REFRESH MATERIALIZED VIEW CONCURRENTLY` is not flagged: it runs in a transaction.
//!
//! ## Example
//! ```sql
//! CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
//! ```
//! (in a migration the runner wraps in a transaction)
//!
//! ## Instead
//! ```sql
//! -- dbarch:no-transaction
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
//! ```
//! Give the concurrent operation a migration of its own, marked `-- dbarch:no-transaction`
//! (sqlx: `-- no-transaction`), or move it after the `COMMIT` of the explicit transaction.
//!
//! ## References
//! - PostgreSQL documentation, CREATE INDEX ("Building Indexes Concurrently"), DROP INDEX,
//!   REINDEX and ALTER TABLE (`DETACH PARTITION ... CONCURRENTLY`): each states it cannot be
//!   executed inside a transaction block.
//! - strong_migrations: concurrent index operations need `disable_ddl_transaction!`; squawk's
//!   `assume_in_transaction` setting models the same runner wrap.

use super::ops_util::{no_transaction_fix, option_on};
use crate::migration::ast::{alter_cmds, cmd_type};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    if !state.in_transaction() {
        return;
    }
    let what = match stmt.node {
        NodeEnum::IndexStmt(ix) if ix.concurrent => "CREATE INDEX CONCURRENTLY",
        NodeEnum::DropStmt(d) if d.concurrent => "DROP INDEX CONCURRENTLY",
        NodeEnum::ReindexStmt(r) if option_on(&r.params, "concurrently") => "REINDEX CONCURRENTLY",
        NodeEnum::AlterTableStmt(a)
            if alter_cmds(a).any(|c| {
                cmd_type(c) == AlterTableType::AtDetachPartition
                    && matches!(
                        c.def.as_ref().and_then(|d| d.node.as_ref()),
                        Some(NodeEnum::PartitionCmd(p)) if p.concurrent
                    )
            }) =>
        {
            "DETACH PARTITION CONCURRENTLY"
        }
        _ => return,
    };
    let (block, help) = if state.in_explicit_transaction() {
        (
            "the explicit transaction opened by an earlier BEGIN",
            "Move it after the COMMIT of the transaction (in a migration that does not run in \
             a transaction).",
        )
    } else {
        (
            "the transaction the runner wraps this migration in",
            "Give it a migration of its own marked `-- dbarch:no-transaction` (sqlx: \
             `-- no-transaction`), so that the runner does not wrap it in a transaction.",
        )
    };
    out.push(
        stmt.diag(
            "M004",
            format!("{what} cannot run inside a transaction block, and this one runs in {block}"),
        )
        .with_help(help)
        .with_fix(no_transaction_fix(state, &format!("{};", stmt.text()))),
    );
}
