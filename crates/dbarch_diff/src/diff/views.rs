//! Views and materialized views.
//!
//! A view that changes is replaced in place when PostgreSQL allows it (`CREATE OR REPLACE VIEW`
//! keeps the existing columns and may only append), else dropped and created. A view that reads
//! a table whose columns are dropped or change type, or a view that is dropped or recreated, is
//! dropped first and created again after (transitively): PostgreSQL refuses those changes while
//! a view depends on them.

use super::lookup::{Models, topological};
use super::{Out, Phase, indexes};
use crate::change::{Change, ObjectRef};
use dbarch_model::*;
use std::collections::{HashMap, HashSet, VecDeque};

fn same_columns(a: &[ViewColumn], b: &[ViewColumn]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_column(x, y))
}

fn same_column(a: &ViewColumn, b: &ViewColumn) -> bool {
    a.name == b.name && a.data_type == b.data_type
}

fn same(a: &View, b: &View) -> bool {
    a.materialized == b.materialized
        && a.definition == b.definition
        && a.options == b.options
        && same_columns(&a.columns, &b.columns)
}

fn replaceable(a: &View, b: &View) -> bool {
    !a.materialized
        && !b.materialized
        && a.options == b.options
        && a.columns.len() <= b.columns.len()
        && a.columns
            .iter()
            .zip(&b.columns)
            .all(|(x, y)| same_column(x, y))
}

pub(super) fn diff(m: &Models, out: &mut Out) {
    let mut recreate: HashSet<QualifiedName> = HashSet::new();
    let mut replace: HashSet<QualifiedName> = HashSet::new();
    for v in &m.to.views {
        let name = v.qualified_name();
        if let Some(o) = m.from_views.get(&name) {
            if same(o, v) {
                continue;
            }
            if replaceable(o, v) {
                replace.insert(name);
            } else {
                recreate.insert(name);
            }
        }
    }
    // Propagate along the source model's dependencies, from altered tables and from views that
    // disappear (dropped or recreated).
    let mut dependents: HashMap<&QualifiedName, Vec<&View>> = HashMap::new();
    for v in &m.from.views {
        for d in &v.depends_on {
            dependents.entry(d).or_default().push(v);
        }
    }
    let mut queue: VecDeque<QualifiedName> = out.altered_tables.iter().cloned().collect();
    queue.extend(recreate.iter().cloned());
    queue.extend(
        m.from
            .views
            .iter()
            .map(View::qualified_name)
            .filter(|n| !m.to_views.contains_key(n)),
    );
    let mut seen: HashSet<QualifiedName> = queue.iter().cloned().collect();
    while let Some(rel) = queue.pop_front() {
        for v in dependents.get(&rel).into_iter().flatten() {
            let name = v.qualified_name();
            if m.to_views.contains_key(&name) {
                replace.remove(&name);
                recreate.insert(name.clone());
            }
            if seen.insert(name.clone()) {
                queue.push_back(name);
            }
        }
    }

    // Drops: dependents first.
    let dropped: Vec<&View> = m
        .from
        .views
        .iter()
        .filter(|v| {
            let n = v.qualified_name();
            recreate.contains(&n) || !m.to_views.contains_key(&n)
        })
        .collect();
    let deps = |v: &View| v.depends_on.clone();
    for v in topological(&dropped, View::qualified_name, deps)
        .into_iter()
        .rev()
    {
        out.push(Phase::DropView, Change::DropView { view: v.clone() });
    }

    // Creations and replacements: dependencies first.
    let built: Vec<&View> =
        m.to.views
            .iter()
            .filter(|v| {
                let n = v.qualified_name();
                recreate.contains(&n) || replace.contains(&n) || !m.from_views.contains_key(&n)
            })
            .collect();
    for v in topological(&built, View::qualified_name, deps) {
        let name = v.qualified_name();
        if replace.contains(&name) {
            out.push(
                Phase::CreateView,
                Change::ReplaceView {
                    old: (*m.from_views[&name]).clone(),
                    new: v.clone(),
                },
            );
            continue;
        }
        if recreate.contains(&name) {
            out.recreated.insert(ObjectRef::View {
                name: name.clone(),
                materialized: v.materialized,
            });
            for i in &v.indexes {
                out.recreated.insert(ObjectRef::Index {
                    name: QualifiedName::new(&v.schema, &i.name),
                });
            }
        }
        out.push(Phase::CreateView, Change::CreateView { view: v.clone() });
    }

    // Indexes of materialized views that stay.
    for v in &m.to.views {
        let name = v.qualified_name();
        if let Some(o) = m.from_views.get(&name)
            && !recreate.contains(&name)
        {
            indexes::diff_relation(m, &name, &o.indexes, &v.indexes, out);
        }
    }
}
