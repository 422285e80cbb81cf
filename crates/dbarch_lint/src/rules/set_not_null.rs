//! `ALTER COLUMN ... SET NOT NULL` (or PostgreSQL 18's `ADD CONSTRAINT ... NOT NULL` without
//! `NOT VALID`) on an existing table.
//!
//! ## Why
//! Making a column `NOT NULL` checks every row, and the check runs under an
//! `ACCESS EXCLUSIVE` lock: no reads, no writes for the whole scan. PostgreSQL skips the
//! scan when a validated `CHECK (col IS NOT NULL)` constraint already proves it (since
//! PostgreSQL 12), and PostgreSQL 18 can add the `NOT NULL` constraint itself `NOT VALID`
//! and validate it later under a weaker lock. Not flagged: tables created earlier in the
//! file, columns the catalog already shows as `NOT NULL`, and columns with a validated
//! `CHECK (col IS NOT NULL)` (added by the file or in the catalog).
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
//! ```
//!
//! ## Instead
//! PostgreSQL 18:
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null NOT NULL customer_id NOT VALID;
//! -- next migration:
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
//! ```
//! PostgreSQL 12 to 17:
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null
//!     CHECK (customer_id IS NOT NULL) NOT VALID;
//! -- next migration:
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
//! ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;  -- no scan: the check proves it
//! ALTER TABLE orders DROP CONSTRAINT orders_customer_id_not_null;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "SET/DROP NOT NULL" and "ADD table_constraint".
//! - squawk `adding-not-nullable-field`; strong_migrations "Setting NOT NULL on an existing
//!   column"; eugene "Validating table with a new NOT NULL column".

use super::table_changes::{constraint_name, existing_table_alter, names, rel_sql};
use crate::migration::ast::{self, RelName};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::{AlterTableType, ConstrType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    for cmd in ast::alter_cmds(a) {
        let (columns, location, how) = match ast::cmd_type(cmd) {
            AlterTableType::AtSetNotNull => (vec![cmd.name.clone()], -1, "SET NOT NULL"),
            AlterTableType::AtAddConstraint => {
                let Some(c) = ast::cmd_constraint(cmd) else {
                    continue;
                };
                if ast::constr_type(c) != ConstrType::ConstrNotnull || c.skip_validation {
                    continue;
                }
                (names(&c.keys), c.location, "ADD CONSTRAINT ... NOT NULL")
            }
            _ => continue,
        };
        for column in columns {
            if already_proven(state, &rel, &column) {
                continue;
            }
            let d = stmt
                .diag_at(
                    "M018",
                    format!(
                        "{how} on {rel}.{column} scans every row under an ACCESS EXCLUSIVE lock \
                         (no reads or writes meanwhile)"
                    ),
                    location,
                )
                .with_object(format!("{rel}.{column}"))
                .with_help(help(state))
                .with_fix(fix(state, &rel, &column));
            out.push(state.scale(d, &rel));
        }
    }
}

/// The column is `NOT NULL` already (catalog), or a validated check proves it.
fn already_proven(state: &State, rel: &RelName, column: &str) -> bool {
    state.has_valid_not_null_check(rel, column)
        || state
            .table(rel)
            .and_then(|t| t.columns.iter().find(|c| c.name == column))
            .is_some_and(|c| c.not_null)
}

fn help(state: &State) -> &'static str {
    match state.ctx.server_major {
        Some(m) if m >= 18 => {
            "Add the NOT NULL constraint NOT VALID (a brief lock), then VALIDATE CONSTRAINT in a \
             later transaction: the scan then runs under SHARE UPDATE EXCLUSIVE."
        }
        Some(_) => {
            "Prove it first with CHECK (col IS NOT NULL) NOT VALID, validated in a later \
             transaction: SET NOT NULL then skips its scan; drop the check afterwards."
        }
        None => {
            "PostgreSQL 18: add the NOT NULL constraint NOT VALID, then VALIDATE CONSTRAINT in a \
             later transaction. PostgreSQL 12-17: add CHECK (col IS NOT NULL) NOT VALID, \
             validate it later, then SET NOT NULL (no scan) and drop the check."
        }
    }
}

fn fix(state: &State, rel: &RelName, column: &str) -> String {
    let t = rel_sql(rel);
    let col = dbarch_model::quote_ident(column);
    let name = dbarch_model::quote_ident(&constraint_name(
        &rel.name,
        &[column.to_string()],
        "not_null",
    ));
    let pg18 = format!(
        "ALTER TABLE {t} ADD CONSTRAINT {name} NOT NULL {col} NOT VALID;\n\
         -- in a later transaction (the next migration):\n\
         ALTER TABLE {t} VALIDATE CONSTRAINT {name};"
    );
    let pg12 = format!(
        "ALTER TABLE {t} ADD CONSTRAINT {name} CHECK ({col} IS NOT NULL) NOT VALID;\n\
         -- in a later transaction (the next migration):\n\
         ALTER TABLE {t} VALIDATE CONSTRAINT {name};\n\
         ALTER TABLE {t} ALTER COLUMN {col} SET NOT NULL;\n\
         ALTER TABLE {t} DROP CONSTRAINT {name};"
    );
    match state.ctx.server_major {
        Some(m) if m >= 18 => pg18,
        Some(_) => pg12,
        None => format!("-- PostgreSQL 18:\n{pg18}\n-- PostgreSQL 12 to 17:\n{pg12}"),
    }
}
