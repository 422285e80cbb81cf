//! `ALTER TABLE ... DROP COLUMN` on a table the file did not create.
//!
//! ## Why
//! Dropping a column deletes its data, and application code still running — the version
//! deployed before the migration, which keeps serving until the new one is out — fails on
//! every query that names the column. ORMs that list every column of a table in their
//! `SELECT` and `INSERT` statements (Rails, Django, Hibernate with cached metadata) fail even
//! where the code never mentions the column. The statement itself is quick (PostgreSQL only
//! marks the column dropped) but takes an `ACCESS EXCLUSIVE` lock.
//!
//! The finding's severity does not depend on the table's size: the hazard is the data and
//! the running code, not the lock. Not flagged: tables created, and columns added, earlier
//! in the same file.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders DROP COLUMN legacy_code;
//! ```
//!
//! ## Instead
//! Deprecate first, drop last:
//! 1. Stop reading and writing the column in the application (with an ORM, tell it to
//!    ignore the column: Rails `ignored_columns`, Django a model without the field);
//!    drop any `NOT NULL` without default so inserts that omit it succeed.
//! 2. Deploy, and wait until no running version uses the column.
//! 3. Drop it in a later migration, and say so:
//! ```sql
//! -- dbarch:ignore M013 unused since release 2024.06 (ignored_columns removed)
//! ALTER TABLE orders DROP COLUMN IF EXISTS legacy_code;
//! ```
//!
//! ## References
//! - strong_migrations "Removing a column"; squawk `ban-drop-column`.
//! - PostgreSQL documentation, ALTER TABLE (`DROP COLUMN`: the space is reclaimed only as
//!   rows are rewritten).

use crate::migration::ast::{RelName, alter_cmds, cmd_type};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ObjectType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::AlterTableStmt(a) = stmt.node else {
        return;
    };
    if super::ops_util::object_type(a.objtype) != ObjectType::ObjectTable {
        return;
    }
    let Some(rv) = &a.relation else { return };
    let rel = RelName::of(rv);
    for cmd in alter_cmds(a) {
        if cmd_type(cmd) != AlterTableType::AtDropColumn || state.is_new_column(&rel, &cmd.name) {
            continue;
        }
        let col = &cmd.name;
        out.push(
            stmt.diag(
                "M013",
                format!(
                    "DROP COLUMN {rel}.{col} deletes its data, and running application code \
                     that still reads or writes {col} fails"
                ),
            )
            .with_object(format!("{rel}.{col}"))
            .with_help(format!(
                "Deprecate first: stop reading and writing {col} in the application (with an \
                 ORM, mark it ignored), deploy, and drop the column in a later migration once \
                 no running version uses it — then record that with \
                 `-- dbarch:ignore M013 <reason>`."
            )),
        );
    }
}
