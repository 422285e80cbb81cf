//! The embedder flags shared by `vector search` and `rag`.

use crate::exit::usage;
use anyhow::Result;
use clap::{Args, ValueEnum};
use dbarch_embed::{Embedder, EmbedderKind, EmbedderOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbedderArg {
    /// all-MiniLM-L6-v2 run in-process (384 dimensions, offline).
    Local,
    /// An OpenAI-compatible endpoint (OpenAI, Ollama, vLLM).
    Openai,
    /// Feature hashing of words: for tests only, not a language model.
    Hash,
}

#[derive(Debug, Clone, Args)]
pub struct EmbedderArgs {
    /// Which embedder turns texts into vectors.
    #[arg(long, value_enum, default_value_t = EmbedderArg::Local)]
    pub embedder: EmbedderArg,
    /// The local model's directory (default: $DBARCH_MODEL_DIR, else dbarch's cache,
    /// provisioned on first use).
    #[arg(long, value_name = "DIR", env = "DBARCH_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// The OpenAI-compatible API root, e.g. http://localhost:11434/v1 for Ollama.
    #[arg(long, value_name = "URL")]
    pub embed_url: Option<String>,
    /// The endpoint's model name.
    #[arg(long, value_name = "NAME")]
    pub embed_model: Option<String>,
    /// The environment variable holding the endpoint's API key (default OPENAI_API_KEY).
    #[arg(long, value_name = "VAR")]
    pub embed_api_key_env: Option<String>,
    /// The embeddings' dimensions (openai: checked against the endpoint's; hash: chosen).
    #[arg(long, value_name = "N")]
    pub embed_dims: Option<usize>,
    /// Texts per forward pass or per request.
    #[arg(long, value_name = "N")]
    pub embed_batch: Option<usize>,
    /// Seconds before a request to the endpoint is abandoned (and retried).
    #[arg(long, value_name = "SECONDS")]
    pub embed_timeout: Option<f64>,
    /// Requests per minute at most, to stay under the endpoint's rate limit.
    #[arg(long, value_name = "N")]
    pub embed_rpm: Option<u32>,
}

impl EmbedderArgs {
    pub fn build(&self) -> Result<Arc<dyn Embedder>> {
        let timeout = match self.embed_timeout {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                return Err(usage(format!(
                    "--embed-timeout {s}: a positive number of seconds"
                )));
            }
            Some(s) => Some(Duration::from_secs_f64(s)),
            None => None,
        };
        let opts = EmbedderOptions {
            kind: match self.embedder {
                EmbedderArg::Local => EmbedderKind::Local,
                EmbedderArg::Openai => EmbedderKind::OpenAi,
                EmbedderArg::Hash => EmbedderKind::Hash,
            },
            model_dir: self.model_dir.clone(),
            url: self.embed_url.clone(),
            model: self.embed_model.clone(),
            api_key_env: self.embed_api_key_env.clone(),
            dims: self.embed_dims,
            batch_size: self.embed_batch,
            timeout,
            requests_per_minute: self.embed_rpm,
            ..EmbedderOptions::default()
        };
        let e = dbarch_embed::build(&opts).map_err(|e| {
            if e.is_input() {
                usage(e.to_string())
            } else {
                anyhow::Error::from(e)
            }
        })?;
        Ok(Arc::from(e))
    }
}
