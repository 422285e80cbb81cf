//! A foreign key added to an existing table without `NOT VALID`.
//!
//! ## Why
//! `ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY` (or `ADD COLUMN ... REFERENCES`) checks
//! every row of the table against the referenced table before it commits, and holds a
//! `SHARE ROW EXCLUSIVE` lock on both tables while it does: no `INSERT`, `UPDATE` or `DELETE`
//! on either table until the scan is done (and `ADD COLUMN` holds `ACCESS EXCLUSIVE` on the
//! table itself). Adding the constraint `NOT VALID` only records it — new and updated rows are
//! checked from then on — and `VALIDATE CONSTRAINT`, run in a later transaction, checks the
//! old rows under a `SHARE UPDATE EXCLUSIVE` lock that lets writes go on. A foreign key on a
//! table created earlier in the same file is not flagged (it is empty).
//!
//! Lock: ShareRowExclusiveLock on the table and on the referenced table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
//!     FOREIGN KEY (customer_id) REFERENCES customers (id);
//! ```
//!
//! ## Instead
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
//!     FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
//! -- in the next migration (another transaction):
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
//! ```
//! Before PostgreSQL 18 a partitioned table does not accept a `NOT VALID` foreign key: add it
//! to each partition instead.
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "ADD table_constraint [ NOT VALID ]" and Notes.
//! - squawk `adding-foreign-key-constraint`; strong_migrations "Adding a foreign key";
//!   eugene "Validating table with a new constraint".

use super::table_changes::{alter_sql, constraint_name, existing_table_alter, names, rel_sql};
use crate::migration::ast::{self, RelName};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::{AlterTableCmd, AlterTableType, ConstrType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    for cmd in ast::alter_cmds(a) {
        match ast::cmd_type(cmd) {
            AlterTableType::AtAddConstraint => {
                let Some(c) = ast::cmd_constraint(cmd) else {
                    continue;
                };
                if ast::constr_type(c) != ConstrType::ConstrForeign || c.skip_validation {
                    continue;
                }
                let referenced = c.pktable.as_ref().map(RelName::of);
                let cols = names(&c.fk_attrs);
                let name = if c.conname.is_empty() {
                    constraint_name(&rel.name, &cols, "fkey")
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
                let fix = alter_sql(a, vec![cmd2]).map(|add| {
                    format!(
                        "{add}\n-- in a later transaction (the next migration):\nALTER TABLE {} VALIDATE CONSTRAINT {};",
                        rel_sql(&rel),
                        dbarch_model::quote_ident(&name)
                    )
                });
                push(stmt, state, out, &rel, referenced, c.location, fix);
            }
            AlterTableType::AtAddColumn => {
                let Some(col) = ast::cmd_column(cmd) else {
                    continue;
                };
                for c in ast::column_constraints(col) {
                    if ast::constr_type(c) != ConstrType::ConstrForeign {
                        continue;
                    }
                    let referenced = c.pktable.as_ref().map(RelName::of);
                    let fix = add_column_fix(a, cmd, col, c, &rel);
                    push(stmt, state, out, &rel, referenced, c.location, fix);
                }
            }
            _ => {}
        }
    }
}

fn push(
    stmt: &Statement,
    state: &State,
    out: &mut Vec<Diagnostic>,
    rel: &RelName,
    referenced: Option<RelName>,
    location: i32,
    fix: Option<String>,
) {
    let other = referenced
        .as_ref()
        .map_or_else(String::new, |r| format!(" and {r}"));
    let mut help = "Add the foreign key NOT VALID (checked for new rows only, a brief lock), then \
                    run VALIDATE CONSTRAINT in a later transaction: it scans under a lock that \
                    lets writes go on."
        .to_string();
    if state.table(rel).is_some_and(|t| t.partition_key.is_some())
        && state.ctx.server_major.is_some_and(|m| m < 18)
    {
        help.push_str(
            " Before PostgreSQL 18 a partitioned table refuses NOT VALID foreign keys: add \
             and validate it on each partition, then on the parent.",
        );
    }
    let mut d = stmt
        .diag_at(
            "M015",
            format!(
                "foreign key on existing table {rel} is validated while it is added: writes to \
                 {rel}{other} wait for a scan of every row"
            ),
            location,
        )
        .with_object(rel.to_string())
        .with_help(help);
    if let Some(fix) = fix {
        d = d.with_fix(fix);
    }
    out.push(state.scale(d, rel));
}

/// `ADD COLUMN c t REFERENCES p`: the column without the reference, then the constraint
/// `NOT VALID`, then `VALIDATE`.
fn add_column_fix(
    a: &pg_query::protobuf::AlterTableStmt,
    cmd: &AlterTableCmd,
    col: &pg_query::protobuf::ColumnDef,
    c: &pg_query::protobuf::Constraint,
    rel: &RelName,
) -> Option<String> {
    let mut col2 = col.clone();
    col2.constraints.retain(|n| {
        !matches!(n.node.as_ref(), Some(pg_query::NodeEnum::Constraint(k)) if ast::constr_type(k) == ConstrType::ConstrForeign)
    });
    let mut add_col = cmd.clone();
    add_col.def = Some(Box::new(pg_query::protobuf::Node {
        node: Some(pg_query::NodeEnum::ColumnDef(Box::new(col2))),
    }));
    let name = if c.conname.is_empty() {
        constraint_name(&rel.name, std::slice::from_ref(&col.colname), "fkey")
    } else {
        c.conname.clone()
    };
    let mut fk = c.clone();
    fk.conname = name.clone();
    fk.fk_attrs = vec![pg_query::protobuf::Node {
        node: Some(pg_query::NodeEnum::String(pg_query::protobuf::String {
            sval: col.colname.clone(),
        })),
    }];
    fk.skip_validation = true;
    fk.initially_valid = false;
    let add_fk = AlterTableCmd {
        subtype: AlterTableType::AtAddConstraint as i32,
        behavior: pg_query::protobuf::DropBehavior::DropRestrict as i32,
        def: Some(Box::new(pg_query::protobuf::Node {
            node: Some(pg_query::NodeEnum::Constraint(Box::new(fk))),
        })),
        ..Default::default()
    };
    Some(format!(
        "{}\n{}\n-- in a later transaction (the next migration):\nALTER TABLE {} VALIDATE CONSTRAINT {};",
        alter_sql(a, vec![add_col])?,
        alter_sql(a, vec![add_fk])?,
        rel_sql(rel),
        dbarch_model::quote_ident(&name)
    ))
}
