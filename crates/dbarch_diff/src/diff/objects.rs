//! Schemas, extensions, sequences and functions.

use super::lookup::Models;
use super::{Out, Phase};
use crate::change::{Change, ObjectRef};
use dbarch_model::*;
use std::collections::HashMap;

pub(super) fn diff(m: &Models, out: &mut Out) {
    schemas(m, out);
    extensions(m, out);
    sequences(m, out);
    functions(m, out);
}

fn schemas(m: &Models, out: &mut Out) {
    let from: HashMap<&str, &Schema> = m.from.schemas.iter().map(|s| (&*s.name, s)).collect();
    let to: HashMap<&str, &Schema> = m.to.schemas.iter().map(|s| (&*s.name, s)).collect();
    for s in &m.to.schemas {
        if !from.contains_key(&*s.name) {
            out.push(
                Phase::CreateSchema,
                Change::CreateSchema { schema: s.clone() },
            );
        }
    }
    for s in m.from.schemas.iter().rev() {
        if !to.contains_key(&*s.name) {
            out.push(Phase::DropSchema, Change::DropSchema { schema: s.clone() });
        }
    }
}

fn extensions(m: &Models, out: &mut Out) {
    let from: HashMap<&str, &Extension> = m.from.extensions.iter().map(|e| (&*e.name, e)).collect();
    let to: HashMap<&str, &Extension> = m.to.extensions.iter().map(|e| (&*e.name, e)).collect();
    for e in &m.to.extensions {
        match from.get(&*e.name) {
            None => out.push(
                Phase::CreateExtension,
                Change::CreateExtension {
                    extension: e.clone(),
                },
            ),
            Some(old) if old.version != e.version => out.push(
                Phase::CreateExtension,
                Change::UpdateExtension {
                    name: e.name.clone(),
                    from_version: old.version.clone(),
                    to_version: e.version.clone(),
                },
            ),
            Some(_) => {}
        }
    }
    for e in &m.from.extensions {
        if !to.contains_key(&*e.name) {
            out.push(
                Phase::DropExtension,
                Change::DropExtension {
                    extension: e.clone(),
                },
            );
        }
    }
}

fn seq_key(s: &Sequence) -> (&str, &str) {
    (&s.schema, &s.name)
}

/// True when the column owning a sequence disappears: PostgreSQL drops the sequence with it.
fn owner_dropped(m: &Models, owner: &ColumnRef) -> bool {
    m.to_tables
        .get(&QualifiedName::new(&owner.schema, &owner.table))
        .is_none_or(|t| t.column(&owner.column).is_none())
}

fn sequences(m: &Models, out: &mut Out) {
    let from: HashMap<(&str, &str), &Sequence> =
        m.from.sequences.iter().map(|s| (seq_key(s), s)).collect();
    let to: HashMap<(&str, &str), &Sequence> =
        m.to.sequences.iter().map(|s| (seq_key(s), s)).collect();
    for s in &m.to.sequences {
        let name = QualifiedName::new(&s.schema, &s.name);
        let old_owner = match from.get(&seq_key(s)) {
            None => {
                out.push(
                    Phase::CreateSequence,
                    Change::CreateSequence {
                        sequence: s.clone(),
                    },
                );
                None
            }
            Some(old) => {
                if old.data_type != s.data_type || old.options != s.options {
                    out.push(
                        Phase::CreateSequence,
                        Change::AlterSequence {
                            old: (*old).clone(),
                            new: s.clone(),
                        },
                    );
                }
                old.owned_by.clone()
            }
        };
        if old_owner != s.owned_by {
            out.push(
                Phase::SequenceOwner,
                Change::SetSequenceOwner {
                    sequence: name,
                    from: old_owner,
                    to: s.owned_by.clone(),
                },
            );
        }
    }
    for s in &m.from.sequences {
        if !to.contains_key(&seq_key(s))
            && !s.owned_by.as_ref().is_some_and(|o| owner_dropped(m, o))
        {
            out.push(
                Phase::DropSequence,
                Change::DropSequence {
                    sequence: s.clone(),
                },
            );
        }
    }
}

fn fn_key(f: &Function) -> (&str, &str, &str) {
    (&f.schema, &f.name, &f.arguments)
}

pub(super) fn function_ref(f: &Function) -> ObjectRef {
    ObjectRef::Function {
        name: QualifiedName::new(&f.schema, &f.name),
        arguments: f.arguments.clone(),
        procedure: f.kind == FunctionKind::Procedure,
    }
}

fn create_phase(f: &Function) -> Phase {
    if dbarch_ddl::has_sql_standard_body(f) {
        Phase::LateFunction
    } else {
        Phase::CreateFunction
    }
}

fn functions(m: &Models, out: &mut Out) {
    let from: HashMap<_, &Function> = m.from.functions.iter().map(|f| (fn_key(f), f)).collect();
    let to: HashMap<_, &Function> = m.to.functions.iter().map(|f| (fn_key(f), f)).collect();
    // Aggregates have no definition in the model: they can be neither created nor replaced.
    let creatable = |f: &Function| f.definition.is_some();
    for f in m.to.functions.iter().filter(|f| creatable(f)) {
        match from.get(&fn_key(f)) {
            None => out.push(
                create_phase(f),
                Change::CreateFunction {
                    function: f.clone(),
                },
            ),
            Some(old) => {
                let same = old.definition == f.definition
                    && old.volatility == f.volatility
                    && old.language == f.language;
                if same && old.kind == f.kind && old.returns == f.returns {
                    continue;
                }
                if old.kind != f.kind || old.returns != f.returns {
                    // CREATE OR REPLACE cannot change the result type or the kind.
                    out.push(
                        Phase::RecreateDropFunction,
                        Change::DropFunction {
                            function: (*old).clone(),
                        },
                    );
                    out.push(
                        create_phase(f),
                        Change::CreateFunction {
                            function: f.clone(),
                        },
                    );
                    out.recreated.insert(function_ref(f));
                } else {
                    out.push(
                        create_phase(f),
                        Change::ReplaceFunction {
                            old: (*old).clone(),
                            new: f.clone(),
                        },
                    );
                }
            }
        }
    }
    for f in m.from.functions.iter().filter(|f| creatable(f)) {
        if !to.contains_key(&fn_key(f)) {
            out.push(
                Phase::DropFunction,
                Change::DropFunction {
                    function: f.clone(),
                },
            );
        }
    }
}
