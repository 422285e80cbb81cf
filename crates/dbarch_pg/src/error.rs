use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the server manager and of connections. Messages name the object concerned and
/// never contain a password. [`Error::is_input`] tells usage/input errors (exit code 2) from
/// database errors (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid connection string {redacted}: {reason}")]
    InvalidConnString { redacted: String, reason: String },

    /// A bad value or file among the connection settings that do not come from one string:
    /// a `PG*` variable, a service file, a missing service definition.
    #[error("{origin}: {reason}")]
    ConnSettings { origin: String, reason: String },

    #[error("{0}")]
    NoBinaries(String),

    #[error("PostgreSQL installation at {dir}: {reason}")]
    BadInstall { dir: PathBuf, reason: String },

    #[error("could not provision PostgreSQL: {0}")]
    Provision(String),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("PostgreSQL server in {data_dir}: {reason}")]
    Server { data_dir: PathBuf, reason: String },

    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },

    #[error("TLS: {0}")]
    Tls(String),

    #[error("{context}: {source}")]
    Db {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl Error {
    /// True for errors caused by the user's input or environment (exit code 2); false for
    /// errors reported by or about a database server (exit code 3).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidConnString { .. }
                | Error::ConnSettings { .. }
                | Error::NoBinaries(_)
                | Error::BadInstall { .. }
                | Error::Provision(_)
                | Error::Io { .. }
        )
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn db(context: impl Into<String>, source: tokio_postgres::Error) -> Self {
        Error::Db {
            context: context.into(),
            source,
        }
    }
}
