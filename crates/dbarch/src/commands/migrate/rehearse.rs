//! `dbarch migrate test`: the pending migrations rehearsed on production-sized synthetic data.
//!
//! Which migrations are applied: with `--last N`, all but the last N (no database is read);
//! otherwise the target's history (`--url`, `DATABASE_URL`, `PG*`, else the dev server, as for
//! `migrate status`), read in a read-only session. A migration that failed part-way on the
//! target is rehearsed from its start; an edited one is replayed as its file now reads. A
//! target without history rehearses every migration from an empty schema (tables created by
//! pending migrations stay empty, as they would be in the same deploy).
//!
//! Then, on a shadow server of the target's major version: the applied migrations are
//! replayed by the runner, every table is filled (`--rows`, or `--like URL`: the row counts
//! that database's statistics estimate, capped by `--max-rows`), the tables are analyzed,
//! and each pending migration is run by the tracer (`dbarch_trace`), which reports per
//! statement its duration, locks, rewrites and full scans. The target is only read (its
//! history, its server version; with `--like`, its statistics).

use super::load;
use crate::cli::{FindingsFormat, GlobalArgs, MigrateTestArgs};
use crate::exit::{self, usage};
use crate::output::emit;
use crate::target;
use anyhow::{Context, Result};
use dbarch_migrate::replay::Shadow;
use dbarch_migrate::{Migration, Options, State, runner, split};
use dbarch_pg::tokio_postgres::Client;
use dbarch_pg::{ConnConfig, SessionOptions};
use dbarch_trace::{
    FillOptions, FillReport, LockHold, LockMode, LockSource, Script, Trace, TraceOptions,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// One pending migration, rehearsed.
#[derive(Debug, Serialize)]
struct Rehearsed {
    version: String,
    name: String,
    file: std::path::PathBuf,
    trace: Trace,
    /// The strongest lock on each relation, the statement that took it and how long it was
    /// held.
    lock_holds: Vec<LockHold>,
    warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Failure {
    version: String,
    name: String,
    file: std::path::PathBuf,
    statement: usize,
    line: usize,
    sql: String,
    error: String,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    migrations: usize,
    statements: usize,
    duration_ms: f64,
    rewrites: usize,
    full_scans: usize,
    warnings: usize,
    failed: bool,
}

#[derive(Debug, Serialize)]
struct Document {
    version: u32,
    /// Where the applied/pending split came from: `history` (a database's) or `last`.
    applied_from: &'static str,
    server_major: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback_reason: Option<String>,
    applied: Vec<String>,
    notes: Vec<String>,
    fill: Option<FillReport>,
    migrations: Vec<Rehearsed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<Failure>,
    summary: Summary,
}

pub async fn run(global: &GlobalArgs, args: &MigrateTestArgs) -> Result<u8> {
    if !args.lock_warn.is_finite() || args.lock_warn < 0.0 {
        return Err(usage("--lock-warn must be a number of seconds, 0 or more"));
    }
    let migrations = load(&args.dirs)?;
    let mut notes = Vec::new();
    let (applied, pending, applied_from, mut major) = match args.last {
        Some(n) => {
            if n > migrations.len() {
                return Err(usage(format!(
                    "--last {n}: there are only {} migration(s)",
                    migrations.len()
                )));
            }
            let (a, p) = migrations.split_at(migrations.len() - n);
            (a.to_vec(), p.to_vec(), "last", None)
        }
        None => {
            let client = target::connect(global, &args.db, false).await?;
            let (a, p) = split_by_history(&client, &migrations, &mut notes).await?;
            if a.is_empty() && !p.is_empty() {
                notes.push(
                    "no migration is applied on the target: all are rehearsed, from an empty schema"
                        .into(),
                );
            }
            (a, p, "history", Some(server_major(&client).await?))
        }
    };
    let mut fill_opts = FillOptions {
        rows: args.rows,
        seed: args.seed,
        ..FillOptions::default()
    };
    if let Some(url) = &args.like {
        let config = ConnConfig::parse(url)?;
        let client = dbarch_pg::connect(&config, &SessionOptions::default()).await?;
        fill_opts.per_table = like_counts(&client, args.max_rows, &mut notes).await?;
        major = major.or(Some(server_major(&client).await?));
    }
    if pending.is_empty() {
        if !global.quiet {
            eprintln!("dbarch: no pending migration: nothing to rehearse");
        }
        if args.format == FindingsFormat::Json {
            let doc = Document {
                version: 1,
                applied_from,
                server_major: major.unwrap_or(0),
                fallback_reason: None,
                applied: applied.iter().map(|m| m.version.clone()).collect(),
                notes,
                fill: None,
                migrations: Vec::new(),
                failed: None,
                summary: Summary::default(),
            };
            emit(&json(&doc)?, None)?;
        }
        return Ok(0);
    }

    // Pgvector is looked for when any migration, pending ones included, mentions it.
    let shadow = Shadow::start(&migrations, major, &target::discover_options(global)).await?;
    if let Some(reason) = &shadow.fallback_reason {
        eprintln!("dbarch: {reason}");
    }
    let result = rehearse(global, &shadow, &applied, &pending, &fill_opts, args).await;
    let server_major = shadow.server_major;
    let fallback_reason = shadow.fallback_reason.clone();
    shadow.stop().await;
    let (fill, migrations, failed) = result?;

    let mut summary = Summary {
        migrations: migrations.len(),
        failed: failed.is_some(),
        ..Summary::default()
    };
    for m in &migrations {
        summary.statements += m.trace.statements.len();
        summary.duration_ms += m.trace.duration_ms();
        summary.warnings += m.warnings.len();
        for s in &m.trace.statements {
            summary.rewrites += s.rewrites.len();
            summary.full_scans += s.seq_scans.len();
        }
    }
    let doc = Document {
        version: 1,
        applied_from,
        server_major,
        fallback_reason,
        applied: applied.iter().map(|m| m.version.clone()).collect(),
        notes,
        fill: Some(fill),
        migrations,
        failed,
        summary,
    };
    let text = match args.format {
        FindingsFormat::Json => json(&doc)?,
        FindingsFormat::Text => render(&doc),
    };
    emit(&text, None)?;
    if let Some(f) = &doc.failed {
        eprintln!(
            "dbarch: migration {} {} failed on the rehearsal data at statement {} (line {}): {}",
            f.version, f.name, f.statement, f.line, f.error
        );
        return Ok(exit::FINDINGS);
    }
    Ok(0)
}

fn json(doc: &Document) -> Result<String> {
    let mut s = serde_json::to_string_pretty(doc)?;
    s.push('\n');
    Ok(s)
}

async fn server_major(client: &Client) -> Result<u32> {
    let v: i32 = client
        .query_one(
            "SELECT current_setting('server_version_num')::int / 10000",
            &[],
        )
        .await?
        .get(0);
    Ok(u32::try_from(v).unwrap_or(0))
}

/// Applied and pending migrations by the target's history.
async fn split_by_history(
    client: &Client,
    migrations: &[Migration],
    notes: &mut Vec<String>,
) -> Result<(Vec<Migration>, Vec<Migration>)> {
    let entries = runner::status(client, migrations).await?;
    let mut applied = Vec::new();
    let mut pending = Vec::new();
    for m in migrations {
        let Some(e) = entries.iter().find(|e| e.version == m.version) else {
            continue;
        };
        match e.state {
            State::Applied => applied.push(m.clone()),
            State::ChecksumMismatch => {
                notes.push(format!(
                    "{} {} was edited after it was applied: replayed as its file reads now",
                    m.version, m.name
                ));
                applied.push(m.clone());
            }
            State::Failed => {
                notes.push(format!(
                    "{} {} failed part-way on the target: rehearsed from its first statement",
                    m.version, m.name
                ));
                pending.push(m.clone());
            }
            State::Pending => pending.push(m.clone()),
            State::MissingFile => {}
        }
    }
    for e in entries.iter().filter(|e| e.state == State::MissingFile) {
        notes.push(format!(
            "{} {} is applied on the target but has no file: not replayed",
            e.version, e.name
        ));
    }
    Ok((applied, pending))
}

/// Rows per table (`schema.name`) as the statistics of `client`'s database estimate them,
/// capped; tables never analyzed are left to `--rows`.
async fn like_counts(
    client: &Client,
    cap: u64,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, u64>> {
    let rows = client
        .query(
            "SELECT n.nspname, c.relname, \
                    CASE WHEN c.relkind = 'p' THEN \
                         (SELECT sum(greatest(p.reltuples, 0)) FROM pg_partition_tree(c.oid) t \
                          JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf) \
                         ELSE nullif(c.reltuples, -1) END::float8 \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_dbarch') \
               AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'",
            &[],
        )
        .await
        .context("reading row estimates for --like")?;
    let mut out = BTreeMap::new();
    let mut capped = 0;
    let mut unknown = 0;
    for r in rows {
        let (schema, name): (String, String) = (r.get(0), r.get(1));
        let Some(n) = r.get::<_, Option<f64>>(2) else {
            unknown += 1;
            continue;
        };
        let n = n.max(0.0).round() as u64;
        if n > cap {
            capped += 1;
        }
        out.insert(format!("{schema}.{name}"), n.min(cap));
    }
    if capped > 0 {
        notes.push(format!(
            "--like: {capped} table(s) capped to {cap} rows (--max-rows)"
        ));
    }
    if unknown > 0 {
        notes.push(format!(
            "--like: {unknown} table(s) never analyzed there: filled with --rows rows"
        ));
    }
    Ok(out)
}

type Outcome = (FillReport, Vec<Rehearsed>, Option<Failure>);

async fn rehearse(
    global: &GlobalArgs,
    shadow: &Shadow,
    applied: &[Migration],
    pending: &[Migration],
    fill_opts: &FillOptions,
    args: &MigrateTestArgs,
) -> Result<Outcome> {
    let c = &shadow.client;
    let opts = Options {
        lock_retries: 0,
        ..Options::default()
    };
    runner::up(c, applied, None, false, &opts).await?;
    // Nothing else runs on the shadow: no timeouts for big fills and slow statements.
    c.batch_execute("SET statement_timeout = 0; SET lock_timeout = 0")
        .await?;
    let model = shadow.model().await?;
    if !global.quiet {
        eprintln!(
            "dbarch: replayed {} applied migration(s) on the shadow (PostgreSQL {}); filling {} table(s)",
            applied.len(),
            shadow.server_major,
            model.tables.iter().filter(|t| !t.is_partition()).count()
        );
    }
    let fill = dbarch_trace::fill(c, &model, fill_opts).await?;
    let url = shadow
        .url("postgres")
        .context("the shadow server has no URL")?;
    let observer =
        dbarch_pg::connect(&ConnConfig::parse(&url)?, &SessionOptions::default()).await?;
    let trace_opts = TraceOptions {
        observer: Some(&observer),
        ..TraceOptions::default()
    };
    let warn_ms = args.lock_warn * 1000.0;
    let mut out = Vec::new();
    let mut failed = None;
    for m in pending {
        let script = Script::new(&m.up.sql, split::statements(&m.up.sql), m.up.transactional);
        let trace = dbarch_trace::trace_script_with(c, &script, &trace_opts).await?;
        let lock_holds = trace.lock_holds();
        let warnings = lock_holds
            .iter()
            // Tables (and views): an index's lock comes with its table's.
            .filter(|h| !h.new && !h.kind.contains("index"))
            .filter(|h| h.mode.blocks_writes() && h.held_ms > warn_ms)
            .map(|h| lock_warning(h, trace.transactional))
            .collect();
        if let Some(s) = trace.failed() {
            failed = Some(Failure {
                version: m.version.clone(),
                name: m.name.clone(),
                file: m.up.path.clone(),
                statement: s.index,
                line: s.line,
                sql: s.sql.clone(),
                error: s
                    .error
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            });
        }
        let stop = failed.is_some();
        out.push(Rehearsed {
            version: m.version.clone(),
            name: m.name.clone(),
            file: m.up.path.clone(),
            trace,
            lock_holds,
            warnings,
        });
        if stop {
            break;
        }
    }
    Ok((fill, out, failed))
}

fn lock_warning(h: &LockHold, transactional: bool) -> String {
    let span = if transactional {
        format!("from statement {} to the commit", h.statement)
    } else {
        format!("statement {}", h.statement)
    };
    let observed = if h.source == LockSource::Observed {
        "observed "
    } else {
        ""
    };
    let who = if h.mode == LockMode::AccessExclusiveLock {
        "reads and writes"
    } else {
        "writes"
    };
    format!(
        "{observed}{} on {} held for {} ({span}): {who} of it wait that long",
        h.mode,
        h.relation,
        human_ms(h.held_ms)
    )
}

fn human_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// 1234567 → `1,234,567`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn render(doc: &Document) -> String {
    let mut s = String::new();
    let fill = doc.fill.as_ref();
    s.push_str(&format!(
        "Rehearsal on a shadow PostgreSQL {} server: {} replayed, {}.\n",
        doc.server_major,
        plural(doc.applied.len(), "applied migration"),
        match fill {
            Some(f) => format!(
                "{} filled with {} rows in {}",
                plural(f.tables.len(), "table"),
                thousands(f.rows),
                human_ms(f.duration_ms)
            ),
            None => "no table filled".into(),
        }
    ));
    for n in &doc.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    if let Some(f) = fill {
        s.push('\n');
        let width = f.tables.iter().map(|t| t.table.len()).max().unwrap_or(0);
        for t in &f.tables {
            let mut line = format!("  {:<width$}  {:>10} rows", t.table, thousands(t.inserted));
            if t.inserted < t.requested && t.error.is_none() {
                line.push_str(&format!(" (of {})", thousands(t.requested)));
            }
            s.push_str(line.trim_end());
            s.push('\n');
            if let Some(e) = &t.error {
                s.push_str(&format!("      not filled: {e}\n"));
            }
            for n in &t.notes {
                s.push_str(&format!("      note: {n}\n"));
            }
        }
    }
    for m in &doc.migrations {
        let t = &m.trace;
        let ran = if t.statements.len() == t.statement_count {
            plural(t.statement_count, "statement")
        } else {
            format!(
                "{} of {} statements run",
                t.statements.len(),
                t.statement_count
            )
        };
        s.push_str(&format!(
            "\n{} {} ({}, {ran}, {})\n",
            m.version,
            m.name,
            if t.transactional {
                "one transaction"
            } else {
                "autocommit"
            },
            human_ms(t.duration_ms())
        ));
        for st in &t.statements {
            s.push_str(&format!(
                "  #{} line {}: {}  [{}]\n",
                st.index,
                st.line,
                st.short_sql(72),
                human_ms(st.duration_ms)
            ));
            if let Some(e) = &st.error {
                s.push_str(&format!("      error: {e}\n"));
                continue;
            }
            let mut locks: Vec<String> = Vec::new();
            let source = match st.lock_source {
                LockSource::Held => "locks",
                LockSource::Observed => "locks (observed)",
                LockSource::Unknown => "locks (not observed)",
            };
            let mut by_rel: BTreeMap<&str, LockMode> = BTreeMap::new();
            for l in st.locks_added.iter().filter(|l| !l.new) {
                let e = by_rel.entry(&l.relation).or_insert(l.mode);
                *e = (*e).max(l.mode);
            }
            for (rel, mode) in by_rel {
                if mode > LockMode::AccessShareLock {
                    locks.push(format!("{mode} on {rel}"));
                }
            }
            if !locks.is_empty() {
                s.push_str(&format!("      {source}: {}\n", locks.join(", ")));
            }
            if !st.rewrites.is_empty() {
                let r: Vec<String> = st
                    .rewrites
                    .iter()
                    .map(|r| format!("{} ({})", r.relation, r.kind))
                    .collect();
                s.push_str(&format!("      rewrites: {}\n", r.join(", ")));
            }
            if !st.seq_scans.is_empty() {
                let r: Vec<String> = st
                    .seq_scans
                    .iter()
                    .map(|r| {
                        format!(
                            "{} ({}, {} rows read)",
                            r.relation,
                            plural(r.scans as usize, "scan"),
                            thousands(r.rows_read as u64)
                        )
                    })
                    .collect();
                s.push_str(&format!("      full scans: {}\n", r.join(", ")));
            }
        }
        if t.transactional && t.committed {
            s.push_str(&format!("  commit  [{}]\n", human_ms(t.commit_ms)));
        }
        for w in &m.warnings {
            s.push_str(&format!("  warning: {w}\n"));
        }
    }
    if let Some(f) = &doc.failed {
        s.push_str(&format!(
            "\nmigration {} {} failed at statement {} (line {} of {}): {}\n",
            f.version,
            f.name,
            f.statement,
            f.line,
            f.file.display(),
            f.error
        ));
    }
    let sum = &doc.summary;
    s.push_str(&format!(
        "\nSummary: {}, {} in {}; {}, {}; {}{}.\n",
        plural(sum.migrations, "migration"),
        plural(sum.statements, "statement"),
        human_ms(sum.duration_ms),
        plural(sum.rewrites, "rewrite"),
        plural(sum.full_scans, "full scan"),
        plural(sum.warnings, "warning"),
        if sum.failed { "; FAILED" } else { "" }
    ));
    s
}
