//! A pgvector column (`vector`, `halfvec`, `sparsevec`) with no HNSW or IVFFlat index.
//!
//! ## Why
//! Without an approximate-nearest-neighbour index every similarity query
//! (`ORDER BY embedding <=> $1 LIMIT k`) computes the distance to every row: latency grows
//! linearly with the table, far past interactive budgets (the seed's P95 < 50 ms) at a few
//! hundred thousand embeddings.
//!
//! ## Example
//! ```sql
//! CREATE TABLE chunks (id bigint PRIMARY KEY, embedding vector(384));
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE INDEX CONCURRENTLY chunks_embedding_idx ON chunks USING hnsw (embedding vector_cosine_ops);
//! ```
//! Pick the operator class of the distance your queries use (`<=>` cosine, `<->` L2, `<#>`
//! inner product). Exact search stays right for small tables or very selective filters.
//!
//! ## References
//! - pgvector README, "Indexing" (HNSW and IVFFlat).

use crate::util::{index_name, own_tables, table_label, table_sql};
use crate::{Context, registry::diag};
use dbarch_model::{Database, IndexTarget, VectorKind, quote_ident};
use dbarch_report::Diagnostic;

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        for c in t.columns.iter() {
            let Some(v) = c.vector_type() else { continue };
            let indexed = t.indexes.iter().any(|i| {
                matches!(i.method.as_str(), "hnsw" | "ivfflat")
                    && i.keys.iter().any(|k| match &k.target {
                        IndexTarget::Column(name) => *name == c.name,
                        IndexTarget::Expression(e) => e.contains(&c.name),
                    })
            });
            if indexed {
                continue;
            }
            let opclass = match v.kind {
                VectorKind::Vector => "vector_cosine_ops",
                VectorKind::Halfvec => "halfvec_cosine_ops",
                VectorKind::Sparsevec => "sparsevec_cosine_ops",
            };
            out.push(
                diag(
                    "V001",
                    format!(
                        "vector column {}.{} has no HNSW or IVFFlat index: similarity search scans every row",
                        table_label(t),
                        c.name
                    ),
                )
                .with_object(format!("{}.{}", table_label(t), c.name))
                .with_help("Index it with the operator class of the distance the queries use.")
                .with_fix(format!(
                    "CREATE INDEX CONCURRENTLY {} ON {} USING hnsw ({} {opclass});",
                    index_name(&t.name, &[c.name.as_str()]),
                    table_sql(t),
                    quote_ident(&c.name)
                )),
            );
        }
    }
}
