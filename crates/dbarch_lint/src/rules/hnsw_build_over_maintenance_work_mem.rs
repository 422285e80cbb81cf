//! `CREATE INDEX ... USING hnsw` on an existing table whose graph will not fit in
//! `maintenance_work_mem` (catalog-aware: needs the table's row count and the setting).
//!
//! ## Why
//! pgvector builds the HNSW graph in memory and is many times faster while it fits in
//! `maintenance_work_mem`; once it does not, it logs "hnsw graph no longer fits into
//! maintenance_work_mem" and inserts the remaining rows one by one into the on-disk index —
//! a build of minutes becomes hours, with the table locked (`SHARE`, or writes slowed under
//! `CONCURRENTLY`) throughout. The setting is per session, so it can be raised just for the
//! build.
//!
//! The estimate is a lower bound per row: the vector (4 bytes per dimension for `vector`,
//! 2 for `halfvec`, plus an 8-byte header) and its layer-0 neighbour list (`2 * m` entries of
//! 16 bytes, pgvector's `HnswCandidate`), times the catalog's row estimate. It is silent
//! without catalog statistics, without a known `maintenance_work_mem`, for partial indexes,
//! for `sparsevec`/`bit` columns, and when the file sets `maintenance_work_mem` high enough
//! before the build.
//!
//! ## Example
//! ```sql
//! -- items: 5M rows of vector(1536); maintenance_work_mem = 64MB
//! CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);
//! ```
//!
//! ## Instead
//! ```sql
//! SET maintenance_work_mem = '32GB';   -- the estimate, if the server has that much free RAM
//! CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);
//! ```
//! If the server cannot spare the memory, use `halfvec` (half the size) or build on a
//! replica-sized machine and accept the slower build.
//!
//! ## References
//! - pgvector README, "Index Build Time" ("Indexes build significantly faster when the graph
//!   fits into maintenance_work_mem"); pgvector source `hnsw.h` (`HnswCandidate`).

use super::table_changes::int_option;
use crate::migration::ast::{self, RelName};
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

pub(crate) fn check(stmts: &[Statement], state: &State, out: &mut Vec<Diagnostic>) {
    let Some(setting) = state.ctx.maintenance_work_mem else {
        return;
    };
    let mut mem = setting;
    let mut created: Vec<RelName> = Vec::new();
    for stmt in stmts {
        match stmt.node {
            NodeEnum::CreateStmt(c) => {
                if let Some(r) = &c.relation {
                    created.push(RelName::of(r));
                }
            }
            NodeEnum::VariableSetStmt(v) if v.name.eq_ignore_ascii_case("maintenance_work_mem") => {
                // SET ... TO DEFAULT / RESET: back to the server's setting; an unreadable value:
                // unknown, stay silent from here.
                mem = if v.args.is_empty() {
                    setting
                } else {
                    v.args.first().and_then(setting_bytes).unwrap_or(u64::MAX)
                };
            }
            NodeEnum::IndexStmt(ix) if ix.access_method.eq_ignore_ascii_case("hnsw") => {
                let Some(rv) = &ix.relation else { continue };
                let rel = RelName::of(rv);
                if created.iter().any(|c| c.matches(&rel)) || ix.where_clause.is_some() {
                    continue;
                }
                let Some(rows) = state
                    .table(&rel)
                    .and_then(|t| t.stats.as_ref())
                    .map(|s| s.estimated_rows)
                    .filter(|r| *r > 0)
                else {
                    continue;
                };
                let Some(column) = ix
                    .index_params
                    .first()
                    .and_then(|p| match p.node.as_ref()? {
                        NodeEnum::IndexElem(e) if !e.name.is_empty() => Some(e.name.clone()),
                        _ => None,
                    })
                else {
                    continue;
                };
                let Some(t) = state.column_type(&rel, &column) else {
                    continue;
                };
                let per_dim = match t.name.as_str() {
                    "vector" => 4,
                    "halfvec" => 2,
                    _ => continue,
                };
                let Some(&dims) = t.mods.first().filter(|d| **d > 0) else {
                    continue;
                };
                let m = int_option(&ix.options, "m").flatten().unwrap_or(16).max(2);
                let per_row = (dims * per_dim + 8 + 2 * m * 16) as u64;
                let estimate = per_row.saturating_mul(rows as u64);
                if estimate <= mem {
                    continue;
                }
                let want = round_up(estimate);
                out.push(
                    stmt.diag(
                        "V008",
                        format!(
                            "the HNSW graph of {rel}.{column} needs about {} (~{} rows of {}, m = {m}) \
                             but maintenance_work_mem is {}: the build spills to disk and is many \
                             times slower",
                            human(estimate),
                            rows,
                            t.display(),
                            human(mem)
                        ),
                    )
                    .with_object(rel.to_string())
                    .with_help(
                        "Raise maintenance_work_mem for this session just before the build (if \
                         the server has the memory free), or store halfvec to halve the graph.",
                    )
                    .with_fix(format!(
                        "SET maintenance_work_mem = '{want}';\n{};",
                        stmt.text().trim_end_matches(';')
                    )),
                );
            }
            _ => {}
        }
    }
}

/// A `SET maintenance_work_mem` value in bytes: an integer is kB; a string may carry a unit.
fn setting_bytes(n: &pg_query::protobuf::Node) -> Option<u64> {
    let raw = match n.node.as_ref()? {
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            pg_query::protobuf::a_const::Val::Ival(i) => {
                return u64::try_from(i.ival).ok().map(|k| k * 1024);
            }
            pg_query::protobuf::a_const::Val::Sval(s) => s.sval.clone(),
            _ => return None,
        },
        _ => {
            return ast::int_value(n)
                .and_then(|k| u64::try_from(k).ok())
                .map(|k| k * 1024);
        }
    };
    let s = raw.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim() {
        "" | "kB" => 1 << 10,
        "B" => 1,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return None,
    };
    num.checked_mul(mult)
}

/// The estimate rounded up to a setting: whole MB below 1 GB, whole GB above.
fn round_up(bytes: u64) -> String {
    if bytes < 1 << 30 {
        format!("{}MB", bytes.div_ceil(1 << 20))
    } else {
        format!("{}GB", bytes.div_ceil(1 << 30))
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{} MB", bytes.div_ceil(1 << 20))
    }
}
