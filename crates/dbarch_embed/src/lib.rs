//! Text embedders behind one trait, [`Embedder`].
//!
//! - [`local::LocalMiniLm`] (feature `local`, on by default): sentence-transformers'
//!   all-MiniLM-L6-v2 run in-process on the CPU, offline, weights from a pinned pip package;
//! - [`openai::OpenAiEmbedder`]: any OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama,
//!   vLLM), batched, retried, rate-limited;
//! - [`hash::HashEmbedder`]: deterministic feature hashing of words, **for tests only** (its
//!   name says so, and it is never chosen by default).
//!
//! Front-ends fill an [`EmbedderOptions`] and call [`build`].
//!
//! Embedders are synchronous: the local model is CPU-bound and the HTTP client blocks; async
//! callers run them on a blocking thread.

pub mod hash;
#[cfg(feature = "local")]
pub mod local;
pub mod model_dir;
pub mod openai;

use std::path::PathBuf;
use std::time::Duration;

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

/// Which embedder [`build`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedderKind {
    /// all-MiniLM-L6-v2 in-process (384 dims): no key, no server, no network after provisioning.
    #[default]
    Local,
    /// An OpenAI-compatible HTTP endpoint.
    OpenAi,
    /// Feature hashing, for tests only.
    Hash,
}

/// Everything a front-end can set; `None` means the default named in each field's doc.
#[derive(Debug, Clone, Default)]
pub struct EmbedderOptions {
    pub kind: EmbedderKind,
    /// Local: the model dir (holding `config.json` & co., or a pip `--target` dir of the model's
    /// package); `None`: `$DBARCH_MODEL_DIR`, else dbarch's cache, provisioned on first use.
    pub model_dir: Option<PathBuf>,
    /// OpenAI: the API root; `None`: `https://api.openai.com/v1`.
    pub url: Option<String>,
    /// OpenAI: the model name; `None`: `text-embedding-3-small`.
    pub model: Option<String>,
    /// OpenAI: the environment variable holding the API key; `None`: `OPENAI_API_KEY`.
    pub api_key_env: Option<String>,
    /// OpenAI: expected dimensions (`None`: learnt from a first request). Hash: the dimensions
    /// (`None`: 384, like the local model). Local: must match the model's when given.
    pub dims: Option<usize>,
    /// Texts per forward pass (local, default 32) or per request (OpenAI, default 64).
    pub batch_size: Option<usize>,
    /// OpenAI: per-request timeout; `None`: 30 s.
    pub timeout: Option<Duration>,
    /// OpenAI: attempts per request, the first included; `None`: 5.
    pub max_attempts: Option<u32>,
    /// OpenAI: client-side rate limit; `None`: none.
    pub requests_per_minute: Option<u32>,
    /// OpenAI: the model's input limit in tokens; `None`: 8,191.
    pub max_tokens: Option<usize>,
    /// OpenAI: a `tokenizer.json` for exact token counts; `None`: an approximation.
    pub tokenizer: Option<PathBuf>,
}

pub const DEFAULT_OPENAI_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_OPENAI_MODEL: &str = "text-embedding-3-small";
/// The hash embedder's default dimensions: those of the local model, so that a schema designed
/// in tests fits the default embedder.
pub const DEFAULT_HASH_DIMS: usize = 384;

/// Makes the embedder the options describe.
pub fn build(opts: &EmbedderOptions) -> Result<Box<dyn Embedder>> {
    match opts.kind {
        EmbedderKind::Hash => {
            let dims = opts.dims.unwrap_or(DEFAULT_HASH_DIMS);
            if dims == 0 {
                return Err(Error::Input("the hash embedder needs dimensions > 0".into()));
            }
            Ok(Box::new(hash::HashEmbedder::new(dims)))
        }
        EmbedderKind::OpenAi => {
            let o = openai::OpenAiOptions {
                base_url: opts.url.clone().unwrap_or_else(|| DEFAULT_OPENAI_URL.into()),
                model: opts
                    .model
                    .clone()
                    .unwrap_or_else(|| DEFAULT_OPENAI_MODEL.into()),
                api_key_env: opts.api_key_env.clone(),
                dims: opts.dims,
                batch_size: opts.batch_size,
                timeout: opts.timeout,
                max_attempts: opts.max_attempts,
                requests_per_minute: opts.requests_per_minute,
                max_tokens: opts.max_tokens,
                tokenizer: opts.tokenizer.clone(),
            };
            Ok(Box::new(openai::OpenAiEmbedder::new(&o)?))
        }
        #[cfg(feature = "local")]
        EmbedderKind::Local => {
            let e = local::LocalMiniLm::load(opts.model_dir.as_deref(), opts.batch_size)?;
            if let Some(d) = opts.dims
                && d != e.info().dims
            {
                return Err(Error::Input(format!(
                    "the local model {} has {} dimensions, not {d}",
                    e.info().name,
                    e.info().dims
                )));
            }
            Ok(Box::new(e))
        }
        #[cfg(not(feature = "local"))]
        EmbedderKind::Local => Err(Error::Input(
            "the local embedder needs dbarch built with the `local` feature; use the openai embedder instead".into(),
        )),
    }
}
