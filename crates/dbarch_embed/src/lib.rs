//! Text embedders behind one trait, [`Embedder`].
//!
//! - [`hash::HashEmbedder`]: deterministic feature hashing of words, **for tests only** (its
//!   name says so, and it is never chosen by default).
//!
//! Embedders are synchronous: the local model is CPU-bound and the HTTP client blocks; async
//! callers run them on a blocking thread.

pub mod hash;

use serde::Serialize;

/// What can go wrong. `is_input` tells the user's mistakes (exit 2) from the rest.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration or input: a model directory missing files, an empty text, ...
    #[error("{0}")]
    Input(String),
    /// The model or the endpoint failed.
    #[error("{0}")]
    Embed(String),
}

impl Error {
    pub fn is_input(&self) -> bool {
        matches!(self, Error::Input(_))
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Which model made an embedding: stored per chunk, so that a model change is noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    /// e.g. `sentence-transformers/all-MiniLM-L6-v2`.
    pub name: String,
    /// Changes whenever the same name could give other vectors (weights, pooling, revision).
    pub version: String,
    pub dims: usize,
    /// The longest input, in the model's tokens; longer inputs are truncated by the model.
    pub max_tokens: usize,
    /// Unit-length output: cosine and inner product rank alike.
    pub normalized: bool,
}

/// A text embedder.
pub trait Embedder: Send + Sync {
    fn info(&self) -> &ModelInfo;
    /// The length of `text` in the model's own tokens (special tokens excluded): what chunk
    /// sizes are measured in.
    fn count_tokens(&self, text: &str) -> usize;
    /// One vector of `info().dims` finite values per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}
