//! The `inspect` benchmark: `dbarch inspect --format json` end to end, as a process, against
//! `pg_dump --schema-only` from the same installation on the same generated databases.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, PgInstall, SessionOptions};
use serde_json::{Value, json};

use crate::schema_gen;

/// Fixed so that every run measures the same schema.
const SEED: u64 = 0xdba7c4;

pub fn inspect(sizes: &[usize], runs: u32, keep: bool) -> Result<Value> {
    let dbarch = build_dbarch()?;
    let install = PgInstall::discover(&DiscoverOptions {
        require_pgvector: true,
        provision: true,
        ..Default::default()
    })?;
    let pg_dump = install.bin("pg_dump");
    eprintln!(
        "PostgreSQL {} from {}",
        install.version,
        install.bin_dir.display()
    );
    let server = EphemeralServer::start(&install)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let mut results = Vec::new();
    for &tables in sizes {
        let dbname = format!("bench_{tables}");
        let url = server.url(&dbname);
        eprintln!("[{tables} tables] creating database {dbname}");
        let started = Instant::now();
        let objects = rt.block_on(create(&server, &dbname, tables))?;
        let create_s = started.elapsed().as_secs_f64();
        eprintln!("[{tables} tables] created in {create_s:.1} s: {objects}");

        let dbarch_cmd = || {
            let mut c = Command::new(&dbarch);
            c.args(["inspect", "--url", &url, "--format", "json"]);
            c
        };
        let pg_dump_cmd = || {
            let mut c = Command::new(&pg_dump);
            c.args(["--schema-only", "-d", &url, "-f", "/dev/null"]);
            c
        };
        // Warm-up: catalog pages in shared buffers, binaries in the OS page cache. Every run is
        // a new backend, so the per-backend catalog caches start cold each time, for both.
        time(dbarch_cmd())?;
        time(pg_dump_cmd())?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for run in 0..runs {
            // Alternate the order so that slow phases of a noisy machine hit both tools.
            if run.is_multiple_of(2) {
                ours.push(time(dbarch_cmd())?);
                theirs.push(time(pg_dump_cmd())?);
            } else {
                theirs.push(time(pg_dump_cmd())?);
                ours.push(time(dbarch_cmd())?);
            }
            eprintln!(
                "[{tables} tables] run {}/{runs}: dbarch {:.3} s, pg_dump {:.3} s",
                run + 1,
                ours[ours.len() - 1],
                theirs[theirs.len() - 1]
            );
        }
        let ratio = median(&ours) / median(&theirs);
        eprintln!(
            "[{tables} tables] median dbarch {:.3} s, pg_dump {:.3} s, ratio {ratio:.2}",
            median(&ours),
            median(&theirs)
        );
        results.push(json!({
            "tables": tables,
            "objects": objects,
            "create_s": round(create_s),
            "dbarch": summary(&ours),
            "pg_dump": summary(&theirs),
            "ratio": round(ratio),
        }));
    }
    if keep {
        eprintln!(
            "keeping the server (databases bench_<N> at {}) until stdin is closed or a line \
             is entered",
            server.url("postgres")
        );
        std::io::stdin().read_line(&mut String::new())?;
    }
    drop(server);

    Ok(json!({
        "version": 1,
        "benchmark": "inspect",
        "machine": machine(),
        "postgres": install.version,
        "runs": runs,
        "results": results,
    }))
}

/// Builds the release `dbarch` binary (a no-op when up to date) and returns its path.
/// `DBARCH_BENCH_BIN=PATH` measures that binary instead (no build).
pub(crate) fn build_dbarch() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("DBARCH_BENCH_BIN") {
        eprintln!("using {} (DBARCH_BENCH_BIN)", PathBuf::from(&bin).display());
        return Ok(PathBuf::from(bin));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask has no parent directory")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building dbarch (release)");
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "dbarch"])
        .current_dir(root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p dbarch failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release").join("dbarch"))
}

/// Creates database `dbname` holding the generated schema; returns its object counts.
async fn create(server: &EphemeralServer, dbname: &str, tables: usize) -> Result<Value> {
    let session = SessionOptions {
        statement_timeout: Some(Duration::ZERO),
        ..SessionOptions::writer()
    };
    let admin = dbarch_pg::connect(&ConnConfig::parse(&server.url("postgres"))?, &session).await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {dbname}"))
        .await?;
    drop(admin);

    let client = dbarch_pg::connect(&ConnConfig::parse(&server.url(dbname))?, &session).await?;
    let batches = schema_gen::batches(tables, SEED);
    let count = batches.len();
    for (i, sql) in batches.iter().enumerate() {
        client
            .batch_execute(sql)
            .await
            .with_context(|| format!("batch {}/{count} of the generated schema", i + 1))?;
    }
    // Fresh statistics, as on a database in use (and as the catalog queries' plans expect).
    client.batch_execute("VACUUM ANALYZE").await?;

    let row = client
        .query_one(
            "WITH rel AS (
               SELECT c.* FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                 AND n.nspname NOT LIKE 'pg\\_toast%'
             )
             SELECT
               (SELECT count(*) FROM rel WHERE relkind = 'r') AS tables,
               (SELECT count(*) FROM rel WHERE relkind = 'v') AS views,
               (SELECT count(*) FROM rel WHERE relkind = 'i') AS indexes,
               (SELECT count(*) FROM rel WHERE relkind = 'S') AS sequences,
               (SELECT count(*) FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid
                 WHERE rel.relkind IN ('r', 'v') AND a.attnum > 0
                   AND NOT a.attisdropped) AS columns,
               (SELECT count(*) FROM pg_constraint k JOIN rel ON rel.oid = k.conrelid
                 WHERE k.contype = 'f') AS foreign_keys,
               (SELECT count(*) FROM pg_constraint k JOIN rel ON rel.oid = k.conrelid
                 WHERE k.contype = 'c') AS checks,
               (SELECT count(*) FROM pg_description d JOIN rel ON rel.oid = d.objoid
                 WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0) AS table_comments",
            &[],
        )
        .await?;
    let mut counts = serde_json::Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        counts.insert(col.name().to_owned(), json!(row.get::<_, i64>(i)));
    }
    Ok(Value::Object(counts))
}

/// Runs `cmd` with stdout to /dev/null; wall-clock seconds from spawn to exit.
fn time(mut cmd: Command) -> Result<f64> {
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let started = Instant::now();
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(secs)
}

pub(crate) fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(crate) fn summary(xs: &[f64]) -> Value {
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(0.0, f64::max);
    json!({
        "median_s": round(median(xs)),
        "min_s": round(min),
        "max_s": round(max),
        "runs_s": xs.iter().map(|&x| round(x)).collect::<Vec<_>>(),
    })
}

/// Milliseconds are all the precision process timings have.
pub(crate) fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// What the figures depend on; from /proc where available (Linux).
pub(crate) fn machine() -> Value {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let proc_field = |file: &str, key: &str| {
        std::fs::read_to_string(file).ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    let memory_gb = proc_field("/proc/meminfo", "MemTotal")
        .and_then(|v| v.trim_end_matches(" kB").parse::<f64>().ok())
        .map(|kb| (kb / 1024.0 / 1024.0 * 10.0).round() / 10.0);
    json!({
        "cores": cores,
        "cpu": proc_field("/proc/cpuinfo", "model name"),
        "memory_gb": memory_gb,
        "os": std::env::consts::OS,
    })
}
