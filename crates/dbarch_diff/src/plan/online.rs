//! The online-safe forms: what to do on a table in use so that no long operation holds a lock
//! that blocks the application.

use super::locks::LockMode::*;
use super::steps::{join, q};
use super::{Hazard, PlanContext, Step};
use crate::change::PartitionIndex;
use dbarch_ddl as ddl;
use dbarch_model::*;

/// PostgreSQL's maximum identifier length (NAMEDATALEN - 1).
const MAX_IDENT: usize = 63;

pub(super) fn truncate(mut s: String) -> String {
    while s.len() > MAX_IDENT {
        s.pop();
    }
    s
}

fn alter(table: &QualifiedName, action: &str) -> String {
    format!("ALTER TABLE {} {action}", table.sql())
}

/// `SET NOT NULL` without holding ACCESS EXCLUSIVE during the scan that proves it.
///
/// PostgreSQL 18: `ADD CONSTRAINT ... NOT NULL ... NOT VALID`, then `VALIDATE` (SHARE UPDATE
/// EXCLUSIVE). The constraint gets the default name, so the result is a plain NOT NULL.
/// PostgreSQL 15–17: a `CHECK (col IS NOT NULL) NOT VALID`, validated, lets `SET NOT NULL`
/// skip its scan; the check is dropped afterwards.
pub(super) fn set_not_null(table: &QualifiedName, column: &str, ctx: &PlanContext) -> Vec<Step> {
    let set = alter(table, &format!("ALTER COLUMN {} SET NOT NULL", q(column)));
    let drop = alter(table, &format!("ALTER COLUMN {} DROP NOT NULL", q(column)));
    if !ctx.online {
        return vec![
            Step::new(set)
                .lock(table, AccessExclusive)
                .scans(true)
                .rev(drop),
        ];
    }
    if ctx.server_major >= 18 {
        let name = truncate(format!("{}_{}_not_null", table.name, column));
        vec![
            Step::new(alter(
                table,
                &format!(
                    "ADD CONSTRAINT {} NOT NULL {} NOT VALID",
                    q(&name),
                    q(column)
                ),
            ))
            .lock(table, AccessExclusive)
            .rev(drop)
            .describe(format!("add NOT NULL {table}.{column} NOT VALID")),
            validate(table, &name, None),
        ]
    } else {
        let check = truncate(format!("{}_{}_not_null_dbarch", table.name, column));
        let drop_check = alter(table, &format!("DROP CONSTRAINT IF EXISTS {}", q(&check)));
        vec![
            Step::new(alter(
                table,
                &format!(
                    "ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID",
                    q(&check),
                    q(column)
                ),
            ))
            .lock(table, AccessExclusive)
            .rev(drop_check.clone())
            .describe(format!(
                "add CHECK ({column} IS NOT NULL) NOT VALID on {table}"
            )),
            validate(table, &check, None),
            Step::new(join([set, drop_check]))
                .lock(table, AccessExclusive)
                .after_commit()
                .rev(drop)
                .note("SET NOT NULL uses the validated check instead of scanning the table")
                .describe(format!("set {table}.{column} NOT NULL and drop the check")),
        ]
    }
}

/// `VALIDATE CONSTRAINT`: a full scan under SHARE UPDATE EXCLUSIVE (reads and writes go on),
/// in a transaction of its own.
pub(super) fn validate(
    table: &QualifiedName,
    name: &str,
    references: Option<&QualifiedName>,
) -> Step {
    let mut step = Step::new(alter(table, &format!("VALIDATE CONSTRAINT {}", q(name))))
        .lock(table, ShareUpdateExclusive)
        .scans(true)
        .after_commit()
        .describe(format!("validate constraint {name} on {table}"));
    if let Some(r) = references
        && r != table
    {
        step = step.lock(r, RowShare);
    }
    step
}

fn body(c: &Constraint) -> &str {
    c.definition
        .strip_suffix(" NOT VALID")
        .unwrap_or(&c.definition)
}

fn deferrable(c: &Constraint) -> &'static str {
    match (c.deferrable, c.initially_deferred) {
        (true, true) => " DEFERRABLE INITIALLY DEFERRED",
        (true, false) => " DEFERRABLE",
        _ => "",
    }
}

fn is_partitioned_index(i: &Index) -> bool {
    i.definition.contains(" ON ONLY ")
}

pub(super) fn add_constraint(
    table: &QualifiedName,
    c: &Constraint,
    index: Option<&Index>,
    new_table: bool,
    ctx: &PlanContext,
) -> Vec<Step> {
    let drop = alter(table, &format!("DROP CONSTRAINT {}", q(&c.name)));
    let references = match &c.kind {
        ConstraintKind::ForeignKey { references, .. } => Some(references),
        _ => None,
    };
    // The lock of the ADD itself: a foreign key takes SHARE ROW EXCLUSIVE on both tables.
    let add_lock = if references.is_some() {
        ShareRowExclusive
    } else {
        AccessExclusive
    };
    let with_locks = |mut s: Step| {
        s = s.lock(table, add_lock);
        if let Some(r) = references
            && r != table
        {
            s = s.lock(r, add_lock);
        }
        s
    };
    let plain = !ctx.online || new_table;
    match &c.kind {
        ConstraintKind::ForeignKey { .. }
        | ConstraintKind::Check { .. }
        | ConstraintKind::NotNull { .. }
            if !plain && c.validated =>
        {
            let add = alter(
                table,
                &format!("ADD CONSTRAINT {} {} NOT VALID", q(&c.name), body(c)),
            );
            vec![
                with_locks(Step::new(add))
                    .rev(drop)
                    .describe(format!("add constraint {} on {table} NOT VALID", c.name)),
                validate(table, &c.name, references),
            ]
        }
        ConstraintKind::PrimaryKey { .. } | ConstraintKind::Unique { .. } if !plain => {
            match index.filter(|i| !is_partitioned_index(i)) {
                Some(i) => unique_using_index(table, c, i, drop),
                // Partitioned tables cannot build indexes concurrently or attach a
                // constraint to an index: the plain form, with its hazards.
                None => vec![plain_add(table, c, drop, new_table, with_locks)],
            }
        }
        _ => vec![plain_add(table, c, drop, new_table, with_locks)],
    }
}

fn plain_add(
    table: &QualifiedName,
    c: &Constraint,
    drop: String,
    new_table: bool,
    with_locks: impl Fn(Step) -> Step,
) -> Step {
    // On a new table the scan is of an empty table; otherwise checking or indexing the
    // existing rows is a full scan under the ADD's lock.
    with_locks(Step::new(ddl::add_constraint(table, c)))
        .scans(!new_table && c.validated)
        .rev(drop)
}

/// `CREATE UNIQUE INDEX CONCURRENTLY`, then `ADD CONSTRAINT ... USING INDEX` (a catalog
/// change; the index is renamed to the constraint's name).
fn unique_using_index(table: &QualifiedName, c: &Constraint, i: &Index, drop: String) -> Vec<Step> {
    let kind = match c.kind {
        ConstraintKind::PrimaryKey { .. } => "PRIMARY KEY",
        _ => "UNIQUE",
    };
    let index_name = QualifiedName::new(&table.schema, &i.name);
    let mut attach = Step::new(alter(
        table,
        &format!(
            "ADD CONSTRAINT {} {kind} USING INDEX {}{}",
            q(&c.name),
            q(&i.name),
            deferrable(c)
        ),
    ))
    .lock(table, AccessExclusive)
    .rev(drop);
    if kind == "PRIMARY KEY" {
        attach = attach.note(
            "a primary key sets its columns NOT NULL: make them NOT NULL first (online), or \
             this step scans the table under ACCESS EXCLUSIVE",
        );
    }
    vec![
        Step::new(concurrently(&i.definition))
            .non_transactional()
            .lock(table, ShareUpdateExclusive)
            .scans(true)
            .rev(format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {}",
                index_name.sql()
            ))
            .describe(format!(
                "build the index of {} on {table} concurrently",
                c.name
            )),
        attach,
    ]
}

/// `CREATE [UNIQUE] INDEX name ...` → `CREATE [UNIQUE] INDEX CONCURRENTLY name ...`.
pub(super) fn concurrently(definition: &str) -> String {
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = definition.strip_prefix(prefix) {
            return format!("{prefix}CONCURRENTLY {rest}");
        }
    }
    definition.to_string()
}

fn is_vector_index(i: &Index) -> bool {
    matches!(i.method.as_str(), "hnsw" | "ivfflat")
}

const VECTOR_NOTE: &str = "pgvector index build: run it in a session with a larger \
    maintenance_work_mem (e.g. SET maintenance_work_mem = '2GB', within the server's memory) \
    and max_parallel_maintenance_workers; an HNSW build that does not fit in memory is much slower";

fn build_index(table: &QualifiedName, i: &Index, plain: bool) -> Step {
    let name = QualifiedName::new(&table.schema, &i.name);
    let mut step = if plain {
        Step::new(ddl::index_sql(i))
            .lock(table, Share)
            .rev(format!("DROP INDEX {}", name.sql()))
    } else {
        Step::new(concurrently(&i.definition))
            .non_transactional()
            .lock(table, ShareUpdateExclusive)
            .rev(format!("DROP INDEX CONCURRENTLY IF EXISTS {}", name.sql()))
    };
    if is_vector_index(i) {
        step = step.note(VECTOR_NOTE).hazard(Hazard::LongRunning);
    }
    step
}

pub(super) fn create_index(
    table: &QualifiedName,
    i: &Index,
    partitions: &[PartitionIndex],
    new_table: bool,
    ctx: &PlanContext,
) -> Vec<Step> {
    let plain = !ctx.online || new_table;
    let name = QualifiedName::new(&table.schema, &i.name);
    if !is_partitioned_index(i) {
        return vec![build_index(table, i, plain).scans(!new_table)];
    }
    // A partitioned table: the parent's index ON ONLY (catalog only, invalid until every
    // partition has its index attached), each partition's index (concurrently when online),
    // then the attachments, which make the parent's index valid.
    let mut steps = vec![
        Step::new(ddl::index_sql(i))
            .lock(table, Share)
            .describe(format!("create index {} on only {table}", i.name)),
    ];
    for p in partitions {
        steps.push(
            build_index(&p.table, &p.index, plain)
                .scans(!new_table)
                .rev(String::new())
                .describe(format!(
                    "create index {} on partition {}",
                    p.index.name, p.table
                )),
        );
    }
    let drop_all = format!("DROP INDEX {}", name.sql());
    if partitions.is_empty() {
        steps[0].reverse = super::Reverse::Sql(drop_all);
    } else {
        let attach = partitions.iter().map(|p| {
            format!(
                "ALTER INDEX {} ATTACH PARTITION {}",
                name.sql(),
                QualifiedName::new(&p.table.schema, &p.index.name).sql()
            )
        });
        let mut step = Step::new(join(attach))
            // Dropping the parent's index drops the attached ones with it.
            .rev(drop_all)
            .describe(format!("attach the partitions' indexes to {}", i.name));
        for p in partitions {
            step = step.lock(
                &QualifiedName::new(&p.table.schema, &p.index.name),
                AccessExclusive,
            );
        }
        steps.push(step);
    }
    steps
}

pub(super) fn drop_index(
    table: &QualifiedName,
    i: &Index,
    partitions: &[PartitionIndex],
    ctx: &PlanContext,
) -> Step {
    let name = QualifiedName::new(&table.schema, &i.name);
    if is_partitioned_index(i) {
        // DROP INDEX CONCURRENTLY does not exist for partitioned indexes.
        let mut undo = vec![ddl::index_sql(i)];
        undo.extend(partitions.iter().map(|p| ddl::index_sql(&p.index)));
        undo.extend(partitions.iter().map(|p| {
            format!(
                "ALTER INDEX {} ATTACH PARTITION {}",
                name.sql(),
                QualifiedName::new(&p.table.schema, &p.index.name).sql()
            )
        }));
        let mut step = Step::new(format!("DROP INDEX {}", name.sql()))
            .lock(table, AccessExclusive)
            .rev(join(undo));
        for p in partitions {
            step = step.lock(&p.table, AccessExclusive);
        }
        return step;
    }
    if ctx.online {
        Step::new(format!("DROP INDEX CONCURRENTLY {}", name.sql()))
            .non_transactional()
            .lock(table, ShareUpdateExclusive)
            .rev(concurrently(&i.definition))
    } else {
        Step::new(format!("DROP INDEX {}", name.sql()))
            .lock(table, AccessExclusive)
            .rev(ddl::index_sql(i))
    }
}
