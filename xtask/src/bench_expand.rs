//! The `expand` benchmark: what the expand/contract sync trigger (`migrate plan --online`)
//! costs on writes. Two tables of --rows rows, identical but for the expand state: `plain`
//! (`id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0, payload text`), and `synced`, the
//! same after the expand migration of `n integer → bigint` (the added `n_dbarch_new bigint`,
//! backfilled, and the trigger and function exactly as the planner writes them). Single-row
//! writes from --clients sessions for --secs seconds per run, alternating the two tables run
//! by run, --runs repetitions; medians of the throughputs and their ratio.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use dbarch_diff::{DiffOptions, PlanContext, diff, plan_expand_contract};
use dbarch_model::Database;
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, PgInstall, SessionOptions};
use serde_json::{Value, json};

use crate::bench::{machine, median, round};

pub struct Params {
    pub rows: u64,
    pub clients: usize,
    pub secs: f64,
    pub runs: u32,
}

fn session() -> SessionOptions {
    SessionOptions {
        statement_timeout: Some(Duration::ZERO),
        ..SessionOptions::writer()
    }
}

fn model(n_type: &str) -> Result<Database> {
    Ok(serde_json::from_value(json!({"tables": [{
        "schema": "public", "name": "synced",
        "columns": [
            {"name": "id", "data_type": "bigint", "not_null": true},
            {"name": "n", "data_type": n_type, "not_null": true, "default": "0"},
            {"name": "payload", "data_type": "text"},
        ],
        "constraints": [{"name": "synced_pkey", "type": "primary_key", "columns": ["id"],
                         "definition": "PRIMARY KEY (id)"}],
    }]}))?)
}

/// The expand migration's first step for `synced.n integer → bigint`: the new column, the
/// sync function and its trigger, as `migrate plan --online` writes them.
fn expand_sql() -> Result<String> {
    let (from, to) = (model("integer")?, model("bigint")?);
    let changes = diff(&from, &to, &DiffOptions::default())?;
    let staged = plan_expand_contract(&changes, &from, &to, &PlanContext::default());
    let step = staged
        .expand
        .steps
        .first()
        .context("the planner did not expand the type change")?;
    anyhow::ensure!(
        step.sql.contains("CREATE TRIGGER"),
        "unexpected first step: {}",
        step.sql
    );
    Ok(step.sql.clone())
}

/// The single-row writes measured: (name, SQL with `{t}` for the table, whether it fires the
/// sync trigger).
const WORKLOADS: &[(&str, &str, &str)] = &[
    (
        "update_synced_column",
        "UPDATE {t} SET n = n + 1 WHERE id = $1",
        "UPDATE of the old column (old application version): the trigger fires and fills the new one",
    ),
    (
        "update_other_column",
        "UPDATE {t} SET payload = md5(id::text || $1::text) WHERE id = $1",
        "UPDATE of another column: `UPDATE OF n, n_dbarch_new` keeps the trigger from firing",
    ),
    (
        "insert",
        "INSERT INTO {t} (id, n, payload) VALUES ($1, ($1::bigint % 1000)::int, 'x')",
        "INSERT through the old column: the trigger fills the new one",
    ),
];

/// Server-side loops: (name, loop body with `{t}`, `{rows}`, `{base}` and the loop variable
/// `i`).
const SERVER_LOOPS: &[(&str, &str)] = &[
    (
        "server_update_synced_column",
        "UPDATE {t} SET n = n + 1 WHERE id = 1 + (i * 7919) % {rows};",
    ),
    (
        "server_insert",
        "INSERT INTO {t} (id, n, payload) VALUES ({base} + i, i % 1000, 'x');",
    ),
];

pub fn expand(p: &Params) -> Result<Value> {
    let install = PgInstall::discover(&DiscoverOptions {
        provision: true,
        ..Default::default()
    })?;
    eprintln!(
        "PostgreSQL {} from {}",
        install.version,
        install.bin_dir.display()
    );
    let trigger_sql = expand_sql()?;
    let server = EphemeralServer::start(&install)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let url = server.url("bench_expand");
    let result = rt.block_on(async {
        let admin =
            dbarch_pg::connect(&ConnConfig::parse(&server.url("postgres"))?, &session()).await?;
        admin.batch_execute("CREATE DATABASE bench_expand").await?;
        let c = dbarch_pg::connect(&ConnConfig::parse(&url)?, &session()).await?;
        eprintln!("creating 2 tables of {} rows", p.rows);
        for t in ["plain", "synced"] {
            c.batch_execute(&format!(
                "CREATE TABLE {t} (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0, payload text);
                 INSERT INTO {t} (id, n, payload) SELECT g, g % 1000, md5(g::text)
                 FROM generate_series(1, {}) g;",
                p.rows
            ))
            .await?;
        }
        c.batch_execute(&trigger_sql).await?;
        c.batch_execute("UPDATE synced SET n_dbarch_new = n::bigint")
            .await?;
        c.batch_execute("VACUUM ANALYZE plain").await?;
        c.batch_execute("VACUUM ANALYZE synced").await?;
        let next_id = Arc::new(AtomicI64::new(p.rows as i64 + 1));
        let mut results = Vec::new();
        for (name, sql, what) in WORKLOADS {
            let mut tps: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
            let mut p50: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
            for run in 0..p.runs {
                // Alternate which table goes first, so that a noisy phase hits both.
                let order: [usize; 2] = if run % 2 == 0 { [0, 1] } else { [1, 0] };
                for i in order {
                    let table = ["plain", "synced"][i];
                    let (ops, lat) = measure(
                        &url,
                        &sql.replace("{t}", table),
                        p,
                        *name == "insert",
                        next_id.clone(),
                    )
                    .await?;
                    eprintln!(
                        "{name} run {} {table}: {:.0} ops/s, p50 {:.3} ms",
                        run + 1,
                        ops,
                        lat
                    );
                    tps[i].push(ops);
                    p50[i].push(lat);
                }
                c.batch_execute("VACUUM plain").await?;
                c.batch_execute("VACUUM synced").await?;
            }
            let (a, b) = (median(&tps[0]), median(&tps[1]));
            results.push(json!({
                "workload": name,
                "what": what,
                "plain_ops_per_s": a.round(),
                "synced_ops_per_s": b.round(),
                "plain_ops_per_s_runs": tps[0].iter().map(|x| x.round()).collect::<Vec<_>>(),
                "synced_ops_per_s_runs": tps[1].iter().map(|x| x.round()).collect::<Vec<_>>(),
                "plain_p50_ms": round(median(&p50[0])),
                "synced_p50_ms": round(median(&p50[1])),
                "overhead_ratio": round(a / b),
            }));
        }
        // The same writes without round trips or commits: one session runs --rows / 2
        // single-row statements in a DO block, so that the ratio is the server-side cost of
        // the statement with and without the trigger (the worst case: nothing dilutes it).
        for (name, body) in SERVER_LOOPS {
            let mut secs: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
            let n = (p.rows / 2).max(1);
            for run in 0..p.runs {
                let order: [usize; 2] = if run % 2 == 0 { [0, 1] } else { [1, 0] };
                for i in order {
                    let table = ["plain", "synced"][i];
                    let base = next_id.fetch_add(n as i64, Ordering::Relaxed);
                    let sql = format!(
                        "DO $$ BEGIN FOR i IN 1..{n} LOOP {} END LOOP; END $$",
                        body.replace("{t}", table)
                            .replace("{rows}", &p.rows.to_string())
                            .replace("{base}", &base.to_string())
                    );
                    let t0 = Instant::now();
                    c.batch_execute(&sql).await?;
                    let s = t0.elapsed().as_secs_f64();
                    eprintln!(
                        "{name} run {} {table}: {:.0} rows/s",
                        run + 1,
                        n as f64 / s
                    );
                    secs[i].push(s);
                }
                c.batch_execute("VACUUM plain").await?;
                c.batch_execute("VACUUM synced").await?;
            }
            let (a, b) = (median(&secs[0]), median(&secs[1]));
            results.push(json!({
                "workload": name,
                "what": "single-row statements in one DO block (no round trip, no commit per row)",
                "plain_ops_per_s": (n as f64 / a).round(),
                "synced_ops_per_s": (n as f64 / b).round(),
                "overhead_ratio": round(b / a),
            }));
        }
        // The two columns agree after all those writes.
        let unsynced: i64 = c
            .query_one(
                "SELECT count(*) FROM synced WHERE n_dbarch_new IS DISTINCT FROM n::bigint",
                &[],
            )
            .await?
            .get(0);
        anyhow::ensure!(unsynced == 0, "{unsynced} rows out of sync");
        Ok::<_, anyhow::Error>(results)
    });
    drop(server);
    Ok(json!({
        "version": 1,
        "benchmark": "expand",
        "machine": machine(),
        "postgres": install.version,
        "rows": p.rows,
        "clients": p.clients,
        "seconds_per_run": p.secs,
        "runs": p.runs,
        "trigger_sql": trigger_sql,
        "results": result?,
    }))
}

/// `clients` sessions running `sql` back to back for `secs`: total statements per second and
/// the median latency in ms.
async fn measure(
    url: &str,
    sql: &str,
    p: &Params,
    insert: bool,
    next_id: Arc<AtomicI64>,
) -> Result<(f64, f64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..p.clients {
        let c = dbarch_pg::connect(&ConnConfig::parse(url)?, &session()).await?;
        let stop = stop.clone();
        let next_id = next_id.clone();
        let rows = p.rows as i64;
        let sql = sql.to_string();
        tasks.push(tokio::spawn(async move {
            let stmt = c.prepare(&sql).await?;
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let id = if insert {
                    next_id.fetch_add(1, Ordering::Relaxed)
                } else {
                    fastrand::i64(1..=rows)
                };
                let t0 = Instant::now();
                c.execute(&stmt, &[&id]).await?;
                lat.push(t0.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(p.secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    let p50 = all
        .get(all.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    Ok((all.len() as f64 / secs, p50))
}
