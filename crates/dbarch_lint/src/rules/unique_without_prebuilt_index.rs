//! `ADD CONSTRAINT ... UNIQUE` / `PRIMARY KEY` on an existing table without `USING INDEX`.
//!
//! ## Why
//! The constraint needs a unique index, and without `USING INDEX` PostgreSQL builds it inside
//! the `ALTER TABLE`, under an `ACCESS EXCLUSIVE` lock: no reads and no writes for the whole
//! build (on PostgreSQL 18 as before). Building the index first with
//! `CREATE UNIQUE INDEX CONCURRENTLY` lets traffic go on, and attaching it with
//! `ADD CONSTRAINT ... USING INDEX` is then a catalog change. The same goes for a `UNIQUE` or
//! `PRIMARY KEY` column added with `ADD COLUMN`. Tables created earlier in the file are not
//! flagged.
//!
//! Lock: AccessExclusiveLock on the table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_reference_key UNIQUE (reference);
//! ```
//!
//! ## Instead
//! ```sql
//! -- dbarch:no-transaction
//! CREATE UNIQUE INDEX CONCURRENTLY orders_reference_key ON orders (reference);
//! ALTER TABLE orders ADD CONSTRAINT orders_reference_key UNIQUE USING INDEX orders_reference_key;
//! ```
//! For a primary key the columns must also be `NOT NULL`, or `ADD PRIMARY KEY USING INDEX`
//! sets that itself with a full scan under the lock (see `M018`). A partitioned table accepts
//! neither `CONCURRENTLY` nor `USING INDEX`: build the index on each partition concurrently,
//! then on the parent.
//!
//! ## References
//! - PostgreSQL documentation, ALTER TABLE, "ADD table_constraint_using_index".
//! - squawk `disallowed-unique-constraint` and `adding-serial-primary-key-field`;
//!   strong_migrations "Adding a unique constraint"; eugene "Creating a new unique
//!   constraint".

use super::table_changes::{constraint_name, existing_table_alter, names, rel_sql};
use crate::migration::ast;
use crate::migration::{State, Statement};
use dbarch_model::quote_ident;
use dbarch_report::Diagnostic;
use pg_query::protobuf::{AlterTableType, ConstrType};

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    let Some((rel, a)) = existing_table_alter(stmt, state) else {
        return;
    };
    for cmd in ast::alter_cmds(a) {
        // (constraint, its columns, it comes with ADD COLUMN)
        let found: Vec<(&pg_query::protobuf::Constraint, Vec<String>, bool)> =
            match ast::cmd_type(cmd) {
                AlterTableType::AtAddConstraint => ast::cmd_constraint(cmd)
                    .map(|c| (c, names(&c.keys), false))
                    .into_iter()
                    .collect(),
                AlterTableType::AtAddColumn => ast::cmd_column(cmd)
                    .map(|col| {
                        ast::column_constraints(col)
                            .map(|c| (c, vec![col.colname.clone()], true))
                            .collect()
                    })
                    .unwrap_or_default(),
                _ => continue,
            };
        for (c, cols, add_column) in found {
            let primary = match ast::constr_type(c) {
                ConstrType::ConstrPrimary => true,
                ConstrType::ConstrUnique => false,
                _ => continue,
            };
            if !c.indexname.is_empty() || cols.is_empty() {
                continue;
            }
            let kind = if primary { "PRIMARY KEY" } else { "UNIQUE" };
            let name = if c.conname.is_empty() {
                if primary {
                    format!("{}_pkey", rel.name)
                } else {
                    constraint_name(&rel.name, &cols, "key")
                }
            } else {
                c.conname.clone()
            };
            let t = rel_sql(&rel);
            let cols_sql: Vec<String> = cols.iter().map(|c| quote_ident(c)).collect();
            let mut index = format!(
                "CREATE UNIQUE INDEX CONCURRENTLY {} ON {t} ({})",
                quote_ident(&name),
                cols_sql.join(", ")
            );
            let including = names(&c.including);
            if !including.is_empty() {
                let inc: Vec<String> = including.iter().map(|c| quote_ident(c)).collect();
                index.push_str(&format!(" INCLUDE ({})", inc.join(", ")));
            }
            if c.nulls_not_distinct {
                index.push_str(" NULLS NOT DISTINCT");
            }
            let mut fix = String::from(
                "-- dbarch:no-transaction (CONCURRENTLY cannot run in a transaction)\n",
            );
            if add_column {
                fix.push_str("-- first add the column without the constraint, then:\n");
            }
            fix.push_str(&format!(
                "{index};\nALTER TABLE {t} ADD CONSTRAINT {} {kind} USING INDEX {};",
                quote_ident(&name),
                quote_ident(&name)
            ));
            let mut help = format!(
                "Build the unique index with CREATE UNIQUE INDEX CONCURRENTLY (writes go on), then \
                 attach it with ADD CONSTRAINT ... {kind} USING INDEX (a catalog change)."
            );
            if primary {
                help.push_str(
                    " The key columns must already be NOT NULL, or the attach scans the table \
                     under the lock to set it.",
                );
            }
            let d = stmt
                .diag_at(
                    "M024",
                    format!(
                        "adding {kind} {name} builds its unique index on {rel} under an ACCESS \
                         EXCLUSIVE lock (no reads or writes during the build)"
                    ),
                    c.location,
                )
                .with_object(rel.to_string())
                .with_help(help)
                .with_fix(fix);
            out.push(state.scale(d, &rel));
        }
    }
}
