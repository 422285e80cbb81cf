//! Large data migrations: `UPDATE t SET <set> [WHERE <cond>]` in batches, keyset-paginated by
//! the primary key, one short transaction per batch, resumable from `_dbarch.backfills`, and
//! throttled by what it does to others: sessions waiting on the locks of the backfill's own
//! transaction (not unrelated lock waits between other sessions), batches that had to wait for
//! locks themselves or slow down, and replicas that fall behind.
//!
//! Two strengths of throttle: sessions blocked by a batch make the next pause as long as that
//! batch (the backfill then holds its row locks at most half of the time, and a blocked
//! session waits at most one batch); lock timeouts, slow batches and replica lag double the
//! pause, up to [`MAX_SLEEP`].

use crate::error::{Error, Result, pg_message};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

/// The longest pause between two batches when throttled.
pub const MAX_SLEEP: Duration = Duration::from_secs(5);

/// What to backfill and how.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// The table, as SQL (`items`, `app.items`, `"Items"`).
    pub table: String,
    /// The assignments of the UPDATE (`col = expr[, ...]`).
    pub set: String,
    /// Only the rows matching this condition.
    pub where_: Option<String>,
    /// Rows per batch (one transaction each).
    pub batch: i64,
    /// Pause after each batch (doubled while throttled, up to [`MAX_SLEEP`]).
    pub sleep: Duration,
    /// The progress record's name (default: derived from the table, set and where).
    pub name: Option<String>,
    /// `lock_timeout` of the session: a batch never queues traffic behind it for longer.
    pub lock_timeout: Duration,
    /// How many times a batch that hit `lock_timeout` is tried again.
    pub lock_retries: u32,
    /// Stop after this many batches (progress saved), as if interrupted.
    pub max_batches: Option<u64>,
    /// Set (e.g. on Ctrl-C) to stop cleanly before the next batch.
    pub stop: Option<Arc<AtomicBool>>,
    /// A replica whose `replay_lag` exceeds this throttles the backfill.
    pub max_replica_lag: Duration,
    /// A replica that has not replayed this many bytes of WAL throttles the backfill.
    pub max_replica_lag_bytes: u64,
}

impl BackfillOptions {
    pub fn new(table: impl Into<String>, set: impl Into<String>) -> Self {
        BackfillOptions {
            table: table.into(),
            set: set.into(),
            where_: None,
            batch: 5000,
            sleep: Duration::from_millis(50),
            name: None,
            lock_timeout: Duration::from_secs(2),
            lock_retries: 10,
            max_batches: None,
            stop: None,
            max_replica_lag: Duration::from_secs(1),
            max_replica_lag_bytes: 16 << 20,
        }
    }

    /// The default name of the progress record.
    pub fn default_name(&self) -> String {
        match &self.where_ {
            Some(w) => format!("{} SET {} WHERE {}", self.table, self.set, w),
            None => format!("{} SET {}", self.table, self.set),
        }
    }
}

/// Where a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every matching row was updated in this run.
    Finished,
    /// A previous run had finished it; nothing was done.
    AlreadyFinished,
    /// Stopped before the end (Ctrl-C or `max_batches`); a re-run continues.
    Stopped,
}

/// What the progress callback sees after each batch.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Rows updated so far, previous runs included.
    pub rows_done: u64,
    /// Estimated rows to update in all (previous runs included).
    pub total: u64,
    /// Rows updated by this run.
    pub rows_this_run: u64,
    pub batches: u64,
    /// The pause before the next batch.
    pub sleep: Duration,
    pub throttled: bool,
    /// Why the pause is longer than `--sleep` after this batch (the strongest reason).
    pub reason: Option<Throttle>,
}

/// Why a batch was followed by a longer pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// This many sessions were waiting on the batch's locks when it committed: the next pause
    /// is as long as the batch.
    Blocking(i64),
    /// The batch hit `lock_timeout` and was tried again: the pause doubles.
    LockWait,
    /// The batch took more than twice the median batch: the pause doubles.
    Slow,
    /// A replica is behind by more than `max_replica_lag` or `max_replica_lag_bytes`: the
    /// pause doubles.
    ReplicaLag,
}

impl std::fmt::Display for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Throttle::Blocking(n) => write!(f, "{n} session(s) waited on the batch's locks"),
            Throttle::LockWait => write!(f, "the batch waited on other sessions' locks"),
            Throttle::Slow => write!(f, "batches slowed down"),
            Throttle::ReplicaLag => write!(f, "a replica lags"),
        }
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: String,
    /// The table, schema-qualified.
    pub table: String,
    pub outcome: Outcome,
    /// Rows updated in all, previous runs included.
    pub rows_done: u64,
    pub rows_this_run: u64,
    pub batches: u64,
    pub elapsed: Duration,
    /// Batches tried again after hitting lock_timeout.
    pub lock_retries: u64,
    /// Batches after which the pause was doubled.
    pub throttled_batches: u64,
}

const CREATE: &str = "CREATE SCHEMA IF NOT EXISTS _dbarch;
CREATE TABLE IF NOT EXISTS _dbarch.backfills (
    name text PRIMARY KEY,
    table_name text NOT NULL,
    set_expr text NOT NULL,
    where_expr text,
    last_key jsonb,
    rows_done bigint NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
)";

/// A server error in what the user wrote (unknown table or column, bad expression, bad
/// value) is an input error carrying the server's message; the rest are database errors.
fn classify(e: tokio_postgres::Error, what: &str) -> Error {
    match e.as_db_error() {
        Some(db) if ["42", "22", "23", "2B", "0A"].contains(&&db.code().code()[..2]) => {
            Error::Usage(format!("{what}: {}", pg_message(&e)))
        }
        _ => Error::Db(e),
    }
}

struct Table {
    oid: u32,
    qualified: String,
    /// Quoted primary key columns and their types, in key order.
    pk: Vec<(String, String)>,
}

async fn resolve(client: &Client, name: &str) -> Result<Table> {
    let row = client
        .query_opt(
            "SELECT c.oid, format('%I.%I', n.nspname, c.relname), c.relkind::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid = to_regclass($1)",
            &[&name],
        )
        .await
        .map_err(|e| classify(e, "--table"))?
        .ok_or_else(|| Error::Usage(format!("table {name} does not exist")))?;
    let oid: u32 = row.get(0);
    let qualified: String = row.get(1);
    let kind: String = row.get(2);
    if kind != "r" && kind != "p" {
        return Err(Error::Usage(format!("{qualified} is not a table")));
    }
    let pk = client
        .query(
            "SELECT quote_ident(a.attname), format_type(a.atttypid, a.atttypmod) \
             FROM pg_index i \
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord",
            &[&oid],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect::<Vec<(String, String)>>();
    if pk.is_empty() {
        return Err(Error::Usage(format!(
            "{qualified} has no primary key: a backfill pages through a table by its primary key"
        )));
    }
    Ok(Table { oid, qualified, pk })
}

/// ` WHERE (pk) > (last key, parameter `$key_param` as text[]) AND (where)`, or less.
fn filter(t: &Table, where_: Option<&str>, key_param: Option<usize>) -> String {
    let mut conds = Vec::new();
    if let Some(n) = key_param {
        let pk = t.pk.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>();
        let key =
            t.pk.iter()
                .enumerate()
                .map(|(i, (_, ty))| format!("((${n}::text[])[{}])::{ty}", i + 1))
                .collect::<Vec<_>>();
        conds.push(format!("({}) > ({})", pk.join(", "), key.join(", ")));
    }
    if let Some(w) = where_ {
        conds.push(format!("({w})"));
    }
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

/// The batch statement. With `after`, `$2` is the last key of the previous batch (as text[]).
fn batch_sql(t: &Table, set: &str, where_: Option<&str>, after: bool) -> String {
    let cols = t.pk.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>();
    let pk = cols.join(", ");
    let filter = filter(t, where_, after.then_some(2));
    let as_text = cols
        .iter()
        .map(|c| format!("{c}::text"))
        .collect::<Vec<_>>()
        .join(", ");
    let desc = cols
        .iter()
        .map(|c| format!("{c} DESC"))
        .collect::<Vec<_>>()
        .join(", ");
    let table = &t.qualified;
    format!(
        "WITH batch AS (SELECT {pk} FROM {table}{filter} ORDER BY {pk} LIMIT $1), \
         upd AS (UPDATE {table} SET {set} WHERE ({pk}) IN (SELECT {pk} FROM batch) RETURNING 1) \
         SELECT (SELECT count(*) FROM upd)::bigint, \
                (SELECT ARRAY[{as_text}] FROM batch ORDER BY {desc} LIMIT 1)"
    )
}

struct Saved {
    table: String,
    set: String,
    where_: Option<String>,
    last_key: Option<Vec<String>>,
    rows_done: i64,
    finished: bool,
}

async fn load_saved(client: &Client, name: &str) -> Result<Option<Saved>> {
    let row = client
        .query_opt(
            "SELECT table_name, set_expr, where_expr, last_key, rows_done, finished_at IS NOT NULL \
             FROM _dbarch.backfills WHERE name = $1",
            &[&name],
        )
        .await?;
    Ok(row.map(|r| {
        let key: Option<serde_json::Value> = r.get(3);
        Saved {
            table: r.get(0),
            set: r.get(1),
            where_: r.get(2),
            last_key: key.and_then(|k| serde_json::from_value(k).ok()),
            rows_done: r.get(4),
            finished: r.get(5),
        }
    }))
}

/// Other sessions waiting on a lock that the backfill's transaction holds (a row of the
/// batch, the table): the waits the backfill causes. Sessions waiting on each other are not
/// its business.
const BLOCKED_BY_US: &str = "SELECT count(*) FROM pg_stat_activity a \
     WHERE a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid() \
       AND pg_backend_pid() = ANY (pg_blocking_pids(a.pid))";

/// How far the replicas are behind: the longest replay_lag (seconds) and the most WAL not
/// yet replayed (bytes). Both 0 without replicas, or without the privilege to see them
/// (pg_read_all_stats).
const REPLICA_LAG: &str = "SELECT coalesce(max(extract(epoch FROM replay_lag)), 0)::float8, \
            coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::float8 \
     FROM pg_stat_replication";

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s[s.len() / 2]
}

/// Runs (or resumes) the backfill, calling `progress` after each batch.
pub async fn run(
    client: &Client,
    opts: &BackfillOptions,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Report> {
    let started = Instant::now();
    if opts.batch <= 0 {
        return Err(Error::Usage("--batch must be positive".into()));
    }
    let name = opts.name.clone().unwrap_or_else(|| opts.default_name());
    let table = resolve(client, &opts.table).await?;
    let where_ = opts.where_.as_deref();
    // Parsing and planning the statements reports unknown columns and bad expressions
    // before anything runs.
    let first = client
        .prepare(&batch_sql(&table, &opts.set, where_, false))
        .await
        .map_err(|e| classify(e, "--set/--where"))?;
    let next = client
        .prepare(&batch_sql(&table, &opts.set, where_, true))
        .await
        .map_err(|e| classify(e, "--set/--where"))?;

    client.batch_execute(CREATE).await?;
    let saved = match load_saved(client, &name).await? {
        Some(s) => {
            if s.table != table.qualified || s.set != opts.set || s.where_ != opts.where_ {
                return Err(Error::Usage(format!(
                    "backfill {name:?} was started as {} SET {}{}; give another --name",
                    s.table,
                    s.set,
                    s.where_.map(|w| format!(" WHERE {w}")).unwrap_or_default()
                )));
            }
            s
        }
        None => {
            client
                .execute(
                    "INSERT INTO _dbarch.backfills (name, table_name, set_expr, where_expr) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
                    &[&name, &table.qualified, &opts.set, &opts.where_],
                )
                .await?;
            Saved {
                table: table.qualified.clone(),
                set: opts.set.clone(),
                where_: opts.where_.clone(),
                last_key: None,
                rows_done: 0,
                finished: false,
            }
        }
    };
    let mut report = Report {
        name: name.clone(),
        table: table.qualified.clone(),
        outcome: Outcome::AlreadyFinished,
        rows_done: saved.rows_done as u64,
        rows_this_run: 0,
        batches: 0,
        elapsed: Duration::ZERO,
        lock_retries: 0,
        throttled_batches: 0,
    };
    if saved.finished {
        report.elapsed = started.elapsed();
        return Ok(report);
    }

    // The estimated total: an exact count of what remains on small tables, the planner's
    // estimate on big ones.
    let reltuples: f32 = client
        .query_one(
            "SELECT reltuples FROM pg_class WHERE oid = $1",
            &[&table.oid],
        )
        .await?
        .get(0);
    let remaining = if reltuples > 2_000_000.0 {
        (reltuples as u64).saturating_sub(saved.rows_done as u64)
    } else {
        // What remains after the last key: the total is exact on a resumed run too.
        let sql = format!(
            "SELECT count(*) FROM {}{}",
            table.qualified,
            filter(&table, where_, saved.last_key.is_some().then_some(1))
        );
        let row = match &saved.last_key {
            Some(k) => client.query_one(&sql, &[k]).await,
            None => client.query_one(&sql, &[]).await,
        };
        let n: i64 = row.map_err(|e| classify(e, "--where"))?.get(0);
        n as u64
    };
    let total = saved.rows_done as u64 + remaining;

    client
        .batch_execute(&format!(
            "SET lock_timeout = '{}ms'",
            opts.lock_timeout.as_millis().max(1)
        ))
        .await?;
    let mut sleep = opts.sleep;
    let mut durations: Vec<Duration> = Vec::new();
    let stopped = || opts.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst));
    loop {
        if stopped() || opts.max_batches.is_some_and(|m| report.batches >= m) {
            report.outcome = Outcome::Stopped;
            break;
        }
        let t0 = Instant::now();
        let mut tries = 0;
        let b = loop {
            match one_batch(client, &first, &next, opts.batch, &name).await {
                Ok(r) => break r,
                Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                    client.batch_execute("ROLLBACK").await.ok();
                    tries += 1;
                    report.lock_retries += 1;
                    if tries > opts.lock_retries {
                        return Err(Error::Refused(format!(
                            "backfill {name:?}: a batch could not take its locks within \
                             lock_timeout after {tries} tries: {}",
                            pg_message(&e)
                        )));
                    }
                    let backoff = Duration::from_millis(100 * (1 << tries.min(5)))
                        + Duration::from_millis(fastrand::u64(0..100));
                    tokio::time::sleep(backoff).await;
                }
                Err(e) => {
                    client.batch_execute("ROLLBACK").await.ok();
                    return Err(classify(e, "batch failed"));
                }
            }
        };
        let took = t0.elapsed();
        let waited = tries > 0;
        report.rows_done = b.rows_done as u64;
        if b.key.is_none() {
            report.outcome = Outcome::Finished;
            break;
        }
        report.batches += 1;
        report.rows_this_run += b.updated as u64;
        let slow = durations.len() >= 3 && took > median(&durations) * 2;
        durations.push(took);
        // Checked after every batch: replicas may connect while the backfill runs.
        let lagging = client
            .query_one(REPLICA_LAG, &[])
            .await
            .map(|r| {
                r.get::<_, f64>(0) > opts.max_replica_lag.as_secs_f64()
                    || r.get::<_, f64>(1) > opts.max_replica_lag_bytes as f64
            })
            .unwrap_or(false);
        let reason = if lagging {
            Some(Throttle::ReplicaLag)
        } else if waited {
            Some(Throttle::LockWait)
        } else if slow {
            Some(Throttle::Slow)
        } else if b.blocked > 0 {
            Some(Throttle::Blocking(b.blocked))
        } else {
            None
        };
        sleep = match reason {
            Some(Throttle::Blocking(_)) => (sleep / 2).max(opts.sleep).max(took.min(MAX_SLEEP)),
            Some(_) => (sleep.max(Duration::from_millis(10)) * 2).min(MAX_SLEEP),
            None => (sleep / 2).max(opts.sleep),
        };
        let throttled = reason.is_some();
        if throttled {
            report.throttled_batches += 1;
        }
        progress(&Progress {
            rows_done: report.rows_done,
            total: total.max(report.rows_done),
            rows_this_run: report.rows_this_run,
            batches: report.batches,
            sleep,
            throttled,
            reason,
        });
        // In slices, so that a stop request does not wait for a long pause.
        let until = Instant::now() + sleep;
        while !stopped() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            tokio::time::sleep(left.min(Duration::from_millis(50))).await;
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// What one batch did.
struct Batch {
    updated: i64,
    /// The batch's last key; None when nothing is left.
    key: Option<Vec<String>>,
    /// Rows done in all, as recorded.
    rows_done: i64,
    /// Sessions waiting on the batch's locks just before commit.
    blocked: i64,
}

/// One batch in its own transaction, its progress recorded in the same one. The progress row
/// is locked first and the batch starts from its key, so that two runs of the same backfill
/// take turns instead of updating rows twice.
async fn one_batch(
    client: &Client,
    first: &tokio_postgres::Statement,
    next: &tokio_postgres::Statement,
    batch: i64,
    name: &str,
) -> std::result::Result<Batch, tokio_postgres::Error> {
    client.batch_execute("BEGIN").await?;
    let saved = client
        .query_one(
            "SELECT last_key, rows_done, finished_at IS NOT NULL FROM _dbarch.backfills \
             WHERE name = $1 FOR UPDATE",
            &[&name],
        )
        .await?;
    let rows_done: i64 = saved.get(1);
    if saved.get::<_, bool>(2) {
        client.batch_execute("COMMIT").await?;
        return Ok(Batch {
            updated: 0,
            key: None,
            rows_done,
            blocked: 0,
        });
    }
    let last_key: Option<Vec<String>> = saved
        .get::<_, Option<serde_json::Value>>(0)
        .and_then(|k| serde_json::from_value(k).ok());
    let row = match &last_key {
        None => client.query_one(first, &[&batch]).await?,
        Some(k) => client.query_one(next, &[&batch, k]).await?,
    };
    let updated: i64 = row.get(0);
    let key: Option<Vec<String>> = row.get(1);
    let blocked: i64 = client.query_one(BLOCKED_BY_US, &[]).await?.get(0);
    let rows_done = match &key {
        Some(k) => client
            .query_one(
                "UPDATE _dbarch.backfills SET last_key = $2, rows_done = rows_done + $3, \
                 updated_at = now() WHERE name = $1 RETURNING rows_done",
                &[&name, &serde_json::json!(k), &updated],
            )
            .await?
            .get(0),
        None => client
            .query_one(
                "UPDATE _dbarch.backfills SET finished_at = now(), updated_at = now() \
                 WHERE name = $1 RETURNING rows_done",
                &[&name],
            )
            .await?
            .get(0),
    };
    client.batch_execute("COMMIT").await?;
    Ok(Batch {
        updated,
        key,
        rows_done,
        blocked,
    })
}
