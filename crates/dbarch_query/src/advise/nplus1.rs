//! N+1 detection. From pg_stat_statements: a single-key lookup (`SELECT ... FROM t WHERE
//! col = $1`, nothing else) called very often with about one row per call, whose "parent"
//! query exists (another statement of the workload reads the table the key relates to: the
//! table its foreign key references, or a table referencing it). From a statement log with
//! session ids: the same fingerprint repeated at least 5 times in one transaction. Either way
//! the batched rewrite (`= ANY($1)`) is suggested.

use super::ast::{Analysis, PredKind, StmtKind};
use super::catalog::TableInfo;
use super::workload::WorkloadQuery;

#[derive(Debug, Clone, serde::Serialize)]
pub struct NPlusOne {
    /// The repeated statement.
    pub query: String,
    pub sql: String,
    pub table: String,
    pub column: String,
    pub calls: f64,
    /// The statement that likely drives the loop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Where it was seen: `pg_stat_statements` or `log: session S, transaction X (N times)`.
    pub evidence: String,
    pub rewrite: String,
}

/// Thresholds of the pg_stat_statements rule.
pub const MIN_CALLS: f64 = 1000.0;

/// `= $n` → `= ANY($n)` (an array of the parent's keys): one statement instead of N.
pub fn batched(sql: &str, param: i32) -> String {
    let needle = format!("= ${param}");
    match sql.find(&needle) {
        Some(i) => format!("{}= ANY(${param}){}", &sql[..i], &sql[i + needle.len()..]),
        None => sql.to_owned(),
    }
}

/// N+1 candidates among the analyzed workload (`resolved[i]`: the query's advisor tables).
pub fn from_statements(
    queries: &[WorkloadQuery],
    analyses: &[Option<Analysis>],
    resolved: &[Vec<usize>],
    tables: &[TableInfo],
    min_calls: f64,
) -> Vec<NPlusOne> {
    let mut out = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let Some(a) = &analyses[i] else { continue };
        let (Some(rows), true) = (q.rows_per_call, q.calls >= min_calls) else {
            continue;
        };
        if !(0.5..=1.5).contains(&rows) {
            continue;
        }
        if a.kind != StmtKind::Select
            || a.tables.len() != 1
            || !a.joins.is_empty()
            || a.preds.len() != 1
        {
            continue;
        }
        let p = &a.preds[0];
        if p.kind != PredKind::Eq || p.constant.is_some() {
            continue;
        }
        let Some(&(param, _)) = a.params.iter().find(|(_, c)| c.name == p.col.name) else {
            continue;
        };
        let Some(&t) = resolved[i].first() else {
            continue;
        };
        let info = &tables[t];
        // The tables this key relates to.
        let mut related: Vec<i64> = info
            .foreign_keys
            .iter()
            .filter(|(cols, _, _)| cols == std::slice::from_ref(&p.col.name))
            .map(|(_, r, _)| *r)
            .collect();
        if info.primary_key == std::slice::from_ref(&p.col.name) {
            related.extend(
                tables
                    .iter()
                    .filter(|o| o.foreign_keys.iter().any(|(_, r, _)| *r == info.oid))
                    .map(|o| o.oid),
            );
        }
        let parent = queries.iter().enumerate().find(|(j, _)| {
            *j != i
                && resolved[*j]
                    .iter()
                    .any(|&t| related.contains(&tables[t].oid))
        });
        let Some((_, parent)) = parent else { continue };
        out.push(NPlusOne {
            query: q.name.clone(),
            sql: q.sql.clone(),
            table: info.qualified(),
            column: p.col.name.clone(),
            calls: q.calls,
            parent: Some(parent.name.clone()),
            evidence: format!(
                "pg_stat_statements: {:.0} calls, {rows:.2} rows per call",
                q.calls
            ),
            rewrite: batched(&q.sql, param),
        });
    }
    out
}

/// From a statement log whose lines carry the session and transaction (`log_line_prefix`
/// with `%c` and `%x`, or csvlog): each line parsed by `parse_line` into (session,
/// transaction, statement). The same fingerprint at least `min_repeats` times in one
/// transaction is reported once per fingerprint.
pub fn from_log(text: &str, min_repeats: usize) -> Vec<NPlusOne> {
    use std::collections::BTreeMap;
    let mut counts: BTreeMap<(String, String, String), (usize, String)> = BTreeMap::new();
    for line in text.lines() {
        let Some((session, xact, sql)) = parse_line(line) else {
            continue;
        };
        let Some(fp) = super::ast::fingerprint(&sql) else {
            continue;
        };
        let e = counts.entry((session, xact, fp)).or_insert((0, sql));
        e.0 += 1;
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for ((session, xact, fp), (n, sql)) in counts {
        if n < min_repeats || !seen.insert(fp) {
            continue;
        }
        let Ok(a) = super::ast::analyze(&sql) else {
            continue;
        };
        let Some(p) = a.preds.iter().find(|p| p.kind == PredKind::Eq) else {
            continue;
        };
        let table = a.tables.first().map(|t| t.name.clone()).unwrap_or_default();
        let normalized = pg_query::normalize(&sql).unwrap_or(sql.clone());
        let param = a
            .params
            .iter()
            .find(|(_, c)| c.name == p.col.name)
            .map_or(1, |(n, _)| *n);
        out.push(NPlusOne {
            query: fp_short(&normalized),
            rewrite: batched(&normalized, param),
            sql: normalized,
            table,
            column: p.col.name.clone(),
            calls: n as f64,
            parent: None,
            evidence: format!("log: session {session}, transaction {xact} ({n} times)"),
        });
    }
    out
}

fn fp_short(sql: &str) -> String {
    let s: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.len() > 60 {
        let mut cut = 60;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &s[..cut])
    } else {
        s
    }
}

/// `[session=S xact=X] ... LOG:  statement: SQL` (any prefix holding `S` and `X` as the
/// first two `[..]`-free tokens `session=`/`xact=`), or the text format
/// `... [S] [X] LOG:  statement: SQL`, where the prefix's first two bracketed fields are the
/// session and the transaction id (`log_line_prefix = '%m [%c] [%x] '`).
fn parse_line(line: &str) -> Option<(String, String, String)> {
    let idx = line.find("statement: ")?;
    let sql = line[idx + "statement: ".len()..].trim().to_owned();
    let prefix = &line[..idx];
    let mut fields = prefix
        .split('[')
        .skip(1)
        .filter_map(|s| s.split(']').next().map(str::to_owned));
    let session = fields.next()?;
    let xact = fields.next()?;
    if xact == "0" {
        // Outside a transaction with an id (autocommit reads): group by session only.
        return Some((session, "autocommit".into(), sql));
    }
    Some((session, xact, sql))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rewrite_and_log() {
        assert_eq!(
            super::batched("SELECT * FROM c WHERE p_id = $1", 1),
            "SELECT * FROM c WHERE p_id = ANY($1)"
        );
        let mut log = String::new();
        for i in 0..6 {
            log.push_str(&format!(
                "2026-11-25 10:00:00.000 UTC [6563a1.1] [734] LOG:  statement: SELECT * FROM chunks WHERE document_id = {i}\n"
            ));
        }
        log.push_str("2026-11-25 10:00:00.000 UTC [6563a1.1] [734] LOG:  statement: SELECT * FROM documents WHERE user_id = 1\n");
        let found = super::from_log(&log, 5);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].column, "document_id");
        assert_eq!(found[0].calls, 6.0);
        assert!(
            found[0].rewrite.contains("= ANY($1)"),
            "{}",
            found[0].rewrite
        );
    }
}
