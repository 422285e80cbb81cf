//! `ADD COLUMN ... GENERATED ALWAYS AS (...) STORED` on an existing table.
//!
//! ## Why
//! A stored generated column is computed and written for every existing row when it is
//! added: PostgreSQL rewrites the table and rebuilds its indexes under an
//! `ACCESS EXCLUSIVE` lock, blocking reads and writes for the duration. PostgreSQL 18's
//! virtual generated columns (`VIRTUAL`, the default there when neither is written) are
//! computed on read and added instantly; they are not flagged, nor are tables created earlier
//! in the file.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (quantity * unit_price) STORED;
//! ```
//!
//! ## Instead
//! PostgreSQL 18, when the value need not be indexed:
//! ```sql
//! ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (quantity * unit_price) VIRTUAL;
//! ```
//! Otherwise add a plain nullable column, keep it current with a trigger for new and changed
//! rows, and backfill the existing rows in batches.
//!
//! ## References
//! - PostgreSQL documentation, "Generated Columns" (5.4) and ALTER TABLE Notes.
//! - eugene "Adding a SERIAL or GENERATED ... STORED column"; squawk
//!   `adding-field-with-default`.

use super::table_changes::{existing_table_alter, expr_sql, rel_sql};
use crate::migration::ast::{self, TypeRef};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::{AlterTableType, ConstrType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    for cmd in ast::alter_cmds(a) {
        if ast::cmd_type(cmd) != AlterTableType::AtAddColumn {
            continue;
        }
        let Some(col) = ast::cmd_column(cmd) else {
            continue;
        };
        let Some(gen_expr) = ast::column_constraints(col).find(|c| {
            ast::constr_type(c) == ConstrType::ConstrGenerated && c.generated_kind == "s"
        }) else {
            continue;
        };
        let t = rel_sql(&rel);
        let c = dbarch_model::quote_ident(&col.colname);
        let ty = col
            .type_name
            .as_ref()
            .map(|t| TypeRef::of(t).display())
            .unwrap_or_default();
        let expr = gen_expr.raw_expr.as_deref().and_then(expr_sql);
        let pg18 = state.ctx.server_major.is_none_or(|m| m >= 18);
        let fix = match (&expr, pg18) {
            (Some(e), true) => format!(
                "-- PostgreSQL 18, if the column need not be indexed:\n\
                 ALTER TABLE {t} ADD COLUMN {c} {ty} GENERATED ALWAYS AS ({e}) VIRTUAL;\n\
                 -- otherwise: a plain column kept current by a trigger, backfilled in batches:\n\
                 ALTER TABLE {t} ADD COLUMN {c} {ty};"
            ),
            _ => format!(
                "-- a plain column kept current by a trigger, backfilled in batches:\n\
                 ALTER TABLE {t} ADD COLUMN {c} {ty};"
            ),
        };
        let d = stmt
            .diag_at(
                "M021",
                format!(
                    "adding stored generated column {} rewrites {rel} and its indexes under an \
                     ACCESS EXCLUSIVE lock",
                    col.colname
                ),
                col.location,
            )
            .with_object(format!("{rel}.{}", col.colname))
            .with_help(if pg18 {
                "On PostgreSQL 18 a VIRTUAL generated column is added instantly (computed on read, \
                 not indexable). Otherwise add a plain column, fill new rows with a trigger and \
                 backfill the rest in batches."
            } else {
                "Add a plain column, fill new rows with a trigger and backfill the rest in \
                 batches (PostgreSQL 18's VIRTUAL generated columns are added instantly)."
            })
            .with_fix(fix);
        out.push(state.scale(d, &rel));
    }
}
