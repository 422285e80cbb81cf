//! Exit codes (the guide's contract) and how errors map to them.

use std::io;
use std::process::ExitCode;

/// Findings at or above `--fail-on`, a difference, drift; also "stopped" for `dev status`.
pub const FINDINGS: u8 = 1;
/// Usage or input error: bad flag, missing file, malformed URL, no PostgreSQL binaries.
pub const INPUT: u8 = 2;
/// Database error: cannot connect or authenticate, server-side SQL error.
pub const DATABASE: u8 = 3;

/// An error in what the user asked for (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// Prints the error as one line on stderr (with its causes) and picks the exit code.
/// A broken pipe (`dbarch inspect | head`) is not an error.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {}", message(err));
    ExitCode::from(code(err))
}

/// The error and its causes on one line. A cause whose text its parent already quotes (as
/// `thiserror` messages with `{source}` do) is not repeated.
pub fn message(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

pub fn code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return INPUT;
        }
        if let Some(e) = cause.downcast_ref::<dbarch_pg::Error>() {
            return if e.is_input() { INPUT } else { DATABASE };
        }
        if let Some(e) = cause.downcast_ref::<dbarch_shadow::Error>() {
            return if e.is_input() { INPUT } else { DATABASE };
        }
        if let Some(e) = cause.downcast_ref::<dbarch_migrate::Error>() {
            return if e.is_input() { INPUT } else { DATABASE };
        }
        if cause.downcast_ref::<dbarch_diff::DiffError>().is_some() {
            return INPUT;
        }
        if cause.downcast_ref::<dbarch_catalog::Error>().is_some() {
            return DATABASE;
        }
        if let Some(e) = cause.downcast_ref::<dbarch_example::Error>() {
            return match e {
                dbarch_example::Error::AlreadyLoaded(_) => INPUT,
                _ => DATABASE,
            };
        }
        if cause
            .downcast_ref::<dbarch_pg::tokio_postgres::Error>()
            .is_some()
        {
            return DATABASE;
        }
        if cause.downcast_ref::<io::Error>().is_some() {
            return INPUT;
        }
    }
    INPUT
}
