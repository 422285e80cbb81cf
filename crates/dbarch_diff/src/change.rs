//! [`Change`]: one schema change, the unit shared by the differ, the planner and (later) the
//! linter, the runner and the MCP server.
//!
//! A change carries the model objects it needs (the whole [`Table`] for a creation, the old
//! object for a drop), so that it can be planned, reversed, linted or explained without the two
//! models it came from.

use dbarch_model::*;
use serde::Serialize;
use std::fmt;

/// One schema change. Serialized with a `kind` tag in snake case (`{"kind": "add_column", ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    CreateSchema {
        schema: Schema,
    },
    DropSchema {
        schema: Schema,
    },
    CreateExtension {
        extension: Extension,
    },
    DropExtension {
        extension: Extension,
    },
    UpdateExtension {
        name: String,
        from_version: String,
        to_version: String,
    },
    CreateType {
        type_def: TypeDef,
    },
    DropType {
        type_def: TypeDef,
    },
    /// `ALTER TYPE ... ADD VALUE`: the only enum change PostgreSQL does in place.
    AddEnumValue {
        type_name: QualifiedName,
        value: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        position: Option<EnumPosition>,
    },
    /// A type that cannot be altered in place (enum values removed or reordered, a domain or
    /// composite changed): renamed away, created anew, columns converted, old type dropped.
    RecreateType {
        old: TypeDef,
        new: TypeDef,
        /// Columns of existing tables that use the type (converted through `::text`).
        columns: Vec<TypedColumn>,
    },
    CreateSequence {
        sequence: Sequence,
    },
    DropSequence {
        sequence: Sequence,
    },
    /// Type or options of a sequence (not its owner: see [`Change::SetSequenceOwner`]).
    AlterSequence {
        old: Sequence,
        new: Sequence,
    },
    /// `OWNED BY`: separate because the owning column may be created after the sequence.
    SetSequenceOwner {
        sequence: QualifiedName,
        from: Option<ColumnRef>,
        to: Option<ColumnRef>,
    },
    CreateFunction {
        function: Function,
    },
    DropFunction {
        function: Function,
    },
    /// `CREATE OR REPLACE` (same signature, kind and result type).
    ReplaceFunction {
        old: Function,
        new: Function,
    },
    /// A new table with its inline constraints and its own (non-partitioned) indexes.
    CreateTable {
        table: Table,
    },
    DropTable {
        table: Table,
    },
    /// Only from an explicit rename option, never inferred.
    RenameTable {
        from: QualifiedName,
        to: QualifiedName,
        /// Columns with a plain NOT NULL: on PostgreSQL 18 their constraints are named after
        /// the table (`<table>_<column>_not_null`) and are renamed with it.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        not_null_columns: Vec<String>,
    },
    /// Only from an explicit rename option, never inferred.
    RenameColumn {
        table: QualifiedName,
        from: String,
        to: String,
        /// A plain NOT NULL, whose PostgreSQL 18 constraint name follows the column's.
        not_null: bool,
    },
    AddColumn {
        table: QualifiedName,
        column: Column,
    },
    DropColumn {
        table: QualifiedName,
        column: Column,
    },
    AlterColumnType {
        table: QualifiedName,
        column: String,
        from: ColumnType,
        to: ColumnType,
    },
    SetDefault {
        table: QualifiedName,
        column: String,
        from: Option<String>,
        to: String,
    },
    DropDefault {
        table: QualifiedName,
        column: String,
        from: String,
    },
    SetNotNull {
        table: QualifiedName,
        column: String,
    },
    DropNotNull {
        table: QualifiedName,
        column: String,
    },
    /// Identity added, removed or altered.
    SetIdentity {
        table: QualifiedName,
        column: String,
        data_type: String,
        from: Option<Identity>,
        to: Option<Identity>,
    },
    /// Storage parameters (`WITH (fillfactor=...)`).
    SetStorageParameters {
        table: QualifiedName,
        from: Vec<String>,
        to: Vec<String>,
    },
    AddConstraint {
        table: QualifiedName,
        constraint: Constraint,
        /// The index behind a primary key, unique or exclusion constraint, from the target
        /// model: the online form builds it concurrently first.
        #[serde(skip_serializing_if = "Option::is_none")]
        index: Option<Index>,
        /// The table is created by the same migration: nobody uses it, plain forms are fine.
        new_table: bool,
    },
    DropConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    /// A constraint that was `NOT VALID` becomes valid (the target's constraint is carried, so
    /// that the reverse can make it `NOT VALID` again).
    ValidateConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    CreateIndex {
        /// The table or materialized view.
        table: QualifiedName,
        index: Index,
        /// For an index of a partitioned table: the partitions' indexes attached to it.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        partitions: Vec<PartitionIndex>,
        new_table: bool,
    },
    DropIndex {
        table: QualifiedName,
        index: Index,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        partitions: Vec<PartitionIndex>,
    },
    /// A view or materialized view (with its indexes).
    CreateView {
        view: View,
    },
    DropView {
        view: View,
    },
    /// `CREATE OR REPLACE VIEW`: same leading columns, new ones only appended.
    ReplaceView {
        old: View,
        new: View,
    },
    CreateTrigger {
        table: QualifiedName,
        trigger: Trigger,
    },
    DropTrigger {
        table: QualifiedName,
        trigger: Trigger,
    },
    SetTriggerEnabled {
        table: QualifiedName,
        name: String,
        enabled: bool,
    },
    SetRowLevelSecurity {
        table: QualifiedName,
        enabled: bool,
    },
    SetForceRowLevelSecurity {
        table: QualifiedName,
        forced: bool,
    },
    CreatePolicy {
        table: QualifiedName,
        policy: Policy,
    },
    DropPolicy {
        table: QualifiedName,
        policy: Policy,
    },
    SetComment {
        object: ObjectRef,
        from: Option<String>,
        to: Option<String>,
    },
    Grant {
        object: ObjectRef,
        grant: Grant,
    },
    Revoke {
        object: ObjectRef,
        grant: Grant,
    },
}

/// Where `ADD VALUE` puts a new enum label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnumPosition {
    Before(String),
    After(String),
}

/// A column's type and collation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnType {
    pub data_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// A column that uses a type being recreated, with what must be put back after conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypedColumn {
    pub table: QualifiedName,
    pub column: String,
    /// The column's type as printed (the type itself or an array of it).
    pub data_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A partition's index attached to an index of its partitioned parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionIndex {
    pub table: QualifiedName,
    pub index: Index,
}

/// An object that can carry a comment or grants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "object", rename_all = "snake_case")]
pub enum ObjectRef {
    Schema {
        name: String,
    },
    Type {
        name: QualifiedName,
        domain: bool,
    },
    Sequence {
        name: QualifiedName,
    },
    Function {
        name: QualifiedName,
        arguments: String,
        procedure: bool,
    },
    Table {
        name: QualifiedName,
    },
    /// A column of a table or view.
    Column {
        relation: QualifiedName,
        column: String,
    },
    Constraint {
        table: QualifiedName,
        name: String,
    },
    Index {
        name: QualifiedName,
    },
    Trigger {
        table: QualifiedName,
        name: String,
    },
    View {
        name: QualifiedName,
        materialized: bool,
    },
}

impl ObjectRef {
    /// The object as `COMMENT ON` designates it (`TABLE app.t`, `COLUMN app.t.c`, ...).
    pub fn sql(&self) -> String {
        match self {
            ObjectRef::Schema { name } => format!("SCHEMA {}", quote_ident(name)),
            ObjectRef::Type { name, domain } => {
                format!("{} {}", if *domain { "DOMAIN" } else { "TYPE" }, name.sql())
            }
            ObjectRef::Sequence { name } => format!("SEQUENCE {}", name.sql()),
            ObjectRef::Function {
                name,
                arguments,
                procedure,
            } => format!(
                "{} {}({arguments})",
                if *procedure { "PROCEDURE" } else { "FUNCTION" },
                name.sql()
            ),
            ObjectRef::Table { name } => format!("TABLE {}", name.sql()),
            ObjectRef::Column { relation, column } => {
                format!("COLUMN {}.{}", relation.sql(), quote_ident(column))
            }
            ObjectRef::Constraint { table, name } => {
                format!("CONSTRAINT {} ON {}", quote_ident(name), table.sql())
            }
            ObjectRef::Index { name } => format!("INDEX {}", name.sql()),
            ObjectRef::Trigger { table, name } => {
                format!("TRIGGER {} ON {}", quote_ident(name), table.sql())
            }
            ObjectRef::View { name, materialized } => format!(
                "{} {}",
                if *materialized {
                    "MATERIALIZED VIEW"
                } else {
                    "VIEW"
                },
                name.sql()
            ),
        }
    }

    /// The object as `GRANT ... ON` designates it (views and sequences: `TABLE`/`SEQUENCE`).
    pub fn grant_target(&self) -> String {
        match self {
            ObjectRef::View { name, .. } => format!("TABLE {}", name.sql()),
            other => other.sql(),
        }
    }

    /// The relation whose lock a comment or grant takes, if any.
    pub fn relation(&self) -> Option<&QualifiedName> {
        match self {
            ObjectRef::Table { name } | ObjectRef::View { name, .. } => Some(name),
            ObjectRef::Column { relation, .. } => Some(relation),
            ObjectRef::Constraint { table, .. } | ObjectRef::Trigger { table, .. } => Some(table),
            _ => None,
        }
    }
}

impl Change {
    /// True for changes that lose data or may fail on existing rows: refused unless
    /// `allow_destructive`.
    pub fn is_destructive(&self) -> bool {
        match self {
            Change::DropTable { .. } => true,
            // A generated column's data is derived: dropping it loses nothing.
            Change::DropColumn { column, .. } => column.generated.is_none(),
            Change::AlterColumnType { from, to, .. } => {
                crate::coercion::classify(&from.data_type, &to.data_type)
                    == crate::coercion::Conversion::Narrowing
            }
            Change::RecreateType { old, .. } => matches!(old.kind, TypeKind::Enum { .. }),
            _ => false,
        }
    }

    /// A one-line description for messages and plan comments.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateSchema { schema } => write!(f, "create schema {}", schema.name),
            Change::DropSchema { schema } => write!(f, "drop schema {}", schema.name),
            Change::CreateExtension { extension } => {
                write!(f, "create extension {}", extension.name)
            }
            Change::DropExtension { extension } => write!(f, "drop extension {}", extension.name),
            Change::UpdateExtension {
                name,
                from_version,
                to_version,
            } => write!(
                f,
                "update extension {name} from {from_version} to {to_version}"
            ),
            Change::CreateType { type_def } => {
                write!(f, "create type {}.{}", type_def.schema, type_def.name)
            }
            Change::DropType { type_def } => {
                write!(f, "drop type {}.{}", type_def.schema, type_def.name)
            }
            Change::AddEnumValue {
                type_name, value, ..
            } => write!(f, "add value '{value}' to enum {type_name}"),
            Change::RecreateType { old, new, .. } => {
                let what = match (&old.kind, &new.kind) {
                    (TypeKind::Enum { labels: a }, TypeKind::Enum { labels: b }) => {
                        let removed: Vec<&str> = a
                            .iter()
                            .filter(|l| !b.contains(l))
                            .map(String::as_str)
                            .collect();
                        if removed.is_empty() {
                            "reorder the values of enum".to_string()
                        } else {
                            format!("remove value(s) {} from enum", removed.join(", "))
                        }
                    }
                    _ => "recreate type".to_string(),
                };
                write!(f, "{what} {}.{}", old.schema, old.name)
            }
            Change::CreateSequence { sequence } => {
                write!(f, "create sequence {}.{}", sequence.schema, sequence.name)
            }
            Change::DropSequence { sequence } => {
                write!(f, "drop sequence {}.{}", sequence.schema, sequence.name)
            }
            Change::AlterSequence { new, .. } => {
                write!(f, "alter sequence {}.{}", new.schema, new.name)
            }
            Change::SetSequenceOwner { sequence, to, .. } => match to {
                Some(c) => write!(
                    f,
                    "sequence {sequence} owned by {}.{}.{}",
                    c.schema, c.table, c.column
                ),
                None => write!(f, "sequence {sequence} owned by nothing"),
            },
            Change::CreateFunction { function } => write!(
                f,
                "create function {}.{}({})",
                function.schema, function.name, function.arguments
            ),
            Change::DropFunction { function } => write!(
                f,
                "drop function {}.{}({})",
                function.schema, function.name, function.arguments
            ),
            Change::ReplaceFunction { new, .. } => write!(
                f,
                "replace function {}.{}({})",
                new.schema, new.name, new.arguments
            ),
            Change::CreateTable { table } => {
                write!(f, "create table {}.{}", table.schema, table.name)
            }
            Change::DropTable { table } => write!(f, "drop table {}.{}", table.schema, table.name),
            Change::RenameTable { from, to, .. } => write!(f, "rename table {from} to {}", to.name),
            Change::RenameColumn {
                table, from, to, ..
            } => {
                write!(f, "rename column {table}.{from} to {to}")
            }
            Change::AddColumn { table, column } => {
                write!(f, "add column {table}.{} {}", column.name, column.data_type)
            }
            Change::DropColumn { table, column } => {
                write!(f, "drop column {table}.{}", column.name)
            }
            Change::AlterColumnType {
                table,
                column,
                from,
                to,
            } => write!(
                f,
                "change type of {table}.{column} from {} to {}",
                from.data_type, to.data_type
            ),
            Change::SetDefault {
                table, column, to, ..
            } => write!(f, "set default of {table}.{column} to {to}"),
            Change::DropDefault { table, column, .. } => {
                write!(f, "drop default of {table}.{column}")
            }
            Change::SetNotNull { table, column } => write!(f, "set {table}.{column} NOT NULL"),
            Change::DropNotNull { table, column } => {
                write!(f, "drop NOT NULL of {table}.{column}")
            }
            Change::SetIdentity { table, column, .. } => {
                write!(f, "change identity of {table}.{column}")
            }
            Change::SetStorageParameters { table, .. } => {
                write!(f, "change storage parameters of {table}")
            }
            Change::AddConstraint {
                table, constraint, ..
            } => write!(f, "add constraint {} on {table}", constraint.name),
            Change::DropConstraint { table, constraint } => {
                write!(f, "drop constraint {} on {table}", constraint.name)
            }
            Change::ValidateConstraint { table, constraint } => {
                write!(f, "validate constraint {} on {table}", constraint.name)
            }
            Change::CreateIndex { table, index, .. } => {
                write!(f, "create index {} on {table}", index.name)
            }
            Change::DropIndex { table, index, .. } => {
                write!(f, "drop index {} on {table}", index.name)
            }
            Change::CreateView { view } => write!(
                f,
                "create {} {}.{}",
                view_kind(view.materialized),
                view.schema,
                view.name
            ),
            Change::DropView { view } => write!(
                f,
                "drop {} {}.{}",
                view_kind(view.materialized),
                view.schema,
                view.name
            ),
            Change::ReplaceView { new, .. } => {
                write!(f, "replace view {}.{}", new.schema, new.name)
            }
            Change::CreateTrigger { table, trigger } => {
                write!(f, "create trigger {} on {table}", trigger.name)
            }
            Change::DropTrigger { table, trigger } => {
                write!(f, "drop trigger {} on {table}", trigger.name)
            }
            Change::SetTriggerEnabled {
                table,
                name,
                enabled,
            } => write!(
                f,
                "{} trigger {name} on {table}",
                if *enabled { "enable" } else { "disable" }
            ),
            Change::SetRowLevelSecurity { table, enabled } => write!(
                f,
                "{} row level security on {table}",
                if *enabled { "enable" } else { "disable" }
            ),
            Change::SetForceRowLevelSecurity { table, forced } => write!(
                f,
                "{} row level security on {table}",
                if *forced { "force" } else { "no force" }
            ),
            Change::CreatePolicy { table, policy } => {
                write!(f, "create policy {} on {table}", policy.name)
            }
            Change::DropPolicy { table, policy } => {
                write!(f, "drop policy {} on {table}", policy.name)
            }
            Change::SetComment { object, to, .. } => match to {
                Some(_) => write!(f, "comment on {}", object.sql()),
                None => write!(f, "remove comment on {}", object.sql()),
            },
            Change::Grant { object, grant } => write!(
                f,
                "grant {} on {} to {}",
                grant.privilege,
                object.grant_target(),
                grant.grantee
            ),
            Change::Revoke { object, grant } => write!(
                f,
                "revoke {} on {} from {}",
                grant.privilege,
                object.grant_target(),
                grant.grantee
            ),
        }
    }
}

fn view_kind(materialized: bool) -> &'static str {
    if materialized {
        "materialized view"
    } else {
        "view"
    }
}
