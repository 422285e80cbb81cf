//! Embeddings from an OpenAI-compatible HTTP endpoint: OpenAI itself, Ollama's `/v1`, vLLM,
//! LiteLLM, ... (`POST {base_url}/embeddings` with `{"model", "input": [...]}`).
//!
//! Built for bulk ingestion against rate-limited APIs: inputs go in batches, each request has a
//! timeout, 429/5xx/timeouts/connection failures are retried with exponential backoff and
//! jitter (or exactly as long as `Retry-After` asks), and an optional client-side limit spaces
//! requests so that a long ingest stays under a requests-per-minute quota instead of bouncing
//! off it. The API key is read from an environment variable, sent only as a Bearer header, never
//! followed through redirects, and scrubbed from anything the server echoes back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Embedder, Error, ModelInfo, Result};

/// Settings of [`OpenAiEmbedder`]; `None` means the documented default.
#[derive(Debug, Clone)]
pub struct OpenAiOptions {
    /// The API root, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`; `/embeddings`
    /// is appended.
    pub base_url: String,
    /// The model name the endpoint knows, e.g. `text-embedding-3-small`, `nomic-embed-text`.
    pub model: String,
    /// The environment variable holding the API key; `None`: `OPENAI_API_KEY`. An unset or empty
    /// variable sends no `Authorization` header (Ollama and most local servers need none).
    pub api_key_env: Option<String>,
    /// Expected dimensions; `None`: taken from a first one-text request at construction, which
    /// also tells whether the model's vectors are unit length (with configured dimensions that
    /// is unknown and `normalized` is false, so callers stay with cosine). A response of other
    /// dimensions is an error.
    pub dims: Option<usize>,
    /// Texts per request; `None`: 64 (OpenAI accepts up to 2,048, local servers prefer less).
    pub batch_size: Option<usize>,
    /// Per-request timeout; `None`: 30 s.
    pub timeout: Option<Duration>,
    /// Attempts per request, the first included; `None`: 5.
    pub max_attempts: Option<u32>,
    /// Client-side limit, spacing request starts evenly; `None`: no limit.
    pub requests_per_minute: Option<u32>,
    /// The model's input limit in its tokens; `None`: 8,191 (OpenAI's embedding models).
    pub max_tokens: Option<usize>,
    /// A `tokenizer.json` matching the served model, for exact `count_tokens`; `None`: the
    /// approximation of [`approx_tokens`].
    pub tokenizer: Option<std::path::PathBuf>,
}

impl OpenAiOptions {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> OpenAiOptions {
        OpenAiOptions {
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            dims: None,
            batch_size: None,
            timeout: None,
            max_attempts: None,
            requests_per_minute: None,
            max_tokens: None,
            tokenizer: None,
        }
    }
}

pub const DEFAULT_API_KEY_ENV: &str = "OPENAI_API_KEY";
pub const DEFAULT_BATCH_SIZE: usize = 64;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// First backoff delay; doubled per attempt, capped at [`MAX_BACKOFF`], then jittered.
const BASE_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A `Retry-After` longer than this is not waited for: the quota is exhausted for longer than a
/// batch job should silently sleep.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Token count without the model's tokenizer: one token per 4 characters (OpenAI's rule of
/// thumb for English), but never fewer than the number of words and punctuation marks. It
/// overestimates slightly for plain English, which keeps chunks under the model's limit.
pub fn approx_tokens(text: &str) -> usize {
    let chars = text.chars().count();
    let pieces = text
        .split_whitespace()
        .map(|w| 1 + w.chars().filter(|c| c.is_ascii_punctuation()).count())
        .sum::<usize>();
    chars.div_ceil(4).max(pieces)
}

pub struct OpenAiEmbedder {
    info: ModelInfo,
    agent: ureq::Agent,
    url: String,
    model: String,
    key: Option<String>,
    key_env: String,
    batch_size: usize,
    timeout: Duration,
    max_attempts: u32,
    /// Minimum spacing between request starts, and when the next one may start.
    interval: Option<Duration>,
    next_start: Mutex<Instant>,
    #[cfg(feature = "local")]
    tokenizer: Option<tokenizers::Tokenizer>,
}

impl std::fmt::Debug for OpenAiEmbedder {
    // By hand, so that the key can never be printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
    index: usize,
}

/// How one attempt failed, and whether another may succeed.
enum Failure {
    /// 429/5xx: retry, after `retry_after` if the server said so.
    Status {
        code: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    Timeout,
    Connect(String),
    /// Anything else (4xx, malformed responses): final.
    Fatal(Error),
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare for APIs and falls back to backoff) or
/// OpenAI/Azure's `retry-after-ms`.
fn retry_after(resp: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(str::to_owned)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    header("retry-after")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The system's trust store (as for PostgreSQL's TLS), so that a company CA in front of an
/// internal endpoint works; the bundled Mozilla roots when the store is empty or unreadable.
fn root_certs(base: &str) -> ureq::tls::RootCerts {
    if !base.starts_with("https://") {
        return ureq::tls::RootCerts::WebPki;
    }
    let native = rustls_native_certs::load_native_certs();
    if native.certs.is_empty() {
        return ureq::tls::RootCerts::WebPki;
    }
    let certs: Vec<ureq::tls::Certificate<'static>> = native
        .certs
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    ureq::tls::RootCerts::new_with_certs(&certs)
}

impl OpenAiEmbedder {
    /// Builds the client; without configured `dims`, sends one short request to learn them
    /// (which also fails fast on a wrong URL, model or key).
    pub fn new(opts: &OpenAiOptions) -> Result<OpenAiEmbedder> {
        let base = opts.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Input(format!(
                "the embedding endpoint `{base}` is not an http:// or https:// URL"
            )));
        }
        if opts.model.trim().is_empty() {
            return Err(Error::Input(format!(
                "no model name given for the embedding endpoint {base}"
            )));
        }
        let url = format!("{base}/embeddings");
        let key_env = opts.api_key_env.as_deref().unwrap_or(DEFAULT_API_KEY_ENV);
        let key = std::env::var(key_env).ok().filter(|k| !k.trim().is_empty());
        let timeout = opts.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // A redirect would carry the key to another host; an API never needs one.
            .max_redirects(0)
            .user_agent(concat!("dbarch/", env!("CARGO_PKG_VERSION")))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(root_certs(base))
                    .build(),
            )
            .build()
            .into();
        #[cfg(feature = "local")]
        let tokenizer = match &opts.tokenizer {
            Some(path) => {
                let mut t = tokenizers::Tokenizer::from_file(path).map_err(|e| {
                    Error::Input(format!("cannot load the tokenizer {}: {e}", path.display()))
                })?;
                t.with_padding(None);
                let _ = t.with_truncation(None);
                Some(t)
            }
            None => None,
        };
        #[cfg(not(feature = "local"))]
        if let Some(path) = &opts.tokenizer {
            return Err(Error::Input(format!(
                "cannot use the tokenizer {}: dbarch was built without the `local` feature",
                path.display()
            )));
        }
        let mut e = OpenAiEmbedder {
            info: ModelInfo {
                name: opts.model.clone(),
                version: String::new(),
                dims: opts.dims.unwrap_or(0),
                max_tokens: opts.max_tokens.unwrap_or(8191),
                normalized: false,
            },
            agent,
            url,
            model: opts.model.clone(),
            key,
            key_env: key_env.to_string(),
            batch_size: opts.batch_size.unwrap_or(DEFAULT_BATCH_SIZE).max(1),
            timeout,
            max_attempts: opts.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS).max(1),
            interval: opts
                .requests_per_minute
                .filter(|&r| r > 0)
                .map(|r| Duration::from_secs(60) / r),
            next_start: Mutex::new(Instant::now()),
            #[cfg(feature = "local")]
            tokenizer,
        };
        if e.info.dims == 0 {
            let probe = e.request(&["dimension probe"])?;
            e.info.dims = probe[0].len();
            // Unit length is a property of the model; OpenAI's and most served embedding
            // models normalize, and the first vector tells.
            let norm: f32 = probe[0].iter().map(|x| x * x).sum::<f32>().sqrt();
            e.info.normalized = (norm - 1.0).abs() < 1e-3;
        }
        // The served weights are invisible from here: the version names the endpoint and the
        // shape, so moving to another provider or size marks stored vectors as stale.
        let digest = Sha256::digest(format!("{base}\n{}\n{}", opts.model, e.info.dims));
        e.info.version = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Ok(e)
    }

    /// Waits for the client-side rate limit, if any.
    fn pace(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let wait = {
            let mut next = self.next_start.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = (*next).max(now);
            *next = start + interval;
            start - now
        };
        std::thread::sleep(wait);
    }

    fn scrub(&self, text: &str) -> String {
        match &self.key {
            Some(k) => text.replace(k.as_str(), "[redacted]"),
            None => text.to_string(),
        }
    }

    fn attempt(&self, body: &[u8], n: usize) -> std::result::Result<Vec<Vec<f32>>, Failure> {
        self.pace();
        let mut req = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        if let Some(key) = &self.key {
            req = req.header("Authorization", format!("Bearer {key}"));
        }
        let mut resp = match req.send(body) {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => return Err(Failure::Timeout),
            Err(e) => return Err(Failure::Connect(self.scrub(&e.to_string()))),
        };
        let status = resp.status();
        let after = retry_after(&resp);
        let bytes = match resp.body_mut().with_config().limit(1 << 30).read_to_vec() {
            Ok(b) => b,
            Err(ureq::Error::Timeout(_)) => return Err(Failure::Timeout),
            Err(e) => return Err(Failure::Connect(self.scrub(&e.to_string()))),
        };
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| {
                    v.pointer("/error/message")
                        .or_else(|| v.get("error"))
                        .and_then(|m| m.as_str().map(str::to_owned))
                })
                .unwrap_or_else(|| text.chars().take(300).collect());
            let body = self.scrub(message.trim());
            let code = status.as_u16();
            if code == 429 || status.is_server_error() {
                return Err(Failure::Status {
                    code,
                    body,
                    retry_after: after,
                });
            }
            let hint = match code {
                401 | 403 if self.key.is_some() => {
                    format!(" (is the API key in ${} right?)", self.key_env)
                }
                401 | 403 => format!(" (no API key: ${} is not set)", self.key_env),
                404 => " (is the URL the API root, e.g. .../v1, and the model name right?)".into(),
                _ => String::new(),
            };
            return Err(Failure::Fatal(Error::Input(format!(
                "the embedding endpoint {} answered {status}: {body}{hint}",
                self.url
            ))));
        }
        self.parse(&bytes, n).map_err(Failure::Fatal)
    }

    fn parse(&self, bytes: &[u8], n: usize) -> Result<Vec<Vec<f32>>> {
        let bad = |what: String| {
            Error::Embed(format!(
                "the embedding endpoint {} sent an unexpected response: {what}",
                self.url
            ))
        };
        let resp: Response = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if resp.data.len() != n {
            return Err(bad(format!(
                "{} embeddings for {n} inputs",
                resp.data.len()
            )));
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; n];
        let dims = self.info.dims;
        for item in resp.data {
            if item.index >= n || out[item.index].is_some() {
                return Err(bad(format!("index {} twice or out of range", item.index)));
            }
            if dims != 0 && item.embedding.len() != dims {
                return Err(Error::Input(format!(
                    "the embedding endpoint {} returned vectors of {} dimensions for model {}, expected {dims}; set the dimensions to the model's, or choose the model that has {dims}",
                    self.url,
                    item.embedding.len(),
                    self.model
                )));
            }
            if item.embedding.is_empty() || item.embedding.iter().any(|x| !x.is_finite()) {
                return Err(bad(format!(
                    "the embedding at index {} is empty or not finite",
                    item.index
                )));
            }
            out[item.index] = Some(item.embedding);
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// One batch, with retries.
    fn request(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let body = serde_json::to_vec(&serde_json::json!({
            "model": self.model,
            "input": texts,
        }))
        .map_err(|e| Error::Embed(e.to_string()))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.attempt(&body, texts.len()) {
                Ok(v) => return Ok(v),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(f) => f,
            };
            let plural = if attempt == 1 { "attempt" } else { "attempts" };
            let final_error = || match &failure {
                Failure::Timeout => Error::Embed(format!(
                    "the embedding endpoint {} timed out after {} ({attempt} {plural})",
                    self.url,
                    secs(self.timeout)
                )),
                Failure::Connect(e) => Error::Embed(format!(
                    "cannot reach the embedding endpoint {}: {e} ({attempt} {plural})",
                    self.url
                )),
                Failure::Status { code, body, .. } => Error::Embed(format!(
                    "the embedding endpoint {} answered {code}{} ({attempt} {plural}): {body}",
                    self.url,
                    ureq::http::StatusCode::from_u16(*code)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .map(|r| format!(" {r}"))
                        .unwrap_or_default()
                )),
                Failure::Fatal(_) => unreachable!(),
            };
            if attempt >= self.max_attempts {
                return Err(final_error());
            }
            let backoff = BASE_BACKOFF
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(MAX_BACKOFF);
            // "Equal jitter": half fixed, half random, so that parallel clients spread out
            // without any of them retrying immediately.
            let jittered = backoff / 2 + backoff.mul_f64(fastrand::f64() / 2.0);
            let wait = match &failure {
                Failure::Status {
                    retry_after: Some(after),
                    ..
                } => {
                    if *after > MAX_RETRY_AFTER {
                        let e = final_error();
                        return Err(Error::Embed(format!(
                            "{e}; it asked to retry after {}, longer than dbarch waits",
                            secs(*after)
                        )));
                    }
                    *after
                }
                _ => jittered,
            };
            tracing::warn!(
                endpoint = %self.url,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "embedding request failed ({}), retrying",
                match &failure {
                    Failure::Timeout => "timeout".to_string(),
                    Failure::Connect(e) => e.clone(),
                    Failure::Status { code, .. } => code.to_string(),
                    Failure::Fatal(_) => unreachable!(),
                }
            );
            std::thread::sleep(wait);
        }
    }
}

impl Embedder for OpenAiEmbedder {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn count_tokens(&self, text: &str) -> usize {
        #[cfg(feature = "local")]
        if let Some(t) = &self.tokenizer
            && let Ok(e) = t.encode_fast(text, false)
        {
            return e.len();
        }
        approx_tokens(text)
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.batch_size) {
            out.extend(self.request(batch)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximation_is_conservative() {
        assert_eq!(approx_tokens(""), 0);
        assert_eq!(approx_tokens("a b c d e"), 5);
        assert_eq!(approx_tokens("internationalization"), 5);
        assert_eq!(approx_tokens("hi, there."), 4);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(secs(Duration::from_secs(30)), "30 s");
        assert_eq!(secs(Duration::from_millis(200)), "0.2 s");
    }
}
