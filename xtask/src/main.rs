//! Project tasks. `cargo run --release -p xtask -- bench [inspect|backfill|migrate|diff|expand]
//! [--tables 1000,10000] [--runs N] [--json FILE]`: see BENCHMARKS.md.

mod bench;
mod bench_backfill;
mod bench_diff;
mod bench_embed;
mod bench_expand;
mod bench_lint;
mod bench_migrate;
mod bench_tpch;
mod bench_vector;
mod schema_gen;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "xtask", about = "dbarch project tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Benchmarks against a throwaway PostgreSQL server; JSON results on stdout.
    Bench(BenchArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Benchmark {
    /// `dbarch inspect --format json` against `pg_dump --schema-only` on generated schemas.
    Inspect,
    /// `dbarch migrate backfill` of --rows rows: rows/s, alone and under a concurrent
    /// single-row UPDATE load, and that load's latency with and without the backfill.
    Backfill,
    /// `dbarch migrate up` of --migrations small migrations against one `psql -X -1 -f` per
    /// file.
    Migrate,
    /// `dbarch_diff::diff` + `plan` of two in-memory models of --tables tables (default
    /// 10,000), the second with a few hundred changes.
    Diff,
    /// The expand/contract sync trigger's write overhead (`migrate plan --online`):
    /// single-row UPDATE and INSERT throughput of --clients sessions, --secs per run, --runs
    /// repetitions, on a table of --rows rows (default 100,000 here) without and with it.
    Expand,
    /// `dbarch lint` of --migrations generated migration files (default 1,000 here) against
    /// squawk on the same files (`pip install squawk-cli`).
    Lint,
    /// `dbarch advise` on TPC-H (data from `tpchgen-cli`, `pip install tpchgen-cli`; --sf
    /// scale factor, default 0.1) under --budgets, against one index per foreign-key column and
    /// per-query advice: estimated cost, share of the attainable reduction, each query's P50
    /// (--runs runs, --timeout seconds each), what-if evaluations and the advisor's wall time.
    Tpch,
    /// `dbarch vector load` of --rows vectors of 384 dimensions (default 1,000,000) from an
    /// .fvecs file against psql's `\copy ... (FORMAT binary)` of the same rows and against
    /// row-by-row INSERTs; --runs runs each (default 2 here).
    VectorLoad,
    /// `dbarch vector tune` of --rows clustered vectors of 384 dimensions (default 100,000
    /// here) to recall 0.95 at k = 10: time to the target, the tuned configuration's recall and
    /// QPS on 500 held-out queries against pgvector's HNSW defaults, also at equal recall.
    VectorTune,
    /// The local embedder (all-MiniLM-L6-v2 on candle) against a numpy forward pass of the
    /// same model on --chunks chunks of 100-250 tokens: chunks/s of each, their ratio and the
    /// largest difference between the vectors; --runs runs each (default 3 here).
    Embed,
}

#[derive(clap::Args)]
struct BenchArgs {
    #[arg(value_enum, default_value_t = Benchmark::Inspect)]
    benchmark: Benchmark,
    /// Schema sizes to measure, in tables (diff: the first one, default 10,000).
    #[arg(long, value_delimiter = ',', default_values_t = [1000, 10000])]
    tables: Vec<usize>,
    /// migrate: how many migrations to generate.
    #[arg(long, default_value_t = 200)]
    migrations: usize,
    /// Timed runs of each tool per size (after one warm-up run each).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Also write the JSON results to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Keep the server (and its bench_<N> databases) running until stdin is closed or a line
    /// is entered, for looking into the figures (EXPLAIN ANALYZE of the catalog queries).
    #[arg(long)]
    keep: bool,
    /// lint: the squawk binary (default: `squawk` on PATH).
    #[arg(long, value_name = "PATH")]
    squawk: Option<PathBuf>,
    /// tpch: the scale factor.
    #[arg(long, default_value_t = 0.1)]
    sf: f64,
    /// tpch: the advisor's budgets, as multiples of the data size (tables without indexes).
    #[arg(long, value_delimiter = ',', default_values_t = [0.5, 1.0, 2.0])]
    budgets: Vec<f64>,
    /// tpch: statement_timeout (seconds) of each measured query run.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// tpch: the tpchgen-cli binary (default: on PATH).
    #[arg(long, value_name = "PATH")]
    tpchgen: Option<PathBuf>,
    /// vector-tune: real embeddings instead of synthetic ones: this directory's documents,
    /// chunked and embedded by the local model (once; cached in dbarch's cache).
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// backfill: rows of the table.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// backfill: --batch of the backfill.
    #[arg(long, default_value_t = 5000)]
    batch: u32,
    /// backfill: --sleep of the backfill.
    #[arg(long, default_value = "50ms")]
    sleep: String,
    /// backfill: sessions of the concurrent UPDATE load.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// backfill: seconds of the load alone (the baseline latency).
    #[arg(long, default_value_t = 10.0)]
    load_secs: f64,
    /// expand: seconds of each measured run.
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// backfill: seconds the backfill runs under the load before it is interrupted (then
    /// resumed without the load).
    #[arg(long, default_value_t = 30.0)]
    window_secs: f64,
    /// embed: how many chunks to embed.
    #[arg(long, default_value_t = 500)]
    chunks: usize,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Bench(args) => match args.benchmark {
            Benchmark::Inspect => {
                let doc = bench::inspect(&args.tables, args.runs, args.keep)?;
                let text = serde_json::to_string_pretty(&doc)? + "\n";
                if let Some(path) = &args.json {
                    std::fs::write(path, &text)?;
                }
                print!("{text}");
                Ok(())
            }
            Benchmark::Migrate => {
                let doc = bench_migrate::migrate(args.migrations, args.runs)?;
                output(&doc, args.json.as_deref())
            }
            Benchmark::Tpch => {
                let doc = bench_tpch::tpch(&bench_tpch::Params {
                    sf: args.sf,
                    runs: args.runs,
                    tpchgen: args.tpchgen,
                    statement_timeout_secs: 120,
                    measure_timeout_secs: args.timeout,
                    budgets: args.budgets.clone(),
                })?;
                output(&doc, args.json.as_deref())
            }
            Benchmark::Lint => {
                let count = if args.migrations == 200 {
                    1000
                } else {
                    args.migrations
                };
                let doc = bench_lint::lint(count, args.runs, args.squawk.as_deref())?;
                output(&doc, args.json.as_deref())
            }
            Benchmark::Diff => {
                let tables = if args.tables == [1000, 10000] {
                    10_000
                } else {
                    args.tables[0]
                };
                let doc = bench_diff::diff_bench(tables, args.runs)?;
                output(&doc, args.json.as_deref())
            }
            Benchmark::Expand => {
                let doc = bench_expand::expand(&bench_expand::Params {
                    rows: if args.rows == 1_000_000 {
                        100_000
                    } else {
                        args.rows
                    },
                    clients: args.clients,
                    secs: args.secs,
                    runs: args.runs,
                })?;
                output(&doc, args.json.as_deref())
            }
            Benchmark::VectorTune => {
                let doc = bench_vector::vector_tune(&bench_vector::TuneParams {
                    rows: if args.rows == 1_000_000 {
                        100_000
                    } else {
                        args.rows
                    },
                    dims: 384,
                    recall: 0.95,
                    k: 10,
                    held_out: 500,
                    corpus: args.corpus.clone(),
                })?;
                output(&doc, args.json.as_deref())
            }
            Benchmark::VectorLoad => {
                let doc = bench_vector::vector_load(&bench_vector::Params {
                    rows: args.rows,
                    dims: 384,
                    runs: if args.runs == 5 { 2 } else { args.runs },
                    insert_rows: 20_000,
                })?;
                output(&doc, args.json.as_deref())
            }
            Benchmark::Embed => {
                let doc = bench_embed::embed(&bench_embed::Params {
                    chunks: args.chunks,
                    runs: if args.runs == 5 { 3 } else { args.runs },
                })?;
                output(&doc, args.json.as_deref())
            }
            Benchmark::Backfill => {
                let doc = bench_backfill::backfill(&bench_backfill::Params {
                    rows: args.rows,
                    batch: args.batch,
                    sleep: args.sleep,
                    clients: args.clients,
                    load_secs: args.load_secs,
                    window_secs: args.window_secs,
                })?;
                let text = serde_json::to_string_pretty(&doc)? + "\n";
                if let Some(path) = &args.json {
                    std::fs::write(path, &text)?;
                }
                print!("{text}");
                Ok(())
            }
        },
    }
}

fn output(doc: &serde_json::Value, json: Option<&std::path::Path>) -> Result<()> {
    let text = serde_json::to_string_pretty(doc)? + "\n";
    if let Some(path) = json {
        std::fs::write(path, &text)?;
    }
    print!("{text}");
    Ok(())
}
