//! `ADD COLUMN ... NOT NULL` without a `DEFAULT` on an existing table.
//!
//! ## Why
//! The existing rows get `NULL` in the new column, which the `NOT NULL` constraint refuses:
//! on any table that holds a row the statement fails (`column "x" contains null values`), so
//! the migration passes on an empty development database and breaks in production. A
//! `PRIMARY KEY` column is `NOT NULL` too. Identity, serial and generated columns have values
//! and are not flagged (they have their own rules), nor tables created earlier in the file or
//! known empty from the catalog.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD COLUMN currency text NOT NULL;
//! ```
//!
//! ## Instead
//! ```sql
//! -- a constant default is stored once, without rewriting the table (PostgreSQL 11+):
//! ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';
//! ```
//! or add the column nullable, backfill it in batches, then make it `NOT NULL` without a
//! long lock (see `M018`).
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "ADD COLUMN" and Notes.
//! - squawk `adding-required-field`; strong_migrations "Adding a column with a non-null
//!   constraint".

use super::table_changes::{existing_table_alter, has_constraint, is_serial, rel_sql};
use crate::migration::ast::{self, TypeRef};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::{AlterTableType, ConstrType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    if state.is_empty_in_catalog(&rel) {
        return;
    }
    for cmd in ast::alter_cmds(a) {
        if ast::cmd_type(cmd) != AlterTableType::AtAddColumn {
            continue;
        }
        let Some(col) = ast::cmd_column(cmd) else {
            continue;
        };
        let Some(t) = col.type_name.as_ref().map(TypeRef::of) else {
            continue;
        };
        let required = col.is_not_null
            || has_constraint(col, ConstrType::ConstrNotnull)
            || has_constraint(col, ConstrType::ConstrPrimary);
        let has_values = ast::column_default(col).is_some()
            || has_constraint(col, ConstrType::ConstrIdentity)
            || has_constraint(col, ConstrType::ConstrGenerated)
            || !col.identity.is_empty()
            || !col.generated.is_empty()
            || is_serial(&t)
            // A domain created by the file may carry its own default.
            || state.new_type(&crate::migration::ast::RelName {
                schema: t.schema.clone(),
                name: t.name.clone(),
            })
            .is_some();
        if !required || has_values {
            continue;
        }
        let d = stmt
            .diag_at(
                "M019",
                format!(
                    "ADD COLUMN {} NOT NULL without a DEFAULT fails on {rel} as soon as it holds a \
                     row (existing rows would be NULL)",
                    col.colname
                ),
                col.location,
            )
            .with_object(format!("{rel}.{}", col.colname))
            .with_help(
                "Give the column a constant DEFAULT (stored once, no rewrite), or add it nullable, \
                 backfill, and set NOT NULL afterwards.",
            )
            .with_fix(format!(
                "ALTER TABLE {} ADD COLUMN {} {} NOT NULL DEFAULT <value>;",
                rel_sql(&rel),
                dbarch_model::quote_ident(&col.colname),
                t.display()
            ));
        out.push(d);
    }
}
