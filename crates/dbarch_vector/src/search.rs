//! k-nearest, full-text and hybrid search, with metadata filters that keep LIMIT full.
//!
//! - Dense: pgvector 0.8's iterative index scans (`hnsw.iterative_scan` /
//!   `ivfflat.iterative_scan = relaxed_order`) go on scanning the index until `k` rows pass the
//!   filter (up to `hnsw.max_scan_tuples`), and a materialized CTE puts the relaxed order back
//!   into exact distance order (pgvector README, "Iterative Index Scans").
//! - Full text: over the table's `tsvector` column, ranked by `ts_rank_cd` (cover density). A
//!   question in plain words matches chunks holding any of its lexemes (all of them, the
//!   `websearch_to_tsquery` default, finds almost nothing for a natural question); a query
//!   written in web-search syntax (quotes, `-word`, `or`) is taken as written. Neither ever
//!   fails on user input.
//! - Hybrid: both candidate lists fused by reciprocal rank fusion, `score = Σ 1 / (60 + rank)`
//!   (Cormack, Clarke and Büttcher, SIGIR 2009, whose k = 60 is the usual constant), in one SQL
//!   statement: one snapshot, one round trip.
//!
//! Every search runs in a transaction that is rolled back.

use crate::load::{Target, param, resolve};
use crate::{Error, Metric, Result, ident};
use dbarch_pg::tokio_postgres::Client;
use serde::Serialize;

/// Which retrieval to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Dense,
    FullText,
    Hybrid,
}

/// What to search with: a vector (dense and hybrid), a text (full text and hybrid).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<'a> {
    pub vector: Option<&'a [f32]>,
    pub text: Option<&'a str>,
}

/// How to search.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub mode: Mode,
    pub k: usize,
    /// A SQL condition on the table's columns, applied inside every branch.
    pub filter: Option<String>,
    /// Else that of an ANN index on the column, else cosine.
    pub metric: Option<Metric>,
    /// The `tsvector` column; else the table's only one.
    pub text_column: Option<String>,
    /// The text search configuration; else the one the `tsvector` column is generated with,
    /// else `english`.
    pub ts_config: Option<String>,
    /// Candidates taken from each list before fusion; else `max(4k, 40)`.
    pub candidates: Option<usize>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            mode: Mode::Dense,
            k: 10,
            filter: None,
            metric: None,
            text_column: None,
            ts_config: None,
            candidates: None,
        }
    }
}

/// The reciprocal rank fusion constant.
pub const RRF_K: u32 = 60;

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// Higher is better: the similarity for dense search (1 − cosine distance, −L2 distance,
    /// the inner product), `ts_rank_cd` for full text, the RRF score for hybrid.
    pub score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_score: Option<f64>,
    /// 1-based ranks in each list (hybrid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dense_rank: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_rank: Option<i64>,
    /// The row's other columns (the vector and `tsvector` columns left out).
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

/// Whether a query argument is a vector literal rather than a text.
pub fn looks_like_vector(s: &str) -> bool {
    let t = s.trim();
    t.starts_with('[') && t.ends_with(']')
}

/// The `k` dense nearest rows of `table` to `query` among those matching `filter` (SQL).
pub async fn search(
    client: &mut Client,
    table: &str,
    column: &str,
    query: &[f32],
    k: usize,
    filter: Option<&str>,
    metric: Option<Metric>,
) -> Result<Vec<Hit>> {
    let opts = SearchOptions {
        k,
        filter: filter.map(str::to_owned),
        metric,
        ..SearchOptions::default()
    };
    let searcher = Searcher::new(client, table, column, &opts).await?;
    searcher
        .run(
            client,
            Query {
                vector: Some(query),
                text: None,
            },
        )
        .await
}

/// A search resolved once (table, column, metric, text column and configuration, the SQL),
/// to be run for many queries.
pub struct Searcher {
    target: Target,
    opts: SearchOptions,
    text_column: Option<String>,
    sql: String,
}

impl Searcher {
    pub async fn new(
        client: &Client,
        table: &str,
        column: &str,
        opts: &SearchOptions,
    ) -> Result<Searcher> {
        if opts.k == 0 {
            return Err(Error::input("k must be at least 1"));
        }
        let target = resolve(client, table, column).await?;
        let metric = match opts.metric {
            Some(m) => m,
            None => crate::tune::existing_metric(client, &target)
                .await?
                .unwrap_or(Metric::Cosine),
        };
        let (text_column, ts_config) = if opts.mode == Mode::Dense {
            (None, None)
        } else {
            let (c, generated) = text_column(client, &target, opts.text_column.as_deref()).await?;
            let config = opts
                .ts_config
                .clone()
                .or(generated)
                .unwrap_or_else(|| "english".to_owned());
            (Some(c), Some(config))
        };
        let sql = build_sql(
            &target,
            opts,
            metric,
            text_column.as_deref(),
            ts_config.as_deref(),
        );
        Ok(Searcher {
            target,
            opts: opts.clone(),
            text_column,
            sql,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub async fn run(&self, client: &mut Client, query: Query<'_>) -> Result<Vec<Hit>> {
        let target = &self.target;
        let needs_vector = self.opts.mode != Mode::FullText;
        let needs_text = self.opts.mode != Mode::Dense;
        let vector = match (needs_vector, query.vector) {
            (true, None) => return Err(Error::input("this search needs a query vector")),
            (true, Some(v)) => {
                if let Some(d) = target.dims
                    && d as usize != v.len()
                {
                    return Err(Error::input(format!(
                        "the query has {} dimensions, {}.{} is {}",
                        v.len(),
                        target.table,
                        target.column,
                        target.data_type
                    )));
                }
                Some(param(target.storage, v))
            }
            (false, _) => None,
        };
        let text = match (needs_text, query.text) {
            (true, None) => return Err(Error::input("this search needs a query text")),
            (true, Some(t)) => Some(t),
            (false, _) => None,
        };
        let tx = client
            .transaction()
            .await
            .map_err(Error::db("starting the search"))?;
        tx.batch_execute(
            "SET TRANSACTION READ ONLY; \
             SET LOCAL hnsw.iterative_scan = relaxed_order; \
             SET LOCAL ivfflat.iterative_scan = relaxed_order",
        )
        .await
        .map_err(Error::db("enabling iterative index scans"))?;
        let column = target.column.as_str();
        let excluded = self.text_column.as_deref().unwrap_or(column);
        let mut params: Vec<&(dyn dbarch_pg::tokio_postgres::types::ToSql + Sync)> =
            vec![&column, &excluded];
        if let Some(v) = &vector {
            params.push(v.as_ref());
        }
        if let Some(t) = &text {
            params.push(t);
        }
        let rows = tx.query(&self.sql, &params).await.map_err(|e| {
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
                score: r.get(0),
                distance: r.get(1),
                text_score: r.get(2),
                dense_rank: r.get(3),
                text_rank: r.get(4),
                row: r.get(5),
            })
            .collect())
    }
}

/// The `tsvector` column to search and, when it is generated, the configuration it uses.
async fn text_column(
    client: &Client,
    target: &Target,
    wanted: Option<&str>,
) -> Result<(String, Option<String>)> {
    let rows = client
        .query(
            "SELECT a.attname::text, pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_attribute a \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
               AND a.atttypid = 'tsvector'::regtype ORDER BY a.attnum",
            &[&target.oid],
        )
        .await
        .map_err(Error::db(format!(
            "looking up the tsvector columns of {}",
            target.table
        )))?;
    let found: Vec<(String, Option<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let (name, expr) = match wanted {
        Some(w) => found
            .into_iter()
            .find(|(n, _)| n == w)
            .ok_or_else(|| Error::input(format!("{} has no tsvector column {w}", target.table)))?,
        None => match found.len() {
            1 => found.into_iter().next().expect("one"),
            0 => {
                return Err(Error::input(format!(
                    "{} has no tsvector column for full-text search (`dbarch vector setup` adds one)",
                    target.table
                )));
            }
            _ => {
                let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
                return Err(Error::input(format!(
                    "{} has several tsvector columns ({}): choose one with --text-column",
                    target.table,
                    names.join(", ")
                )));
            }
        },
    };
    Ok((name, expr.as_deref().and_then(generated_config)))
}

/// `to_tsvector('english'::regconfig, content)` → `english`.
fn generated_config(expr: &str) -> Option<String> {
    let end = expr.find("'::regconfig")?;
    let start = expr[..end].rfind('\'')? + 1;
    Some(expr[start..end].to_owned())
}

/// The search's SQL. Parameters: `$1` the vector column's name and `$2` the text column's
/// (left out of the row), then the query vector and/or the query text.
fn build_sql(
    target: &Target,
    opts: &SearchOptions,
    metric: Metric,
    text_column: Option<&str>,
    ts_config: Option<&str>,
) -> String {
    let table = &target.table;
    let col = ident(&target.column);
    let op = metric.operator();
    let k = opts.k;
    let candidates = opts.candidates.unwrap_or((4 * k).max(40)).max(k);
    let filter = opts
        .filter
        .as_deref()
        .map(|f| format!("({f})"))
        .unwrap_or_else(|| "true".to_owned());
    let similarity = match metric {
        Metric::Cosine => "1 - distance",
        Metric::L2 | Metric::Ip => "-distance",
    };
    let vector_param = "$3";
    let text_param = if opts.mode == Mode::FullText {
        "$3"
    } else {
        "$4"
    };
    let dense = |limit: usize| {
        format!(
            "dense AS MATERIALIZED (\
               SELECT t.ctid AS rid, (t.{col} {op} {vector_param})::float8 AS distance \
               FROM {table} t WHERE {filter} ORDER BY t.{col} {op} {vector_param} LIMIT {limit}), \
             dense_ranked AS (\
               SELECT rid, distance, row_number() OVER (ORDER BY distance, rid) AS rank FROM dense)"
        )
    };
    let text = |limit: usize| {
        let tsv = ident(text_column.unwrap_or_default());
        let config = ts_config.unwrap_or("english").replace('\'', "''");
        format!(
            "dbarch_query AS (SELECT CASE WHEN {text_param}::text ~ '\"|(^|\\s)-\\S|\\s[oO][rR]\\s' \
               THEN websearch_to_tsquery('{config}'::regconfig, {text_param}::text) \
               ELSE coalesce((SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery \
                   FROM unnest(to_tsvector('{config}'::regconfig, {text_param}::text))), \
                 websearch_to_tsquery('{config}'::regconfig, {text_param}::text)) END AS dbarch_q), \
             text_ranked AS (\
               SELECT t.ctid AS rid, ts_rank_cd(t.{tsv}, dbarch_query.dbarch_q)::float8 AS text_score, \
                 row_number() OVER (ORDER BY ts_rank_cd(t.{tsv}, dbarch_query.dbarch_q) DESC, t.ctid) AS rank \
               FROM {table} t, dbarch_query WHERE t.{tsv} @@ dbarch_query.dbarch_q AND {filter} \
               ORDER BY rank LIMIT {limit})"
        )
    };
    let select_rows = "SELECT h.score, h.distance, h.text_score, h.dense_rank, h.text_rank, \
         to_jsonb(t) - $1::text - $2::text \
         FROM hits h JOIN {table} t ON t.ctid = h.rid ORDER BY h.score DESC, h.ord"
        .replace("{table}", table);
    match opts.mode {
        Mode::Dense => format!(
            "WITH {}, hits AS (\
               SELECT rid, ({similarity})::float8 AS score, distance, NULL::float8 AS text_score, \
                 NULL::bigint AS dense_rank, NULL::bigint AS text_rank, rank AS ord \
               FROM dense_ranked) {select_rows}",
            dense(k)
        ),
        Mode::FullText => format!(
            "WITH {}, hits AS (\
               SELECT rid, text_score AS score, NULL::float8 AS distance, text_score, \
                 NULL::bigint AS dense_rank, NULL::bigint AS text_rank, rank AS ord \
               FROM text_ranked) {select_rows}",
            text(k)
        ),
        Mode::Hybrid => format!(
            "WITH {}, {}, hits AS (\
               SELECT coalesce(d.rid, x.rid) AS rid, \
                 (coalesce(1.0 / ({RRF_K} + d.rank), 0) + coalesce(1.0 / ({RRF_K} + x.rank), 0))::float8 AS score, \
                 d.distance, x.text_score, d.rank AS dense_rank, x.rank AS text_rank, \
                 least(d.rank, x.rank) AS ord \
               FROM dense_ranked d FULL JOIN text_ranked x ON d.rid = x.rid \
               ORDER BY score DESC, ord LIMIT {k}) {select_rows}",
            dense(candidates),
            text(candidates)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_of_a_generated_column() {
        assert_eq!(
            generated_config("to_tsvector('english'::regconfig, content)").as_deref(),
            Some("english")
        );
        assert_eq!(
            generated_config("to_tsvector('pg_catalog.french'::regconfig, coalesce(title, ''))")
                .as_deref(),
            Some("pg_catalog.french")
        );
        assert_eq!(generated_config("to_tsvector(content)"), None);
    }

    #[test]
    fn vector_literals_are_told_from_texts() {
        assert!(looks_like_vector(" [1, 2] "));
        assert!(!looks_like_vector("how do I index [vectors]?"));
    }
}
