//! `ADD COLUMN` with a volatile default (`random()`, `clock_timestamp()`,
//! `gen_random_uuid()`, `nextval()`...) on an existing table.
//!
//! ## Why
//! Since PostgreSQL 11 a column added with a constant or stable default (`0`, `'new'`,
//! `now()`, `CURRENT_TIMESTAMP`) is instant: the value is stored once in the catalog. A
//! volatile default has to be computed for each row, so PostgreSQL rewrites the whole table —
//! and rebuilds its indexes — under an `ACCESS EXCLUSIVE` lock: no reads, no writes until it
//! is done. Tables created earlier in the file are not flagged.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
//! ```
//!
//! ## Instead
//! ```sql
//! ALTER TABLE orders ADD COLUMN public_id uuid;                                -- instant
//! ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();     -- new rows only
//! -- then backfill existing rows in batches:
//! UPDATE orders SET public_id = gen_random_uuid() WHERE id BETWEEN 1 AND 10000 AND public_id IS NULL;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, Notes ("Adding a column with a volatile DEFAULT
//!   ... will require the entire table and its indexes to be rewritten").
//! - strong_migrations "Adding a column with a volatile default value"; squawk
//!   `adding-field-with-default`.

use super::table_changes::{existing_table_alter, expr_sql, rel_sql};
use crate::migration::ast::{self, TypeRef};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::AlterTableType;

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
        let Some(default) = ast::column_default(col) else {
            continue;
        };
        let Some(func) = ast::volatile_call(default) else {
            continue;
        };
        let t = rel_sql(&rel);
        let c = dbarch_model::quote_ident(&col.colname);
        let ty = col
            .type_name
            .as_ref()
            .map(|t| TypeRef::of(t).display())
            .unwrap_or_default();
        let expr = expr_sql(default).unwrap_or_else(|| format!("{func}()"));
        let d = stmt
            .diag_at(
                "M020",
                format!(
                    "ADD COLUMN {} with volatile default {func}() rewrites {rel} and its indexes \
                     under an ACCESS EXCLUSIVE lock",
                    col.colname
                ),
                col.location,
            )
            .with_object(format!("{rel}.{}", col.colname))
            .with_help(
                "Add the column without a default (instant), set the default for new rows in a \
                 separate statement, and backfill the existing rows in batches.",
            )
            .with_fix(format!(
                "ALTER TABLE {t} ADD COLUMN {c} {ty};\n\
                 ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {expr};\n\
                 -- then backfill in batches, e.g.:\n\
                 -- UPDATE {t} SET {c} = {expr} WHERE <key range> AND {c} IS NULL;"
            ));
        out.push(state.scale(d, &rel));
    }
}
