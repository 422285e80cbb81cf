//! all-MiniLM-L6-v2 run in-process on the CPU (candle), offline: the default embedder, so that
//! `dbarch rag` works without an API key or a server.
//!
//! It reproduces sentence-transformers' pipeline as the model's own files describe it:
//! `modules.json` (Transformer → Pooling → Normalize), `1_Pooling/config.json` (mean over the
//! attention mask) and `sentence_bert_config.json` (`max_seq_length`, 256). `tokenizer.json` itself
//! says truncate at 128 and pad to 128, which sentence-transformers overrides; so do we.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokenizers::{
    PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

use crate::model_dir::resolve_model_dir;
use crate::{Embedder, Error, ModelInfo, Result};

pub const MODEL_NAME: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// Texts per forward pass. Inputs are sorted by length first, so a batch pads to similar
/// lengths; 32 keeps the activations small (32 × 256 × 1536 floats) and the matmuls large.
pub const DEFAULT_BATCH_SIZE: usize = 32;

pub struct LocalMiniLm {
    info: ModelInfo,
    model: BertModel,
    /// Truncates at `max_seq_length` and pads each batch to its longest text.
    tokenizer: Tokenizer,
    /// No truncation, no padding: `count_tokens` must see the whole text.
    counter: Tokenizer,
    batch_size: usize,
    device: Device,
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: usize,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

#[derive(Deserialize)]
struct Module {
    #[serde(rename = "type")]
    kind: String,
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|e| Error::Input(format!("cannot read {}: {e}", path.display())))
}

fn parse<T: serde::de::DeserializeOwned>(dir: &Path, name: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::Input(format!(
            "{} is not a valid {name}: {e}",
            dir.join(name).display()
        ))
    })
}

fn embed_err(e: impl std::fmt::Display) -> Error {
    Error::Embed(format!("all-MiniLM-L6-v2: {e}"))
}

/// A cheap fingerprint of the weights: size plus 64 sampled 4 KiB blocks (the header, which
/// lists every tensor's name, dtype and offsets, included). Hashing all 90 MB would add a
/// noticeable delay to every start for no practical gain: a retrained or re-exported model
/// differs in the sampled blocks.
fn weights_fingerprint(weights: &[u8], hasher: &mut Sha256) {
    const BLOCK: usize = 4096;
    const SAMPLES: usize = 64;
    hasher.update((weights.len() as u64).to_le_bytes());
    let span = weights.len().saturating_sub(BLOCK);
    for i in 0..SAMPLES {
        let start = span * i / (SAMPLES - 1);
        hasher.update(&weights[start..(start + BLOCK).min(weights.len())]);
    }
}

impl LocalMiniLm {
    /// Loads the model from `model_dir` (either layout), or from `$DBARCH_MODEL_DIR`, or from
    /// dbarch's cache, provisioning the cache when it is empty. `batch_size` defaults to
    /// [`DEFAULT_BATCH_SIZE`].
    pub fn load(model_dir: Option<&Path>, batch_size: Option<usize>) -> Result<LocalMiniLm> {
        let dir = resolve_model_dir(model_dir)?;
        LocalMiniLm::load_from(&dir, batch_size)
    }

    /// Loads from a dir that directly holds the model files (no resolution, no provisioning).
    pub fn load_from(dir: &Path, batch_size: Option<usize>) -> Result<LocalMiniLm> {
        let config_bytes = read(dir, "config.json")?;
        let config: Config = parse(dir, "config.json", &config_bytes)?;
        let st_bytes = read(dir, "sentence_bert_config.json")?;
        let st: SentenceBertConfig = parse(dir, "sentence_bert_config.json", &st_bytes)?;
        let pooling_bytes = read(dir, "1_Pooling/config.json")?;
        let pooling: PoolingConfig = parse(dir, "1_Pooling/config.json", &pooling_bytes)?;
        let modules: Vec<Module> = parse(dir, "modules.json", &read(dir, "modules.json")?)?;
        if !pooling.pooling_mode_mean_tokens
            || pooling.pooling_mode_cls_token
            || pooling.pooling_mode_max_tokens
            || pooling.pooling_mode_mean_sqrt_len_tokens
        {
            return Err(Error::Input(format!(
                "{} asks for a pooling other than mean pooling alone, which dbarch does not implement",
                dir.join("1_Pooling/config.json").display()
            )));
        }
        let normalized = modules.iter().any(|m| m.kind.ends_with(".Normalize"));
        let max_tokens = st.max_seq_length.min(config.max_position_embeddings);

        let tokenizer_path = dir.join("tokenizer.json");
        let tok_err = |e: tokenizers::Error| {
            Error::Input(format!(
                "cannot load the tokenizer {}: {e}",
                tokenizer_path.display()
            ))
        };
        let mut counter = Tokenizer::from_file(&tokenizer_path).map_err(tok_err)?;
        counter.with_padding(None);
        counter.with_truncation(None).map_err(tok_err)?;
        let mut tokenizer = counter.clone();
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(tok_err)?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id: config.pad_token_id as u32,
            pad_type_id: 0,
            pad_token: "[PAD]".into(),
        }));

        let weights = read(dir, "model.safetensors")?;
        let mut hasher = Sha256::new();
        for part in [&config_bytes, &st_bytes, &pooling_bytes] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.update([u8::from(normalized)]);
        weights_fingerprint(&weights, &mut hasher);
        let digest = hasher.finalize();
        let version: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();

        let device = Device::Cpu;
        let vb =
            VarBuilder::from_buffered_safetensors(weights, DType::F32, &device).map_err(|e| {
                Error::Input(format!(
                    "cannot read the weights {}: {e}",
                    dir.join("model.safetensors").display()
                ))
            })?;
        let model = BertModel::load(vb, &config).map_err(|e| {
            Error::Input(format!(
                "the weights in {} do not fit its config.json: {e}",
                dir.display()
            ))
        })?;
        Ok(LocalMiniLm {
            info: ModelInfo {
                name: MODEL_NAME.into(),
                version,
                dims: config.hidden_size,
                max_tokens,
                normalized,
            },
            model,
            tokenizer,
            counter,
            batch_size: batch_size.unwrap_or(DEFAULT_BATCH_SIZE).max(1),
            device,
        })
    }

    /// One forward pass over texts of similar length: mean pooling over the attention mask,
    /// then (per modules.json) L2 normalization, as sentence-transformers does.
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(embed_err)?;
        let n = encodings.len();
        let len = encodings.first().map_or(0, |e| e.len());
        let mut ids = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for e in &encodings {
            ids.extend_from_slice(e.get_ids());
            mask.extend(e.get_attention_mask().iter().map(|&m| m as f32));
        }
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
            let type_ids = ids.zeros_like()?;
            let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
            let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?; // (n, len, dims)
            let summed = hidden.broadcast_mul(&mask.unsqueeze(2)?)?.sum(1)?; // (n, dims)
            let counts = mask.sum_keepdim(1)?.clamp(1e-9f32, f32::MAX)?; // (n, 1)
            let mut pooled = summed.broadcast_div(&counts)?;
            if self.info.normalized {
                let norms = pooled
                    .sqr()?
                    .sum_keepdim(1)?
                    .sqrt()?
                    .clamp(1e-12f32, f32::MAX)?;
                pooled = pooled.broadcast_div(&norms)?;
            }
            pooled.to_vec2::<f32>()
        };
        run().map_err(embed_err)
    }
}

impl Embedder for LocalMiniLm {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn count_tokens(&self, text: &str) -> usize {
        // The tokenizer fails only on pathological pre-tokenizer errors; a rough count keeps
        // chunking going rather than aborting it.
        self.counter
            .encode_fast(text, false)
            .map(|e| e.len())
            .unwrap_or_else(|_| text.split_whitespace().count())
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        // Longest first, so that each batch pads to about its own length (and the slowest
        // batch runs while the memory is fresh); results go back in input order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(lens[i]));
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (i, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[*i] = v;
            }
        }
        Ok(out)
    }
}
