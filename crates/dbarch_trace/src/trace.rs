//! The tracer: a script run statement by statement with measurements in between.
//!
//! Transactional scripts run in one transaction. After each statement, one query (still in
//! the transaction, before the commit) reads the session's relation locks from `pg_locks`
//! (filtered to `pg_backend_pid()`), the relfilenodes of user relations from `pg_class`, and
//! the transaction's `seq_scan` counters from `pg_stat_xact_user_tables`; each statement is
//! compared with the state after the previous one.
//!
//! Non-transactional scripts run statement by statement in autocommit, as the runner runs
//! them; their locks are released when the statement ends, so an observer connection polls
//! `pg_locks` for the runner's pid while the statement runs ("observed" locks: a lock held
//! for less than the polling interval can be missed). Their scans are read from
//! `pg_stat_user_tables` after forcing the session's statistics out
//! (`pg_stat_force_next_flush()`, PostgreSQL 15+).

use crate::error::{Context, Result};
use crate::lock::LockMode;
use crate::script::Script;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// A relation lock a statement held.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RelationLock {
    /// `schema.name`, quoted where needed (`oid 12345` for a relation dropped before it
    /// could be named).
    pub relation: String,
    /// `table`, `index`, `sequence`, `view`, `materialized view`, `partitioned table`, ...
    pub kind: String,
    pub mode: LockMode,
    /// The relation did not exist before the script: nobody else can be waiting for it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub new: bool,
}

/// A relation whose data file was replaced (a rewrite: every row copied, every index rebuilt).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rewrite {
    pub relation: String,
    pub kind: String,
}

/// Sequential scans of a table made by a statement, as PostgreSQL's counters have them
/// (`seq_scan`, `seq_tup_read`: a rewrite may count more than one scan; the scans of parallel
/// workers, as in a parallel `CREATE INDEX`, only reach the shared statistics, so a
/// transactional statement shows the leader's part).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeqScan {
    pub relation: String,
    pub scans: i64,
    /// Rows those scans read (`seq_tup_read`).
    pub rows_read: i64,
}

/// The error of a failed statement, as PostgreSQL reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementError {
    /// SQLSTATE (`None` when the failure was not the server's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `ERROR: message`.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl fmt::Display for StatementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(code) = &self.code {
            write!(f, " (SQLSTATE {code})")?;
        }
        if let Some(d) = &self.detail {
            write!(f, "; {d}")?;
        }
        Ok(())
    }
}

/// How a statement's locks were measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockSource {
    /// Read from `pg_locks` after the statement, inside the transaction (exact).
    Held,
    /// Polled from a second connection while the statement ran (autocommit).
    Observed,
    /// Not measured: an autocommit statement without an observer, or a failed statement.
    Unknown,
}

/// One statement's measurements.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatementTrace {
    /// 1-based position in the script.
    pub index: usize,
    pub sql: String,
    pub offset: usize,
    pub line: usize,
    /// Wall time of the statement alone (measurements excluded).
    pub duration_ms: f64,
    /// Run in autocommit (non-transactional script).
    pub autocommit: bool,
    pub lock_source: LockSource,
    /// Locks this statement took that were not held before it: a mode on a relation that
    /// held no equal or stronger mode before the statement.
    pub locks_added: Vec<RelationLock>,
    /// Every relation lock held after the statement (in a transaction: those of the earlier
    /// statements too, held until the commit).
    pub locks: Vec<RelationLock>,
    pub rewrites: Vec<Rewrite>,
    pub seq_scans: Vec<SeqScan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<StatementError>,
}

impl StatementTrace {
    /// The strongest mode held on each relation, by relation name.
    pub fn strongest_locks(&self) -> Vec<&RelationLock> {
        let mut best: BTreeMap<&str, &RelationLock> = BTreeMap::new();
        for l in &self.locks {
            let e = best.entry(&l.relation).or_insert(l);
            if l.mode > e.mode {
                *e = l;
            }
        }
        best.into_values().collect()
    }

    /// The strongest mode this statement held on `relation` (`schema.name`).
    pub fn strongest_lock_on(&self, relation: &str) -> Option<LockMode> {
        self.locks
            .iter()
            .filter(|l| l.relation == relation)
            .map(|l| l.mode)
            .max()
    }

    /// The first line of the statement, shortened to `max` characters.
    pub fn short_sql(&self, max: usize) -> String {
        let one: String = self.sql.split_whitespace().collect::<Vec<_>>().join(" ");
        if one.chars().count() <= max {
            one
        } else {
            let cut: String = one.chars().take(max.saturating_sub(1)).collect();
            format!("{cut}…")
        }
    }
}

/// A relation's strongest lock over a script: which statement took it and how long it was
/// held (in a transaction, until the commit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockHold {
    /// 1-based statement that took the lock.
    pub statement: usize,
    pub relation: String,
    pub kind: String,
    pub mode: LockMode,
    /// From the start of that statement to the commit (transactional), or the statement's
    /// own duration (autocommit).
    pub held_ms: f64,
    pub source: LockSource,
    /// The relation was created by the script (nobody can be waiting for it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub new: bool,
}

impl fmt::Display for LockHold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "statement {} {} {} on {}",
            self.statement,
            if self.source == LockSource::Observed {
                "was observed holding"
            } else {
                "held"
            },
            self.mode,
            self.relation
        )?;
        write!(f, " for {}", human_ms(self.held_ms))
    }
}

/// Milliseconds as `12 ms` or `1.3 s`.
pub(crate) fn human_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// A script's trace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trace {
    pub transactional: bool,
    /// The statements that ran, the failed one last (the ones after it did not run).
    pub statements: Vec<StatementTrace>,
    /// How many statements the script has.
    pub statement_count: usize,
    /// The transaction's `COMMIT` (0 for autocommit scripts).
    pub commit_ms: f64,
    /// The script's effects were committed (false after a failure, or with `rollback`).
    pub committed: bool,
    /// Wall time of the whole script, measurements included.
    pub total_ms: f64,
}

impl Trace {
    /// The statement that failed, if one did.
    pub fn failed(&self) -> Option<&StatementTrace> {
        self.statements.iter().find(|s| s.error.is_some())
    }

    /// Sum of the statements' durations (and the commit).
    pub fn duration_ms(&self) -> f64 {
        self.statements.iter().map(|s| s.duration_ms).sum::<f64>() + self.commit_ms
    }

    /// The strongest lock on each relation and the statement that took it, strongest and
    /// longest first. In a transaction a lock is held from the statement that took it until
    /// the commit; in autocommit, for its statement.
    pub fn lock_holds(&self) -> Vec<LockHold> {
        let mut holds: Vec<LockHold> = Vec::new();
        if self.transactional {
            let mut best: BTreeMap<&str, (usize, &RelationLock)> = BTreeMap::new();
            for (i, s) in self.statements.iter().enumerate() {
                for l in &s.locks {
                    match best.get(l.relation.as_str()) {
                        Some((_, b)) if b.mode >= l.mode => {}
                        _ => {
                            best.insert(&l.relation, (i, l));
                        }
                    }
                }
            }
            for (i, l) in best.into_values() {
                let held_ms = self.statements[i..]
                    .iter()
                    .map(|s| s.duration_ms)
                    .sum::<f64>()
                    + self.commit_ms;
                holds.push(LockHold {
                    statement: self.statements[i].index,
                    relation: l.relation.clone(),
                    kind: l.kind.clone(),
                    mode: l.mode,
                    held_ms,
                    source: self.statements[i].lock_source,
                    new: l.new,
                });
            }
        } else {
            for s in &self.statements {
                for l in s.strongest_locks() {
                    holds.push(LockHold {
                        statement: s.index,
                        relation: l.relation.clone(),
                        kind: l.kind.clone(),
                        mode: l.mode,
                        held_ms: s.duration_ms,
                        source: s.lock_source,
                        new: l.new,
                    });
                }
            }
        }
        holds.sort_by(|a, b| {
            b.mode
                .cmp(&a.mode)
                .then(b.held_ms.total_cmp(&a.held_ms))
                .then(a.statement.cmp(&b.statement))
                .then(a.relation.cmp(&b.relation))
        });
        holds
    }

    /// The holds of locks that block other sessions' reads or writes of relations that
    /// existed before the script.
    pub fn blocking_holds(&self) -> Vec<LockHold> {
        self.lock_holds()
            .into_iter()
            .filter(|h| !h.new && h.mode.blocks_writes())
            .collect()
    }
}

/// How to trace.
#[derive(Debug, Clone, Copy)]
pub struct TraceOptions<'a> {
    /// A second connection to the same database, to observe the locks of autocommit
    /// statements. Without it their locks are [`LockSource::Unknown`].
    pub observer: Option<&'a Client>,
    /// How often the observer polls `pg_locks`.
    pub poll_interval: Duration,
    /// Roll a transactional script back instead of committing it.
    pub rollback: bool,
}

impl Default for TraceOptions<'_> {
    fn default() -> Self {
        TraceOptions {
            observer: None,
            poll_interval: Duration::from_millis(2),
            rollback: false,
        }
    }
}

/// Runs `script` on `client` (a throwaway database: the script's effects are committed) and
/// traces it. Autocommit statements' locks are not observed (see [`trace_script_with`]).
pub async fn trace_script(client: &Client, script: &Script) -> Result<Trace> {
    trace_script_with(client, script, &TraceOptions::default()).await
}

/// Runs `script` on `client` and traces it. A failing statement ends the script (its
/// transaction rolled back) and is the last one of the trace, with its error; `Err` is for
/// the measurements' own failures (a lost connection).
pub async fn trace_script_with(
    client: &Client,
    script: &Script,
    opts: &TraceOptions<'_>,
) -> Result<Trace> {
    let start = Instant::now();
    let mut trace = Trace {
        transactional: script.transactional,
        statements: Vec::new(),
        statement_count: script.statements.len(),
        commit_ms: 0.0,
        committed: false,
        total_ms: 0.0,
    };
    if script.transactional {
        // pg_stat_xact_* also shows this session's counters of earlier transactions that are
        // not flushed yet, and a flush due later could land inside the transaction: flush
        // them all now (when the session goes idle after this query).
        client
            .batch_execute("SELECT pg_catalog.pg_stat_force_next_flush()")
            .await
            .doing("flushing statistics")?;
        client.batch_execute("BEGIN").await.doing("BEGIN")?;
        let result = transactional(client, script, &mut trace).await;
        match result {
            Ok(true) => {
                let t = Instant::now();
                let end = if opts.rollback { "ROLLBACK" } else { "COMMIT" };
                match client.batch_execute(end).await {
                    Ok(()) => {
                        trace.commit_ms = ms(t.elapsed());
                        trace.committed = !opts.rollback;
                    }
                    // A deferred constraint fails at the commit: the last statement's error.
                    Err(e) => {
                        trace.commit_ms = ms(t.elapsed());
                        if let Some(last) = trace.statements.last_mut() {
                            last.error = Some(statement_error(&e));
                        }
                    }
                }
            }
            Ok(false) => {
                client.batch_execute("ROLLBACK").await.doing("ROLLBACK")?;
            }
            Err(e) => {
                client.batch_execute("ROLLBACK").await.ok();
                return Err(e);
            }
        }
    } else {
        autocommit(client, script, opts, &mut trace).await?;
        trace.committed = trace.failed().is_none();
    }
    trace.total_ms = ms(start.elapsed());
    Ok(trace)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn statement_error(e: &tokio_postgres::Error) -> StatementError {
    match e.as_db_error() {
        Some(db) => StatementError {
            code: Some(db.code().code().to_string()),
            message: format!("{}: {}", db.severity(), db.message()),
            detail: db.detail().map(str::to_string),
            hint: db.hint().map(str::to_string),
        },
        None => StatementError {
            code: None,
            message: e.to_string(),
            detail: None,
            hint: None,
        },
    }
}

/// A relation of the snapshot.
#[derive(Debug, Clone)]
struct Rel {
    name: String,
    kind: String,
    filenode: i64,
}

/// The state the tracer compares statement by statement.
#[derive(Debug, Clone, Default)]
struct Snapshot {
    rels: HashMap<i64, Rel>,
    /// relid → (seq_scan, seq_tup_read)
    scans: HashMap<i64, (i64, i64)>,
    /// (relid, mode) held by this session.
    locks: BTreeSet<(i64, LockMode)>,
}

const RELATIONS: &str = "\
SELECT 'r'::text, c.oid::bigint, format('%I.%I', n.nspname, c.relname), \
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' \
            WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' \
            WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' \
            WHEN 'f' THEN 'foreign table' ELSE c.relkind::text END, \
       c.relfilenode::bigint, NULL::text, 0::bigint, 0::bigint \
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE c.oid >= 16384 AND c.relkind <> 'c' AND c.relkind <> 't' \
  AND n.nspname NOT IN ('pg_toast', 'pg_catalog', 'information_schema', '_dbarch') \
  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'";

const LOCKS: &str = "\
SELECT 'l'::text, l.relation::bigint, NULL::text, NULL::text, 0::bigint, l.mode, 0::bigint, 0::bigint \
FROM pg_catalog.pg_locks l \
WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' AND l.granted \
  AND l.relation >= 16384 \
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())";

fn snapshot_query(in_transaction: bool) -> String {
    let scans = if in_transaction {
        "pg_catalog.pg_stat_xact_user_tables"
    } else {
        "pg_catalog.pg_stat_user_tables"
    };
    format!(
        "{RELATIONS} UNION ALL \
         SELECT 's', relid::bigint, NULL, NULL, 0, NULL, coalesce(seq_scan, 0)::bigint, \
                coalesce(seq_tup_read, 0)::bigint FROM {scans} UNION ALL {LOCKS}"
    )
}

async fn snapshot(client: &Client, in_transaction: bool) -> Result<Snapshot> {
    if !in_transaction {
        // This session's counters reach pg_stat_user_tables when it goes idle after this.
        client
            .batch_execute("SELECT pg_catalog.pg_stat_force_next_flush()")
            .await
            .doing("flushing statistics")?;
    }
    let rows = client
        .query(&snapshot_query(in_transaction), &[])
        .await
        .doing("reading locks, relations and scans")?;
    let mut s = Snapshot::default();
    for r in rows {
        let what: String = r.get(0);
        let oid: i64 = r.get(1);
        match what.as_str() {
            "r" => {
                s.rels.insert(
                    oid,
                    Rel {
                        name: r.get(2),
                        kind: r.get(3),
                        filenode: r.get(4),
                    },
                );
            }
            "s" => {
                s.scans.insert(oid, (r.get(6), r.get(7)));
            }
            _ => {
                let mode: String = r.get(5);
                if let Some(mode) = LockMode::parse(&mode) {
                    s.locks.insert((oid, mode));
                }
            }
        }
    }
    Ok(s)
}

/// Names of relations: the latest snapshot, else an earlier one, else the OID.
struct Names<'a> {
    first: &'a Snapshot,
    before: &'a Snapshot,
    after: &'a Snapshot,
    observed: &'a HashMap<i64, (String, String)>,
}

impl Names<'_> {
    /// The lock, `None` for relations that are not user tables, indexes, sequences or views
    /// before or after the statement (TOAST tables, the transient heap of a rewrite).
    fn lock(&self, oid: i64, mode: LockMode) -> Option<RelationLock> {
        let (relation, kind) = match self
            .after
            .rels
            .get(&oid)
            .or_else(|| self.before.rels.get(&oid))
            .or_else(|| self.first.rels.get(&oid))
        {
            Some(r) => (r.name.clone(), r.kind.clone()),
            None => self.observed.get(&oid).cloned()?,
        };
        Some(RelationLock {
            relation,
            kind,
            mode,
            new: !self.first.rels.contains_key(&oid),
        })
    }

    /// The locks of `now`, and those of them not covered by an equal or stronger lock on the
    /// same relation in `before`.
    fn locks(
        &self,
        now: &BTreeSet<(i64, LockMode)>,
        before: &BTreeSet<(i64, LockMode)>,
    ) -> (Vec<RelationLock>, Vec<RelationLock>) {
        let all: Vec<RelationLock> = now.iter().filter_map(|&(o, m)| self.lock(o, m)).collect();
        let added = now
            .iter()
            .filter(|&&(o, m)| !before.iter().any(|&(bo, bm)| bo == o && bm >= m))
            .filter_map(|&(o, m)| self.lock(o, m))
            .collect();
        (sorted(all), sorted(added))
    }
}

fn rewrites(before: &Snapshot, after: &Snapshot) -> Vec<Rewrite> {
    let mut out: Vec<Rewrite> = after
        .rels
        .iter()
        .filter_map(|(oid, a)| {
            let b = before.rels.get(oid)?;
            (b.filenode != 0 && a.filenode != b.filenode).then(|| Rewrite {
                relation: a.name.clone(),
                kind: a.kind.clone(),
            })
        })
        .collect();
    out.sort();
    out
}

fn seq_scans(before: &Snapshot, after: &Snapshot) -> Vec<SeqScan> {
    let mut out: Vec<SeqScan> = after
        .scans
        .iter()
        .filter_map(|(oid, &(n, rows))| {
            let (n0, rows0) = before.scans.get(oid).copied().unwrap_or((0, 0));
            let name = after.rels.get(oid).or_else(|| before.rels.get(oid))?;
            (n > n0).then(|| SeqScan {
                relation: name.name.clone(),
                scans: n - n0,
                rows_read: (rows - rows0).max(0),
            })
        })
        .collect();
    out.sort();
    out
}

fn sorted(mut v: Vec<RelationLock>) -> Vec<RelationLock> {
    v.sort_by(|a, b| a.relation.cmp(&b.relation).then(b.mode.cmp(&a.mode)));
    v
}

/// The statements of a transactional script; false when one failed.
async fn transactional(client: &Client, script: &Script, trace: &mut Trace) -> Result<bool> {
    let first = snapshot(client, true).await?;
    let mut before = first.clone();
    let none = HashMap::new();
    for (i, st) in script.statements.iter().enumerate() {
        let t = Instant::now();
        let result = client.batch_execute(&st.sql).await;
        let duration_ms = ms(t.elapsed());
        let mut s = StatementTrace {
            index: i + 1,
            sql: st.sql.clone(),
            offset: st.offset,
            line: st.line,
            duration_ms,
            autocommit: false,
            lock_source: LockSource::Unknown,
            locks_added: Vec::new(),
            locks: Vec::new(),
            rewrites: Vec::new(),
            seq_scans: Vec::new(),
            error: None,
        };
        if let Err(e) = result {
            s.error = Some(statement_error(&e));
            trace.statements.push(s);
            return Ok(false);
        }
        let after = snapshot(client, true).await?;
        let names = Names {
            first: &first,
            before: &before,
            after: &after,
            observed: &none,
        };
        s.lock_source = LockSource::Held;
        (s.locks, s.locks_added) = names.locks(&after.locks, &before.locks);
        s.rewrites = rewrites(&before, &after);
        s.seq_scans = seq_scans(&before, &after);
        trace.statements.push(s);
        before = after;
    }
    Ok(true)
}

const OBSERVE: &str = "\
SELECT l.relation::bigint, l.mode, \
       CASE WHEN c.relkind <> 't' AND n.nspname NOT IN ('pg_toast', '_dbarch') \
            THEN format('%I.%I', n.nspname, c.relname) END, \
       coalesce(CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' \
                    WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' \
                    WHEN 'm' THEN 'materialized view' WHEN 'p' THEN 'partitioned table' \
                    WHEN 'I' THEN 'partitioned index' ELSE c.relkind::text END, 'relation') \
FROM pg_catalog.pg_locks l \
LEFT JOIN pg_catalog.pg_class c ON c.oid = l.relation \
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE l.pid = $1 AND l.locktype = 'relation' AND l.granted AND l.relation >= 16384 \
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())";

/// Polls the locks of backend `pid` until cancelled (dropped), collecting them.
async fn observe(
    observer: &Client,
    pid: i32,
    every: Duration,
    seen: &mut BTreeSet<(i64, LockMode)>,
    names: &mut HashMap<i64, (String, String)>,
) -> Result<()> {
    loop {
        let rows = observer
            .query(OBSERVE, &[&pid])
            .await
            .doing("observing locks")?;
        for r in rows {
            let oid: i64 = r.get(0);
            let mode: String = r.get(1);
            if let Some(mode) = LockMode::parse(&mode) {
                seen.insert((oid, mode));
                if let Some(name) = r.get::<_, Option<String>>(2) {
                    names.entry(oid).or_insert_with(|| (name, r.get(3)));
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// The statements of a non-transactional script, each in autocommit.
async fn autocommit(
    client: &Client,
    script: &Script,
    opts: &TraceOptions<'_>,
    trace: &mut Trace,
) -> Result<()> {
    let pid: i32 = client
        .query_one("SELECT pg_catalog.pg_backend_pid()", &[])
        .await
        .doing("reading the backend pid")?
        .get(0);
    let first = snapshot(client, false).await?;
    let mut before = first.clone();
    for (i, st) in script.statements.iter().enumerate() {
        let mut seen = BTreeSet::new();
        let mut observed_names = HashMap::new();
        let t = Instant::now();
        let (result, duration_ms) = match opts.observer {
            Some(observer) => {
                let exec = client.batch_execute(&st.sql);
                tokio::pin!(exec);
                let poll = observe(
                    observer,
                    pid,
                    opts.poll_interval,
                    &mut seen,
                    &mut observed_names,
                );
                tokio::pin!(poll);
                tokio::select! {
                    biased;
                    r = &mut exec => (r, ms(t.elapsed())),
                    failed = &mut poll => {
                        // The observer's connection failed: finish the statement unobserved.
                        tracing::warn!("lock observer stopped: {:?}", failed.err());
                        let r = exec.await;
                        (r, ms(t.elapsed()))
                    }
                }
            }
            None => {
                let r = client.batch_execute(&st.sql).await;
                (r, ms(t.elapsed()))
            }
        };
        let mut s = StatementTrace {
            index: i + 1,
            sql: st.sql.clone(),
            offset: st.offset,
            line: st.line,
            duration_ms,
            autocommit: true,
            lock_source: LockSource::Unknown,
            locks_added: Vec::new(),
            locks: Vec::new(),
            rewrites: Vec::new(),
            seq_scans: Vec::new(),
            error: None,
        };
        if let Err(e) = result {
            s.error = Some(statement_error(&e));
            trace.statements.push(s);
            // Leave a transaction block the script opened (a warning when there is none).
            client.batch_execute("ROLLBACK").await.ok();
            return Ok(());
        }
        let after = snapshot(client, false).await?;
        let names = Names {
            first: &first,
            before: &before,
            after: &after,
            observed: &observed_names,
        };
        if opts.observer.is_some() {
            s.lock_source = LockSource::Observed;
            // In autocommit nothing is held before the statement, except inside a
            // transaction block the script opened itself.
            (s.locks, s.locks_added) = names.locks(&seen, &before.locks);
        }
        s.rewrites = rewrites(&before, &after);
        s.seq_scans = seq_scans(&before, &after);
        trace.statements.push(s);
        before = after;
    }
    Ok(())
}

fn is_false(b: &bool) -> bool {
    !*b
}
