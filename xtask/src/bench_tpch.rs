//! The `tpch` benchmark: `dbarch advise` (the release binary, as a process) on TPC-H. The data
//! comes from `tpchgen-cli` (PyPI: `pip install tpchgen-cli`) at scale factor --sf (default
//! 0.1), loaded into a throwaway PostgreSQL 18 with the primary keys only; the workload is the
//! 22 queries (`tpch/queries.sql`). No HypoPG there, so the advisor builds its candidates on a
//! shadow server holding a full copy (--sample-rows above the largest table), costs only
//! (`--runs 0`), once per budget (--budgets, multiples of the data size). The bench itself
//! measures each configuration on the loaded database: the advisor's indexes per budget, one
//! index per foreign-key column, and the union of each query's best single index; the
//! "before" (primary keys only) is measured once and shared. Each query: EXPLAIN's cost, one
//! warm-up and --runs runs under a statement_timeout of --timeout seconds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dbarch_pg::tokio_postgres::error::SqlState;
use dbarch_pg::tokio_postgres::{Client, SimpleQueryMessage};
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, PgInstall, SessionOptions};
use serde_json::{Value, json};

use crate::bench::{build_dbarch, machine, median, round};

const QUERIES: &str = include_str!("tpch/queries.sql");

const SCHEMA: &str = "
CREATE TABLE region (r_regionkey int PRIMARY KEY, r_name char(25) NOT NULL, r_comment varchar(152));
CREATE TABLE nation (n_nationkey int PRIMARY KEY, n_name char(25) NOT NULL, n_regionkey int NOT NULL,
  n_comment varchar(152));
CREATE TABLE part (p_partkey int PRIMARY KEY, p_name varchar(55) NOT NULL, p_mfgr char(25) NOT NULL,
  p_brand char(10) NOT NULL, p_type varchar(25) NOT NULL, p_size int NOT NULL,
  p_container char(10) NOT NULL, p_retailprice numeric(15,2) NOT NULL, p_comment varchar(23) NOT NULL);
CREATE TABLE supplier (s_suppkey int PRIMARY KEY, s_name char(25) NOT NULL, s_address varchar(40) NOT NULL,
  s_nationkey int NOT NULL, s_phone char(15) NOT NULL, s_acctbal numeric(15,2) NOT NULL,
  s_comment varchar(101) NOT NULL);
CREATE TABLE partsupp (ps_partkey int NOT NULL, ps_suppkey int NOT NULL, ps_availqty int NOT NULL,
  ps_supplycost numeric(15,2) NOT NULL, ps_comment varchar(199) NOT NULL,
  PRIMARY KEY (ps_partkey, ps_suppkey));
CREATE TABLE customer (c_custkey int PRIMARY KEY, c_name varchar(25) NOT NULL, c_address varchar(40) NOT NULL,
  c_nationkey int NOT NULL, c_phone char(15) NOT NULL, c_acctbal numeric(15,2) NOT NULL,
  c_mktsegment char(10) NOT NULL, c_comment varchar(117) NOT NULL);
CREATE TABLE orders (o_orderkey int PRIMARY KEY, o_custkey int NOT NULL, o_orderstatus char(1) NOT NULL,
  o_totalprice numeric(15,2) NOT NULL, o_orderdate date NOT NULL, o_orderpriority char(15) NOT NULL,
  o_clerk char(15) NOT NULL, o_shippriority int NOT NULL, o_comment varchar(79) NOT NULL);
CREATE TABLE lineitem (l_orderkey int NOT NULL, l_partkey int NOT NULL, l_suppkey int NOT NULL,
  l_linenumber int NOT NULL, l_quantity numeric(15,2) NOT NULL, l_extendedprice numeric(15,2) NOT NULL,
  l_discount numeric(15,2) NOT NULL, l_tax numeric(15,2) NOT NULL, l_returnflag char(1) NOT NULL,
  l_linestatus char(1) NOT NULL, l_shipdate date NOT NULL, l_commitdate date NOT NULL,
  l_receiptdate date NOT NULL, l_shipinstruct char(25) NOT NULL, l_shipmode char(10) NOT NULL,
  l_comment varchar(44) NOT NULL, PRIMARY KEY (l_orderkey, l_linenumber));
";

const TABLES: &[&str] = &[
    "region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem",
];

pub struct Params {
    pub sf: f64,
    pub runs: u32,
    /// The tpchgen-cli binary (default: on PATH).
    pub tpchgen: Option<PathBuf>,
    /// statement_timeout of the advisor's sessions (seconds).
    pub statement_timeout_secs: u64,
    /// statement_timeout of the bench's own measurements (seconds): a query that exceeds it
    /// counts as timed out, with this value in the sums.
    pub measure_timeout_secs: u64,
    /// Budgets, as multiples of the data size (tables without indexes).
    pub budgets: Vec<f64>,
}

/// Foreign-key columns of the TPC-H schema (the specification's relationships, clause 1.4.1):
/// the "one index per foreign-key column" baseline.
const FK_INDEXES: &[(&str, &str)] = &[
    ("lineitem", "l_orderkey"),
    ("lineitem", "l_partkey"),
    ("lineitem", "l_suppkey"),
    ("lineitem", "l_partkey, l_suppkey"),
    ("orders", "o_custkey"),
    ("partsupp", "ps_partkey"),
    ("partsupp", "ps_suppkey"),
    ("customer", "c_nationkey"),
    ("supplier", "s_nationkey"),
    ("nation", "n_regionkey"),
];

fn session() -> SessionOptions {
    SessionOptions {
        statement_timeout: Some(Duration::ZERO),
        ..SessionOptions::writer()
    }
}

/// One query's figures under one index configuration.
#[derive(Clone)]
struct QueryRun {
    cost: f64,
    /// None: timed out (warm-up or a run).
    p50_ms: Option<f64>,
}

/// The 22 queries of `tpch/queries.sql`: (name, statement without the `;`).
fn queries() -> Vec<(String, String)> {
    QUERIES
        .split("-- name: ")
        .skip(1)
        .map(|chunk| {
            let (name, sql) = chunk.split_once('\n').unwrap_or((chunk, ""));
            (
                name.trim().to_owned(),
                sql.trim().trim_end_matches(';').to_owned(),
            )
        })
        .collect()
}

pub fn tpch(p: &Params) -> Result<Value> {
    let dbarch = build_dbarch()?;
    let data = tempfile::Builder::new().prefix("dbarch-tpch-").tempdir()?;
    generate(p, data.path())?;
    let install = PgInstall::discover(&DiscoverOptions {
        provision: true,
        major: Some(18),
        require_pgvector: false,
        ..Default::default()
    })?;
    eprintln!(
        "PostgreSQL {} from {}",
        install.version,
        install.bin_dir.display()
    );
    let server = EphemeralServer::start(&install)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let url = server.url("tpch");
    let rows = rt.block_on(load(&server, &url, data.path()))?;
    let largest = rows.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let workload = data.path().join("queries.sql");
    std::fs::write(&workload, QUERIES)?;
    let qs = queries();
    let measure = SessionOptions {
        statement_timeout: Some(Duration::from_secs(p.measure_timeout_secs)),
        ..SessionOptions::writer()
    };
    let c = rt.block_on(dbarch_pg::connect(&ConnConfig::parse(&url)?, &measure))?;
    let data_bytes: i64 = rt
        .block_on(c.query_one(
            "SELECT sum(pg_table_size(c.oid))::bigint FROM pg_class c
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'",
            &[],
        ))?
        .get(0);
    eprintln!("data size {data_bytes} bytes; measuring before (primary keys only)");
    let before = rt.block_on(run_all(&c, &qs, p))?;

    // The advisor under each budget (costs only: the bench measures every configuration).
    let mut configs: Vec<(String, Vec<String>, Value)> = Vec::new();
    let mut per_query: Vec<String> = Vec::new();
    let mut all_cost: Option<f64> = None;
    for &m in &p.budgets {
        let budget = (data_bytes as f64 * m) as u64;
        eprintln!("dbarch advise --budget {budget} ({m}x the data size)");
        let started = Instant::now();
        let out = Command::new(&dbarch)
            .args([
                "advise",
                "--url",
                &url,
                "--workload",
                workload.to_str().context("temp path is not UTF-8")?,
                "--format",
                "json",
                "--runs",
                "0",
                "--budget",
                &budget.to_string(),
                "--sample-rows",
                &(largest + 1).to_string(),
                "--statement-timeout",
                &p.statement_timeout_secs.to_string(),
            ])
            .output()
            .context("running dbarch advise")?;
        let wall = started.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!(
                "dbarch advise failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let advice: Value = serde_json::from_slice(&out.stdout).context("advise's JSON")?;
        let statements: Vec<String> = advice["recommendations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["statement"].as_str().map(str::to_owned))
            .collect();
        if per_query.is_empty() {
            for b in advice["per_query_best"].as_array().into_iter().flatten() {
                if let Some(s) = b["statement"].as_str()
                    && !per_query.iter().any(|x| x == s)
                {
                    per_query.push(s.to_owned());
                }
            }
        }
        all_cost = all_cost.or(advice["workload_cost"]["all_candidates"].as_f64());
        configs.push((
            format!("advisor, budget {m}x ({budget} B)"),
            statements,
            json!({
                "budget_multiple": m,
                "budget_bytes": budget,
                "advise_wall_s": round(wall),
                "candidates_considered": advice["candidates_considered"],
                "cost_evaluations": advice["cost_evaluations"],
                "cost_cache_hits": advice["cost_cache_hits"],
                "advisor_workload_cost": advice["workload_cost"],
                "advisor_used_bytes": advice["used_bytes"],
                "notes": advice["notes"],
            }),
        ));
    }
    configs.push((
        "one index per foreign-key column".into(),
        FK_INDEXES
            .iter()
            .map(|(t, cols)| format!("CREATE INDEX ON {t} ({cols});"))
            .collect(),
        json!({}),
    ));
    configs.push((
        "per-query best single index (dexter-style), union".into(),
        per_query,
        json!({"note": "for each query alone, the candidate that cuts its planner cost most \
                        (same candidates and what-if costs as the advisor, from its first run)"}),
    ));

    let sum_cost = |r: &[QueryRun]| r.iter().map(|q| q.cost).sum::<f64>();
    let timeout_ms = p.measure_timeout_secs as f64 * 1000.0;
    let sum_ms = |r: &[QueryRun]| {
        r.iter()
            .map(|q| q.p50_ms.unwrap_or(timeout_ms))
            .sum::<f64>()
    };
    let cost_before = sum_cost(&before);
    let mut results = Vec::new();
    let mut measured: Vec<(Vec<String>, Vec<QueryRun>, i64)> = Vec::new();
    for (label, statements, extra) in configs {
        let mut key = statements.clone();
        key.sort();
        let (after, bytes) = match measured.iter().find(|(k, _, _)| *k == key) {
            Some((_, r, b)) => (r.clone(), *b),
            None => {
                eprintln!("[{label}] building {} indexes", statements.len());
                let (r, b) = rt.block_on(with_indexes(&c, &qs, p, &statements))?;
                measured.push((key, r.clone(), b));
                (r, b)
            }
        };
        let cost_after = sum_cost(&after);
        let share = all_cost
            .map(|all| (cost_before - cost_after) / (cost_before - all))
            .filter(|x| x.is_finite());
        eprintln!(
            "[{label}] {bytes} B, cost {cost_before:.0} -> {cost_after:.0} (share {share:?}), \
             time {:.0} -> {:.0} ms",
            sum_ms(&before),
            sum_ms(&after)
        );
        results.push(json!({
            "configuration": label,
            "indexes": statements,
            "index_bytes": bytes,
            "workload_cost_before": round(cost_before),
            "workload_cost_after": round(cost_after),
            "share_of_attainable": share.map(round),
            "sum_p50_before_ms": round(sum_ms(&before)),
            "sum_p50_after_ms": round(sum_ms(&after)),
            "queries": qs.iter().zip(before.iter().zip(&after)).map(|((n, _), (b, a))| json!({
                "query": n,
                "cost_before": round(b.cost),
                "cost_after": round(a.cost),
                "p50_before_ms": b.p50_ms.map(round),
                "p50_after_ms": a.p50_ms.map(round),
            })).collect::<Vec<_>>(),
            "advisor": extra,
        }));
    }
    drop(c);
    drop(server);
    Ok(json!({
        "benchmark": "tpch",
        "scale_factor": p.sf,
        "rows": rows.iter().map(|(t, n)| json!({"table": t, "rows": n})).collect::<Vec<_>>(),
        "data_bytes": data_bytes,
        "postgres": install.version.to_string(),
        "machine": machine(),
        "load_average": std::fs::read_to_string("/proc/loadavg").ok().map(|s| s.trim().to_owned()),
        "runs": p.runs,
        "measure_timeout_s": p.measure_timeout_secs,
        "timed_out_counts_as_ms": timeout_ms,
        "workload_cost_all_candidates": all_cost,
        "results": results,
    }))
}

/// Each query: its planner cost (EXPLAIN), then one warm-up run and `runs` timed runs under
/// the measurement statement_timeout (a query that times out is not run again).
async fn run_all(c: &Client, qs: &[(String, String)], p: &Params) -> Result<Vec<QueryRun>> {
    let mut out = Vec::new();
    for (name, sql) in qs {
        let text = match c
            .simple_query(&format!("EXPLAIN (FORMAT JSON) {sql}"))
            .await?
            .into_iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                _ => None,
            }) {
            Some(t) => t,
            None => bail!("no EXPLAIN output for {name}"),
        };
        let plan: Value = serde_json::from_str(&text)?;
        let cost = plan[0]["Plan"]["Total Cost"].as_f64().unwrap_or(0.0);
        let mut times = Vec::new();
        let mut timed_out = false;
        for run in 0..=p.runs {
            let started = Instant::now();
            match c.batch_execute(sql).await {
                Ok(()) => {
                    if run > 0 {
                        times.push(started.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                Err(e) if e.code() == Some(&SqlState::QUERY_CANCELED) => {
                    timed_out = true;
                    break;
                }
                Err(e) => return Err(e).with_context(|| format!("running {name}")),
            }
        }
        let p50_ms = (!timed_out).then(|| median(&times));
        eprintln!(
            "  {name}: cost {cost:.0}, P50 {}",
            p50_ms.map_or_else(
                || format!("> {} s (timed out)", p.measure_timeout_secs),
                |x| format!("{x:.1} ms")
            )
        );
        out.push(QueryRun { cost, p50_ms });
    }
    Ok(out)
}

/// Builds `statements` (without CONCURRENTLY), measures, drops
/// every index but the primary keys; returns the figures and the indexes' total size.
async fn with_indexes(
    c: &Client,
    qs: &[(String, String)],
    p: &Params,
    statements: &[String],
) -> Result<(Vec<QueryRun>, i64)> {
    c.batch_execute("SET statement_timeout = 0").await?;
    for s in statements {
        let s = s.replacen("CONCURRENTLY ", "", 1);
        c.batch_execute(&s)
            .await
            .with_context(|| format!("building {s}"))?;
    }
    c.batch_execute(&format!(
        "SET statement_timeout = '{}s'",
        p.measure_timeout_secs
    ))
    .await?;
    let bytes: i64 = c
        .query_one(
            "SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0)::bigint FROM pg_index i
             JOIN pg_class t ON t.oid = i.indrelid
             WHERE t.relnamespace = 'public'::regnamespace AND NOT i.indisprimary",
            &[],
        )
        .await?
        .get(0);
    let r = run_all(c, qs, p).await?;
    let names: Vec<String> = c
        .query(
            "SELECT i.indexrelid::regclass::text FROM pg_index i
             JOIN pg_class t ON t.oid = i.indrelid
             WHERE t.relnamespace = 'public'::regnamespace AND NOT i.indisprimary",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !names.is_empty() {
        c.batch_execute(&format!("DROP INDEX {}", names.join(", ")))
            .await?;
    }
    Ok((r, bytes))
}

fn generate(p: &Params, dir: &Path) -> Result<()> {
    let bin = p
        .tpchgen
        .clone()
        .unwrap_or_else(|| PathBuf::from("tpchgen-cli"));
    eprintln!("tpchgen-cli csv -s {} into {}", p.sf, dir.display());
    let status = Command::new(&bin)
        .args(["csv", "-s", &p.sf.to_string(), "--output-dir"])
        .arg(dir)
        .status()
        .with_context(|| {
            format!(
                "running {} (install it with `pip install tpchgen-cli`, or pass --tpchgen PATH)",
                bin.display()
            )
        })?;
    if !status.success() {
        bail!("tpchgen-cli failed: {status}");
    }
    Ok(())
}

async fn load(server: &EphemeralServer, url: &str, dir: &Path) -> Result<Vec<(String, u64)>> {
    let admin =
        dbarch_pg::connect(&ConnConfig::parse(&server.url("postgres"))?, &session()).await?;
    admin.batch_execute("CREATE DATABASE tpch").await?;
    let c = dbarch_pg::connect(&ConnConfig::parse(url)?, &session()).await?;
    c.batch_execute(SCHEMA).await?;
    let started = Instant::now();
    let mut rows = Vec::new();
    for t in TABLES {
        let path = dir.join(format!("{t}.csv"));
        let data = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let sink = c
            .copy_in(&format!("COPY {t} FROM STDIN (FORMAT csv, HEADER true)"))
            .await?;
        use futures_util::SinkExt;
        let mut sink = Box::pin(sink);
        sink.send(bytes::Bytes::from(data)).await?;
        let n = sink.as_mut().finish().await?;
        rows.push(((*t).to_owned(), n));
    }
    c.batch_execute("VACUUM ANALYZE").await?;
    eprintln!(
        "loaded {} rows in {:.1} s",
        rows.iter().map(|(_, n)| n).sum::<u64>(),
        started.elapsed().as_secs_f64()
    );
    Ok(rows)
}
