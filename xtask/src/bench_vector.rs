//! The `vector-load` benchmark: `dbarch vector load` (the release binary, as a process) of N ×
//! 384 float32 vectors from an `.fvecs` file into `items (id identity, embedding vector(384))`,
//! against psql's `\copy ... FROM ... (FORMAT binary)` of the same rows (exported once by
//! `\copy ... TO`: the practical limit of loading) and against row-by-row INSERTs (autocommit,
//! measured on a slice and given as a rate). Runs alternate dbarch/psql then psql/dbarch; the
//! table is truncated before each.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, PgInstall, SessionOptions};
use serde_json::{Value, json};

use crate::bench::{build_dbarch, machine, round};

pub struct Params {
    pub rows: u64,
    pub dims: usize,
    pub runs: u32,
    /// Rows of the row-by-row INSERT baseline.
    pub insert_rows: u64,
}

fn session() -> SessionOptions {
    SessionOptions {
        statement_timeout: Some(Duration::ZERO),
        ..SessionOptions::writer()
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn run(cmd: &mut Command, what: &str) -> Result<f64> {
    let t = Instant::now();
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Writes `rows` seeded vectors in `.fvecs` format.
fn write_fvecs(path: &Path, rows: u64, dims: usize) -> Result<()> {
    use std::io::Write;
    let mut rng = fastrand::Rng::with_seed(42);
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    for _ in 0..rows {
        w.write_all(&(dims as i32).to_le_bytes())?;
        for _ in 0..dims {
            w.write_all(&(rng.f32() * 2.0 - 1.0).to_le_bytes())?;
        }
    }
    w.flush()?;
    Ok(())
}

pub fn vector_load(p: &Params) -> Result<Value> {
    let dbarch = build_dbarch()?;
    let install = PgInstall::discover(&DiscoverOptions {
        provision: true,
        require_pgvector: true,
        ..Default::default()
    })?;
    eprintln!(
        "PostgreSQL {} from {}",
        install.version,
        install.bin_dir.display()
    );
    let psql = install.bin_dir.join("psql");
    let server = EphemeralServer::start(&install)?;
    let dir = tempfile::tempdir()?;
    let fvecs = dir.path().join("vectors.fvecs");
    let binary = dir.path().join("vectors.bin");
    eprintln!("writing {} x {} vectors", p.rows, p.dims);
    write_fvecs(&fvecs, p.rows, p.dims)?;
    let url = server.url("bench_vector");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let c = rt.block_on(async {
        let admin =
            dbarch_pg::connect(&ConnConfig::parse(&server.url("postgres"))?, &session()).await?;
        admin.batch_execute("CREATE DATABASE bench_vector").await?;
        let c = dbarch_pg::connect(&ConnConfig::parse(&url)?, &session()).await?;
        c.batch_execute(&format!(
            "CREATE EXTENSION vector;
             CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, embedding vector({}) NOT NULL);",
            p.dims
        ))
        .await?;
        anyhow::Ok(c)
    })?;
    let truncate = || rt.block_on(c.batch_execute("TRUNCATE items; CHECKPOINT"));
    let count = || -> Result<i64> {
        Ok(rt
            .block_on(c.query_one("SELECT count(*) FROM items", &[]))?
            .get(0))
    };
    let dbarch_cmd = || {
        let mut cmd = Command::new(&dbarch);
        cmd.args(["vector", "load", "items", "--from"])
            .arg(&fvecs)
            .args(["--url", &url, "--statement-timeout", "0", "-q"]);
        cmd
    };
    let copy_in = format!(
        "\\copy items (embedding) FROM '{}' WITH (FORMAT binary)",
        binary.display()
    );
    let psql_cmd = |c: &str| {
        let mut cmd = Command::new(&psql);
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url, "-c", c]);
        cmd
    };
    // The binary COPY file psql loads: the same rows, exported once.
    eprintln!("warm-up: dbarch, then the binary export");
    run(&mut dbarch_cmd(), "dbarch vector load")?;
    run(
        &mut psql_cmd(&format!(
            "\\copy items (embedding) TO '{}' WITH (FORMAT binary)",
            binary.display()
        )),
        "psql \\copy TO",
    )?;
    let (mut dbarch_s, mut psql_s) = (Vec::new(), Vec::new());
    for i in 0..p.runs {
        let order: [bool; 2] = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_dbarch in order {
            truncate()?;
            if is_dbarch {
                let s = run(&mut dbarch_cmd(), "dbarch vector load")?;
                eprintln!("  dbarch {s:.2} s");
                dbarch_s.push(s);
            } else {
                let s = run(&mut psql_cmd(&copy_in), "psql \\copy FROM")?;
                eprintln!("  psql   {s:.2} s");
                psql_s.push(s);
            }
            let n = count()?;
            if n != p.rows as i64 {
                bail!("{n} rows loaded, not {}", p.rows);
            }
        }
    }
    // Row-by-row INSERT, autocommit, on a slice.
    truncate()?;
    let insert_s = rt.block_on(async {
        let stmt = c
            .prepare("INSERT INTO items (embedding) VALUES ($1::text::vector)")
            .await?;
        let mut rng = fastrand::Rng::with_seed(7);
        let t = Instant::now();
        for _ in 0..p.insert_rows {
            let v: Vec<String> = (0..p.dims)
                .map(|_| format!("{}", rng.f32() * 2.0 - 1.0))
                .collect();
            let lit = format!("[{}]", v.join(","));
            c.execute(&stmt, &[&lit]).await?;
        }
        anyhow::Ok(t.elapsed().as_secs_f64())
    })?;
    let d = median(&mut dbarch_s);
    let q = median(&mut psql_s);
    let rows = p.rows as f64;
    Ok(json!({
        "benchmark": "vector-load",
        "machine": machine(),
        "postgres": install.version,
        "rows": p.rows,
        "dims": p.dims,
        "runs": p.runs,
        "dbarch_seconds": dbarch_s.iter().map(|&x| round(x)).collect::<Vec<_>>(),
        "psql_copy_binary_seconds": psql_s.iter().map(|&x| round(x)).collect::<Vec<_>>(),
        "dbarch_vectors_per_second": round(rows / d),
        "psql_copy_binary_vectors_per_second": round(rows / q),
        "insert_rows": p.insert_rows,
        "insert_vectors_per_second": round(p.insert_rows as f64 / insert_s),
        "ratio_dbarch_to_psql": round(q / d),
        "target": "ratio >= 0.8",
    }))
}
