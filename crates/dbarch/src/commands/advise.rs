//! `dbarch advise`: the workload-level index advisor (`dbarch_query::advise`). The target
//! session is read-only; candidates are evaluated with HypoPG on the target when it is
//! installed there, else built for real on a throwaway shadow server of the target's major
//! holding its schema and a sampled copy. `--apply` builds the advice concurrently on the
//! target; `--write-migration` writes it as the next migration.

use crate::cli::{AdviseArgs, AdviseMethod, DbArgs, FindingsFormat, GlobalArgs, MigrateDirs};
use crate::exit::usage;
use crate::output::emit;
use crate::target;
use anyhow::{Context as _, Result};
use dbarch_pg::tokio_postgres::Client;
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, SessionOptions};
use dbarch_query::advise::{self, AdviseError, AdviseOptions, Evaluation, Workload};
use std::time::Duration;

pub async fn run(global: &GlobalArgs, args: AdviseArgs) -> Result<u8> {
    if args.example {
        let options = dbarch_example::LoadOptions {
            replace: true,
            ..Default::default()
        };
        super::example::load(global, &args.db, &options).await?;
    }
    // A statement log: N+1 detection only.
    if let Some(path) = args.workload.as_deref().filter(|w| is_log(w)) {
        let text =
            std::fs::read_to_string(path).map_err(|e| usage(format!("cannot read {path}: {e}")))?;
        let found = advise::nplus1::from_log(&text, 5);
        let out = match args.format {
            FindingsFormat::Json => {
                let mut s = serde_json::to_string_pretty(&serde_json::json!({
                    "version": 1,
                    "workload": path,
                    "n_plus_one": found,
                }))?;
                s.push('\n');
                s
            }
            FindingsFormat::Text => log_text(path, &found),
        };
        emit(&out, None)?;
        return Ok(0);
    }
    let client = target::connect(global, &args.db, false).await?;
    let workload = read_workload(&client, &args).await?;
    let opts = AdviseOptions {
        budget_bytes: args.budget.map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
        runs: args.runs,
        target_ms: args.target_ms,
        sample_rows: args.sample_rows.max(1),
        ..Default::default()
    };
    let writer = if args.apply {
        Some(target::connect(global, &args.db, true).await?)
    } else {
        None
    };
    let advice = evaluate(
        global,
        &args.db,
        &client,
        args.method,
        writer.as_ref(),
        &workload,
        &opts,
    )
    .await?;
    let text = match args.format {
        FindingsFormat::Text => advise::render_text(&advice),
        FindingsFormat::Json => {
            let mut s = serde_json::to_string_pretty(&advice)?;
            s.push('\n');
            s
        }
    };
    emit(&text, None)?;
    if args.write_migration {
        match advise::migration(&advice) {
            Some((up, down)) => {
                let dirs = MigrateDirs {
                    schema_dir: None,
                    migrations_dir: args.migrations_dir.clone(),
                };
                let migrations = super::migrate::load(&dirs)?;
                let (_, path) = super::migrate::write_migration(
                    &dirs,
                    &migrations,
                    "advised_indexes",
                    &up,
                    &down,
                )?;
                if !global.quiet {
                    eprintln!("dbarch: wrote the migration {}", path.display());
                }
            }
            None => {
                if !global.quiet {
                    eprintln!("dbarch: no index advised, no migration written");
                }
            }
        }
    }
    Ok(0)
}

/// Runs the advisor with the method asked for (`auto`: HypoPG when the target has it, else a
/// shadow server, started here and stopped afterwards).
pub(crate) async fn evaluate(
    global: &GlobalArgs,
    db: &DbArgs,
    client: &Client,
    method: AdviseMethod,
    writer: Option<&Client>,
    workload: &Workload,
    opts: &AdviseOptions,
) -> Result<advise::Advice> {
    let method = match method {
        AdviseMethod::Auto => {
            let hypopg = client
                .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'", &[])
                .await?
                .is_some();
            if hypopg {
                AdviseMethod::Hypopg
            } else {
                AdviseMethod::Shadow
            }
        }
        m => m,
    };
    match method {
        AdviseMethod::Shadow => {
            let (server, shadow) = start_shadow(global, db, client).await?;
            let result =
                advise::advise(client, Evaluation::Shadow(&shadow), writer, workload, opts).await;
            drop(shadow);
            tokio::task::spawn_blocking(move || drop(server)).await.ok();
            result
        }
        _ => advise::advise(client, Evaluation::Hypopg, writer, workload, opts).await,
    }
    .map_err(map_err)
}

fn is_log(w: &str) -> bool {
    w.ends_with(".log") || w.ends_with(".csv")
}

fn map_err(e: AdviseError) -> anyhow::Error {
    if e.is_input() {
        usage(e.to_string())
    } else {
        e.into()
    }
}

async fn read_workload(client: &Client, args: &AdviseArgs) -> Result<Workload> {
    if args.example && args.workload.is_none() {
        return Ok(advise::workload::from_sql(
            dbarch_example::QUERIES_SQL,
            "example/queries.sql",
        ));
    }
    match args.workload.as_deref() {
        None | Some("pg_stat_statements") => {
            advise::workload::from_pg_stat_statements(client, args.top)
                .await
                .map_err(map_err)
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read {path}: {e}")))?;
            Ok(advise::workload::from_sql(&text, path))
        }
    }
}

/// A shadow server of the target's major (pgvector when the target has it), and a writer
/// session on its `postgres` database with the same statement_timeout.
async fn start_shadow(
    global: &GlobalArgs,
    db: &DbArgs,
    client: &Client,
) -> Result<(EphemeralServer, dbarch_pg::tokio_postgres::Client)> {
    let major: u32 = client
        .query_one(
            "SELECT current_setting('server_version_num')::int / 10000",
            &[],
        )
        .await?
        .get::<_, i32>(0)
        .try_into()
        .unwrap_or(0);
    let needs_pgvector = client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'vector'", &[])
        .await?
        .is_some();
    let discover = DiscoverOptions {
        require_pgvector: needs_pgvector,
        ..target::discover_options(global)
    };
    let choice = dbarch_pg::ShadowChoice::for_target(major, needs_pgvector, &discover)?;
    if let Some(reason) = &choice.fallback_reason
        && !global.quiet
    {
        eprintln!("dbarch: {reason}");
    }
    let install = choice.install;
    let server = tokio::task::spawn_blocking(move || EphemeralServer::start(&install))
        .await
        .context("the shadow server's start was interrupted")??;
    let config = ConnConfig::parse(&server.url("postgres"))?;
    let session = SessionOptions {
        statement_timeout: Some(Duration::from_secs(db.statement_timeout)),
        ..SessionOptions::writer()
    };
    let shadow = dbarch_pg::connect(&config, &session).await?;
    Ok((server, shadow))
}

fn log_text(path: &str, found: &[advise::nplus1::NPlusOne]) -> String {
    if found.is_empty() {
        return format!(
            "No N+1 pattern in {path} (no statement repeated 5 times in one transaction).\n"
        );
    }
    let mut s = format!("N+1 queries in {path}:\n");
    for n in found {
        s.push_str(&format!(
            "  {} on {}.{} ({})\n    batch it: {}\n",
            n.query, n.table, n.column, n.evidence, n.rewrite
        ));
    }
    s
}

/// The review's "Index advice" section: the bundled example's queries with `--example`, else
/// pg_stat_statements when it can be read; otherwise a sentence saying how to get advice.
pub(crate) async fn review_section(
    global: &GlobalArgs,
    db: &DbArgs,
    client: &Client,
    example: bool,
) -> Result<dbarch_review::Section> {
    let workload = if example {
        Ok(advise::workload::from_sql(
            dbarch_example::QUERIES_SQL,
            "example/queries.sql",
        ))
    } else {
        advise::workload::from_pg_stat_statements(client, 20).await
    };
    let (markdown, data) = match workload {
        Ok(w) if !w.queries.is_empty() => {
            let advice = evaluate(
                global,
                db,
                client,
                AdviseMethod::Auto,
                None,
                &w,
                &AdviseOptions::default(),
            )
            .await?;
            (
                advise::render_markdown(&advice),
                serde_json::to_value(&advice)?,
            )
        }
        Ok(_) => (
            "pg_stat_statements holds no statement on this database's tables yet: run \
             `dbarch advise --workload FILE.sql` with the application's queries.\n"
                .to_owned(),
            serde_json::Value::Null,
        ),
        Err(e) if e.is_input() => (
            format!("No workload to advise on: {e}.\n"),
            serde_json::Value::Null,
        ),
        Err(e) => return Err(e.into()),
    };
    Ok(dbarch_review::Section {
        id: "index-advice".into(),
        title: "Index advice".into(),
        markdown,
        data,
    })
}
