//! pgvector storage: what `dbarch vector` does.
//!
//! - [`design`]: the storage design of an embedding store (type, operator class, documents and
//!   chunk tables, metadata and full-text indexes, the HNSW index) as two migrations, with a
//!   size and memory estimate ([`estimate`]). Pure functions.
//! - [`input`]: embedding files (`.npy`, `.fvecs`, `.jsonl`, `.csv`) read and checked (same
//!   dimensions, finite values) before anything is written.
//! - [`load`]: binary COPY of those rows into a table in one transaction, with its ANN indexes
//!   rebuilt after the load when asked.
//! - [`tune`]: index tuning to a recall target, measured on a scratch copy of the column.
//! - [`search`]: k-nearest search whose filters keep LIMIT full (iterative index scans).
//! - [`inventory`]: every vector column of a live database with its ANN indexes, their recall
//!   measured at the current settings, and advice (`dbarch review`'s Vector storage). Read-only.

pub mod copy;
pub mod design;
pub mod estimate;
pub mod input;
pub mod inventory;
pub mod load;
pub mod search;
pub mod tune;

use dbarch_pg::tokio_postgres;

/// What can go wrong. `is_input` tells the user's mistakes (exit 2) from the database's (3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Input(String),
    #[error("{context}: {source}")]
    Db {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl Error {
    pub fn is_input(&self) -> bool {
        matches!(self, Error::Input(_))
    }
    pub(crate) fn input(msg: impl Into<String>) -> Error {
        Error::Input(msg.into())
    }
    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Error {
        let context = context.into();
        move |source| Error::Db { context, source }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The distance a search ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    Cosine,
    L2,
    Ip,
}

impl Metric {
    /// pgvector's operator for the distance.
    pub fn operator(self) -> &'static str {
        match self {
            Metric::Cosine => "<=>",
            Metric::L2 => "<->",
            Metric::Ip => "<#>",
        }
    }
    /// The operator-class suffix (`vector_cosine_ops`, `halfvec_l2_ops`, ...).
    pub fn ops_suffix(self) -> &'static str {
        match self {
            Metric::Cosine => "cosine_ops",
            Metric::L2 => "l2_ops",
            Metric::Ip => "ip_ops",
        }
    }
    pub fn from_opclass(opclass: &str) -> Option<Metric> {
        if opclass.ends_with("cosine_ops") {
            Some(Metric::Cosine)
        } else if opclass.ends_with("l2_ops") {
            Some(Metric::L2)
        } else if opclass.ends_with("ip_ops") {
            Some(Metric::Ip)
        } else {
            None
        }
    }
}

/// Quotes an identifier when PostgreSQL needs it.
pub fn ident(name: &str) -> String {
    dbarch_model::quote_ident(name)
}

/// `schema.table` or `table` → (schema, table), unquoted.
pub fn split_table(name: &str) -> (Option<String>, String) {
    match name.split_once('.') {
        Some((s, t)) => (Some(unquote(s)), unquote(t)),
        None => (None, unquote(name)),
    }
}

fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => s.to_owned(),
    }
}

/// A qualified, quoted table name.
pub fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", ident(schema), ident(table))
}
