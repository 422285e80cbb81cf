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
    #[error("introspection needs at least one connection")]
    NoConnection,
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
    introspect_parallel(&[client], options).await
}

const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
                     SET LOCAL search_path = pg_catalog, pg_temp";

fn begin_error(source: tokio_postgres::Error) -> Error {
    Error::Query {
        query: "begin",
        source,
    }
}

/// Like [`introspect`], spreading the queries over several connections to the same database.
///
/// Most of the time goes into the server printing constraints, indexes and columns back as
/// SQL, one backend per query: with more connections those run at once. The first client
/// exports its snapshot and the others adopt it (as `pg_dump -j` does), so every query still
/// sees the same consistent state. Where a snapshot cannot be exported, only the first client
/// is used.
pub async fn introspect_parallel(clients: &[&Client], options: &Options) -> Result<Introspection> {
    let Some(primary) = clients.first() else {
        return Err(Error::NoConnection);
    };
    primary.batch_execute(BEGIN).await.map_err(begin_error)?;
    let mut lanes: Vec<&Client> = vec![primary];
    if clients.len() > 1
        && let Ok(row) = primary.query_one("SELECT pg_export_snapshot()", &[]).await
        && let Ok(snapshot) = row.try_get::<_, String>(0)
    {
        {
            let set = format!("{BEGIN}; SET TRANSACTION SNAPSHOT '{snapshot}'");
            for helper in &clients[1..] {
                if helper.batch_execute(&set).await.is_ok() {
                    lanes.push(helper);
                } else {
                    let _ = helper.batch_execute("ROLLBACK").await;
                }
            }
        }
    }
    let result = run_queries(&lanes, options).await;
    // Read-only: COMMIT and ROLLBACK are equivalent; ROLLBACK also clears an aborted transaction.
    for lane in &lanes {
        let _ = lane.batch_execute("ROLLBACK").await;
    }
    let mut intro = result?;
    options.filter.apply(&mut intro.database);
    intro.database.normalize();
    Ok(intro)
}

async fn fetch(
    client: &Client,
    q: &'static Query,
    stats: Option<bool>,
) -> Result<(&'static str, Vec<tokio_postgres::Row>)> {
    let rows = match stats {
        Some(stats) => client.query(q.sql, &[&stats]).await,
        None => client.query(q.sql, &[]).await,
    };
    rows.map(|r| (q.name, r)).map_err(|source| Error::Query {
        query: q.name,
        source,
    })
}

async fn run_queries(lanes: &[&Client], options: &Options) -> Result<Introspection> {
    // The two costliest queries get lanes of their own when there are some; the rest share the
    // first. On one connection, all statements are still sent before the first answer is read
    // (tokio-postgres pipelines concurrent requests).
    let lane = |n: usize| lanes[n.min(lanes.len() - 1)];
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
        fetch(lane(0), &SERVER, None),
        fetch(lane(0), &EXTENSIONS, None),
        fetch(lane(0), &SCHEMAS, None),
        fetch(lane(0), &TABLES, Some(options.stats)),
        fetch(lane(0), &COLUMNS, None),
        fetch(lane(1), &CONSTRAINTS, None),
        fetch(lane(2), &INDEXES, None),
        fetch(lane(0), &VIEWS, None),
        fetch(lane(0), &SEQUENCES, None),
        fetch(lane(0), &FUNCTIONS, None),
        fetch(lane(0), &TYPES, None),
        fetch(lane(0), &TRIGGERS, None),
        fetch(lane(0), &POLICIES, None),
        fetch(lane(0), &GRANTS, None),
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
