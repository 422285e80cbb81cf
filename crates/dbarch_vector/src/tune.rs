//! Index tuning to a recall target, measured.
//!
//! The column is copied into a scratch table (`_dbarch.vector_tune_<pid>`, unlogged, with a
//! bigint id, and with `--filter` the filter's value as a boolean `matches` column), so that
//! candidate builds never lock or bloat the real table, and dropped at the end whatever
//! happens. The queries (a file, or rows sampled with a fixed seed, then left out of the
//! copy so that no query finds itself) are split in two halves:
//! the tuning set and the held-out set. Exact neighbours come from sequential scans of the
//! scratch table before any index exists. Then each candidate — HNSW `(m, ef_construction)`
//! and IVFFlat `lists` — is built (timed, sized), and its search parameter swept upwards
//! (`hnsw.ef_search`, `ivfflat.probes`), measuring recall@k, P50/P95 latency and QPS over the
//! tuning set, until the recall reaches the target plus a margin; that point is then checked
//! on the held-out set and qualifies only if its recall there is at least the target. Among
//! the qualifying points the one with the highest QPS wins.
//!
//! `--budget-build` bounds the total build time: each build's time is estimated from the
//! last build of the same method, scaled by its parameters (HNSW: `ef_construction × √m`,
//! IVFFlat: `lists`), and skipped when it would not fit in what is left; a build runs under a
//! `statement_timeout` of what is left, so the budget holds even when the estimate is wrong.
//!
//! With a filter, the exact filtered top-k (the planner's choice of a scan, a B-tree on the
//! filter helping) gives the filtered ground truth and the exact strategy's latency. Each
//! qualifying candidate is then also measured on the filtered queries: plain index scans
//! (they under-return: fewer rows than LIMIT when the filter rejects most of what the scan
//! visits), and iterative scans (`*.iterative_scan = relaxed_order`, re-sorted by a
//! materialized CTE as `search.rs` does) with the smallest `hnsw.max_scan_tuples` /
//! `ivfflat.max_probes` that returns full LIMIT at the target recall. A partial index
//! (`WHERE <filter>`) is measured when the filter is an equality on a value frequent enough
//! to deserve its own index. The strategy is the fastest of those that return full LIMIT on
//! every held-out query at the target recall; the exact one always does.

use crate::estimate::{self, Storage};
use crate::input::Embeddings;
use crate::load::{Target, param, resolve};
use crate::{Error, Metric, Result, ident};
use dbarch_pg::tokio_postgres::{Client, Statement};
use serde::Serialize;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How to tune.
#[derive(Debug, Clone)]
pub struct TuneOptions {
    pub recall: f64,
    pub k: usize,
    /// Else the opclass of an existing ANN index on the column, else cosine.
    pub metric: Option<Metric>,
    /// Query vectors; else `sample` rows of the table.
    pub queries: Option<Embeddings>,
    pub sample: usize,
    pub seed: u64,
    pub progress: bool,
    /// A boolean SQL expression over the table's columns (the table is aliased `t`).
    pub filter: Option<String>,
    /// The most time all candidate builds may take together.
    pub budget_build: Option<Duration>,
}

impl Default for TuneOptions {
    fn default() -> Self {
        TuneOptions {
            recall: 0.95,
            k: 10,
            metric: None,
            queries: None,
            sample: 1000,
            seed: 1,
            progress: true,
            filter: None,
            budget_build: None,
        }
    }
}

/// Parses a duration: `90s`, `10m`, `1h`, `500ms`, `1.5m`.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => f64::NAN,
    };
    match num.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && scale.is_finite() => {
            Ok(Duration::from_secs_f64(n * scale))
        }
        _ => Err(format!(
            "{s:?}: expected a positive duration like 90s, 10m or 1h"
        )),
    }
}

/// An index configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Config {
    Hnsw {
        m: u32,
        ef_construction: u32,
        ef_search: u32,
    },
    Ivfflat {
        lists: u32,
        probes: u32,
    },
}

impl Config {
    pub fn method(&self) -> &'static str {
        match self {
            Config::Hnsw { .. } => "hnsw",
            Config::Ivfflat { .. } => "ivfflat",
        }
    }
    /// `WITH (...)` of the build.
    pub fn with(&self) -> String {
        match self {
            Config::Hnsw {
                m, ef_construction, ..
            } => format!("m = {m}, ef_construction = {ef_construction}"),
            Config::Ivfflat { lists, .. } => format!("lists = {lists}"),
        }
    }
    /// The runtime setting: (name, value).
    pub fn setting(&self) -> (&'static str, u32) {
        match self {
            Config::Hnsw { ef_search, .. } => ("hnsw.ef_search", *ef_search),
            Config::Ivfflat { probes, .. } => ("ivfflat.probes", *probes),
        }
    }
    /// The same build with another search value.
    fn searching(&self, value: u32) -> Config {
        match *self {
            Config::Hnsw {
                m, ef_construction, ..
            } => Config::Hnsw {
                m,
                ef_construction,
                ef_search: value,
            },
            Config::Ivfflat { lists, .. } => Config::Ivfflat {
                lists,
                probes: value,
            },
        }
    }
    /// The build's relative cost, for scaling one measured build time to another.
    fn build_units(&self) -> f64 {
        match *self {
            Config::Hnsw {
                m, ef_construction, ..
            } => f64::from(ef_construction) * f64::from(m).sqrt(),
            Config::Ivfflat { lists, .. } => f64::from(lists.max(1)),
        }
    }
    /// The iterative-scan settings' names: (mode, bound).
    fn iterative(&self) -> (&'static str, &'static str) {
        match self {
            Config::Hnsw { .. } => ("hnsw.iterative_scan", "hnsw.max_scan_tuples"),
            Config::Ivfflat { .. } => ("ivfflat.iterative_scan", "ivfflat.max_probes"),
        }
    }
}

/// One measured point of the curve.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    #[serde(flatten)]
    pub config: Config,
    pub recall: f64,
    /// Measured only where the tuning recall reached the target plus the margin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out_recall: Option<f64>,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub qps: f64,
    pub build_seconds: f64,
    pub bytes: i64,
}

/// What the chosen configuration measured.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub recall: f64,
    pub held_out_recall: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub qps: f64,
    pub build_seconds: f64,
    pub bytes: i64,
}

/// A candidate not built, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub method: &'static str,
    pub build: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_seconds: Option<f64>,
    pub reason: String,
}

/// The build budget and what it bought.
#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    pub seconds: f64,
    pub spent_seconds: f64,
    pub skipped: Vec<Skipped>,
}

/// How filtered queries keep LIMIT full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// A plain index scan (measured as the "before").
    Plain,
    /// Iterative index scan, relaxed order, bounded.
    IterativeScan,
    /// An index built `WHERE <filter>`.
    PartialIndex,
    /// The exact filtered top-k (no ANN index).
    Exact,
}

impl Strategy {
    fn label(self) -> &'static str {
        match self {
            Strategy::Plain => "plain index scan",
            Strategy::IterativeScan => "iterative index scan",
            Strategy::PartialIndex => "partial index",
            Strategy::Exact => "exact search",
        }
    }
}

/// One measurement of filtered queries.
#[derive(Debug, Clone, Serialize)]
pub struct FilterPoint {
    pub strategy: Strategy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Config>,
    /// `hnsw.max_scan_tuples` or `ivfflat.max_probes` of an iterative scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_scan: Option<u32>,
    pub recall: f64,
    /// Share of the queries that returned fewer rows than LIMIT (than the matching rows, when
    /// fewer match).
    pub under_returned: f64,
    pub mean_rows: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out_recall: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out_under_returned: Option<f64>,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub qps: f64,
    /// Build time of a partial index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_seconds: Option<f64>,
}

impl FilterPoint {
    fn qualifies(&self, target: f64) -> bool {
        self.held_out_recall.is_some_and(|r| r >= target)
            && self.held_out_under_returned == Some(0.0)
    }
}

/// The filtered queries' tuning.
#[derive(Debug, Clone, Serialize)]
pub struct FilterTuning {
    pub filter: String,
    /// Share of the rows matching.
    pub selectivity: f64,
    pub matching_rows: i64,
    pub strategy: Strategy,
    /// A plain scan of the chosen index (what the filtered queries get without a strategy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<FilterPoint>,
    /// The strategy's measurement.
    pub after: FilterPoint,
    /// Every filtered measurement.
    pub curve: Vec<FilterPoint>,
    /// How to write the filtered query (`$1` is the query vector).
    pub query: String,
    /// What the strategy adds to the migration (indexes) and to the runtime settings.
    pub ddl: Vec<String>,
    pub settings: Vec<String>,
}

/// The tuner's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Tuning {
    pub version: u32,
    pub table: String,
    pub column: String,
    pub rows: i64,
    pub metric: Metric,
    pub target: f64,
    pub margin: f64,
    pub k: usize,
    pub tuning_queries: usize,
    pub held_out_queries: usize,
    pub chosen: Option<Config>,
    pub measured: Option<Measured>,
    pub curve: Vec<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterTuning>,
    /// The index migration (`-- dbarch:no-transaction`) and its down.
    pub migration: Option<Migration>,
    /// Runtime settings to apply (`ALTER DATABASE ... SET ...`).
    pub settings: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    pub index_name: String,
    pub up: String,
    pub down: String,
    /// The `CREATE INDEX CONCURRENTLY` alone.
    pub create_index: String,
    /// What `--apply` runs, in order (each its own statement, outside a transaction).
    #[serde(skip)]
    pub apply: Vec<String>,
}

/// Tunes `table.column` (see the module doc). `client` must be a writer session.
pub async fn tune(
    client: &Client,
    table: &str,
    column: &str,
    opts: &TuneOptions,
) -> Result<Tuning> {
    if !(0.0..=1.0).contains(&opts.recall) || opts.recall <= 0.0 {
        return Err(Error::input(format!(
            "--recall {}: a recall target is between 0 and 1",
            opts.recall
        )));
    }
    if opts.k == 0 || opts.k > 1000 {
        return Err(Error::input(format!("--k {}: between 1 and 1000", opts.k)));
    }
    let target = resolve(client, table, column).await?;
    if let Some(f) = &opts.filter {
        check_filter(client, &target, f).await?;
    }
    let dims = match (&opts.queries, target.dims) {
        (Some(q), Some(d)) if q.dims != d as usize => {
            return Err(Error::input(format!(
                "the queries have {} dimensions, {}.{} is {}",
                q.dims, target.table, target.column, target.data_type
            )));
        }
        (_, Some(d)) => d,
        (Some(q), None) => q.dims as u32,
        (None, None) => {
            return Err(Error::input(format!(
                "{}.{} has no declared dimensions: declare them (vector(D)) to index it",
                target.table, target.column
            )));
        }
    };
    let metric = match opts.metric {
        Some(m) => m,
        None => existing_metric(client, &target)
            .await?
            .unwrap_or(Metric::Cosine),
    };
    let rows: i64 = client
        .query_one(
            &format!(
                "SELECT count(*) FROM {} WHERE {} IS NOT NULL",
                target.table,
                ident(column)
            ),
            &[],
        )
        .await
        .map_err(Error::db(format!("counting the rows of {}", target.table)))?
        .get(0);
    if rows < (opts.k as i64) * 10 {
        return Err(Error::input(format!(
            "{} has {rows} vectors: too few to tune an index for k = {} (exact search is right at this size)",
            target.table, opts.k
        )));
    }
    let queries = match &opts.queries {
        Some(q) => q
            .data
            .chunks(q.dims)
            .map(<[f32]>::to_vec)
            .collect::<Vec<_>>(),
        None => sample(client, &target, opts.sample, opts.seed).await?,
    };
    if queries.len() < 2 {
        return Err(Error::input(
            "at least 2 queries are needed (one to tune, one held out)",
        ));
    }
    let half = queries.len() / 2;
    let (tuning, held_out) = queries.split_at(half);
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(Error::db("reading the session's pid"))?
        .get(0);
    let scratch = format!("_dbarch.vector_tune_{pid}");
    let saved_timeout: String = client
        .query_one("SHOW statement_timeout", &[])
        .await
        .map_err(Error::db("reading statement_timeout"))?
        .get(0);
    let result = run(
        client, &target, &scratch, dims, metric, rows, tuning, held_out, opts,
    )
    .await;
    // Whatever happened (a cancelled build leaves the session's settings changed).
    let restored = client
        .batch_execute(&format!(
            "SET statement_timeout = '{}'; RESET enable_seqscan; RESET enable_indexscan; \
             RESET enable_bitmapscan",
            saved_timeout.replace('\'', "''")
        ))
        .await
        .map_err(Error::db("restoring the session's settings"));
    let dropped = client
        .batch_execute(&format!("DROP TABLE IF EXISTS {scratch}"))
        .await
        .map_err(Error::db(format!("dropping the scratch table {scratch}")));
    let mut tuning = result?;
    restored?;
    dropped?;
    tuning.tuning_queries = half;
    tuning.held_out_queries = queries.len() - half;
    Ok(tuning)
}

/// The filter must be one boolean expression over the table: checked (prepared, not run)
/// before anything is copied.
async fn check_filter(client: &Client, target: &Target, filter: &str) -> Result<()> {
    client
        .prepare(&format!(
            "SELECT ({filter})::boolean FROM {} t LIMIT 0",
            target.table
        ))
        .await
        .map(|_| ())
        .map_err(|e| filter_error(e, &target.table))
}

fn filter_error(e: dbarch_pg::tokio_postgres::Error, table: &str) -> Error {
    let input = e
        .code()
        .is_some_and(|c| c.code().starts_with("42") || c.code().starts_with("22"));
    if input {
        let msg = e
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_else(|| e.to_string());
        Error::input(format!(
            "--filter: {msg} (a boolean SQL expression over {table}'s columns)"
        ))
    } else {
        Error::Db {
            context: format!("checking --filter on {table}"),
            source: e,
        }
    }
}

/// `column = value` (the column, unquoted as written) when the filter is one equality.
pub fn equality_column(filter: &str) -> Option<String> {
    let (left, right) = filter.split_once('=')?;
    let left = left.trim();
    let right = right.trim();
    if right.is_empty() || right.starts_with('=') || right.contains('=') {
        return None;
    }
    let lower = right.to_ascii_lowercase();
    if [" and ", " or ", ")"].iter().any(|w| lower.contains(w)) && !right.starts_with('\'') {
        return None;
    }
    let left = left.strip_prefix("t.").unwrap_or(left);
    let plain = !left.is_empty()
        && left.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !left.starts_with(|c: char| c.is_ascii_digit());
    let quoted = left.len() > 2 && left.starts_with('"') && left.ends_with('"');
    (plain || quoted).then(|| left.to_owned())
}

pub(crate) async fn existing_metric(client: &Client, target: &Target) -> Result<Option<Metric>> {
    let rows = client
        .query(
            "SELECT opc.opcname FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             JOIN pg_opclass opc ON opc.oid = i.indclass[0] \
             WHERE i.indrelid = $1 AND a.attname = $2 AND am.amname IN ('hnsw', 'ivfflat')",
            &[&target.oid, &target.column],
        )
        .await
        .map_err(Error::db("reading the column's indexes"))?;
    Ok(rows
        .iter()
        .find_map(|r| Metric::from_opclass(r.get::<_, String>(0).as_str())))
}

/// `n` rows of the column, in an order fixed by `seed`.
async fn sample(client: &Client, target: &Target, n: usize, seed: u64) -> Result<Vec<Vec<f32>>> {
    let col = ident(&target.column);
    let rows = client
        .query(
            &format!(
                "SELECT {col}::vector::real[] FROM {} WHERE {col} IS NOT NULL \
                 ORDER BY md5(ctid::text || $1::text) LIMIT $2",
                target.table
            ),
            &[&seed.to_string(), &(n as i64)],
        )
        .await
        .map_err(Error::db(format!("sampling queries from {}", target.table)))?;
    Ok(rows.iter().map(|r| r.get::<_, Vec<f32>>(0)).collect())
}

/// Runs `stmt` once per query: the ids found and each query's milliseconds.
async fn run_queries(
    client: &Client,
    stmt: &Statement,
    storage: Storage,
    qs: &[Vec<f32>],
) -> Result<(Vec<Vec<i64>>, Vec<f64>)> {
    let mut found = Vec::with_capacity(qs.len());
    let mut times = Vec::with_capacity(qs.len());
    for q in qs {
        let p = param(storage, q);
        let t = Instant::now();
        let rows = client
            .query(stmt, &[p.as_ref()])
            .await
            .map_err(Error::db("running a search"))?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        found.push(rows.iter().map(|r| r.get::<_, i64>(0)).collect());
    }
    Ok((found, times))
}

/// Recall, under-return and latency of `found` against `exact`.
#[derive(Debug, Clone, Copy)]
struct Stats {
    recall: f64,
    under_returned: f64,
    mean_rows: f64,
    p50_ms: f64,
    p95_ms: f64,
    qps: f64,
}

/// `exact` may hold more than `k` ids: rows tied with the k-th nearest (duplicate vectors are
/// common in real corpora) are all correct answers, and any `k` of them make a full result.
fn stats(found: &[Vec<i64>], mut times: Vec<f64>, exact: &[Vec<i64>], k: usize) -> Stats {
    let n = found.len().max(1) as f64;
    let mut recall = 0.0;
    let mut under = 0usize;
    let mut rows = 0usize;
    for (f, e) in found.iter().zip(exact) {
        let want = e.len().min(k);
        let e: HashSet<i64> = e.iter().copied().collect();
        recall += if want == 0 {
            1.0
        } else {
            (f.iter().filter(|id| e.contains(id)).count().min(want)) as f64 / want as f64
        };
        under += usize::from(f.len() < want);
        rows += f.len();
    }
    let total: f64 = times.iter().sum();
    times.sort_by(f64::total_cmp);
    Stats {
        recall: recall / n,
        under_returned: under as f64 / n,
        mean_rows: rows as f64 / n,
        p50_ms: percentile(&times, 0.50),
        p95_ms: percentile(&times, 0.95),
        qps: times.len() as f64 / (total / 1000.0).max(1e-9),
    }
}

/// What the filtered sweeps share.
struct Filtered<'a> {
    client: &'a Client,
    stmt: Statement,
    storage: Storage,
    rows: i64,
    goal: f64,
    target: f64,
    exact_tuning: Vec<Vec<i64>>,
    exact_held: Vec<Vec<i64>>,
    k: usize,
}

impl Filtered<'_> {
    async fn set(&self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(Error::db(format!("running {sql}")))
    }

    /// Measures the tuning set; when it returns full LIMIT at the goal, the held-out set too.
    async fn point(
        &self,
        strategy: Strategy,
        config: Config,
        max_scan: Option<u32>,
        tuning: &[Vec<f32>],
        held_out: &[Vec<f32>],
    ) -> Result<FilterPoint> {
        let (found, times) = run_queries(self.client, &self.stmt, self.storage, tuning).await?;
        let s = stats(&found, times, &self.exact_tuning, self.k);
        let mut p = FilterPoint {
            strategy,
            config: Some(config),
            max_scan,
            recall: s.recall,
            under_returned: s.under_returned,
            mean_rows: s.mean_rows,
            held_out_recall: None,
            held_out_under_returned: None,
            p50_ms: s.p50_ms,
            p95_ms: s.p95_ms,
            qps: s.qps,
            build_seconds: None,
        };
        if strategy != Strategy::Plain && s.under_returned == 0.0 && s.recall >= self.goal - 1e-12 {
            let (found, times) =
                run_queries(self.client, &self.stmt, self.storage, held_out).await?;
            let h = stats(&found, times, &self.exact_held, self.k);
            p.held_out_recall = Some(h.recall);
            p.held_out_under_returned = Some(h.under_returned);
        }
        Ok(p)
    }

    /// The plain scan of the built index at `config`, then iterative scans: the search value
    /// upwards from `config`'s, and for each the bound upwards until LIMIT is full.
    async fn sweep_iterative(
        &self,
        config: Config,
        values: &[u32],
        tuning: &[Vec<f32>],
        held_out: &[Vec<f32>],
    ) -> Result<Vec<FilterPoint>> {
        let (setting, start) = config.setting();
        let (mode, bound) = config.iterative();
        self.set(&format!("SET {setting} = {start}; SET {mode} = off"))
            .await?;
        let mut out = vec![
            self.point(Strategy::Plain, config, None, tuning, held_out)
                .await?,
        ];
        self.set(&format!("SET {mode} = relaxed_order")).await?;
        let rows = u32::try_from(self.rows).unwrap_or(u32::MAX);
        // The bound that filled LIMIT at a smaller search value fills it at a larger one.
        let mut floor = 0u32;
        'values: for &value in values.iter().filter(|&&v| v >= start) {
            let c = config.searching(value);
            let bounds: Vec<u32> = match c {
                Config::Hnsw { .. } => [
                    500u32, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
                    1_000_000, 2_000_000, 5_000_000,
                ]
                .into_iter()
                .filter(|&b| b < rows)
                .chain([rows])
                .collect(),
                Config::Ivfflat { lists, .. } => (1..)
                    .map(|i| value.saturating_mul(1 << i))
                    .take_while(|&p| p < lists)
                    .chain([lists])
                    .collect(),
            };
            self.set(&format!("SET {setting} = {value}")).await?;
            for b in bounds.into_iter().filter(|&b| b >= floor) {
                self.set(&format!("SET {bound} = {b}")).await?;
                let p = self
                    .point(Strategy::IterativeScan, c, Some(b), tuning, held_out)
                    .await?;
                let full = p.under_returned == 0.0;
                let done = p.qualifies(self.target);
                out.push(p);
                if done {
                    break 'values;
                }
                if full {
                    // More scanning returns the same rows: only a larger search value helps.
                    floor = b;
                    break;
                }
            }
        }
        self.set(&format!("SET {mode} = off; RESET {bound}"))
            .await?;
        Ok(out)
    }
}

/// Estimated seconds of `build` from the last build of its method.
fn estimate_build(history: &[(Config, f64)], build: &Config, scale: f64) -> Option<(f64, f64)> {
    history
        .iter()
        .rev()
        .find(|(c, _)| c.method() == build.method())
        .map(|(c, t)| (t * build.build_units() / c.build_units() * scale, *t))
}

/// An index build, done or cancelled by the budget's `statement_timeout`, and its seconds.
enum Built {
    Done(f64),
    Cancelled(f64),
}

async fn build_index(
    client: &Client,
    sql: &str,
    what: &str,
    left: Option<f64>,
    saved_timeout: &str,
) -> Result<Built> {
    if let Some(left) = left {
        client
            .batch_execute(&format!(
                "SET statement_timeout = {}",
                (left * 1000.0).ceil().max(1.0) as u64
            ))
            .await
            .map_err(Error::db("setting statement_timeout"))?;
    }
    let t = Instant::now();
    let r = client.batch_execute(sql).await;
    let secs = t.elapsed().as_secs_f64();
    if left.is_some() {
        client
            .batch_execute(&format!(
                "SET statement_timeout = '{}'",
                saved_timeout.replace('\'', "''")
            ))
            .await
            .map_err(Error::db("restoring statement_timeout"))?;
    }
    match r {
        Ok(()) => Ok(Built::Done(secs)),
        Err(e)
            if left.is_some()
                && e.code()
                    == Some(&dbarch_pg::tokio_postgres::error::SqlState::QUERY_CANCELED) =>
        {
            Ok(Built::Cancelled(secs))
        }
        Err(e) => Err(Error::Db {
            context: format!("building the candidate {what}"),
            source: e,
        }),
    }
}

#[allow(clippy::too_many_arguments)]
async fn run(
    client: &Client,
    target: &Target,
    scratch: &str,
    dims: u32,
    metric: Metric,
    rows: i64,
    tuning: &[Vec<f32>],
    held_out: &[Vec<f32>],
    opts: &TuneOptions,
) -> Result<Tuning> {
    let col = ident(&target.column);
    let filter = opts.filter.as_deref();
    let scratch_name = scratch.trim_start_matches("_dbarch.").to_owned();
    client
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS _dbarch; DROP TABLE IF EXISTS {scratch};"
        ))
        .await
        .map_err(Error::db("creating the schema _dbarch"))?;
    let matches = filter
        .map(|f| format!(", coalesce(({f})::boolean, false) AS matches"))
        .unwrap_or_default();
    // Sampled queries are rows of the table: left in the indexed set, each would find itself
    // (distance 0) and its own dense neighbourhood, and the recall would be optimistic. They
    // are held out of the copy (the same seeded order as `sample`) unless the table is small.
    let sampled = opts.queries.is_none();
    let hold_out = sampled && (tuning.len() + held_out.len()) as i64 * 5 <= rows;
    let exclude = if hold_out {
        format!(
            " AND t.ctid NOT IN (SELECT ctid FROM {} WHERE {col} IS NOT NULL \
             ORDER BY md5(ctid::text || '{}') LIMIT {})",
            target.table, opts.seed, opts.sample
        )
    } else {
        String::new()
    };
    client
        .execute(
            &format!(
                "CREATE UNLOGGED TABLE {scratch} AS \
                 SELECT (row_number() OVER ())::bigint AS id, t.{col} AS v{matches} \
                 FROM {} t WHERE t.{col} IS NOT NULL{exclude}",
                target.table
            ),
            &[],
        )
        .await
        .map_err(|e| match filter {
            Some(_) => filter_error(e, &target.table),
            None => Error::Db {
                context: format!("copying {}.{col} to {scratch}", target.table),
                source: e,
            },
        })?;
    client
        .batch_execute(&format!("ANALYZE {scratch}"))
        .await
        .map_err(Error::db(format!("analyzing {scratch}")))?;
    let saved_timeout: String = client
        .query_one("SHOW statement_timeout", &[])
        .await
        .map_err(Error::db("reading statement_timeout"))?
        .get(0);
    let op = metric.operator();
    let query = client
        .prepare(&format!(
            "SELECT id FROM {scratch} ORDER BY v {op} $1 LIMIT {}",
            opts.k
        ))
        .await
        .map_err(Error::db("preparing the search"))?;
    let storage = target.storage;
    let run_all = async |qs: &[Vec<f32>]| run_queries(client, &query, storage, qs).await;
    // Exact neighbours, with the rows tied with the k-th: no index exists yet on the scratch
    // table.
    let exact_query = client
        .prepare(&format!(
            "WITH kth AS (SELECT v {op} $1 AS d FROM {scratch} ORDER BY v {op} $1 LIMIT {}) \
             SELECT id FROM {scratch} WHERE v {op} $1 <= (SELECT max(d) FROM kth) ORDER BY v {op} $1, id",
            opts.k
        ))
        .await
        .map_err(Error::db("preparing the exact search"))?;
    client
        .batch_execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
        .await
        .map_err(Error::db("setting up exact search"))?;
    let (exact_tuning, _) = run_queries(client, &exact_query, storage, tuning).await?;
    let (exact_held, _) = run_queries(client, &exact_query, storage, held_out).await?;
    client
        .batch_execute("RESET enable_indexscan; RESET enable_bitmapscan")
        .await
        .map_err(Error::db("setting up exact search"))?;
    let recall = |found: &[Vec<i64>], exact: &[Vec<i64>]| -> f64 {
        stats(found, Vec::new(), exact, opts.k).recall
    };
    let margin = 0.02f64.min((1.0 - opts.recall) / 2.0);
    let goal = opts.recall + margin;
    // The filter: its selectivity, the exact filtered neighbours and the exact strategy.
    let mut filtered = None;
    let mut exact_point = None;
    let mut matching = 0i64;
    let mut copied = rows;
    if let Some(f) = filter {
        let counts = client
            .query_one(
                &format!("SELECT count(*) FILTER (WHERE matches), count(*) FROM {scratch}"),
                &[],
            )
            .await
            .map_err(Error::db("counting the rows matching the filter"))?;
        matching = counts.get(0);
        copied = counts.get(1);
        if matching == 0 {
            return Err(Error::input(format!(
                "--filter {f}: no row of {} matches it",
                target.table
            )));
        }
        client
            .batch_execute(&format!(
                "CREATE INDEX {scratch_name}_matches ON {scratch} (matches); ANALYZE {scratch}"
            ))
            .await
            .map_err(Error::db("indexing the filter"))?;
        let stmt = client
            .prepare(&format!(
                "WITH r AS MATERIALIZED (SELECT id, v {op} $1 AS d FROM {scratch} WHERE matches \
                 ORDER BY v {op} $1 LIMIT {}) SELECT id FROM r ORDER BY d",
                opts.k
            ))
            .await
            .map_err(Error::db("preparing the filtered search"))?;
        let (exact_ft, _) = run_queries(client, &stmt, storage, tuning).await?;
        let (exact_fh, times) = run_queries(client, &stmt, storage, held_out).await?;
        let s = stats(&exact_fh, times, &exact_fh, opts.k);
        exact_point = Some(FilterPoint {
            strategy: Strategy::Exact,
            config: None,
            max_scan: None,
            recall: 1.0,
            under_returned: 0.0,
            mean_rows: s.mean_rows,
            held_out_recall: Some(1.0),
            held_out_under_returned: Some(0.0),
            p50_ms: s.p50_ms,
            p95_ms: s.p95_ms,
            qps: s.qps,
            build_seconds: None,
        });
        client
            .batch_execute(&format!("DROP INDEX _dbarch.{scratch_name}_matches"))
            .await
            .map_err(Error::db("dropping the filter's index"))?;
        filtered = Some(Filtered {
            client,
            stmt,
            storage,
            rows,
            goal,
            target: opts.recall,
            exact_tuning: exact_ft,
            exact_held: exact_fh,
            k: opts.k,
        });
    }
    client
        .batch_execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
        .await
        .map_err(Error::db("setting up index search"))?;
    let workers: i32 = client
        .query_one(
            "SELECT least(current_setting('max_parallel_workers')::int, \
             current_setting('max_worker_processes')::int - 1)",
            &[],
        )
        .await
        .map_err(Error::db("reading max_parallel_workers"))?
        .get(0);
    let workers = estimate::parallel_workers_for(rows as u64, workers.max(0) as u32);
    let vb = storage.value_bytes(dims);
    let urows = rows as u64;
    let lists_a = ((urows / 1000).max(1)) as u32;
    let lists_b = ((urows as f64).sqrt().round() as u32).max(1);
    let mut builds: Vec<Config> = [(8, 32), (16, 64), (24, 96), (32, 128)]
        .iter()
        .map(|&(m, efc)| Config::Hnsw {
            m,
            ef_construction: efc,
            ef_search: 0,
        })
        .collect();
    for lists in [lists_a, lists_b] {
        let c = Config::Ivfflat { lists, probes: 0 };
        if !builds.contains(&c) {
            builds.push(c);
        }
    }
    let sweep_for = |build: &Config| -> Vec<u32> {
        match build {
            Config::Hnsw { .. } => [10u32, 16, 24, 40, 64, 100, 160, 256, 400, 640, 1000]
                .into_iter()
                .filter(|&e| e as usize >= opts.k)
                .collect(),
            Config::Ivfflat { lists, .. } => {
                let mut v: Vec<u32> = (0..).map(|p| 1u32 << p).take_while(|p| p < lists).collect();
                v.push(*lists);
                v
            }
        }
    };
    let memory_for = |c: &Config, n: u64| match c {
        Config::Hnsw { m, .. } => estimate::hnsw_build_memory(n, vb, *m),
        Config::Ivfflat { lists, .. } => n.min(u64::from(*lists) * 50) * (vb + 16),
    };
    let budget = opts.budget_build.map(|d| d.as_secs_f64());
    let mut spent = 0.0f64;
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut history: Vec<(Config, f64)> = Vec::new();
    let mut built_any = false;
    // Per build: its filtered measurements (plain, then iterative).
    let mut fcurves: Vec<(Config, Vec<FilterPoint>)> = Vec::new();
    let pb = crate::load::bar_for(opts.progress, builds.len() as u64, "tuning");
    let mut curve = Vec::new();
    for (i, build) in builds.iter().enumerate() {
        pb.set_position(i as u64);
        pb.set_message(format!("tuning: {} ({})", build.method(), build.with()));
        let left = budget.map(|b| b - spent);
        if let Some(left) = left {
            if left <= 0.0 {
                skipped.push(Skipped {
                    method: build.method(),
                    build: build.with(),
                    estimated_seconds: None,
                    reason: "the budget is spent".into(),
                });
                continue;
            }
            if let Some((est, from)) = estimate_build(&history, build, 1.0)
                && est > left
            {
                skipped.push(Skipped {
                    method: build.method(),
                    build: build.with(),
                    estimated_seconds: Some(est),
                    reason: format!(
                        "estimated {est:.1} s (scaled from the last {} build's {from:.1} s), {left:.1} s of the budget left",
                        build.method()
                    ),
                });
                continue;
            }
        }
        let name = format!("{scratch_name}_cand_{i}");
        client
            .batch_execute(&format!(
                "SET maintenance_work_mem = '{}'; SET max_parallel_maintenance_workers = {workers}",
                estimate::maintenance_work_mem_for(memory_for(build, urows))
            ))
            .await
            .map_err(Error::db("setting maintenance_work_mem"))?;
        let what = format!("{} ({})", build.method(), build.with());
        let sql = format!(
            "CREATE INDEX {name} ON {scratch} USING {} (v {}_{}) WITH ({})",
            build.method(),
            storage.type_name(),
            metric.ops_suffix(),
            build.with()
        );
        let build_seconds = match build_index(client, &sql, &what, left, &saved_timeout).await? {
            Built::Done(s) => s,
            Built::Cancelled(s) => {
                spent += s;
                history.push((*build, s));
                skipped.push(Skipped {
                    method: build.method(),
                    build: build.with(),
                    estimated_seconds: None,
                    reason: format!("cancelled after {s:.1} s: the budget ran out"),
                });
                continue;
            }
        };
        spent += build_seconds;
        history.push((*build, build_seconds));
        built_any = true;
        let bytes: i64 = client
            .query_one(&format!("SELECT pg_relation_size('_dbarch.{name}')"), &[])
            .await
            .map_err(Error::db("reading a candidate's size"))?
            .get(0);
        let sweep = sweep_for(build);
        // Warm the index up (its pages into shared buffers) before timing.
        let warm = tuning.len().min(20);
        for &value in &sweep {
            let config = build.searching(value);
            let (setting, v) = config.setting();
            client
                .batch_execute(&format!("SET {setting} = {v}"))
                .await
                .map_err(Error::db(format!("setting {setting}")))?;
            run_all(&tuning[..warm]).await?;
            let (found, times) = run_all(tuning).await?;
            let s = stats(&found, times, &exact_tuning, opts.k);
            let r = s.recall;
            let mut point = Point {
                config,
                recall: r,
                held_out_recall: None,
                p50_ms: s.p50_ms,
                p95_ms: s.p95_ms,
                qps: s.qps,
                build_seconds,
                bytes,
            };
            let reached = r >= goal.min(1.0) - 1e-12;
            if reached {
                let (found, _) = run_all(held_out).await?;
                point.held_out_recall = Some(recall(&found, &exact_held));
            }
            let qualifies = point.held_out_recall.is_some_and(|h| h >= opts.recall);
            curve.push(point);
            if qualifies || r >= 0.9999 {
                break;
            }
        }
        client
            .batch_execute(&format!("DROP INDEX _dbarch.{name}"))
            .await
            .map_err(Error::db("dropping a candidate"))?;
    }
    // The filtered queries on the chosen build (built again: one more build, in the budget).
    let best = curve
        .iter()
        .filter(|p| p.recall >= goal.min(1.0) - 1e-12)
        .filter(|p| p.held_out_recall.is_some_and(|h| h >= opts.recall))
        .max_by(|a, b| a.qps.total_cmp(&b.qps))
        .cloned();
    if let (Some(f), Some(b)) = (&filtered, &best) {
        pb.set_message(format!(
            "tuning: {} ({}), filtered queries",
            b.config.method(),
            b.config.with()
        ));
        let left = budget.map(|bud| bud - spent);
        let name = format!("{scratch_name}_chosen");
        let what = format!("{} ({})", b.config.method(), b.config.with());
        let fits = match left {
            Some(l) if l <= 0.0 || b.build_seconds > l => {
                skipped.push(Skipped {
                    method: b.config.method(),
                    build: format!("{} again, for the filtered queries", b.config.with()),
                    estimated_seconds: Some(b.build_seconds),
                    reason: format!("{:.1} s of the budget left", l.max(0.0)),
                });
                false
            }
            _ => true,
        };
        if fits {
            client
                .batch_execute(&format!(
                    "SET maintenance_work_mem = '{}'",
                    estimate::maintenance_work_mem_for(memory_for(&b.config, urows))
                ))
                .await
                .map_err(Error::db("setting maintenance_work_mem"))?;
            let sql = format!(
                "CREATE INDEX {name} ON {scratch} USING {} (v {}_{}) WITH ({})",
                b.config.method(),
                storage.type_name(),
                metric.ops_suffix(),
                b.config.with()
            );
            match build_index(client, &sql, &what, left, &saved_timeout).await? {
                Built::Done(s) => {
                    spent += s;
                    let points = f
                        .sweep_iterative(b.config, &sweep_for(&b.config), tuning, held_out)
                        .await?;
                    fcurves.push((b.config, points));
                    client
                        .batch_execute(&format!("DROP INDEX _dbarch.{name}"))
                        .await
                        .map_err(Error::db("dropping a candidate"))?;
                }
                Built::Cancelled(s) => {
                    spent += s;
                    skipped.push(Skipped {
                        method: b.config.method(),
                        build: format!("{} again, for the filtered queries", b.config.with()),
                        estimated_seconds: None,
                        reason: format!("cancelled after {s:.1} s: the budget ran out"),
                    });
                }
            }
        }
    }
    pb.finish_and_clear();
    if budget.is_some() && !built_any {
        let first = skipped
            .first()
            .map(|s| format!("; {} ({}): {}", s.method, s.build, s.reason))
            .unwrap_or_default();
        return Err(Error::input(format!(
            "--budget-build {:.1}s: no candidate index could be built within it{first}",
            budget.unwrap_or(0.0)
        )));
    }
    let table_name = target
        .table
        .rsplit_once('.')
        .map(|(_, t)| t.trim_matches('"'))
        .unwrap_or(&target.table)
        .to_owned();
    let schema = target
        .table
        .split_once('.')
        .map(|(s, _)| s.to_owned())
        .unwrap_or_else(|| "public".into());
    let mut notes = Vec::new();
    if sampled && !hold_out {
        notes.push(format!(
            "the {} sampled queries are rows of the table and stay in the indexed copy (too few rows to hold them out): the recall is optimistic; give --queries",
            tuning.len() + held_out.len()
        ));
    }
    // The filter's strategy.
    let mut filter_tuning = None;
    if let (Some(f), Some(fx), Some(exact)) = (filter, &filtered, exact_point) {
        let selectivity = matching as f64 / copied.max(1) as f64;
        let mut fcurve: Vec<FilterPoint> = vec![exact.clone()];
        let same_build = |a: &Config, b: &Config| a.searching(0) == b.searching(0);
        let mine = best
            .as_ref()
            .and_then(|b| fcurves.iter().find(|(c, _)| same_build(c, &b.config)));
        let before = mine.and_then(|(_, ps)| ps.first().cloned());
        let mut options: Vec<FilterPoint> = vec![exact.clone()];
        if let Some((_, ps)) = mine {
            options.extend(
                ps.iter()
                    .filter(|p| p.strategy == Strategy::IterativeScan && p.qualifies(opts.recall))
                    .cloned(),
            );
        }
        for (_, ps) in &fcurves {
            fcurve.extend(ps.iter().cloned());
        }
        // A partial index, for an equality on a value frequent enough to deserve one.
        let eq = equality_column(f);
        match (&best, &eq) {
            (Some(b), Some(_)) if (PARTIAL_MIN_SHARE..0.999).contains(&selectivity) => {
                let pc = match b.config {
                    Config::Ivfflat { lists, .. } => Config::Ivfflat {
                        lists: ((f64::from(lists) * selectivity).round() as u32).max(1),
                        probes: 0,
                    },
                    c => c.searching(0),
                };
                let left = budget.map(|bud| bud - spent);
                let est = estimate_build(&history, &pc, selectivity);
                match (left, est) {
                    (Some(l), _) if l <= 0.0 => skipped.push(Skipped {
                        method: pc.method(),
                        build: format!("{} WHERE <filter>", pc.with()),
                        estimated_seconds: None,
                        reason: "the budget is spent".into(),
                    }),
                    (Some(l), Some((e, _))) if e > l => skipped.push(Skipped {
                        method: pc.method(),
                        build: format!("{} WHERE <filter>", pc.with()),
                        estimated_seconds: Some(e),
                        reason: format!("estimated {e:.1} s, {l:.1} s of the budget left"),
                    }),
                    _ => {
                        let name = format!("{scratch_name}_partial");
                        let matching_u = matching as u64;
                        client
                            .batch_execute(&format!(
                                "SET maintenance_work_mem = '{}'",
                                estimate::maintenance_work_mem_for(memory_for(&pc, matching_u))
                            ))
                            .await
                            .map_err(Error::db("setting maintenance_work_mem"))?;
                        let sql = format!(
                            "CREATE INDEX {name} ON {scratch} USING {} (v {}_{}) WITH ({}) WHERE matches",
                            pc.method(),
                            storage.type_name(),
                            metric.ops_suffix(),
                            pc.with()
                        );
                        let what = format!("partial {} ({})", pc.method(), pc.with());
                        match build_index(client, &sql, &what, left, &saved_timeout).await? {
                            Built::Cancelled(s) => {
                                spent += s;
                                skipped.push(Skipped {
                                    method: pc.method(),
                                    build: format!("{} WHERE <filter>", pc.with()),
                                    estimated_seconds: None,
                                    reason: format!(
                                        "cancelled after {s:.1} s: the budget ran out"
                                    ),
                                });
                            }
                            Built::Done(s) => {
                                spent += s;
                                let (setting, _) = pc.setting();
                                let (mode, _) = pc.iterative();
                                fx.set(&format!("SET {mode} = off")).await?;
                                for value in sweep_for(&pc) {
                                    let c = pc.searching(value);
                                    fx.set(&format!("SET {setting} = {value}")).await?;
                                    let mut p = fx
                                        .point(Strategy::PartialIndex, c, None, tuning, held_out)
                                        .await?;
                                    p.build_seconds = Some(s);
                                    let ok = p.qualifies(opts.recall);
                                    fcurve.push(p.clone());
                                    if ok {
                                        options.push(p);
                                        break;
                                    }
                                }
                                client
                                    .batch_execute(&format!("DROP INDEX _dbarch.{name}"))
                                    .await
                                    .map_err(Error::db("dropping the partial index"))?;
                            }
                        }
                    }
                }
            }
            (Some(_), Some(_)) => notes.push(format!(
                "no partial index measured: {:.1} % of the rows match, a partial index pays for a value matching at least {:.0} %",
                selectivity * 100.0,
                PARTIAL_MIN_SHARE * 100.0
            )),
            (Some(_), None) => notes.push(
                "no partial index measured: the filter is not an equality on one column".into(),
            ),
            _ => {}
        }
        let after = options
            .iter()
            .max_by(|a, b| a.qps.total_cmp(&b.qps))
            .cloned()
            .unwrap_or(exact);
        let tq = format!("{} t", target.table);
        let k = opts.k;
        let (query, ddl, settings) = match after.strategy {
            Strategy::IterativeScan => {
                let c = after.config.unwrap_or(Config::Hnsw {
                    m: 16,
                    ef_construction: 64,
                    ef_search: 40,
                });
                let (mode, bound) = c.iterative();
                let (setting, value) = c.setting();
                (
                    format!(
                        "WITH relaxed AS MATERIALIZED (SELECT t.*, t.{col} {op} $1 AS distance FROM {tq} WHERE ({f}) ORDER BY t.{col} {op} $1 LIMIT {k}) SELECT * FROM relaxed ORDER BY distance"
                    ),
                    Vec::new(),
                    vec![
                        (mode.to_owned(), "relaxed_order".to_owned()),
                        (bound.to_owned(), after.max_scan.unwrap_or(0).to_string()),
                        (setting.to_owned(), value.to_string()),
                    ],
                )
            }
            Strategy::PartialIndex => {
                let c = after.config.unwrap_or(Config::Hnsw {
                    m: 16,
                    ef_construction: 64,
                    ef_search: 40,
                });
                let (setting, value) = c.setting();
                let column = eq.clone().unwrap_or_default();
                let name = partial_index_name(&table_name, &target.column, &column);
                (
                    format!("SELECT t.* FROM {tq} WHERE ({f}) ORDER BY t.{col} {op} $1 LIMIT {k}"),
                    vec![format!(
                        "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} USING {} ({col} {}_{}) WITH ({}) WHERE ({});",
                        ident(&name),
                        target.table,
                        c.method(),
                        storage.type_name(),
                        metric.ops_suffix(),
                        c.with(),
                        f.trim().trim_start_matches("t.")
                    )],
                    vec![(setting.to_owned(), value.to_string())],
                )
            }
            _ => {
                let mut ddl = Vec::new();
                if let Some(column) = &eq {
                    let bare = column.trim_matches('"').to_owned();
                    let indexed: bool = client
                        .query_one(
                            "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                             JOIN pg_am am ON am.oid = c.relam \
                             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                             WHERE i.indrelid = $1 AND a.attname = $2 AND am.amname = 'btree')",
                            &[&target.oid, &bare],
                        )
                        .await
                        .map_err(Error::db("reading the table's indexes"))?
                        .get(0);
                    if !indexed {
                        ddl.push(format!(
                            "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({});",
                            ident(&format!("{table_name}_{bare}_idx")),
                            target.table,
                            ident(&bare)
                        ));
                    }
                } else {
                    notes.push(
                        "exact search reads every matching row: an index serving the filter keeps it fast"
                            .into(),
                    );
                }
                (
                    format!(
                        "WITH matching AS MATERIALIZED (SELECT t.* FROM {tq} WHERE ({f})) SELECT * FROM matching ORDER BY {col} {op} $1 LIMIT {k}"
                    ),
                    ddl,
                    Vec::new(),
                )
            }
        };
        if matching < opts.k as i64 {
            notes.push(format!(
                "only {matching} rows match the filter: fewer than k = {}",
                opts.k
            ));
        }
        filter_tuning = Some((
            FilterTuning {
                filter: f.to_owned(),
                selectivity,
                matching_rows: matching,
                strategy: after.strategy,
                before,
                after,
                curve: fcurve,
                query,
                ddl,
                settings: Vec::new(),
            },
            settings,
        ));
    }
    let database: String = client
        .query_one("SELECT current_database()", &[])
        .await
        .map_err(Error::db("reading the database's name"))?
        .get(0);
    // The database settings: the chosen index's search value, the filter strategy's.
    let mut db_settings: Vec<(String, String)> = Vec::new();
    if let Some(p) = &best {
        let (s, v) = p.config.setting();
        put_setting(&mut db_settings, s, v.to_string());
    }
    let filter_tuning = filter_tuning.map(|(mut ft, settings)| {
        for (n, v) in settings {
            put_setting(&mut db_settings, &n, v);
        }
        ft.settings = settings_lines(&database, &db_settings);
        ft
    });
    let (migration, settings) = match &best {
        Some(p) => {
            let index_name = format!("{table_name}_{}_{}_idx", target.column, p.config.method());
            let mwm = estimate::maintenance_work_mem_for(memory_for(&p.config, urows));
            let create = format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} USING {} ({col} {}_{}) WITH ({});",
                ident(&index_name),
                target.table,
                p.config.method(),
                storage.type_name(),
                metric.ops_suffix(),
                p.config.with()
            );
            let (setting, value) = p.config.setting();
            let extra_ddl = filter_tuning
                .as_ref()
                .map(|f| f.ddl.clone())
                .unwrap_or_default();
            let mut up = format!(
                "-- dbarch:no-transaction\n-- Tuned by dbarch vector tune: recall@{} {:.3} (held out {:.3}) at {setting} = {value}, target {}.\nSET maintenance_work_mem = '{mwm}';\nSET max_parallel_maintenance_workers = {workers};\n{create}\n",
                opts.k,
                p.recall,
                p.held_out_recall.unwrap_or(0.0),
                opts.recall
            );
            if let Some(ft) = &filter_tuning {
                up.push_str(&format!(
                    "-- Filtered queries ({}): {} ({:.1} % of the rows match).\n",
                    ft.filter.replace(['\n', '\r'], " "),
                    ft.strategy.label(),
                    ft.selectivity * 100.0
                ));
            }
            for d in &extra_ddl {
                up.push_str(d);
                up.push('\n');
            }
            for (n, v) in &db_settings {
                up.push_str(&format!(
                    "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET {n} = {v}', current_database()); END $$;\n"
                ));
            }
            let mut down = "-- dbarch:no-transaction\n".to_owned();
            for (n, _) in db_settings.iter().rev() {
                down.push_str(&format!(
                    "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET {n}', current_database()); END $$;\n"
                ));
            }
            for d in extra_ddl.iter().rev() {
                if let Some(name) = created_index_name(d) {
                    down.push_str(&format!(
                        "DROP INDEX CONCURRENTLY IF EXISTS {schema}.{name};\n"
                    ));
                }
            }
            down.push_str(&format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {schema}.{};\n",
                ident(&index_name)
            ));
            let existing = client
                .query(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                     JOIN pg_am am ON am.oid = c.relam \
                     WHERE i.indrelid = $1 AND am.amname IN ('hnsw', 'ivfflat') AND c.relname <> $2 \
                     AND i.indpred IS NULL",
                    &[&target.oid, &index_name],
                )
                .await
                .map_err(Error::db("reading the column's indexes"))?;
            for r in existing {
                let name: String = r.get(0);
                notes.push(format!(
                    "{name} also indexes {}: drop it once the tuned index is built, or the planner may keep using it",
                    target.table
                ));
            }
            let mut apply = vec![
                format!("SET maintenance_work_mem = '{mwm}'"),
                format!("SET max_parallel_maintenance_workers = {workers}"),
                create.clone(),
            ];
            apply.extend(extra_ddl.iter().cloned());
            apply.extend(
                db_settings
                    .iter()
                    .map(|(n, v)| format!("ALTER DATABASE {} SET {n} = {v}", ident(&database))),
            );
            let mut lines = settings_lines(&database, &db_settings);
            lines.push(format!(
                "-- or per role: ALTER ROLE app SET {setting} = {value}; per transaction: SET LOCAL {setting} = {value};"
            ));
            (
                Some(Migration {
                    index_name,
                    up,
                    down,
                    create_index: create,
                    apply,
                }),
                lines,
            )
        }
        None => (None, Vec::new()),
    };
    Ok(Tuning {
        version: 1,
        table: target.table.clone(),
        column: target.column.clone(),
        rows,
        metric,
        target: opts.recall,
        margin,
        k: opts.k,
        tuning_queries: 0,
        held_out_queries: 0,
        chosen: best.as_ref().map(|p| p.config),
        measured: best.map(|p| Measured {
            recall: p.recall,
            held_out_recall: p.held_out_recall.unwrap_or(0.0),
            p50_ms: p.p50_ms,
            p95_ms: p.p95_ms,
            qps: p.qps,
            build_seconds: p.build_seconds,
            bytes: p.bytes,
        }),
        curve,
        budget: budget.map(|seconds| Budget {
            seconds,
            spent_seconds: spent,
            skipped,
        }),
        filter: filter_tuning,
        migration,
        settings,
        notes,
    })
}

/// Adds a database setting; of two search values, the larger serves both.
fn put_setting(settings: &mut Vec<(String, String)>, name: &str, value: String) {
    match settings.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => {
            if let (Ok(a), Ok(b)) = (v.parse::<u32>(), value.parse::<u32>()) {
                *v = a.max(b).to_string();
            }
        }
        None => settings.push((name.to_owned(), value)),
    }
}

/// Below this share of matching rows, a value does not get an index of its own.
const PARTIAL_MIN_SHARE: f64 = 0.02;

fn partial_index_name(table: &str, column: &str, filter_column: &str) -> String {
    let name = format!(
        "{table}_{column}_{}_partial_idx",
        filter_column.trim_matches('"')
    );
    name.chars().take(63).collect()
}

/// The index name of a `CREATE INDEX CONCURRENTLY IF NOT EXISTS name ...` line.
fn created_index_name(ddl: &str) -> Option<String> {
    let rest = ddl.strip_prefix("CREATE INDEX CONCURRENTLY IF NOT EXISTS ")?;
    if let Some(q) = rest.strip_prefix('"') {
        let end = q.find("\" ")?;
        Some(format!("\"{}\"", &q[..end]))
    } else {
        rest.split_whitespace().next().map(str::to_owned)
    }
}

fn settings_lines(database: &str, settings: &[(String, String)]) -> Vec<String> {
    settings
        .iter()
        .map(|(n, v)| format!("ALTER DATABASE {} SET {n} = {v};", ident(database)))
        .collect()
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Builds the chosen index (and what the filter's strategy needs) concurrently on the real
/// table and sets the runtime settings for the current database (new sessions get them).
pub async fn apply(client: &Client, tuning: &Tuning) -> Result<()> {
    let Some(m) = &tuning.migration else {
        return Ok(());
    };
    for sql in &m.apply {
        client
            .batch_execute(sql)
            .await
            .map_err(Error::db(format!("running {sql}")))?;
    }
    Ok(())
}

fn search_label(c: &Config) -> (String, String) {
    match *c {
        Config::Hnsw {
            m,
            ef_construction,
            ef_search,
        } => (
            format!("m={m} ef_construction={ef_construction}"),
            format!("ef_search={ef_search}"),
        ),
        Config::Ivfflat { lists, probes } => (format!("lists={lists}"), format!("probes={probes}")),
    }
}

/// The curve and the choice, as text.
pub fn render_text(t: &Tuning) -> String {
    let mut s = format!(
        "Tuning {}.{} ({} rows, {:?}) for recall@{} >= {} (margin {:.3}; {} tuning and {} held-out queries)\n\n",
        t.table,
        t.column,
        t.rows,
        t.metric,
        t.k,
        t.target,
        t.margin,
        t.tuning_queries,
        t.held_out_queries
    );
    s.push_str("method   build                    search        recall  held-out  p50 ms  p95 ms      QPS  build s      size\n");
    for p in &t.curve {
        let (build, search) = search_label(&p.config);
        s.push_str(&format!(
            "{:<8} {:<24} {:<13} {:>6.3}  {:>8}  {:>6.2}  {:>6.2}  {:>7.0}  {:>7.2}  {:>8}\n",
            p.config.method(),
            build,
            search,
            p.recall,
            p.held_out_recall
                .map(|h| format!("{h:.3}"))
                .unwrap_or_default(),
            p.p50_ms,
            p.p95_ms,
            p.qps,
            p.build_seconds,
            estimate::human(p.bytes.max(0) as u64)
        ));
    }
    if let Some(b) = &t.budget {
        s.push_str(&format!(
            "\nBuild budget {:.1} s, spent {:.1} s; {} candidate(s) skipped\n",
            b.seconds,
            b.spent_seconds,
            b.skipped.len()
        ));
        for k in &b.skipped {
            s.push_str(&format!(
                "  skipped {} ({}): {}\n",
                k.method, k.build, k.reason
            ));
        }
    }
    match (&t.chosen, &t.measured, &t.migration) {
        (Some(c), Some(m), Some(_)) => {
            let (setting, value) = c.setting();
            s.push_str(&format!(
                "\nChosen: {} ({}), {setting} = {value}: recall {:.3} (held out {:.3}), P50 {:.2} ms, P95 {:.2} ms, {:.0} QPS, built in {:.1} s, {}\n",
                c.method(),
                c.with(),
                m.recall,
                m.held_out_recall,
                m.p50_ms,
                m.p95_ms,
                m.qps,
                m.build_seconds,
                estimate::human(m.bytes.max(0) as u64)
            ));
        }
        _ => s.push_str(&format!(
            "\nNo configuration reached recall {} on the tuning queries and held it on the held-out ones.\n",
            t.target
        )),
    }
    if let Some(f) = &t.filter {
        s.push_str(&format!(
            "\nFiltered queries: WHERE {} matches {} rows ({:.2} %)\n",
            f.filter,
            f.matching_rows,
            f.selectivity * 100.0
        ));
        s.push_str("strategy              build                    search        max scan  recall  under-ret  rows  held-out  under-ret  p50 ms      QPS\n");
        for p in &f.curve {
            let (build, search) = p.config.as_ref().map(search_label).unwrap_or_default();
            s.push_str(&format!(
                "{:<21} {:<24} {:<13} {:>8}  {:>6.3}  {:>8.1}%  {:>4.1}  {:>8}  {:>9}  {:>6.2}  {:>7.0}\n",
                p.strategy.label(),
                build,
                search,
                p.max_scan.map(|m| m.to_string()).unwrap_or_default(),
                p.recall,
                p.under_returned * 100.0,
                p.mean_rows,
                p.held_out_recall
                    .map(|h| format!("{h:.3}"))
                    .unwrap_or_default(),
                p.held_out_under_returned
                    .map(|h| format!("{:.1}%", h * 100.0))
                    .unwrap_or_default(),
                p.p50_ms,
                p.qps
            ));
        }
        if let Some(b) = &f.before {
            s.push_str(&format!(
                "\nBefore (plain scan of the chosen index): {:.1} % of the queries under-return ({:.1} rows on average of {}), recall {:.3}\n",
                b.under_returned * 100.0,
                b.mean_rows,
                t.k,
                b.recall
            ));
        }
        let a = &f.after;
        s.push_str(&format!(
            "Strategy: {}: held-out recall {:.3}, {:.1} % under-return, P50 {:.2} ms, {:.0} QPS\n",
            f.strategy.label(),
            a.held_out_recall.unwrap_or(a.recall),
            a.held_out_under_returned.unwrap_or(a.under_returned) * 100.0,
            a.p50_ms,
            a.qps
        ));
        s.push_str(&format!("Query ($1 is the query vector):\n  {}\n", f.query));
    }
    if let Some(mig) = &t.migration {
        s.push_str("\n-- The index migration\n");
        s.push_str(&mig.up);
        s.push_str("\n-- Runtime settings\n");
        for l in &t.settings {
            s.push_str(l);
            s.push('\n');
        }
    }
    for n in &t.notes {
        s.push_str(&format!("Note: {n}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_with_the_kth_neighbour_are_hits() {
        // k = 2; rows 2, 3 and 4 are equally near: any one of them completes the answer.
        let exact = vec![vec![1, 2, 3, 4]];
        let s = stats(&[vec![1, 4]], vec![1.0], &exact, 2);
        assert_eq!(s.recall, 1.0);
        assert_eq!(s.under_returned, 0.0);
        let s = stats(&[vec![1, 9]], vec![1.0], &exact, 2);
        assert_eq!(s.recall, 0.5);
        // Fewer matching rows than k (a filter): the answer is complete with all of them.
        let s = stats(&[vec![7]], vec![1.0], &[vec![7]], 10);
        assert_eq!((s.recall, s.under_returned), (1.0, 0.0));
        let s = stats(&[vec![]], vec![1.0], &[vec![7]], 10);
        assert_eq!((s.recall, s.under_returned), (0.0, 1.0));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        for bad in ["", "10", "10x", "0s", "-1s", "s", "1..2s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn equalities() {
        assert_eq!(equality_column("category = 3").as_deref(), Some("category"));
        assert_eq!(equality_column("t.lang = 'en'").as_deref(), Some("lang"));
        assert_eq!(
            equality_column("\"Lang\" = 'a and b'").as_deref(),
            Some("\"Lang\"")
        );
        for no in [
            "category >= 3",
            "category <= 3",
            "category != 3",
            "a = 1 and b = 2",
            "a = 1 or b = 2",
            "lower(lang) = 'en'",
            "category < 3",
        ] {
            assert_eq!(equality_column(no), None, "{no}");
        }
    }

    #[test]
    fn build_estimates_scale_with_the_parameters() {
        let h = |m, efc| Config::Hnsw {
            m,
            ef_construction: efc,
            ef_search: 0,
        };
        let history = [(h(8, 32), 2.0)];
        let (est, from) = estimate_build(&history, &h(32, 128), 1.0).unwrap();
        assert_eq!(from, 2.0);
        assert!((est - 2.0 * 4.0 * 2.0).abs() < 1e-9, "{est}");
        assert!(
            estimate_build(
                &history,
                &Config::Ivfflat {
                    lists: 10,
                    probes: 0
                },
                1.0
            )
            .is_none()
        );
    }
}
