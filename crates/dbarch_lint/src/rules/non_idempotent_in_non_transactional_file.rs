//! In a migration that does not run in one transaction, a `CREATE` without `IF NOT EXISTS`
//! or a `DROP` without `IF EXISTS`, outside any explicit transaction, followed by more
//! statements.
//!
//! ## Why
//! A migration marked `-- dbarch:no-transaction` (or one that manages its own
//! `BEGIN`/`COMMIT`) commits statement by statement. If a later statement fails, the earlier
//! ones stay done; when the migration is run again, a plain `CREATE TABLE` or
//! `CREATE INDEX` fails with `already exists` and a plain `DROP` with `does not exist`, and
//! the migration can never complete without hand editing. `IF NOT EXISTS` / `IF EXISTS`
//! make those statements re-runnable.
//!
//! dbarch's own runner records each statement of such a migration as it completes and
//! resumes after the last one, so this matters most for files also run by other tools or
//! by hand. Flagged: `CREATE TABLE`, `CREATE TABLE AS`, `CREATE MATERIALIZED VIEW`,
//! `CREATE INDEX` (concurrent or not), `CREATE SEQUENCE`, `CREATE SCHEMA`,
//! `CREATE EXTENSION`, and every `DROP`. Not flagged: statements inside an explicit
//! `BEGIN ... COMMIT` (they are undone together), statements in files the runner wraps in a
//! transaction, and the file's last statement (when it fails, nothing after it ran — a
//! failed `CREATE INDEX CONCURRENTLY` leaves an `INVALID` index that `IF NOT EXISTS` would
//! then skip rather than rebuild; dbarch's runner drops it before trying again).
//!
//! ## Example
//! ```sql
//! -- dbarch:no-transaction
//! CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
//! CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
//! ```
//!
//! ## Instead
//! ```sql
//! -- dbarch:no-transaction
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
//! ```
//! With tools other than dbarch, check after a failure that no `INVALID` index was left
//! (`SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid`) and drop it.
//!
//! ## References
//! - PostgreSQL documentation, CREATE INDEX ("Building Indexes Concurrently": a failed build
//!   leaves an invalid index), CREATE TABLE and DROP (`IF [NOT] EXISTS`).
//! - squawk `prefer-robust-stmts`.

use super::ops_util::{insert_after_keyword, object_type};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::{ObjectType, TransactionStmtKind};

pub(crate) fn check(stmts: &[Statement], state: &State, out: &mut Vec<Diagnostic>) {
    // A file the runner wraps (and that no COMMIT ended) runs in one transaction.
    if state.file_transactional {
        return;
    }
    let mut explicit = false;
    let last = stmts.len().saturating_sub(1);
    for (i, stmt) in stmts.iter().enumerate() {
        if let NodeEnum::TransactionStmt(t) = stmt.node {
            match TransactionStmtKind::try_from(t.kind) {
                Ok(TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart) => {
                    explicit = true
                }
                Ok(
                    TransactionStmtKind::TransStmtCommit | TransactionStmtKind::TransStmtRollback,
                ) => explicit = t.chain,
                _ => {}
            }
            continue;
        }
        if explicit || i == last {
            continue;
        }
        let Some((what, keyword, clause)) = fragile(stmt.node) else {
            continue;
        };
        let fix = if matches!(stmt.node, NodeEnum::IndexStmt(ix) if ix.idxname.is_empty()) {
            None
        } else {
            insert_after_keyword(stmt.text(), keyword, clause).map(|s| format!("{s};"))
        };
        let mut help = format!(
            "Write {what} with {clause}: this migration commits statement by statement, and \
             if a later statement fails, running it again must not fail here."
        );
        if fix.is_none() && matches!(stmt.node, NodeEnum::IndexStmt(_)) {
            help.push_str(" IF NOT EXISTS needs an index name: name the index.");
        }
        let mut d = stmt
            .diag(
                "M038",
                format!(
                    "{what} without {clause} in a migration that does not run in a \
                     transaction: if a later statement fails, re-running the migration fails \
                     here"
                ),
            )
            .with_help(help);
        if let Some(fix) = fix {
            d = d.with_fix(fix);
        }
        out.push(d);
    }
}

/// What the statement is, the keyword after which the clause goes, and the clause, when it
/// fails on a second run.
fn fragile(node: &NodeEnum) -> Option<(&'static str, &'static str, &'static str)> {
    const NOT_EXISTS: &str = "IF NOT EXISTS";
    Some(match node {
        NodeEnum::CreateStmt(c) if !c.if_not_exists => ("CREATE TABLE", "TABLE", NOT_EXISTS),
        NodeEnum::CreateTableAsStmt(c) if !c.if_not_exists => {
            if object_type(c.objtype) == ObjectType::ObjectMatview {
                ("CREATE MATERIALIZED VIEW", "VIEW", NOT_EXISTS)
            } else {
                ("CREATE TABLE AS", "TABLE", NOT_EXISTS)
            }
        }
        NodeEnum::IndexStmt(ix) if !ix.if_not_exists => ("CREATE INDEX", "INDEX", NOT_EXISTS),
        NodeEnum::CreateSeqStmt(s) if !s.if_not_exists => {
            ("CREATE SEQUENCE", "SEQUENCE", NOT_EXISTS)
        }
        NodeEnum::CreateSchemaStmt(s) if !s.if_not_exists => {
            ("CREATE SCHEMA", "SCHEMA", NOT_EXISTS)
        }
        NodeEnum::CreateExtensionStmt(e) if !e.if_not_exists => {
            ("CREATE EXTENSION", "EXTENSION", NOT_EXISTS)
        }
        NodeEnum::DropStmt(d) if !d.missing_ok => {
            let (what, keyword) = match object_type(d.remove_type) {
                ObjectType::ObjectTable => ("DROP TABLE", "TABLE"),
                ObjectType::ObjectIndex => ("DROP INDEX", "INDEX"),
                ObjectType::ObjectSequence => ("DROP SEQUENCE", "SEQUENCE"),
                ObjectType::ObjectView => ("DROP VIEW", "VIEW"),
                ObjectType::ObjectMatview => ("DROP MATERIALIZED VIEW", "VIEW"),
                ObjectType::ObjectType => ("DROP TYPE", "TYPE"),
                ObjectType::ObjectDomain => ("DROP DOMAIN", "DOMAIN"),
                ObjectType::ObjectSchema => ("DROP SCHEMA", "SCHEMA"),
                ObjectType::ObjectExtension => ("DROP EXTENSION", "EXTENSION"),
                ObjectType::ObjectFunction => ("DROP FUNCTION", "FUNCTION"),
                ObjectType::ObjectTrigger => ("DROP TRIGGER", "TRIGGER"),
                _ => return None,
            };
            (what, keyword, "IF EXISTS")
        }
        _ => return None,
    })
}
