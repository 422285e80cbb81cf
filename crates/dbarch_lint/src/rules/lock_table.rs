//! An explicit `LOCK TABLE` in a mode that blocks the application's reads or writes.
//!
//! ## Why
//! `LOCK TABLE` holds its lock until the end of the transaction — in a migration the runner
//! wraps, until the whole migration commits. In `SHARE` mode and stronger (`SHARE`,
//! `SHARE ROW EXCLUSIVE`, `EXCLUSIVE`, `ACCESS EXCLUSIVE`, the last being what `LOCK TABLE`
//! takes when no mode is given) it conflicts with the `ROW EXCLUSIVE` lock of every
//! `INSERT`, `UPDATE` and `DELETE`; `ACCESS EXCLUSIVE` also blocks `SELECT`. Every statement
//! that follows in the transaction lengthens the outage.
//!
//! Not flagged: the modes ordinary traffic does not conflict with (`ACCESS SHARE`,
//! `ROW SHARE`, `ROW EXCLUSIVE`, `SHARE UPDATE EXCLUSIVE` — the last only blocks other
//! DDL and `VACUUM`), and tables created earlier in the same file.
//!
//! Lock: AccessExclusiveLock on the table (the example's mode: LOCK TABLE takes the mode it
//! names, on the table's partitions and children too unless `ONLY` is given).
//!
//! ## Example
//! ```sql
//! LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
//! UPDATE orders SET status = 'archived' WHERE created_at < '2020-01-01';
//! ```
//!
//! ## Instead
//! Lock only what the change needs: row locks (`SELECT ... FOR UPDATE` on the rows being
//! changed), an advisory lock (`pg_advisory_xact_lock`) to keep two jobs apart, or the
//! weakest table mode that prevents the conflict (`SHARE UPDATE EXCLUSIVE` keeps DDL out
//! without blocking traffic). When a strong lock is really needed, take it last, keep the
//! transaction to the statements that need it, and bound the wait with `lock_timeout`.
//!
//! ## References
//! - PostgreSQL documentation, LOCK and "Explicit Locking" (13.3, the conflict table).
//! - strong_migrations, "Lock timeout": keep lock waits short in migrations.

use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

/// `LOCKMODE` values as the parser gives them, with the SQL spelling.
const MODES: [&str; 9] = [
    "",
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
];

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::LockStmt(l) = stmt.node else {
        return;
    };
    // SHARE (5) and stronger conflict with ROW EXCLUSIVE, the lock of INSERT/UPDATE/DELETE.
    let Some(mode) = usize::try_from(l.mode).ok().filter(|m| (5..=8).contains(m)) else {
        return;
    };
    let blocks = if mode == 8 {
        "reads and writes"
    } else {
        "writes (INSERT, UPDATE, DELETE)"
    };
    for rel in super::ops_util::range_vars(&l.relations) {
        if state.is_new(&rel) {
            continue;
        }
        let d = stmt
            .diag(
                "M010",
                format!(
                    "LOCK TABLE {rel} IN {} MODE blocks {blocks} on {rel} until the transaction \
                     ends",
                    MODES[mode]
                ),
            )
            .with_object(rel.to_string())
            .with_help(
                "Lock only what the change needs (row locks with SELECT ... FOR UPDATE, an \
                 advisory lock, or a weaker mode such as SHARE UPDATE EXCLUSIVE); if the table \
                 lock is needed, keep the transaction short and bound the wait with \
                 lock_timeout.",
            );
        out.push(state.scale(d, &rel));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock_without_mode_is_access_exclusive() {
        let p = pg_query::parse("LOCK TABLE t", pg_query::ParserOptions::DEFAULT).unwrap();
        let Some(pg_query::NodeEnum::LockStmt(l)) = p.protobuf.stmts[0]
            .stmt
            .as_ref()
            .and_then(|s| s.node.as_ref())
        else {
            panic!()
        };
        assert_eq!(l.mode, 8);
    }
}
