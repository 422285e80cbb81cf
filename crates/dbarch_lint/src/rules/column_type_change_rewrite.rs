//! `ALTER COLUMN ... TYPE` to a type the old one is not binary-coercible to, on an existing
//! table.
//!
//! ## Why
//! Unless the new type stores the same bytes (`varchar` to `text`, a longer `varchar(n)`, a
//! wider `numeric(p,s)`, `cidr` to `inet`...), PostgreSQL rewrites every row and rebuilds
//! every index of the table under an `ACCESS EXCLUSIVE` lock: no reads, no writes for the
//! whole rewrite. `integer` to `bigint` is the classic case. A `USING` clause is taken as a
//! rewrite. When the old type is unknown (no catalog, not declared in the file) or is a domain
//! or extension type, only targets
//! that are commonly reached without a rewrite (`text`, `varchar`, `numeric`, `inet`,
//! `citext`) are let through. pgvector dimension changes have their own rule (`V007`).
//! Tables created earlier in the file are not flagged.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;
//! ```
//!
//! ## Instead
//! Expand and contract: add a column of the new type, keep it in sync with a trigger,
//! backfill it in batches, then swap the names in a short transaction.
//! ```sql
//! ALTER TABLE orders ADD COLUMN quantity_new bigint;
//! -- trigger copying quantity into quantity_new on INSERT/UPDATE; batched backfill; then:
//! ALTER TABLE orders RENAME COLUMN quantity TO quantity_old;
//! ALTER TABLE orders RENAME COLUMN quantity_new TO quantity;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "SET DATA TYPE" and Notes (binary coercibility).
//! - squawk `changing-column-type`; strong_migrations "Changing the type of a column";
//!   eugene "Type change requiring table rewrite".

use super::table_changes::{existing_table_alter, is_vector_type, rel_sql, type_location};
use crate::migration::ast::{self, TypeRef};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::AlterTableType;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    for cmd in ast::alter_cmds(a) {
        if ast::cmd_type(cmd) != AlterTableType::AtAlterColumnType {
            continue;
        }
        let Some(col) = ast::cmd_column(cmd) else {
            continue;
        };
        let Some(new) = col.type_name.as_ref().map(TypeRef::of) else {
            continue;
        };
        let old = state.column_type(&rel, &cmd.name);
        if is_vector_type(&new) || old.as_ref().is_some_and(is_vector_type) {
            continue;
        }
        // A domain or extension type (schema-qualified): whether it is binary-coercible to
        // the target is unknown, so judge as when the old type is unknown.
        let old = old.filter(|t| t.schema.is_none());
        let using = col.raw_default.is_some();
        let reason = if using {
            Some("with a USING expression".to_string())
        } else {
            match &old {
                Some(old) if !rewrites(old, &new) => None,
                Some(old) => Some(format!("from {} to {}", old.display(), new.display())),
                None if commonly_coercible_target(&new) => None,
                None => Some(format!("to {}", new.display())),
            }
        };
        let Some(reason) = reason else { continue };
        let t = rel_sql(&rel);
        let c = dbarch_model::quote_ident(&cmd.name);
        let c_new = dbarch_model::quote_ident(&format!("{}_new", cmd.name));
        let c_old = dbarch_model::quote_ident(&format!("{}_old", cmd.name));
        let d = stmt
            .diag_at(
                "M023",
                format!(
                    "changing the type of {rel}.{} {reason} rewrites the table and rebuilds its \
                     indexes under an ACCESS EXCLUSIVE lock",
                    cmd.name
                ),
                type_location(col),
            )
            .with_object(format!("{rel}.{}", cmd.name))
            .with_help(
                "Expand and contract: add a column of the new type, keep it in sync with a \
                 trigger, backfill it in batches, then swap the names in a short transaction.",
            )
            .with_fix(format!(
                "ALTER TABLE {t} ADD COLUMN {c_new} {};\n\
                 -- sync trigger on INSERT/UPDATE, batched backfill of {c_new}, then:\n\
                 ALTER TABLE {t} RENAME COLUMN {c} TO {c_old};\n\
                 ALTER TABLE {t} RENAME COLUMN {c_new} TO {c};",
                new.display()
            ));
        out.push(state.scale(d, &rel));
    }
}

/// Whether changing `old` to `new` rewrites the table (no `USING`).
fn rewrites(old: &TypeRef, new: &TypeRef) -> bool {
    // The catalog qualifies extension types (`public.citext`); a written type may not.
    let schemas_differ = matches!((&old.schema, &new.schema), (Some(a), Some(b)) if a != b);
    if old.array != new.array || schemas_differ {
        return true;
    }
    let (o, n) = (old.canonical(), new.canonical());
    if o == n && old.mods == new.mods {
        return false;
    }
    // Length/precision limits that only widen: the stored bytes do not change.
    let widens = |unbounded_ok: bool| match (old.mods.as_slice(), new.mods.as_slice()) {
        (_, []) => unbounded_ok,
        ([a], [b]) => b >= a,
        _ => false,
    };
    match (o, n) {
        ("varchar", "varchar") | ("varbit", "varbit") => !widens(true),
        ("timestamp", "timestamp")
        | ("timestamptz", "timestamptz")
        | ("time", "time")
        | ("timetz", "timetz")
        | ("interval", "interval") => !widens(true),
        ("numeric", "numeric") => match (old.mods.as_slice(), new.mods.as_slice()) {
            (_, []) => false,
            ([p], [q]) => q < p,
            ([p], [q, 0]) | ([p, 0], [q]) => q < p,
            ([p, s], [q, t]) => !(s == t && q >= p),
            _ => true,
        },
        ("varchar", "text") => false,
        ("text", "varchar") => !new.mods.is_empty(),
        ("cidr", "inet") => false,
        ("text", "citext") | ("citext", "text") | ("varchar", "citext") => false,
        _ => true,
    }
}

/// Targets that are commonly reached without a rewrite, when the old type is unknown.
fn commonly_coercible_target(t: &TypeRef) -> bool {
    !t.array
        && matches!(
            t.canonical(),
            "text" | "varchar" | "numeric" | "inet" | "citext" | "varbit"
        )
}
