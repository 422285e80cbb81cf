//! `ALTER TABLE ... RENAME TO` on a table the file did not create.
//!
//! ## Why
//! The rename is instant, but application code still running — the version deployed before
//! the migration — names the table by its old name, and every such query fails from the
//! moment the migration commits until the last old instance is gone. Views, foreign keys and
//! functions compiled against the table follow it (they refer to it by OID), which hides
//! the problem in testing; SQL in function bodies does not.
//!
//! Not flagged: tables created in the same file, and renames followed, in the same file, by
//! a view under the old name (below).
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders RENAME TO purchases;
//! ```
//!
//! ## Instead
//! Rename, and leave a view under the old name in the same transaction: a view over a single
//! table is updatable, so old code keeps reading and writing through it until it is gone.
//! ```sql
//! ALTER TABLE orders RENAME TO purchases;
//! CREATE VIEW orders AS SELECT * FROM purchases;
//! -- once no running code uses the old name: DROP VIEW orders;
//! ```
//! Or expand and contract: create the new table, keep both in sync, move the code, drop the
//! old one.
//!
//! ## References
//! - strong_migrations "Renaming a table"; squawk `renaming-table`.
//! - PostgreSQL documentation, CREATE VIEW ("Updatable Views").

use super::ops_util::sql_name;
use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_model::quote_ident;
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

pub(crate) fn check(stmts: &[Statement], state: &State, out: &mut Vec<Diagnostic>) {
    for (i, stmt) in stmts.iter().enumerate() {
        let NodeEnum::RenameStmt(r) = stmt.node else {
            continue;
        };
        if super::ops_util::object_type(r.rename_type) != ObjectType::ObjectTable {
            continue;
        }
        let Some(rv) = &r.relation else { continue };
        let rel = RelName::of(rv);
        if state.is_new(&rel) || view_replaces(&stmts[i + 1..], &rel) {
            continue;
        }
        flag(stmt, r, rel, out);
    }
}

/// A later statement of the file creates a view under the old name.
fn view_replaces(rest: &[Statement], old: &RelName) -> bool {
    rest.iter().any(|s| {
        matches!(s.node, NodeEnum::ViewStmt(v)
            if v.view.as_ref().is_some_and(|rv| RelName::of(rv).matches(old)))
    })
}

fn flag(
    stmt: &Statement,
    r: &pg_query::protobuf::RenameStmt,
    rel: RelName,
    out: &mut Vec<Diagnostic>,
) {
    let new = RelName {
        schema: rel.schema.clone(),
        name: r.newname.clone(),
    };
    out.push(
        stmt.diag(
            "M027",
            format!(
                "renaming {rel} to {} breaks running application code that still uses {rel}, \
                 from the commit until every old instance is replaced",
                r.newname
            ),
        )
        .with_object(rel.to_string())
        .with_help(format!(
            "Leave an updatable view named {} over the renamed table in the same migration, \
             and drop it once no running code uses the old name.",
            rel.name
        ))
        .with_fix(format!(
            "ALTER TABLE {} RENAME TO {};\nCREATE VIEW {} AS SELECT * FROM {};",
            sql_name(&rel),
            quote_ident(&r.newname),
            sql_name(&rel),
            sql_name(&new)
        )),
    );
}
