//! `ALTER TABLE` forms that copy or rewrite the whole table: `SET TABLESPACE`,
//! `SET LOGGED`, `SET UNLOGGED`, `SET ACCESS METHOD`.
//!
//! ## Why
//! Each of these writes every row of the table (and rebuilds or copies its indexes) under
//! an `ACCESS EXCLUSIVE` lock held for the whole copy: no query can read or write the table
//! until it ends, minutes to hours on a large table. `SET LOGGED` also writes the whole table
//! to the WAL (replicas receive all of it); `SET UNLOGGED` makes the table lose its contents
//! after a crash and disappear from replicas.
//!
//! Not flagged: tables created earlier in the same file, and, when the catalog is known
//! (`--url`), partitioned tables (they hold no rows: these forms only set what new partitions
//! inherit) and `SET LOGGED`/`SET UNLOGGED` on a table that already is so (a no-op).
//! `SET ACCESS METHOD heap` (or `DEFAULT`) is not flagged either: the catalog does not tell
//! a table's access method, and on the usual heap table it changes nothing.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE audit_log SET UNLOGGED;
//! ALTER TABLE events SET ACCESS METHOD columnar;
//! ```
//!
//! ## Instead
//! - To move a table to another tablespace online, use `pg_repack --table=public.events
//!   --tablespace=fast_ssd --moveidx`, which locks the table only for the final swap.
//! - To change logging or the access method of a large table, build a new table with the
//!   wanted properties, copy the rows in batches while triggers keep it in sync, and switch
//!   names in one short transaction; or accept the downtime in a maintenance window, with
//!   `lock_timeout` set.
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE (`SET TABLESPACE`, `SET { LOGGED | UNLOGGED }`,
//!   `SET ACCESS METHOD`) and "Explicit Locking".
//! - pg_repack documentation (`--tablespace`).

use crate::migration::ast::{RelName, alter_cmds, cmd_type};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ObjectType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::AlterTableStmt(a) = stmt.node else {
        return;
    };
    let kind = super::ops_util::object_type(a.objtype);
    if !matches!(kind, ObjectType::ObjectTable | ObjectType::ObjectMatview) {
        return;
    }
    let Some(rv) = &a.relation else { return };
    let rel = RelName::of(rv);
    if state.is_new(&rel) || super::ops_util::is_partitioned(state, &rel) {
        return;
    }
    let unlogged = state.table(&rel).map(|t| t.unlogged);
    let mut actions = Vec::new();
    let mut help = Vec::new();
    for cmd in alter_cmds(a) {
        match cmd_type(cmd) {
            AlterTableType::AtSetTableSpace => {
                actions.push(format!("SET TABLESPACE {}", cmd.name));
                help.push(
                    "move it online with pg_repack --tablespace --moveidx, which locks the \
                     table only for the final swap",
                );
            }
            AlterTableType::AtSetLogged if unlogged != Some(false) => {
                actions.push("SET LOGGED".to_string());
                help.push(
                    "SET LOGGED also writes the whole table to the WAL; copy into a new logged \
                     table in batches and swap names, or accept the downtime in a maintenance \
                     window",
                );
            }
            AlterTableType::AtSetUnLogged if unlogged != Some(true) => {
                actions.push("SET UNLOGGED".to_string());
                help.push(
                    "an unlogged table is emptied after a crash and is not replicated; make \
                     sure that is wanted, and do it in a maintenance window",
                );
            }
            // `heap` (or DEFAULT, usually heap) on a heap table changes nothing; the catalog
            // does not say which access method a table has, so only others are flagged.
            AlterTableType::AtSetAccessMethod
                if !cmd.name.is_empty() && !cmd.name.eq_ignore_ascii_case("heap") =>
            {
                actions.push(format!("SET ACCESS METHOD {}", cmd.name));
                help.push(
                    "build a new table with the access method, copy rows in batches with a \
                     sync trigger and swap names, or accept the downtime in a maintenance window",
                );
            }
            _ => {}
        }
    }
    if actions.is_empty() {
        return;
    }
    let mut help_text = help.join("; ");
    if let Some(first) = help_text.get(..1) {
        help_text = format!("{}{}.", first.to_uppercase(), &help_text[1..]);
    }
    let d = stmt
        .diag(
            "M012",
            format!(
                "ALTER TABLE {rel} {} rewrites the whole table under an ACCESS EXCLUSIVE lock: \
                 no query can read or write it until the copy ends",
                actions.join(", ")
            ),
        )
        .with_object(rel.to_string())
        .with_help(help_text);
    out.push(state.scale(d, &rel));
}
