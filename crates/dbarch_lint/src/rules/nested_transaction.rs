//! `BEGIN` (or `START TRANSACTION`) while a transaction is already open.
//!
//! ## Why
//! PostgreSQL has no nested transactions. A `BEGIN` inside an open transaction only warns
//! (`there is already a transaction in progress`) and is otherwise ignored, so the inner
//! `COMMIT` commits everything since the outer `BEGIN`, and the statements after it run in
//! autocommit: a failure there no longer undoes the earlier ones, and the outer `COMMIT` or
//! `ROLLBACK` finds no transaction. The open transaction is either the runner's (when a tool
//! wraps the file in a transaction — dbarch does not wrap files that manage their own) or an
//! earlier `BEGIN` without `COMMIT`.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN carrier text;
//! BEGIN;
//! UPDATE orders SET carrier = 'ups';
//! COMMIT;
//! ```
//!
//! ## Instead
//! Close the first transaction before opening the next, or use a savepoint for a part that
//! may be undone alone:
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN carrier text;
//! SAVEPOINT backfill;
//! UPDATE orders SET carrier = 'ups';
//! RELEASE SAVEPOINT backfill;
//! COMMIT;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, BEGIN ("Issuing BEGIN when already inside a transaction block
//!   will provoke a warning message") and SAVEPOINT.
//! - squawk `transaction-nesting`.

use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::TransactionStmtKind;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::TransactionStmt(t) = stmt.node else {
        return;
    };
    if !matches!(
        TransactionStmtKind::try_from(t.kind),
        Ok(TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart)
    ) || !state.in_transaction()
    {
        return;
    }
    let (open, help, fix) = if state.in_explicit_transaction() {
        (
            "an earlier BEGIN has not been committed",
            "Close the open transaction first (COMMIT), or use SAVEPOINT for a part that may \
             be undone alone.",
            "COMMIT;\nBEGIN;",
        )
    } else {
        (
            "the runner already wraps this migration in a transaction",
            "Remove BEGIN/COMMIT from the file (the runner's transaction covers it), or use \
             SAVEPOINT for a part that may be undone alone.",
            "SAVEPOINT step;",
        )
    };
    out.push(
        stmt.diag(
            "M036",
            format!(
                "BEGIN inside an open transaction ({open}): PostgreSQL ignores it with a \
                 warning, and the next COMMIT commits everything before it"
            ),
        )
        .with_help(help)
        .with_fix(fix),
    );
}
