//! Dependency order between objects of the same kind.

use dbarch_model::*;
use std::collections::{BTreeMap, BTreeSet};

/// Enums first (domains and composites may use them), then domains, then composites.
pub(crate) fn types(db: &Database) -> Vec<&TypeDef> {
    let rank = |t: &TypeDef| match t.kind {
        TypeKind::Enum { .. } => 0,
        TypeKind::Domain { .. } => 1,
        TypeKind::Composite { .. } => 2,
    };
    let mut out: Vec<&TypeDef> = db.types.iter().collect();
    out.sort_by_key(|t| rank(t));
    out
}

/// Parents (partitioned or inherited from) before their children; otherwise model order.
pub(crate) fn tables(db: &Database) -> Vec<&Table> {
    let parents = |t: &Table| -> Vec<QualifiedName> {
        t.partition_of
            .iter()
            .map(|p| p.parent.clone())
            .chain(t.inherits.iter().cloned())
            .collect()
    };
    topological(&db.tables, Table::qualified_name, parents)
}

/// Views after the views they read.
pub(crate) fn views(db: &Database) -> Vec<&View> {
    topological(&db.views, View::qualified_name, |v| v.depends_on.clone())
}

/// Stable topological sort: each item comes after the items it depends on (dependencies outside
/// `items` are ignored); among independent items the input order is kept. Cycles, which
/// PostgreSQL does not allow between these objects, fall back to input order.
fn topological<T>(
    items: &[T],
    key: impl Fn(&T) -> QualifiedName,
    deps: impl Fn(&T) -> Vec<QualifiedName>,
) -> Vec<&T> {
    let index: BTreeMap<QualifiedName, usize> =
        items.iter().enumerate().map(|(i, t)| (key(t), i)).collect();
    let mut done = vec![false; items.len()];
    let mut out = Vec::with_capacity(items.len());
    fn visit<'a, T>(
        i: usize,
        items: &'a [T],
        deps_of: &dyn Fn(&T) -> Vec<QualifiedName>,
        index: &BTreeMap<QualifiedName, usize>,
        done: &mut [bool],
        visiting: &mut BTreeSet<usize>,
        out: &mut Vec<&'a T>,
    ) {
        if done[i] || !visiting.insert(i) {
            return;
        }
        for d in deps_of(&items[i]) {
            if let Some(&j) = index.get(&d) {
                visit(j, items, deps_of, index, done, visiting, out);
            }
        }
        visiting.remove(&i);
        if !done[i] {
            done[i] = true;
            out.push(&items[i]);
        }
    }
    let mut visiting = BTreeSet::new();
    for i in 0..items.len() {
        visit(i, items, &deps, &index, &mut done, &mut visiting, &mut out);
    }
    out
}
