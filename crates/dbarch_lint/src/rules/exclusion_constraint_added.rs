//! `ADD CONSTRAINT ... EXCLUDE` on an existing table.
//!
//! ## Why
//! An exclusion constraint builds its index (usually GiST) and checks every pair of
//! conflicting rows while the table is under an `ACCESS EXCLUSIVE` lock: no reads, no writes
//! for the whole build. Unlike `UNIQUE`, there is no concurrent path: PostgreSQL cannot attach
//! a prebuilt index as an exclusion constraint, and it has no `NOT VALID` form. Tables created
//! earlier in the file are not flagged.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
//!     EXCLUDE USING gist (room_id WITH =, during WITH &&);
//! ```
//!
//! ## Instead
//! Schedule it in a maintenance window with a `lock_timeout` (and measure the build on a copy
//! first), or create the constraint on a new table and move the rows over:
//! ```sql
//! SET lock_timeout = '5s';
//! ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
//!     EXCLUDE USING gist (room_id WITH =, during WITH &&);
//! ```
//!
//! ## References
//! - PostgreSQL documentation, CREATE TABLE, "EXCLUDE"; ALTER TABLE, "ADD table_constraint".
//! - eugene "Creating a new exclusion constraint".

use super::table_changes::existing_table_alter;
use crate::migration::ast;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::protobuf::{AlterTableType, ConstrType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    for cmd in ast::alter_cmds(a) {
        if ast::cmd_type(cmd) != AlterTableType::AtAddConstraint {
            continue;
        }
        let Some(c) = ast::cmd_constraint(cmd) else {
            continue;
        };
        if ast::constr_type(c) != ConstrType::ConstrExclusion {
            continue;
        }
        let name = if c.conname.is_empty() {
            String::new()
        } else {
            format!("{} ", c.conname)
        };
        let mut d = stmt
            .diag_at(
                "M025",
                format!(
                    "adding exclusion constraint {name}builds its index and checks {rel} under an \
                     ACCESS EXCLUSIVE lock (no reads or writes meanwhile); there is no concurrent \
                     alternative"
                ),
                c.location,
            )
            .with_object(rel.to_string())
            .with_help(
                "Run it in a maintenance window with a lock_timeout, after timing the build on a \
                 copy of the table; or create the constraint on a new table and move the rows.",
            );
        if !state.lock_timeout_set {
            d = d.with_fix(format!(
                "SET lock_timeout = '5s';\n{};",
                stmt.text().trim_end_matches(';')
            ));
        }
        out.push(state.scale(d, &rel));
    }
}
