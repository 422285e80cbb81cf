//! `TRUNCATE` of a table the file did not create.
//!
//! ## Why
//! `TRUNCATE` deletes every row of the table at once. In a migration that is rarely what
//! production wants, and it is easy to run against the wrong environment. It also takes an
//! `ACCESS EXCLUSIVE` lock, so it waits for every query running on the table and blocks
//! every query, reads included, until the transaction commits. With `CASCADE` it empties
//! every table that references it by foreign key too.
//!
//! Precisely: in PostgreSQL `TRUNCATE` is transactional — a rollback of its transaction
//! restores the rows — but it is not MVCC-safe: a transaction whose snapshot predates the
//! truncation sees the table empty once it commits. It does not fire `ON DELETE` triggers
//! (only `TRUNCATE` triggers). Once committed it is written to the WAL like any change:
//! streaming replicas replay it, and logical replication publishes it by default
//! (`publish` includes `truncate`), so replicas lose the rows too; only a backup or
//! point-in-time recovery brings them back.
//!
//! The severity does not depend on the table's size: the hazard is the data. Not flagged:
//! tables created earlier in the same file.
//!
//! Lock: AccessExclusiveLock on the table and on its indexes.
//!
//! ## Example
//! ```sql
//! TRUNCATE orders;
//! ```
//!
//! ## Instead
//! If only some rows must go, delete those, in batches that keep each transaction short:
//! ```sql
//! DELETE FROM orders WHERE id IN (SELECT id FROM orders WHERE created_at < '2020-01-01' LIMIT 10000);
//! ```
//! If the table really must be emptied (a cache, a staging table), say so with an ignore
//! directive and its reason: `-- dbarch:ignore M011 staging table, reloaded nightly`.
//!
//! ## References
//! - PostgreSQL documentation, TRUNCATE (notes on MVCC safety and triggers) and "Explicit
//!   Locking".

use super::ops_util::{range_vars, sql_name};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::DropBehavior;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::TruncateStmt(t) = stmt.node else {
        return;
    };
    let cascade = DropBehavior::try_from(t.behavior) == Ok(DropBehavior::DropCascade);
    for rel in range_vars(&t.relations) {
        if state.is_new(&rel) {
            continue;
        }
        let also = if cascade {
            ", and CASCADE empties every table referencing it"
        } else {
            ""
        };
        out.push(
            stmt.diag(
                "M011",
                format!(
                    "TRUNCATE deletes every row of {rel}{also}; it also blocks every query on \
                     {rel}, reads included, until the transaction commits"
                ),
            )
            .with_object(rel.to_string())
            .with_help(
                "Delete only the rows that must go, in batches; if emptying the table is \
                 intended (a staging table), silence this with `-- dbarch:ignore M011 <reason>`.",
            )
            .with_fix(format!(
                "DELETE FROM {0} WHERE ctid IN (SELECT ctid FROM {0} WHERE <condition> LIMIT 10000);  -- repeat until no row is deleted",
                sql_name(&rel)
            )),
        );
    }
}
