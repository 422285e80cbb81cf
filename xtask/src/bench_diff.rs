//! The `diff` benchmark: `dbarch_diff::diff` + `dbarch_diff::plan` of two synthetic
//! 10,000-table models held in memory (no server), the second with a few hundred changes.

use std::time::Instant;

use anyhow::{Result, bail};
use dbarch_diff::{DiffOptions, PlanContext, diff, plan};
use dbarch_model::*;
use serde_json::{Value, json};

use crate::bench::{machine, median, round, summary};

const SCHEMAS: usize = 4;

fn schema_of(i: usize) -> String {
    format!("s{}", i % SCHEMAS)
}

fn column(name: &str, data_type: &str, not_null: bool) -> Column {
    Column {
        not_null,
        ..Column::new(name, data_type)
    }
}

fn constraint(name: &str, kind: ConstraintKind, definition: String) -> Constraint {
    Constraint::new(name, kind, definition)
}

fn index(schema: &str, table: &str, name: &str, columns: &[&str]) -> Index {
    Index {
        name: name.into(),
        method: "btree".into(),
        keys: columns
            .iter()
            .map(|c| IndexKey {
                target: IndexTarget::Column((*c).into()),
                opclass: None,
                collation: None,
                descending: false,
                nulls_first: None,
            })
            .collect(),
        include: Vec::new(),
        unique: false,
        nulls_not_distinct: false,
        predicate: None,
        options: Vec::new(),
        valid: true,
        constraint: None,
        parent_index: None,
        definition: format!(
            "CREATE INDEX {name} ON {schema}.{table} USING btree ({})",
            columns.join(", ")
        ),
        comment: None,
    }
}

/// Table `t{i}` in schema `s{i % 4}`: 8 columns, a primary key, a foreign key to the table
/// 4 before it (same schema), a CHECK on every third, two secondary indexes.
fn table(i: usize) -> Table {
    let (schema, name) = (schema_of(i), format!("t{i}"));
    let mut constraints = vec![constraint(
        &format!("{name}_pkey"),
        ConstraintKind::PrimaryKey {
            columns: vec!["id".into()],
        },
        "PRIMARY KEY (id)".into(),
    )];
    if i >= SCHEMAS {
        let target = format!("t{}", i - SCHEMAS);
        constraints.push(constraint(
            &format!("{name}_parent_id_fkey"),
            ConstraintKind::ForeignKey {
                columns: vec!["parent_id".into()],
                references: QualifiedName::new(&schema, &target),
                referenced_columns: vec!["id".into()],
                on_update: FkAction::NoAction,
                on_delete: FkAction::Cascade,
                match_type: FkMatch::Simple,
            },
            format!("FOREIGN KEY (parent_id) REFERENCES {schema}.{target}(id) ON DELETE CASCADE"),
        ));
    }
    if i.is_multiple_of(3) {
        constraints.push(constraint(
            &format!("{name}_amount_check"),
            ConstraintKind::Check {
                expression: "(amount >= (0)::numeric)".into(),
                no_inherit: false,
            },
            "CHECK ((amount >= (0)::numeric))".into(),
        ));
    }
    let mut created = column("created_at", "timestamp with time zone", true);
    created.default = Some("now()".into());
    let mut status = column("status", "text", true);
    status.default = Some("'new'::text".into());
    Table {
        schema: schema.clone(),
        name: name.clone(),
        unlogged: false,
        partition_key: None,
        partition_of: None,
        inherits: Vec::new(),
        columns: vec![
            column("id", "bigint", true),
            column("parent_id", "bigint", false),
            column("name", "text", true),
            column("email", "character varying(200)", false),
            column("amount", "numeric(12,2)", false),
            status,
            column("payload", "jsonb", false),
            created,
        ],
        constraints,
        indexes: vec![
            index(&schema, &name, &format!("{name}_parent_id"), &["parent_id"]),
            index(
                &schema,
                &name,
                &format!("{name}_status_created"),
                &["status", "created_at"],
            ),
        ],
        triggers: Vec::new(),
        rls_enabled: false,
        rls_forced: false,
        policies: Vec::new(),
        options: Vec::new(),
        comment: i.is_multiple_of(2).then(|| format!("table {i}")),
        grants: Vec::new(),
        stats: None,
    }
}

fn model(tables: usize) -> Database {
    let mut db = Database {
        schemas: (0..SCHEMAS)
            .map(|s| Schema {
                name: format!("s{s}"),
                comment: None,
                grants: Vec::new(),
            })
            .collect(),
        tables: (0..tables).map(table).collect(),
        ..Default::default()
    };
    db.normalize();
    db
}

/// The second model: the first with changes spread over the tables (added columns, changed
/// and new indexes, retyped columns, new CHECKs, comments, dropped and new tables).
fn changed(from: &Database, tables: usize) -> Database {
    let mut to = from.clone();
    let n = |t: &Table| t.name[1..].parse::<usize>().unwrap();
    // The last 20 tables go (nothing else references them: FKs point backwards).
    to.tables.retain(|t| n(t) < tables - 20);
    for t in &mut to.tables {
        let i = n(t);
        if i.is_multiple_of(50) {
            t.columns.push(column("extra", "integer", false));
        }
        if i.is_multiple_of(100) {
            t.indexes[0]
                .definition
                .push_str(" WHERE (parent_id IS NOT NULL)");
            t.indexes[0].predicate = Some("(parent_id IS NOT NULL)".into());
        }
        if i.is_multiple_of(125) {
            let (schema, name) = (t.schema.clone(), t.name.clone());
            t.indexes
                .push(index(&schema, &name, &format!("{name}_email"), &["email"]));
        }
        if i.is_multiple_of(250) {
            t.columns[3].data_type = "character varying(320)".into();
        }
        if i.is_multiple_of(200) {
            t.comment = Some(format!("table {i}, changed"));
        }
    }
    to.tables.extend((tables..tables + 20).map(table));
    to.normalize();
    to
}

pub fn diff_bench(tables: usize, runs: u32) -> Result<Value> {
    let started = Instant::now();
    let from = model(tables);
    let to = changed(&from, tables);
    let build_s = started.elapsed().as_secs_f64();
    let opts = DiffOptions {
        allow_destructive: true,
        renames: Vec::new(),
    };
    let ctx = PlanContext {
        server_major: 18,
        online: true,
    };
    let once = || -> Result<(f64, f64, f64, usize, usize)> {
        let (t0, c0) = (Instant::now(), thread_cpu_s());
        let changes = diff(&from, &to, &opts)?;
        let diffed = t0.elapsed().as_secs_f64();
        let p = plan(&changes, &ctx);
        let total = t0.elapsed().as_secs_f64();
        let cpu = thread_cpu_s() - c0;
        Ok((diffed, total, cpu, changes.len(), p.steps.len()))
    };
    let (_, _, _, changes, steps) = once()?; // warm-up
    if changes < 200 {
        bail!("only {changes} changes: the generator is off");
    }
    let (mut diff_s, mut total_s, mut cpu_s) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let (d, t, c, _, _) = once()?;
        diff_s.push(d);
        total_s.push(t);
        cpu_s.push(c);
        eprintln!(
            "run {}/{runs}: diff {d:.3} s, diff + plan {t:.3} s (CPU {c:.3} s)",
            run + 1
        );
    }
    eprintln!(
        "{tables} tables, {changes} changes, {steps} steps: median diff {:.3} s, diff + plan {:.3} s \
         (CPU {:.3} s)",
        median(&diff_s),
        median(&total_s),
        median(&cpu_s)
    );
    Ok(json!({
        "version": 1,
        "benchmark": "diff",
        "machine": machine(),
        "tables": tables,
        "columns": from.tables.iter().map(|t| t.columns.len()).sum::<usize>(),
        "indexes": from.tables.iter().map(|t| t.indexes.len()).sum::<usize>(),
        "changes": changes,
        "steps": steps,
        "build_models_s": round(build_s),
        "runs": runs,
        "results": {
            "diff": summary(&diff_s),
            "diff_and_plan": summary(&total_s),
            "diff_and_plan_cpu": summary(&cpu_s),
        },
    }))
}

/// CPU time of this thread: on a shared machine, wall time also counts the time other
/// processes had the core (diff and plan are single-threaded).
fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}
