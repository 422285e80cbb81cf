//! `dbarch advise`: a workload-level index advisor.
//!
//! 1. The workload (`workload`): a `.sql` file or pg_stat_statements, grouped by libpg_query
//!    fingerprint; `$n` parameters get representative values sampled from the column each is
//!    compared to.
//! 2. Candidates (`candidates`) from each query's parse tree (`ast`), minus those an existing
//!    index covers (and, on PostgreSQL 18, those its skip scan makes useless).
//! 3. What-if costs (`whatif`): HypoPG on the target when installed there (nothing written),
//!    else real builds on a shadow server of the target's major holding its schema and a
//!    sampled copy (`shadow`); a cost cache keyed by (query, index set).
//! 4. Greedy selection: the candidate with the largest weighted cost reduction per byte,
//!    discounted by its table's share of writes, while it fits the budget and improves a
//!    query by at least `min_improvement`.
//! 5. Verification: each query executed N times before and after (on the shadow; on the
//!    target only after `--apply`), P50/P95/P99, flagged over the 50 ms target.
//! 6. Unused and duplicate indexes to drop (doctor's H001–H003), N+1 patterns (`nplus1`).
//!
//! The target session stays read-only: HypoPG lives in the session's memory, EXPLAIN does not
//! execute, and every measured run is rolled back. Only `apply` (a separate writer session the
//! caller opens for `--apply`) builds indexes there, concurrently.

pub mod ast;
pub mod candidates;
pub mod catalog;
pub mod measure;
pub mod nplus1;
pub mod shadow;
pub mod whatif;
pub mod workload;

use catalog::TableInfo;
use dbarch_report::Diagnostic;
use measure::Latency;
use nplus1::NPlusOne;
use std::collections::BTreeMap;
use tokio_postgres::Client;
use whatif::{Backend, Evaluator, Prepared};
pub use workload::{Workload, WorkloadQuery};

/// Errors of the advisor. `Input` is the user's (exit 2), `Db` the database's (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum AdviseError {
    #[error("{0}")]
    Input(String),
    #[error("{what}: {source}")]
    Db {
        what: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl AdviseError {
    pub(crate) fn db(what: &'static str, source: tokio_postgres::Error) -> Self {
        AdviseError::Db { what, source }
    }
    pub fn is_input(&self) -> bool {
        matches!(self, AdviseError::Input(_))
    }
}

#[derive(Debug, Clone)]
pub struct AdviseOptions {
    /// Total size the recommended indexes may take (bytes); `None`: no limit.
    pub budget_bytes: Option<i64>,
    /// Measured runs per query (after one warm-up run).
    pub runs: usize,
    /// Queries slower than this (P95, ms) are flagged.
    pub target_ms: f64,
    /// A candidate must cut some query's cost by at least this share.
    pub min_improvement: f64,
    /// Rows per table copied to the shadow server.
    pub sample_rows: i64,
    /// pg_stat_statements calls from which a single-key lookup counts as N+1.
    pub n_plus_one_min_calls: f64,
}

impl Default for AdviseOptions {
    fn default() -> Self {
        AdviseOptions {
            budget_bytes: None,
            runs: 20,
            target_ms: 50.0,
            min_improvement: 0.1,
            sample_rows: 100_000,
            n_plus_one_min_calls: nplus1::MIN_CALLS,
        }
    }
}

/// Where candidates are evaluated.
pub enum Evaluation<'a> {
    /// HypoPG on the target (it must be installed there).
    Hypopg,
    /// Real builds on this (empty) database of a shadow server; the advisor loads it.
    Shadow(&'a Client),
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Recommendation {
    pub name: String,
    pub table: String,
    /// The complete `CREATE INDEX CONCURRENTLY` statement.
    pub statement: String,
    pub method: String,
    /// An extension the index needs on the target (`pg_trgm` for trigram indexes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_extension: Option<String>,
    pub size_bytes: i64,
    /// The table's share of tuple writes (the index's maintenance cost weighs with it).
    pub write_share: f64,
    /// Weighted reduction of the workload's planner cost.
    pub benefit: f64,
    pub queries: Vec<Served>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Served {
    pub query: String,
    pub cost_before: f64,
    pub cost_after: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95_before_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95_after_ms: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct QueryReport {
    pub name: String,
    pub fingerprint: String,
    pub sql: String,
    pub calls: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_before: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_after: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Latency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Latency>,
    /// P95 over the target (after the advice when measured, else before).
    pub over_target: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Advice {
    pub version: u32,
    pub server_version: String,
    pub method: Backend,
    /// Where before/after latencies were measured: `shadow` or `target`.
    pub measured_on: String,
    pub workload: String,
    pub target_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_bytes: Option<i64>,
    pub used_bytes: i64,
    pub applied: bool,
    pub recommendations: Vec<Recommendation>,
    pub queries: Vec<QueryReport>,
    /// Unused and duplicate indexes (doctor's H001, H002, H003).
    pub drop: Vec<Diagnostic>,
    pub n_plus_one: Vec<NPlusOne>,
    pub candidates_considered: usize,
    /// What-if evaluations of the search (cost-cache misses: one EXPLAIN each, under the
    /// candidate set asked for) and cache hits; the figures below are computed after them.
    pub cost_evaluations: usize,
    pub cost_cache_hits: usize,
    /// The workload's planner cost (sum over queries, weighted by calls): before, with the
    /// advice, and with every evaluated candidate at once (the attainable cost).
    pub workload_cost: WorkloadCost,
    /// Per query, the single candidate that cuts its cost most (at least `min_improvement`):
    /// per-query advice, for comparison with the workload-level selection.
    pub per_query_best: Vec<PerQueryBest>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkloadCost {
    pub before: f64,
    pub after: f64,
    pub all_candidates: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PerQueryBest {
    pub query: String,
    /// `CREATE INDEX ON ...` (no name).
    pub statement: String,
    pub size_bytes: i64,
    pub cost_before: f64,
    pub cost_with: f64,
}

/// Runs the advisor. `apply`: a writer session on the target, given for `--apply`.
pub async fn advise(
    target: &Client,
    evaluation: Evaluation<'_>,
    apply: Option<&Client>,
    workload: &Workload,
    opts: &AdviseOptions,
) -> Result<Advice, AdviseError> {
    let mut notes = Vec::new();
    let version_num: u32 = whatif::simple_text(target, "SHOW server_version_num")
        .await
        .map_err(|e| AdviseError::db("reading the server version", e))?
        .trim()
        .parse()
        .unwrap_or(0);
    let server_version = whatif::simple_text(target, "SHOW server_version")
        .await
        .map_err(|e| AdviseError::db("reading the server version", e))?
        .trim()
        .to_owned();
    let major = version_num / 10000;
    if let Some(w) = apply {
        let replica: bool = w
            .query_one("SELECT pg_is_in_recovery()", &[])
            .await
            .map_err(|e| AdviseError::db("checking for a replica", e))?
            .get(0);
        if replica {
            return Err(AdviseError::Input(
                "the target is a read-only replica (in recovery): --apply must run against the \
                 primary (the advice itself needs no writes)"
                    .into(),
            ));
        }
    }
    if workload.queries.is_empty() {
        return Err(AdviseError::Input(format!(
            "the workload ({}) holds no statement",
            workload.source
        )));
    }
    target
        .batch_execute("SET plan_cache_mode = force_custom_plan")
        .await
        .map_err(|e| AdviseError::db("setting up the session", e))?;

    let Loaded {
        analyses,
        refs,
        resolved,
        tables,
        prepared,
        mut query_notes,
    } = load(
        target,
        workload,
        opts.runs.max(COST_SAMPLES),
        true,
        &mut notes,
    )
    .await?;
    let backend = match evaluation {
        Evaluation::Hypopg => {
            let has = target
                .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'", &[])
                .await
                .map_err(|e| AdviseError::db("checking for HypoPG", e))?
                .is_some();
            if !has {
                return Err(AdviseError::Input(
                    "HypoPG is not installed in the target database (CREATE EXTENSION hypopg), \
                     so candidates cannot be evaluated there: use --method shadow"
                        .into(),
                ));
            }
            Backend::Hypopg
        }
        Evaluation::Shadow(_) => Backend::Shadow,
    };
    // 4. The evaluation session: the target (HypoPG) or the loaded shadow.
    let eval_client = match evaluation {
        Evaluation::Hypopg => target,
        Evaluation::Shadow(shadow) => {
            let copied = shadow::load(target, shadow, &tables, opts.sample_rows).await?;
            let total: u64 = copied.iter().map(|(_, n)| n).sum();
            notes.push(format!(
                "shadow server: the target's schema and {total} sampled rows ({}); costs and \
                 timings there are for this copy",
                copied
                    .iter()
                    .map(|(t, n)| format!("{t}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            shadow
                .batch_execute("SET plan_cache_mode = force_custom_plan")
                .await
                .map_err(|e| AdviseError::db("setting up the shadow session", e))?;
            shadow
        }
    };
    for p in prepared.iter().flatten() {
        if let Some(s) = &p.statement {
            for c in [
                Some(target),
                (!std::ptr::eq(eval_client, target)).then_some(eval_client),
            ]
            .into_iter()
            .flatten()
            {
                deallocate(c, s).await?;
                c.batch_execute(&format!("PREPARE {s} AS {}", p.sql))
                    .await
                    .map_err(|e| AdviseError::db("preparing a workload query", e))?;
            }
        }
    }

    // 5. Candidates.
    let mut all = Vec::new();
    for (i, a) in analyses.iter().enumerate() {
        if let (Some(a), Some(_)) = (a, &prepared[i]) {
            all.extend(candidates::of_query(
                i, a, &refs[i], &tables, major, &mut notes,
            ));
        }
    }
    let mut cands = candidates::dedup(all);
    notes.dedup();

    // 6. Before.
    let measure_client = eval_client;
    let mut before: Vec<Option<Latency>> = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        before.push(match p {
            Some(p) if opts.runs > 0 && !p.generic => {
                match measure::measure(measure_client, p, opts.runs).await {
                    Ok(l) => Some(l),
                    Err(why) => {
                        query_notes[i].push(why);
                        None
                    }
                }
            }
            _ => None,
        });
    }

    // 7. What-if and the greedy selection.
    let mut ev = Evaluator::new(eval_client, backend);
    for (i, why) in ev.prepare(&cands, &tables).await? {
        let c = &cands[i];
        notes.push(format!(
            "candidate {} not evaluated: {why}",
            c.create_sql(None, &tables[c.table], false)
        ));
    }
    let usable: Vec<usize> = (0..cands.len())
        .filter(|i| ev.sizes.contains_key(i))
        .collect();
    let weight = |i: usize| workload.queries[i].calls.max(1.0);
    let mut current: Vec<Option<f64>> = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        current.push(match p {
            Some(p) => Some(ev.cost(i, p, &[], &cands, &tables).await?),
            None => None,
        });
    }
    let base = current.clone();
    let mut chosen: Vec<usize> = Vec::new();
    let mut used: i64 = 0;
    let mut benefits: BTreeMap<usize, f64> = BTreeMap::new();
    loop {
        let mut best: Option<(usize, f64, f64)> = None;
        for &c in &usable {
            if chosen.contains(&c) {
                continue;
            }
            let size = ev.sizes[&c];
            if opts.budget_bytes.is_some_and(|b| used + size > b) {
                continue;
            }
            let mut config = chosen.clone();
            config.push(c);
            let (mut benefit, mut best_rel) = (0.0, 0.0f64);
            for (q, p) in prepared.iter().enumerate() {
                let (Some(p), Some(cur)) = (p, current[q]) else {
                    continue;
                };
                if !p.tables.contains(&cands[c].table) {
                    continue;
                }
                let cost = ev.cost(q, p, &config, &cands, &tables).await?;
                if cost < cur {
                    benefit += weight(q) * (cur - cost);
                    if cur > 0.0 {
                        best_rel = best_rel.max((cur - cost) / cur);
                    }
                }
            }
            if best_rel < opts.min_improvement || benefit <= 0.0 {
                continue;
            }
            let score = benefit * (1.0 - 0.5 * tables[cands[c].table].write_share())
                / size.max(8192) as f64;
            if score > 0.0 && best.is_none_or(|(_, s, _)| score > s) {
                best = Some((c, score, benefit));
            }
        }
        let Some((c, _, benefit)) = best else { break };
        chosen.push(c);
        used += ev.sizes[&c];
        benefits.insert(c, benefit);
        for (q, p) in prepared.iter().enumerate() {
            if let Some(p) = p {
                current[q] = Some(ev.cost(q, p, &chosen, &cands, &tables).await?);
            }
        }
    }
    // An index made redundant by a later, wider one is dropped from the advice.
    for c in chosen.clone() {
        let without: Vec<usize> = chosen.iter().copied().filter(|&x| x != c).collect();
        let mut needed = false;
        for (q, p) in prepared.iter().enumerate() {
            let (Some(p), Some(cur)) = (p, current[q]) else {
                continue;
            };
            if p.tables.contains(&cands[c].table)
                && ev.cost(q, p, &without, &cands, &tables).await? > cur * 1.005
            {
                needed = true;
                break;
            }
        }
        if !needed {
            chosen = without;
            used -= ev.sizes[&c];
            benefits.remove(&c);
        }
    }
    for (q, p) in prepared.iter().enumerate() {
        if let Some(p) = p {
            current[q] = Some(ev.cost(q, p, &chosen, &cands, &tables).await?);
        }
    }
    if let Some(b) = opts.budget_bytes {
        let left_out = usable
            .iter()
            .filter(|c| !chosen.contains(c) && used + ev.sizes[c] > b)
            .count();
        if left_out > 0 {
            notes.push(format!(
                "{left_out} candidate(s) did not fit the remaining budget ({} of {} used)",
                checks_size(used),
                checks_size(b)
            ));
        }
    }
    // Which queries each chosen index serves: their cost without it.
    let mut served: BTreeMap<usize, Vec<(usize, f64, f64)>> = BTreeMap::new();
    for &c in &chosen {
        let without: Vec<usize> = chosen.iter().copied().filter(|&x| x != c).collect();
        for (q, p) in prepared.iter().enumerate() {
            let (Some(p), Some(after)) = (p, current[q]) else {
                continue;
            };
            if !p.tables.contains(&cands[c].table) {
                continue;
            }
            let cost = ev.cost(q, p, &without, &cands, &tables).await?;
            if after < cost {
                served
                    .entry(c)
                    .or_default()
                    .push((q, base[q].unwrap_or(cost), after));
            }
        }
    }
    // Reporting figures, outside the search's counters: the workload's cost with every
    // candidate, and each query's best single candidate (cache hits of the first round).
    let (evaluations, cache_hits) = (ev.evaluations, ev.cache_hits);
    let mut workload_cost = WorkloadCost {
        before: 0.0,
        after: 0.0,
        all_candidates: 0.0,
    };
    let mut per_query_best = Vec::new();
    for (q, p) in prepared.iter().enumerate() {
        let (Some(p), Some(b), Some(a)) = (p, base[q], current[q]) else {
            continue;
        };
        let all = ev.cost(q, p, &usable, &cands, &tables).await?;
        workload_cost.before += weight(q) * b;
        workload_cost.after += weight(q) * a;
        workload_cost.all_candidates += weight(q) * all;
        let mut best: Option<(usize, f64)> = None;
        for &c in &usable {
            if !p.tables.contains(&cands[c].table) {
                continue;
            }
            let cost = ev.cost(q, p, &[c], &cands, &tables).await?;
            if best.is_none_or(|(_, x)| cost < x) {
                best = Some((c, cost));
            }
        }
        if let Some((c, cost)) = best
            && b > 0.0
            && (b - cost) / b >= opts.min_improvement
        {
            per_query_best.push(PerQueryBest {
                query: workload.queries[q].name.clone(),
                statement: format!(
                    "{};",
                    cands[c].create_sql(None, &tables[cands[c].table], false)
                ),
                size_bytes: ev.sizes[&c],
                cost_before: round2(b),
                cost_with: round2(cost),
            });
        }
    }
    workload_cost.before = round2(workload_cost.before);
    workload_cost.after = round2(workload_cost.after);
    workload_cost.all_candidates = round2(workload_cost.all_candidates);
    ev.keep_only(&chosen).await?;

    // 8. Apply, then after.
    let mut applied = false;
    // Names unique among the advice and the tables' existing indexes (`_2`, `_3`, ...).
    let mut names: Vec<String> = Vec::new();
    for &c in &chosen {
        let t = &tables[cands[c].table];
        let base = cands[c].name(t);
        let taken = |n: &str| names.iter().any(|x| x == n) || t.indexes.iter().any(|i| i.name == n);
        let mut name = base.clone();
        let mut k = 2;
        while taken(&name) {
            let suffix = format!("_{k}");
            let mut cut = base.len().min(63 - suffix.len());
            while !base.is_char_boundary(cut) {
                cut -= 1;
            }
            name = format!("{}{suffix}", &base[..cut]);
            k += 1;
        }
        names.push(name);
    }
    if let Some(w) = apply {
        if chosen
            .iter()
            .any(|&c| cands[c].opclass.as_deref() == Some("gin_trgm_ops"))
        {
            w.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await
                .map_err(|e| AdviseError::db("creating pg_trgm on the target", e))?;
        }
        for (k, &c) in chosen.iter().enumerate() {
            let mut sql = cands[c].create_sql(Some(&names[k]), &tables[cands[c].table], true);
            sql = sql.replacen("CONCURRENTLY ", "CONCURRENTLY IF NOT EXISTS ", 1);
            w.batch_execute(&sql)
                .await
                .map_err(|e| AdviseError::db("building an advised index on the target", e))?;
        }
        applied = true;
    }
    let measured_on = match backend {
        Backend::Shadow => "shadow",
        Backend::Hypopg => "target",
    };
    let mut after: Vec<Option<Latency>> = vec![None; prepared.len()];
    let can_measure_after = backend == Backend::Shadow || applied;
    if can_measure_after && !chosen.is_empty() {
        for (i, p) in prepared.iter().enumerate() {
            if let Some(p) = p
                && opts.runs > 0
                && before[i].is_some()
            {
                after[i] = measure::measure(measure_client, p, opts.runs).await.ok();
            }
        }
    } else if !chosen.is_empty() {
        notes.push(
            "after-figures need the indexes built: HypoPG's are hypothetical (use --apply to \
             build them concurrently on the target, or --method shadow to measure on a copy)"
                .into(),
        );
    } else {
        after = before.clone();
    }

    // 9. Reports.
    let mut recommendations = Vec::new();
    for (k, &c) in chosen.iter().enumerate() {
        let cand = &cands[c];
        // The verification: an index whose every measured query got slower is flagged.
        let measured: Vec<(f64, f64)> = served
            .get(&c)
            .into_iter()
            .flatten()
            .filter_map(|&(q, _, _)| Some((before[q].as_ref()?.p50_ms, after[q].as_ref()?.p50_ms)))
            .collect();
        if !measured.is_empty() && measured.iter().all(|(b, a)| a > &(b * 1.2)) {
            notes.push(format!(
                "{}: the planner expects it to help, but every query it serves measured slower after (P50 {}): check before creating it",
                names[k],
                measured
                    .iter()
                    .map(|(b, a)| format!("{b:.2} → {a:.2} ms"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let t = &tables[cand.table];
        let mut statement = cand.create_sql(Some(&names[k]), t, true);
        statement.push(';');
        recommendations.push(Recommendation {
            name: names[k].clone(),
            table: t.qualified(),
            statement,
            method: cand.method.clone(),
            requires_extension: (cand.opclass.as_deref() == Some("gin_trgm_ops"))
                .then(|| "pg_trgm".to_owned()),
            size_bytes: ev.sizes[&c],
            write_share: (t.write_share() * 1000.0).round() / 1000.0,
            benefit: round2(benefits.get(&c).copied().unwrap_or(0.0)),
            queries: served
                .get(&c)
                .map(|v| {
                    v.iter()
                        .map(|&(q, b, a)| Served {
                            query: workload.queries[q].name.clone(),
                            cost_before: round2(b),
                            cost_after: round2(a),
                            p95_before_ms: before[q].as_ref().map(|l| l.p95_ms),
                            p95_after_ms: after[q].as_ref().map(|l| l.p95_ms),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let queries = workload
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let latest = after[i].as_ref().or(before[i].as_ref());
            QueryReport {
                name: q.name.clone(),
                fingerprint: q.fingerprint.clone(),
                sql: q.sql.clone(),
                calls: q.calls,
                cost_before: base[i].map(round2),
                cost_after: current[i].map(round2),
                before: before[i].clone(),
                after: after[i].clone(),
                over_target: latest.is_some_and(|l| l.p95_ms > opts.target_ms),
                notes: query_notes[i].clone(),
            }
        })
        .collect();
    let drop =
        crate::doctor::run_checks(target, &crate::DoctorOptions::default(), &["H001", "H002"])
            .await
            .map_err(|e| AdviseError::db("checking for unused and duplicate indexes", e))?;
    let n_plus_one = nplus1::from_statements(
        &workload.queries,
        &analyses,
        &resolved,
        &tables,
        opts.n_plus_one_min_calls,
    );
    cands.truncate(cands.len());
    Ok(Advice {
        version: 1,
        server_version,
        method: backend,
        measured_on: measured_on.into(),
        workload: workload.source.clone(),
        target_ms: opts.target_ms,
        budget_bytes: opts.budget_bytes,
        used_bytes: used,
        applied,
        recommendations,
        queries,
        drop,
        n_plus_one,
        candidates_considered: cands.len(),
        cost_evaluations: evaluations,
        cost_cache_hits: cache_hits,
        workload_cost,
        per_query_best,
        notes,
    })
}

/// Drops our prepared statement `name` if the session still has it (from an earlier run).
async fn deallocate(client: &Client, name: &str) -> Result<(), AdviseError> {
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_prepared_statements WHERE name = $1",
            &[&name],
        )
        .await
        .map_err(|e| AdviseError::db("reading the session's prepared statements", e))?
        .is_some();
    if exists {
        client
            .batch_execute(&format!("DEALLOCATE {name}"))
            .await
            .map_err(|e| AdviseError::db("deallocating a prepared statement", e))?;
    }
    Ok(())
}

/// The workload made ready to run: each statement validated by the server (`strict`: a
/// rejected one is the user's error, else it is skipped with a note), analyzed, its tables
/// read, its parameters sampled (`sets` sets).
struct Loaded {
    analyses: Vec<Option<ast::Analysis>>,
    refs: Vec<Vec<Option<usize>>>,
    resolved: Vec<Vec<usize>>,
    tables: Vec<TableInfo>,
    prepared: Vec<Option<Prepared>>,
    query_notes: Vec<Vec<String>>,
}

async fn load(
    target: &Client,
    workload: &Workload,
    sets: usize,
    strict: bool,
    notes: &mut Vec<String>,
) -> Result<Loaded, AdviseError> {
    // 1. Validate and analyze every statement.
    let mut analyses = Vec::new();
    let mut nparams = Vec::new();
    for q in &workload.queries {
        let stmt = target.prepare(&q.sql).await;
        let stmt = match stmt {
            Ok(stmt) => stmt,
            Err(e) if strict => return Err(rejected(e, q, &workload.source)),
            Err(e) => {
                notes.push(format!(
                    "{}: skipped: {}",
                    q.name,
                    rejected(e, q, &workload.source)
                ));
                nparams.push(0);
                analyses.push(None);
                continue;
            }
        };
        nparams.push(stmt.params().len());
        match ast::analyze(&q.sql) {
            Ok(a) => analyses.push(Some(a)),
            Err(e) => {
                notes.push(format!("{}: not analyzed: {e}", q.name));
                analyses.push(None);
            }
        }
    }

    // 2. The tables.
    let mut names: Vec<String> = analyses
        .iter()
        .flatten()
        .flat_map(|a| a.tables.iter())
        .map(|t| match &t.schema {
            Some(s) => format!("{}.{}", ast::quote(s), ast::quote(&t.name)),
            None => ast::quote(&t.name),
        })
        .collect();
    names.sort();
    names.dedup();
    let found = catalog::tables(target, &names).await?;
    let mut tables: Vec<TableInfo> = Vec::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for (name, info) in found {
        let i = match tables.iter().position(|t| t.oid == info.oid) {
            Some(i) => i,
            None => {
                tables.push(info);
                tables.len() - 1
            }
        };
        by_name.insert(name, i);
    }
    let refs: Vec<Vec<Option<usize>>> = analyses
        .iter()
        .map(|a| {
            a.as_ref().map_or_else(Vec::new, |a| {
                a.tables
                    .iter()
                    .map(|t| {
                        let n = match &t.schema {
                            Some(s) => format!("{}.{}", ast::quote(s), ast::quote(&t.name)),
                            None => ast::quote(&t.name),
                        };
                        by_name.get(&n).copied()
                    })
                    .collect()
            })
        })
        .collect();
    let resolved: Vec<Vec<usize>> = refs
        .iter()
        .map(|r| {
            let mut v: Vec<usize> = r.iter().flatten().copied().collect();
            v.sort();
            v.dedup();
            v
        })
        .collect();

    // 3. Representative parameters.
    let version: u32 = whatif::simple_text(target, "SHOW server_version_num")
        .await
        .map_err(|e| AdviseError::db("reading the server version", e))?
        .trim()
        .parse()
        .unwrap_or(0);
    let mut prepared: Vec<Option<Prepared>> = Vec::new();
    let mut query_notes: Vec<Vec<String>> = vec![Vec::new(); workload.queries.len()];
    for (i, q) in workload.queries.iter().enumerate() {
        let n = nparams[i];
        if n == 0 && analyses[i].is_none() && !strict {
            prepared.push(None);
            continue;
        }
        if n == 0 {
            prepared.push(Some(Prepared {
                statement: None,
                sql: q.sql.clone(),
                params: Vec::new(),
                tables: resolved[i].clone(),
                generic: false,
            }));
            continue;
        }
        let Some(a) = &analyses[i] else {
            query_notes[i].push("its parameters need values and it could not be analyzed".into());
            prepared.push(None);
            continue;
        };
        match sample_params(target, a, &refs[i], &tables, n, sets).await? {
            Ok(params) => prepared.push(Some(Prepared {
                statement: Some(format!("dbarch_advise_{i}")),
                sql: q.sql.clone(),
                params,
                tables: resolved[i].clone(),
                generic: false,
            })),
            Err(why) if version >= 160000 => {
                query_notes[i].push(format!("{why}; costed with a generic plan, not measured"));
                prepared.push(Some(Prepared {
                    statement: None,
                    sql: q.sql.clone(),
                    params: Vec::new(),
                    tables: resolved[i].clone(),
                    generic: true,
                }));
            }
            Err(why) => {
                query_notes[i].push(why);
                prepared.push(None);
            }
        }
    }

    Ok(Loaded {
        analyses,
        refs,
        resolved,
        tables,
        prepared,
        query_notes,
    })
}

/// Parameter sets sampled at least this often (the cost averages the first 3).
const COST_SAMPLES: usize = 3;

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn checks_size(b: i64) -> String {
    crate::doctor::size(b)
}

/// A statement PostgreSQL refused: the user's input, with the position in the file.
fn rejected(e: tokio_postgres::Error, q: &WorkloadQuery, source: &str) -> AdviseError {
    match crate::Error::from_db(e, Some(&q.sql)) {
        crate::Error::Rejected {
            message,
            line,
            column,
            ..
        } => {
            let at = match (q.line, line, column) {
                (Some(base), Some(l), Some(c)) => format!("{source}:{}:{c}", base + l - 1),
                (Some(base), _, _) => format!("{source}:{base}"),
                _ => source.to_owned(),
            };
            AdviseError::Input(format!("{at}: query {}: {message}", q.name))
        }
        crate::Error::Timeout(e) => {
            AdviseError::db("preparing a workload query (statement_timeout)", e)
        }
        crate::Error::Database(e) => AdviseError::db("preparing a workload query", e),
        other => AdviseError::Input(format!("query {}: {other}", q.name)),
    }
}

/// `n` parameter values per set, `sets` sets, sampled from the column each `$k` is compared
/// to (`LIMIT $k` gets 10, `OFFSET $k` 0). The inner `Err` says which parameter has no source.
async fn sample_params(
    client: &Client,
    a: &ast::Analysis,
    refs: &[Option<usize>],
    tables: &[TableInfo],
    n: usize,
    sets: usize,
) -> Result<Result<Vec<Vec<String>>, String>, AdviseError> {
    let mut columns: Vec<Vec<String>> = Vec::new();
    for k in 1..=n as i32 {
        if let Some((_, what)) = a.limit_params.iter().find(|(p, _)| *p == k) {
            columns.push(vec![if *what == "limit" { "10" } else { "0" }.to_owned()]);
            continue;
        }
        let source = a.params.iter().filter(|(p, _)| *p == k).find_map(|(_, c)| {
            candidates::resolve(a, c, refs, tables).map(|t| (t, c.name.clone()))
        });
        let Some((t, col)) = source else {
            return Ok(Err(format!(
                "${k} is compared to no column of a table, so no representative value can be sampled"
            )));
        };
        let info = &tables[t];
        let sample = if info.rows > 100_000.0 {
            format!(
                " TABLESAMPLE SYSTEM ({:.4}) REPEATABLE (7)",
                (100.0 * 20_000.0 / info.rows).min(100.0)
            )
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT {c}::text FROM {t}{sample} WHERE {c} IS NOT NULL ORDER BY md5({c}::text) LIMIT {sets}",
            c = ast::quote(&col),
            t = info.qualified()
        );
        let values: Vec<String> = client
            .query(&sql, &[])
            .await
            .map_err(|e| AdviseError::db("sampling parameter values", e))?
            .iter()
            .map(|r| format!("'{}'", r.get::<_, String>(0).replace('\'', "''")))
            .collect();
        if values.is_empty() {
            return Ok(Err(format!(
                "${k}: {}.{col} holds no value to sample",
                info.qualified()
            )));
        }
        columns.push(values);
    }
    Ok(Ok((0..sets)
        .map(|i| columns.iter().map(|v| v[i % v.len()].clone()).collect())
        .collect()))
}

/// The migration (up, down) creating the advised indexes concurrently, in dbarch's native
/// format (`-- dbarch:no-transaction`). `None` when nothing is advised.
pub fn migration(advice: &Advice) -> Option<(String, String)> {
    if advice.recommendations.is_empty() {
        return None;
    }
    let mut up = format!(
        "-- dbarch:no-transaction\n-- Indexes advised by `dbarch advise` (workload: {}).\n",
        advice.workload
    );
    let mut down = String::from("-- dbarch:no-transaction\n");
    let mut extensions: Vec<&str> = advice
        .recommendations
        .iter()
        .filter_map(|r| r.requires_extension.as_deref())
        .collect();
    extensions.dedup();
    for e in extensions {
        up.push_str(&format!("CREATE EXTENSION IF NOT EXISTS {e};\n"));
    }
    for r in &advice.recommendations {
        let served: Vec<&str> = r.queries.iter().map(|s| s.query.as_str()).collect();
        if !served.is_empty() {
            up.push_str(&format!("-- serves: {}\n", served.join(", ")));
        }
        up.push_str(
            &r.statement
                .replacen("CONCURRENTLY ", "CONCURRENTLY IF NOT EXISTS ", 1),
        );
        up.push('\n');
        let schema = r.table.split('.').next().unwrap_or("public");
        down.push_str(&format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {schema}.{};\n",
            ast::quote(&r.name)
        ));
    }
    Some((up, down))
}

fn ms(l: &Option<Latency>) -> String {
    match l {
        Some(l) => format!("{:.2}/{:.2}/{:.2}", l.p50_ms, l.p95_ms, l.p99_ms),
        None => "-".into(),
    }
}

/// The advice for people.
pub fn render_text(a: &Advice) -> String {
    let mut s = format!(
        "Index advice: {} on PostgreSQL {} (what-if: {}, measured on the {}), workload {} ({} queries, {} candidates, {} cost evaluations, {} cache hits)\n\n",
        if a.applied { "applied" } else { "proposed" },
        a.server_version,
        match a.method {
            Backend::Hypopg => "HypoPG",
            Backend::Shadow => "real builds on a shadow server",
        },
        a.measured_on,
        a.workload,
        a.queries.len(),
        a.candidates_considered,
        a.cost_evaluations,
        a.cost_cache_hits,
    );
    if a.recommendations.is_empty() {
        s.push_str("No index to add: no candidate improves a query enough.\n");
    } else {
        s.push_str(&format!(
            "Recommended indexes ({}, {}{}):\n",
            a.recommendations.len(),
            crate::doctor::size(a.used_bytes),
            a.budget_bytes
                .map(|b| format!(" of a {} budget", crate::doctor::size(b)))
                .unwrap_or_default()
        ));
        for r in &a.recommendations {
            s.push_str(&format!("  {}\n", r.statement));
            s.push_str(&format!(
                "    size {} · write share {:.0}%\n",
                crate::doctor::size(r.size_bytes),
                r.write_share * 100.0
            ));
            for q in &r.queries {
                let p95 = match (q.p95_before_ms, q.p95_after_ms) {
                    (Some(b), Some(a)) => format!(", P95 {b:.2} ms → {a:.2} ms"),
                    (Some(b), None) => format!(", P95 {b:.2} ms before"),
                    _ => String::new(),
                };
                s.push_str(&format!(
                    "    serves {}: cost {:.2} → {:.2}{p95}\n",
                    q.query, q.cost_before, q.cost_after
                ));
            }
        }
    }
    s.push_str(&format!(
        "\nQueries (P50/P95/P99 ms, {} runs each, before → after; target {} ms):\n",
        a.queries
            .iter()
            .find_map(|q| q.before.as_ref().map(|l| l.runs))
            .unwrap_or(0),
        a.target_ms
    ));
    for q in &a.queries {
        s.push_str(&format!(
            "  {:<28} {} → {}{}\n",
            q.name,
            ms(&q.before),
            ms(&q.after),
            if q.over_target {
                "  ⚠ over target"
            } else if q.before.as_ref().is_some_and(|l| l.p95_ms > a.target_ms) {
                "  ✓ was over target"
            } else {
                ""
            }
        ));
        for n in &q.notes {
            s.push_str(&format!("      {n}\n"));
        }
    }
    if !a.drop.is_empty() {
        s.push_str("\nIndexes to drop:\n");
        for d in &a.drop {
            s.push_str(&format!("  [{}] {}\n", d.code, d.message));
            if let Some(f) = &d.fix {
                s.push_str(&format!("    fix: {f}\n"));
            }
        }
    }
    if !a.n_plus_one.is_empty() {
        s.push_str("\nN+1 queries:\n");
        for n in &a.n_plus_one {
            s.push_str(&format!(
                "  {} on {}.{} ({}){}\n    batch it: {}\n",
                n.query,
                n.table,
                n.column,
                n.evidence,
                n.parent
                    .as_ref()
                    .map(|p| format!(", inside the loop over {p}"))
                    .unwrap_or_default(),
                n.rewrite
            ));
        }
    }
    if !a.notes.is_empty() {
        s.push_str("\nNotes:\n");
        for n in &a.notes {
            s.push_str(&format!("  - {n}\n"));
        }
    }
    s
}

/// The advice as a Markdown section body (for `dbarch review`).
pub fn render_markdown(a: &Advice) -> String {
    let mut s = format!(
        "Workload `{}` ({} queries); candidates evaluated with {}; latencies measured on the {} \
         ({} runs per query, target P95 {} ms).\n\n",
        a.workload,
        a.queries.len(),
        match a.method {
            Backend::Hypopg => "HypoPG (hypothetical indexes)",
            Backend::Shadow => "real builds on a shadow server",
        },
        a.measured_on,
        a.queries
            .iter()
            .find_map(|q| q.before.as_ref().map(|l| l.runs))
            .unwrap_or(0),
        a.target_ms
    );
    if a.recommendations.is_empty() {
        s.push_str("No index to add: no candidate improves a query enough.\n");
    } else {
        s.push_str(
            "| Index | Size | Serves (planner cost, P95 before → after) |\n|---|---:|---|\n",
        );
        for r in &a.recommendations {
            let served: Vec<String> = r
                .queries
                .iter()
                .map(|q| {
                    let p95 = match (q.p95_before_ms, q.p95_after_ms) {
                        (Some(b), Some(a)) => format!(", {b:.2} → {a:.2} ms"),
                        _ => String::new(),
                    };
                    format!(
                        "`{}` ({:.0} → {:.0}{p95})",
                        q.query, q.cost_before, q.cost_after
                    )
                })
                .collect();
            s.push_str(&format!(
                "| `{}` on `{}` | {} | {} |\n",
                r.name,
                r.table,
                crate::doctor::size(r.size_bytes),
                served.join("; ")
            ));
        }
        s.push_str("\n```sql\n");
        for r in &a.recommendations {
            s.push_str(&r.statement);
            s.push('\n');
        }
        s.push_str("```\n");
    }
    s.push_str("\n| Query | P50 / P95 / P99 before (ms) | after (ms) | |\n|---|---|---|---|\n");
    for q in &a.queries {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            q.name,
            ms(&q.before),
            ms(&q.after),
            if q.over_target {
                "⚠ over target".to_owned()
            } else {
                q.notes.join("; ")
            }
        ));
    }
    if !a.n_plus_one.is_empty() {
        s.push_str("\nN+1 queries:\n\n");
        for n in &a.n_plus_one {
            s.push_str(&format!(
                "- `{}` on `{}.{}` ({}): batch it as `{}`\n",
                n.query, n.table, n.column, n.evidence, n.rewrite
            ));
        }
    }
    if !a.notes.is_empty() {
        s.push('\n');
        for n in &a.notes {
            s.push_str(&format!("- {n}\n"));
        }
    }
    s
}

/// `dbarch doctor`'s view of the workload: the `top` statements of pg_stat_statements, each
/// executed `runs` times with representative parameters (rolled back) on the read-only
/// session, as H022 common-query-latency (a warning over `target_ms` at P95, else a note with
/// the figures), and N+1 patterns as H023. Without readable pg_stat_statements: nothing
/// (H019 already says so).
pub async fn doctor_findings(
    client: &Client,
    top: usize,
    runs: usize,
    target_ms: f64,
) -> Result<Vec<Diagnostic>, AdviseError> {
    use dbarch_report::Severity;
    let workload = match workload::from_pg_stat_statements(client, top).await {
        Ok(w) => w,
        Err(AdviseError::Input(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut notes = Vec::new();
    let loaded = load(client, &workload, runs.max(1), false, &mut notes).await?;
    let mut out = Vec::new();
    if runs > 0 {
        client
            .batch_execute("SET plan_cache_mode = force_custom_plan")
            .await
            .map_err(|e| AdviseError::db("setting up the session", e))?;
    }
    for (i, p) in loaded.prepared.iter().enumerate() {
        let (Some(p), true) = (p, runs > 0) else {
            continue;
        };
        if p.generic {
            continue;
        }
        let q = &workload.queries[i];
        if let Some(s) = &p.statement {
            deallocate(client, s).await?;
            if client
                .batch_execute(&format!("PREPARE {s} AS {}", p.sql))
                .await
                .is_err()
            {
                continue;
            }
        }
        let measured = measure::measure(client, p, runs).await;
        if let Some(s) = &p.statement {
            deallocate(client, s).await?;
        }
        let Ok(l) = measured else { continue };
        let over = l.p95_ms > target_ms;
        let short: String = q.sql.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push(
            Diagnostic::new(
                "H022",
                "common-query-latency",
                if over {
                    Severity::Warning
                } else {
                    Severity::Note
                },
                format!(
                    "{} ({:.0} calls): P50 {:.2} ms, P95 {:.2} ms, P99 {:.2} ms over {} runs{}",
                    q.name,
                    q.calls,
                    l.p50_ms,
                    l.p95_ms,
                    l.p99_ms,
                    l.runs,
                    if over {
                        format!(", over the {target_ms} ms target")
                    } else {
                        String::new()
                    }
                ),
            )
            .with_object(q.fingerprint.clone())
            .with_help(format!(
                "Measured by executing it with parameters sampled from the columns they are \
                 compared to, each run rolled back: {short}"
            ))
            .with_fix(if over {
                "dbarch advise (indexes for the workload, measured before and after)"
            } else {
                "nothing to do"
            }),
        );
    }
    let found = nplus1::from_statements(
        &workload.queries,
        &loaded.analyses,
        &loaded.resolved,
        &loaded.tables,
        nplus1::MIN_CALLS,
    );
    for n in found {
        out.push(
            Diagnostic::new(
                "H023",
                "n-plus-one",
                Severity::Warning,
                format!(
                    "{} looks like an N+1 loop on {}.{} ({}{})",
                    n.query,
                    n.table,
                    n.column,
                    n.evidence,
                    n.parent
                        .as_ref()
                        .map(|p| format!(", driven by {p}"))
                        .unwrap_or_default()
                ),
            )
            .with_object(n.table.clone())
            .with_help(format!(
                "A single-row lookup by key run once per row of another query: one round trip \
                 each. Fetch them all in one statement instead: {}",
                n.sql
            ))
            .with_fix(n.rewrite.clone()),
        );
    }
    Ok(out)
}
