//! Turns the rows of the catalog queries into the model.

use crate::rows::{CatalogRow, each};
use crate::{Result, ServerInfo};
use dbarch_model::*;
use std::collections::HashMap;
use tokio_postgres::Row;

type QueryRows = (&'static str, Vec<Row>);

pub(crate) struct Rows {
    pub extensions: QueryRows,
    pub schemas: QueryRows,
    pub tables: QueryRows,
    pub columns: QueryRows,
    pub constraints: QueryRows,
    pub indexes: QueryRows,
    pub views: QueryRows,
    pub sequences: QueryRows,
    pub functions: QueryRows,
    pub types: QueryRows,
    pub triggers: QueryRows,
    pub policies: QueryRows,
    pub grants: QueryRows,
}

pub(crate) fn server(rows: QueryRows) -> Result<ServerInfo> {
    let row = each(&rows).next().ok_or_else(|| crate::Error::Decode {
        query: rows.0,
        column: "version_num".into(),
        reason: "no row".into(),
    })?;
    Ok(ServerInfo {
        version_num: row.get("version_num")?,
        version: row.string("version")?,
        database: row.string("database")?,
    })
}

/// Where a relation (table or view) sits in the model being built.
#[derive(Clone, Copy)]
enum Slot {
    Table(usize),
    View(usize),
}

impl Rows {
    pub fn into_model(self) -> Result<Database> {
        let mut db = Database::default();
        let mut slots: HashMap<(String, String), Slot> = HashMap::new();

        for r in each(&self.extensions) {
            db.extensions.push(Extension {
                name: r.string("name")?,
                schema: r.string("schema")?,
                version: r.string("version")?,
            });
        }
        for r in each(&self.schemas) {
            db.schemas.push(Schema {
                name: r.string("name")?,
                comment: r.opt("comment")?,
                grants: Vec::new(),
            });
        }
        for r in each(&self.tables) {
            let table = table(&r)?;
            slots.insert(
                (table.schema.clone(), table.name.clone()),
                Slot::Table(db.tables.len()),
            );
            db.tables.push(table);
        }
        for r in each(&self.views) {
            let view = view(&r)?;
            slots.insert(
                (view.schema.clone(), view.name.clone()),
                Slot::View(db.views.len()),
            );
            db.views.push(view);
        }
        let slot = |r: &CatalogRow, column: &str| -> Result<Option<Slot>> {
            Ok(slots
                .get(&(r.string("schema")?, r.string(column)?))
                .copied())
        };

        for r in each(&self.columns) {
            match slot(&r, "relation")? {
                Some(Slot::Table(i)) => db.tables[i].columns.push(column(&r)?),
                Some(Slot::View(i)) => db.views[i].columns.push(ViewColumn {
                    name: r.string("name")?,
                    data_type: r.string("data_type")?,
                    comment: r.opt("comment")?,
                }),
                None => {}
            }
        }
        for r in each(&self.constraints) {
            if let Some(Slot::Table(i)) = slot(&r, "relation")? {
                let table = &db.tables[i];
                if let Some(c) = constraint(&r, &table.name)? {
                    db.tables[i].constraints.push(c);
                }
            }
        }
        for r in each(&self.indexes) {
            match slot(&r, "relation")? {
                Some(Slot::Table(i)) => db.tables[i].indexes.push(index(&r)?),
                Some(Slot::View(i)) => db.views[i].indexes.push(index(&r)?),
                None => {}
            }
        }
        for r in each(&self.triggers) {
            if let Some(Slot::Table(i)) = slot(&r, "relation")? {
                db.tables[i].triggers.push(Trigger {
                    name: r.string("name")?,
                    definition: r.string("definition")?,
                    enabled: r.flag("enabled")?,
                    comment: r.opt("comment")?,
                });
            }
        }
        for r in each(&self.policies) {
            if let Some(Slot::Table(i)) = slot(&r, "relation")? {
                db.tables[i].policies.push(Policy {
                    name: r.string("name")?,
                    permissive: r.flag("permissive")?,
                    command: r.string("command")?,
                    roles: r.strings("roles")?,
                    using: r.opt("using_expr")?,
                    with_check: r.opt("with_check")?,
                });
            }
        }
        for r in each(&self.sequences) {
            db.sequences.push(sequence(&r)?);
        }
        for r in each(&self.functions) {
            db.functions.push(function(&r)?);
        }
        for r in each(&self.types) {
            db.types.push(type_def(&r)?);
        }

        // Grants last: they attach to objects found above.
        let mut sequence_slots: HashMap<(String, String), usize> = HashMap::new();
        for (i, s) in db.sequences.iter().enumerate() {
            sequence_slots.insert((s.schema.clone(), s.name.clone()), i);
        }
        for r in each(&self.grants) {
            let grant = Grant {
                grantee: r.string("grantee")?,
                privilege: r.string("privilege")?,
                with_grant_option: r.flag("grantable")?,
            };
            let schema = r.string("schema")?;
            let name: Option<String> = r.opt("name")?;
            match (r.string("kind")?.as_str(), name) {
                ("schema", _) => {
                    if let Some(s) = db.schemas.iter_mut().find(|s| s.name == schema) {
                        s.grants.push(grant);
                    }
                }
                ("S", Some(name)) => {
                    if let Some(&i) = sequence_slots.get(&(schema, name)) {
                        db.sequences[i].grants.push(grant);
                    }
                }
                (_, Some(name)) => match slots.get(&(schema, name)) {
                    Some(Slot::Table(i)) => db.tables[*i].grants.push(grant),
                    Some(Slot::View(i)) => db.views[*i].grants.push(grant),
                    None => {}
                },
                _ => {}
            }
        }
        Ok(db)
    }
}

fn split_qualified(r: &CatalogRow, column: &str, s: &str) -> Result<QualifiedName> {
    s.split_once('.')
        .map(|(schema, name)| QualifiedName::new(schema, name))
        .ok_or_else(|| r.bad(column, format!("expected schema.name, got {s:?}")))
}

fn table(r: &CatalogRow) -> Result<Table> {
    let partition_of = match (r.opt("parent_schema")?, r.opt("parent_name")?) {
        (Some(schema), Some(name)) => Some(PartitionOf {
            parent: QualifiedName::new(schema, name),
            bound: r.opt("partition_bound")?.unwrap_or_default(),
        }),
        _ => None,
    };
    let inherits = r
        .strings("inherits")?
        .iter()
        .map(|s| split_qualified(r, "inherits", s))
        .collect::<Result<_>>()?;
    let estimated_rows: Option<i64> = r.get("estimated_rows")?;
    let stats = match estimated_rows {
        Some(estimated_rows) => Some(TableStats {
            estimated_rows,
            table_bytes: r.get("table_bytes")?,
            indexes_bytes: r.get("indexes_bytes")?,
            total_bytes: r.get("total_bytes")?,
        }),
        None => None,
    };
    Ok(Table {
        schema: r.string("schema")?,
        name: r.string("name")?,
        unlogged: r.flag("unlogged")?,
        partition_key: r.opt("partition_key")?,
        partition_of,
        inherits,
        columns: Vec::new(),
        constraints: Vec::new(),
        indexes: Vec::new(),
        triggers: Vec::new(),
        rls_enabled: r.flag("rls_enabled")?,
        rls_forced: r.flag("rls_forced")?,
        policies: Vec::new(),
        options: r.strings("options")?,
        comment: r.opt("comment")?,
        grants: Vec::new(),
        stats,
    })
}

fn view(r: &CatalogRow) -> Result<View> {
    let definition = r.string("definition")?;
    let depends_on = r
        .strings("depends_on")?
        .iter()
        .map(|s| split_qualified(r, "depends_on", s))
        .collect::<Result<_>>()?;
    Ok(View {
        schema: r.string("schema")?,
        name: r.string("name")?,
        materialized: r.flag("materialized")?,
        definition: definition.trim().trim_end_matches(';').to_string(),
        columns: Vec::new(),
        options: r.strings("options")?,
        depends_on,
        indexes: Vec::new(),
        comment: r.opt("comment")?,
        grants: Vec::new(),
    })
}

fn column(r: &CatalogRow) -> Result<Column> {
    let default_expr: Option<String> = r.opt("default_expr")?;
    let generated_kind = r.string("generated")?;
    let generated = match generated_kind.as_str() {
        "" => None,
        kind => Some(Generated {
            expression: default_expr.clone().unwrap_or_default(),
            stored: kind == "s",
        }),
    };
    let identity = match r.string("identity")?.as_str() {
        "" => None,
        kind => {
            let seq_type: Option<String> = r.opt("seq_type")?;
            let options = match r.get::<Option<i64>>("seq_start")? {
                Some(start) => Some(SequenceOptions {
                    start,
                    increment: r.get("seq_increment")?,
                    min_value: r.get("seq_min")?,
                    max_value: r.get("seq_max")?,
                    cache: r.get("seq_cache")?,
                    cycle: r.flag("seq_cycle")?,
                }),
                None => None,
            };
            // Keep the options only when they differ from what a plain identity column gets.
            let sequence = options.filter(|o| {
                Some(o) != default_sequence_options(seq_type.as_deref().unwrap_or("")).as_ref()
            });
            Some(Identity {
                always: kind == "a",
                sequence,
            })
        }
    };
    Ok(Column {
        name: r.string("name")?,
        data_type: r.string("data_type")?,
        not_null: r.flag("not_null")?,
        default: if generated.is_some() {
            None
        } else {
            default_expr
        },
        identity,
        generated,
        collation: r.opt("collation")?,
        is_local: r.flag("is_local")?,
        comment: r.opt("comment")?,
    })
}

/// The options PostgreSQL gives a new ascending sequence of the given type.
pub(crate) fn default_sequence_options(data_type: &str) -> Option<SequenceOptions> {
    let max_value = match data_type {
        "smallint" => i16::MAX as i64,
        "integer" => i32::MAX as i64,
        "bigint" => i64::MAX,
        _ => return None,
    };
    Some(SequenceOptions {
        start: 1,
        increment: 1,
        min_value: 1,
        max_value,
        cache: 1,
        cycle: false,
    })
}

fn fk_action(r: &CatalogRow, column: &str) -> Result<FkAction> {
    Ok(match r.string(column)?.as_str() {
        "a" => FkAction::NoAction,
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        other => return Err(r.bad(column, format!("unknown action {other:?}"))),
    })
}

fn constraint(r: &CatalogRow, table_name: &str) -> Result<Option<Constraint>> {
    let name = r.string("name")?;
    let columns = r.strings("columns")?;
    let validated = r.flag("validated")?;
    let is_local = r.flag("is_local")?;
    let no_inherit = r.flag("no_inherit")?;
    let kind = match r.string("kind")?.as_str() {
        "p" => ConstraintKind::PrimaryKey { columns },
        "u" => ConstraintKind::Unique {
            columns,
            nulls_not_distinct: r.flag("nulls_not_distinct")?,
        },
        "f" => ConstraintKind::ForeignKey {
            columns,
            references: QualifiedName::new(
                r.opt("ref_schema")?.unwrap_or_default(),
                r.opt("ref_table")?.unwrap_or_default(),
            ),
            referenced_columns: r.strings("ref_columns")?,
            on_update: fk_action(r, "on_update")?,
            on_delete: fk_action(r, "on_delete")?,
            match_type: match r.string("match_type")?.as_str() {
                "f" => FkMatch::Full,
                "p" => FkMatch::Partial,
                _ => FkMatch::Simple,
            },
        },
        "c" => ConstraintKind::Check {
            expression: r.opt("check_expr")?.unwrap_or_default(),
            no_inherit,
        },
        "x" => ConstraintKind::Exclusion {},
        "n" => {
            let column = columns.into_iter().next().unwrap_or_default();
            // A plain NOT NULL (PostgreSQL 18 names it `<table>_<column>_not_null`) is already
            // `Column::not_null`; keep only the ones whose name or state carries information.
            let default_name = format!("{table_name}_{column}_not_null");
            if !is_local || (name == default_name && validated && !no_inherit) {
                return Ok(None);
            }
            ConstraintKind::NotNull { column, no_inherit }
        }
        other => return Err(r.bad("kind", format!("unknown constraint type {other:?}"))),
    };
    Ok(Some(Constraint {
        name,
        kind,
        definition: r.string("definition")?,
        deferrable: r.flag("deferrable")?,
        initially_deferred: r.flag("initially_deferred")?,
        validated,
        is_local,
        comment: r.opt("comment")?,
    }))
}

fn index(r: &CatalogRow) -> Result<Index> {
    let key_count: i32 = r.get("key_count")?;
    let key_count = usize::try_from(key_count).unwrap_or(0);
    let columns = r.opt_strings("key_columns")?;
    let defs = r.opt_strings("key_defs")?;
    let opclasses = r.opt_strings("opclasses")?;
    let collations = r.opt_strings("collations")?;
    let key_options: Vec<i32> = r.get("key_options")?;
    let mut keys = Vec::new();
    let mut include = Vec::new();
    for (i, def) in defs.into_iter().enumerate() {
        // Each key part is a column (named) or an expression (printed).
        let column = columns.get(i).cloned().flatten();
        let def = def.unwrap_or_default();
        if i >= key_count {
            include.push(column.unwrap_or(def));
            continue;
        }
        let option = key_options.get(i).copied().unwrap_or(0);
        let descending = option & 1 != 0;
        let nulls_first = option & 2 != 0;
        keys.push(IndexKey {
            target: match column {
                Some(c) => IndexTarget::Column(c),
                None => IndexTarget::Expression(def),
            },
            opclass: opclasses.get(i).cloned().flatten(),
            collation: collations.get(i).cloned().flatten(),
            descending,
            // Defaults: NULLS LAST for ASC, NULLS FIRST for DESC.
            nulls_first: (nulls_first != descending).then_some(nulls_first),
        });
    }
    let parent_index = match (r.opt("parent_index_schema")?, r.opt("parent_index_name")?) {
        (Some(s), Some(n)) => Some(QualifiedName::new(s, n)),
        _ => None,
    };
    Ok(Index {
        name: r.string("name")?,
        method: r.string("method")?,
        keys,
        include,
        unique: r.flag("is_unique")?,
        nulls_not_distinct: r.flag("nulls_not_distinct")?,
        predicate: r.opt("predicate")?,
        options: r.strings("options")?,
        valid: r.flag("valid")?,
        constraint: r.opt("constraint_name")?,
        parent_index,
        definition: r.string("definition")?,
        comment: r.opt("comment")?,
    })
}

fn sequence(r: &CatalogRow) -> Result<Sequence> {
    let owned_by = match (
        r.opt("owner_schema")?,
        r.opt("owner_table")?,
        r.opt("owner_column")?,
    ) {
        (Some(schema), Some(table), Some(column)) => Some(ColumnRef {
            schema,
            table,
            column,
        }),
        _ => None,
    };
    Ok(Sequence {
        schema: r.string("schema")?,
        name: r.string("name")?,
        data_type: r.string("data_type")?,
        options: SequenceOptions {
            start: r.get("start")?,
            increment: r.get("increment")?,
            min_value: r.get("min_value")?,
            max_value: r.get("max_value")?,
            cache: r.get("cache")?,
            cycle: r.flag("cycle")?,
        },
        owned_by,
        comment: r.opt("comment")?,
        grants: Vec::new(),
    })
}

fn function(r: &CatalogRow) -> Result<Function> {
    Ok(Function {
        schema: r.string("schema")?,
        name: r.string("name")?,
        arguments: r.string("arguments")?,
        kind: match r.string("kind")?.as_str() {
            "p" => FunctionKind::Procedure,
            "a" => FunctionKind::Aggregate,
            "w" => FunctionKind::Window,
            _ => FunctionKind::Function,
        },
        returns: r.opt("returns")?,
        language: r.string("language")?,
        volatility: match r.string("volatility")?.as_str() {
            "i" => Volatility::Immutable,
            "s" => Volatility::Stable,
            _ => Volatility::Volatile,
        },
        definition: r.opt("definition")?.map(|d| d.trim_end().to_string()),
        comment: r.opt("comment")?,
    })
}

fn type_def(r: &CatalogRow) -> Result<TypeDef> {
    let kind = match r.string("kind")?.as_str() {
        "e" => TypeKind::Enum {
            labels: r.strings("labels")?,
        },
        "d" => TypeKind::Domain {
            base_type: r.opt("base_type")?.unwrap_or_default(),
            not_null: r.flag("not_null")?,
            default: r.opt("default_expr")?,
            collation: r.opt("collation")?,
            checks: r
                .strings("check_names")?
                .into_iter()
                .zip(r.strings("check_defs")?)
                .map(|(name, definition)| DomainCheck { name, definition })
                .collect(),
        },
        _ => TypeKind::Composite {
            attributes: r
                .strings("attribute_names")?
                .into_iter()
                .zip(r.strings("attribute_types")?)
                .map(|(name, data_type)| CompositeAttribute {
                    name,
                    data_type,
                    collation: None,
                })
                .collect(),
        },
    };
    Ok(TypeDef {
        schema: r.string("schema")?,
        name: r.string("name")?,
        kind,
        comment: r.opt("comment")?,
    })
}
