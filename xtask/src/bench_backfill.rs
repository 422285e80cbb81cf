//! The `backfill` benchmark: `dbarch migrate backfill` (the release binary, as a process) over
//! a table of N rows, alone and under a concurrent single-row UPDATE load, and the latency of
//! that load with and without the backfill running.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, PgInstall, SessionOptions};
use serde_json::{Value, json};

use crate::bench::{build_dbarch, machine, round};

pub struct Params {
    pub rows: u64,
    pub batch: u32,
    pub sleep: String,
    /// Concurrent sessions of the UPDATE load.
    pub clients: usize,
    /// How long the load runs alone (the baseline).
    pub load_secs: f64,
    /// How long the backfill runs under the load before it is interrupted (and then resumed
    /// without the load).
    pub window_secs: f64,
}

fn session() -> SessionOptions {
    SessionOptions {
        statement_timeout: Some(Duration::ZERO),
        ..SessionOptions::writer()
    }
}

pub fn backfill(p: &Params) -> Result<Value> {
    let dbarch = build_dbarch()?;
    let install = PgInstall::discover(&DiscoverOptions {
        provision: true,
        ..Default::default()
    })?;
    eprintln!(
        "PostgreSQL {} from {}",
        install.version,
        install.bin_dir.display()
    );
    let server = EphemeralServer::start(&install)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let url = server.url("bench_backfill");
    let result = rt.block_on(async {
        let admin =
            dbarch_pg::connect(&ConnConfig::parse(&server.url("postgres"))?, &session()).await?;
        admin
            .batch_execute("CREATE DATABASE bench_backfill")
            .await?;
        let c = dbarch_pg::connect(&ConnConfig::parse(&url)?, &session()).await?;
        eprintln!("creating {} rows", p.rows);
        let started = Instant::now();
        c.batch_execute(&format!(
            "CREATE TABLE items (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0, payload text);
             INSERT INTO items (id, payload) SELECT g, md5(g::text) FROM generate_series(1, {}) g;",
            p.rows
        ))
        .await?;
        c.batch_execute("VACUUM ANALYZE items").await?;
        eprintln!("created in {:.1} s", started.elapsed().as_secs_f64());

        eprintln!("load alone: {} clients for {} s", p.clients, p.load_secs);
        let stop = Arc::new(AtomicBool::new(false));
        let load = start_load(&url, p.clients, p.rows, stop.clone()).await?;
        tokio::time::sleep(Duration::from_secs_f64(p.load_secs)).await;
        stop.store(true, Ordering::SeqCst);
        let baseline = finish_load(load).await?;
        eprintln!("  {}", baseline);

        eprintln!("backfill alone");
        let alone = run_backfill(&dbarch, &url, p, "alone", None).await?;
        eprintln!("  {alone}");
        c.batch_execute("VACUUM items").await?;

        eprintln!(
            "backfill under the load (for at most {} s, then Ctrl-C)",
            p.window_secs
        );
        let stop = Arc::new(AtomicBool::new(false));
        let load = start_load(&url, p.clients, p.rows, stop.clone()).await?;
        let started = Instant::now();
        let loaded = run_backfill(&dbarch, &url, p, "loaded", Some(p.window_secs)).await;
        let secs = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::SeqCst);
        let during = finish_load(load).await?;
        loaded?;
        let done: i64 = c
            .query_one(
                "SELECT rows_done FROM _dbarch.backfills WHERE name = 'loaded'",
                &[],
            )
            .await?
            .get(0);
        let loaded = json!({
            "seconds": round(secs),
            "rows": done,
            "rows_per_s": (done as f64 / secs).round(),
        });
        eprintln!("  {loaded}\n  load: {during}");
        eprintln!("resuming the interrupted backfill without the load");
        let rest = run_backfill(&dbarch, &url, p, "loaded", None).await?;
        eprintln!("  {rest}");

        let wrong: i64 = c
            .query_one("SELECT count(*) FROM items WHERE n <> 2", &[])
            .await?
            .get(0);
        if wrong != 0 {
            bail!("{wrong} rows were not updated exactly twice");
        }
        Ok::<_, anyhow::Error>(json!({
            "backfill_alone": alone,
            "backfill_under_load": loaded,
            "load_alone": baseline,
            "load_during_backfill": during,
        }))
    });
    drop(server);
    Ok(json!({
        "version": 1,
        "benchmark": "backfill",
        "machine": machine(),
        "postgres": install.version,
        "rows": p.rows,
        "batch": p.batch,
        "sleep": p.sleep,
        "clients": p.clients,
        "results": result?,
    }))
}

/// Runs the backfill to its end, or until `window` seconds have passed (then interrupts it
/// with SIGINT, as Ctrl-C would).
async fn run_backfill(
    dbarch: &std::path::Path,
    url: &str,
    p: &Params,
    name: &str,
    window: Option<f64>,
) -> Result<Value> {
    let batch = p.batch.to_string();
    let started = Instant::now();
    let mut child = tokio::process::Command::new(dbarch)
        .args([
            "-q",
            "migrate",
            "backfill",
            "--url",
            url,
            "--table",
            "items",
            "--set",
            "n = n + 1",
            "--batch",
            &batch,
            "--sleep",
            &p.sleep,
            "--name",
            name,
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("running dbarch migrate backfill")?;
    let mut interrupted = false;
    if let Some(w) = window {
        tokio::select! {
            _ = child.wait() => {}
            _ = tokio::time::sleep(Duration::from_secs_f64(w)) => {
                let pid = child.id().context("no pid")?.to_string();
                std::process::Command::new("kill").args(["-INT", &pid]).status()?;
                interrupted = true;
            }
        }
    }
    let out = child.wait_with_output().await?;
    let secs = started.elapsed().as_secs_f64();
    let expected = if interrupted { Some(130) } else { Some(0) };
    if out.status.code() != expected {
        bail!(
            "dbarch migrate backfill failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(json!({
        "seconds": round(secs),
        "rows_per_s": (p.rows as f64 / secs).round(),
        "interrupted": interrupted,
    }))
}

type Load = Vec<tokio::task::JoinHandle<Result<Vec<Duration>>>>;

async fn start_load(url: &str, clients: usize, rows: u64, stop: Arc<AtomicBool>) -> Result<Load> {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let c = dbarch_pg::connect(&ConnConfig::parse(url)?, &session()).await?;
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let stmt = c
                .prepare("UPDATE items SET payload = md5(random()::text) WHERE id = $1")
                .await?;
            let mut lat = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let id = fastrand::i64(1..=rows as i64);
                let t0 = Instant::now();
                c.execute(&stmt, &[&id]).await?;
                lat.push(t0.elapsed());
            }
            Ok(lat)
        }));
    }
    Ok(tasks)
}

async fn finish_load(tasks: Load) -> Result<Value> {
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort();
    let pct = |q: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 - 1.0) * q).round() as usize;
        round(all[i].as_secs_f64() * 1000.0)
    };
    Ok(json!({
        "updates": all.len(),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
    }))
}
