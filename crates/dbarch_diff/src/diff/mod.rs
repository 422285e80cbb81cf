//! `diff(from, to)`: the changes that turn one model into the other, in an order PostgreSQL
//! accepts.
//!
//! Each object kind has its module; they all push into [`Out`], which sorts changes into
//! [`Phase`]s. The phases encode the dependency order between kinds (drops of dependents
//! before what they depend on, creations the other way round); within a phase, modules push
//! in the order that kind needs (views and tables topologically). Pure drops of types,
//! functions, sequences, extensions and schemas come last, after every column that used them
//! has been changed.

mod comments;
mod constraints;
mod indexes;
mod lookup;
mod objects;
mod renames;
mod security;
mod tables;
mod types;
mod views;

pub(crate) use renames::replace_ident;

use crate::change::{Change, ObjectRef};
use dbarch_model::{Database, QualifiedName};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::str::FromStr;

/// What [`diff`] may do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffOptions {
    /// Allow changes that lose data or may fail on existing rows (drop table or column, type
    /// narrowing, enum value removal).
    pub allow_destructive: bool,
    /// Renames confirmed by the user. Renames are never inferred: without one, a table or
    /// column that disappears under one name and appears under another is dropped and created.
    pub renames: Vec<Rename>,
}

/// A confirmed rename (`--rename old=new`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
pub enum Rename {
    /// A table renamed within its schema.
    Table {
        from: QualifiedName,
        to: QualifiedName,
    },
    /// A column renamed; `table` is the table's name in the target model.
    Column {
        table: QualifiedName,
        from: String,
        to: String,
    },
}

impl FromStr for Rename {
    type Err = DiffError;

    /// `table=new`, `schema.table=new` (tables) or `schema.table.column=new` (columns). The
    /// schema defaults to `public`; names are taken literally (no quoting).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| DiffError::BadRename {
            rename: s.to_string(),
            reason: reason.to_string(),
        };
        let (old, new) = s
            .split_once('=')
            .ok_or_else(|| bad("expected OLD=NEW, e.g. app.users=customers"))?;
        let new = new.trim();
        if new.is_empty() || new.contains('.') {
            return Err(bad("the new name is a bare name, without a schema"));
        }
        let parts: Vec<&str> = old.trim().split('.').collect();
        match parts.as_slice() {
            [t] => Ok(Rename::Table {
                from: QualifiedName::new("public", *t),
                to: QualifiedName::new("public", new),
            }),
            [s, t] => Ok(Rename::Table {
                from: QualifiedName::new(*s, *t),
                to: QualifiedName::new(*s, new),
            }),
            [s, t, c] => Ok(Rename::Column {
                table: QualifiedName::new(*s, *t),
                from: c.to_string(),
                to: new.to_string(),
            }),
            _ => Err(bad("expected [schema.]table or schema.table.column")),
        }
    }
}

/// Why no change list could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    #[error("refusing {} destructive change(s): {}\n{help}", changes.len(), changes.join("; "))]
    Destructive { changes: Vec<String>, help: String },
    #[error("rename {rename}: {reason}")]
    BadRename { rename: String, reason: String },
    #[error("cannot migrate {object}: {reason}")]
    Unsupported { object: String, reason: String },
}

const DESTRUCTIVE_HELP: &str = "\
These changes lose data or can fail on existing rows. Deprecate first (expand/contract): \
stop writing and reading the old column or table in the application and deploy that; add the \
new shape next to the old one and backfill it; drop the old shape in a later migration, once \
nothing uses it. For a narrowing type change, add a new column of the new type, backfill and \
switch over. Pass --allow-destructive (allow_destructive) when the loss is intended. For a \
rename, confirm it with --rename old=new instead of letting it become drop + create.";

/// The changes that turn `from` into `to`, dependency-ordered.
pub fn diff(from: &Database, to: &Database, opts: &DiffOptions) -> Result<Vec<Change>, DiffError> {
    let mut out = Out::default();
    let renamed;
    let from = if opts.renames.is_empty() {
        from
    } else {
        renamed = renames::apply(from, to, &opts.renames, &mut out)?;
        &renamed
    };
    let m = lookup::Models::new(from, to);
    objects::diff(&m, &mut out);
    types::diff(&m, &mut out);
    tables::diff(&m, &mut out)?;
    views::diff(&m, &mut out);
    security::diff(&m, &mut out);
    comments::diff(&m, &mut out);
    let changes = out.into_changes();
    if !opts.allow_destructive {
        let destructive: Vec<String> = changes
            .iter()
            .filter(|c| c.is_destructive())
            .map(Change::describe)
            .collect();
        if !destructive.is_empty() {
            return Err(DiffError::Destructive {
                changes: destructive,
                help: DESTRUCTIVE_HELP.to_string(),
            });
        }
    }
    Ok(changes)
}

/// The order of kinds of changes. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Renames first: every later change names objects by their new names.
    Rename,
    DropTrigger,
    DropPolicy,
    /// Views in reverse dependency order, before the tables and columns they read.
    DropView,
    /// Foreign keys before the keys and tables they reference.
    DropForeignKey,
    /// Tables once nothing references them (and before their columns' keys and indexes are
    /// touched, which their own foreign keys might rest on).
    DropTable,
    DropIndex,
    /// Other constraints, and defaults (which may use functions dropped at the end).
    DropConstraint,
    DropColumn,
    /// Functions dropped to be created again with another signature or result.
    RecreateDropFunction,
    CreateSchema,
    CreateExtension,
    CreateType,
    CreateSequence,
    CreateFunction,
    CreateTable,
    AlterColumn,
    SequenceOwner,
    AddConstraint,
    CreateIndex,
    /// Foreign keys last among constraints: the keys they reference exist by then.
    AddForeignKey,
    CreateView,
    /// SQL-standard bodies are parsed at creation: after the tables and views they read.
    LateFunction,
    CreateTrigger,
    RowLevelSecurity,
    CreatePolicy,
    Comment,
    Grant,
    DropFunction,
    DropSequence,
    DropType,
    DropExtension,
    DropSchema,
}

/// The changes found so far, by phase, and what later modules need to know.
#[derive(Debug, Default)]
pub(crate) struct Out {
    changes: Vec<(Phase, Change)>,
    /// Objects dropped and created again: their comments and grants must be set again.
    pub recreated: HashSet<ObjectRef>,
    /// Tables whose columns are dropped or change type: views reading them are recreated.
    pub altered_tables: HashSet<QualifiedName>,
}

impl Out {
    pub fn push(&mut self, phase: Phase, change: Change) {
        self.changes.push((phase, change));
    }

    /// Stable by phase: the order of pushes within a phase is kept.
    fn into_changes(mut self) -> Vec<Change> {
        self.changes.sort_by_key(|(p, _)| *p);
        self.changes.into_iter().map(|(_, c)| c).collect()
    }
}
