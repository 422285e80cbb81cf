//! Zero-downtime expand/contract (`migrate plan --online`): a confirmed column rename, or a
//! column type change that rewrites the table (`integer` → `bigint`, `text` → `integer`,
//! `varchar(n)` narrowing), becomes two migrations instead of one in-place `ALTER`.
//!
//! **Expand** (applied now, while the old application version runs):
//! 1. in one transaction: `ADD COLUMN` of the new column (nullable, without default: a catalog
//!    change), a PL/pgSQL function and a `BEFORE INSERT OR UPDATE OF old, new` trigger keeping
//!    the two columns in sync in both directions (see [`sync_function`]);
//! 2. a `-- dbarch:backfill` directive: the runner fills the new column of the existing rows
//!    with dbarch's backfill engine (keyset batches, resumable, throttled);
//! 3. the new column's NOT NULL, proven online (`NOT NULL ... NOT VALID` + `VALIDATE` on
//!    PostgreSQL 18, a validated `CHECK` before);
//! 4. the target's indexes on the column, built `CONCURRENTLY` under temporary names.
//!
//! For a type change without rename the new column has a temporary name
//! (`<column>_dbarch_new`); for a rename it has its final name.
//!
//! **Contract** (applied once every application instance uses the new column): in one
//! transaction, the trigger and function dropped, the old column dropped, the new column
//! renamed to its final name (type change), the indexes renamed to their final names, the
//! default set; then the target's CHECK and foreign key constraints on the column, added
//! `NOT VALID` and validated. Its down migration is the mirror image: the old column added
//! back, synced, backfilled from the new one, its NOT NULL, indexes and constraints restored.
//!
//! Changes that cannot be expanded this way (identity or generated columns, primary key,
//! unique or exclusion constraint columns, partitioned tables, tables without a primary key,
//! tables read by views) keep their in-place form, with a note saying why.

use super::locks::LockMode::*;
use super::online::{self, truncate};
use super::steps::{self, join, q};
use super::{Hazard, Plan, PlanContext, Step};
use crate::change::Change;
use crate::coercion::{Conversion, classify};
use crate::diff::replace_ident;
use dbarch_model::*;

/// The first line of a backfill directive.
pub const BACKFILL_DIRECTIVE: &str = "-- dbarch:backfill";

/// The migrations of an expand/contract plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Staged {
    /// Every change: the expanded ones in their expand form, the others as [`super::plan`]
    /// plans them.
    pub expand: Plan,
    /// The contract steps (empty when nothing was expanded).
    pub contract: Plan,
    /// The contract's down migration: the old columns added back, synced and backfilled.
    pub contract_down: Plan,
    /// One line per expanded change, and per change left in place with the reason.
    pub notes: Vec<String>,
}

impl Staged {
    /// The expand migration's script.
    pub fn expand_sql(&self) -> String {
        let sql = self.expand.to_sql();
        if self.contract.is_empty() {
            return sql;
        }
        sql.replacen("-- dbarch migration:", "-- dbarch migration (expand):", 1)
    }

    /// The expand migration's down script.
    pub fn expand_down_sql(&self) -> String {
        self.expand.reverse_sql()
    }

    /// The contract migration's script, headed by the warning to apply it late.
    pub fn contract_sql(&self) -> String {
        let body = self.contract.to_sql();
        let rest = body.split_once('\n').map_or("", |(_, r)| r);
        format!(
            "-- dbarch migration (contract): {} step(s)\n\
             -- Apply this migration only after every application instance reads and writes the\n\
             -- new column(s): it drops the old ones and the sync triggers. Until then, keep it\n\
             -- unapplied (e.g. `dbarch migrate up --to <the expand version>`).\n{rest}",
            self.contract.steps.len()
        )
    }

    /// The contract migration's down script.
    pub fn contract_down_sql(&self) -> String {
        let body = self.contract_down.to_sql();
        let rest = body.split_once('\n').map_or("", |(_, r)| r);
        format!(
            "-- dbarch down migration (contract): adds the old column(s) back, synced and \
             backfilled from the new one(s)\n{rest}"
        )
    }
}

/// One column to expand.
struct Expansion {
    /// The change the expand steps take the place of (the rename, else the type change).
    at: usize,
    table: QualifiedName,
    /// The old column as the source has it.
    old: Column,
    /// The column as the target wants it (final name).
    new: Column,
    /// The new column's name while both exist.
    tmp: String,
    /// Target indexes on the column: (index, temporary name).
    new_indexes: Vec<(Index, String)>,
    /// Source indexes on the old column.
    old_indexes: Vec<Index>,
    /// Target CHECK and foreign keys on the column.
    new_constraints: Vec<Constraint>,
    /// Source CHECK and foreign keys on the old column.
    old_constraints: Vec<Constraint>,
    /// Sequences owned by the old column (serial): moved to the new one before the drop.
    sequences: Vec<QualifiedName>,
}

impl Expansion {
    fn function(&self) -> QualifiedName {
        QualifiedName::new(
            &self.table.schema,
            truncate(format!(
                "_dbarch_sync_{}_{}",
                self.table.name, self.old.name
            )),
        )
    }

    fn trigger(&self) -> String {
        truncate(format!("_dbarch_sync_{}", self.old.name))
    }
}

fn mentions(sql: &str, column: &str) -> bool {
    replace_ident(sql, column, "\u{1}x") != sql
}

fn index_uses(i: &Index, column: &str) -> bool {
    i.keys.iter().any(|k| match &k.target {
        IndexTarget::Column(c) => c == column,
        IndexTarget::Expression(e) => mentions(e, column),
    }) || i.include.iter().any(|c| c == column)
        || i.predicate.as_deref().is_some_and(|p| mentions(p, column))
}

fn constraint_uses(c: &Constraint, column: &str) -> bool {
    match &c.kind {
        ConstraintKind::PrimaryKey { columns }
        | ConstraintKind::Unique { columns, .. }
        | ConstraintKind::ForeignKey { columns, .. } => columns.iter().any(|x| x == column),
        ConstraintKind::NotNull { column: x, .. } => x == column,
        ConstraintKind::Check { expression, .. } => mentions(expression, column),
        ConstraintKind::Exclusion {} => mentions(&c.definition, column),
    }
}

/// Why a column cannot be expanded, if it cannot.
fn refusal(
    from: &Database,
    to: &Database,
    table: &QualifiedName,
    old: &str,
    new: &str,
) -> Result<(), String> {
    let (Some(ft), Some(tt)) = (from.table(table), to.table(table)) else {
        return Err("the table is renamed or new".into());
    };
    let (Some(oc), Some(nc)) = (ft.column(old), tt.column(new)) else {
        return Err("column not found".into());
    };
    if oc.identity.is_some() || nc.identity.is_some() {
        return Err("identity column".into());
    }
    if oc.generated.is_some() || nc.generated.is_some() {
        return Err("generated column".into());
    }
    if !oc.is_local {
        return Err("inherited column".into());
    }
    if ft.partition_key.is_some() || ft.partition_of.is_some() || !ft.inherits.is_empty() {
        return Err("partitioned or inherited table".into());
    }
    let pk = |t: &Table| {
        t.constraints
            .iter()
            .any(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }))
    };
    if !pk(ft) {
        return Err("no primary key (the backfill pages by it)".into());
    }
    let keyed = |t: &Table, col: &str| {
        t.constraints.iter().any(|c| {
            matches!(
                c.kind,
                ConstraintKind::PrimaryKey { .. }
                    | ConstraintKind::Unique { .. }
                    | ConstraintKind::Exclusion {}
                    | ConstraintKind::NotNull { .. }
            ) && constraint_uses(c, col)
        })
    };
    if keyed(ft, old) || keyed(tt, new) {
        return Err(
            "the column is in a primary key, unique, exclusion or named NOT NULL constraint".into(),
        );
    }
    let referenced = |db: &Database, col: &str| {
        db.tables.iter().any(|t| {
            t.constraints.iter().any(|c| {
                matches!(&c.kind, ConstraintKind::ForeignKey { references, referenced_columns, .. }
                    if references == table && referenced_columns.iter().any(|x| x == col))
            })
        })
    };
    if referenced(from, old) || referenced(to, new) {
        return Err("foreign keys reference the column".into());
    }
    if from
        .views
        .iter()
        .chain(&to.views)
        .any(|v| v.depends_on.contains(table))
    {
        return Err("views read the table".into());
    }
    if ft
        .triggers
        .iter()
        .chain(&tt.triggers)
        .any(|t| mentions(&t.definition, old) || mentions(&t.definition, new))
    {
        return Err("a trigger names the column".into());
    }
    if ft.policies.iter().chain(&tt.policies).any(|p| {
        let text = format!(
            "{} {}",
            p.using.as_deref().unwrap_or(""),
            p.with_check.as_deref().unwrap_or("")
        );
        mentions(&text, old) || mentions(&text, new)
    }) {
        return Err("a policy names the column".into());
    }
    Ok(())
}

fn expansion(
    from: &Database,
    to: &Database,
    at: usize,
    table: &QualifiedName,
    old: &str,
    new: &str,
) -> Result<Expansion, String> {
    refusal(from, to, table, old, new)?;
    // `refusal` checked these exist; a missing one keeps the in-place form rather than panic.
    let missing = || format!("{}.{old} is not in both schemas", table.name);
    let (ft, tt) = (
        from.table(table).ok_or_else(missing)?,
        to.table(table).ok_or_else(missing)?,
    );
    let old_col = ft.column(old).ok_or_else(missing)?.clone();
    let new_col = tt.column(new).ok_or_else(missing)?.clone();
    let tmp = if old == new {
        truncate(format!("{new}_dbarch_new"))
    } else {
        new.to_string()
    };
    let is_check_or_fk = |c: &&Constraint| {
        matches!(
            c.kind,
            ConstraintKind::Check { .. } | ConstraintKind::ForeignKey { .. }
        )
    };
    Ok(Expansion {
        at,
        table: table.clone(),
        new_indexes: tt
            .indexes
            .iter()
            .filter(|i| i.constraint.is_none() && index_uses(i, new))
            .map(|i| (i.clone(), truncate(format!("{}_dbarch", i.name))))
            .collect(),
        old_indexes: ft
            .indexes
            .iter()
            .filter(|i| i.constraint.is_none() && index_uses(i, old))
            .cloned()
            .collect(),
        new_constraints: tt
            .constraints
            .iter()
            .filter(is_check_or_fk)
            .filter(|c| constraint_uses(c, new))
            .cloned()
            .collect(),
        old_constraints: ft
            .constraints
            .iter()
            .filter(is_check_or_fk)
            .filter(|c| constraint_uses(c, old))
            .cloned()
            .collect(),
        sequences: from
            .sequences
            .iter()
            .filter(|s| {
                s.owned_by.as_ref().is_some_and(|o| {
                    o.schema == table.schema && o.table == table.name && o.column == old
                })
            })
            .map(|s| QualifiedName::new(&s.schema, &s.name))
            .collect(),
        old: old_col,
        new: new_col,
        tmp,
    })
}

fn type_sql(c: &Column) -> String {
    match &c.collation {
        Some(coll) => format!("{} COLLATE {coll}", c.data_type),
        None => c.data_type.clone(),
    }
}

/// `expr` converted from type `from` to type `to` (as `ALTER ... TYPE ... USING` would).
fn cast(expr: &str, from: &str, to: &str) -> String {
    if from == to {
        expr.to_string()
    } else {
        format!("{expr}::{to}")
    }
}

/// The sync trigger's function for the pair (`old` existing, `new` added).
///
/// - INSERT: the new column has no default while both exist, so a value in it was written by
///   a writer of the new column: it wins and fills the old one; otherwise the old one fills it.
/// - UPDATE (the trigger fires only for UPDATEs naming one of the two columns, `UPDATE OF`):
///   the column whose value changed fills the other; a new value that already equals the old
///   one converted (the backfill's own UPDATE) leaves the old one alone, so that a lossy
///   reverse conversion never rewrites old data.
///
/// A BEFORE trigger changes only `NEW`: it issues no statement, so it cannot loop.
fn sync_function(f: &QualifiedName, old: &Column, new_name: &str, new: &Column) -> String {
    let (o, n) = (
        format!("NEW.{}", q(&old.name)),
        format!("NEW.{}", q(new_name)),
    );
    let (oo, on) = (
        format!("OLD.{}", q(&old.name)),
        format!("OLD.{}", q(new_name)),
    );
    let fwd = cast(&o, &old.data_type, &new.data_type);
    let rev = cast(&n, &new.data_type, &old.data_type);
    format!(
        "CREATE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $dbarch$\n\
         BEGIN\n\
         \x20 IF TG_OP = 'INSERT' THEN\n\
         \x20   IF {n} IS NULL THEN\n\
         \x20     {n} := {fwd};\n\
         \x20   ELSE\n\
         \x20     {o} := {rev};\n\
         \x20   END IF;\n\
         \x20 ELSIF {n} IS DISTINCT FROM {on} THEN\n\
         \x20   IF {n} IS DISTINCT FROM {fwd} THEN\n\
         \x20     {o} := {rev};\n\
         \x20   END IF;\n\
         \x20 ELSIF {o} IS DISTINCT FROM {oo} THEN\n\
         \x20   {n} := {fwd};\n\
         \x20 END IF;\n\
         \x20 RETURN NEW;\n\
         END\n\
         $dbarch$",
        f = f.sql()
    )
}

fn create_trigger(x: &Expansion, a: &str, b: &str) -> String {
    format!(
        "CREATE TRIGGER {} BEFORE INSERT OR UPDATE OF {}, {} ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
        q(&x.trigger()),
        q(a),
        q(b),
        x.table.sql(),
        x.function().sql()
    )
}

fn drop_sync(x: &Expansion) -> String {
    join([
        format!(
            "DROP TRIGGER IF EXISTS {} ON {}",
            q(&x.trigger()),
            x.table.sql()
        ),
        format!("DROP FUNCTION IF EXISTS {}()", x.function().sql()),
    ])
}

/// A value of a directive: bare when it has no space, quote or backslash, else in double
/// quotes with `\"` and `\\`.
pub fn directive_value(v: &str) -> String {
    if !v.is_empty() && !v.contains([' ', '"', '\\', '\t', '\n']) {
        return v.to_string();
    }
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `-- dbarch:backfill table=... set="..." where="..."`: filled by the runner with the
/// backfill engine.
fn backfill(table: &QualifiedName, target: &str, expr: &str) -> Step {
    let set = format!("{} = {expr}", q(target));
    let where_ = format!("{} IS DISTINCT FROM {expr}", q(target));
    Step::new(format!(
        "{BACKFILL_DIRECTIVE} table={} set={} where={}",
        directive_value(&table.sql()),
        directive_value(&set),
        directive_value(&where_)
    ))
    .non_transactional()
    .lock(table, RowExclusive)
    .scans(true)
    .note("run by `dbarch migrate up` with the backfill engine (batches, resumable, throttled); with psql, run `dbarch migrate backfill` with the same table, set and where")
    .describe(format!("backfill {table}.{target}"))
}

/// `CREATE INDEX CONCURRENTLY <name>` for `def` with the column `from` read as `to`.
fn index_as(def: &str, name: &str, from: &str, to: &str) -> String {
    let (prefix, rest) = match def.strip_prefix("CREATE UNIQUE INDEX ") {
        Some(r) => ("CREATE UNIQUE INDEX", r),
        None => (
            "CREATE INDEX",
            def.strip_prefix("CREATE INDEX ").unwrap_or(def),
        ),
    };
    let rest = rest.split_once(" ON ").map_or(rest, |(_, r)| r);
    let rest = match rest.split_once(" USING ") {
        Some((t, r)) if from != to => format!("{t} USING {}", replace_ident(r, from, to)),
        _ => rest.to_string(),
    };
    format!("{prefix} CONCURRENTLY {} ON {rest}", q(name))
}

fn build_index(table: &QualifiedName, sql: String, name: &str) -> Step {
    Step::new(sql)
        .non_transactional()
        .lock(table, ShareUpdateExclusive)
        .scans(true)
        .rev(format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}",
            QualifiedName::new(&table.schema, name).sql()
        ))
        .describe(format!("build index {name} on {table} concurrently"))
}

fn rename_index(table: &QualifiedName, a: &str, b: &str) -> String {
    format!(
        "ALTER INDEX {} RENAME TO {}",
        QualifiedName::new(&table.schema, a).sql(),
        q(b)
    )
}

fn alter(table: &QualifiedName, action: String) -> String {
    format!("ALTER TABLE {} {action}", table.sql())
}

/// PostgreSQL 18 names a NOT NULL `<table>_<column>_not_null`; a renamed column keeps it.
fn not_null_name(table: &QualifiedName, column: &str) -> String {
    truncate(format!("{}_{column}_not_null", table.name))
}

/// The expand steps: new column + sync trigger, backfill, NOT NULL, indexes.
fn expand_steps(x: &Expansion, ctx: &PlanContext) -> Vec<Step> {
    let t = &x.table;
    let mut added = x.new.clone();
    added.name = x.tmp.clone();
    let mut out = vec![
        Step::new(join([
            alter(t, format!("ADD COLUMN {} {}", q(&x.tmp), type_sql(&x.new))),
            sync_function(&x.function(), &x.old, &x.tmp, &x.new),
            create_trigger(x, &x.old.name, &x.tmp),
        ]))
        .lock(t, AccessExclusive)
        .rev(join([
            drop_sync(x),
            alter(t, format!("DROP COLUMN IF EXISTS {}", q(&x.tmp))),
        ]))
        .note(format!(
            "from here on writes to {} and {} are kept in sync by the trigger {}",
            x.old.name,
            x.tmp,
            x.trigger()
        ))
        .describe(format!(
            "expand {t}.{}: add column {} {} with a sync trigger",
            x.old.name, x.tmp, x.new.data_type
        )),
        backfill(
            t,
            &x.tmp,
            &cast(&q(&x.old.name), &x.old.data_type, &x.new.data_type),
        ),
    ];
    if x.new.not_null {
        out.extend(online::set_not_null(t, &x.tmp, ctx));
    }
    for (i, tmp) in &x.new_indexes {
        out.push(build_index(
            t,
            index_as(&i.definition, tmp, &x.new.name, &x.tmp),
            tmp,
        ));
    }
    out
}

/// The contract steps: drop the old column, give the new one its final name and default.
fn contract_steps(x: &Expansion, ctx: &PlanContext) -> Vec<Step> {
    let t = &x.table;
    let mut stmts = vec![drop_sync(x)];
    for s in &x.sequences {
        stmts.push(format!(
            "ALTER SEQUENCE {} OWNED BY {}.{}",
            s.sql(),
            t.sql(),
            q(&x.tmp)
        ));
    }
    stmts.push(alter(t, format!("DROP COLUMN {}", q(&x.old.name))));
    if x.tmp != x.new.name {
        stmts.push(alter(
            t,
            format!("RENAME COLUMN {} TO {}", q(&x.tmp), q(&x.new.name)),
        ));
        if x.new.not_null && ctx.online && ctx.server_major >= 18 {
            stmts.push(alter(
                t,
                format!(
                    "RENAME CONSTRAINT {} TO {}",
                    q(&not_null_name(t, &x.tmp)),
                    q(&not_null_name(t, &x.new.name))
                ),
            ));
        }
    }
    for (i, tmp) in &x.new_indexes {
        stmts.push(rename_index(t, tmp, &i.name));
    }
    if let Some(d) = &x.new.default {
        stmts.push(alter(
            t,
            format!("ALTER COLUMN {} SET DEFAULT {d}", q(&x.new.name)),
        ));
    }
    if let Some(c) = &x.new.comment {
        stmts.push(dbarch_ddl::comment_on(
            &format!("COLUMN {}.{}", t.sql(), q(&x.new.name)),
            Some(c.as_str()),
        ));
    }
    let mut out = vec![
        Step::new(join(stmts))
            .lock(t, AccessExclusive)
            .hazard(Hazard::DataLoss)
            .irreversible("the old column is gone: the contract's down migration adds it back and backfills it")
            .describe(format!(
                "contract {t}.{}: drop the old column and the sync trigger",
                x.new.name
            )),
    ];
    for c in &x.new_constraints {
        out.extend(online::add_constraint(t, c, None, false, ctx));
    }
    out
}

/// The contract's down: the mirror of the contract, back to the state after the expand.
fn contract_down_steps(x: &Expansion, ctx: &PlanContext) -> Vec<Step> {
    let t = &x.table;
    let mut stmts = Vec::new();
    if x.new.default.is_some() {
        stmts.push(alter(
            t,
            format!("ALTER COLUMN {} DROP DEFAULT", q(&x.new.name)),
        ));
    }
    for c in &x.new_constraints {
        stmts.push(alter(
            t,
            format!("DROP CONSTRAINT IF EXISTS {}", q(&c.name)),
        ));
    }
    for (i, tmp) in &x.new_indexes {
        stmts.push(rename_index(t, &i.name, tmp));
    }
    if x.tmp != x.new.name {
        if x.new.not_null && ctx.online && ctx.server_major >= 18 {
            stmts.push(alter(
                t,
                format!(
                    "RENAME CONSTRAINT {} TO {}",
                    q(&not_null_name(t, &x.new.name)),
                    q(&not_null_name(t, &x.tmp))
                ),
            ));
        }
        stmts.push(alter(
            t,
            format!("RENAME COLUMN {} TO {}", q(&x.new.name), q(&x.tmp)),
        ));
    }
    stmts.push(alter(
        t,
        format!("ADD COLUMN {} {}", q(&x.old.name), type_sql(&x.old)),
    ));
    stmts.push(sync_function(&x.function(), &x.old, &x.tmp, &x.new));
    stmts.push(create_trigger(x, &x.old.name, &x.tmp));
    for s in &x.sequences {
        stmts.push(format!(
            "ALTER SEQUENCE {} OWNED BY {}.{}",
            s.sql(),
            t.sql(),
            q(&x.old.name)
        ));
    }
    if let Some(d) = &x.old.default {
        stmts.push(alter(
            t,
            format!("ALTER COLUMN {} SET DEFAULT {d}", q(&x.old.name)),
        ));
    }
    if let Some(c) = &x.old.comment {
        stmts.push(dbarch_ddl::comment_on(
            &format!("COLUMN {}.{}", t.sql(), q(&x.old.name)),
            Some(c.as_str()),
        ));
    }
    let mut out = vec![
        Step::new(join(stmts))
            .lock(t, AccessExclusive)
            .describe(format!("add {t}.{} back with the sync trigger", x.old.name)),
        backfill(
            t,
            &x.old.name,
            &cast(&q(&x.tmp), &x.new.data_type, &x.old.data_type),
        ),
    ];
    if x.old.not_null {
        out.extend(online::set_not_null(t, &x.old.name, ctx));
    }
    for i in &x.old_indexes {
        out.push(build_index(
            t,
            index_as(&i.definition, &i.name, &x.old.name, &x.old.name),
            &i.name,
        ));
    }
    for c in &x.old_constraints {
        out.extend(online::add_constraint(t, c, None, false, ctx));
    }
    out
}

/// The column a change concerns, when it is one the expansion of `(table, column)` absorbs.
fn absorbed_by(change: &Change, x: &Expansion) -> bool {
    let col = &x.new.name;
    let same = |t: &QualifiedName, c: &str| t == &x.table && c == col;
    match change {
        Change::AlterColumnType { table, column, .. }
        | Change::SetDefault { table, column, .. }
        | Change::DropDefault { table, column, .. }
        | Change::SetNotNull { table, column }
        | Change::DropNotNull { table, column } => same(table, column),
        Change::CreateIndex { table, index, .. } => {
            table == &x.table && index.constraint.is_none() && index_uses(index, col)
        }
        Change::AddConstraint {
            table, constraint, ..
        } => {
            table == &x.table
                && matches!(
                    constraint.kind,
                    ConstraintKind::Check { .. } | ConstraintKind::ForeignKey { .. }
                )
                && constraint_uses(constraint, col)
        }
        Change::SetComment {
            object: crate::change::ObjectRef::Column { relation, column },
            ..
        } => same(relation, column),
        _ => false,
    }
}

/// Plans `changes` as expand/contract: see the module documentation. `from` and `to` are the
/// models the changes were diffed from (before renames) and to. Without `ctx.online`, or
/// when nothing can be expanded, the contract is empty and the expand is [`super::plan`]'s.
pub fn plan_expand_contract(
    changes: &[Change],
    from: &Database,
    to: &Database,
    ctx: &PlanContext,
) -> Staged {
    let mut notes = Vec::new();
    let mut expansions: Vec<Expansion> = Vec::new();
    if ctx.online {
        for (i, c) in changes.iter().enumerate() {
            let (table, old, new) = match c {
                Change::RenameColumn {
                    table, from, to, ..
                } => (table, from.clone(), to.clone()),
                Change::AlterColumnType {
                    table,
                    column,
                    from: a,
                    to: b,
                } if matches!(
                    classify(&a.data_type, &b.data_type),
                    Conversion::Rewrite | Conversion::Narrowing
                ) =>
                {
                    // Already part of a rename's expansion?
                    if expansions
                        .iter()
                        .any(|x| &x.table == table && &x.new.name == column)
                    {
                        continue;
                    }
                    (table, column.clone(), column.clone())
                }
                _ => continue,
            };
            match expansion(from, to, i, table, &old, &new) {
                Ok(mut x) => {
                    // A type change of a renamed column: expanded at the type change, once
                    // the types it may use exist.
                    if let Some(j) = changes.iter().position(|c| {
                        matches!(c, Change::AlterColumnType { table: t, column, .. }
                            if t == table && column == &new)
                    }) {
                        x.at = x.at.max(j);
                    }
                    notes.push(format!("expand/contract: {c}"));
                    expansions.push(x);
                }
                Err(reason) => notes.push(format!("in place ({reason}): {c}")),
            }
        }
    }
    // Each column's group of steps starts a transaction of its own: no lock of one table is
    // held while waiting for another's.
    let group = |x: &Expansion, mut steps: Vec<Step>| {
        if let Some(first) = steps.first_mut() {
            first.commit_before = true;
        }
        steps.into_iter().map(|s| (x.at, s)).collect::<Vec<_>>()
    };
    let mut expand: Vec<(usize, Step)> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if let Some(x) = expansions.iter().find(|x| x.at == i) {
            expand.extend(group(x, expand_steps(x, ctx)));
            continue;
        }
        let is_rename_of = |x: &Expansion| matches!(c, Change::RenameColumn { table, to, .. } if table == &x.table && to == &x.new.name);
        if expansions
            .iter()
            .any(|x| is_rename_of(x) || absorbed_by(c, x))
        {
            continue;
        }
        expand.extend(steps::steps(c, ctx).into_iter().map(|s| (i, s)));
    }
    let finish = |steps: Vec<(usize, Step)>| {
        let mut plan = super::finish(changes, steps);
        // Nothing runs before the first step.
        if let Some(first) = plan.steps.first_mut() {
            first.commit_before = false;
        }
        plan
    };
    let contract = expansions
        .iter()
        .flat_map(|x| group(x, contract_steps(x, ctx)))
        .collect();
    let contract_down = expansions
        .iter()
        .rev()
        .flat_map(|x| group(x, contract_down_steps(x, ctx)))
        .collect();
    Staged {
        expand: finish(expand),
        contract: finish(contract),
        contract_down: finish(contract_down),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_values_are_quoted_when_needed() {
        assert_eq!(directive_value("public.t"), "public.t");
        assert_eq!(
            directive_value("\"A b\" = x::bigint"),
            "\"\\\"A b\\\" = x::bigint\""
        );
    }

    #[test]
    fn index_definitions_are_moved_to_the_new_column() {
        assert_eq!(
            index_as(
                "CREATE INDEX t_n_idx ON public.t USING btree (n) WHERE (n > 0)",
                "t_n_idx_dbarch",
                "n",
                "n_dbarch_new"
            ),
            "CREATE INDEX CONCURRENTLY t_n_idx_dbarch ON public.t USING btree (n_dbarch_new) WHERE (n_dbarch_new > 0)"
        );
    }
}
