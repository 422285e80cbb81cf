//! The `migrate` benchmark: `dbarch migrate up` (the release binary, as a process) of N small
//! generated migrations on a fresh database, against the baseline of one
//! `psql -X -1 -f FILE` per file on another fresh database of the same throwaway server; and,
//! as a floor, one psql session running every file in a transaction of its own (`BEGIN`,
//! `\i FILE`, `COMMIT`): the SQL itself without any per-file process or connection.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, PgInstall, SessionOptions};
use serde_json::{Value, json};

use crate::bench::{build_dbarch, machine, median, round, summary};

/// The text of migration `i` (0-based): a cycle of small changes over a growing set of
/// tables (create table, add column, create index, insert a few rows, add a foreign key or a
/// view), as a team's migrations directory looks.
pub fn migration(i: usize) -> String {
    let t = i / 5;
    match i % 5 {
        0 => format!(
            "CREATE TABLE m{t} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
             name text NOT NULL,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\n\
             COMMENT ON TABLE m{t} IS 'table {t}';\n"
        ),
        1 => format!("ALTER TABLE m{t} ADD COLUMN score integer NOT NULL DEFAULT 0;\n"),
        2 => format!("CREATE INDEX m{t}_name ON m{t} (name);\n"),
        3 => format!(
            "INSERT INTO m{t} (name, score) VALUES ('a', 1), ('b', 2), ('c', 3);\n\
             UPDATE m{t} SET score = score + 1 WHERE name = 'b';\n"
        ),
        _ if t > 0 => format!(
            "ALTER TABLE m{t} ADD COLUMN parent_id bigint REFERENCES m{}(id);\n\
             CREATE INDEX m{t}_parent ON m{t} (parent_id);\n",
            t - 1
        ),
        _ => format!("CREATE VIEW v{t} AS SELECT id, name FROM m{t};\n"),
    }
}

fn session() -> SessionOptions {
    SessionOptions {
        statement_timeout: Some(Duration::ZERO),
        ..SessionOptions::writer()
    }
}

pub fn migrate(count: usize, runs: u32) -> Result<Value> {
    let dbarch = build_dbarch()?;
    let install = PgInstall::discover(&DiscoverOptions {
        provision: true,
        ..Default::default()
    })?;
    let psql = install.bin("psql");
    eprintln!(
        "PostgreSQL {} from {}",
        install.version,
        install.bin_dir.display()
    );
    let server = EphemeralServer::start(&install)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let admin = rt.block_on(dbarch_pg::connect(
        &ConnConfig::parse(&server.url("postgres"))?,
        &session(),
    ))?;

    // The project: dbarch's native layout, <version>_<name>.sql.
    let project = tempfile_dir()?;
    let dir = project.join("migrations");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(project.join("dbarch.toml"), "")?;
    let mut files = Vec::new();
    for i in 0..count {
        let path = dir.join(format!("{:04}_step_{i}.sql", i + 1));
        std::fs::write(&path, migration(i))?;
        files.push(path);
    }

    let mut db_n = 0;
    let mut fresh = |rt: &tokio::runtime::Runtime| -> Result<String> {
        db_n += 1;
        let name = format!("bench_migrate_{db_n}");
        rt.block_on(admin.batch_execute(&format!("CREATE DATABASE {name}")))?;
        Ok(server.url(&name))
    };
    let run_dbarch = |url: &str| -> Result<f64> {
        let started = Instant::now();
        let out = Command::new(&dbarch)
            .args(["-q", "migrate", "up", "--url", url])
            .current_dir(&project)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("running dbarch migrate up")?;
        let secs = started.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!(
                "dbarch migrate up failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(secs)
    };
    let run_psql = |url: &str| -> Result<f64> {
        let started = Instant::now();
        for f in &files {
            let out = Command::new(&psql)
                .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
                .arg(f)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .context("running psql")?;
            if !out.status.success() {
                bail!(
                    "psql -f {} failed ({}): {}",
                    f.display(),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
        Ok(started.elapsed().as_secs_f64())
    };

    let all = project.join("all.sql");
    let mut script = String::new();
    for f in &files {
        script.push_str(&format!("BEGIN;\n\\i {}\nCOMMIT;\n", f.display()));
    }
    std::fs::write(&all, script)?;
    let run_psql_once = |url: &str| -> Result<f64> {
        let started = Instant::now();
        let out = Command::new(&psql)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
            .arg(&all)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("running psql")?;
        if !out.status.success() {
            bail!(
                "psql -f {} failed ({}): {}",
                all.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(started.elapsed().as_secs_f64())
    };

    // Warm-up: binaries in the page cache, the template database's pages in shared buffers.
    run_dbarch(&fresh(&rt)?)?;
    run_psql(&fresh(&rt)?)?;
    run_psql_once(&fresh(&rt)?)?;
    let (mut ours, mut theirs, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let (a, b, c) = (fresh(&rt)?, fresh(&rt)?, fresh(&rt)?);
        // Alternate the order so that slow phases of a noisy machine hit all.
        if run.is_multiple_of(2) {
            ours.push(run_dbarch(&a)?);
            theirs.push(run_psql(&b)?);
            floor.push(run_psql_once(&c)?);
        } else {
            floor.push(run_psql_once(&c)?);
            theirs.push(run_psql(&b)?);
            ours.push(run_dbarch(&a)?);
        }
        eprintln!(
            "run {}/{runs}: dbarch {:.3} s, psql per file {:.3} s, psql one session {:.3} s",
            run + 1,
            ours[ours.len() - 1],
            theirs[theirs.len() - 1],
            floor[floor.len() - 1]
        );
        // Both databases must hold the same thing.
        let check = |url: &str| -> Result<i64> {
            rt.block_on(async {
                let c = dbarch_pg::connect(&ConnConfig::parse(url)?, &session()).await?;
                let n: i64 = c
                    .query_one(
                        "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
                        &[],
                    )
                    .await?
                    .get(0);
                Ok::<_, anyhow::Error>(n)
            })
        };
        let (na, nb, nc) = (check(&a)?, check(&b)?, check(&c)?);
        if na != nb || na != nc {
            bail!("dbarch created {na} relations, psql {nb} and {nc}");
        }
    }
    let ratio = median(&ours) / median(&theirs);
    let floor_ratio = median(&ours) / median(&floor);
    eprintln!(
        "median dbarch {:.3} s, psql per file {:.3} s (ratio {ratio:.2}), psql one session \
         {:.3} s (ratio {floor_ratio:.2})",
        median(&ours),
        median(&theirs),
        median(&floor)
    );
    drop(admin);
    drop(server);
    std::fs::remove_dir_all(&project).ok();
    Ok(json!({
        "version": 1,
        "benchmark": "migrate",
        "machine": machine(),
        "postgres": install.version,
        "migrations": count,
        "runs": runs,
        "results": {
            "dbarch": summary(&ours),
            "psql_per_file": summary(&theirs),
            "ratio": round(ratio),
            "psql_one_session": summary(&floor),
            "ratio_one_session": round(floor_ratio),
        },
    }))
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("dbarch-bench-migrate-{}", std::process::id()));
    if Path::new(&dir).exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
