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
    }
    let mut out = Vec::new();
    for f in files {
        let Some(text) = sources.get(&f.name) else {
            continue;
        };
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
