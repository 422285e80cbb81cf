//! A `BEGIN` without `COMMIT` or `ROLLBACK` by the end of the file.
//!
//! ## Why
//! A migration that opens a transaction and never closes it leaves the outcome to whatever
//! runs it: `psql` and most drivers roll the work back when the session ends, so the
//! migration silently does nothing; a runner that keeps the session may commit it later
//! with other work, or leave it idle in transaction, holding its locks and blocking every
//! query on the tables it touched. Usually the `COMMIT` was simply forgotten.
//!
//! Not flagged: files a runner wraps in its own transaction (that transaction commits).
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN carrier text;
//! ```
//!
//! ## Instead
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN carrier text;
//! COMMIT;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, BEGIN and COMMIT; `idle_in_transaction_session_timeout`.

use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::TransactionStmtKind;

pub(crate) fn check(stmts: &[Statement], state: &State, out: &mut Vec<Diagnostic>) {
    if !state.in_explicit_transaction() || state.file_transactional {
        return;
    }
    // The BEGIN that opened it: the last one (COMMIT AND CHAIN keeps a transaction open too).
    let Some(open) = stmts.iter().rev().find(|s| match s.node {
        NodeEnum::TransactionStmt(t) => match TransactionStmtKind::try_from(t.kind) {
            Ok(TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart) => true,
            Ok(TransactionStmtKind::TransStmtCommit | TransactionStmtKind::TransStmtRollback) => {
                t.chain
            }
            _ => false,
        },
        _ => false,
    }) else {
        return;
    };
    out.push(
        open.diag(
            "M037",
            "this transaction is never committed: the file ends without COMMIT or ROLLBACK, so \
             its work is rolled back when the session ends (or left open, holding its locks)",
        )
        .with_help("End the transaction with COMMIT at the end of the file.")
        .with_fix("COMMIT;"),
    );
}
