//! The entity-relationship view of a model shared by every ERD and by the Markdown links:
//! which tables are entities, their safe ids and labels, key markers, and the relationships.

use crate::ColumnDetail;
use dbarch_model::{Column, ConstraintKind, Database, IndexTarget, QualifiedName, Table};
use std::collections::{HashMap, HashSet};

pub(crate) struct Erd<'a> {
    pub entities: Vec<Entity<'a>>,
    pub relations: Vec<Relation<'a>>,
}

pub(crate) struct Entity<'a> {
    pub table: &'a Table,
    /// A safe identifier (`[A-Za-z_][A-Za-z0-9_]*`), unique in the diagram.
    pub id: String,
    /// The name shown: `users` in `public`, `audit.events` elsewhere, and always qualified when
    /// two schemas hold tables of the same name.
    pub label: String,
    /// The columns to draw, per [`ColumnDetail`].
    pub columns: Vec<EntityColumn<'a>>,
}

pub(crate) struct EntityColumn<'a> {
    pub column: &'a Column,
    pub keys: Keys,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Keys {
    pub pk: bool,
    pub fk: bool,
    pub uk: bool,
}

impl Keys {
    pub fn any(self) -> bool {
        self.pk || self.fk || self.uk
    }

    /// `PK`, `FK`, `UK` in that order.
    pub fn labels(self) -> Vec<&'static str> {
        [(self.pk, "PK"), (self.fk, "FK"), (self.uk, "UK")]
            .into_iter()
            .filter_map(|(on, l)| on.then_some(l))
            .collect()
    }
}

/// A foreign key between two entities (indexes into [`Erd::entities`]).
pub(crate) struct Relation<'a> {
    pub child: usize,
    pub parent: usize,
    pub name: &'a str,
    pub columns: &'a [String],
    pub referenced_columns: &'a [String],
    /// The FK columns are covered by a primary key or unique constraint: at most one child row.
    pub one_to_one: bool,
    /// Every FK column is NOT NULL: each child row has a parent.
    pub mandatory: bool,
}

impl<'a> Erd<'a> {
    pub fn build(db: &'a Database, detail: ColumnDetail) -> Self {
        let by_name: HashMap<(&str, &str), usize> = db
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.schema.as_str(), t.name.as_str()), i))
            .collect();
        let lookup =
            |q: &QualifiedName| by_name.get(&(q.schema.as_str(), q.name.as_str())).copied();

        // Partitions are drawn as their partitioned parent, when that parent is in the model.
        let representative: Vec<usize> = (0..db.tables.len())
            .map(|mut i| {
                for _ in 0..64 {
                    match db.tables[i]
                        .partition_of
                        .as_ref()
                        .and_then(|p| lookup(&p.parent))
                    {
                        Some(parent) if parent != i => i = parent,
                        _ => break,
                    }
                }
                i
            })
            .collect();
        let shown: Vec<usize> = (0..db.tables.len())
            .filter(|&i| representative[i] == i)
            .collect();
        let entity_of: HashMap<usize, usize> =
            shown.iter().enumerate().map(|(e, &t)| (t, e)).collect();

        let names = entity_names(shown.iter().map(|&i| &db.tables[i]));
        let entities = shown
            .iter()
            .zip(names)
            .map(|(&i, (id, label))| {
                let table = &db.tables[i];
                let columns = table
                    .columns
                    .iter()
                    .map(|column| EntityColumn {
                        column,
                        keys: column_keys(table, &column.name),
                    })
                    .filter(|c| match detail {
                        ColumnDetail::All => true,
                        ColumnDetail::KeysOnly => c.keys.any(),
                        ColumnDetail::None => false,
                    })
                    .collect();
                Entity {
                    table,
                    id,
                    label,
                    columns,
                }
            })
            .collect();

        let mut relations: Vec<Relation<'a>> = Vec::new();
        for (i, table) in db.tables.iter().enumerate() {
            let hidden = representative[i] != i;
            for (con, fk) in table.foreign_keys() {
                // A partition's inherited copy of its parent's FK would draw the same line twice.
                if hidden && !con.is_local {
                    continue;
                }
                let Some(parent) = lookup(fk.references) else {
                    continue;
                };
                let child = entity_of[&representative[i]];
                let parent = entity_of[&representative[parent]];
                let duplicate = relations
                    .iter()
                    .any(|r| r.child == child && r.parent == parent && r.columns == fk.columns);
                if hidden && duplicate {
                    continue;
                }
                relations.push(Relation {
                    child,
                    parent,
                    name: &con.name,
                    columns: fk.columns,
                    referenced_columns: fk.referenced_columns,
                    one_to_one: covered_by_unique(table, fk.columns),
                    mandatory: fk.columns.iter().all(|c| {
                        table.column(c).is_some_and(|c| c.not_null)
                            || table.primary_key_columns().contains(c)
                    }),
                });
            }
        }
        Erd {
            entities,
            relations,
        }
    }
}

fn column_keys(table: &Table, column: &str) -> Keys {
    let mut keys = Keys::default();
    for con in &table.constraints {
        match &con.kind {
            ConstraintKind::PrimaryKey { columns } if columns.iter().any(|c| c == column) => {
                keys.pk = true
            }
            ConstraintKind::Unique { columns, .. } if columns.iter().any(|c| c == column) => {
                keys.uk = true
            }
            ConstraintKind::ForeignKey { columns, .. } if columns.iter().any(|c| c == column) => {
                keys.fk = true
            }
            _ => {}
        }
    }
    // A unique index is as much a key as a unique constraint (the PK's own index aside).
    if !keys.pk && unique_column_sets(table).any(|cols| cols.contains(&column)) {
        keys.uk = true;
    }
    keys
}

/// Column sets that are guaranteed unique: the primary key, unique constraints, and plain
/// (non-partial, column-only) unique indexes.
fn unique_column_sets(table: &Table) -> impl Iterator<Item = Vec<&str>> {
    let constraints = table.constraints.iter().filter_map(|c| match &c.kind {
        ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns, .. } => {
            Some(columns.iter().map(String::as_str).collect())
        }
        _ => None,
    });
    let indexes = table
        .indexes
        .iter()
        .filter(|i| i.unique && i.predicate.is_none())
        .filter_map(|i| {
            i.keys
                .iter()
                .map(|k| match &k.target {
                    IndexTarget::Column(c) => Some(c.as_str()),
                    IndexTarget::Expression(_) => None,
                })
                .collect::<Option<Vec<&str>>>()
        });
    constraints.chain(indexes)
}

fn covered_by_unique(table: &Table, fk_columns: &[String]) -> bool {
    unique_column_sets(table)
        .any(|set| !set.is_empty() && set.iter().all(|c| fk_columns.iter().any(|f| f == c)))
}

/// Ids and labels for the entities, in order. An id is the table name when no other schema
/// has a table of that name, else `schema_table`; made safe and unique.
fn entity_names<'a>(tables: impl Iterator<Item = &'a Table> + Clone) -> Vec<(String, String)> {
    let mut name_count: HashMap<&str, usize> = HashMap::new();
    for t in tables.clone() {
        *name_count.entry(t.name.as_str()).or_default() += 1;
    }
    let mut used = HashSet::new();
    tables
        .map(|t| {
            let ambiguous = name_count[t.name.as_str()] > 1;
            let label = if ambiguous {
                format!("{}.{}", t.schema, t.name)
            } else {
                t.qualified_name().display_short()
            };
            let base = if ambiguous {
                safe_ident(&format!("{}_{}", t.schema, t.name))
            } else {
                safe_ident(&t.name)
            };
            let base = if is_mermaid_keyword(&base) {
                safe_ident(&format!("{}_{}", t.schema, t.name))
            } else {
                base
            };
            let mut id = base.clone();
            let mut n = 1;
            while !used.insert(id.to_ascii_lowercase()) {
                n += 1;
                id = format!("{base}_{n}");
            }
            (id, label)
        })
        .collect()
}

/// `[A-Za-z_][A-Za-z0-9_]*`: valid as a Mermaid entity name and a DOT id alike.
pub(crate) fn safe_ident(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Words Mermaid's ER grammar reads as keywords rather than entity names.
fn is_mermaid_keyword(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "erdiagram",
        "title",
        "acctitle",
        "accdescr",
        "direction",
        "style",
        "classdef",
        "class",
        "one",
        "only",
        "many",
        "more",
        "zero",
        "or",
        "to",
        "optionally",
        "u",
        "end",
    ];
    WORDS.contains(&s.to_ascii_lowercase().as_str())
}
