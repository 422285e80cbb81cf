//! Indexes of tables and materialized views, compared by definition (`pg_get_indexdef`, which
//! includes the name): a changed definition, or a new name without a rename, is drop + create.

use super::lookup::Models;
use super::{Out, Phase};
use crate::change::{Change, ObjectRef};
use dbarch_model::*;
use std::collections::HashMap;

/// Indexes diffed on their own: not the index of a constraint (diffed with the constraint)
/// and not a partition's index attached to its parent's (created and dropped with it).
pub(super) fn is_standalone(i: &Index) -> bool {
    i.constraint.is_none() && i.parent_index.is_none()
}

pub(super) fn create(m: &Models, table: &QualifiedName, i: &Index, new_table: bool) -> Change {
    Change::CreateIndex {
        table: table.clone(),
        index: i.clone(),
        partitions: m
            .to_attached
            .get(&QualifiedName::new(&table.schema, &i.name))
            .cloned()
            .unwrap_or_default(),
        new_table,
    }
}

fn drop(m: &Models, table: &QualifiedName, i: &Index) -> Change {
    Change::DropIndex {
        table: table.clone(),
        index: i.clone(),
        partitions: m
            .from_attached
            .get(&QualifiedName::new(&table.schema, &i.name))
            .cloned()
            .unwrap_or_default(),
    }
}

pub(super) fn diff_relation(
    m: &Models,
    table: &QualifiedName,
    old: &[Index],
    new: &[Index],
    out: &mut Out,
) {
    let olds: HashMap<&str, &Index> = old
        .iter()
        .filter(|i| is_standalone(i))
        .map(|i| (&*i.name, i))
        .collect();
    let news: HashMap<&str, &Index> = new
        .iter()
        .filter(|i| is_standalone(i))
        .map(|i| (&*i.name, i))
        .collect();
    for i in new.iter().filter(|i| is_standalone(i)) {
        match olds.get(&*i.name) {
            None => out.push(Phase::CreateIndex, create(m, table, i, false)),
            // An INVALID index (a failed concurrent build) is rebuilt.
            Some(o) if o.definition == i.definition && o.valid == i.valid => {}
            Some(o) => {
                out.push(Phase::DropIndex, drop(m, table, o));
                out.push(Phase::CreateIndex, create(m, table, i, false));
                out.recreated.insert(ObjectRef::Index {
                    name: QualifiedName::new(&table.schema, &i.name),
                });
            }
        }
    }
    for o in old.iter().filter(|i| is_standalone(i)) {
        if !news.contains_key(&*o.name) {
            out.push(Phase::DropIndex, drop(m, table, o));
        }
    }
}
