//! Two or more `ALTER TABLE` statements on the same existing table in one transaction.
//!
//! ## Why
//! Each `ALTER TABLE` does its own work on the table: a statement that must rewrite the
//! table or check its rows (a type change, `SET NOT NULL`, a new constraint) reads or copies
//! it again, so three statements may mean three passes where one would do. The first
//! statement's `ACCESS EXCLUSIVE` lock is held to the commit either way; the extra passes
//! make that window longer. One `ALTER TABLE` with several comma-separated actions lets
//! PostgreSQL do them in a single pass and a single rewrite.
//!
//! Reported once per table, on the second statement. Not flagged: tables created earlier in
//! the same file, statements in autocommit (each commits on its own, with a short lock:
//! that is the safer pattern), and statements that cannot be combined: `ATTACH`/`DETACH
//! PARTITION`, and `VALIDATE CONSTRAINT` (which belongs in its own transaction after
//! `ADD CONSTRAINT ... NOT VALID`).
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
//! ALTER TABLE orders ADD COLUMN carrier text;
//! ```
//!
//! ## Instead
//! ```sql
//! ALTER TABLE orders
//!     ADD COLUMN shipped_at timestamptz,
//!     ADD COLUMN carrier text;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE ("all the actions ... can be combined into a
//!   list of multiple alterations to apply in parallel").
//! - eugene W12 "Multiple ALTER TABLE statements where one will do".

use crate::migration::ast::{RelName, alter_cmds, cmd_type};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ObjectType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::AlterTableStmt(a) = stmt.node else {
        return;
    };
    if super::ops_util::object_type(a.objtype) != ObjectType::ObjectTable || !state.in_transaction()
    {
        return;
    }
    let Some(rv) = &a.relation else { return };
    let rel = RelName::of(rv);
    if state.is_new(&rel) || state.alters_in_transaction(&rel) != 1 {
        return;
    }
    let types: Vec<AlterTableType> = alter_cmds(a).map(cmd_type).collect();
    let separate = types.iter().any(|t| {
        matches!(
            t,
            AlterTableType::AtAttachPartition
                | AlterTableType::AtDetachPartition
                | AlterTableType::AtDetachPartitionFinalize
        )
    }) || types
        .iter()
        .all(|t| *t == AlterTableType::AtValidateConstraint);
    if separate {
        return;
    }
    out.push(
        stmt.diag(
            "M030",
            format!(
                "second ALTER TABLE on {rel} in this transaction: combine the actions into one \
                 ALTER TABLE, so that PostgreSQL scans or rewrites {rel} once"
            ),
        )
        .with_object(rel.to_string())
        .with_help(
            "Write one ALTER TABLE with the actions separated by commas (ALTER TABLE t ADD \
             COLUMN a ..., ADD COLUMN b ...).",
        ),
    );
}
