//! `ALTER COLUMN ... TYPE` changing a pgvector column's dimensions or vector type on an
//! existing table.
//!
//! ## Why
//! A new dimension count means a new embedding model: every stored embedding has to be
//! computed again (a cast cannot turn 1536 numbers into 768 meaningful ones, and pgvector
//! refuses it unless a `USING` expression discards the old values). The `ALTER` itself
//! rewrites the table and rebuilds its indexes — the HNSW/IVFFlat index included, the
//! slowest of all — under an `ACCESS EXCLUSIVE` lock: no reads or writes until done, and
//! searches have no index until the rebuild ends. Changing only the type (`vector` to
//! `halfvec`) needs no re-embedding but rewrites the same way. Not flagged when the old
//! type is unknown (no catalog, not declared in the file), or on tables created earlier in
//! the file.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE items ALTER COLUMN embedding TYPE vector(768) USING NULL;
//! ```
//!
//! ## Instead
//! Add a column for the new embeddings, fill it in batches with the new model, build its
//! index concurrently, switch readers to it, then drop the old column:
//! ```sql
//! ALTER TABLE items ADD COLUMN embedding_v2 vector(768);
//! -- re-embed in batches, then (-- dbarch:no-transaction):
//! CREATE INDEX CONCURRENTLY items_embedding_v2_idx ON items USING hnsw (embedding_v2 vector_cosine_ops);
//! ```
//!
//! ## References
//! - pgvector README, "Storing" and "Half-Precision Vectors".
//! - PostgreSQL documentation, ALTER TABLE, "SET DATA TYPE" (rewrites and index rebuilds).

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
        let Some(old) = state.column_type(&rel, &cmd.name) else {
            continue;
        };
        if !is_vector_type(&old) {
            continue;
        }
        let same_kind = old.name == new.name;
        if same_kind && old.mods == new.mods && !new.array {
            continue;
        }
        let unqualified = |t: &TypeRef| {
            TypeRef {
                schema: None,
                ..t.clone()
            }
            .display()
        };
        let change = format!("from {} to {}", unqualified(&old), unqualified(&new));
        let dims_change = same_kind || old.mods != new.mods;
        let what = if !is_vector_type(&new) {
            "leaves pgvector's types"
        } else if dims_change {
            "changes its dimensions: every embedding must be computed again"
        } else {
            "changes its vector type"
        };
        let t = rel_sql(&rel);
        let c2 = dbarch_model::quote_ident(&format!("{}_v2", cmd.name));
        let d = stmt
            .diag_at(
                "V007",
                format!(
                    "changing {rel}.{} {change} {what}; the table and its vector index are \
                     rewritten under an ACCESS EXCLUSIVE lock",
                    cmd.name
                ),
                type_location(col),
            )
            .with_object(format!("{rel}.{}", cmd.name))
            .with_help(
                "Add a new column for the new embeddings, fill it in batches, index it \
                 concurrently, switch readers over, then drop the old column.",
            )
            .with_fix(format!(
                "ALTER TABLE {t} ADD COLUMN {c2} {};\n\
                 -- fill {c2} in batches, then in a no-transaction migration:\n\
                 -- CREATE INDEX CONCURRENTLY ON {t} USING hnsw ({c2} <opclass>);",
                new.display()
            ));
        out.push(state.scale(d, &rel));
    }
}
