//! The schema model: one description of a PostgreSQL database's schema.
//!
//! Filled by `dbarch_catalog` from a live server, rendered by `dbarch_ddl` and `dbarch_docs`,
//! compared by the differ. It does no I/O. It holds no OIDs, sizes, row counts or timestamps
//! (only the optional [`TableStats`]), and every list is kept in a deterministic order
//! ([`Database::normalize`]), so two equal schemas serialize to byte-identical JSON.
//!
//! Expressions (defaults, checks, predicates, view bodies) are kept as PostgreSQL prints them
//! with `search_path` set to `pg_catalog`, i.e. with every user object schema-qualified.

mod ident;
mod names;

pub use ident::{is_reserved_keyword, quote_ident, quote_literal};
pub use names::QualifiedName;

use serde::{Deserialize, Serialize};

/// Version of the JSON document emitted for a model; bumped on incompatible changes.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// A whole database schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Database {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<Schema>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<TypeDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<Sequence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Function>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<Table>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    pub schema: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
}

/// A privilege granted on an object to a role other than its owner.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// Role name, or `PUBLIC`.
    pub grantee: String,
    /// `SELECT`, `INSERT`, `USAGE`, ...
    pub privilege: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub with_grant_option: bool,
}

/// A user-defined type: enum, domain or composite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeDef {
    pub schema: String,
    pub name: String,
    #[serde(flatten)]
    pub kind: TypeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeKind {
    Enum {
        labels: Vec<String>,
    },
    Domain {
        base_type: String,
        #[serde(default, skip_serializing_if = "is_false")]
        not_null: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collation: Option<String>,
        /// Named CHECK constraints: (name, definition as `CHECK (...)`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        checks: Vec<DomainCheck>,
    },
    Composite {
        attributes: Vec<CompositeAttribute>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheck {
    pub name: String,
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeAttribute {
    pub name: String,
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// A free-standing sequence. Sequences behind identity columns belong to the column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub schema: String,
    pub name: String,
    pub data_type: String,
    #[serde(flatten)]
    pub options: SequenceOptions,
    /// `OWNED BY table.column` (as with `serial`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<ColumnRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceOptions {
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cache: i64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub cycle: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColumnRef {
    pub schema: String,
    pub table: String,
    pub column: String,
}

/// A function, procedure or aggregate (aggregates are kept only by signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// Identity arguments, as `pg_get_function_identity_arguments` prints them.
    pub arguments: String,
    pub kind: FunctionKind,
    /// `pg_get_function_result`; absent for procedures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<String>,
    pub language: String,
    pub volatility: Volatility,
    /// The complete `CREATE OR REPLACE ...` statement (`pg_get_functiondef`); absent for aggregates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionKind {
    Function,
    Procedure,
    Aggregate,
    Window,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Volatility {
    Immutable,
    Stable,
    Volatile,
}

/// A table: ordinary, partitioned parent, or partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub schema: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unlogged: bool,
    /// `PARTITION BY ...` clause of a partitioned parent (`pg_get_partkeydef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// Set when this table is a partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<PartitionOf>,
    /// Parents of classic (non-partition) inheritance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<QualifiedName>,
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub rls_enabled: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub rls_forced: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// Storage parameters (`WITH (fillfactor=70)`), as `key=value`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// Only with `--stats`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<TableStats>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    /// `FOR VALUES ...` or `DEFAULT`.
    pub bound: String,
}

/// Volatile figures, present only when asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableStats {
    /// The planner's estimate (`reltuples`); -1 when never analyzed.
    pub estimated_rows: i64,
    pub table_bytes: i64,
    pub indexes_bytes: i64,
    pub total_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// As `format_type` prints it, e.g. `integer`, `character varying(255)`, `public.vector(384)`.
    pub data_type: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    /// Only when it differs from the type's default collation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// False for columns inherited from a parent (partitions, inheritance).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub is_local: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `ALWAYS` or `BY DEFAULT`.
    pub always: bool,
    /// Sequence options when they differ from the defaults for the column's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<SequenceOptions>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generated {
    pub expression: String,
    /// PostgreSQL 18 adds virtual generated columns (the default there); before, all are stored.
    pub stored: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: String,
    #[serde(flatten)]
    pub kind: ConstraintKind,
    /// Full definition as `pg_get_constraintdef` prints it (e.g. `FOREIGN KEY (a) REFERENCES ...`).
    pub definition: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deferrable: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub initially_deferred: bool,
    /// False for constraints added `NOT VALID` and not validated since.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub validated: bool,
    /// False for constraints inherited from a parent table.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub is_local: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey {
        columns: Vec<String>,
    },
    Unique {
        columns: Vec<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        nulls_not_distinct: bool,
    },
    ForeignKey {
        columns: Vec<String>,
        references: QualifiedName,
        referenced_columns: Vec<String>,
        on_update: FkAction,
        on_delete: FkAction,
        match_type: FkMatch,
    },
    Check {
        expression: String,
        #[serde(default, skip_serializing_if = "is_false")]
        no_inherit: bool,
    },
    Exclusion {},
    /// PostgreSQL 18 catalogs NOT NULL as constraints; only those with a non-default name or
    /// state are kept here (a plain `NOT NULL` lives in [`Column::not_null`]).
    NotNull {
        column: String,
        #[serde(default, skip_serializing_if = "is_false")]
        no_inherit: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl FkAction {
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FkMatch {
    Simple,
    Full,
    Partial,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    /// Access method: `btree`, `hash`, `gin`, `gist`, `brin`, `hnsw`, `ivfflat`, ...
    pub method: String,
    /// Key parts, in order.
    pub keys: Vec<IndexKey>,
    /// `INCLUDE (...)` columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub nulls_not_distinct: bool,
    /// Partial index predicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// `WITH (...)` options, as `key=value` (e.g. `m=16`, `lists=100`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// False for an index left INVALID by a failed concurrent build.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub valid: bool,
    /// Name of the constraint this index implements (primary key, unique, exclusion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// Set on a partition's index that is attached to an index of the parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_index: Option<QualifiedName>,
    /// Complete `CREATE INDEX` statement (`pg_get_indexdef`).
    pub definition: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexKey {
    /// A column name, or an expression for expression keys.
    #[serde(flatten)]
    pub target: IndexTarget,
    /// Operator class when it is not the type's default (e.g. `vector_cosine_ops`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub descending: bool,
    /// Only when it differs from the default for the direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexTarget {
    Column(String),
    Expression(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub name: String,
    /// Complete `CREATE TRIGGER` statement (`pg_get_triggerdef`).
    pub definition: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE`, `DELETE`.
    pub command: String,
    /// Role names; `public` when it applies to everyone.
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
}

/// A view or materialized view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub schema: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub materialized: bool,
    /// The query (`pg_get_viewdef`), without the trailing semicolon.
    pub definition: String,
    pub columns: Vec<ViewColumn>,
    /// `WITH (...)` options such as `security_barrier=true`, `check_option=local`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Relations (tables and views) the query reads, for dependency ordering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<QualifiedName>,
    /// Indexes on a materialized view.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewColumn {
    pub name: String,
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}
fn is_true(b: &bool) -> bool {
    *b
}
fn yes() -> bool {
    true
}

impl Table {
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn primary_key(&self) -> Option<&Constraint> {
        self.constraints
            .iter()
            .find(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }))
    }

    /// Foreign keys declared on this table.
    pub fn foreign_keys(&self) -> impl Iterator<Item = (&Constraint, ForeignKeyRef<'_>)> {
        self.constraints.iter().filter_map(|c| match &c.kind {
            ConstraintKind::ForeignKey {
                columns,
                references,
                referenced_columns,
                ..
            } => Some((
                c,
                ForeignKeyRef {
                    columns,
                    references,
                    referenced_columns,
                },
            )),
            _ => None,
        })
    }

    pub fn is_partition(&self) -> bool {
        self.partition_of.is_some()
    }

    /// Columns that are part of the primary key.
    pub fn primary_key_columns(&self) -> &[String] {
        match self.primary_key().map(|c| &c.kind) {
            Some(ConstraintKind::PrimaryKey { columns }) => columns,
            _ => &[],
        }
    }
}

/// Borrowed view of a foreign key's columns.
#[derive(Debug, Clone, Copy)]
pub struct ForeignKeyRef<'a> {
    pub columns: &'a [String],
    pub references: &'a QualifiedName,
    pub referenced_columns: &'a [String],
}

impl View {
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }
}

impl Database {
    /// Sorts every list into the canonical order so that equal schemas compare and serialize equal.
    /// Columns keep their physical order; index keys and constraint columns keep theirs.
    pub fn normalize(&mut self) {
        self.extensions.sort_by(|a, b| a.name.cmp(&b.name));
        self.schemas.sort_by(|a, b| a.name.cmp(&b.name));
        for s in &mut self.schemas {
            s.grants.sort();
        }
        self.types
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.sequences
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for s in &mut self.sequences {
            s.grants.sort();
        }
        self.functions.sort_by(|a, b| {
            (&a.schema, &a.name, &a.arguments).cmp(&(&b.schema, &b.name, &b.arguments))
        });
        self.tables
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for t in &mut self.tables {
            t.constraints.sort_by(|a, b| a.name.cmp(&b.name));
            t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            t.triggers.sort_by(|a, b| a.name.cmp(&b.name));
            t.policies.sort_by(|a, b| a.name.cmp(&b.name));
            t.grants.sort();
            t.options.sort();
        }
        self.views
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for v in &mut self.views {
            v.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            v.depends_on.sort();
            v.depends_on.dedup();
            v.grants.sort();
            v.options.sort();
        }
    }

    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.schema == name.schema && t.name == name.name)
    }

    pub fn view(&self, name: &QualifiedName) -> Option<&View> {
        self.views
            .iter()
            .find(|v| v.schema == name.schema && v.name == name.name)
    }

    /// Counts of each object kind, for summaries.
    pub fn counts(&self) -> ObjectCounts {
        let mut c = ObjectCounts {
            schemas: self.schemas.len(),
            extensions: self.extensions.len(),
            types: self.types.len(),
            sequences: self.sequences.len(),
            functions: self.functions.len(),
            ..Default::default()
        };
        for t in &self.tables {
            if t.is_partition() {
                c.partitions += 1;
            } else {
                c.tables += 1;
            }
            c.columns += t.columns.iter().filter(|col| col.is_local).count();
            c.indexes += t
                .indexes
                .iter()
                .filter(|i| i.parent_index.is_none())
                .count();
            for con in t.constraints.iter().filter(|c| c.is_local) {
                match con.kind {
                    ConstraintKind::ForeignKey { .. } => c.foreign_keys += 1,
                    ConstraintKind::PrimaryKey { .. } => c.primary_keys += 1,
                    _ => c.other_constraints += 1,
                }
            }
            c.triggers += t.triggers.len();
            c.policies += t.policies.len();
        }
        for v in &self.views {
            if v.materialized {
                c.materialized_views += 1;
                c.indexes += v.indexes.len();
            } else {
                c.views += 1;
            }
        }
        c
    }

    /// Keeps only the objects for which `keep` is true (tables, views, sequences, functions,
    /// types), dropping foreign keys that point at removed tables is left to the caller.
    pub fn retain_objects(&mut self, keep: impl Fn(&str, &str) -> bool) {
        self.tables.retain(|t| keep(&t.schema, &t.name));
        self.views.retain(|v| keep(&v.schema, &v.name));
        self.sequences.retain(|s| keep(&s.schema, &s.name));
        self.functions.retain(|f| keep(&f.schema, &f.name));
        self.types.retain(|t| keep(&t.schema, &t.name));
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCounts {
    pub schemas: usize,
    pub extensions: usize,
    pub tables: usize,
    pub partitions: usize,
    pub columns: usize,
    pub primary_keys: usize,
    pub foreign_keys: usize,
    pub other_constraints: usize,
    pub indexes: usize,
    pub views: usize,
    pub materialized_views: usize,
    pub sequences: usize,
    pub functions: usize,
    pub types: usize,
    pub triggers: usize,
    pub policies: usize,
}

/// The pgvector family of a column type, with its dimensions when declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorType {
    pub kind: VectorKind,
    pub dims: Option<u32>,
}

impl Constraint {
    /// A validated, immediate, local constraint without a comment.
    pub fn new(
        name: impl Into<String>,
        kind: ConstraintKind,
        definition: impl Into<String>,
    ) -> Constraint {
        Constraint {
            name: name.into(),
            kind,
            definition: definition.into(),
            deferrable: false,
            initially_deferred: false,
            validated: true,
            is_local: true,
            comment: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorKind {
    Vector,
    Halfvec,
    Sparsevec,
}

impl Column {
    /// A plain local column: nullable, no default, identity, generation, collation or comment.
    pub fn new(name: impl Into<String>, data_type: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            not_null: false,
            default: None,
            identity: None,
            generated: None,
            collation: None,
            is_local: true,
            comment: None,
        }
    }

    /// Recognizes pgvector's types (`vector(384)`, `public.halfvec(1024)`, `sparsevec`).
    pub fn vector_type(&self) -> Option<VectorType> {
        parse_vector_type(&self.data_type)
    }
}

/// Parses a `format_type` string into a pgvector type, if it is one.
pub fn parse_vector_type(data_type: &str) -> Option<VectorType> {
    let unqualified = match data_type.rsplit_once('.') {
        Some((_, t)) if !data_type.contains('(') || data_type.find('.') < data_type.find('(') => t,
        _ => data_type,
    };
    let (base, dims) = match unqualified.split_once('(') {
        Some((b, rest)) => (b, rest.strip_suffix(')')?.trim().parse().ok()),
        None => (unqualified, None),
    };
    let kind = match base {
        "vector" => VectorKind::Vector,
        "halfvec" => VectorKind::Halfvec,
        "sparsevec" => VectorKind::Sparsevec,
        _ => return None,
    };
    Some(VectorType { kind, dims })
}

/// Strips the schema from a type name when it is `public` or `pg_catalog` and shortens
/// PostgreSQL's long spellings (`character varying` → `varchar`), for display only.
pub fn display_type(data_type: &str) -> String {
    let t = data_type
        .strip_prefix("public.")
        .or_else(|| data_type.strip_prefix("pg_catalog."))
        .unwrap_or(data_type);
    const SHORT: &[(&str, &str)] = &[
        ("character varying", "varchar"),
        ("timestamp without time zone", "timestamp"),
        ("timestamp with time zone", "timestamptz"),
        ("time without time zone", "time"),
        ("time with time zone", "timetz"),
        ("double precision", "float8"),
        ("bit varying", "varbit"),
        ("character", "char"),
    ];
    for (long, short) in SHORT {
        if let Some(rest) = t.strip_prefix(long) {
            // `timestamp(3) without time zone` keeps its precision in the middle.
            return format!("{short}{rest}");
        }
    }
    // `timestamp(3) with time zone` → `timestamptz(3)`, `time(0) without time zone` → `time(0)`.
    for (base, with, without) in [
        ("timestamp(", "timestamptz", "timestamp"),
        ("time(", "timetz", "time"),
    ] {
        if let Some((precision, zone)) = t.strip_prefix(base).and_then(|r| r.split_once(')')) {
            match zone {
                " with time zone" => return format!("{with}({precision})"),
                " without time zone" => return format!("{without}({precision})"),
                _ => {}
            }
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_types_are_recognized() {
        assert_eq!(
            parse_vector_type("public.vector(384)"),
            Some(VectorType {
                kind: VectorKind::Vector,
                dims: Some(384)
            })
        );
        assert_eq!(
            parse_vector_type("halfvec(3000)").map(|v| v.kind),
            Some(VectorKind::Halfvec)
        );
        assert_eq!(parse_vector_type("sparsevec").unwrap().dims, None);
        assert_eq!(parse_vector_type("integer"), None);
        assert_eq!(parse_vector_type("public.vectors"), None);
    }

    #[test]
    fn display_types_are_short() {
        assert_eq!(display_type("character varying(255)"), "varchar(255)");
        assert_eq!(display_type("timestamp with time zone"), "timestamptz");
        assert_eq!(display_type("public.vector(384)"), "vector(384)");
        assert_eq!(display_type("myschema.mood"), "myschema.mood");
        assert_eq!(
            display_type("timestamp(3) with time zone"),
            "timestamptz(3)"
        );
    }
}
