//! What-if costs: the planner's estimate of each query under a set of candidate indexes,
//! either hypothetical (HypoPG on the target: nothing is written) or real (every candidate
//! built once on the shadow server; a set is evaluated by dropping the others inside a
//! transaction that is rolled back). Costs are cached by (query, index set).

use super::AdviseError;
use super::candidates::Candidate;
use super::catalog::TableInfo;
use crate::plan::Explain;
use std::collections::HashMap;
use tokio_postgres::{Client, SimpleQueryMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Hypothetical indexes on the target (HypoPG).
    Hypopg,
    /// Real builds on a shadow server holding a sampled copy.
    Shadow,
}

/// A workload query ready to be explained and executed on one session.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The prepared statement's name, when the query has parameters.
    pub statement: Option<String>,
    pub sql: String,
    /// Representative parameter values (SQL literals), one set per run.
    pub params: Vec<Vec<String>>,
    /// The advisor's tables the query reads.
    pub tables: Vec<usize>,
    /// Its parameters have no representative values: costed with a generic plan (PostgreSQL
    /// 16+), never executed.
    pub generic: bool,
}

impl Prepared {
    /// The command running the query with its `i`-th parameter set.
    pub fn command(&self, i: usize) -> String {
        match &self.statement {
            None => self.sql.clone(),
            Some(s) => {
                let set = &self.params[i % self.params.len().max(1)];
                format!("EXECUTE {s}({})", set.join(", "))
            }
        }
    }
}

pub struct Evaluator<'a> {
    pub client: &'a Client,
    pub backend: Backend,
    cache: HashMap<(usize, Vec<usize>), f64>,
    /// Hypothetical indexes currently defined (HypoPG).
    current: Option<Vec<usize>>,
    /// Real candidates built on the shadow: candidate → index name.
    built: HashMap<usize, String>,
    pub sizes: HashMap<usize, i64>,
    pub evaluations: usize,
    pub cache_hits: usize,
}

/// How many parameter sets a cost is averaged over.
const COST_SETS: usize = 3;

impl<'a> Evaluator<'a> {
    pub fn new(client: &'a Client, backend: Backend) -> Self {
        Evaluator {
            client,
            backend,
            cache: HashMap::new(),
            current: None,
            built: HashMap::new(),
            sizes: HashMap::new(),
            evaluations: 0,
            cache_hits: 0,
        }
    }

    /// Creates every candidate once (hypothetically or for real) to learn its size. Returns
    /// the candidates that could not be created, with the reason.
    pub async fn prepare(
        &mut self,
        candidates: &[Candidate],
        tables: &[TableInfo],
    ) -> Result<Vec<(usize, String)>, AdviseError> {
        let mut failed = Vec::new();
        if self.backend == Backend::Shadow
            && candidates
                .iter()
                .any(|c| c.opclass.as_deref() == Some("gin_trgm_ops"))
            && let Err(e) = self
                .client
                .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await
        {
            tracing::warn!("pg_trgm on the shadow server: {}", message(&e));
        }
        for (i, c) in candidates.iter().enumerate() {
            let t = &tables[c.table];
            match self.backend {
                Backend::Hypopg => {
                    if c.method != "btree" {
                        failed.push((
                            i,
                            format!(
                                "HypoPG cannot simulate a {} index: evaluate it with --method shadow",
                                c.method
                            ),
                        ));
                        continue;
                    }
                    self.reset().await?;
                    let sql = c.create_sql(None, t, false);
                    match self
                        .client
                        .query_one(
                            "SELECT hypopg_relation_size(indexrelid)::int8 FROM hypopg_create_index($1)",
                            &[&sql],
                        )
                        .await
                    {
                        Ok(r) => {
                            self.sizes.insert(i, r.get(0));
                        }
                        Err(e) => failed.push((i, message(&e))),
                    }
                }
                Backend::Shadow => {
                    let name = format!("dbarch_candidate_{i}");
                    let sql = c.create_sql(Some(&name), t, false);
                    match self.client.batch_execute(&sql).await {
                        Ok(()) => {
                            let size: i64 = self
                                .client
                                .query_one(
                                    "SELECT pg_relation_size(to_regclass($1))::int8",
                                    &[&format!("{}.{}", super::ast::quote(&t.schema), name)],
                                )
                                .await
                                .map_err(|e| AdviseError::db("measuring a candidate index", e))?
                                .get(0);
                            self.sizes.insert(i, size);
                            self.built
                                .insert(i, format!("{}.{}", super::ast::quote(&t.schema), name));
                        }
                        Err(e) => failed.push((i, message(&e))),
                    }
                }
            }
        }
        if self.backend == Backend::Hypopg {
            self.reset().await?;
        } else {
            self.client
                .batch_execute(&format!(
                    "ANALYZE {}",
                    tables
                        .iter()
                        .map(TableInfo::qualified)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .await
                .map_err(|e| AdviseError::db("analyzing the shadow's tables", e))?;
        }
        Ok(failed)
    }

    async fn reset(&mut self) -> Result<(), AdviseError> {
        self.client
            .batch_execute("SELECT hypopg_reset()")
            .await
            .map_err(|e| AdviseError::db("resetting HypoPG", e))?;
        self.current = Some(Vec::new());
        Ok(())
    }

    /// The planner's total cost of query `q` with the candidates `config` (others absent),
    /// averaged over its first parameter sets.
    pub async fn cost(
        &mut self,
        q: usize,
        query: &Prepared,
        config: &[usize],
        candidates: &[Candidate],
        tables: &[TableInfo],
    ) -> Result<f64, AdviseError> {
        let mut relevant: Vec<usize> = config
            .iter()
            .copied()
            .filter(|&c| query.tables.contains(&candidates[c].table))
            .collect();
        relevant.sort();
        relevant.dedup();
        if let Some(c) = self.cache.get(&(q, relevant.clone())) {
            self.cache_hits += 1;
            return Ok(*c);
        }
        self.evaluations += 1;
        let cost = match self.backend {
            Backend::Hypopg => {
                if self.current.as_ref() != Some(&relevant) {
                    self.reset().await?;
                    for &c in &relevant {
                        let sql =
                            candidates[c].create_sql(None, &tables[candidates[c].table], false);
                        self.client
                            .query("SELECT * FROM hypopg_create_index($1)", &[&sql])
                            .await
                            .map_err(|e| AdviseError::db("creating a hypothetical index", e))?;
                    }
                    self.current = Some(relevant.clone());
                }
                self.explain_cost(query).await?
            }
            Backend::Shadow => {
                let drop: Vec<&String> = self
                    .built
                    .iter()
                    .filter(|(c, _)| {
                        !relevant.contains(c) && query.tables.contains(&candidates[**c].table)
                    })
                    .map(|(_, n)| n)
                    .collect();
                self.client
                    .batch_execute("BEGIN")
                    .await
                    .map_err(|e| AdviseError::db("starting a what-if transaction", e))?;
                let mut result = Ok(());
                if !drop.is_empty() {
                    let names: Vec<&str> = drop.iter().map(|s| s.as_str()).collect();
                    result = self
                        .client
                        .batch_execute(&format!("DROP INDEX {}", names.join(", ")))
                        .await
                        .map_err(|e| AdviseError::db("hiding candidate indexes", e));
                }
                let cost = match result {
                    Ok(()) => self.explain_cost(query).await,
                    Err(e) => Err(e),
                };
                let _ = self.client.batch_execute("ROLLBACK").await;
                cost?
            }
        };
        self.cache.insert((q, relevant), cost);
        Ok(cost)
    }

    async fn explain_cost(&self, query: &Prepared) -> Result<f64, AdviseError> {
        let sets = query.params.len().clamp(1, COST_SETS);
        let mut total = 0.0;
        for i in 0..sets {
            let options = if query.generic {
                "GENERIC_PLAN, FORMAT JSON"
            } else {
                "FORMAT JSON"
            };
            let text = simple_text(
                self.client,
                &format!("EXPLAIN ({options}) {}", query.command(i)),
            )
            .await
            .map_err(|e| AdviseError::db("explaining a workload query", e))?;
            let explain = Explain::from_json(&text)
                .map_err(|e| AdviseError::Input(format!("cannot read EXPLAIN output: {e}")))?;
            total += explain.plan.total_cost.unwrap_or(0.0);
        }
        Ok(total / sets as f64)
    }

    /// Drops the built candidates not chosen (shadow), so that the shadow holds exactly the
    /// advised configuration for the "after" measurement.
    pub async fn keep_only(&mut self, chosen: &[usize]) -> Result<(), AdviseError> {
        match self.backend {
            Backend::Shadow => {
                let drop: Vec<String> = self
                    .built
                    .iter()
                    .filter(|(c, _)| !chosen.contains(c))
                    .map(|(_, n)| n.clone())
                    .collect();
                if !drop.is_empty() {
                    self.client
                        .batch_execute(&format!("DROP INDEX {}", drop.join(", ")))
                        .await
                        .map_err(|e| AdviseError::db("dropping the candidates not chosen", e))?;
                }
                self.built.retain(|c, _| chosen.contains(c));
            }
            Backend::Hypopg => self.reset().await?,
        }
        Ok(())
    }
}

fn message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_owned())
}

/// The first column of every row, through the simple protocol, joined by newlines.
pub async fn simple_text(client: &Client, sql: &str) -> Result<String, tokio_postgres::Error> {
    let mut out = String::new();
    for m in client.simple_query(sql).await? {
        if let SimpleQueryMessage::Row(row) = m {
            out.push_str(row.get(0).unwrap_or_default());
            out.push('\n');
        }
    }
    Ok(out)
}
