//! The `vector-load` and `vector-tune` benchmarks (the second: see [`vector_tune`]).
//!
//! `vector-load`: `dbarch vector load` (the release binary, as a process) of N ×
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

/// What `vector-tune` measures.
pub struct TuneParams {
    pub rows: u64,
    pub dims: usize,
    pub recall: f64,
    pub k: usize,
    /// Held-out queries (fresh points of the same distribution, not rows of the table).
    pub held_out: usize,
    /// Real embeddings instead of the synthetic set: the chunks of this directory's documents
    /// embedded by the local all-MiniLM-L6-v2 (`dbarch rag ingest`, 64-token chunks), cached.
    pub corpus: Option<std::path::PathBuf>,
}

/// The corpus' chunks embedded by `dbarch rag ingest` on a throwaway server, read back in id
/// order; cached as `.fvecs` in dbarch's cache under a name made from the corpus' file list and
/// sizes, so the (slow) embedding happens once.
fn corpus_embeddings(dbarch: &Path, install: &PgInstall, dir: &Path) -> Result<Vec<Vec<f32>>> {
    let mut files: Vec<(String, u64)> = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let e = e?;
        files.push((
            e.file_name().to_string_lossy().into_owned(),
            e.metadata()?.len(),
        ));
    }
    files.sort();
    let key = {
        // FNV-1a of the listing: a stable cache key without another dependency.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in format!("{files:?}").bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    let cache = dbarch_pg::install::cache_dir().join("bench");
    std::fs::create_dir_all(&cache)?;
    let path = cache.join(format!("minilm-{key:016x}.fvecs"));
    if let Ok(bytes) = std::fs::read(&path) {
        eprintln!("real embeddings from {}", path.display());
        return Ok(bytes
            .chunks_exact(4 + 384 * 4)
            .map(|r| {
                r[4..]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            })
            .collect());
    }
    let server = EphemeralServer::start(install)?;
    let url = server.url("postgres");
    eprintln!("embedding the documents of {} (once)", dir.display());
    let t = Instant::now();
    run(
        Command::new(dbarch)
            .args(["rag", "ingest"])
            .arg(dir)
            .args(["--chunk-tokens", "64", "--overlap", "0", "-q"])
            .args(["--url", &url, "--statement-timeout", "0"]),
        "dbarch rag ingest",
    )?;
    eprintln!("embedded in {:.0} s", t.elapsed().as_secs_f64());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let data: Vec<Vec<f32>> = rt.block_on(async {
        let c = dbarch_pg::connect(&ConnConfig::parse(&url)?, &session()).await?;
        let rows = c
            .query("SELECT embedding::real[] FROM chunks ORDER BY id", &[])
            .await?;
        anyhow::Ok(rows.iter().map(|r| r.get::<_, Vec<f32>>(0)).collect())
    })?;
    let mut out = Vec::with_capacity(data.len() * (4 + 384 * 4));
    for v in &data {
        out.extend_from_slice(&(v.len() as i32).to_le_bytes());
        for x in v {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, out)?;
    std::fs::rename(&tmp, &path)?;
    Ok(data)
}

/// `rows` clustered vectors: 100 centers, each point its center plus a 16-dimensional
/// Gaussian spread through a fixed random 384 × 16 map (embeddings live near a low-dimensional
/// surface) plus a little isotropic noise. Seeded.
fn clustered(rows: usize, dims: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = fastrand::Rng::with_seed(7);
    let normal = |rng: &mut fastrand::Rng| -> f32 {
        let (u, v) = (rng.f64().max(1e-12), rng.f64());
        ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
    };
    let latent = 16;
    let centers: Vec<Vec<f32>> = (0..100)
        .map(|_| (0..dims).map(|_| rng.f32() * 2.0 - 1.0).collect())
        .collect();
    let map: Vec<f32> = (0..dims * latent)
        .map(|_| normal(&mut rng) * 0.25)
        .collect();
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..rows)
        .map(|_| {
            let c = &centers[rng.usize(..centers.len())];
            let z: Vec<f32> = (0..latent).map(|_| normal(&mut rng)).collect();
            (0..dims)
                .map(|d| {
                    let spread: f32 = (0..latent).map(|j| map[d * latent + j] * z[j]).sum();
                    c[d] + spread + 0.05 * normal(&mut rng)
                })
                .collect()
        })
        .collect()
}

/// The exact `k` nearest rows (ids from 1, as the identity column numbers them) by L2.
fn exact_knn(data: &[Vec<f32>], q: &[f32], k: usize) -> Vec<i64> {
    let mut best: Vec<(f32, i64)> = Vec::with_capacity(k + 1);
    for (i, v) in data.iter().enumerate() {
        let d: f32 = v.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum();
        if best.len() < k || d < best[best.len() - 1].0 {
            let at = best.partition_point(|(x, _)| *x <= d);
            best.insert(at, (d, i as i64 + 1));
            best.truncate(k);
        }
    }
    // Rows tied with the k-th (duplicate texts embed alike) are right answers too, as the
    // tuner counts them.
    let Some(&(kth, _)) = best.last() else {
        return Vec::new();
    };
    let mut ids: Vec<i64> = best.iter().map(|(_, id)| *id).collect();
    for (i, v) in data.iter().enumerate() {
        let d: f32 = v.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum();
        if d == kth && !ids.contains(&(i as i64 + 1)) {
            ids.push(i as i64 + 1);
        }
    }
    ids
}

fn literal(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

/// Recall@k and QPS of `queries` run one after the other on `c` (after a warm-up).
async fn measure(
    c: &dbarch_pg::tokio_postgres::Client,
    queries: &[String],
    exact: &[Vec<i64>],
    k: usize,
) -> Result<(f64, f64)> {
    let stmt = c
        .prepare(&format!(
            "SELECT id FROM items ORDER BY embedding <-> $1::text::vector LIMIT {k}"
        ))
        .await?;
    for q in queries.iter().take(50) {
        c.query(&stmt, &[q]).await?;
    }
    let mut hits = 0usize;
    let t = Instant::now();
    for (q, e) in queries.iter().zip(exact) {
        let rows = c.query(&stmt, &[q]).await?;
        hits += rows
            .iter()
            .filter(|r| e.contains(&r.get::<_, i64>(0)))
            .count();
    }
    let secs = t.elapsed().as_secs_f64();
    Ok((
        hits as f64 / (queries.len() * k) as f64,
        queries.len() as f64 / secs,
    ))
}

/// The `vector-tune` benchmark: `dbarch vector tune` (the release binary, `--apply`) of
/// `rows` clustered vectors to `recall` at `k`, timed; the applied configuration's recall and
/// QPS on held-out queries (exact neighbours computed here by brute force), against pgvector's
/// HNSW defaults (m = 16, ef_construction = 64, ef_search = 40) on the same queries, and the
/// defaults' QPS at equal recall (ef_search raised until they reach the tuned recall).
pub fn vector_tune(p: &TuneParams) -> Result<Value> {
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
    // Real embeddings: a seeded shuffle, the last `held_out` rows are the queries.
    let (data, held_out) = match &p.corpus {
        Some(dir) => {
            let mut all = corpus_embeddings(&dbarch, &install, dir)?;
            if all.len() <= p.held_out * 2 {
                bail!("{}: {} chunks, too few", dir.display(), all.len());
            }
            fastrand::Rng::with_seed(42).shuffle(&mut all);
            let held = all.split_off(all.len() - p.held_out);
            (all, held)
        }
        None => {
            eprintln!("generating {} x {} clustered vectors", p.rows, p.dims);
            (
                clustered(p.rows as usize, p.dims, 42),
                clustered(p.held_out, p.dims, 4242),
            )
        }
    };
    let rows = data.len();
    let server = EphemeralServer::start(&install)?;
    let dir = tempfile::tempdir()?;
    let fvecs = dir.path().join("vectors.fvecs");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&fvecs)?);
        for v in &data {
            w.write_all(&(p.dims as i32).to_le_bytes())?;
            for x in v {
                w.write_all(&x.to_le_bytes())?;
            }
        }
        w.flush()?;
    }
    eprintln!("exact neighbours of {} held-out queries", held_out.len());
    let exact: Vec<Vec<i64>> = held_out.iter().map(|q| exact_knn(&data, q, p.k)).collect();
    let queries: Vec<String> = held_out.iter().map(|q| literal(q)).collect();
    drop(data);
    let url = server.url("bench_vector_tune");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let admin =
            dbarch_pg::connect(&ConnConfig::parse(&server.url("postgres"))?, &session()).await?;
        admin
            .batch_execute("CREATE DATABASE bench_vector_tune")
            .await?;
        let c = dbarch_pg::connect(&ConnConfig::parse(&url)?, &session()).await?;
        c.batch_execute(&format!(
            "CREATE EXTENSION vector;
             CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, embedding vector({}) NOT NULL);",
            p.dims
        ))
        .await?;
        anyhow::Ok(())
    })?;
    eprintln!("loading");
    run(
        Command::new(&dbarch)
            .args(["vector", "load", "items", "--from"])
            .arg(&fvecs)
            .args(["--url", &url, "--statement-timeout", "0", "-q"]),
        "dbarch vector load",
    )?;
    rt.block_on(async {
        let c = dbarch_pg::connect(&ConnConfig::parse(&url)?, &session()).await?;
        c.batch_execute("VACUUM ANALYZE items").await?;
        c.batch_execute("CHECKPOINT").await?;
        anyhow::Ok(())
    })?;
    eprintln!("dbarch vector tune --recall {} --k {}", p.recall, p.k);
    let t = Instant::now();
    let out = Command::new(&dbarch)
        .args(["vector", "tune", "items.embedding", "--recall"])
        .arg(p.recall.to_string())
        .args([
            "--k",
            &p.k.to_string(),
            "--metric",
            "l2",
            "--format",
            "json",
        ])
        .args(["--apply", "-q", "--statement-timeout", "0", "--url", &url])
        .output()
        .context("cannot run dbarch vector tune")?;
    let tune_seconds = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "dbarch vector tune failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tuned: Value = serde_json::from_slice(&out.stdout)?;
    let chosen = tuned["chosen"].clone();
    let index = tuned["migration"]["index_name"]
        .as_str()
        .context("no index in the tuner's answer")?
        .to_owned();
    let candidate_builds: f64 = {
        let mut seen = Vec::new();
        let mut total = 0.0;
        for pt in tuned["curve"].as_array().into_iter().flatten() {
            let key = (
                pt["method"].clone(),
                pt["m"].clone(),
                pt["ef_construction"].clone(),
                pt["lists"].clone(),
            );
            if !seen.contains(&key) {
                total += pt["build_seconds"].as_f64().unwrap_or(0.0);
                seen.push(key);
            }
        }
        total
    };
    eprintln!("tuned in {tune_seconds:.0} s: {chosen}");
    let doc = rt.block_on(async {
        // A new session gets the settings the tuner applied to the database.
        let c = dbarch_pg::connect(&ConnConfig::parse(&url)?, &session()).await?;
        let (tuned_recall, tuned_qps) = measure(&c, &queries, &exact, p.k).await?;
        eprintln!("tuned: recall {tuned_recall:.4}, {tuned_qps:.0} QPS");
        c.batch_execute(&format!(
            "DROP INDEX {index}; SET maintenance_work_mem = '1GB'; RESET ivfflat.probes"
        ))
        .await?;
        let t = Instant::now();
        c.batch_execute("CREATE INDEX items_default ON items USING hnsw (embedding vector_l2_ops)")
            .await?;
        let default_build = t.elapsed().as_secs_f64();
        c.batch_execute("SET hnsw.ef_search = 40").await?;
        let (default_recall, default_qps) = measure(&c, &queries, &exact, p.k).await?;
        eprintln!("defaults: recall {default_recall:.4}, {default_qps:.0} QPS");
        let mut equal = None;
        let mut sweep = Vec::new();
        for ef in [
            10u32, 16, 24, 32, 40, 48, 64, 80, 100, 128, 160, 200, 256, 320, 400, 512, 640, 800,
            1000,
        ] {
            let (r, q) = if ef == 40 {
                (default_recall, default_qps)
            } else {
                c.batch_execute(&format!("SET hnsw.ef_search = {ef}")).await?;
                measure(&c, &queries, &exact, p.k).await?
            };
            eprintln!("defaults at ef_search = {ef}: recall {r:.4}, {q:.0} QPS");
            sweep.push(json!({"ef_search": ef, "recall": round(r), "qps": round(q)}));
            if r >= tuned_recall {
                equal = Some((ef, r, q));
                break;
            }
        }
        anyhow::Ok(json!({
            "benchmark": "vector-tune",
            "machine": machine(),
            "postgres": install.version,
            "rows": rows,
            "dims": p.dims,
            "data": match &p.corpus {
                Some(d) => format!("all-MiniLM-L6-v2 embeddings of 64-token chunks of {}", d.display()),
                None => "synthetic clustered vectors".to_owned(),
            },
            "k": p.k,
            "target_recall": p.recall,
            "held_out_queries": queries.len(),
            "tune_seconds": round(tune_seconds),
            "tune_candidate_build_seconds": round(candidate_builds),
            "tune_curve_points": tuned["curve"].as_array().map_or(0, Vec::len),
            "chosen": chosen,
            "tuner_measured": tuned["measured"],
            "tuned": {"recall": round(tuned_recall), "qps": round(tuned_qps)},
            "defaults": {
                "m": 16, "ef_construction": 64, "ef_search": 40,
                "build_seconds": round(default_build),
                "recall": round(default_recall),
                "qps": round(default_qps),
            },
            "defaults_sweep": sweep,
            "defaults_at_equal_recall": equal.map(|(ef, r, q)| json!({
                "ef_search": ef, "recall": round(r), "qps": round(q),
            })),
            "qps_ratio_tuned_to_defaults": round(tuned_qps / default_qps),
            "qps_ratio_tuned_to_defaults_at_equal_recall": equal.map(|(_, _, q)| round(tuned_qps / q)),
        }))
    })?;
    Ok(doc)
}
