//! `DROP TABLE` of a table the file did not create.
//!
//! ## Why
//! Dropping a table deletes its rows for good (only a backup or point-in-time recovery
//! brings them back), and application code still running — the version deployed before the
//! migration — fails on every query that uses it. With `CASCADE` it also drops the views
//! and foreign keys that depend on it. `IF EXISTS` makes the statement re-runnable, not
//! safe. The drop waits for an `ACCESS EXCLUSIVE` lock, queueing every query on the table
//! behind it.
//!
//! The finding's severity does not depend on the table's size. Not flagged: tables created
//! earlier in the same file.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! DROP TABLE legacy_orders;
//! ```
//!
//! ## Instead
//! Deprecate first, drop last: stop using the table in the application, deploy, keep a copy
//! (`pg_dump --table=public.legacy_orders`), then drop it in a later migration and say so:
//! ```sql
//! -- dbarch:ignore M014 unused since release 2024.06, dumped to s3://backups/legacy_orders
//! DROP TABLE IF EXISTS legacy_orders;
//! ```
//!
//! ## References
//! - strong_migrations "Removing a table"; squawk `ban-drop-table`.
//! - PostgreSQL documentation, DROP TABLE.

use super::ops_util::{drop_names, object_type};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::{DropBehavior, ObjectType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::DropStmt(d) = stmt.node else {
        return;
    };
    if object_type(d.remove_type) != ObjectType::ObjectTable {
        return;
    }
    let cascade = DropBehavior::try_from(d.behavior) == Ok(DropBehavior::DropCascade);
    for rel in drop_names(&d.objects) {
        if state.is_new(&rel) {
            continue;
        }
        let also = if cascade {
            " (CASCADE also drops the views and foreign keys that depend on it)"
        } else {
            ""
        };
        out.push(
            stmt.diag(
                "M014",
                format!(
                    "DROP TABLE {rel} deletes the table and its rows{also}; running code that \
                     still uses it fails"
                ),
            )
            .with_object(rel.to_string())
            .with_help(
                "Deprecate first: stop using the table in the application, deploy, keep a dump \
                 of it, then drop it in a later migration — and record that with \
                 `-- dbarch:ignore M014 <reason>`.",
            ),
        );
    }
}
