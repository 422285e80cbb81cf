//! `dbarch doctor`: PgHero-class health checks on a live database. Each check is one named,
//! set-based catalog query (`src/sql/doctor/*.sql`) and a function turning its rows into
//! diagnostics with a stable code (`H001`..) and a concrete fix. Everything is read-only.
//! A check that cannot run (a missing privilege or view) becomes a note saying it was
//! skipped; it never fails the whole run.

mod checks;

pub(crate) use checks::size;

use dbarch_report::{Diagnostic, Severity};
use std::time::Duration;
use tokio_postgres::{Client, Row};

/// Thresholds. `None` takes the default (see each field).
#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// Below this size a table (or the waste of a bloated relation) is too small to matter
    /// for the unused-index and bloat checks. Default 10 MiB.
    pub min_table_bytes: Option<u64>,
    /// An index counts as unused only once its table has been read this many times (scans of
    /// any kind): right after a load nothing has used anything yet. Default 1,000.
    pub min_table_reads: Option<u64>,
    /// A query running longer than this is reported. Default 5 minutes.
    pub long_running: Option<Duration>,
    /// A session idle in a transaction longer than this is reported. Default 1 minute.
    pub idle_in_transaction: Option<Duration>,
}

impl DoctorOptions {
    pub(crate) fn min_table_bytes(&self) -> i64 {
        self.min_table_bytes
            .map_or(10 << 20, |b| i64::try_from(b).unwrap_or(i64::MAX))
    }
    pub(crate) fn min_table_reads(&self) -> i64 {
        self.min_table_reads
            .map_or(1000, |n| i64::try_from(n).unwrap_or(i64::MAX))
    }
    pub(crate) fn long_running_secs(&self) -> f64 {
        self.long_running.map_or(300.0, |d| d.as_secs_f64())
    }
    pub(crate) fn idle_in_transaction_secs(&self) -> f64 {
        self.idle_in_transaction.map_or(60.0, |d| d.as_secs_f64())
    }
}

/// One health check: its catalog query and how its rows become findings.
pub struct Check {
    /// The first code it reports (some checks report two related codes).
    pub code: &'static str,
    pub name: &'static str,
    /// One line: what it flags.
    pub summary: &'static str,
    pub sql: &'static str,
    eval: fn(&[Row], &DoctorOptions) -> Vec<Diagnostic>,
}

/// Every check, in report order.
pub fn checks() -> &'static [Check] {
    checks::CHECKS
}

/// Runs every check. Fails only when the server cannot be reached at all.
pub async fn run(
    client: &Client,
    options: &DoctorOptions,
) -> Result<Vec<Diagnostic>, tokio_postgres::Error> {
    client.simple_query("SELECT 1").await?;
    let mut out = Vec::new();
    for check in checks() {
        match client.query(check.sql, &[]).await {
            Ok(rows) => out.extend((check.eval)(&rows, options)),
            Err(e) if e.as_db_error().is_some() => out.push(skipped(check, &e)),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Runs only the checks with these codes (a check reporting two codes is named by its first).
pub async fn run_checks(
    client: &Client,
    options: &DoctorOptions,
    codes: &[&str],
) -> Result<Vec<Diagnostic>, tokio_postgres::Error> {
    let mut out = Vec::new();
    for check in checks().iter().filter(|c| codes.contains(&c.code)) {
        match client.query(check.sql, &[]).await {
            Ok(rows) => out.extend((check.eval)(&rows, options)),
            Err(e) if e.as_db_error().is_some() => out.push(skipped(check, &e)),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn skipped(check: &Check, e: &tokio_postgres::Error) -> Diagnostic {
    let db = e.as_db_error();
    let why = db.map_or_else(|| e.to_string(), |d| d.message().to_owned());
    let d = Diagnostic::new(
        check.code,
        check.name,
        Severity::Note,
        format!("check skipped: {why}"),
    );
    match db.map(|d| d.code().code()) {
        Some("57014") => d
            .with_help(format!(
                "{} The check ran longer than statement_timeout (or waited for a lock another \
                 session holds).",
                check.summary
            ))
            .with_fix("run again later, or with a larger --statement-timeout"),
        Some("42501") => d
            .with_help(format!(
                "{} This check needs read access to the statistics views.",
                check.summary
            ))
            .with_fix("GRANT pg_monitor TO <the role dbarch connects as>;"),
        _ => d.with_help(check.summary),
    }
}
