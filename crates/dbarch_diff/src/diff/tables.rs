//! Tables and their columns; constraints and indexes are delegated per table.

use super::lookup::{Models, topological};
use super::{DiffError, Out, Phase, constraints, indexes};
use crate::change::{Change, ColumnType, ObjectRef};
use dbarch_model::*;

pub(super) fn diff(m: &Models, out: &mut Out) -> Result<(), DiffError> {
    dropped(m, out);
    created(m, out);
    let keys = constraints::dropped_keys(m);
    for t in &m.to.tables {
        if let Some(old) = m.from_tables.get(&t.qualified_name()) {
            alter(m, old, t, &keys, out)?;
        }
    }
    Ok(())
}

/// Partition parents and inheritance parents: created before, dropped after.
fn parents(t: &Table) -> Vec<QualifiedName> {
    t.partition_of
        .iter()
        .map(|p| p.parent.clone())
        .chain(t.inherits.iter().cloned())
        .collect()
}

/// Dropped tables, dependents first: partitions and children before their parents, tables
/// with foreign keys before the tables they reference (PostgreSQL refuses to drop a
/// referenced table without CASCADE, and dbarch never cascades).
fn dropped(m: &Models, out: &mut Out) {
    let gone: Vec<&Table> = m
        .from
        .tables
        .iter()
        .filter(|t| !m.to_tables.contains_key(&t.qualified_name()))
        .collect();
    let deps = |t: &Table| {
        let mut d = parents(t);
        d.extend(t.foreign_keys().map(|(_, fk)| fk.references.clone()));
        d
    };
    for t in topological(&gone, Table::qualified_name, deps)
        .into_iter()
        .rev()
    {
        out.push(Phase::DropTable, Change::DropTable { table: t.clone() });
    }
}

fn created(m: &Models, out: &mut Out) {
    let new: Vec<&Table> =
        m.to.tables
            .iter()
            .filter(|t| !m.from_tables.contains_key(&t.qualified_name()))
            .collect();
    for t in topological(&new, Table::qualified_name, parents) {
        let name = t.qualified_name();
        out.push(Phase::CreateTable, Change::CreateTable { table: t.clone() });
        // Foreign keys and NOT VALID constraints come after every table exists.
        for c in t
            .constraints
            .iter()
            .filter(|c| dbarch_ddl::is_deferred_constraint(c))
        {
            out.push(
                constraints::add_phase(c),
                Change::AddConstraint {
                    table: name.clone(),
                    constraint: c.clone(),
                    index: None,
                    new_table: true,
                },
            );
        }
        // A partitioned table's indexes are created once its partitions exist, so that each
        // partition's index gets the name it has in the model (see `indexes`). Other tables'
        // indexes are part of the CREATE TABLE step.
        if t.partition_key.is_some() {
            for i in t.indexes.iter().filter(|i| indexes::is_standalone(i)) {
                out.push(Phase::CreateIndex, indexes::create(m, &name, i, true));
            }
        }
    }
}

fn alter(
    m: &Models,
    old: &Table,
    new: &Table,
    keys: &constraints::Keys,
    out: &mut Out,
) -> Result<(), DiffError> {
    let name = new.qualified_name();
    let unsupported = |what: &str| DiffError::Unsupported {
        object: format!("table {name}"),
        reason: format!(
            "its {what} changes; create a new table and move the data (expand/contract)"
        ),
    };
    if old.unlogged != new.unlogged {
        return Err(unsupported("persistence (LOGGED/UNLOGGED)"));
    }
    if old.partition_key != new.partition_key {
        return Err(unsupported("partition key"));
    }
    if old.partition_of != new.partition_of {
        return Err(unsupported("partition parent or bound"));
    }
    if old.inherits != new.inherits {
        return Err(unsupported("inheritance"));
    }
    if old.options != new.options {
        out.push(
            Phase::AlterColumn,
            Change::SetStorageParameters {
                table: name.clone(),
                from: old.options.clone(),
                to: new.options.clone(),
            },
        );
    }
    columns(old, new, out);
    constraints::diff_table(old, new, keys, out);
    indexes::diff_relation(m, &name, &old.indexes, &new.indexes, out);
    Ok(())
}

/// PostgreSQL 18's NOT NULL constraint with a non-default name or state, for a column.
pub(super) fn named_not_null<'a>(t: &'a Table, column: &str) -> Option<&'a Constraint> {
    t.constraints
        .iter()
        .find(|c| matches!(&c.kind, ConstraintKind::NotNull { column: col, .. } if col == column))
}

fn columns(old: &Table, new: &Table, out: &mut Out) {
    let table = new.qualified_name();
    for c in new.columns.iter().filter(|c| c.is_local) {
        match old.column(&c.name) {
            None => {
                let mut column = c.clone();
                // A named NOT NULL is added as a constraint of its own.
                if named_not_null(new, &c.name).is_some() {
                    column.not_null = false;
                }
                out.push(
                    Phase::AlterColumn,
                    Change::AddColumn {
                        table: table.clone(),
                        column,
                    },
                );
            }
            Some(o) if o.is_local => column(old, new, o, c, out),
            Some(_) => {}
        }
    }
    for o in old.columns.iter().filter(|c| c.is_local) {
        if new.column(&o.name).is_none() {
            out.altered_tables.insert(table.clone());
            out.push(
                Phase::DropColumn,
                Change::DropColumn {
                    table: table.clone(),
                    column: o.clone(),
                },
            );
        }
    }
}

fn column(old_t: &Table, new_t: &Table, o: &Column, c: &Column, out: &mut Out) {
    let table = new_t.qualified_name();
    let name = c.name.clone();
    if o.generated != c.generated {
        // Before PostgreSQL 17 a generation expression cannot be altered: the derived column
        // is dropped and added again (nothing is lost, it is computed from the others).
        out.altered_tables.insert(table.clone());
        out.recreated.insert(ObjectRef::Column {
            relation: table.clone(),
            column: name,
        });
        out.push(
            Phase::DropColumn,
            Change::DropColumn {
                table: table.clone(),
                column: o.clone(),
            },
        );
        out.push(
            Phase::AlterColumn,
            Change::AddColumn {
                table,
                column: c.clone(),
            },
        );
        return;
    }
    let retyped = o.data_type != c.data_type || o.collation != c.collation;
    if retyped {
        out.altered_tables.insert(table.clone());
        // A default that cannot be cast automatically would make ALTER TYPE fail: drop it
        // first and set the target's default after the conversion.
        if let Some(d) = &o.default {
            out.push(
                Phase::DropConstraint,
                Change::DropDefault {
                    table: table.clone(),
                    column: name.clone(),
                    from: d.clone(),
                },
            );
        }
        out.push(
            Phase::AlterColumn,
            Change::AlterColumnType {
                table: table.clone(),
                column: name.clone(),
                from: ColumnType {
                    data_type: o.data_type.clone(),
                    collation: o.collation.clone(),
                },
                to: ColumnType {
                    data_type: c.data_type.clone(),
                    collation: c.collation.clone(),
                },
            },
        );
    }
    if o.identity != c.identity {
        out.push(
            Phase::AlterColumn,
            Change::SetIdentity {
                table: table.clone(),
                column: name.clone(),
                data_type: c.data_type.clone(),
                from: o.identity.clone(),
                to: c.identity.clone(),
            },
        );
    }
    let old_default = if retyped { None } else { o.default.as_ref() };
    match (old_default, &c.default) {
        (a, Some(b)) if a != Some(b) => out.push(
            Phase::AlterColumn,
            Change::SetDefault {
                table: table.clone(),
                column: name.clone(),
                from: a.cloned(),
                to: b.clone(),
            },
        ),
        (Some(a), None) => out.push(
            Phase::DropConstraint,
            Change::DropDefault {
                table: table.clone(),
                column: name.clone(),
                from: a.clone(),
            },
        ),
        _ => {}
    }
    // NOT NULL: a named constraint (PostgreSQL 18) is diffed with the constraints; the flag
    // is handled here only where no named constraint governs it.
    let set = Change::SetNotNull {
        table: table.clone(),
        column: name.clone(),
    };
    let drop = Change::DropNotNull {
        table,
        column: name.clone(),
    };
    match (named_not_null(old_t, &name), named_not_null(new_t, &name)) {
        (None, None) if !o.not_null && c.not_null => out.push(Phase::AlterColumn, set),
        (None, None) if o.not_null && !c.not_null => out.push(Phase::AlterColumn, drop),
        // The named constraint is dropped with the constraints: restore a plain NOT NULL.
        (Some(_), None) if c.not_null => out.push(Phase::AlterColumn, set),
        // The plain NOT NULL makes way for the named constraint added later.
        (None, Some(_)) if o.not_null => out.push(Phase::AlterColumn, drop),
        _ => {}
    }
}
