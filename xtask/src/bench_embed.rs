//! `bench embed`: throughput of the local embedder (all-MiniLM-L6-v2 on candle, in-process)
//! against the numpy forward pass of the same model (`crates/dbarch_embed/reference/
//! minilm_numpy.py`, float32) on the same chunks, and how far apart their vectors are.
//!
//! The chunks are cut from text files every Debian system has (licenses, copyright files),
//! sorted by path, so each run and each machine of the kind sees the same input. Loading is
//! timed apart from embedding; both sides batch 32 texts and may use every core.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use dbarch_embed::Embedder;
use dbarch_embed::local::LocalMiniLm;
use serde_json::{Value, json};

use crate::bench::{machine, median, round, summary};

pub struct Params {
    pub chunks: usize,
    pub runs: u32,
}

/// Python packages of the reference, installed here unless `DBARCH_BENCH_PYTHONPATH` names a
/// dir (or `PYTHONPATH`) that already has them.
const PY_DIR: &str = "/tmp/dbarch-bench-pyref";
const PY_PACKAGES: &[&str] = &["numpy", "safetensors", "tokenizers"];

fn source_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/usr/share/common-licenses") {
        files.extend(dir.flatten().map(|e| e.path()));
    }
    if let Ok(dir) = std::fs::read_dir("/usr/share/doc") {
        files.extend(dir.flatten().map(|e| e.path().join("copyright")));
    }
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// Consecutive lines of the source files grouped into chunks of 100–250 tokens (targets drawn
/// from a seeded generator), identical chunks skipped (copyright files repeat licenses).
fn make_chunks(e: &dyn Embedder, count: usize) -> Result<(Vec<String>, Vec<usize>)> {
    let mut rng = fastrand::Rng::with_seed(42);
    let mut seen = std::collections::HashSet::new();
    let (mut chunks, mut tokens) = (Vec::new(), Vec::new());
    let mut target = rng.usize(100..=250);
    let mut current = String::new();
    'files: for path in source_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // not UTF-8
        };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(line);
            // Cheap pre-check: a token is at least one char, usually ~4.
            if current.len() < target * 3 {
                continue;
            }
            let n = e.count_tokens(&current);
            if n < target {
                continue;
            }
            if n <= 250 && seen.insert(current.clone()) {
                chunks.push(std::mem::take(&mut current));
                tokens.push(n);
                target = rng.usize(100..=250);
                if chunks.len() == count {
                    break 'files;
                }
            }
            current.clear();
        }
    }
    if chunks.len() < count {
        bail!(
            "only {} chunks of 100-250 tokens in /usr/share/common-licenses and /usr/share/doc/*/copyright; ask for fewer with --chunks",
            chunks.len()
        );
    }
    Ok((chunks, tokens))
}

fn python_path() -> Result<String> {
    let has_deps = |path: &str| {
        Command::new("python3")
            .args(["-c", "import numpy, safetensors, tokenizers"])
            .env("PYTHONPATH", path)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    for var in ["DBARCH_BENCH_PYTHONPATH", "PYTHONPATH"] {
        if let Ok(p) = std::env::var(var)
            && has_deps(&p)
        {
            return Ok(p);
        }
    }
    if !has_deps(PY_DIR) {
        eprintln!(
            "bench embed: installing {} into {PY_DIR}",
            PY_PACKAGES.join(" ")
        );
        let status = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--target", PY_DIR])
            .args(PY_PACKAGES)
            .status()
            .context("running python3 -m pip")?;
        if !status.success() || !has_deps(PY_DIR) {
            bail!(
                "cannot install {} into {PY_DIR}; set DBARCH_BENCH_PYTHONPATH to a dir that has them",
                PY_PACKAGES.join(", ")
            );
        }
    }
    Ok(PY_DIR.to_string())
}

fn reference_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("crates/dbarch_embed/reference/minilm_numpy.py")
}

/// One run of the numpy reference: its own embedding time, and the vectors when asked.
fn run_python(
    pythonpath: &str,
    model_dir: &Path,
    input: &Path,
    embeddings: bool,
) -> Result<(f64, Option<Vec<Vec<f32>>>)> {
    let mut cmd = Command::new("python3");
    cmd.arg(reference_script())
        .arg(model_dir)
        .arg(input)
        .args(["--dtype", "float32", "--batch", "32"])
        .env("PYTHONPATH", pythonpath);
    if !embeddings {
        cmd.arg("--no-embeddings");
    }
    let out = cmd.output().context("running the numpy reference")?;
    if !out.status.success() {
        bail!(
            "the numpy reference failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let doc: Value = serde_json::from_slice(&out.stdout).context("the reference's JSON")?;
    let secs = doc["seconds"].as_f64().context("no seconds")?;
    let vectors = match doc.get("embeddings") {
        Some(v) => Some(serde_json::from_value(v.clone())?),
        None => None,
    };
    Ok((secs, vectors))
}

pub fn embed(p: &Params) -> Result<Value> {
    let model_dir = dbarch_embed::model_dir::resolve_model_dir(None)?;
    let start = Instant::now();
    let model = LocalMiniLm::load_from(&model_dir, None)?;
    let load_s = start.elapsed().as_secs_f64();
    let (chunks, tokens) = make_chunks(&model, p.chunks)?;
    let texts: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let total_tokens: usize = tokens.iter().sum();
    let input = tempfile::Builder::new()
        .prefix("dbarch-bench-embed-")
        .suffix(".json")
        .tempfile()?;
    std::fs::write(input.path(), serde_json::to_vec(&chunks)?)?;
    let pythonpath = python_path()?;

    // Warm-up: the first pass pays for page faults and thread-pool start on both sides; the
    // numpy warm-up also gives the vectors to compare.
    let ours = model.embed(&texts)?;
    let (_, theirs) = run_python(&pythonpath, &model_dir, input.path(), true)?;
    let theirs = theirs.context("no embeddings from the reference")?;
    let mut max_diff = 0f32;
    for (a, b) in ours.iter().zip(&theirs) {
        for (x, y) in a.iter().zip(b) {
            max_diff = max_diff.max((x - y).abs());
        }
    }
    // Alternate the two so that drift of this shared machine hits both.
    let (mut d_times, mut p_times) = (Vec::new(), Vec::new());
    for run in 0..p.runs {
        let start = Instant::now();
        model.embed(&texts)?;
        d_times.push(start.elapsed().as_secs_f64());
        p_times.push(run_python(&pythonpath, &model_dir, input.path(), false)?.0);
        eprintln!(
            "bench embed: run {}/{}: dbarch {:.1} s, numpy {:.1} s",
            run + 1,
            p.runs,
            d_times[run as usize],
            p_times[run as usize]
        );
    }
    let (dm, pm) = (median(&d_times), median(&p_times));
    let n = chunks.len() as f64;
    Ok(json!({
        "version": 1,
        "benchmark": "embed",
        "machine": machine(),
        "model": model.info(),
        "model_dir": model_dir,
        "chunks": chunks.len(),
        "tokens": { "total": total_tokens, "mean": round(total_tokens as f64 / n), "min": tokens.iter().min(), "max": tokens.iter().max() },
        "runs": p.runs,
        "batch": 32,
        "load_s": round(load_s),
        "dbarch": summary(&d_times),
        "numpy": summary(&p_times),
        "dbarch_chunks_per_s": round(n / dm),
        "numpy_chunks_per_s": round(n / pm),
        "dbarch_tokens_per_s": (total_tokens as f64 / dm).round(),
        "ratio_dbarch_over_numpy": round(pm / dm),
        "max_abs_diff": max_diff,
    }))
}
