//! A `vector` column with more than 2,000 dimensions (or a `halfvec` with more than 4,000):
//! more than pgvector's HNSW and IVFFlat indexes accept.
//!
//! ## Why
//! pgvector indexes `vector` up to 2,000 dimensions and `halfvec` up to 4,000 (the 8 kB page
//! limit). Embeddings such as OpenAI's 3,072-dimension `text-embedding-3-large` can then only be
//! searched exactly, scanning every row.
//!
//! ## Example
//! ```sql
//! CREATE TABLE chunks (id bigint PRIMARY KEY, embedding vector(3072));
//! ```
//!
//! ## Instead
//! Index a half-precision expression (up to 4,000 dims), or binary quantization with a re-rank:
//! ```sql
//! CREATE INDEX CONCURRENTLY ON chunks USING hnsw ((embedding::halfvec(3072)) halfvec_cosine_ops);
//! ```
//! or store fewer dimensions (models with Matryoshka embeddings allow truncation).
//!
//! ## References
//! - pgvector README, "Indexing" limits and "Half-Precision Indexing", "Binary Quantization".

use crate::util::{own_tables, table_label};
use crate::{Context, registry::diag};
use dbarch_model::{Database, VectorKind};
use dbarch_report::Diagnostic;

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        for c in &t.columns {
            let Some(v) = c.vector_type() else { continue };
            let Some(dims) = v.dims else { continue };
            let limit = match v.kind {
                VectorKind::Vector => 2000,
                VectorKind::Halfvec => 4000,
                // sparsevec indexes limit non-zero elements, not dimensions.
                VectorKind::Sparsevec => continue,
            };
            if dims <= limit {
                continue;
            }
            // Already indexed the way the rule advises: an ANN index on an expression of the
            // column (`(embedding::halfvec(3072))`, `(binary_quantize(embedding))::bit(D)`).
            let expression_indexed = t.indexes.iter().any(|i| {
                matches!(i.method.as_str(), "hnsw" | "ivfflat")
                    && i.keys.iter().any(|k| {
                        matches!(&k.target, dbarch_model::IndexTarget::Expression(e) if e.contains(&c.name))
                    })
            });
            if expression_indexed {
                continue;
            }
            let hint = match v.kind {
                VectorKind::Vector if dims <= 4000 => format!(
                    "index (({}::halfvec({dims}))) with halfvec_cosine_ops, or binary quantization",
                    c.name
                ),
                _ => "binary quantization (bit) with a re-rank, or fewer dimensions".to_string(),
            };
            out.push(
                diag(
                    "V003",
                    format!(
                        "{}.{} has {dims} dimensions: pgvector indexes at most {limit}; use {hint}",
                        table_label(t),
                        c.name
                    ),
                )
                .with_object(format!("{}.{}", table_label(t), c.name)),
            );
        }
    }
}
