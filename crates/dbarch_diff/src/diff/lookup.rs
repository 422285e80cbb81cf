//! Hash maps over the two models, so that the diff stays O(n) on large schemas (10,000 tables
//! and more), and a stable topological sort.

use crate::change::PartitionIndex;
use dbarch_model::*;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

pub(crate) struct Models<'a> {
    pub from: &'a Database,
    pub to: &'a Database,
    pub from_tables: HashMap<QualifiedName, &'a Table>,
    pub to_tables: HashMap<QualifiedName, &'a Table>,
    pub from_views: HashMap<QualifiedName, &'a View>,
    pub to_views: HashMap<QualifiedName, &'a View>,
    /// Index of a partitioned table (schema-qualified index name) → its partitions' indexes.
    pub from_attached: HashMap<QualifiedName, Vec<PartitionIndex>>,
    pub to_attached: HashMap<QualifiedName, Vec<PartitionIndex>>,
}

impl<'a> Models<'a> {
    pub fn new(from: &'a Database, to: &'a Database) -> Self {
        Models {
            from,
            to,
            from_tables: from
                .tables
                .iter()
                .map(|t| (t.qualified_name(), t))
                .collect(),
            to_tables: to.tables.iter().map(|t| (t.qualified_name(), t)).collect(),
            from_views: from.views.iter().map(|v| (v.qualified_name(), v)).collect(),
            to_views: to.views.iter().map(|v| (v.qualified_name(), v)).collect(),
            from_attached: attached(from),
            to_attached: attached(to),
        }
    }
}

fn attached(db: &Database) -> HashMap<QualifiedName, Vec<PartitionIndex>> {
    let mut out: HashMap<QualifiedName, Vec<PartitionIndex>> = HashMap::new();
    for t in &db.tables {
        for i in &t.indexes {
            if let Some(parent) = &i.parent_index {
                out.entry(parent.clone()).or_default().push(PartitionIndex {
                    table: t.qualified_name(),
                    index: i.clone(),
                });
            }
        }
    }
    out
}

/// Stable topological sort: each item comes after the items it depends on (dependencies
/// outside `items` are ignored); independent items keep their input order. Cycles (which
/// PostgreSQL does not allow between these objects) fall back to input order. Iterative, so a
/// long chain cannot overflow the stack.
pub(crate) fn topological<'a, T, K: Eq + Hash>(
    items: &[&'a T],
    key: impl Fn(&T) -> K,
    deps: impl Fn(&T) -> Vec<K>,
) -> Vec<&'a T> {
    let index: HashMap<K, usize> = items.iter().enumerate().map(|(i, t)| (key(t), i)).collect();
    let mut done = vec![false; items.len()];
    let mut visiting = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    for start in 0..items.len() {
        if done[start] {
            continue;
        }
        // (item, its dependencies still to visit)
        let mut stack: Vec<(usize, Vec<usize>)> = Vec::new();
        let push = |i: usize, stack: &mut Vec<(usize, Vec<usize>)>| {
            let mut d: Vec<usize> = deps(items[i])
                .iter()
                .filter_map(|k| index.get(k).copied())
                .collect();
            d.reverse();
            stack.push((i, d));
        };
        visiting.insert(start);
        push(start, &mut stack);
        while let Some((i, pending)) = stack.last_mut() {
            let i = *i;
            match pending.pop() {
                Some(j) if !done[j] && !visiting.contains(&j) => {
                    visiting.insert(j);
                    push(j, &mut stack);
                }
                Some(_) => {}
                None => {
                    stack.pop();
                    visiting.remove(&i);
                    if !done[i] {
                        done[i] = true;
                        out.push(items[i]);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn topological_keeps_order_and_puts_dependencies_first() {
        let items = [&("a", vec!["c"]), &("b", vec![]), &("c", vec!["b"])];
        let sorted = super::topological(&items, |t| t.0, |t| t.1.clone());
        let names: Vec<&str> = sorted.iter().map(|t| t.0).collect();
        assert_eq!(names, ["b", "c", "a"]);
    }
}
