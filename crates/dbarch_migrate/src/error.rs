use std::path::PathBuf;

/// Everything that can go wrong with migrations. Each variant names the file or the version.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error("migration {version} has no down migration (expected {expected})")]
    MissingDown { version: String, expected: String },
    #[error("migration {version} ({file}) failed at statement {statement}: {message}")]
    Migration {
        version: String,
        file: PathBuf,
        statement: usize,
        message: String,
    },
    #[error(
        "migration {version} could not take its locks within lock_timeout after {tries} tries: {message}"
    )]
    LockTimeout {
        version: String,
        tries: u32,
        message: String,
    },
    #[error("{0}")]
    Refused(String),
    /// Stopped on request (Ctrl-C): `what` says what became of the migration in progress;
    /// `done` are the migrations this run applied before it (they stay applied).
    #[error("interrupted: {what}")]
    Interrupted {
        what: String,
        done: Vec<crate::runner::Done>,
    },
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Pg(#[from] dbarch_pg::Error),
    #[error(transparent)]
    Catalog(#[from] dbarch_catalog::Error),
}

impl Error {
    /// Bad files or arguments are the user's input (exit code 2); the rest are database errors.
    pub fn is_input(&self) -> bool {
        match self {
            Error::Input { .. } | Error::Usage(_) | Error::MissingDown { .. } => true,
            Error::Pg(e) => e.is_input(),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn input(path: impl Into<PathBuf>, reason: impl Into<String>) -> Error {
    Error::Input {
        path: path.into(),
        reason: reason.into(),
    }
}

/// The server's message for a failed statement, else the client's.
pub(crate) fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}
