//! Triggers, row-level security, policies and grants.

use super::lookup::Models;
use super::{Out, Phase};
use crate::change::{Change, ObjectRef};
use dbarch_model::*;
use std::collections::{HashMap, HashSet};

pub(super) fn diff(m: &Models, out: &mut Out) {
    for t in &m.to.tables {
        let old = m.from_tables.get(&t.qualified_name()).copied();
        triggers(old, t, out);
        row_level_security(old, t, out);
        policies(old, t, out);
    }
    grants(m, out);
}

fn triggers(old: Option<&Table>, new: &Table, out: &mut Out) {
    let table = new.qualified_name();
    let olds: HashMap<&str, &Trigger> = old
        .iter()
        .flat_map(|t| &t.triggers)
        .map(|t| (&*t.name, t))
        .collect();
    let create = |tr: &Trigger, out: &mut Out| {
        out.push(
            Phase::CreateTrigger,
            Change::CreateTrigger {
                table: table.clone(),
                trigger: tr.clone(),
            },
        )
    };
    for tr in &new.triggers {
        match olds.get(&*tr.name) {
            None => create(tr, out),
            Some(o) if o.definition != tr.definition => {
                out.push(
                    Phase::DropTrigger,
                    Change::DropTrigger {
                        table: table.clone(),
                        trigger: (*o).clone(),
                    },
                );
                create(tr, out);
                out.recreated.insert(ObjectRef::Trigger {
                    table: table.clone(),
                    name: tr.name.clone(),
                });
            }
            Some(o) if o.enabled != tr.enabled => out.push(
                Phase::CreateTrigger,
                Change::SetTriggerEnabled {
                    table: table.clone(),
                    name: tr.name.clone(),
                    enabled: tr.enabled,
                },
            ),
            Some(_) => {}
        }
    }
    let news: HashSet<&str> = new.triggers.iter().map(|t| &*t.name).collect();
    for o in old.iter().flat_map(|t| &t.triggers) {
        if !news.contains(&*o.name) {
            out.push(
                Phase::DropTrigger,
                Change::DropTrigger {
                    table: table.clone(),
                    trigger: o.clone(),
                },
            );
        }
    }
}

fn row_level_security(old: Option<&Table>, new: &Table, out: &mut Out) {
    let table = new.qualified_name();
    let (enabled, forced) = old.map_or((false, false), |o| (o.rls_enabled, o.rls_forced));
    if enabled != new.rls_enabled {
        out.push(
            Phase::RowLevelSecurity,
            Change::SetRowLevelSecurity {
                table: table.clone(),
                enabled: new.rls_enabled,
            },
        );
    }
    if forced != new.rls_forced {
        out.push(
            Phase::RowLevelSecurity,
            Change::SetForceRowLevelSecurity {
                table,
                forced: new.rls_forced,
            },
        );
    }
}

fn policies(old: Option<&Table>, new: &Table, out: &mut Out) {
    let table = new.qualified_name();
    let olds: HashMap<&str, &Policy> = old
        .iter()
        .flat_map(|t| &t.policies)
        .map(|p| (&*p.name, p))
        .collect();
    let news: HashSet<&str> = new.policies.iter().map(|p| &*p.name).collect();
    let drop = |p: &Policy, out: &mut Out| {
        out.push(
            Phase::DropPolicy,
            Change::DropPolicy {
                table: table.clone(),
                policy: p.clone(),
            },
        )
    };
    for p in &new.policies {
        match olds.get(&*p.name) {
            Some(o) if *o == p => continue,
            Some(o) => drop(o, out),
            None => {}
        }
        out.push(
            Phase::CreatePolicy,
            Change::CreatePolicy {
                table: table.clone(),
                policy: p.clone(),
            },
        );
    }
    for o in old.iter().flat_map(|t| &t.policies) {
        if !news.contains(&*o.name) {
            drop(o, out);
        }
    }
}

/// Objects that carry grants, with their grants.
fn granted(db: &Database) -> Vec<(ObjectRef, &[Grant])> {
    let mut out: Vec<(ObjectRef, &[Grant])> = Vec::new();
    for s in &db.schemas {
        out.push((
            ObjectRef::Schema {
                name: s.name.clone(),
            },
            &s.grants,
        ));
    }
    for s in &db.sequences {
        out.push((
            ObjectRef::Sequence {
                name: QualifiedName::new(&s.schema, &s.name),
            },
            &s.grants,
        ));
    }
    for t in &db.tables {
        out.push((
            ObjectRef::Table {
                name: t.qualified_name(),
            },
            &t.grants,
        ));
    }
    for v in &db.views {
        out.push((
            ObjectRef::View {
                name: v.qualified_name(),
                materialized: v.materialized,
            },
            &v.grants,
        ));
    }
    out
}

fn grants(m: &Models, out: &mut Out) {
    let from: HashMap<ObjectRef, &[Grant]> = granted(m.from).into_iter().collect();
    for (object, grants) in granted(m.to) {
        // A new or recreated object starts with no grants.
        let before: &[Grant] = if out.recreated.contains(&object) {
            &[]
        } else {
            from.get(&object).copied().unwrap_or(&[])
        };
        for g in before.iter().filter(|g| !grants.contains(g)) {
            out.push(
                Phase::Grant,
                Change::Revoke {
                    object: object.clone(),
                    grant: g.clone(),
                },
            );
        }
        for g in grants.iter().filter(|g| !before.contains(g)) {
            out.push(
                Phase::Grant,
                Change::Grant {
                    object: object.clone(),
                    grant: g.clone(),
                },
            );
        }
    }
}
