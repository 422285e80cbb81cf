//! The `tpch` benchmark: `dbarch advise` (the release binary, as a process) on TPC-H. The data
//! comes from `tpchgen-cli` (PyPI: `pip install tpchgen-cli`) at scale factor --sf (default
//! 0.1), loaded into a throwaway PostgreSQL 18 with the primary keys only; the workload is the
//! 22 queries (`tpch/queries.sql`). No HypoPG there, so the advisor builds its candidates on a
//! shadow server holding a full copy (--sample-rows above the largest table) and reports each
//! query's measured P50/P95 before and after.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, PgInstall, SessionOptions};
use serde_json::{Value, json};

use crate::bench::{build_dbarch, machine, round};

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
    pub statement_timeout_secs: u64,
}

fn session() -> SessionOptions {
    SessionOptions {
        statement_timeout: Some(Duration::ZERO),
        ..SessionOptions::writer()
    }
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
    let queries = data.path().join("queries.sql");
    std::fs::write(&queries, QUERIES)?;
    eprintln!("dbarch advise (runs {})", p.runs);
    let started = Instant::now();
    let out = Command::new(&dbarch)
        .args([
            "advise",
            "--url",
            &url,
            "--workload",
            queries.to_str().context("temp path is not UTF-8")?,
            "--format",
            "json",
            "--runs",
            &p.runs.to_string(),
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
    drop(server);
    let queries: Vec<Value> = advice["queries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|q| {
            json!({
                "query": q["name"],
                "cost_before": q["cost_before"],
                "cost_after": q["cost_after"],
                "p50_before_ms": q["before"]["p50_ms"],
                "p50_after_ms": q["after"]["p50_ms"],
                "p95_before_ms": q["before"]["p95_ms"],
                "p95_after_ms": q["after"]["p95_ms"],
                "notes": q["notes"],
            })
        })
        .collect();
    let sum = |key: &str| -> f64 {
        queries
            .iter()
            .filter(|q| q["p50_before_ms"].is_number() && q["p50_after_ms"].is_number())
            .filter_map(|q| q[key].as_f64())
            .sum()
    };
    Ok(json!({
        "benchmark": "tpch",
        "scale_factor": p.sf,
        "rows": rows.iter().map(|(t, n)| json!({"table": t, "rows": n})).collect::<Vec<_>>(),
        "postgres": install.version.to_string(),
        "machine": machine(),
        "runs": p.runs,
        "advise_wall_s": round(wall),
        "method": advice["method"],
        "candidates_considered": advice["candidates_considered"],
        "cost_evaluations": advice["cost_evaluations"],
        "cost_cache_hits": advice["cost_cache_hits"],
        "recommendations": advice["recommendations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| json!({
                "statement": r["statement"],
                "size_bytes": r["size_bytes"],
                "serves": r["queries"].as_array().map(|v| v.iter().map(|s| s["query"].clone()).collect::<Vec<_>>()),
            }))
            .collect::<Vec<_>>(),
        "queries": queries,
        "sum_p50_before_ms": round(sum("p50_before_ms")),
        "sum_p50_after_ms": round(sum("p50_after_ms")),
        "notes": advice["notes"],
    }))
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
