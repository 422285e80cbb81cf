//! A migration whose first lock-taking statement on an existing table runs without a
//! `lock_timeout` set before it. Off by default.
//!
//! ## Why
//! A statement that needs a strong lock (`ALTER TABLE`, `CREATE INDEX` without
//! `CONCURRENTLY`, `DROP`, `TRUNCATE`, ...) first waits for every transaction already using
//! the table — a long report, a forgotten `idle in transaction` session. While it waits, every
//! new query on the table queues behind it, reads included: a change that takes a
//! millisecond once it has its lock can stop the application for as long as the slowest
//! running query. With `lock_timeout` set, the migration gives up after that long instead,
//! and can be tried again.
//!
//! The rule is off by default because dbarch's runner sets `lock_timeout` itself for every
//! migration it runs (5 s unless configured; it retries a migration that hit it). Turn it on
//! (`enable = ["M041"]`) when the files are also run by other tools — psql, a framework's
//! runner — which do not.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD COLUMN carrier text;
//! ```
//!
//! ## Instead
//! ```sql
//! SET lock_timeout = '5s';
//! ALTER TABLE orders ADD COLUMN carrier text;
//! ```
//! (`SET LOCAL` limits the setting to the migration's transaction.)
//!
//! ## References
//! - PostgreSQL documentation, `lock_timeout` (20.11 Client Connection Defaults).
//! - strong_migrations "Lock timeout"; eugene E9 "Taking dangerous lock without timeout".

use super::ops_util::{drop_names, option_on, range_vars};
use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::{ConstrType, VariableSetKind};

pub(crate) fn check(stmts: &[Statement], _: &State, out: &mut Vec<Diagnostic>) {
    let mut created: Vec<RelName> = Vec::new();
    let mut timeout = false;
    for stmt in stmts {
        match stmt.node {
            NodeEnum::VariableSetStmt(v) if v.name.eq_ignore_ascii_case("lock_timeout") => {
                timeout = matches!(
                    VariableSetKind::try_from(v.kind),
                    Ok(VariableSetKind::VarSetValue)
                ) && !v.args.iter().all(is_zero);
                continue;
            }
            NodeEnum::VariableSetStmt(v)
                if matches!(
                    VariableSetKind::try_from(v.kind),
                    Ok(VariableSetKind::VarResetAll)
                ) =>
            {
                timeout = false;
                continue;
            }
            _ => {}
        }
        let locked: Vec<RelName> = locked_relations(stmt.node)
            .into_iter()
            .filter(|r| !created.iter().any(|c| c.matches(r)))
            .collect();
        if let Some(rel) = locked.first() {
            if !timeout {
                out.push(
                    stmt.diag(
                        "M041",
                        format!(
                            "this statement waits for a lock on {rel} with no lock_timeout set: \
                             while it waits, every query on {rel} queues behind it"
                        ),
                    )
                    .with_object(rel.to_string())
                    .with_help(
                        "Set lock_timeout at the top of the migration, so that a lock wait \
                         fails fast instead of stopping traffic; retry when it fails.",
                    )
                    .with_fix(format!("SET lock_timeout = '5s';\n{};", stmt.text())),
                );
            }
            return;
        }
        created.extend(created_relations(stmt.node));
    }
}

fn is_zero(n: &pg_query::protobuf::Node) -> bool {
    crate::migration::ast::int_value(n) == Some(0)
}

/// Relations a statement creates.
fn created_relations(node: &NodeEnum) -> Vec<RelName> {
    match node {
        NodeEnum::CreateStmt(c) => c.relation.iter().map(RelName::of).collect(),
        NodeEnum::CreateTableAsStmt(c) => c
            .into
            .as_ref()
            .and_then(|i| i.rel.as_ref())
            .map(RelName::of)
            .into_iter()
            .collect(),
        NodeEnum::IndexStmt(i) if !i.idxname.is_empty() => vec![RelName {
            schema: i.relation.as_ref().and_then(|r| RelName::of(r).schema),
            name: i.idxname.clone(),
        }],
        _ => Vec::new(),
    }
}

/// Existing relations on which the statement queues for a lock that blocks traffic.
fn locked_relations(node: &NodeEnum) -> Vec<RelName> {
    match node {
        NodeEnum::AlterTableStmt(a) => a.relation.iter().map(RelName::of).collect(),
        NodeEnum::IndexStmt(i) if !i.concurrent => i.relation.iter().map(RelName::of).collect(),
        NodeEnum::DropStmt(d) if !d.concurrent => drop_names(&d.objects),
        NodeEnum::TruncateStmt(t) => range_vars(&t.relations),
        NodeEnum::LockStmt(l) if l.mode >= 5 => range_vars(&l.relations),
        NodeEnum::RenameStmt(r) => r.relation.iter().map(RelName::of).collect(),
        NodeEnum::ReindexStmt(r) if !option_on(&r.params, "concurrently") => {
            r.relation.iter().map(RelName::of).collect()
        }
        NodeEnum::RefreshMatViewStmt(r) => r.relation.iter().map(RelName::of).collect(),
        NodeEnum::ClusterStmt(c) => c.relation.iter().map(RelName::of).collect(),
        NodeEnum::VacuumStmt(v) if option_on(&v.options, "full") => v
            .rels
            .iter()
            .filter_map(|n| match n.node.as_ref()? {
                NodeEnum::VacuumRelation(r) => r.relation.as_ref().map(RelName::of),
                _ => None,
            })
            .collect(),
        NodeEnum::CreateTrigStmt(t) => t.relation.iter().map(RelName::of).collect(),
        // A foreign key locks the referenced table (SHARE ROW EXCLUSIVE).
        NodeEnum::CreateStmt(c) => c
            .table_elts
            .iter()
            .flat_map(|e| match e.node.as_ref() {
                Some(NodeEnum::Constraint(k)) => vec![k.as_ref()],
                Some(NodeEnum::ColumnDef(col)) => {
                    crate::migration::ast::column_constraints(col).collect()
                }
                _ => Vec::new(),
            })
            .filter(|k| crate::migration::ast::constr_type(k) == ConstrType::ConstrForeign)
            .filter_map(|k| k.pktable.as_ref().map(RelName::of))
            .collect(),
        _ => Vec::new(),
    }
}
