//! `ALTER TABLE ... RENAME COLUMN` on a table the file did not create.
//!
//! ## Why
//! The rename is instant, but application code still running — the version deployed before
//! the migration, which keeps serving until the new one is out — names the column by its
//! old name, and every such query fails from the moment the migration commits until the
//! last old instance is gone. There is no moment at which old and new code both work, so a
//! rename is downtime for the features that use the column. Views and functions keep
//! working (they refer to columns by number), which hides the problem in testing.
//!
//! Not flagged: tables created, and columns added, earlier in the same file.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders RENAME COLUMN status TO state;
//! ```
//!
//! ## Instead
//! Expand and contract, over several deploys:
//! 1. Add the new column; keep the two in sync with a trigger; backfill it in batches.
//! 2. Deploy code that reads the new column (and writes both).
//! 3. Deploy code that no longer uses the old column.
//! 4. Drop the old column (see `M013`).
//!
//! ```sql
//! ALTER TABLE orders ADD COLUMN state text;
//! -- trigger: NEW.state := coalesce(NEW.state, NEW.status); backfill in batches; then, later,
//! -- ALTER TABLE orders DROP COLUMN status;
//! ```
//!
//! ## References
//! - strong_migrations "Renaming a column"; squawk `renaming-column`.
//! - PostgreSQL documentation, ALTER TABLE (`RENAME COLUMN`).

use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::RenameStmt(r) = stmt.node else {
        return;
    };
    if super::ops_util::object_type(r.rename_type) != ObjectType::ObjectColumn
        || super::ops_util::object_type(r.relation_type) != ObjectType::ObjectTable
    {
        return;
    }
    let Some(rv) = &r.relation else { return };
    let rel = RelName::of(rv);
    if state.is_new_column(&rel, &r.subname) {
        return;
    }
    let (old, new) = (&r.subname, &r.newname);
    let ty = state
        .column_type(&rel, old)
        .map_or("<type of ".to_string() + old + ">", |t| t.display());
    out.push(
        stmt.diag(
            "M026",
            format!(
                "renaming {rel}.{old} to {new} breaks running application code that still uses \
                 {old}, from the commit until every old instance is replaced"
            ),
        )
        .with_object(format!("{rel}.{old}"))
        .with_help(format!(
            "Expand and contract: add {new}, keep it in sync with {old} (trigger + batched \
             backfill), move the code to {new} over two deploys, then drop {old}."
        ))
        .with_fix(format!(
            "ALTER TABLE {} ADD COLUMN {} {ty};\n-- then: sync trigger, batched backfill, code switch, and later DROP COLUMN {}",
            super::ops_util::sql_name(&rel),
            dbarch_model::quote_ident(new),
            dbarch_model::quote_ident(old),
        )),
    );
}
