//! Table constraints, compared by definition (`pg_get_constraintdef`), not by name alone.

use super::lookup::Models;
use super::{Out, Phase};
use crate::change::{Change, ObjectRef};
use dbarch_model::*;
use std::collections::{HashMap, HashSet};

/// Unique keys (table, columns) that are dropped or recreated: foreign keys referencing them
/// must be dropped first and added again after.
pub(super) type Keys = HashSet<(QualifiedName, Vec<String>)>;

pub(super) fn add_phase(c: &Constraint) -> Phase {
    if matches!(c.kind, ConstraintKind::ForeignKey { .. }) {
        Phase::AddForeignKey
    } else {
        Phase::AddConstraint
    }
}

fn drop_phase(c: &Constraint) -> Phase {
    if matches!(c.kind, ConstraintKind::ForeignKey { .. }) {
        Phase::DropForeignKey
    } else {
        Phase::DropConstraint
    }
}

/// `pg_get_constraintdef` appends NOT VALID; validity is compared separately.
fn body(c: &Constraint) -> &str {
    c.definition
        .strip_suffix(" NOT VALID")
        .unwrap_or(&c.definition)
}

fn same(a: &Constraint, b: &Constraint) -> bool {
    a.kind == b.kind
        && body(a) == body(b)
        && a.deferrable == b.deferrable
        && a.initially_deferred == b.initially_deferred
}

fn key_columns(c: &Constraint) -> Option<&Vec<String>> {
    match &c.kind {
        ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns, .. } => {
            Some(columns)
        }
        _ => None,
    }
}

pub(super) fn dropped_keys(m: &Models) -> Keys {
    let mut keys = Keys::new();
    for old in &m.from.tables {
        let name = old.qualified_name();
        let Some(new) = m.to_tables.get(&name) else {
            continue;
        };
        for c in old.constraints.iter().filter(|c| c.is_local) {
            let Some(cols) = key_columns(c) else { continue };
            let kept = new
                .constraints
                .iter()
                .any(|n| n.name == c.name && same(c, n));
            if !kept {
                keys.insert((name.clone(), cols.clone()));
            }
        }
        // A foreign key may also rest on a plain unique index.
        for i in old
            .indexes
            .iter()
            .filter(|i| i.unique && i.constraint.is_none())
        {
            let kept = new
                .indexes
                .iter()
                .any(|n| n.name == i.name && n.definition == i.definition && n.valid == i.valid);
            if !kept {
                let cols = i
                    .keys
                    .iter()
                    .filter_map(|k| match &k.target {
                        IndexTarget::Column(c) => Some(c.clone()),
                        IndexTarget::Expression(_) => None,
                    })
                    .collect();
                keys.insert((name.clone(), cols));
            }
        }
    }
    keys
}

fn rests_on_dropped_key(c: &Constraint, keys: &Keys) -> bool {
    match &c.kind {
        ConstraintKind::ForeignKey {
            references,
            referenced_columns,
            ..
        } => keys.contains(&(references.clone(), referenced_columns.clone())),
        _ => false,
    }
}

pub(super) fn diff_table(old: &Table, new: &Table, keys: &Keys, out: &mut Out) {
    let table = new.qualified_name();
    let olds: HashMap<&str, &Constraint> = old
        .constraints
        .iter()
        .filter(|c| c.is_local)
        .map(|c| (&*c.name, c))
        .collect();
    let news: HashMap<&str, &Constraint> = new
        .constraints
        .iter()
        .filter(|c| c.is_local)
        .map(|c| (&*c.name, c))
        .collect();
    let drop = |c: &Constraint, out: &mut Out| {
        out.push(
            drop_phase(c),
            Change::DropConstraint {
                table: table.clone(),
                constraint: c.clone(),
            },
        )
    };
    let add = |c: &Constraint, out: &mut Out| {
        let index = new
            .indexes
            .iter()
            .find(|i| i.constraint.as_deref() == Some(&c.name))
            .cloned();
        out.push(
            add_phase(c),
            Change::AddConstraint {
                table: table.clone(),
                constraint: c.clone(),
                index,
                new_table: false,
            },
        )
    };
    for c in new.constraints.iter().filter(|c| c.is_local) {
        match olds.get(&*c.name) {
            None => add(c, out),
            Some(o)
                if same(o, c) && !rests_on_dropped_key(o, keys) && o.validated == c.validated => {}
            Some(o) if same(o, c) && !rests_on_dropped_key(o, keys) && c.validated => out.push(
                Phase::AddConstraint,
                Change::ValidateConstraint {
                    table: table.clone(),
                    constraint: c.clone(),
                },
            ),
            Some(o) => {
                drop(o, out);
                add(c, out);
                out.recreated.insert(ObjectRef::Constraint {
                    table: table.clone(),
                    name: c.name.clone(),
                });
            }
        }
    }
    for o in old.constraints.iter().filter(|c| c.is_local) {
        if !news.contains_key(&*o.name) {
            drop(o, out);
        }
    }
}
