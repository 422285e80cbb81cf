//! `CREATE INDEX ... USING ivfflat` on a table that holds no rows: created in the same file
//! (and not loaded before the index), or empty in the catalog.
//!
//! ## Why
//! An IVFFlat index partitions the vectors into `lists` clusters whose centers are computed
//! by k-means on the rows present when the index is built; they never move afterwards. Built
//! on an empty table, the centers are not drawn from the data, the rows inserted later pile
//! into a few lists, and searches that probe `ivfflat.probes` lists miss most neighbours:
//! recall is poor until the index is rebuilt. An `INSERT` or `COPY` into the table earlier in
//! the file counts as loading it.
//!
//! ## Example
//! ```sql
//! CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(384));
//! CREATE INDEX items_embedding_idx ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 100);
//! ```
//!
//! ## Instead
//! Load the data first and build the index afterwards (`lists` ≈ rows / 1000), or use HNSW,
//! which needs no training data:
//! ```sql
//! CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops);
//! ```
//!
//! ## References
//! - pgvector README, "IVFFlat": "Create the index after the table has some data".

use crate::migration::ast::RelName;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

pub(crate) fn check(stmts: &[Statement], state: &State, out: &mut Vec<Diagnostic>) {
    let mut created: Vec<RelName> = Vec::new();
    let mut loaded: Vec<RelName> = Vec::new();
    // A DO block or procedure call may load anything.
    let mut opaque = false;
    for stmt in stmts {
        match stmt.node {
            NodeEnum::CreateStmt(c) => {
                if let Some(r) = &c.relation {
                    let rel = RelName::of(r);
                    loaded.retain(|l| !l.matches(&rel));
                    created.push(rel);
                }
            }
            NodeEnum::InsertStmt(i) => {
                if let Some(r) = &i.relation {
                    loaded.push(RelName::of(r));
                }
            }
            NodeEnum::CopyStmt(c) if c.is_from => {
                if let Some(r) = &c.relation {
                    loaded.push(RelName::of(r));
                }
            }
            NodeEnum::DoStmt(_) | NodeEnum::CallStmt(_) => opaque = true,
            NodeEnum::IndexStmt(ix) if ix.access_method.eq_ignore_ascii_case("ivfflat") => {
                let Some(rv) = &ix.relation else { continue };
                let rel = RelName::of(rv);
                if opaque || loaded.iter().any(|l| l.matches(&rel)) {
                    continue;
                }
                let why = if created.iter().any(|c| c.matches(&rel)) {
                    "created in this file and not loaded yet"
                } else if state.is_empty_in_catalog(&rel) {
                    "empty in the catalog"
                } else {
                    continue;
                };
                let mut hnsw = (**ix).clone();
                hnsw.access_method = "hnsw".to_string();
                hnsw.options.clear();
                let fix = NodeEnum::IndexStmt(Box::new(hnsw))
                    .deparse(Default::default())
                    .map_or_else(|_| stmt.text().to_string(), |s| format!("{s};"));
                out.push(
                    stmt.diag(
                        "V006",
                        format!(
                            "ivfflat index on {rel}, which is {why}: its list centers are trained \
                             on no rows, so recall will be poor"
                        ),
                    )
                    .with_object(rel.to_string())
                    .with_help(
                        "Build the IVFFlat index after loading the data (lists ≈ rows / 1000), or \
                         use HNSW, which needs no training rows.",
                    )
                    .with_fix(fix),
                );
            }
            _ => {}
        }
    }
}
