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

/// From a statement log with session and transaction ids: PostgreSQL's csvlog (`.csv`:
/// session id, virtual transaction id, message), or a text log whose `log_line_prefix` puts
/// the session and the transaction in the first two bracketed fields (`'%m [%c] [%v] '`).
/// Statements (`statement: ...`, or `execute NAME: ...` of the extended protocol) are grouped
/// by fingerprint: the same one at least `min_repeats` times in one transaction, or that many
/// times in a row in one session (autocommit loops), is reported once per fingerprint.
pub fn from_log(text: &str, min_repeats: usize) -> Vec<NPlusOne> {
    use std::collections::BTreeMap;
    let entries: Vec<(String, String, String)> = if looks_like_csvlog(text) {
        csv_records(text)
            .into_iter()
            .filter_map(|r| csv_entry(&r))
            .collect()
    } else {
        text.lines().filter_map(parse_line).collect()
    };
    // (fingerprint) → (count, evidence, sql), the largest group kept.
    let mut found: BTreeMap<String, (usize, String, String)> = BTreeMap::new();
    let mut keep = |fp: &str, n: usize, evidence: String, sql: &str| {
        let e = found
            .entry(fp.to_owned())
            .or_insert((0, String::new(), sql.to_owned()));
        if n > e.0 {
            *e = (n, evidence, sql.to_owned());
        }
    };
    let mut per_xact: BTreeMap<(String, String, String), (usize, String)> = BTreeMap::new();
    let mut runs: BTreeMap<String, (String, usize, String)> = BTreeMap::new();
    let mut in_a_row: Vec<(String, usize, String, String)> = Vec::new();
    for (session, xact, sql) in entries {
        let Some(fp) = super::ast::fingerprint(&sql) else {
            continue;
        };
        let e = per_xact
            .entry((session.clone(), xact.clone(), fp.clone()))
            .or_insert((0, sql.clone()));
        e.0 += 1;
        let run = runs
            .entry(session.clone())
            .or_insert((String::new(), 0, String::new()));
        if run.0 == fp {
            run.1 += 1;
        } else {
            *run = (fp.clone(), 1, sql.clone());
        }
        if run.1 >= min_repeats {
            in_a_row.push((
                fp.clone(),
                run.1,
                format!("log: session {session} ({} times in a row)", run.1),
                sql.clone(),
            ));
        }
    }
    for ((session, xact, fp), (n, sql)) in per_xact {
        if n >= min_repeats {
            keep(
                &fp,
                n,
                format!("log: session {session}, transaction {xact} ({n} times)"),
                &sql,
            );
        }
    }
    // A loop inside one transaction says more than a run of autocommit statements.
    for (fp, n, evidence, sql) in in_a_row {
        keep(&fp, n, evidence, &sql);
    }
    let mut out = Vec::new();
    for (n, evidence, sql) in found.into_values() {
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
            evidence,
        });
    }
    out
}

/// The statement of a log message: `statement: SQL` or `execute NAME: SQL`.
fn statement_of(message: &str) -> Option<String> {
    if let Some(i) = message.find("statement: ") {
        return Some(message[i + "statement: ".len()..].trim().to_owned());
    }
    let i = message.find("execute ")?;
    let rest = &message[i + "execute ".len()..];
    let colon = rest.find(": ")?;
    Some(rest[colon + 2..].trim().to_owned())
}

fn looks_like_csvlog(text: &str) -> bool {
    text.lines().next().is_some_and(|l| {
        l.matches(',').count() >= 13 && l.chars().take(4).all(|c| c.is_ascii_digit())
    })
}

/// RFC 4180 records (quoted fields may hold commas, newlines and doubled quotes).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// csvlog: session_id is field 6, virtual_transaction_id 10, message 14 (1-based).
fn csv_entry(r: &[String]) -> Option<(String, String, String)> {
    let sql = statement_of(r.get(13)?)?;
    Some((r.get(5)?.clone(), r.get(9)?.clone(), sql))
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

/// A text log line: the prefix's first two bracketed fields are the session and the
/// transaction (`log_line_prefix = '%m [%c] [%v] '`).
fn parse_line(line: &str) -> Option<(String, String, String)> {
    let sql = statement_of(line)?;
    let end = line.find("LOG:").unwrap_or(line.len());
    let mut fields = line[..end]
        .split('[')
        .skip(1)
        .filter_map(|s| s.split(']').next().map(str::to_owned));
    Some((fields.next()?, fields.next()?, sql))
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
