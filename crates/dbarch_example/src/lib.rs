//! The bundled example: an AI/RAG application schema written the way the seed document writes
//! it (mistakes included, see `sql/schema.sql`) and a seeded generator of realistic data.

mod generate;

pub use generate::{LoadOptions, LoadSummary};

use tokio_postgres::Client;

/// The example's schema.
pub const SCHEMA_SQL: &str = include_str!("../sql/schema.sql");

/// The example application's common queries, each preceded by `-- name: NAME`.
pub const QUERIES_SQL: &str = include_str!("../sql/queries.sql");

/// The example's tables, in creation order.
pub const TABLES: &[&str] = &[
    "users",
    "documents",
    "document_chunks",
    "document_embeddings",
    "ai_logs",
];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the example is already loaded in this database (table public.{0} exists); \
         pass --replace to drop and reload the example's tables"
    )]
    AlreadyLoaded(String),
    #[error("the pgvector extension is not available on this server: {0}")]
    NoPgvector(String),
    #[error("loading the example failed while {step}: {source}")]
    Db {
        step: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn db(step: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |source| Error::Db { step, source }
}

/// Creates the example schema and fills it with generated rows, in one transaction (an
/// interrupted load leaves nothing behind), then analyzes the tables.
pub async fn load(client: &mut Client, options: &LoadOptions) -> Result<LoadSummary> {
    let available = client
        .query_opt(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'",
            &[],
        )
        .await
        .map_err(db("checking for pgvector"))?;
    if available.is_none() {
        return Err(Error::NoPgvector(
            "install pgvector, or use the embedded server (`dbarch dev start`)".into(),
        ));
    }
    let existing = client
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relname = ANY($1) ORDER BY 1",
            &[&TABLES],
        )
        .await
        .map_err(db("checking for existing tables"))?;
    if let Some(row) = existing.first().filter(|_| !options.replace) {
        return Err(Error::AlreadyLoaded(row.get(0)));
    }
    let tx = client
        .transaction()
        .await
        .map_err(db("starting the transaction"))?;
    if options.replace {
        let drop: Vec<String> = TABLES
            .iter()
            .rev()
            .map(|t| format!("DROP TABLE IF EXISTS public.{t} CASCADE;"))
            .collect();
        tx.batch_execute(&drop.join("\n"))
            .await
            .map_err(db("dropping the previous example"))?;
    }
    tx.batch_execute(SCHEMA_SQL)
        .await
        .map_err(db("creating the schema"))?;
    let summary = generate::fill(&tx, options).await?;
    tx.commit().await.map_err(db("committing"))?;
    let analyze = format!("ANALYZE {}", TABLES.join(", "));
    client
        .batch_execute(&analyze)
        .await
        .map_err(db("analyzing"))?;
    Ok(summary)
}
