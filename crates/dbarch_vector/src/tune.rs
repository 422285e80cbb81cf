//! Index tuning to a recall target, measured.
//!
//! The column is copied into a scratch table (`_dbarch.vector_tune_<pid>`, unlogged, with a
//! bigint id), so that candidate builds never lock or bloat the real table, and dropped at the
//! end whatever happens. The queries (a file, or rows sampled with a fixed seed) are split in
//! two halves: the tuning set and the held-out set. Exact neighbours come from sequential scans
//! of the scratch table before any index exists. Then each candidate — HNSW `(m,
//! ef_construction)` and IVFFlat `lists` — is built (timed, sized), and its search parameter
//! swept upwards (`hnsw.ef_search`, `ivfflat.probes`), measuring recall@k, P50/P95 latency and
//! QPS over the tuning set, until the recall reaches the target plus a margin; that point is
//! then checked on the held-out set and qualifies only if its recall there is at least the
//! target. Among the qualifying points the one with the highest QPS wins.

use crate::estimate;
use crate::input::Embeddings;
use crate::load::{Target, param, resolve};
use crate::{Error, Metric, Result, ident};
use dbarch_pg::tokio_postgres::Client;
use serde::Serialize;
use std::collections::HashSet;
use std::time::Instant;

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
        }
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
    fn method(&self) -> &'static str {
        match self {
            Config::Hnsw { .. } => "hnsw",
            Config::Ivfflat { .. } => "ivfflat",
        }
    }
    /// `WITH (...)` of the build.
    fn with(&self) -> String {
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
    let result = run(
        client, &target, &scratch, dims, metric, rows, tuning, held_out, opts,
    )
    .await;
    let dropped = client
        .batch_execute(&format!("DROP TABLE IF EXISTS {scratch}"))
        .await
        .map_err(Error::db(format!("dropping the scratch table {scratch}")));
    let mut tuning = result?;
    dropped?;
    tuning.tuning_queries = half;
    tuning.held_out_queries = queries.len() - half;
    Ok(tuning)
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
    client
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS _dbarch; \
             DROP TABLE IF EXISTS {scratch}; \
             CREATE UNLOGGED TABLE {scratch} AS \
               SELECT (row_number() OVER ())::bigint AS id, {col} AS v FROM {} WHERE {col} IS NOT NULL; \
             ANALYZE {scratch};",
            target.table
        ))
        .await
        .map_err(Error::db(format!("copying {}.{col} to {scratch}", target.table)))?;
    let op = metric.operator();
    let query = client
        .prepare(&format!(
            "SELECT id FROM {scratch} ORDER BY v {op} $1 LIMIT {}",
            opts.k
        ))
        .await
        .map_err(Error::db("preparing the search"))?;
    let storage = target.storage;
    let run_all = async |qs: &[Vec<f32>]| -> Result<(Vec<HashSet<i64>>, Vec<f64>)> {
        let mut found = Vec::with_capacity(qs.len());
        let mut times = Vec::with_capacity(qs.len());
        for q in qs {
            let p = param(storage, q);
            let t = Instant::now();
            let rows = client
                .query(&query, &[p.as_ref()])
                .await
                .map_err(Error::db("running a search"))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            found.push(rows.iter().map(|r| r.get::<_, i64>(0)).collect());
        }
        Ok((found, times))
    };
    // Exact neighbours: no index exists yet on the scratch table.
    client
        .batch_execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
        .await
        .map_err(Error::db("setting up exact search"))?;
    let (exact_tuning, _) = run_all(tuning).await?;
    let (exact_held, _) = run_all(held_out).await?;
    client
        .batch_execute("RESET enable_indexscan; RESET enable_bitmapscan; SET enable_seqscan = off")
        .await
        .map_err(Error::db("setting up index search"))?;
    let recall = |found: &[HashSet<i64>], exact: &[HashSet<i64>]| -> f64 {
        let sum: f64 = found
            .iter()
            .zip(exact)
            .map(|(f, e)| {
                if e.is_empty() {
                    1.0
                } else {
                    f.intersection(e).count() as f64 / e.len() as f64
                }
            })
            .sum();
        sum / found.len().max(1) as f64
    };
    let margin = 0.02f64.min((1.0 - opts.recall) / 2.0);
    let goal = opts.recall + margin;
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
    let pb = crate::load::bar_for(opts.progress, builds.len() as u64, "tuning");
    let mut curve = Vec::new();
    for (i, build) in builds.iter().enumerate() {
        pb.set_message(format!("tuning: {} ({})", build.method(), build.with()));
        let memory = match build {
            Config::Hnsw { m, .. } => estimate::hnsw_build_memory(urows, vb, *m),
            Config::Ivfflat { lists, .. } => urows.min(u64::from(*lists) * 50) * (vb + 16),
        };
        let name = format!("{}_cand_{i}", scratch.trim_start_matches("_dbarch."));
        client
            .batch_execute(&format!(
                "SET maintenance_work_mem = '{}'; SET max_parallel_maintenance_workers = {workers}",
                estimate::maintenance_work_mem_for(memory)
            ))
            .await
            .map_err(Error::db("setting maintenance_work_mem"))?;
        let t = Instant::now();
        client
            .batch_execute(&format!(
                "CREATE INDEX {name} ON {scratch} USING {} (v {}_{}) WITH ({})",
                build.method(),
                storage.type_name(),
                metric.ops_suffix(),
                build.with()
            ))
            .await
            .map_err(Error::db(format!(
                "building the candidate {} ({})",
                build.method(),
                build.with()
            )))?;
        let build_seconds = t.elapsed().as_secs_f64();
        let bytes: i64 = client
            .query_one(&format!("SELECT pg_relation_size('_dbarch.{name}')"), &[])
            .await
            .map_err(Error::db("reading a candidate's size"))?
            .get(0);
        let sweep: Vec<u32> = match build {
            Config::Hnsw { .. } => [10u32, 16, 24, 40, 64, 100, 160, 256, 400, 640, 1000]
                .into_iter()
                .filter(|&e| e as usize >= opts.k)
                .collect(),
            Config::Ivfflat { lists, .. } => {
                let mut v: Vec<u32> = (0..).map(|p| 1u32 << p).take_while(|p| p < lists).collect();
                v.push(*lists);
                v
            }
        };
        // Warm the index up (its pages into shared buffers) before timing.
        let warm = tuning.len().min(20);
        for value in sweep {
            let config = match *build {
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
            };
            let (setting, v) = config.setting();
            client
                .batch_execute(&format!("SET {setting} = {v}"))
                .await
                .map_err(Error::db(format!("setting {setting}")))?;
            run_all(&tuning[..warm]).await?;
            let (found, mut times) = run_all(tuning).await?;
            let r = recall(&found, &exact_tuning);
            let total: f64 = times.iter().sum();
            times.sort_by(f64::total_cmp);
            let mut point = Point {
                config,
                recall: r,
                held_out_recall: None,
                p50_ms: percentile(&times, 0.50),
                p95_ms: percentile(&times, 0.95),
                qps: times.len() as f64 / (total / 1000.0).max(1e-9),
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
        pb.set_position(i as u64 + 1);
    }
    pb.finish_and_clear();
    let best = curve
        .iter()
        .filter(|p| p.recall >= goal.min(1.0) - 1e-12)
        .filter(|p| p.held_out_recall.is_some_and(|h| h >= opts.recall))
        .max_by(|a, b| a.qps.total_cmp(&b.qps))
        .cloned();
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
    let database: String = client
        .query_one("SELECT current_database()", &[])
        .await
        .map_err(Error::db("reading the database's name"))?
        .get(0);
    let (migration, settings) = match &best {
        Some(p) => {
            let index_name = format!("{table_name}_{}_{}_idx", target.column, p.config.method());
            let memory = match p.config {
                Config::Hnsw { m, .. } => estimate::hnsw_build_memory(urows, vb, m),
                Config::Ivfflat { lists, .. } => urows.min(u64::from(lists) * 50) * (vb + 16),
            };
            let mwm = estimate::maintenance_work_mem_for(memory);
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
            let up = format!(
                "-- dbarch:no-transaction\n-- Tuned by dbarch vector tune: recall@{} {:.3} (held out {:.3}) at {setting} = {value}, target {}.\nSET maintenance_work_mem = '{mwm}';\nSET max_parallel_maintenance_workers = {workers};\n{create}\nDO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET {setting} = {value}', current_database()); END $$;\n",
                opts.k,
                p.recall,
                p.held_out_recall.unwrap_or(0.0),
                opts.recall
            );
            let down = format!(
                "-- dbarch:no-transaction\nDO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET {setting}', current_database()); END $$;\nDROP INDEX CONCURRENTLY IF EXISTS {schema}.{};\n",
                ident(&index_name)
            );
            let existing = client
                .query(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                     JOIN pg_am am ON am.oid = c.relam \
                     WHERE i.indrelid = $1 AND am.amname IN ('hnsw', 'ivfflat') AND c.relname <> $2",
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
            (
                Some(Migration {
                    index_name,
                    up,
                    down,
                    create_index: create,
                }),
                vec![
                    format!(
                        "ALTER DATABASE {} SET {setting} = {value};",
                        ident(&database)
                    ),
                    format!(
                        "-- or per role: ALTER ROLE app SET {setting} = {value}; per transaction: SET LOCAL {setting} = {value};"
                    ),
                ],
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
        migration,
        settings,
        notes,
    })
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Builds the chosen index concurrently on the real table and sets the runtime setting for
/// the current database (new sessions get it).
pub async fn apply(client: &Client, tuning: &Tuning) -> Result<()> {
    let (Some(m), Some(c)) = (&tuning.migration, &tuning.chosen) else {
        return Ok(());
    };
    let memory =
        m.up.lines()
            .filter(|l| l.starts_with("SET "))
            .collect::<Vec<_>>()
            .join("\n");
    client
        .batch_execute(&memory)
        .await
        .map_err(Error::db("setting maintenance_work_mem"))?;
    client
        .batch_execute(&m.create_index)
        .await
        .map_err(Error::db(format!("building {}", m.index_name)))?;
    let (setting, value) = c.setting();
    let db: String = client
        .query_one("SELECT current_database()", &[])
        .await
        .map_err(Error::db("reading the database's name"))?
        .get(0);
    client
        .batch_execute(&format!(
            "ALTER DATABASE {} SET {setting} = {value}",
            ident(&db)
        ))
        .await
        .map_err(Error::db(format!("setting {setting} for database {db}")))?;
    Ok(())
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
        let (build, search) = match p.config {
            Config::Hnsw {
                m,
                ef_construction,
                ef_search,
            } => (
                format!("m={m} ef_construction={ef_construction}"),
                format!("ef_search={ef_search}"),
            ),
            Config::Ivfflat { lists, probes } => {
                (format!("lists={lists}"), format!("probes={probes}"))
            }
        };
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
    match (&t.chosen, &t.measured, &t.migration) {
        (Some(c), Some(m), Some(mig)) => {
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
            s.push_str("\n-- The index migration\n");
            s.push_str(&mig.up);
            s.push_str("\n-- Runtime setting\n");
            for l in &t.settings {
                s.push_str(l);
                s.push('\n');
            }
        }
        _ => s.push_str(&format!(
            "\nNo configuration reached recall {} on the tuning queries and held it on the held-out ones.\n",
            t.target
        )),
    }
    for n in &t.notes {
        s.push_str(&format!("Note: {n}\n"));
    }
    s
}
