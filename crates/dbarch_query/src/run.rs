//! Running EXPLAIN: always in a transaction that is rolled back, so that `--analyze` of a
//! data-modifying statement (or of a SELECT calling a function that writes) never commits.

use crate::error::Error;
use crate::plan::Explain;
use crate::vector::{self, VectorIndex};
use std::collections::BTreeMap;
use tokio_postgres::{Client, SimpleQueryMessage};

/// What to explain.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub sql: &'a str,
    /// Values for `$1..`, as SQL literals' text; `NULL` means SQL NULL. Empty: a generic plan.
    pub params: &'a [String],
    /// EXPLAIN ANALYZE (executes the statement, then rolls back).
    pub analyze: bool,
}

/// The plan and what the findings need to know about the database.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub explain: Explain,
    /// hnsw/ivfflat indexes of the database (read only when the query uses a vector operator).
    pub vector_indexes: Vec<VectorIndex>,
    /// `pg_class.reltuples` of the plan's relations (by the name the plan shows), so that a
    /// plain EXPLAIN can tell a large table from a small one.
    pub table_rows: BTreeMap<String, f64>,
    pub server_version_num: i32,
    /// The statement as explained (trailing semicolons removed).
    pub sql: String,
}

const PREPARED: &str = "dbarch_explain";

pub async fn explain(client: &Client, req: &Request<'_>) -> Result<Outcome, Error> {
    // Leading whitespace is kept so that PostgreSQL's error positions map onto the input.
    let sql = req
        .sql
        .trim_end_matches(|c: char| c.is_whitespace() || c == ';');
    if sql.trim().is_empty() {
        return Err(Error::Empty);
    }
    let version: i32 = simple_value(client, "SHOW server_version_num")
        .await?
        .trim()
        .parse()
        .unwrap_or(0);
    client
        .batch_execute("BEGIN")
        .await
        .map_err(Error::Database)?;
    let mut prepared = false;
    let result = explain_in_tx(client, req, sql, version, &mut prepared).await;
    // Best effort: the connection is dropped after this anyway, which also rolls back.
    let _ = client.batch_execute("ROLLBACK").await;
    // PREPARE is not transactional: drop ours so that the session can explain again.
    if prepared {
        let _ = client
            .batch_execute(&format!("DEALLOCATE {PREPARED}"))
            .await;
    }
    let (explain, vector_indexes, table_rows) = result?;
    Ok(Outcome {
        explain,
        vector_indexes,
        table_rows,
        server_version_num: version,
        sql: sql.to_owned(),
    })
}

async fn explain_in_tx(
    client: &Client,
    req: &Request<'_>,
    sql: &str,
    version: i32,
    prepared: &mut bool,
) -> Result<(Explain, Vec<VectorIndex>, BTreeMap<String, f64>), Error> {
    // Preparing parses and analyzes without executing: syntax errors surface here with
    // positions relative to the user's text, and we learn the number of parameters.
    let stmt = client
        .prepare(sql)
        .await
        .map_err(|e| Error::from_db(e, Some(sql)))?;
    let nparams = stmt.params().len();
    let options = if req.analyze {
        "ANALYZE, BUFFERS, SETTINGS, FORMAT JSON"
    } else {
        "SETTINGS, FORMAT JSON"
    };
    let command = if nparams == 0 {
        if !req.params.is_empty() {
            return Err(Error::ParamCount {
                expected: 0,
                given: req.params.len(),
            });
        }
        format!("EXPLAIN ({options}) {sql}")
    } else if !req.params.is_empty() {
        if req.params.len() != nparams {
            return Err(Error::ParamCount {
                expected: nparams,
                given: req.params.len(),
            });
        }
        prepare(client, sql).await?;
        *prepared = true;
        let values: Vec<String> = req.params.iter().map(|v| literal(v)).collect();
        format!(
            "EXPLAIN ({options}) EXECUTE {PREPARED}({})",
            values.join(", ")
        )
    } else if req.analyze {
        return Err(Error::AnalyzeNeedsParams(nparams));
    } else if version >= 160000 {
        format!("EXPLAIN (GENERIC_PLAN, {options}) {sql}")
    } else {
        // PostgreSQL 15 has no GENERIC_PLAN: force the generic plan of a prepared statement;
        // the NULLs are never used to pick the plan.
        prepare(client, sql).await?;
        *prepared = true;
        client
            .batch_execute("SET LOCAL plan_cache_mode = force_generic_plan")
            .await
            .map_err(Error::Database)?;
        let nulls = vec!["NULL"; nparams].join(", ");
        format!("EXPLAIN ({options}) EXECUTE {PREPARED}({nulls})")
    };
    let text = simple_value(client, &command).await.map_err(|e| match e {
        Error::Database(e) => Error::from_db(e, None),
        other => other,
    })?;
    let mut explain = Explain::from_json(&text).map_err(Error::Parse)?;
    explain.analyzed = req.analyze;
    let vector_indexes = if vector::uses_vector_operator(sql) {
        vector::indexes(client).await.map_err(Error::Database)?
    } else {
        Vec::new()
    };
    let table_rows = table_rows(client, &explain).await?;
    Ok((explain, vector_indexes, table_rows))
}

/// Row estimates of the relations the plan scans, resolved through the session's
/// search_path as the query's own names were.
async fn table_rows(client: &Client, explain: &Explain) -> Result<BTreeMap<String, f64>, Error> {
    let mut names: Vec<String> = explain
        .nodes()
        .into_iter()
        .filter_map(|(_, n)| n.relation_name.clone())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = client
        .query(include_str!("sql/table_rows.sql"), &[&names])
        .await
        .map_err(Error::Database)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

async fn prepare(client: &Client, sql: &str) -> Result<(), Error> {
    client
        .batch_execute(&format!("PREPARE {PREPARED} AS {sql}"))
        .await
        .map_err(|e| Error::from_db(e, None))
}

/// A parameter value as an untyped SQL literal: PostgreSQL coerces it to the parameter's type.
fn literal(value: &str) -> String {
    if value == "NULL" {
        "NULL".to_owned()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// The first column of the first row, through the simple protocol (text, any type).
async fn simple_value(client: &Client, sql: &str) -> Result<String, Error> {
    let messages = client.simple_query(sql).await.map_err(Error::Database)?;
    let mut out = String::new();
    for m in messages {
        if let SimpleQueryMessage::Row(row) = m {
            out.push_str(row.get(0).unwrap_or_default());
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn literals() {
        assert_eq!(super::literal("it's"), "'it''s'");
        assert_eq!(super::literal("NULL"), "NULL");
    }
}
