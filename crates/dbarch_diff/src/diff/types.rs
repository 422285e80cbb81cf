//! Enums, domains and composite types.

use super::lookup::Models;
use super::{Out, Phase};
use crate::change::{Change, EnumPosition, ObjectRef, TypedColumn};
use dbarch_model::*;
use std::collections::HashMap;

fn key(t: &TypeDef) -> (&str, &str) {
    (&t.schema, &t.name)
}

/// Enums first (domains and composites may use them), then domains, then composites.
fn rank(t: &TypeDef) -> u8 {
    match t.kind {
        TypeKind::Enum { .. } => 0,
        TypeKind::Domain { .. } => 1,
        TypeKind::Composite { .. } => 2,
    }
}

pub(super) fn type_ref(t: &TypeDef) -> ObjectRef {
    ObjectRef::Type {
        name: QualifiedName::new(&t.schema, &t.name),
        domain: matches!(t.kind, TypeKind::Domain { .. }),
    }
}

pub(super) fn diff(m: &Models, out: &mut Out) {
    let from: HashMap<_, &TypeDef> = m.from.types.iter().map(|t| (key(t), t)).collect();
    let to: HashMap<_, &TypeDef> = m.to.types.iter().map(|t| (key(t), t)).collect();
    let mut created: Vec<&TypeDef> = Vec::new();
    for t in &m.to.types {
        let Some(old) = from.get(&key(t)) else {
            created.push(t);
            continue;
        };
        if old.kind == t.kind {
            continue;
        }
        match (&old.kind, &t.kind) {
            (TypeKind::Enum { labels: a }, TypeKind::Enum { labels: b })
                if is_subsequence(a, b) =>
            {
                add_values(t, a, b, out)
            }
            _ => {
                let columns = columns_using(m, t);
                for c in &columns {
                    out.altered_tables.insert(c.table.clone());
                }
                out.recreated.insert(type_ref(t));
                out.push(
                    Phase::CreateType,
                    Change::RecreateType {
                        old: (*old).clone(),
                        new: t.clone(),
                        columns,
                    },
                );
            }
        }
    }
    created.sort_by_key(|t| rank(t));
    for t in created {
        out.push(
            Phase::CreateType,
            Change::CreateType {
                type_def: t.clone(),
            },
        );
    }
    let mut dropped: Vec<&TypeDef> = m
        .from
        .types
        .iter()
        .filter(|t| !to.contains_key(&key(t)))
        .collect();
    dropped.sort_by_key(|t| std::cmp::Reverse(rank(t)));
    for t in dropped {
        out.push(
            Phase::DropType,
            Change::DropType {
                type_def: t.clone(),
            },
        );
    }
}

/// True when every label of `a` is in `b`, in the same relative order.
fn is_subsequence(a: &[String], b: &[String]) -> bool {
    let mut it = b.iter();
    a.iter().all(|x| it.any(|y| y == x))
}

fn add_values(t: &TypeDef, old: &[String], new: &[String], out: &mut Out) {
    let name = QualifiedName::new(&t.schema, &t.name);
    for (i, label) in new.iter().enumerate() {
        if old.contains(label) {
            continue;
        }
        // Values are added in order, so the previous label always exists by now.
        let position = if i > 0 {
            Some(EnumPosition::After(new[i - 1].clone()))
        } else {
            new.iter()
                .find(|l| old.contains(l))
                .map(|l| EnumPosition::Before(l.clone()))
        };
        out.push(
            Phase::CreateType,
            Change::AddEnumValue {
                type_name: name.clone(),
                value: label.clone(),
                position,
            },
        );
    }
}

/// Columns of tables present in both models that use the type (or an array of it) on both
/// sides: they are converted when the type is recreated.
fn columns_using(m: &Models, t: &TypeDef) -> Vec<TypedColumn> {
    let name = QualifiedName::new(&t.schema, &t.name).sql();
    let array = format!("{name}[]");
    let uses = |c: &Column| c.data_type == name || c.data_type == array;
    let mut out = Vec::new();
    for table in &m.to.tables {
        let Some(old) = m.from_tables.get(&table.qualified_name()) else {
            continue;
        };
        for c in table.columns.iter().filter(|c| c.is_local && uses(c)) {
            if old.column(&c.name).is_some_and(uses) {
                out.push(TypedColumn {
                    table: table.qualified_name(),
                    column: c.name.clone(),
                    data_type: c.data_type.clone(),
                    default: c.default.clone(),
                });
            }
        }
    }
    out
}
