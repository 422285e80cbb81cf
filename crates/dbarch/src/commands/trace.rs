//! `dbarch lint --trace`: each migration file runs on a throwaway server holding the target's
//! schema (filled with synthetic rows) or, without a target, an empty database; what every
//! statement really did — locks held, rewrites, full scans, errors — becomes findings.

use crate::cli::{DbArgs, GlobalArgs};
use crate::commands::lint::LintFile;
use crate::target;
use anyhow::{Context as _, Result};
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, PgInstall, SessionOptions};
use dbarch_report::Diagnostic;
use dbarch_trace::{FillOptions, Script, StatementTrace};
use std::collections::HashMap;
use std::time::Duration;

/// Rows per table on the shadow when the target's schema is copied: enough for scans and
/// rewrites to show, small enough to stay quick.
const TRACE_ROWS: u64 = 1_000;

pub async fn trace_files(
    global: &GlobalArgs,
    db: &DbArgs,
    files: &[LintFile],
    sources: &HashMap<String, String>,
) -> Result<Vec<Diagnostic>> {
    // The target's schema, when one is given (never the dev server: linting files must not
    // start one).
    let target = match dbarch_pg::ConnConfig::from_env(db.url.as_deref())? {
        Some(_) => {
            let clients = target::connect_for_introspection(global, db).await?;
            let refs: Vec<_> = clients.iter().collect();
            let intro = dbarch_catalog::introspect_parallel(
                &refs,
                &dbarch_catalog::Options {
                    stats: true,
                    ..Default::default()
                },
            )
            .await?;
            Some((intro.database, u32::try_from(intro.server.major()).ok()))
        }
        None => None,
    };
    let needs_pgvector = sources.values().any(|t| t.contains("vector"))
        || target
            .as_ref()
            .is_some_and(|(d, _)| d.extensions.iter().any(|e| e.name == "vector"));
    let discover = DiscoverOptions {
        require_pgvector: needs_pgvector,
        ..target::discover_options(global)
    };
    let install = match target.as_ref().and_then(|(_, m)| *m) {
        Some(major) => {
            dbarch_pg::ShadowChoice::for_target(major, needs_pgvector, &discover)?.install
        }
        None => PgInstall::discover(&discover)?,
    };
    let server = tokio::task::spawn_blocking(move || EphemeralServer::start(&install))
        .await
        .context("the trace server's start was interrupted")??;
    let result = run(&server, target.as_ref().map(|(d, _)| d), files, sources).await;
    tokio::task::spawn_blocking(move || drop(server)).await.ok();
    result
}

async fn run(
    server: &EphemeralServer,
    schema: Option<&dbarch_model::Database>,
    files: &[LintFile],
    sources: &HashMap<String, String>,
) -> Result<Vec<Diagnostic>> {
    let config = ConnConfig::parse(&server.url("postgres"))?;
    let session = SessionOptions {
        statement_timeout: Some(Duration::from_secs(600)),
        ..SessionOptions::writer()
    };
    let client = dbarch_pg::connect(&config, &session).await?;
    let observer = dbarch_pg::connect(&config, &session).await?;
    if let Some(schema) = schema {
        client
            .batch_execute(&dbarch_ddl::schema_sql(schema))
            .await
            .context("copying the target's schema to the trace server")?;
        dbarch_trace::fill(
            &client,
            schema,
            &FillOptions {
                rows: TRACE_ROWS,
                ..Default::default()
            },
        )
        .await?;
    } else {
        replay_earlier_migrations(&client, files).await?;
    }
    let mut out = Vec::new();
    for f in files {
        if is_down_script(f) {
            continue;
        }
        let Some(text) = sources.get(&f.name) else {
            continue;
        };
        // dbmate keeps both directions in one file: only the up part runs.
        let text = text
            .split_once("-- migrate:down")
            .map_or(text.as_str(), |(up, _)| up);
        let statements = dbarch_migrate::split::statements(text);
        let transactional =
            !no_transaction_marker(text) && !dbarch_migrate::split::manages_transactions(text);
        let script = Script::new(text, statements, transactional);
        let trace = dbarch_trace::trace_script_with(
            &client,
            &script,
            &dbarch_trace::TraceOptions {
                observer: Some(&observer),
                ..Default::default()
            },
        )
        .await?;
        for s in &trace.statements {
            out.extend(findings(&f.name, text, s));
        }
    }
    Ok(out)
}

/// Down scripts undo what the ups did: tracing them in sequence would trace a different
/// schema than production sees.
fn is_down_script(f: &LintFile) -> bool {
    let name = f
        .path
        .as_deref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    name.ends_with(".down.sql")
        || name == "down.sql"
        || (name.starts_with('U') && name.contains("__") && name.ends_with(".sql"))
}

/// Without a target, the schema a linted migration runs on is the history before it: the
/// migrations of its directory that sort before the first linted one (and are not linted
/// themselves) are applied first, untraced.
async fn replay_earlier_migrations(
    client: &dbarch_pg::tokio_postgres::Client,
    files: &[LintFile],
) -> Result<()> {
    let mut dirs: Vec<std::path::PathBuf> = files
        .iter()
        .filter_map(|f| f.path.as_deref()?.parent().map(|p| p.to_path_buf()))
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        // Not a migrations directory (names that are not versions): nothing to replay.
        let Ok(migrations) = dbarch_migrate::load(&dir) else {
            continue;
        };
        let linted = |p: &std::path::Path| {
            files
                .iter()
                .any(|f| f.path.as_deref().is_some_and(|q| same(q, p)))
        };
        for m in migrations.iter().take_while(|m| !linted(&m.up.path)) {
            let what = || {
                format!(
                    "replaying {} before the traced migrations",
                    m.up.path.display()
                )
            };
            if m.up.transactional {
                client.batch_execute(&m.up.sql).await.with_context(what)?;
            } else {
                // One statement at a time, as the runner does (CONCURRENTLY cannot run in the
                // implicit transaction of a multi-statement query).
                for stmt in dbarch_migrate::split::statements(&m.up.sql) {
                    client.batch_execute(&stmt).await.with_context(what)?;
                }
            }
        }
    }
    Ok(())
}

fn same(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn no_transaction_marker(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.eq_ignore_ascii_case("-- dbarch:no-transaction")
            || l.eq_ignore_ascii_case("-- no-transaction")
    })
}

/// What one traced statement did, as findings on its line.
fn findings(file: &str, text: &str, s: &StatementTrace) -> Vec<Diagnostic> {
    let line = u32::try_from(s.line).unwrap_or(1);
    let column = text
        .get(..s.offset.min(text.len()))
        .and_then(|before| before.rsplit('\n').next())
        .map_or(1, |l| l.chars().count() as u32 + 1);
    let at = |d: Diagnostic| d.with_location(file, line, column);
    let mut out = Vec::new();
    if let Some(e) = &s.error {
        out.push(at(dbarch_lint::diagnostic(
            "M043",
            format!("statement failed on the trace server: {}", e.message),
        )
        .with_help(
            "The migration would fail here against this schema; a transactional migration \
             rolls back, a non-transactional one stops after the statements before it.",
        )));
    }
    for l in s.strongest_locks() {
        if l.new || !l.mode.blocks_writes() || !is_table_like(&l.kind) {
            continue;
        }
        let what = if l.mode.blocks_reads() {
            "blocks reads and writes"
        } else {
            "blocks writes"
        };
        out.push(at(dbarch_lint::diagnostic(
            "M044",
            format!(
                "held {} on {} ({what}) — measured: statement took {:.1} ms",
                l.mode.as_str(),
                l.relation,
                s.duration_ms
            ),
        )
        .with_object(l.relation.clone())));
    }
    for r in &s.rewrites {
        out.push(at(dbarch_lint::diagnostic(
            "M045",
            format!(
                "rewrote {} {} (every row copied, its indexes rebuilt)",
                r.kind, r.relation
            ),
        )
        .with_object(r.relation.clone())));
    }
    for scan in &s.seq_scans {
        out.push(at(dbarch_lint::diagnostic(
            "M046",
            format!(
                "scanned all of {} ({} rows read)",
                scan.relation, scan.rows_read
            ),
        )
        .with_object(scan.relation.clone())));
    }
    out
}

fn is_table_like(kind: &str) -> bool {
    matches!(
        kind,
        "table" | "partitioned table" | "materialized view" | "view"
    )
}
