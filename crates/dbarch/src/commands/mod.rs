//! One module per command.

mod advise;
mod dev;
mod diff;
mod doctor;
pub(crate) mod embedder;
mod example;
mod explain;
mod inspect;
mod lint;
mod migrate;
pub(crate) mod rag;
mod review;
mod trace;
pub(crate) mod vector;

use crate::cli::{Cli, Command};
use anyhow::Result;

/// Runs the command and returns its exit code (errors are mapped by the caller).
pub async fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Dev(cmd) => dev::run(&cli.global, cmd).await,
        Command::Inspect(args) => inspect::run(&cli.global, args).await,
        Command::Review(args) => review::run(&cli.global, args).await,
        Command::Diff(args) => diff::run(&cli.global, args).await,
        Command::Lint(args) => lint::run(&cli.global, args).await,
        Command::Rules { rule } => lint::rules(rule.as_deref()),
        Command::Example(cmd) => example::run(&cli.global, cmd).await,
        Command::Explain(args) => explain::run(&cli.global, args).await,
        Command::Migrate(cmd) => migrate::run(&cli.global, cmd).await,
        Command::Doctor(args) => doctor::run(&cli.global, args).await,
        Command::Advise(args) => advise::run(&cli.global, args).await,
        Command::Vector(cmd) => vector::run(&cli.global, cmd).await,
        Command::Rag(cmd) => rag::run(&cli.global, cmd).await,
    }
}
