//! `ALTER COLUMN ... DROP NOT NULL` on an existing table.
//!
//! ## Why
//! The statement itself is quick, but it changes a contract: code that reads the column
//! (reports, exports, other services, `NOT IN` subqueries) may rely on it never being `NULL`,
//! and breaks once the first `NULL` is written. It is also hard to undo: putting `NOT NULL`
//! back scans the whole table under an `ACCESS EXCLUSIVE` lock (see `M018`) and fails as
//! soon as one `NULL` has been stored. Tables created earlier in the file are not flagged.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ALTER COLUMN shipped_at DROP NOT NULL;
//! ```
//!
//! ## Instead
//! Check the column's readers first and deploy code that handles `NULL` before this
//! migration; document the decision next to the statement, then silence the note:
//! ```sql
//! -- dbarch:ignore M029 readers handle NULL since release 42
//! ALTER TABLE orders ALTER COLUMN shipped_at DROP NOT NULL;
//! ```
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "SET/DROP NOT NULL".
//! - strong_migrations (backward-compatible schema changes: deploy code before the migration).

use super::table_changes::existing_table_alter;
use crate::migration::ast;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::AlterTableType;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    for cmd in ast::alter_cmds(a) {
        if ast::cmd_type(cmd) != AlterTableType::AtDropNotNull {
            continue;
        }
        out.push(
            stmt.diag(
                "M029",
                format!(
                    "dropping NOT NULL on {rel}.{} lets NULLs in: readers that assume a value break, \
                     and restoring NOT NULL later needs a full scan and fails once a NULL exists",
                    cmd.name
                ),
            )
            .with_object(format!("{rel}.{}", cmd.name))
            .with_help(
                "Deploy readers that handle NULL before this migration; once it ships, treat the \
                 column as nullable for good.",
            ),
        );
    }
}
