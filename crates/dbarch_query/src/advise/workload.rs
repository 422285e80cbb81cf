//! The workload: statements from a `.sql` file (named by `-- name: NAME` comments, `$n`
//! parameters allowed) or the top statements of pg_stat_statements, grouped by libpg_query
//! fingerprint.

use super::AdviseError;
use tokio_postgres::Client;

/// One normalized statement of the workload.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkloadQuery {
    pub name: String,
    pub sql: String,
    pub fingerprint: String,
    /// How often it runs: pg_stat_statements' calls, or how many times the file repeats it.
    pub calls: f64,
    /// pg_stat_statements' mean execution time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_ms: Option<f64>,
    /// pg_stat_statements' rows per call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_per_call: Option<f64>,
    /// 1-based line of the statement in its file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Workload {
    /// `FILE.sql` or `pg_stat_statements`.
    pub source: String,
    pub queries: Vec<WorkloadQuery>,
}

/// The statements of a `.sql` file, grouped by fingerprint (a repeated statement counts as
/// more calls). Statements libpg_query cannot parse are kept: the server reports their error
/// with a position when the advisor prepares them.
pub fn from_sql(text: &str, source: &str) -> Workload {
    let pieces = pg_query::split_with_scanner(text).unwrap_or_else(|_| vec![text]);
    let mut queries: Vec<WorkloadQuery> = Vec::new();
    for piece in pieces {
        let offset = piece.as_ptr() as usize - text.as_ptr() as usize;
        let mut name = None;
        let mut body_start = None;
        let mut pos = 0;
        for line in piece.split_inclusive('\n') {
            let t = line.trim();
            if body_start.is_none() {
                if let Some(n) = t.strip_prefix("-- name:") {
                    name = Some(n.trim().to_owned());
                } else if !t.is_empty() && !t.starts_with("--") {
                    body_start = Some(pos + (line.len() - line.trim_start().len()));
                }
            }
            pos += line.len();
        }
        let Some(start) = body_start else { continue };
        let sql = piece[start..]
            .trim_end()
            .trim_end_matches(';')
            .trim_end()
            .to_owned();
        if sql.is_empty() {
            continue;
        }
        let line = 1 + text[..offset + start].matches('\n').count() as u32;
        let fingerprint = super::ast::fingerprint(&sql).unwrap_or_else(|| format!("line{line}"));
        if let Some(q) = queries.iter_mut().find(|q| q.fingerprint == fingerprint) {
            q.calls += 1.0;
            continue;
        }
        queries.push(WorkloadQuery {
            name: name.unwrap_or_else(|| format!("{source}:{line}")),
            sql,
            fingerprint,
            calls: 1.0,
            mean_ms: None,
            rows_per_call: None,
            line: Some(line),
        });
    }
    Workload {
        source: source.to_owned(),
        queries,
    }
}

const STATEMENTS: &str = "\
SELECT s.query, sum(s.calls)::float8, sum(s.total_exec_time)::float8, sum(s.rows)::float8
FROM pg_stat_statements s
JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = current_database()
  AND s.query !~* '(pg_stat_statements|hypopg|pg_catalog\\.|information_schema\\.)'
GROUP BY s.query
ORDER BY 3 DESC";

/// The `top` statements of pg_stat_statements by total execution time (this database's only),
/// SELECT / INSERT / UPDATE / DELETE on user tables, grouped by fingerprint.
pub async fn from_pg_stat_statements(client: &Client, top: usize) -> Result<Workload, AdviseError> {
    let installed = client
        .query_opt(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'",
            &[],
        )
        .await
        .map_err(|e| AdviseError::db("checking for pg_stat_statements", e))?;
    if installed.is_none() {
        return Err(AdviseError::Input(
            "pg_stat_statements is not installed in this database: add it to \
             shared_preload_libraries, restart, run CREATE EXTENSION pg_stat_statements and let \
             the application run for a while; or pass --workload FILE.sql"
                .into(),
        ));
    }
    let rows = client
        .query(STATEMENTS, &[])
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db) if db.code().code() == "55000" => AdviseError::Input(format!(
                "pg_stat_statements cannot be read: {} (add pg_stat_statements to \
                 shared_preload_libraries and restart; or pass --workload FILE.sql)",
                db.message()
            )),
            _ => AdviseError::db("reading pg_stat_statements", e),
        })?;
    let mut queries: Vec<WorkloadQuery> = Vec::new();
    for r in rows {
        let sql: String = r.get(0);
        let (calls, total, nrows): (f64, f64, f64) = (r.get(1), r.get(2), r.get(3));
        let sql = sql.trim().trim_end_matches(';').trim().to_owned();
        let Ok(a) = super::ast::analyze(&sql) else {
            continue;
        };
        if a.kind == super::ast::StmtKind::Other || a.tables.is_empty() {
            continue;
        }
        let Some(fingerprint) = super::ast::fingerprint(&sql) else {
            continue;
        };
        if let Some(q) = queries.iter_mut().find(|q| q.fingerprint == fingerprint) {
            q.calls += calls;
            continue;
        }
        if queries.len() >= top {
            continue;
        }
        queries.push(WorkloadQuery {
            name: format!("q{}", queries.len() + 1),
            sql,
            fingerprint,
            calls,
            mean_ms: (calls > 0.0).then(|| total / calls),
            rows_per_call: (calls > 0.0).then(|| nrows / calls),
            line: None,
        });
    }
    Ok(Workload {
        source: "pg_stat_statements".into(),
        queries,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_statements_names_lines_and_grouping() {
        let text = "-- a workload\n\n-- name: one\nSELECT 1 FROM t WHERE a = 7;\n\nSELECT 1 FROM t\n  WHERE a = 5;\n-- name: two\nselect b from t;\n";
        let w = super::from_sql(text, "w.sql");
        assert_eq!(w.queries.len(), 2, "{w:?}");
        assert_eq!(w.queries[0].name, "one");
        assert_eq!(w.queries[0].line, Some(4));
        assert_eq!(w.queries[0].calls, 2.0);
        assert_eq!(w.queries[1].name, "two");
        assert_eq!(w.queries[1].sql, "select b from t");
        assert_eq!(w.queries[1].line, Some(9));
    }
}
