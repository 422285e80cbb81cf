//! `up`, `down`, `status` and `baseline`.
//!
//! A transactional migration runs in one transaction together with its history row, so a
//! failure leaves nothing. A non-transactional one is sent statement by statement (a
//! multi-statement query would be an implicit transaction), with its progress recorded after
//! each statement: a failure or a crash leaves a `success = false` row saying how far it got,
//! and the next `up` continues from the next statement.

use crate::error::{Error, Result, pg_message};
use crate::format::{Migration, Script};
use crate::history::{self, Applied};
use crate::{directive, lock, split};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Statement};

#[derive(Debug, Clone)]
pub struct Options {
    /// `lock_timeout` of the runner's session: a migration never queues traffic behind it for
    /// longer than this.
    pub lock_timeout: Duration,
    /// How many times a migration that hit `lock_timeout` is tried again.
    pub lock_retries: u32,
    /// First backoff between tries (doubled each time, with jitter).
    pub retry_backoff: Duration,
    /// A dbarch runner session idle in a transaction for longer than this is an orphan.
    pub orphan_after: Duration,
    /// How long to wait for another run's advisory lock.
    pub lock_wait: Duration,
    /// Set (e.g. on Ctrl-C, together with a cancel request for the running statement) to stop:
    /// the migration in progress is rolled back (transactional) or keeps its recorded progress
    /// (non-transactional), and `up` returns [`Error::Interrupted`].
    pub stop: Option<Arc<AtomicBool>>,
}

impl Options {
    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lock_timeout: Duration::from_secs(5),
            lock_retries: 5,
            retry_backoff: Duration::from_millis(500),
            orphan_after: Duration::from_secs(60),
            lock_wait: Duration::from_secs(600),
            stop: None,
        }
    }
}

/// What `down` undoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownTarget {
    /// Down to this version, which stays applied.
    To(String),
    /// The last N applied migrations.
    Steps(usize),
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Applied,
    Pending,
    /// A non-transactional migration that stopped part-way (`statements_done` tells where).
    Failed,
    /// Applied, but its file was edited since.
    ChecksumMismatch,
    /// Applied, but no file in the directory has its version.
    MissingFile,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusEntry {
    pub version: String,
    pub name: String,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<std::path::PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<Applied>,
}

/// The numeric sort key of a version as a user or a history writes it (`1.2`, `1_2`,
/// `2024-01-01-120000`, `20240101120000`).
pub fn version_key(v: &str) -> Vec<u128> {
    v.replace('-', "")
        .split(['.', '_'])
        .map(|p| p.parse::<u128>().unwrap_or(u128::MAX))
        .collect()
}

/// Runs `body` holding the migration lock, on a session prepared for migrations; the lock is
/// released whatever `body` returns.
async fn locked<T>(
    client: &Client,
    migrations: &[Migration],
    opts: &Options,
    body: impl AsyncFnOnce() -> Result<T>,
) -> Result<T> {
    client
        .batch_execute(&format!(
            "SET application_name = '{}'; SET lock_timeout = '{}ms'",
            lock::APPLICATION_NAME,
            opts.lock_timeout.as_millis().max(1)
        ))
        .await?;
    lock::check_session_pooling(client).await?;
    let stop = || opts.stopped();
    lock::acquire_unless(client, opts.orphan_after, opts.lock_wait, &stop).await?;
    let result = async {
        lock::terminate_orphans(client, opts.orphan_after).await?;
        let imported = history::ensure(client, migrations).await?;
        if imported > 0 {
            tracing::info!("imported {imported} applied version(s) from another tool's history");
        }
        body().await
    }
    .await;
    // A broken connection cannot release, but then the server already did.
    lock::release(client).await.ok();
    result
}

/// A migration applied (or, for a dry run, to apply).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Done {
    pub version: String,
    pub name: String,
    pub duration_ms: i64,
}

/// Applies the pending migrations up to `to` (inclusive). With `dry_run`, only says which.
pub async fn up(
    client: &Client,
    migrations: &[Migration],
    to: Option<&str>,
    dry_run: bool,
    opts: &Options,
) -> Result<Vec<Done>> {
    let limit = to.map(version_key);
    let wanted = |m: &&Migration| limit.as_ref().is_none_or(|l| m.key <= *l);
    if dry_run {
        let applied = by_version(history::read(client, migrations).await?);
        return Ok(migrations
            .iter()
            .filter(wanted)
            .filter(|m| !applied.get(&m.version).is_some_and(|a| a.success))
            .map(|m| Done {
                version: m.version.clone(),
                name: m.name.clone(),
                duration_ms: 0,
            })
            .collect());
    }
    locked(client, migrations, opts, async || {
        // Read under the lock: another run may have applied some meanwhile.
        let applied = by_version(history::read(client, migrations).await?);
        // The newest applied version: an older pending one (merged from another branch) is
        // applied too, with a warning, since the order on this database then differs.
        let newest = applied.keys().map(|v| version_key(v)).max();
        let mut done = Vec::new();
        // Prepared once: one round trip less per migration, and sent with the COMMIT.
        let record = client.prepare(RECORD).await?;
        for m in migrations.iter().filter(wanted) {
            if applied.get(&m.version).is_some_and(|a| a.success) {
                let a = &applied[&m.version];
                if a.checksum != m.checksum {
                    return Err(edited(m));
                }
                continue;
            }
            if opts.stopped() {
                return Err(Error::Interrupted {
                    what: format!(
                        "stopped before migration {} {}; nothing of it was applied",
                        m.version, m.name
                    ),
                    done,
                });
            }
            let start = Instant::now();
            if !applied.contains_key(&m.version) && newest.as_ref().is_some_and(|n| m.key < *n) {
                tracing::warn!(
                    "{} {} is older than the newest applied migration: applying it out of order",
                    m.version,
                    m.name
                );
            }
            let result = match applied.get(&m.version) {
                Some(a) => {
                    tracing::info!(
                        "{} {}: resuming after statement {}",
                        m.version,
                        m.name,
                        a.statements_done
                    );
                    run_statements(client, m, opts).await
                }
                None if m.up.transactional => run_transactional(client, m, opts, &record).await,
                None => run_statements(client, m, opts).await,
            };
            match result {
                Ok(()) => {}
                Err(Error::Interrupted { what, .. }) => {
                    return Err(Error::Interrupted { what, done });
                }
                // A cancel that hit the runner's own bookkeeping.
                Err(Error::Db(e)) if is_canceled(&e) && opts.stopped() => {
                    return Err(Error::Interrupted {
                        what: format!(
                            "migration {} {} stopped; `dbarch migrate status` shows what the \
                             history recorded of it",
                            m.version, m.name
                        ),
                        done,
                    });
                }
                Err(e) => return Err(e),
            }
            let duration_ms = start.elapsed().as_millis() as i64;
            tracing::info!("applied {} {} ({duration_ms} ms)", m.version, m.name);
            done.push(Done {
                version: m.version.clone(),
                name: m.name.clone(),
                duration_ms,
            });
        }
        Ok(done)
    })
    .await
}

fn edited(m: &Migration) -> Error {
    Error::Input {
        path: m.up.path.clone(),
        reason: format!(
            "migration {} was edited after it was applied (checksum differs from the history); \
             restore it and put the change in a new migration",
            m.version
        ),
    }
}

fn by_version(rows: Vec<Applied>) -> HashMap<String, Applied> {
    rows.into_iter().map(|a| (a.version.clone(), a)).collect()
}

fn is_lock_timeout(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
}

fn is_canceled(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::QUERY_CANCELED)
}

/// Jittered exponential backoff before try `n + 1`, cut short by a stop request.
async fn backoff(opts: &Options, n: u32) {
    let base = opts.retry_backoff.as_millis() as u64 * (1 << (n.min(6) - 1).min(6));
    let wait = base / 2 + fastrand::u64(0..=base);
    tracing::info!("lock_timeout: trying again in {wait} ms");
    let until = Instant::now() + Duration::from_millis(wait);
    while !opts.stopped() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        tokio::time::sleep(left.min(Duration::from_millis(50))).await;
    }
}

fn rolled_back(m: &Migration) -> Error {
    Error::Interrupted {
        what: format!(
            "migration {} {} rolled back; nothing of it was applied",
            m.version, m.name
        ),
        done: Vec::new(),
    }
}

fn stopped_after(m: &Migration, i: usize, n: usize) -> Error {
    Error::Interrupted {
        what: format!(
            "migration {} {} (non-transactional) stopped after statement {i} of {n}, recorded \
             in the history; `dbarch migrate up` continues with statement {}",
            m.version,
            m.name,
            i + 1
        ),
        done: Vec::new(),
    }
}

/// Who holds relation locks in this database (for the lock-timeout message).
async fn lock_holders(client: &Client) -> String {
    let q = "SELECT coalesce(string_agg(format('pid %s (%s, %s) holds %s on %s', l.pid, \
                 coalesce(nullif(a.application_name, ''), 'no application_name'), a.state, \
                 l.mode, l.relation::regclass), '; '), 'none now') \
             FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
             WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid() \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.mode <> 'AccessShareLock'";
    match client.query_one(q, &[]).await {
        Ok(row) => row.get(0),
        Err(e) => format!("unknown ({e})"),
    }
}

async fn lock_timeout_error(client: &Client, m: &Migration, tries: u32, stmt: &str) -> Error {
    let short: String = stmt.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = short.chars().take(80).collect();
    Error::LockTimeout {
        version: m.version.clone(),
        tries,
        message: format!(
            "`{short}` ({}); lock holders: {}",
            m.up.path.display(),
            lock_holders(client).await
        ),
    }
}

/// The history row of a transactional migration, inserted in its transaction; the server
/// measures the duration (`now()` is the start of the transaction).
const RECORD: &str = "INSERT INTO _dbarch.migrations \
        (version, name, checksum, success, statements_done, duration_ms) \
    VALUES ($1, $2, $3, true, $4, (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint) \
    ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, \
        success = excluded.success, statements_done = excluded.statements_done, \
        duration_ms = excluded.duration_ms, applied_by = current_user, applied_at = now()";

/// A transactional migration, sent as one pipeline: `BEGIN`, its statements, the history row
/// and `COMMIT` leave together and the server answers them in order, so a migration costs
/// one round trip however many statements it has. The first statement that fails aborts the
/// transaction: the ones after it, the history row included, fail without effect ("current
/// transaction is aborted") and the `COMMIT` rolls back, so the error reported is that
/// statement's, as when they are sent one by one.
async fn run_transactional(
    client: &Client,
    m: &Migration,
    opts: &Options,
    record: &Statement,
) -> Result<()> {
    let stmts = split::statements(&m.up.sql);
    let n = stmts.len() as i32;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
        [&m.version, &m.name, &m.checksum, &n];
    let mut tries = 0;
    loop {
        tries += 1;
        let mut pipeline: Vec<Pending<'_>> = Vec::with_capacity(stmts.len() + 3);
        pipeline.push(Box::pin(client.batch_execute("BEGIN")));
        for s in &stmts {
            pipeline.push(Box::pin(client.batch_execute(s)));
        }
        pipeline.push(Box::pin(async {
            client.execute(record, &params).await.map(|_| ())
        }));
        pipeline.push(Box::pin(client.batch_execute("COMMIT")));
        let results = in_order(pipeline).await;
        // The COMMIT (or, after an error, the rollback it turns into) closed the transaction.
        let Some((i, e)) = results
            .into_iter()
            .enumerate()
            .find_map(|(i, r)| r.err().map(|e| (i, e)))
        else {
            return Ok(());
        };
        if is_canceled(&e) && opts.stopped() {
            return Err(rolled_back(m));
        }
        // 0 is BEGIN, 1..=n the statements, then the history row and COMMIT.
        if i == 0 || i > stmts.len() {
            return Err(e.into());
        }
        let i = i - 1;
        if is_lock_timeout(&e) {
            if tries <= opts.lock_retries {
                backoff(opts, tries).await;
                if opts.stopped() {
                    return Err(rolled_back(m));
                }
                continue;
            }
            return Err(lock_timeout_error(client, m, tries, &stmts[i]).await);
        }
        return Err(failed(&m.up, &m.version, i, &e));
    }
}

type Pending<'a> =
    std::pin::Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send + 'a>>;

/// Runs `futures` together, first polled in order (tokio-postgres sends a query when its
/// future is first polled, so the queries leave in this order, as one pipeline), and
/// returns their outputs in order.
async fn in_order<T>(
    futures: Vec<std::pin::Pin<Box<dyn Future<Output = T> + Send + '_>>>,
) -> Vec<T> {
    use std::task::Poll;
    let mut futures: Vec<_> = futures.into_iter().map(Some).collect();
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, fut) in out.iter_mut().zip(futures.iter_mut()) {
            if let Some(f) = fut {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *slot = Some(v);
                        *fut = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

fn failed(script: &Script, version: &str, i: usize, e: &tokio_postgres::Error) -> Error {
    Error::Migration {
        version: version.to_string(),
        file: script.path.clone(),
        statement: i + 1,
        message: pg_message(e),
    }
}

async fn statements_done(client: &Client, version: &str) -> Result<usize> {
    let row = client
        .query_opt(
            "SELECT statements_done FROM _dbarch.migrations WHERE version = $1",
            &[&version],
        )
        .await?;
    Ok(row.map_or(0, |r| r.get::<_, i32>(0).max(0) as usize))
}

/// A non-transactional migration, from the statement after the last one recorded.
async fn run_statements(client: &Client, m: &Migration, opts: &Options) -> Result<()> {
    let stmts = directive::statements(&m.up.sql);
    let start = Instant::now();
    // The in-progress row, committed first: a crash from here on leaves a record.
    client
        .execute(
            "INSERT INTO _dbarch.migrations (version, name, checksum, success) \
             VALUES ($1, $2, $3, false) \
             ON CONFLICT (version) DO UPDATE SET checksum = excluded.checksum, name = excluded.name",
            &[&m.version, &m.name, &m.checksum],
        )
        .await?;
    let mut i = statements_done(client, &m.version).await?;
    let mut tries = 0;
    while i < stmts.len() {
        if opts.stopped() {
            return Err(stopped_after(m, i, stmts.len()));
        }
        if let Some(ix) = split::concurrent_index(&stmts[i]) {
            drop_invalid_index(client, &ix).await?;
        }
        if let Some(d) = directive::parse(&stmts[i]) {
            let d = d.map_err(|reason| Error::Migration {
                version: m.version.clone(),
                file: m.up.path.clone(),
                statement: i + 1,
                message: format!("bad directive: {reason}"),
            })?;
            let name = format!("migration {} statement {}", m.version, i + 1);
            let stop = opts.stop.clone();
            match directive::run_backfill(
                client,
                &d,
                &name,
                opts.lock_timeout,
                opts.lock_retries,
                stop,
            )
            .await
            {
                Ok(true) => {
                    client
                        .execute(
                            "UPDATE _dbarch.migrations SET statements_done = $2 WHERE version = $1",
                            &[&m.version, &(i as i32 + 1)],
                        )
                        .await?;
                    i += 1;
                    continue;
                }
                Ok(false) => return Err(stopped_after(m, i, stmts.len())),
                Err(_) if opts.stopped() => return Err(stopped_after(m, i, stmts.len())),
                Err(e) => {
                    return Err(Error::Migration {
                        version: m.version.clone(),
                        file: m.up.path.clone(),
                        statement: i + 1,
                        message: e.to_string(),
                    });
                }
            }
        }
        match exec_counted(client, &stmts[i], &m.version, i + 1).await {
            Ok(()) => i += 1,
            Err(e) => {
                // Leave a transaction block the script opened (a warning when there is none):
                // its statements and their progress are undone together.
                client.batch_execute("ROLLBACK").await?;
                let at = i;
                i = statements_done(client, &m.version).await?;
                if is_canceled(&e) && opts.stopped() {
                    return Err(stopped_after(m, i, stmts.len()));
                }
                if is_lock_timeout(&e) {
                    tries += 1;
                    if tries <= opts.lock_retries {
                        backoff(opts, tries).await;
                        continue;
                    }
                    return Err(lock_timeout_error(client, m, tries, &stmts[at]).await);
                }
                return Err(failed(&m.up, &m.version, at, &e));
            }
        }
    }
    client
        .execute(
            "UPDATE _dbarch.migrations SET success = true, statements_done = $2, \
                 duration_ms = duration_ms + $3, applied_by = current_user, applied_at = now() \
             WHERE version = $1",
            &[
                &m.version,
                &(stmts.len() as i32),
                &(start.elapsed().as_millis() as i64),
            ],
        )
        .await?;
    Ok(())
}

/// Runs statement number `done` of a non-transactional script and records it as done. Both
/// go in one simple query (an implicit transaction), so that a crash never separates them;
/// a statement that refuses to run in a transaction block (`CREATE INDEX CONCURRENTLY`,
/// `VACUUM`) fails that way without effect (SQLSTATE 25001) and is then sent alone, followed
/// by the update. Inside a `BEGIN ... COMMIT` of the script the update commits or rolls back
/// with the statements it counts.
async fn exec_counted(
    client: &Client,
    stmt: &str,
    version: &str,
    done: usize,
) -> Result<(), tokio_postgres::Error> {
    let update = format!(
        "UPDATE _dbarch.migrations SET statements_done = {done} WHERE version = '{}'",
        version.replace('\'', "''")
    );
    // The newline keeps the `;` out of a trailing line comment.
    match client.batch_execute(&format!("{stmt}\n;\n{update}")).await {
        Err(e) if e.code() == Some(&SqlState::ACTIVE_SQL_TRANSACTION) => {
            client.batch_execute(stmt).await?;
            client.batch_execute(&update).await
        }
        other => other,
    }
}

/// A failed `CREATE INDEX CONCURRENTLY` leaves an INVALID index behind (maintained on
/// writes, never used by queries): dropped before the build is tried again, else the retry
/// fails on the name (or, with `IF NOT EXISTS`, silently keeps the invalid index).
async fn drop_invalid_index(client: &Client, ix: &split::ConcurrentIndex) -> Result<()> {
    let row = client
        .query_opt(
            "SELECT format('%I.%I', n.nspname, c.relname) \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid AND c.relname = $1 \
               AND i.indrelid = to_regclass(CASE WHEN $2::text IS NULL THEN quote_ident($3) \
                                            ELSE quote_ident($2) || '.' || quote_ident($3) END)",
            &[&ix.name, &ix.schema, &ix.table],
        )
        .await?;
    if let Some(row) = row {
        let name: String = row.get(0);
        tracing::warn!("dropping the INVALID index {name} left by a failed concurrent build");
        client
            .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))
            .await?;
    }
    Ok(())
}

/// Undoes applied migrations, newest first, each with its history row. Every down script is
/// checked to exist before anything runs.
pub async fn down(
    client: &Client,
    migrations: &[Migration],
    target: &DownTarget,
    opts: &Options,
) -> Result<Vec<Done>> {
    locked(client, migrations, opts, async || {
        let mut applied = history::read(client, migrations).await?;
        applied.reverse();
        let chosen: Vec<&Applied> = match target {
            DownTarget::All => applied.iter().collect(),
            DownTarget::Steps(n) => applied.iter().take(*n).collect(),
            DownTarget::To(v) => {
                let key = version_key(v);
                applied
                    .iter()
                    .filter(|a| version_key(&a.version) > key)
                    .collect()
            }
        };
        let mut plan = Vec::new();
        for a in chosen {
            let m = migrations
                .iter()
                .find(|m| m.version == a.version)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "applied migration {} ({}) has no file in the migrations directory",
                        a.version, a.name
                    ))
                })?;
            let script = m.down.as_ref().ok_or_else(|| Error::MissingDown {
                version: m.version.clone(),
                expected: m.down_expected.display().to_string(),
            })?;
            plan.push((m, script));
        }
        let mut done = Vec::new();
        for (m, script) in plan {
            let start = Instant::now();
            run_down(client, m, script, opts).await?;
            let duration_ms = start.elapsed().as_millis() as i64;
            tracing::info!("reverted {} {} ({duration_ms} ms)", m.version, m.name);
            done.push(Done {
                version: m.version.clone(),
                name: m.name.clone(),
                duration_ms,
            });
        }
        Ok(done)
    })
    .await
}

const FORGET: &str = "DELETE FROM _dbarch.migrations WHERE version = $1";

async fn run_down(client: &Client, m: &Migration, script: &Script, opts: &Options) -> Result<()> {
    let stmts = directive::statements(&script.sql);
    let mut tries = 0;
    loop {
        tries += 1;
        if script.transactional {
            client.batch_execute("BEGIN").await?;
        }
        let mut failure = None;
        for (i, s) in stmts.iter().enumerate() {
            if let Some(d) = directive::parse(s) {
                let d = d.map_err(|reason| Error::Migration {
                    version: m.version.clone(),
                    file: script.path.clone(),
                    statement: i + 1,
                    message: format!("bad directive: {reason}"),
                })?;
                let name = format!("migration {} down statement {}", m.version, i + 1);
                let stop = opts.stop.clone();
                let done = directive::run_backfill(
                    client,
                    &d,
                    &name,
                    opts.lock_timeout,
                    opts.lock_retries,
                    stop,
                )
                .await?;
                if !done {
                    return Err(Error::Interrupted {
                        what: format!(
                            "down of {} {} stopped during its backfill",
                            m.version, m.name
                        ),
                        done: Vec::new(),
                    });
                }
                continue;
            }
            if let Err(e) = client.batch_execute(s).await {
                failure = Some((i, e));
                break;
            }
        }
        match failure {
            None => {
                directive::forget(client, &m.version).await?;
                client.execute(FORGET, &[&m.version]).await?;
                if script.transactional {
                    client.batch_execute("COMMIT").await?;
                }
                return Ok(());
            }
            Some((i, e)) => {
                client.batch_execute("ROLLBACK").await?;
                // Only a transactional down can be tried again from the start.
                if is_lock_timeout(&e) && script.transactional && tries <= opts.lock_retries {
                    backoff(opts, tries).await;
                    continue;
                }
                return Err(failed(script, &m.version, i, &e));
            }
        }
    }
}

/// Every migration of the directory and every history row, by version.
pub async fn status(client: &Client, migrations: &[Migration]) -> Result<Vec<StatusEntry>> {
    let mut applied = by_version(history::read(client, migrations).await?);
    let mut out: Vec<StatusEntry> = migrations
        .iter()
        .map(|m| {
            let a = applied.remove(&m.version);
            let state = match &a {
                None => State::Pending,
                Some(a) if !a.success => State::Failed,
                Some(a) if a.checksum != m.checksum => State::ChecksumMismatch,
                Some(_) => State::Applied,
            };
            StatusEntry {
                version: m.version.clone(),
                name: m.name.clone(),
                state,
                file: Some(m.up.path.clone()),
                applied: a,
            }
        })
        .collect();
    out.extend(applied.into_values().map(|a| StatusEntry {
        version: a.version.clone(),
        name: a.name.clone(),
        state: State::MissingFile,
        file: None,
        applied: Some(a),
    }));
    out.sort_by_key(|e| version_key(&e.version));
    Ok(out)
}

/// Records the migrations up to `version` (inclusive) as applied without running them: for a
/// database that already has their effect.
pub async fn baseline(
    client: &Client,
    migrations: &[Migration],
    version: &str,
    opts: &Options,
) -> Result<Vec<Done>> {
    let key = version_key(version);
    if !migrations.iter().any(|m| m.key == key) {
        return Err(Error::Usage(format!("no migration has version {version}")));
    }
    locked(client, migrations, opts, async || {
        let applied = by_version(history::read(client, migrations).await?);
        let mut done = Vec::new();
        for m in migrations.iter().filter(|m| m.key <= key) {
            if applied.contains_key(&m.version) {
                continue;
            }
            client
                .execute(
                    "INSERT INTO _dbarch.migrations (version, name, checksum, success, note) \
                     VALUES ($1, $2, $3, true, 'baseline')",
                    &[&m.version, &m.name, &m.checksum],
                )
                .await?;
            done.push(Done {
                version: m.version.clone(),
                name: m.name.clone(),
                duration_ms: 0,
            });
        }
        Ok(done)
    })
    .await
}
