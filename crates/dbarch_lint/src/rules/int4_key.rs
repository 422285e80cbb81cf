//! A primary key, identity or serial column of `integer`/`smallint` (`serial`, `smallserial`).
//!
//! ## Why
//! A 4-byte key runs out at 2,147,483,647 (a `smallint` at 32,767): inserts then fail with
//! "integer out of range" or "nextval: reached maximum value of sequence". Sequence values
//! are consumed by rolled-back inserts and `ON CONFLICT` attempts too, so a table reaches the
//! limit faster than its row count suggests — and widening the key later is a full rewrite
//! of the table and of every table referencing it. `bigint` costs 4 more bytes per row.
//! Flagged in `CREATE TABLE` and `ADD COLUMN` (single-column primary keys, identity and serial
//! columns).
//!
//! ## Example
//! ```sql
//! CREATE TABLE orders (id serial PRIMARY KEY, placed_at timestamptz NOT NULL);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, placed_at timestamptz NOT NULL);
//! ```
//!
//! ## References
//! - PostgreSQL documentation, "Numeric Types" (8.1) and "Serial Types" (8.1.4).
//! - squawk `prefer-bigint-over-int`, `prefer-bigint-over-smallint`; see also `S009` for the
//!   schema.

use super::table_changes::{
    ColumnSite, declared_columns, has_constraint, is_builtin, is_serial, names,
};
use crate::migration::ast::{self, TypeRef};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    // Single-column PRIMARY KEY (...) written as a table constraint of CREATE TABLE.
    let table_pk: Option<String> = match stmt.node {
        NodeEnum::CreateStmt(c) => c.table_elts.iter().find_map(|e| match e.node.as_ref()? {
            NodeEnum::Constraint(k) if ast::constr_type(k) == ConstrType::ConstrPrimary => {
                match names(&k.keys).as_slice() {
                    [one] => Some(one.clone()),
                    _ => None,
                }
            }
            _ => None,
        }),
        _ => None,
    };
    for col in declared_columns(stmt, state) {
        if col.site == ColumnSite::AlterType {
            continue;
        }
        let Some(t) = col.def.type_name.as_ref().map(TypeRef::of) else {
            continue;
        };
        if !is_builtin(&t) || t.array {
            continue;
        }
        let (small, bigger) = match t.canonical() {
            "int4" => (false, "bigint"),
            "int2" => (true, "bigint"),
            "serial4" => (false, "bigserial"),
            "serial2" => (true, "bigserial"),
            _ => continue,
        };
        let identity =
            has_constraint(col.def, ConstrType::ConstrIdentity) || !col.def.identity.is_empty();
        let primary = has_constraint(col.def, ConstrType::ConstrPrimary)
            || table_pk.as_deref() == Some(col.name);
        let role = if is_serial(&t) {
            "serial column"
        } else if identity {
            "identity column"
        } else if primary {
            "primary key"
        } else {
            continue;
        };
        let limit = if small { "32,767" } else { "2,147,483,647" };
        let object = format!("{}.{}", col.rel, col.name);
        let always = ast::column_constraints(col.def)
            .any(|c| ast::constr_type(c) == ConstrType::ConstrIdentity && c.generated_when == "a");
        let fix = if is_serial(&t) || identity {
            format!(
                "{} bigint GENERATED {} AS IDENTITY",
                dbarch_model::quote_ident(col.name),
                if always { "ALWAYS" } else { "BY DEFAULT" }
            )
        } else {
            format!("{} bigint", dbarch_model::quote_ident(col.name))
        };
        out.push(
            stmt.diag_at(
                "M032",
                format!(
                    "{} is {}: it runs out at {limit}, and widening it later rewrites \
                     the table and every table referencing it",
                    if is_serial(&t) {
                        object.clone()
                    } else {
                        format!("{role} {object}")
                    },
                    t.display()
                ),
                super::table_changes::type_location(col.def),
            )
            .with_object(object)
            .with_help(format!(
                "Use {bigger} (or bigint GENERATED ... AS IDENTITY): 4 more bytes per row."
            ))
            .with_fix(fix),
        );
    }
}
