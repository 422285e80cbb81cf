//! What every end-to-end test of the binary needs: running it hermetically (its own project
//! directory, no libpq variables, no stdin) and checking exit codes and one-line errors.
#![allow(dead_code)] // each test crate uses a different part

use std::path::Path;
use std::process::{Command, Output, Stdio};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(out: Output) -> Run {
        Run {
            // No exit code means a signal: never what we want; -1 makes the assertion fail.
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing everything the command printed when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Run {
        assert_eq!(
            self.code, expected,
            "exit code {} instead of {expected}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "the command panicked:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts that stderr is exactly one line `error: ...`, without a cause repeated twice
    /// (`a: b: b`), and returns that line.
    #[track_caller]
    pub fn one_line_error(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "stderr should be one line, got {}:\n{}",
            lines.len(),
            self.stderr
        );
        let line = lines[0];
        assert!(line.starts_with("error: "), "not an error line: {line}");
        let parts: Vec<&str> = line.split(": ").collect();
        for pair in parts.windows(2) {
            assert_ne!(pair[0], pair[1], "a cause is repeated in: {line}");
        }
        line
    }
}

/// A project directory of its own (holding `dbarch.toml`), so that a dev server started by a
/// command lives in this test's tempdir and nowhere else.
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("dbarch-cli-")
        .tempdir()
        .expect("tempdir");
    std::fs::write(dir.path().join("dbarch.toml"), "").expect("write dbarch.toml");
    dir
}

/// The binary, run in `cwd`, with none of the variables that could point it at a database.
pub fn dbarch_cmd(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbarch"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1");
    for var in [
        "DATABASE_URL",
        "PGHOST",
        "PGHOSTADDR",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGSERVICE",
        "PGSERVICEFILE",
        "PGPASSWORD",
        "PGPASSFILE",
        "PGSSLMODE",
        "PGCONNECT_TIMEOUT",
        "DBARCH_PG_BIN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

pub fn run_in(cwd: &Path, args: &[&str]) -> Run {
    let out = dbarch_cmd(cwd, args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run dbarch {args:?}: {e}"));
    Run::from_output(out)
}

/// Runs the binary in a fresh project directory (for commands that must not touch a dev
/// server: every one given `--url`, and the failing ones).
pub fn run(args: &[&str]) -> Run {
    let dir = project();
    run_in(dir.path(), args)
}

/// A project whose dev server is stopped when the test ends, also when it fails.
pub struct DevProject {
    dir: tempfile::TempDir,
}

impl DevProject {
    pub fn new() -> DevProject {
        DevProject { dir: project() }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args)
    }
}

impl Drop for DevProject {
    fn drop(&mut self) {
        // Best effort: the TempDir is removed after this (fields drop after `drop`).
        let _ = dbarch_cmd(self.path(), &["dev", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

// ---------------------------------------------------------------------------------------------
// Synthetic vectors
// ---------------------------------------------------------------------------------------------

/// A seeded generator (splitmix64) with normal deviates (Box–Muller): no dependency needed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// `k` centers uniform in [-1, 1]^dims.
pub fn centers(k: usize, dims: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng(seed);
    (0..k)
        .map(|_| (0..dims).map(|_| (rng.unit() * 2.0 - 1.0) as f32).collect())
        .collect()
}

/// `n` points around `centers` (Gaussian, sigma 0.15).
pub fn clustered(centers: &[Vec<f32>], n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let c = &centers[(rng.next() % centers.len() as u64) as usize];
            c.iter().map(|x| x + 0.15 * rng.normal() as f32).collect()
        })
        .collect()
}

/// pgvector's text form of a vector.
pub fn literal(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}
