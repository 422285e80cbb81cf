//! An offline RAG pipeline on PostgreSQL + pgvector.
//!
//! - [`extract`]: documents (`.txt`, `.md`, `.html`) to text; anything else is skipped.
//! - [`chunk`]: recursive, Markdown-aware chunking measured in the embedding model's own tokens
//!   (the `text-splitter` crate, sized by [`dbarch_embed::Embedder::count_tokens`]).
//! - [`ingest`]: extract → chunk → embed → binary COPY into the storage design of
//!   `dbarch vector design` (created on first use), idempotent by content hash, one transaction
//!   per batch of documents, a model change re-embedded through a new column and an index swap.
//! - [`query`]: dense, full-text and hybrid (RRF) retrieval of chunks.
//! - [`eval`]: recall@k, MRR@10 and nDCG@10 of each retrieval against BEIR qrels.

pub mod chunk;
pub mod eval;
pub mod extract;
pub mod ingest;
pub mod query;

use dbarch_pg::tokio_postgres;

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
    #[error(transparent)]
    Embed(#[from] dbarch_embed::Error),
    #[error(transparent)]
    Vector(#[from] dbarch_vector::Error),
}

impl Error {
    pub fn is_input(&self) -> bool {
        match self {
            Error::Input(_) => true,
            Error::Embed(e) => e.is_input(),
            Error::Vector(e) => e.is_input(),
            Error::Db { .. } => false,
        }
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

/// Where the pipeline keeps its data: the documents and chunks tables of the storage design.
#[derive(Debug, Clone)]
pub struct Store {
    pub schema: String,
    pub documents: String,
    pub chunks: String,
    pub column: String,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            schema: "public".into(),
            documents: "documents".into(),
            chunks: "chunks".into(),
            column: "embedding".into(),
        }
    }
}

impl Store {
    pub fn documents_table(&self) -> String {
        dbarch_vector::qualified(&self.schema, &self.documents)
    }
    pub fn chunks_table(&self) -> String {
        dbarch_vector::qualified(&self.schema, &self.chunks)
    }
}
