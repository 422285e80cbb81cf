//! Exactly-once under concurrency: a session advisory lock taken by polling.
//!
//! Never `pg_advisory_lock`: a session blocked in it holds a snapshot, and
//! `CREATE INDEX CONCURRENTLY` run by the lock holder waits for every older snapshot to go
//! away — a deadlock that no timeout reports. `pg_try_advisory_lock` returns at once.

use crate::error::{Error, Result};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// The advisory lock key of dbarch migrations ("dbarchmg" in ASCII).
pub const LOCK_KEY: i64 = 0x6462_6172_6368_6d67;
/// The application_name of runner sessions: how orphans of a crashed run are recognized.
pub const APPLICATION_NAME: &str = "dbarch-migrate";

/// Refuses a connection that does not keep its server session between transactions
/// (PgBouncer in transaction or statement pooling): session locks and `SET`s would not hold.
pub async fn check_session_pooling(client: &Client) -> Result<()> {
    let mut pids = Vec::new();
    for _ in 0..3 {
        // Each simple query is a transaction of its own: a transaction pooler may hand each
        // one to a different server session.
        let row = client.query_one("SELECT pg_backend_pid()", &[]).await?;
        pids.push(row.get::<_, i32>(0));
    }
    if pids.windows(2).any(|w| w[0] != w[1]) {
        return Err(Error::Refused(format!(
            "the connection changes server sessions between transactions (backend pids {pids:?}): \
             this looks like PgBouncer in transaction pooling mode, where session advisory locks \
             and settings do not hold; connect to PostgreSQL directly or through a session-pooled port"
        )));
    }
    Ok(())
}

/// Takes the migration lock, polling `pg_try_advisory_lock`. While waiting, a holder that is a
/// dbarch runner left idle in a transaction for longer than `orphan_after` (its client
/// crashed or hangs) is terminated. Gives up after `max_wait`.
pub async fn acquire(client: &Client, orphan_after: Duration, max_wait: Duration) -> Result<()> {
    acquire_unless(client, orphan_after, max_wait, &|| false).await
}

/// [`acquire`], giving up with [`Error::Interrupted`] as soon as `stop()` is true.
pub async fn acquire_unless(
    client: &Client,
    orphan_after: Duration,
    max_wait: Duration,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<()> {
    let start = Instant::now();
    let mut logged = false;
    loop {
        if stop() {
            return Err(Error::Interrupted {
                what: "stopped while waiting for the migration lock; nothing was applied".into(),
                done: Vec::new(),
            });
        }
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
            .await?;
        if row.get::<_, bool>(0) {
            return Ok(());
        }
        terminate_orphans(client, orphan_after).await?;
        if start.elapsed() > max_wait {
            return Err(Error::Refused(format!(
                "another dbarch migrate run holds the migration lock (advisory lock {LOCK_KEY}) \
                 and did not release it within {}s",
                max_wait.as_secs()
            )));
        }
        if !logged {
            tracing::info!("waiting for another dbarch migrate run to finish");
            logged = true;
        }
        tokio::time::sleep(Duration::from_millis(50 + fastrand::u64(0..100))).await;
    }
}

pub async fn release(client: &Client) -> Result<()> {
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await?;
    Ok(())
}

/// Ends the dbarch runner sessions of this database, other than ours, idle for longer than
/// `older_than` either in a transaction or while holding the migration lock: a live runner
/// sends its next statement at once (its longest pause is a lock-timeout backoff, well under
/// the default minute), so these are orphans of a crashed or hung client, holding locks.
/// Returns how many were ended.
pub async fn terminate_orphans(client: &Client, older_than: Duration) -> Result<u64> {
    let secs = older_than.as_secs_f64();
    // pg_locks shows a bigint advisory key as classid (high half) and objid (low half).
    let (high, low) = ((LOCK_KEY >> 32) & 0xffff_ffff, LOCK_KEY & 0xffff_ffff);
    let rows = client
        .query(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND datname = current_database() \
               AND pid <> pg_backend_pid() \
               AND state_change < now() - make_interval(secs => $2) \
               AND (state IN ('idle in transaction', 'idle in transaction (aborted)') \
                    OR state = 'idle' AND pid IN ( \
                        SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
                          AND classid = $3::int8::oid AND objid = $4::int8::oid \
                          AND objsubid = 1))",
            &[&APPLICATION_NAME, &secs, &high, &low],
        )
        .await?;
    for r in &rows {
        tracing::warn!(
            "ended orphaned dbarch migrate backend {} (idle, holding locks)",
            r.get::<_, i32>(0)
        );
    }
    Ok(rows.len() as u64)
}
