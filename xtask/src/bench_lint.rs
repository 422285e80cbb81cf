//! `bench lint`: static lint of generated migration files by `dbarch lint` and by squawk,
//! side by side in one run (same files, same machine state), plus which statements each tool
//! flags that the other does not.

use crate::bench::{build_dbarch, machine, median, round, summary};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One migration file of 1–4 statements from a pool of everyday changes, safe and unsafe.
fn migration(i: usize, rng: &mut fastrand::Rng) -> String {
    let t = format!("t{}", rng.usize(0..200));
    let u = format!("t{}", rng.usize(0..200));
    let pool = [
        format!(
            "CREATE TABLE new_{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());"
        ),
        format!("CREATE INDEX {t}_c{i}_idx ON {t} (c{i});"),
        format!("CREATE INDEX CONCURRENTLY IF NOT EXISTS {t}_d{i}_idx ON {t} (d);"),
        format!("ALTER TABLE {t} ADD COLUMN note_{i} text;"),
        format!("ALTER TABLE {t} ADD COLUMN flag_{i} boolean NOT NULL;"),
        format!("ALTER TABLE {t} ADD COLUMN seen_{i} timestamp;"),
        format!(
            "ALTER TABLE {t} ADD CONSTRAINT {t}_{u}_fk{i} FOREIGN KEY ({u}_id) REFERENCES {u} (id);"
        ),
        format!(
            "ALTER TABLE {t} ADD CONSTRAINT {t}_{u}_fk{i} FOREIGN KEY ({u}_id) REFERENCES {u} (id) NOT VALID;"
        ),
        format!("ALTER TABLE {t} ALTER COLUMN c{i} SET NOT NULL;"),
        format!("ALTER TABLE {t} DROP COLUMN IF EXISTS old_{i};"),
        format!("ALTER TABLE {t} RENAME COLUMN a{i} TO b{i};"),
        format!("ALTER TABLE {t} ALTER COLUMN n{i} TYPE bigint;"),
        format!("ALTER TABLE {t} ALTER COLUMN s{i} TYPE text;"),
        format!("ALTER TABLE {t} ADD CONSTRAINT {t}_chk{i} CHECK (amount > 0);"),
        format!("UPDATE {t} SET status = 'done' WHERE id < {i};"),
        format!("DROP INDEX IF EXISTS {t}_old{i}_idx;"),
        format!("COMMENT ON TABLE {t} IS 'table {i}';"),
        format!("ALTER TABLE {t} ADD COLUMN uid_{i} uuid DEFAULT gen_random_uuid();"),
    ];
    let n = rng.usize(1..=4);
    let mut text = format!("-- migration {i}\n");
    for _ in 0..n {
        text.push_str(&pool[rng.usize(0..pool.len())]);
        text.push('\n');
    }
    text
}

/// Generates `count` files in a fresh directory.
fn generate(count: usize) -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("dbarch-bench-lint-")
        .tempdir()?;
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..count {
        std::fs::write(
            dir.path().join(format!("{i:05}_m.sql")),
            migration(i, &mut rng),
        )?;
    }
    Ok(dir)
}

fn squawk_binary(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let found = Command::new("squawk").arg("--version").output();
    match found {
        Ok(o) if o.status.success() => Ok(PathBuf::from("squawk")),
        _ => bail!(
            "squawk is not on PATH: install it with `pip install squawk-cli` (or pass --squawk PATH)"
        ),
    }
}

fn timed(cmd: &mut Command) -> Result<(f64, Vec<u8>)> {
    let start = Instant::now();
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    let secs = start.elapsed().as_secs_f64();
    // Both tools exit non-zero when they find something; only a crash is a failure.
    if out.status.code().is_none() {
        bail!(
            "{cmd:?} was killed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((secs, out.stdout))
}

pub fn lint(count: usize, runs: u32, squawk: Option<&Path>) -> Result<Value> {
    let dbarch = build_dbarch()?;
    let squawk = squawk_binary(squawk)?;
    let squawk_version = Command::new(&squawk)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let dir = generate(count)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.sort();

    let dbarch_cmd = || {
        let mut c = Command::new(&dbarch);
        c.args(["lint", "--format", "json", "--fail-on", "never"])
            .arg(dir.path())
            .current_dir(dir.path());
        c
    };
    let squawk_cmd = || {
        let mut c = Command::new(&squawk);
        c.args(["--reporter", "json"])
            .args(&files)
            .current_dir(dir.path());
        c
    };
    // Warm-up (page cache, binaries), then alternate the tools so drift hits both.
    let (_, dbarch_out) = timed(&mut dbarch_cmd())?;
    let (_, squawk_out) = timed(&mut squawk_cmd())?;
    let (mut d_times, mut s_times) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        d_times.push(timed(&mut dbarch_cmd())?.0);
        s_times.push(timed(&mut squawk_cmd())?.0);
    }

    // Findings by statement (file, 1-based line) for each tool.
    let d_doc: Value = serde_json::from_slice(&dbarch_out).context("dbarch's JSON")?;
    let s_doc: Value = serde_json::from_slice(&squawk_out).context("squawk's JSON")?;
    let name_of = |f: &str| {
        Path::new(f)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    };
    let mut d_by: BTreeMap<(String, u64), BTreeSet<String>> = BTreeMap::new();
    for d in d_doc["diagnostics"].as_array().into_iter().flatten() {
        let key = (
            name_of(d["file"].as_str().unwrap_or("")),
            d["line"].as_u64().unwrap_or(0),
        );
        d_by.entry(key).or_default().insert(format!(
            "{} {}",
            d["code"].as_str().unwrap_or(""),
            d["name"].as_str().unwrap_or("")
        ));
    }
    let mut s_by: BTreeMap<(String, u64), BTreeSet<String>> = BTreeMap::new();
    for d in s_doc.as_array().into_iter().flatten() {
        let key = (
            name_of(d["file"].as_str().unwrap_or("")),
            d["line"].as_u64().unwrap_or(0) + 1,
        );
        s_by.entry(key)
            .or_default()
            .insert(d["rule_name"].as_str().unwrap_or("").to_string());
    }
    // Rules that fire on statements the other tool leaves alone, with counts.
    let only = |a: &BTreeMap<(String, u64), BTreeSet<String>>,
                b: &BTreeMap<(String, u64), BTreeSet<String>>| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (k, rules) in a {
            if !b.contains_key(k) {
                for r in rules {
                    *counts.entry(r.clone()).or_default() += 1;
                }
            }
        }
        counts
    };
    let totals = |m: &BTreeMap<(String, u64), BTreeSet<String>>| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for rules in m.values() {
            for r in rules {
                *counts.entry(r.clone()).or_default() += 1;
            }
        }
        counts
    };
    let (dm, sm) = (median(&d_times), median(&s_times));
    Ok(json!({
        "version": 1,
        "benchmark": "lint",
        "machine": machine(),
        "files": count,
        "runs": runs,
        "squawk_version": squawk_version,
        "dbarch": summary(&d_times),
        "squawk": summary(&s_times),
        "ratio_dbarch_over_squawk": round(dm / sm),
        "statements_flagged": { "dbarch": d_by.len(), "squawk": s_by.len() },
        "findings_by_rule": { "dbarch": totals(&d_by), "squawk": totals(&s_by) },
        "flagged_only_by_dbarch": only(&d_by, &s_by),
        "flagged_only_by_squawk": only(&s_by, &d_by),
    }))
}
