//! Renaming an enum value (`ALTER TYPE ... RENAME VALUE`), or dropping an enum type — the
//! last step of removing values by recreating the type.
//!
//! ## Why
//! Application code sends enum values as text. After `RENAME VALUE`, running code that
//! still writes or compares the old label fails (`invalid input value for enum`) or silently
//! matches nothing, from the commit until every old instance is replaced.
//!
//! PostgreSQL cannot remove a value from an enum, so removal is done by recreating the type:
//! rename the old type, create the new one, convert every column with
//! `ALTER COLUMN ... TYPE new USING col::text::new` — a rewrite of each table under an
//! `ACCESS EXCLUSIVE` lock, which fails on any row still holding a removed value — and
//! `DROP TYPE` the old one (with `CASCADE`, dropping the columns still using it). The
//! `DROP TYPE` of an enum is where that pattern ends, and what this rule flags, when the
//! catalog (`--url`) shows the type is an enum. Running code that writes a removed value
//! fails as with a rename.
//!
//! `ADD VALUE` is fine: existing code never sees the new value (on PostgreSQL 12+ it may
//! run in a transaction, but the new value cannot be used before that transaction commits).
//! Not flagged: types created earlier in the same file.
//!
//! ## Example
//! ```sql
//! ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';
//! ```
//!
//! ## Instead
//! Add the new value, move the rows and the code to it, and keep the old value (unused) —
//! or forbid it with a `CHECK` constraint:
//! ```sql
//! ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'cancelled';
//! -- deploy code that accepts both; then, in batches:
//! -- UPDATE orders SET status = 'cancelled' WHERE status = 'canceled';
//! ```
//! For value sets that change, a `text` column with a `CHECK` constraint, or a lookup table
//! with a foreign key, can be changed without rewriting tables.
//!
//! ## References
//! - PostgreSQL documentation, ALTER TYPE (`ADD VALUE`, `RENAME VALUE`) and "Enumerated
//!   Types" (8.7).
//! - The expand/contract advice of strong_migrations ("Renaming a column") applied to
//!   enum labels.

use super::ops_util::{drop_names, object_type, sql_name};
use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_model::{QualifiedName, TypeKind, quote_literal};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    match stmt.node {
        NodeEnum::AlterEnumStmt(e) if !e.old_val.is_empty() => {
            let Some(ty) = RelName::from_names(&e.type_name) else {
                return;
            };
            if state.new_type(&ty).is_some() {
                return;
            }
            out.push(
                stmt.diag(
                    "M028",
                    format!(
                        "renaming value '{}' of enum {ty} to '{}' breaks running code that \
                         still writes or compares '{}'",
                        e.old_val, e.new_val, e.old_val
                    ),
                )
                .with_object(ty.to_string())
                .with_help(
                    "Add the new value, move rows and code to it over a deploy, and keep the \
                     old value unused (or forbid it with a CHECK constraint).",
                )
                .with_fix(format!(
                    "ALTER TYPE {} ADD VALUE IF NOT EXISTS {};\n-- after deploying code that accepts both: UPDATE <table> SET <column> = {} WHERE <column> = {};  -- in batches",
                    sql_name(&ty),
                    quote_literal(&e.new_val),
                    quote_literal(&e.new_val),
                    quote_literal(&e.old_val),
                )),
            );
        }
        NodeEnum::DropStmt(d) if object_type(d.remove_type) == ObjectType::ObjectType => {
            for ty in drop_names(&d.objects) {
                if state.new_type(&ty).is_some() || !catalog_enum(state, &ty) {
                    continue;
                }
                out.push(
                    stmt.diag(
                        "M028",
                        format!(
                            "DROP TYPE {ty} drops an enum: removing enum values by recreating \
                             the type rewrites every table using it and breaks running code \
                             that still writes the removed values"
                        ),
                    )
                    .with_object(ty.to_string())
                    .with_help(
                        "Keep the old values (unused, or forbidden by a CHECK constraint) \
                         instead of recreating the type; for value sets that change, prefer \
                         text with a CHECK constraint or a lookup table.",
                    ),
                );
            }
        }
        _ => {}
    }
}

/// The catalog holds an enum type of that name.
fn catalog_enum(state: &State, ty: &RelName) -> bool {
    let Some(db) = state.catalog else {
        return false;
    };
    let name = QualifiedName {
        schema: ty.schema_or_public().to_string(),
        name: ty.name.clone(),
    };
    db.types.iter().any(|t| {
        t.schema == name.schema && t.name == name.name && matches!(t.kind, TypeKind::Enum { .. })
    })
}
