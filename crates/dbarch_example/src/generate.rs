//! Seeded, realistic rows for the example schema, sent with COPY.

use crate::{Result, db};
use bytes::Bytes;
use futures_util::SinkExt;
use std::fmt::Write;
use tokio_postgres::Transaction;

/// How much to generate.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Number of documents; users are a tenth of it, chunks four times, logs twice.
    pub rows: u64,
    /// Seed of the generator: the same seed gives the same data.
    pub seed: u64,
    /// Drop the example's tables first when they exist.
    pub replace: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            rows: 1000,
            seed: 42,
            replace: false,
        }
    }
}

/// Rows written per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    pub users: u64,
    pub documents: u64,
    pub document_chunks: u64,
    pub document_embeddings: u64,
    pub ai_logs: u64,
}

const DIMS: usize = 384;
const CLUSTERS: usize = 24;
const CATEGORIES: &[&str] = &[
    "engineering",
    "legal",
    "finance",
    "support",
    "research",
    "marketing",
    "hr",
    "product",
];
const TOPICS: &[&str] = &[
    "vector search",
    "onboarding",
    "quarterly report",
    "incident review",
    "API design",
    "pricing",
    "privacy policy",
    "retrieval quality",
    "release notes",
    "data retention",
    "model evaluation",
    "customer churn",
];
const WORDS: &[&str] = &[
    "the",
    "index",
    "query",
    "latency",
    "embedding",
    "document",
    "user",
    "policy",
    "cost",
    "token",
    "model",
    "search",
    "result",
    "team",
    "review",
    "data",
    "schema",
    "migration",
    "customer",
    "support",
    "recall",
    "cluster",
    "vector",
    "budget",
    "report",
    "release",
];
const MODELS: &[&str] = &["gpt-4o-mini", "gpt-4o", "claude-sonnet", "llama-3.1-8b"];

/// Rows are buffered and sent to COPY in pieces of about this many bytes.
const FLUSH_BYTES: usize = 1 << 20;

struct Gen {
    rng: fastrand::Rng,
    centers: Vec<Vec<f32>>,
}

impl Gen {
    fn new(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let centers = (0..CLUSTERS)
            .map(|_| unit((0..DIMS).map(|_| gauss(&mut rng)).collect()))
            .collect();
        Self { rng, centers }
    }

    fn sentence(&mut self, words: usize) -> String {
        let mut s = String::new();
        for i in 0..words {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(WORDS[self.rng.usize(..WORDS.len())]);
        }
        s.push('.');
        s
    }

    /// A unit vector near one of the cluster centers, as pgvector's text form.
    fn embedding(&mut self, cluster: usize) -> String {
        let center = &self.centers[cluster % CLUSTERS];
        let v: Vec<f32> = center
            .iter()
            .map(|c| c + 0.35 * gauss(&mut self.rng) / (DIMS as f32).sqrt() * 4.0)
            .collect();
        let v = unit(v);
        let mut s = String::with_capacity(DIMS * 8);
        s.push('[');
        for (i, x) in v.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{x:.5}");
        }
        s.push(']');
        s
    }

    /// A timestamp within 2025, as text.
    fn timestamp(&mut self) -> String {
        let day = self.rng.u32(0..365);
        let (month, dom) = month_day(day);
        format!(
            "2025-{month:02}-{dom:02} {:02}:{:02}:{:02}",
            self.rng.u32(0..24),
            self.rng.u32(0..60),
            self.rng.u32(0..60)
        )
    }
}

fn gauss(rng: &mut fastrand::Rng) -> f32 {
    // Box-Muller; good enough for test data.
    let u1 = rng.f32().max(f32::MIN_POSITIVE);
    let u2 = rng.f32();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.into_iter().map(|x| x / norm).collect()
}

fn month_day(day_of_year: u32) -> (u32, u32) {
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut d = day_of_year;
    for (m, len) in DAYS.iter().enumerate() {
        if d < *len {
            return (m as u32 + 1, d + 1);
        }
        d -= len;
    }
    (12, 31)
}

/// Escapes a value for COPY's text format.
fn copy_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

struct Copy<'a> {
    sink: std::pin::Pin<Box<tokio_postgres::CopyInSink<Bytes>>>,
    buf: String,
    step: &'static str,
    _tx: std::marker::PhantomData<&'a ()>,
}

impl<'a> Copy<'a> {
    async fn start(tx: &'a Transaction<'_>, sql: &str, step: &'static str) -> Result<Self> {
        let sink = tx.copy_in(sql).await.map_err(db(step))?;
        Ok(Self {
            sink: Box::pin(sink),
            buf: String::with_capacity(FLUSH_BYTES * 2),
            step,
            _tx: std::marker::PhantomData,
        })
    }

    async fn row(&mut self, fields: &[&str]) -> Result<()> {
        self.buf.push_str(&fields.join("\t"));
        self.buf.push('\n');
        if self.buf.len() >= FLUSH_BYTES {
            let chunk = std::mem::replace(&mut self.buf, String::with_capacity(FLUSH_BYTES * 2));
            self.sink
                .send(Bytes::from(chunk))
                .await
                .map_err(db(self.step))?;
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<u64> {
        if !self.buf.is_empty() {
            let chunk = std::mem::take(&mut self.buf);
            self.sink
                .send(Bytes::from(chunk))
                .await
                .map_err(db(self.step))?;
        }
        self.sink.as_mut().finish().await.map_err(db(self.step))
    }
}

pub(crate) async fn fill(tx: &Transaction<'_>, options: &LoadOptions) -> Result<LoadSummary> {
    let mut g = Gen::new(options.seed);
    let documents = options.rows.max(1);
    let users = (documents / 10).max(1);
    let mut summary = LoadSummary::default();

    let mut copy = Copy::start(
        tx,
        "COPY users (id, email, name, preferences, created_at, updated_at) FROM STDIN",
        "loading users",
    )
    .await?;
    for id in 1..=users {
        let created = g.timestamp();
        let prefs = format!(
            r#"{{"language": "{}", "top_k": {}, "hybrid": {}}}"#,
            ["en", "de", "fr", "es"][g.rng.usize(..4)],
            [5, 10, 20][g.rng.usize(..3)],
            g.rng.bool()
        );
        copy.row(&[
            &id.to_string(),
            &format!("user{id}@example.com"),
            &format!("User {id}"),
            &prefs,
            &created,
            &created,
        ])
        .await?;
    }
    summary.users = copy.finish().await?;

    let mut copy = Copy::start(
        tx,
        "COPY documents (id, user_id, title, category, content, created_at) FROM STDIN",
        "loading documents",
    )
    .await?;
    for id in 1..=documents {
        let topic = TOPICS[g.rng.usize(..TOPICS.len())];
        let content = copy_text(&g.sentence(40));
        copy.row(&[
            &id.to_string(),
            &g.rng.u64(1..=users).to_string(),
            &format!("{topic} #{id}"),
            CATEGORIES[(id as usize * 7 + g.rng.usize(..3)) % CATEGORIES.len()],
            &content,
            &g.timestamp(),
        ])
        .await?;
    }
    summary.documents = copy.finish().await?;

    let mut copy = Copy::start(
        tx,
        "COPY document_chunks (id, document_id, chunk_index, content, embedding, token_count, \
         created_at) FROM STDIN",
        "loading document_chunks",
    )
    .await?;
    let mut chunk_id = 0u64;
    for doc in 1..=documents {
        let cluster = (doc as usize) % CLUSTERS;
        for idx in 0..4 {
            chunk_id += 1;
            let content = g.sentence(30);
            let embedding = g.embedding(cluster);
            copy.row(&[
                &chunk_id.to_string(),
                &doc.to_string(),
                &idx.to_string(),
                &content,
                &embedding,
                &(30 + g.rng.u32(0..20)).to_string(),
                &g.timestamp(),
            ])
            .await?;
        }
    }
    summary.document_chunks = copy.finish().await?;

    let mut copy = Copy::start(
        tx,
        "COPY document_embeddings (id, document_id, embedding, metadata, created_at) FROM STDIN",
        "loading document_embeddings",
    )
    .await?;
    for doc in 1..=documents {
        let embedding = g.embedding(doc as usize % CLUSTERS);
        let metadata = format!(
            r#"{{"source": "{}", "pages": {}}}"#,
            ["upload", "crawler", "api"][g.rng.usize(..3)],
            g.rng.u32(1..40)
        );
        copy.row(&[
            &doc.to_string(),
            &doc.to_string(),
            &embedding,
            &metadata,
            &g.timestamp(),
        ])
        .await?;
    }
    summary.document_embeddings = copy.finish().await?;

    let mut copy = Copy::start(
        tx,
        "COPY ai_logs (id, user_id, request, response, model, tokens_used, cost, latency_ms, \
         created_at) FROM STDIN",
        "loading ai_logs",
    )
    .await?;
    for id in 1..=documents * 2 {
        let tokens = g.rng.u32(50..4000);
        copy.row(&[
            &id.to_string(),
            &g.rng.u64(1..=users).to_string(),
            &g.sentence(12),
            &g.sentence(25),
            MODELS[g.rng.usize(..MODELS.len())],
            &tokens.to_string(),
            &format!("{:.4}", tokens as f64 * 0.000_002),
            &g.rng.u32(80..4000).to_string(),
            &g.timestamp(),
        ])
        .await?;
    }
    summary.ai_logs = copy.finish().await?;

    // COPY with explicit ids leaves the serial sequences behind; move them past the data.
    for t in crate::TABLES {
        tx.batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('public.{t}', 'id'), \
             (SELECT coalesce(max(id), 0) + 1 FROM public.{t}), false)"
        ))
        .await
        .map_err(db("advancing sequences"))?;
    }
    Ok(summary)
}
