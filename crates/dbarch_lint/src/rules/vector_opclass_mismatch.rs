//! A vector column whose queries order by one distance (`<->`, `<=>`, `<#>`, `<+>`) while its
//! HNSW/IVFFlat indexes are built for another: the planner cannot use them.
//!
//! ## Why
//! An ANN index serves exactly the distance of its operator class: `vector_l2_ops` for
//! `<->`, `vector_cosine_ops` for `<=>`, `vector_ip_ops` for `<#>`, `vector_l1_ops` for `<+>`
//! (and the `halfvec_*`, `sparsevec_*` and `bit_*` equivalents). A query ordering by another
//! distance falls back to an exact scan of every row, while the index costs memory and
//! write time for nothing. The rule speaks only when a workload is known.
//!
//! ## Example
//! ```sql
//! CREATE INDEX chunks_embedding_idx ON chunks USING hnsw (embedding vector_l2_ops);
//! -- workload: SELECT id FROM chunks ORDER BY embedding <=> $1 LIMIT 10;
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE INDEX CONCURRENTLY chunks_embedding_cos_idx ON chunks USING hnsw (embedding vector_cosine_ops);
//! ```
//! or change the queries to the index's distance (for normalized embeddings, `<#>` inner
//! product ranks like cosine and is the cheapest).
//!
//! ## References
//! - pgvector README, "Indexing": "add an index for each distance function you want to use".

use crate::util::{index_name, table_label};
use crate::workload::operator_uses;
use crate::{Context, registry::diag};
use dbarch_model::{Database, IndexTarget, quote_ident};
use dbarch_report::Diagnostic;

/// The operator class family suffix each distance operator needs.
fn suffix(op: &str) -> Option<&'static str> {
    Some(match op {
        "<->" => "l2_ops",
        "<=>" => "cosine_ops",
        "<#>" => "ip_ops",
        "<+>" => "l1_ops",
        "<~>" => "hamming_ops",
        "<%>" => "jaccard_ops",
        _ => return None,
    })
}

pub(crate) fn check(db: &Database, ctx: &Context, out: &mut Vec<Diagnostic>) {
    for u in operator_uses(db, &ctx.workload) {
        let Some(want) = suffix(&u.operator) else {
            continue;
        };
        let Some(t) = db
            .tables
            .iter()
            .find(|t| t.schema == u.schema && t.name == u.table)
        else {
            continue;
        };
        let Some(c) = t.columns.iter().find(|c| c.name == u.column) else {
            continue;
        };
        let Some(v) = c.vector_type() else { continue };
        let ann: Vec<_> = t
            .indexes
            .iter()
            .filter(|i| matches!(i.method.as_str(), "hnsw" | "ivfflat"))
            .filter_map(|i| {
                let k = i.keys.first()?;
                matches!(&k.target, IndexTarget::Column(n) if *n == u.column).then_some((i, k))
            })
            .collect();
        // No ANN index at all is V001's finding.
        if ann.is_empty() {
            continue;
        }
        let family = match v.kind {
            dbarch_model::VectorKind::Vector => "vector",
            dbarch_model::VectorKind::Halfvec => "halfvec",
            dbarch_model::VectorKind::Sparsevec => "sparsevec",
        };
        let family = if matches!(want, "hamming_ops" | "jaccard_ops") {
            "bit"
        } else {
            family
        };
        let matching = ann.iter().any(|(_, k)| {
            k.opclass
                .as_deref()
                .map_or(want == "l2_ops", |o| o.ends_with(want))
        });
        if matching {
            continue;
        }
        let have: Vec<String> = ann
            .iter()
            .map(|(i, k)| {
                format!(
                    "{} ({})",
                    i.name,
                    k.opclass.as_deref().unwrap_or("default l2")
                )
            })
            .collect();
        let method = ann[0].0.method.clone();
        out.push(
            diag(
                "V009",
                format!(
                    "{}.{} is ordered by {} in the workload, but its index {} serves another distance: those queries scan every row (e.g. {})",
                    table_label(t),
                    u.column,
                    u.operator,
                    have.join(", "),
                    u.query
                ),
            )
            .with_object(format!("{}.{}", table_label(t), u.column))
            .with_help(
                "Build the index with the operator class of the distance the queries use, or \
                 change the queries to the index's distance.",
            )
            .with_fix(format!(
                "CREATE INDEX CONCURRENTLY {} ON {} USING {method} ({} {family}_{want});",
                index_name(&t.name, &[u.column.as_str(), want.trim_end_matches("_ops")]),
                t.qualified_name().sql(),
                quote_ident(&u.column)
            )),
        );
    }
}
