//! A `CHECK` constraint added to an existing table without `NOT VALID`.
//!
//! ## Why
//! `ALTER TABLE ... ADD CONSTRAINT ... CHECK (...)` takes an `ACCESS EXCLUSIVE` lock — no
//! reads, no writes — and keeps it while it evaluates the expression on every row. Added
//! `NOT VALID`, the constraint is only recorded (new and updated rows are checked from then
//! on) and the lock is held for an instant; `VALIDATE CONSTRAINT` in a later transaction
//! checks the old rows under `SHARE UPDATE EXCLUSIVE`, which lets reads and writes go on. A
//! constraint on a table created earlier in the same file is not flagged, nor one added
//! `NOT ENFORCED` (PostgreSQL 18: nothing is checked).
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0);
//! ```
//!
//! ## Instead
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0) NOT VALID;
//! -- in the next migration (another transaction):
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_check;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "ADD table_constraint [ NOT VALID ]" and
//!   "VALIDATE CONSTRAINT".
//! - squawk `constraint-missing-not-valid`; strong_migrations "Adding a check constraint";
//!   eugene "Validating table with a new constraint".

use super::table_changes::{
    alter_sql, constraint_name, existing_table_alter, first_column, rel_sql,
};
use crate::migration::ast;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::{AlterTableType, ConstrType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    for cmd in ast::alter_cmds(a) {
        if ast::cmd_type(cmd) != AlterTableType::AtAddConstraint {
            continue;
        }
        let Some(c) = ast::cmd_constraint(cmd) else {
            continue;
        };
        if ast::constr_type(c) != ConstrType::ConstrCheck || c.skip_validation {
            continue;
        }
        let name = if c.conname.is_empty() {
            let cols: Vec<String> = c
                .raw_expr
                .as_deref()
                .and_then(first_column)
                .into_iter()
                .collect();
            constraint_name(&rel.name, &cols, "check")
        } else {
            c.conname.clone()
        };
        let mut c2 = c.clone();
        c2.conname = name.clone();
        c2.skip_validation = true;
        c2.initially_valid = false;
        let mut cmd2 = cmd.clone();
        cmd2.def = Some(Box::new(pg_query::protobuf::Node {
            node: Some(pg_query::NodeEnum::Constraint(Box::new(c2))),
        }));
        let mut d = stmt
            .diag_at(
                "M016",
                format!(
                    "CHECK constraint on existing table {rel} is validated while it is added: \
                     reads and writes wait for a scan of every row"
                ),
                c.location,
            )
            .with_object(rel.to_string())
            .with_help(
                "Add the constraint NOT VALID (a brief lock; new rows are checked), then run \
                 VALIDATE CONSTRAINT in a later transaction: it scans without blocking reads or \
                 writes.",
            );
        if let Some(add) = alter_sql(a, vec![cmd2]) {
            d = d.with_fix(format!(
                "{add}\n-- in a later transaction (the next migration):\nALTER TABLE {} VALIDATE CONSTRAINT {};",
                rel_sql(&rel),
                dbarch_model::quote_ident(&name)
            ));
        }
        out.push(state.scale(d, &rel));
    }
}
