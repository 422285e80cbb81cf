//! A pgvector index whose build parameters pgvector refuses: HNSW `m` outside 2–100,
//! `ef_construction` outside 4–1000 or below `2 * m`, IVFFlat `lists` outside 1–32768.
//!
//! ## Why
//! pgvector checks these options when the index is created and fails the statement
//! (`value 200 out of bounds for option "m"`, `ef_construction must be greater than or equal
//! to 2 * m`): the migration stops, usually in production after it passed on an empty
//! development database with other values. An option left out takes pgvector's default
//! (`m = 16`, `ef_construction = 64`, `lists = 100`), which is what the `2 * m` check is made
//! against.
//!
//! ## Example
//! ```sql
//! CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops)
//!     WITH (m = 64, ef_construction = 100);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops)
//!     WITH (m = 32, ef_construction = 128);
//! ```
//! Larger `m` and `ef_construction` raise recall and build time; the defaults suit most
//! tables up to a few million rows.
//!
//! ## References
//! - pgvector README, "HNSW" (index options) and "IVFFlat"; pgvector source `hnsw.c`
//!   (`HNSW_MIN_M`, `HNSW_MAX_M`, `HNSW_MIN_EF_CONSTRUCTION`, `HNSW_MAX_EF_CONSTRUCTION`) and
//!   `ivfflat.c` (`IVFFLAT_MAX_LISTS`).

use super::table_changes::int_option;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;

const M: (i64, i64) = (2, 100);
const EF: (i64, i64) = (4, 1000);
const LISTS: (i64, i64) = (1, 32768);

pub(crate) fn check(stmt: &Statement, _state: &State, out: &mut Vec<Diagnostic>) {
    let NodeEnum::IndexStmt(ix) = stmt.node else {
        return;
    };
    let mut problems = Vec::new();
    let mut fix_m = None;
    let mut fix_ef = None;
    match ix.access_method.to_ascii_lowercase().as_str() {
        "hnsw" => {
            let m = int_option(&ix.options, "m").flatten();
            let ef = int_option(&ix.options, "ef_construction").flatten();
            let m_val = m.unwrap_or(16);
            let ef_val = ef.unwrap_or(64);
            let m_ok = (M.0..=M.1).contains(&m_val);
            if !m_ok {
                problems.push(format!("m = {m_val} is outside {}..{}", M.0, M.1));
                fix_m = Some(m_val.clamp(M.0, M.1));
            }
            if !(EF.0..=EF.1).contains(&ef_val) {
                problems.push(format!(
                    "ef_construction = {ef_val} is outside {}..{}",
                    EF.0, EF.1
                ));
                fix_ef = Some(ef_val.clamp(EF.0, EF.1));
            }
            let m_fixed = fix_m.unwrap_or(m_val);
            let ef_fixed = fix_ef.unwrap_or(ef_val);
            if ef_fixed < 2 * m_fixed {
                if m_ok && (EF.0..=EF.1).contains(&ef_val) {
                    problems.push(format!(
                        "ef_construction = {ef_val}{} is below 2 * m = {}",
                        if ef.is_none() { " (the default)" } else { "" },
                        2 * m_val
                    ));
                }
                fix_ef = Some((2 * m_fixed).clamp(EF.0, EF.1));
            }
        }
        "ivfflat" => {
            if let Some(lists) = int_option(&ix.options, "lists").flatten()
                && !(LISTS.0..=LISTS.1).contains(&lists)
            {
                problems.push(format!(
                    "lists = {lists} is outside {}..{}",
                    LISTS.0, LISTS.1
                ));
            }
        }
        _ => return,
    }
    if problems.is_empty() {
        return;
    }
    let fix = if ix.access_method.eq_ignore_ascii_case("hnsw") {
        let m = fix_m
            .or(int_option(&ix.options, "m").flatten())
            .unwrap_or(16);
        let ef = fix_ef
            .or(int_option(&ix.options, "ef_construction").flatten())
            .unwrap_or(64);
        format!("WITH (m = {m}, ef_construction = {ef})")
    } else {
        "WITH (lists = 100)  -- rows / 1000 up to 1M rows, sqrt(rows) above".to_string()
    };
    out.push(
        stmt.diag(
            "V004",
            format!(
                "pgvector refuses this {} index: {}",
                ix.access_method.to_ascii_lowercase(),
                problems.join("; ")
            ),
        )
        .with_object(
            ix.relation
                .as_ref()
                .map(|r| crate::migration::ast::RelName::of(r).to_string())
                .unwrap_or_default(),
        )
        .with_help(
            "Keep HNSW m within 2..100 and ef_construction within 4..1000 and at least 2 * m; \
             IVFFlat lists within 1..32768.",
        )
        .with_fix(fix),
    );
}
