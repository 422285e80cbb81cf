//! Project tasks. `cargo run --release -p xtask -- bench [inspect] [--tables 1000,10000]
//! [--runs N] [--json FILE]`: see BENCHMARKS.md.

mod bench;
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
}

#[derive(clap::Args)]
struct BenchArgs {
    #[arg(value_enum, default_value_t = Benchmark::Inspect)]
    benchmark: Benchmark,
    /// Schema sizes to measure, in tables.
    #[arg(long, value_delimiter = ',', default_values_t = [1000, 10000])]
    tables: Vec<usize>,
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
        },
    }
}
