//! One function per kind of change: its steps. Object creation reuses `dbarch_ddl`, so that a
//! migration prints objects exactly as `inspect --format sql` does.

use super::locks::{LockClaim, LockMode};
use super::{Hazard, PlanContext, Reverse, Step, online};
use crate::change::{Change, ColumnType, EnumPosition, TypedColumn};
use crate::coercion::{Conversion, classify, is_volatile_default};
use dbarch_ddl as ddl;
use dbarch_model::*;

use LockMode::*;

/// Builder methods; every step starts transactional with nothing to undo.
impl Step {
    pub(super) fn new(sql: impl Into<String>) -> Step {
        Step {
            description: String::new(),
            sql: sql.into(),
            reverse: Reverse::Sql(String::new()),
            locks: Vec::new(),
            rewrites_table: false,
            scans_table: false,
            transactional: true,
            commit_before: false,
            hazards: Vec::new(),
            notes: Vec::new(),
            change_index: 0,
        }
    }

    pub(super) fn lock(mut self, relation: &QualifiedName, mode: LockMode) -> Step {
        self.locks.push(LockClaim {
            relation: relation.to_string(),
            mode,
        });
        self
    }

    pub(super) fn rev(mut self, sql: impl Into<String>) -> Step {
        self.reverse = Reverse::Sql(sql.into());
        self
    }

    pub(super) fn irreversible(mut self, reason: &str) -> Step {
        self.reverse = Reverse::Irreversible {
            reason: reason.to_string(),
        };
        self
    }

    pub(super) fn rewrites(mut self, yes: bool) -> Step {
        self.rewrites_table |= yes;
        self
    }

    pub(super) fn scans(mut self, yes: bool) -> Step {
        self.scans_table |= yes;
        self
    }

    pub(super) fn non_transactional(mut self) -> Step {
        self.transactional = false;
        self
    }

    pub(super) fn after_commit(mut self) -> Step {
        self.commit_before = true;
        self
    }

    pub(super) fn hazard(mut self, h: Hazard) -> Step {
        self.hazards.push(h);
        self
    }

    pub(super) fn note(mut self, n: impl Into<String>) -> Step {
        self.notes.push(n.into());
        self
    }

    pub(super) fn describe(mut self, d: impl Into<String>) -> Step {
        self.description = d.into();
        self
    }
}

pub(super) fn join(stmts: impl IntoIterator<Item = String>) -> String {
    stmts.into_iter().collect::<Vec<_>>().join(";\n")
}

pub(super) fn q(s: &str) -> String {
    quote_ident(s)
}

fn alter_column(table: &QualifiedName, column: &str, action: &str) -> String {
    format!(
        "ALTER TABLE {} ALTER COLUMN {} {action}",
        table.sql(),
        q(column)
    )
}

fn type_keyword(t: &TypeDef) -> &'static str {
    match t.kind {
        TypeKind::Domain { .. } => "DOMAIN",
        _ => "TYPE",
    }
}

fn drop_type(t: &TypeDef) -> String {
    format!(
        "DROP {} {}",
        type_keyword(t),
        QualifiedName::new(&t.schema, &t.name).sql()
    )
}

fn function_keyword(f: &Function) -> &'static str {
    match f.kind {
        FunctionKind::Procedure => "PROCEDURE",
        FunctionKind::Aggregate => "AGGREGATE",
        _ => "FUNCTION",
    }
}

fn drop_function(f: &Function) -> String {
    format!(
        "DROP {} {}({})",
        function_keyword(f),
        QualifiedName::new(&f.schema, &f.name).sql(),
        f.arguments
    )
}

/// A function's definition; SQL-language bodies are otherwise checked at creation and would
/// fail on tables created later in the same migration (pg_dump does the same).
fn create_function(f: &Function) -> String {
    let def = ddl::create_function(f).unwrap_or_default();
    let def = def.trim_end().trim_end_matches(';').to_string();
    if f.language == "sql" {
        join([String::from("SET check_function_bodies = false"), def])
    } else {
        def
    }
}

fn create_sequence(s: &Sequence) -> String {
    join(std::iter::once(ddl::create_sequence(s)).chain(ddl::sequence_owned_by(s)))
}

fn alter_sequence(s: &Sequence) -> String {
    format!(
        "ALTER SEQUENCE {} AS {} {}",
        QualifiedName::new(&s.schema, &s.name).sql(),
        s.data_type,
        ddl::sequence_options(&s.options)
    )
}

fn owned_by(sequence: &QualifiedName, owner: &Option<ColumnRef>) -> String {
    let target = match owner {
        Some(o) => format!(
            "{}.{}",
            QualifiedName::new(&o.schema, &o.table).sql(),
            q(&o.column)
        ),
        None => "NONE".to_string(),
    };
    format!("ALTER SEQUENCE {} OWNED BY {target}", sequence.sql())
}

fn drop_view(v: &View) -> String {
    format!(
        "DROP {}VIEW {}",
        if v.materialized { "MATERIALIZED " } else { "" },
        v.qualified_name().sql()
    )
}

/// A view with what a migration needs beyond `CREATE`: a materialized view is populated
/// (dbarch_ddl creates it `WITH NO DATA`) before its indexes are built.
fn create_view(v: &View) -> String {
    let mut stmts = vec![ddl::create_view(v)];
    if v.materialized {
        stmts.push(format!(
            "REFRESH MATERIALIZED VIEW {}",
            v.qualified_name().sql()
        ));
        stmts.extend(v.indexes.iter().map(ddl::index_sql));
    }
    join(stmts)
}

fn type_sql(t: &ColumnType) -> String {
    match &t.collation {
        Some(c) => format!("{} COLLATE {c}", t.data_type),
        None => t.data_type.clone(),
    }
}

fn alter_type(table: &QualifiedName, column: &str, from: &ColumnType, to: &ColumnType) -> String {
    let mut action = format!("TYPE {}", type_sql(to));
    // USING makes explicit-only casts (text → integer) possible; binary-coercible changes
    // go without, so that nothing can make PostgreSQL rewrite them.
    if matches!(
        classify(&from.data_type, &to.data_type),
        Conversion::Rewrite | Conversion::Narrowing
    ) {
        action.push_str(&format!(" USING {}::{}", q(column), to.data_type));
    }
    alter_column(table, column, &action)
}

/// The options of an identity sequence, or the defaults for the column's type.
fn identity_options(id: &Identity, data_type: &str) -> SequenceOptions {
    id.sequence.clone().unwrap_or(SequenceOptions {
        start: 1,
        increment: 1,
        min_value: 1,
        max_value: match data_type {
            "smallint" => i16::MAX as i64,
            "integer" => i32::MAX as i64,
            _ => i64::MAX,
        },
        cache: 1,
        cycle: false,
    })
}

fn add_identity(table: &QualifiedName, column: &str, id: &Identity) -> String {
    let mut action = format!(
        "ADD GENERATED {} AS IDENTITY",
        if id.always { "ALWAYS" } else { "BY DEFAULT" }
    );
    if let Some(o) = &id.sequence {
        action.push_str(&format!(" ({})", ddl::sequence_options(o)));
    }
    alter_column(table, column, &action)
}

fn alter_identity(table: &QualifiedName, column: &str, id: &Identity, data_type: &str) -> String {
    let o = identity_options(id, data_type);
    alter_column(
        table,
        column,
        &format!(
            "SET GENERATED {} SET START WITH {} SET INCREMENT BY {} SET MINVALUE {} \
             SET MAXVALUE {} SET CACHE {} SET {}",
            if id.always { "ALWAYS" } else { "BY DEFAULT" },
            o.start,
            o.increment,
            o.min_value,
            o.max_value,
            o.cache,
            if o.cycle { "CYCLE" } else { "NO CYCLE" }
        ),
    )
}

fn set_identity(
    table: &QualifiedName,
    column: &str,
    data_type: &str,
    from: &Option<Identity>,
    to: &Option<Identity>,
) -> String {
    match (from, to) {
        (_, None) => alter_column(table, column, "DROP IDENTITY IF EXISTS"),
        (None, Some(id)) => add_identity(table, column, id),
        (Some(_), Some(id)) => alter_identity(table, column, id, data_type),
    }
}

/// Storage parameters that ALTER TABLE SET changes under SHARE UPDATE EXCLUSIVE.
fn light_parameter(p: &str) -> bool {
    let key = p.split('=').next().unwrap_or(p);
    key == "fillfactor"
        || key == "parallel_workers"
        || key.starts_with("autovacuum_")
        || key.starts_with("toast.autovacuum_")
        || key.starts_with("vacuum_")
        || key.starts_with("toast_tuple_target")
}

fn storage_parameters(table: &QualifiedName, from: &[String], to: &[String]) -> String {
    let key = |p: &String| p.split('=').next().unwrap_or(p).to_string();
    let to_keys: Vec<String> = to.iter().map(key).collect();
    let reset: Vec<String> = from
        .iter()
        .map(key)
        .filter(|k| !to_keys.contains(k))
        .collect();
    let set: Vec<&String> = to.iter().filter(|p| !from.contains(p)).collect();
    let mut stmts = Vec::new();
    if !reset.is_empty() {
        stmts.push(format!(
            "ALTER TABLE {} RESET ({})",
            table.sql(),
            reset.join(", ")
        ));
    }
    if !set.is_empty() {
        let set: Vec<&str> = set.iter().map(|s| s.as_str()).collect();
        stmts.push(format!(
            "ALTER TABLE {} SET ({})",
            table.sql(),
            set.join(", ")
        ));
    }
    join(stmts)
}

/// Rename the old type away, create the new one, convert each column through its text form,
/// drop the old type.
fn recreate_type(old: &TypeDef, new: &TypeDef, columns: &[TypedColumn]) -> String {
    let parked = format!("{}__dbarch_old", old.name);
    let mut stmts = vec![format!(
        "ALTER {} {} RENAME TO {}",
        type_keyword(old),
        QualifiedName::new(&old.schema, &old.name).sql(),
        q(&parked)
    )];
    stmts.push(ddl::create_type(new));
    for c in columns {
        if c.default.is_some() {
            stmts.push(alter_column(&c.table, &c.column, "DROP DEFAULT"));
        }
        stmts.push(alter_column(
            &c.table,
            &c.column,
            &format!(
                "TYPE {} USING {}::text::{}",
                c.data_type,
                q(&c.column),
                c.data_type
            ),
        ));
        if let Some(d) = &c.default {
            stmts.push(alter_column(
                &c.table,
                &c.column,
                &format!("SET DEFAULT {d}"),
            ));
        }
    }
    stmts.push(format!(
        "DROP {} {}",
        type_keyword(old),
        QualifiedName::new(&old.schema, &parked).sql()
    ));
    join(stmts)
}

fn enum_value(type_name: &QualifiedName, value: &str, position: &Option<EnumPosition>) -> String {
    let mut s = format!(
        "ALTER TYPE {} ADD VALUE {}",
        type_name.sql(),
        quote_literal(value)
    );
    match position {
        Some(EnumPosition::Before(l)) => s.push_str(&format!(" BEFORE {}", quote_literal(l))),
        Some(EnumPosition::After(l)) => s.push_str(&format!(" AFTER {}", quote_literal(l))),
        None => {}
    }
    s
}

/// PostgreSQL 18 names a plain NOT NULL `<table>_<column>_not_null` and keeps the name when
/// the table or column is renamed; renaming it too keeps it a plain NOT NULL (the name a
/// fresh `CREATE TABLE` would give it).
fn not_null_rename(
    ctx: &PlanContext,
    table: &QualifiedName,
    from: &str,
    to: &str,
) -> Option<String> {
    (ctx.server_major >= 18).then(|| {
        format!(
            "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
            table.sql(),
            q(&format!("{from}_not_null")),
            q(&format!("{to}_not_null"))
        )
    })
}

pub(super) fn steps(change: &Change, ctx: &PlanContext) -> Vec<Step> {
    match change {
        Change::CreateSchema { schema } => vec![
            Step::new(ddl::create_schema(schema))
                .rev(format!("DROP SCHEMA {}", q(&schema.name))),
        ],
        Change::DropSchema { schema } => vec![
            Step::new(format!("DROP SCHEMA {}", q(&schema.name))).rev(ddl::create_schema(schema)),
        ],
        Change::CreateExtension { extension } => vec![
            Step::new(ddl::create_extension(extension))
                .rev(format!("DROP EXTENSION {}", q(&extension.name))),
        ],
        Change::DropExtension { extension } => vec![
            Step::new(format!("DROP EXTENSION {}", q(&extension.name)))
                .rev(ddl::create_extension(extension)),
        ],
        Change::UpdateExtension {
            name,
            from_version,
            to_version,
        } => {
            let update = |v: &str| format!("ALTER EXTENSION {} UPDATE TO {}", q(name), quote_literal(v));
            vec![Step::new(update(to_version)).rev(update(from_version))]
        }
        Change::CreateType { type_def } => {
            vec![Step::new(ddl::create_type(type_def)).rev(drop_type(type_def))]
        }
        Change::DropType { type_def } => {
            vec![Step::new(drop_type(type_def)).rev(ddl::create_type(type_def))]
        }
        Change::AddEnumValue {
            type_name,
            value,
            position,
        } => vec![
            Step::new(enum_value(type_name, value, position))
                .irreversible("PostgreSQL cannot remove a value from an enum (the type must be recreated)")
                .note("the new value cannot be used before this transaction commits: the next step starts a new one"),
        ],
        Change::RecreateType { old, new, columns } => {
            let mut step = Step::new(recreate_type(old, new, columns))
                .rev(recreate_type(new, old, columns))
                .rewrites(!columns.is_empty());
            for c in columns {
                step = step.lock(&c.table, AccessExclusive);
            }
            if matches!(old.kind, TypeKind::Enum { .. }) {
                step = step.note("fails if a row holds a removed value: update those rows first");
            }
            vec![step]
        }
        Change::CreateSequence { sequence } => {
            let name = QualifiedName::new(&sequence.schema, &sequence.name);
            vec![Step::new(ddl::create_sequence(sequence)).rev(format!("DROP SEQUENCE {}", name.sql()))]
        }
        Change::DropSequence { sequence } => {
            let name = QualifiedName::new(&sequence.schema, &sequence.name);
            vec![
                Step::new(format!("DROP SEQUENCE {}", name.sql()))
                    .rev(create_sequence(sequence))
                    .note("the sequence's current value is not restored by the reverse"),
            ]
        }
        Change::AlterSequence { old, new } => {
            vec![Step::new(alter_sequence(new)).rev(alter_sequence(old))]
        }
        Change::SetSequenceOwner { sequence, from, to } => {
            vec![Step::new(owned_by(sequence, to)).rev(owned_by(sequence, from))]
        }
        Change::CreateFunction { function } => {
            vec![Step::new(create_function(function)).rev(drop_function(function))]
        }
        Change::DropFunction { function } => {
            vec![Step::new(drop_function(function)).rev(create_function(function))]
        }
        Change::ReplaceFunction { old, new } => {
            vec![Step::new(create_function(new)).rev(create_function(old))]
        }
        Change::CreateTable { table } => vec![create_table(table)],
        Change::DropTable { table } => {
            let name = table.qualified_name();
            vec![
                Step::new(format!("DROP TABLE {}", name.sql()))
                    .lock(&name, AccessExclusive)
                    .irreversible("data loss: the table's rows are gone")
                    .hazard(Hazard::DataLoss),
            ]
        }
        Change::RenameTable {
            from,
            to,
            not_null_columns,
        } => {
            let rename = |a: &QualifiedName, b: &QualifiedName| {
                let mut stmts = vec![format!("ALTER TABLE {} RENAME TO {}", a.sql(), q(&b.name))];
                stmts.extend(not_null_columns.iter().filter_map(|c| {
                    not_null_rename(ctx, b, &format!("{}_{c}", a.name), &format!("{}_{c}", b.name))
                }));
                join(stmts)
            };
            vec![
                Step::new(rename(from, to))
                    .lock(from, AccessExclusive)
                    .rev(rename(to, from))
                    .note("deploy application code that accepts both names first (e.g. a view with the old name)"),
            ]
        }
        Change::RenameColumn {
            table,
            from,
            to,
            not_null,
        } => {
            let rename = |a: &str, b: &str| {
                let mut stmts = vec![format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {}",
                    table.sql(),
                    q(a),
                    q(b)
                )];
                if *not_null {
                    stmts.extend(not_null_rename(
                        ctx,
                        table,
                        &format!("{}_{a}", table.name),
                        &format!("{}_{b}", table.name),
                    ));
                }
                join(stmts)
            };
            vec![
                Step::new(rename(from, to))
                    .lock(table, AccessExclusive)
                    .rev(rename(to, from)),
            ]
        }
        Change::AddColumn { table, column } => vec![add_column(table, column)],
        Change::DropColumn { table, column } => {
            let sql = format!(
                "ALTER TABLE {} DROP COLUMN {}",
                table.sql(),
                q(&column.name)
            );
            let step = Step::new(sql).lock(table, AccessExclusive);
            if column.generated.is_some() {
                // Derived values: adding the column back recomputes them.
                vec![step.rev(format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    table.sql(),
                    ddl::column_sql(column, None)
                ))]
            } else {
                vec![
                    step.irreversible("data loss: the column's values are gone")
                        .hazard(Hazard::DataLoss),
                ]
            }
        }
        Change::AlterColumnType {
            table,
            column,
            from,
            to,
        } => {
            let conversion = classify(&from.data_type, &to.data_type);
            let rewrites = matches!(conversion, Conversion::Rewrite | Conversion::Narrowing)
                || from.collation != to.collation;
            let mut step = Step::new(alter_type(table, column, from, to))
                .lock(table, AccessExclusive)
                .rewrites(rewrites)
                .rev(alter_type(table, column, to, from));
            if conversion == Conversion::Narrowing {
                step = step
                    .note("narrowing: fails if a value does not fit; may round numbers")
                    .hazard(Hazard::DataLoss);
            }
            vec![step]
        }
        Change::SetDefault {
            table,
            column,
            from,
            to,
        } => {
            let undo = match from {
                Some(d) => alter_column(table, column, &format!("SET DEFAULT {d}")),
                None => alter_column(table, column, "DROP DEFAULT"),
            };
            vec![
                Step::new(alter_column(table, column, &format!("SET DEFAULT {to}")))
                    .lock(table, AccessExclusive)
                    .rev(undo),
            ]
        }
        Change::DropDefault {
            table,
            column,
            from,
        } => vec![
            Step::new(alter_column(table, column, "DROP DEFAULT"))
                .lock(table, AccessExclusive)
                .rev(alter_column(table, column, &format!("SET DEFAULT {from}"))),
        ],
        Change::SetNotNull { table, column } => online::set_not_null(table, column, ctx),
        Change::DropNotNull { table, column } => vec![
            Step::new(alter_column(table, column, "DROP NOT NULL"))
                .lock(table, AccessExclusive)
                .rev(alter_column(table, column, "SET NOT NULL")),
        ],
        Change::SetIdentity {
            table,
            column,
            data_type,
            from,
            to,
        } => vec![
            Step::new(set_identity(table, column, data_type, from, to))
                .lock(table, AccessExclusive)
                .rev(set_identity(table, column, data_type, to, from)),
        ],
        Change::SetStorageParameters { table, from, to } => {
            let light = from.iter().chain(to).all(|p| light_parameter(p));
            vec![
                Step::new(storage_parameters(table, from, to))
                    .lock(table, if light { ShareUpdateExclusive } else { AccessExclusive })
                    .rev(storage_parameters(table, to, from)),
            ]
        }
        Change::AddConstraint {
            table,
            constraint,
            index,
            new_table,
        } => online::add_constraint(table, constraint, index.as_ref(), *new_table, ctx),
        Change::DropConstraint { table, constraint } => {
            let mut step = Step::new(format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                table.sql(),
                q(&constraint.name)
            ))
            .lock(table, AccessExclusive)
            .rev(ddl::add_constraint(table, constraint));
            if let ConstraintKind::ForeignKey { references, .. } = &constraint.kind
                && references != table
            {
                step = step.lock(references, AccessExclusive);
            }
            vec![step]
        }
        Change::ValidateConstraint { table, constraint } => {
            let references = match &constraint.kind {
                ConstraintKind::ForeignKey { references, .. } => Some(references),
                _ => None,
            };
            // Undo: the constraint becomes NOT VALID again (dropped and added unchecked).
            let mut not_valid = constraint.clone();
            not_valid.validated = false;
            let undo = join([
                format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    table.sql(),
                    q(&constraint.name)
                ),
                ddl::add_constraint(table, &not_valid),
            ]);
            vec![online::validate(table, &constraint.name, references).rev(undo)]
        }
        Change::CreateIndex {
            table,
            index,
            partitions,
            new_table,
        } => online::create_index(table, index, partitions, *new_table, ctx),
        Change::DropIndex {
            table,
            index,
            partitions,
        } => vec![online::drop_index(table, index, partitions, ctx)],
        Change::CreateView { view } => {
            let name = view.qualified_name();
            let mut step = Step::new(create_view(view)).rev(drop_view(view));
            if view.materialized {
                step = step.lock(&name, AccessExclusive).note(
                    "REFRESH MATERIALIZED VIEW runs the query once: as long as the query takes",
                );
            }
            vec![step]
        }
        Change::DropView { view } => vec![
            Step::new(drop_view(view))
                .lock(&view.qualified_name(), AccessExclusive)
                .rev(create_view(view)),
        ],
        Change::ReplaceView { old, new } => {
            let replace = |v: &View| {
                ddl::create_view(v).replacen("CREATE VIEW", "CREATE OR REPLACE VIEW", 1)
            };
            // CREATE OR REPLACE cannot remove the columns the forward step appended.
            let undo = if old.columns.len() < new.columns.len() {
                join([drop_view(new), ddl::create_view(old)])
            } else {
                replace(old)
            };
            vec![
                Step::new(replace(new))
                    .lock(&new.qualified_name(), AccessExclusive)
                    .rev(undo),
            ]
        }
        Change::CreateTrigger { table, trigger } => vec![
            Step::new(join(ddl::create_trigger_on(table, trigger)))
                .lock(table, ShareRowExclusive)
                .rev(format!("DROP TRIGGER {} ON {}", q(&trigger.name), table.sql())),
        ],
        Change::DropTrigger { table, trigger } => vec![
            Step::new(format!("DROP TRIGGER {} ON {}", q(&trigger.name), table.sql()))
                .lock(table, AccessExclusive)
                .rev(join(ddl::create_trigger_on(table, trigger))),
        ],
        Change::SetTriggerEnabled {
            table,
            name,
            enabled,
        } => {
            let set = |on: bool| {
                format!(
                    "ALTER TABLE {} {} TRIGGER {}",
                    table.sql(),
                    if on { "ENABLE" } else { "DISABLE" },
                    q(name)
                )
            };
            vec![
                Step::new(set(*enabled))
                    .lock(table, ShareRowExclusive)
                    .rev(set(!enabled)),
            ]
        }
        Change::SetRowLevelSecurity { table, enabled } => {
            let set = |on: bool| {
                format!(
                    "ALTER TABLE {} {} ROW LEVEL SECURITY",
                    table.sql(),
                    if on { "ENABLE" } else { "DISABLE" }
                )
            };
            vec![
                Step::new(set(*enabled))
                    .lock(table, AccessExclusive)
                    .rev(set(!enabled)),
            ]
        }
        Change::SetForceRowLevelSecurity { table, forced } => {
            let set = |on: bool| {
                format!(
                    "ALTER TABLE {} {} ROW LEVEL SECURITY",
                    table.sql(),
                    if on { "FORCE" } else { "NO FORCE" }
                )
            };
            vec![
                Step::new(set(*forced))
                    .lock(table, AccessExclusive)
                    .rev(set(!forced)),
            ]
        }
        Change::CreatePolicy { table, policy } => vec![
            Step::new(ddl::create_policy_on(table, policy))
                .lock(table, AccessExclusive)
                .rev(format!("DROP POLICY {} ON {}", q(&policy.name), table.sql())),
        ],
        Change::DropPolicy { table, policy } => vec![
            Step::new(format!("DROP POLICY {} ON {}", q(&policy.name), table.sql()))
                .lock(table, AccessExclusive)
                .rev(ddl::create_policy_on(table, policy)),
        ],
        Change::SetComment { object, from, to } => {
            let target = object.sql();
            let mut step = Step::new(ddl::comment_on(&target, to.as_deref()))
                .rev(ddl::comment_on(&target, from.as_deref()));
            if let Some(rel) = object.relation() {
                step = step.lock(rel, ShareUpdateExclusive);
            }
            vec![step]
        }
        Change::Grant { object, grant } => {
            let target = object.grant_target();
            vec![Step::new(ddl::grant_on(&target, grant)).rev(ddl::revoke_on(&target, grant))]
        }
        Change::Revoke { object, grant } => {
            let target = object.grant_target();
            vec![Step::new(ddl::revoke_on(&target, grant)).rev(ddl::grant_on(&target, grant))]
        }
    }
}

/// A new table: nobody uses it yet, so its own indexes are built in the same step, plainly.
/// (A partitioned table's indexes come as separate changes, once its partitions exist.)
fn create_table(table: &Table) -> Step {
    let name = table.qualified_name();
    let mut stmts = vec![ddl::create_table(table)];
    if table.partition_key.is_none() {
        stmts.extend(
            table
                .indexes
                .iter()
                .filter(|i| i.constraint.is_none() && i.parent_index.is_none())
                .map(ddl::index_sql),
        );
    }
    let mut step = Step::new(join(stmts)).rev(format!("DROP TABLE {}", name.sql()));
    if let Some(p) = &table.partition_of {
        // CREATE TABLE ... PARTITION OF locks the parent, and scans a default partition for
        // rows that belong to the new one.
        step = step.lock(&p.parent, AccessExclusive).note(
            "creating a partition locks its parent ACCESS EXCLUSIVE and scans a default partition; \
             for a busy table, create it standalone and ATTACH PARTITION instead",
        );
    }
    step
}

fn add_column(table: &QualifiedName, column: &Column) -> Step {
    let sql = format!(
        "ALTER TABLE {} ADD COLUMN {}",
        table.sql(),
        ddl::column_sql(column, None)
    );
    // PostgreSQL 11+ stores a non-volatile default once; a volatile one, an identity or a
    // stored generated column computes a value per row: a rewrite.
    let rewrites = column.default.as_deref().is_some_and(is_volatile_default)
        || column.identity.is_some()
        || column.generated.as_ref().is_some_and(|g| g.stored);
    let mut step = Step::new(sql)
        .lock(table, AccessExclusive)
        .rewrites(rewrites)
        .rev(format!(
            "ALTER TABLE {} DROP COLUMN {}",
            table.sql(),
            q(&column.name)
        ));
    if column.not_null
        && column.default.is_none()
        && column.identity.is_none()
        && column.generated.is_none()
    {
        step = step.note(
            "NOT NULL without a default fails on a table with rows: add it nullable, backfill, \
             then SET NOT NULL",
        );
    }
    step
}
