//! `VALIDATE CONSTRAINT` in the same transaction as the `ADD CONSTRAINT ... NOT VALID`.
//!
//! ## Why
//! `NOT VALID` exists to split a constraint's addition in two: a brief lock to record it,
//! then a validating scan under a weaker lock. Locks are held until the transaction ends, so
//! when both steps run in one transaction (the migration runner's, or one `BEGIN` ...
//! `COMMIT` block) the scan runs while the `ADD`'s lock is still held — `ACCESS EXCLUSIVE`
//! for a `CHECK` or `NOT NULL`, `SHARE ROW EXCLUSIVE` on both tables for a foreign key — and
//! `NOT VALID` gained nothing. Constraints of tables created earlier in the file are not
//! flagged.
//!
//! Lock: AccessExclusiveLock on the table (taken by the ADD CONSTRAINT of a CHECK), held through the VALIDATE's ShareUpdateExclusiveLock scan.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0) NOT VALID;
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_check;
//! ```
//!
//! ## Instead
//! ```sql
//! -- migration 1
//! ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0) NOT VALID;
//! -- migration 2 (its own transaction)
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_check;
//! ```
//! In a migration that does not run in a transaction, a `COMMIT` between the two (or running
//! each in autocommit) is enough.
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "VALIDATE CONSTRAINT" and Notes.
//! - strong_migrations "Adding a check constraint" and "Adding a foreign key" (validate in
//!   a separate migration); eugene "Running more statements after taking
//!   AccessExclusiveLock".

use super::table_changes::{existing_table_alter, rel_sql};
use crate::migration::ast;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::AlterTableType;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    let cmds: Vec<_> = ast::alter_cmds(a).collect();
    for (i, cmd) in cmds.iter().enumerate() {
        if ast::cmd_type(cmd) != AlterTableType::AtValidateConstraint || cmd.name.is_empty() {
            continue;
        }
        let earlier_in_statement = cmds[..i].iter().any(|c| {
            ast::cmd_type(c) == AlterTableType::AtAddConstraint
                && ast::cmd_constraint(c)
                    .is_some_and(|k| k.conname == cmd.name && k.skip_validation)
        });
        if !earlier_in_statement && state.added_in_transaction(&rel, &cmd.name) != Some(true) {
            continue;
        }
        let validate = format!(
            "ALTER TABLE {} VALIDATE CONSTRAINT {};",
            rel_sql(&rel),
            dbarch_model::quote_ident(&cmd.name)
        );
        let fix = if state.file_transactional {
            format!("-- in the next migration (its own transaction):\n{validate}")
        } else {
            format!("COMMIT;\n{validate}")
        };
        let d = stmt
            .diag(
                "M017",
                format!(
                    "constraint {} is validated in the transaction that added it NOT VALID: the \
                     ADD's lock on {rel} is still held during the validating scan",
                    cmd.name
                ),
            )
            .with_object(rel.to_string())
            .with_help(
                "Validate in a later transaction (the next migration, or after a COMMIT) so the \
                 scan runs under SHARE UPDATE EXCLUSIVE only.",
            )
            .with_fix(fix);
        out.push(state.scale(d, &rel));
    }
}
