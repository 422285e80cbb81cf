//! Reads a PostgreSQL catalog into the [`dbarch_model::Database`] model.
//!
//! One round of set-based queries (the `.sql` files beside this crate's `src/`), sent pipelined
//! inside one `REPEATABLE READ READ ONLY` transaction, so the model is a consistent snapshot and
//! the cost does not grow with a query per table. The session only ever takes `AccessShareLock`.
//! Works on PostgreSQL 15 and later.

mod assemble;
mod filter;
mod rows;

pub use filter::Filter;

use dbarch_model::Database;
use tokio_postgres::Client;

/// Errors while reading the catalog. They name the query that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("catalog query {query} failed: {source}")]
    Query {
        query: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("catalog query {query} returned an unexpected value in column {column}: {reason}")]
    Decode {
        query: &'static str,
        column: String,
        reason: String,
    },
    #[error("PostgreSQL {version} is not supported: dbarch needs PostgreSQL 15 or later")]
    UnsupportedVersion { version: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What to read besides the schema itself.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Adds row estimates and sizes to each table (they are left out by default so that the
    /// model of two equal schemas is identical).
    pub stats: bool,
    pub filter: Filter,
}

/// The server that was inspected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerInfo {
    /// `server_version_num`, e.g. 180006.
    pub version_num: i32,
    /// `server_version`, e.g. `18.6`.
    pub version: String,
    pub database: String,
}

impl ServerInfo {
    pub fn major(&self) -> i32 {
        self.version_num / 10000
    }
}

/// The result of one introspection.
#[derive(Debug, Clone)]
pub struct Introspection {
    pub server: ServerInfo,
    pub database: Database,
}

pub(crate) struct Query {
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! query {
    ($name:literal) => {
        Query {
            name: $name,
            sql: include_str!(concat!("../sql/", $name, ".sql")),
        }
    };
}

pub(crate) const SERVER: Query = query!("server");
pub(crate) const EXTENSIONS: Query = query!("extensions");
pub(crate) const SCHEMAS: Query = query!("schemas");
pub(crate) const TABLES: Query = query!("tables");
pub(crate) const COLUMNS: Query = query!("columns");
pub(crate) const CONSTRAINTS: Query = query!("constraints");
pub(crate) const INDEXES: Query = query!("indexes");
pub(crate) const VIEWS: Query = query!("views");
pub(crate) const SEQUENCES: Query = query!("sequences");
pub(crate) const FUNCTIONS: Query = query!("functions");
pub(crate) const TYPES: Query = query!("types");
pub(crate) const TRIGGERS: Query = query!("triggers");
pub(crate) const POLICIES: Query = query!("policies");
pub(crate) const GRANTS: Query = query!("grants");

/// Reads the whole schema of the database `client` is connected to.
///
/// Runs in its own read-only transaction; the client must not be inside a transaction.
pub async fn introspect(client: &Client, options: &Options) -> Result<Introspection> {
    let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
                 SET LOCAL search_path = pg_catalog, pg_temp";
    client
        .batch_execute(begin)
        .await
        .map_err(|source| Error::Query {
            query: "begin",
            source,
        })?;
    let result = run_queries(client, options).await;
    // Read-only: COMMIT and ROLLBACK are equivalent; ROLLBACK also clears an aborted transaction.
    let _ = client.batch_execute("ROLLBACK").await;
    let mut intro = result?;
    options.filter.apply(&mut intro.database);
    intro.database.normalize();
    Ok(intro)
}

async fn run_queries(client: &Client, options: &Options) -> Result<Introspection> {
    let stats = options.stats;
    let run = |q: &'static Query, with_stats: bool| async move {
        let rows = if with_stats {
            client.query(q.sql, &[&stats]).await
        } else {
            client.query(q.sql, &[]).await
        };
        rows.map(|r| (q.name, r)).map_err(|source| Error::Query {
            query: q.name,
            source,
        })
    };
    // All statements are sent before the first answer is read (tokio-postgres pipelines
    // concurrent requests on one connection).
    let (
        server,
        extensions,
        schemas,
        tables,
        columns,
        constraints,
        indexes,
        views,
        sequences,
        functions,
        types,
        triggers,
        policies,
        grants,
    ) = tokio::try_join!(
        run(&SERVER, false),
        run(&EXTENSIONS, false),
        run(&SCHEMAS, false),
        run(&TABLES, true),
        run(&COLUMNS, false),
        run(&CONSTRAINTS, false),
        run(&INDEXES, false),
        run(&VIEWS, false),
        run(&SEQUENCES, false),
        run(&FUNCTIONS, false),
        run(&TYPES, false),
        run(&TRIGGERS, false),
        run(&POLICIES, false),
        run(&GRANTS, false),
    )?;
    let server = assemble::server(server)?;
    if server.version_num < 150000 {
        return Err(Error::UnsupportedVersion {
            version: server.version,
        });
    }
    let database = assemble::Rows {
        extensions,
        schemas,
        tables,
        columns,
        constraints,
        indexes,
        views,
        sequences,
        functions,
        types,
        triggers,
        policies,
        grants,
    }
    .into_model()?;
    Ok(Introspection { server, database })
}

/// The names and texts of the catalog queries, for documentation and tests.
pub fn queries() -> Vec<(&'static str, &'static str)> {
    [
        &SERVER,
        &EXTENSIONS,
        &SCHEMAS,
        &TABLES,
        &COLUMNS,
        &CONSTRAINTS,
        &INDEXES,
        &VIEWS,
        &SEQUENCES,
        &FUNCTIONS,
        &TYPES,
        &TRIGGERS,
        &POLICIES,
        &GRANTS,
    ]
    .iter()
    .map(|q| (q.name, q.sql))
    .collect()
}
