//! Comments on every object kind that carries one.
//!
//! Each model is flattened into (object → comment) over all objects, commented or not, so
//! that a removed comment (`IS NULL`) is told apart from a dropped object (nothing to do).

use super::lookup::Models;
use super::objects::function_ref;
use super::types::type_ref;
use super::{Out, Phase};
use crate::change::{Change, ObjectRef};
use dbarch_model::*;
use std::collections::HashMap;

fn all(db: &Database) -> Vec<(ObjectRef, Option<&str>)> {
    let mut out = Vec::new();
    for s in &db.schemas {
        out.push((
            ObjectRef::Schema {
                name: s.name.clone(),
            },
            s.comment.as_deref(),
        ));
    }
    for t in &db.types {
        out.push((type_ref(t), t.comment.as_deref()));
    }
    for s in &db.sequences {
        out.push((
            ObjectRef::Sequence {
                name: QualifiedName::new(&s.schema, &s.name),
            },
            s.comment.as_deref(),
        ));
    }
    for f in db
        .functions
        .iter()
        .filter(|f| f.kind != FunctionKind::Aggregate)
    {
        out.push((function_ref(f), f.comment.as_deref()));
    }
    for t in &db.tables {
        let name = t.qualified_name();
        out.push((
            ObjectRef::Table { name: name.clone() },
            t.comment.as_deref(),
        ));
        for c in t.columns.iter().filter(|c| c.is_local) {
            out.push((
                ObjectRef::Column {
                    relation: name.clone(),
                    column: c.name.clone(),
                },
                c.comment.as_deref(),
            ));
        }
        for c in t.constraints.iter().filter(|c| c.is_local) {
            out.push((
                ObjectRef::Constraint {
                    table: name.clone(),
                    name: c.name.clone(),
                },
                c.comment.as_deref(),
            ));
        }
        for i in &t.indexes {
            out.push((
                ObjectRef::Index {
                    name: QualifiedName::new(&t.schema, &i.name),
                },
                i.comment.as_deref(),
            ));
        }
        for tr in &t.triggers {
            out.push((
                ObjectRef::Trigger {
                    table: name.clone(),
                    name: tr.name.clone(),
                },
                tr.comment.as_deref(),
            ));
        }
    }
    for v in &db.views {
        let name = v.qualified_name();
        out.push((
            ObjectRef::View {
                name: name.clone(),
                materialized: v.materialized,
            },
            v.comment.as_deref(),
        ));
        for c in &v.columns {
            out.push((
                ObjectRef::Column {
                    relation: name.clone(),
                    column: c.name.clone(),
                },
                c.comment.as_deref(),
            ));
        }
        for i in &v.indexes {
            out.push((
                ObjectRef::Index {
                    name: QualifiedName::new(&v.schema, &i.name),
                },
                i.comment.as_deref(),
            ));
        }
    }
    out
}

pub(super) fn diff(m: &Models, out: &mut Out) {
    let from: HashMap<ObjectRef, Option<&str>> = all(m.from).into_iter().collect();
    // Views that are recreated lose their column comments too.
    let recreated_relation = |o: &ObjectRef| match o {
        ObjectRef::Column { relation, .. } => m.to_views.get(relation).is_some_and(|v| {
            out.recreated.contains(&ObjectRef::View {
                name: relation.clone(),
                materialized: v.materialized,
            })
        }),
        _ => false,
    };
    let mut changes = Vec::new();
    for (object, comment) in all(m.to) {
        let before = if out.recreated.contains(&object) || recreated_relation(&object) {
            None
        } else {
            from.get(&object).copied().flatten()
        };
        if before != comment {
            changes.push(Change::SetComment {
                object,
                from: before.map(str::to_string),
                to: comment.map(str::to_string),
            });
        }
    }
    for c in changes {
        out.push(Phase::Comment, c);
    }
}
