//! k-nearest search, with metadata filters that keep LIMIT full: pgvector 0.8's iterative
//! index scans (`hnsw.iterative_scan` / `ivfflat.iterative_scan = relaxed_order`) go on
//! scanning the index until `k` rows pass the filter (up to `hnsw.max_scan_tuples`), and a
//! materialized CTE puts the relaxed order back into exact distance order (pgvector README,
//! "Iterative Index Scans"). Runs in a read-only transaction.

use crate::load::{param, resolve};
use crate::{Error, Metric, Result, ident};
use dbarch_pg::tokio_postgres::Client;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub distance: f64,
    /// The row's other columns.
    pub row: serde_json::Value,
}

/// Parses `[1, 2, 3]`.
pub fn parse_vector(s: &str) -> Result<Vec<f32>> {
    let t = s.trim();
    let inner = t
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| Error::input(format!("{t:?}: expected a vector like [0.1, 0.2, ...]")))?;
    let v = inner
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f32>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Error::input(format!("{:?} is not a finite number", p.trim())))
        })
        .collect::<Result<Vec<f32>>>()?;
    Ok(v)
}

/// The `k` rows of `table` nearest to `query` among those matching `filter` (SQL).
pub async fn search(
    client: &mut Client,
    table: &str,
    column: &str,
    query: &[f32],
    k: usize,
    filter: Option<&str>,
    metric: Option<Metric>,
) -> Result<Vec<Hit>> {
    let target = resolve(&*client, table, column).await?;
    if let Some(d) = target.dims
        && d as usize != query.len()
    {
        return Err(Error::input(format!(
            "the query has {} dimensions, {}.{} is {}",
            query.len(),
            target.table,
            target.column,
            target.data_type
        )));
    }
    let metric = match metric {
        Some(m) => m,
        None => crate::tune::existing_metric(client, &target)
            .await?
            .unwrap_or(Metric::Cosine),
    };
    let col = ident(column);
    let op = metric.operator();
    let filter = filter.map(|f| format!("WHERE ({f})")).unwrap_or_default();
    let sql = format!(
        "WITH relaxed AS MATERIALIZED (\
           SELECT t, ({col} {op} $1)::float8 AS distance FROM {} t {filter} \
           ORDER BY {col} {op} $1 LIMIT {k}) \
         SELECT distance, to_jsonb(t) - $2::text FROM relaxed ORDER BY distance",
        target.table
    );
    let tx = client
        .transaction()
        .await
        .map_err(Error::db("starting the search"))?;
    tx.batch_execute(
        "SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL ivfflat.iterative_scan = relaxed_order",
    )
    .await
    .map_err(Error::db("enabling iterative index scans"))?;
    let p = param(target.storage, query);
    let rows = tx.query(&sql, &[p.as_ref(), &column]).await.map_err(|e| {
        if e.code().is_some_and(|c| c.code().starts_with("42")) {
            Error::input(format!(
                "--filter: {}",
                e.as_db_error()
                    .map(|d| d.message().to_owned())
                    .unwrap_or_else(|| e.to_string())
            ))
        } else {
            Error::Db {
                context: format!("searching {}", target.table),
                source: e,
            }
        }
    })?;
    tx.rollback()
        .await
        .map_err(Error::db("ending the search"))?;
    Ok(rows
        .iter()
        .map(|r| Hit {
            distance: r.get(0),
            row: r.get(1),
        })
        .collect())
}
