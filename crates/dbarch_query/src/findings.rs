//! Plan findings, each a `Diagnostic` with a concrete fix, ranked by the time (or, without
//! ANALYZE, the cost) they could save. Codes are stable and never reused:
//!
//! | Code | Name |
//! |---|---|
//! | Q001 | seq-scan-selective-filter |
//! | Q002 | index-scan-filter-removes-rows |
//! | Q003 | row-misestimate |
//! | Q004 | sort-or-hash-spills-to-disk |
//! | Q005 | lossy-bitmap-heap-scan |
//! | Q006 | nested-loop-inner-scan |
//! | Q007 | index-only-scan-heap-fetches |
//! | Q008 | jit-dominates |
//! | Q009 | planning-time-dominates |
//! | Q010 | parallel-workers-not-launched |
//! | Q011 | vector-order-by-without-ann-index |

use crate::exprs::{compared_columns, qualified_columns, quote_ident};
use crate::plan::{Explain, PlanNode};
use crate::run::Outcome;
use crate::vector;
use dbarch_report::{Diagnostic, Severity};
use std::collections::BTreeMap;

/// A table scanned in full is "large" from this many rows on.
const LARGE_TABLE_ROWS: f64 = 10_000.0;
/// A filter is "selective" when it keeps at most this share of the rows it reads.
const SELECTIVE: f64 = 0.05;
/// Estimated vs actual rows this far apart is a misestimate.
const MISESTIMATE: f64 = 10.0;
/// Loops of an inner side from which a nested loop is worth indexing.
const MANY_LOOPS: f64 = 100.0;

/// All findings for an EXPLAIN outcome, best saving first.
pub fn analyze(outcome: &Outcome) -> Vec<Diagnostic> {
    let e = &outcome.explain;
    let mut found: Vec<(f64, Diagnostic)> = Vec::new();
    walk(&e.plan, None, &mut |node, parent| {
        let w = weight(node);
        seq_scan_selective_filter(node, parent, w, &outcome.table_rows, &mut found);
        index_filter_removes_rows(node, w, &mut found);
        row_misestimate(node, parent, &mut found);
        spills_to_disk(node, w, &mut found);
        lossy_bitmap(node, w, &mut found);
        nested_loop_inner_scan(node, &mut found);
        heap_fetches(node, w, &mut found);
        workers_not_launched(node, &mut found);
    });
    statement_level(e, &mut found);
    if let Some(d) = vector::check(&outcome.sql, e, &outcome.vector_indexes) {
        // Without an ANN index the whole ordering is the cost: the plan's top-level time.
        found.push((weight_inclusive(&e.plan) * 0.9, d));
    }
    let total = if e.analyzed {
        e.total_time_ms()
    } else {
        e.plan.total_cost.unwrap_or(0.0)
    };
    found.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.code.cmp(&b.1.code))
            .then_with(|| a.1.message.cmp(&b.1.message))
    });
    found
        .into_iter()
        .map(|(saving, mut d)| {
            if total > 0.0 && saving > 0.0 {
                let unit = if e.analyzed { " ms" } else { " cost units" };
                d.message.push_str(&format!(
                    " (could save ~{saving:.1}{unit}, {:.0}% of the total)",
                    (saving / total * 100.0).min(100.0)
                ));
            }
            d
        })
        .collect()
}

fn walk<'a>(
    node: &'a PlanNode,
    parent: Option<&'a PlanNode>,
    f: &mut impl FnMut(&'a PlanNode, Option<&'a PlanNode>),
) {
    f(node, parent);
    for c in &node.plans {
        walk(c, Some(node), f);
    }
}

/// What a node costs on its own: exclusive time when analyzed, else exclusive cost.
fn weight(n: &PlanNode) -> f64 {
    n.exclusive_time_ms().unwrap_or_else(|| {
        let children: f64 = n.plans.iter().filter_map(|c| c.total_cost).sum();
        (n.total_cost.unwrap_or(0.0) - children).max(0.0)
    })
}

fn weight_inclusive(n: &PlanNode) -> f64 {
    n.inclusive_time_ms().or(n.total_cost).unwrap_or(0.0)
}

fn rel(n: &PlanNode) -> String {
    n.relation_name
        .as_deref()
        .map(quote_ident)
        .unwrap_or_else(|| "<table>".to_owned())
}

fn object(n: &PlanNode) -> Option<String> {
    n.relation_name.clone()
}

fn diag(code: &str, name: &str, sev: Severity, n: &PlanNode, msg: String) -> Diagnostic {
    let d = Diagnostic::new(code, name, sev, msg);
    match object(n) {
        Some(o) => d.with_object(o),
        None => d,
    }
}

fn create_index(n: &PlanNode, cols: &[String]) -> Option<String> {
    (!cols.is_empty()).then(|| {
        format!(
            "CREATE INDEX CONCURRENTLY ON {} ({});",
            rel(n),
            cols.join(", ")
        )
    })
}

fn is_nested_loop_inner(node: &PlanNode, parent: Option<&PlanNode>) -> bool {
    parent.is_some_and(|p| p.node_type == "Nested Loop")
        && node.parent_relationship.as_deref() == Some("Inner")
}

fn seq_scan_selective_filter(
    n: &PlanNode,
    parent: Option<&PlanNode>,
    w: f64,
    table_rows: &BTreeMap<String, f64>,
    out: &mut Vec<(f64, Diagnostic)>,
) {
    if n.node_type != "Seq Scan" || is_nested_loop_inner(n, parent) {
        return;
    }
    let Some(filter) = &n.filter else { return };
    // Measured rows under ANALYZE; else the estimate against the table's size.
    let (kept, read) = match (n.actual_rows, n.rows_removed_by_filter) {
        (Some(rows), Some(removed)) => (rows * n.loops(), (rows + removed) * n.loops()),
        (None, _) => {
            let total = n.relation_name.as_ref().and_then(|r| table_rows.get(r));
            match (n.plan_rows, total) {
                (Some(est), Some(total)) => (est, *total),
                _ => return,
            }
        }
        _ => return,
    };
    if read < LARGE_TABLE_ROWS || kept / read > SELECTIVE {
        return;
    }
    let cols = compared_columns(filter, n.alias.as_deref());
    let mut d = diag(
        "Q001",
        "seq-scan-selective-filter",
        Severity::Warning,
        n,
        format!(
            "Seq Scan on {} reads {read:.0} rows to keep {kept:.0}{} (filter {filter})",
            rel(n),
            if n.actual_rows.is_some() {
                ""
            } else {
                " (estimated)"
            }
        ),
    )
    .with_help("an index on the filtered column(s) reads only the matching rows");
    if let Some(fix) = create_index(n, &cols) {
        d = d.with_fix(fix);
    }
    out.push((w * (1.0 - kept / read), d));
}

fn index_filter_removes_rows(n: &PlanNode, w: f64, out: &mut Vec<(f64, Diagnostic)>) {
    if !matches!(
        n.node_type.as_str(),
        "Index Scan" | "Index Only Scan" | "Bitmap Heap Scan"
    ) {
        return;
    }
    let (Some(filter), Some(rows), Some(removed)) =
        (&n.filter, n.actual_rows, n.rows_removed_by_filter)
    else {
        return;
    };
    let (kept, removed) = (rows * n.loops(), removed * n.loops());
    if removed < 1000.0 || removed < MISESTIMATE * kept {
        return;
    }
    let cond = n.index_cond.as_deref().or(n.recheck_cond.as_deref());
    let mut cols = cond
        .map(|c| compared_columns(c, n.alias.as_deref()))
        .unwrap_or_default();
    for c in compared_columns(filter, n.alias.as_deref()) {
        if !cols.contains(&c) {
            cols.push(c);
        }
    }
    let mut d = diag(
        "Q002",
        "index-scan-filter-removes-rows",
        Severity::Warning,
        n,
        format!(
            "{} fetches {:.0} rows and its filter {filter} throws away {removed:.0} of them",
            n.label(),
            kept + removed
        ),
    )
    .with_help("an index that also covers the filtered column(s) skips those rows");
    if let Some(fix) = create_index(n, &cols) {
        d = d.with_fix(fix);
    }
    out.push((w * removed / (kept + removed), d));
}

fn misestimate_ratio(n: &PlanNode) -> Option<f64> {
    let (est, act) = (n.plan_rows?, n.actual_rows?);
    if n.actual_loops == Some(0.0) || est.max(act) < 100.0 {
        return None;
    }
    let ratio = est.max(act) / est.min(act).max(1.0);
    (ratio >= MISESTIMATE).then_some(ratio)
}

fn row_misestimate(n: &PlanNode, parent: Option<&PlanNode>, out: &mut Vec<(f64, Diagnostic)>) {
    let Some(ratio) = misestimate_ratio(n) else {
        return;
    };
    // Report where the misestimate starts, not every node it propagates to.
    if n.plans.iter().any(|c| misestimate_ratio(c).is_some()) {
        return;
    }
    let (est, act) = (n.plan_rows.unwrap_or(0.0), n.actual_rows.unwrap_or(0.0));
    let cols = n
        .filter
        .as_deref()
        .or(n.index_cond.as_deref())
        .or(n.recheck_cond.as_deref())
        .map(|f| compared_columns(f, n.alias.as_deref()))
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.split(' ').next().unwrap_or_default().to_owned())
        .collect::<Vec<_>>();
    let fix = match (&n.relation_name, cols.len()) {
        (Some(_), 2..) => format!(
            "CREATE STATISTICS ON {} FROM {t}; ANALYZE {t};",
            cols.join(", "),
            t = rel(n)
        ),
        (Some(_), _) => format!("ANALYZE {};", rel(n)),
        (None, _) => "ANALYZE the tables below this node; for correlated join or filter columns, \
                      CREATE STATISTICS (dependencies, ndistinct, mcv) on them"
            .to_owned(),
    };
    let help = if cols.len() >= 2 {
        "the planner assumes the filtered columns are independent; extended statistics teach \
         it their correlation"
    } else {
        "stale or too coarse statistics; the plan chosen on this estimate may be the wrong one"
    };
    let d = diag(
        "Q003",
        "row-misestimate",
        Severity::Warning,
        n,
        format!(
            "{} was estimated at {est:.0} rows but returned {act:.0} ({ratio:.0}x off)",
            n.label()
        ),
    )
    .with_help(help)
    .with_fix(fix);
    // A bad estimate costs through the operator built on it: the parent's own time.
    out.push((parent.map_or(0.0, weight), d));
}

/// `SET work_mem = 'NMB'` large enough for `need_kb`.
fn work_mem_fix(need_kb: u64) -> String {
    let mb = need_kb.div_ceil(1024).max(4).next_power_of_two();
    format!("SET work_mem = '{mb}MB'; (for this session or role, not globally)")
}

fn spills_to_disk(n: &PlanNode, w: f64, out: &mut Vec<(f64, Diagnostic)>) {
    let (what, need_kb) = if n.sort_space_type.as_deref() == Some("Disk") {
        // An in-memory sort needs roughly 2-3x the space of its on-disk runs.
        let used = n.sort_space_used.unwrap_or(0);
        (
            format!(
                "sorts {used} kB on disk ({})",
                n.sort_method.as_deref().unwrap_or("external")
            ),
            used * 3,
        )
    } else if n.hash_batches.unwrap_or(1) > 1 {
        let batches = n.hash_batches.unwrap_or(1);
        let peak = n.peak_memory_usage.unwrap_or(0);
        (
            format!("hashes in {batches} batches (spilling to disk)"),
            peak * batches * 2,
        )
    } else if n.disk_usage.unwrap_or(0) > 0 {
        let disk = n.disk_usage.unwrap_or(0);
        (format!("spills {disk} kB to disk"), disk * 2)
    } else {
        return;
    };
    let d = diag(
        "Q004",
        "sort-or-hash-spills-to-disk",
        Severity::Warning,
        n,
        format!("{} {what}", n.label()),
    )
    .with_help("work_mem is too small for this operation, so it writes temporary files")
    .with_fix(work_mem_fix(need_kb));
    out.push((w * 0.5, d));
}

fn lossy_bitmap(n: &PlanNode, w: f64, out: &mut Vec<(f64, Diagnostic)>) {
    let lossy = n.lossy_heap_blocks.unwrap_or(0.0);
    if lossy <= 0.0 {
        return;
    }
    let blocks = lossy + n.exact_heap_blocks.unwrap_or(0.0);
    let d = diag(
        "Q005",
        "lossy-bitmap-heap-scan",
        Severity::Warning,
        n,
        format!(
            "{} went lossy on {lossy:.0} of {blocks:.0} heap blocks: every row on them is rechecked",
            n.label()
        ),
    )
    .with_help("the bitmap did not fit in work_mem, so it keeps whole pages instead of rows")
    .with_fix(work_mem_fix((blocks as u64) * 64 / 1024 * 2));
    out.push((w * lossy / blocks, d));
}

fn nested_loop_inner_scan(n: &PlanNode, out: &mut Vec<(f64, Diagnostic)>) {
    if n.node_type != "Nested Loop" || n.plans.len() < 2 {
        return;
    }
    // A Materialize over the inner scan saves the I/O but still compares every pair.
    let (inner, top) = match &n.plans[1] {
        m if m.node_type == "Materialize" && m.plans.len() == 1 => (&m.plans[0], m),
        i => (i, i),
    };
    if inner.node_type != "Seq Scan" {
        return;
    }
    let loops = match top.actual_loops {
        Some(l) => l,
        // Without ANALYZE: the outer side's estimated rows are the loops.
        None => n.plans[0].plan_rows.unwrap_or(0.0),
    };
    if loops < MANY_LOOPS {
        return;
    }
    let mut cols = inner
        .filter
        .as_deref()
        .map(|c| compared_columns(c, inner.alias.as_deref()))
        .unwrap_or_default();
    if cols.is_empty()
        && let (Some(jf), Some(alias)) = (&n.join_filter, &inner.alias)
    {
        cols = qualified_columns(jf, alias);
    }
    let mut d = diag(
        "Q006",
        "nested-loop-inner-scan",
        Severity::Warning,
        inner,
        format!(
            "Nested Loop scans {} in full {loops:.0} times",
            inner.relation_name.as_deref().unwrap_or("its inner side")
        ),
    )
    .with_help("an index on the join column turns each inner scan into an index lookup");
    if let Some(fix) = create_index(inner, &cols) {
        d = d.with_fix(fix);
    }
    out.push((weight_inclusive(top).max(weight(n)) * 0.9, d));
}

fn heap_fetches(n: &PlanNode, w: f64, out: &mut Vec<(f64, Diagnostic)>) {
    if n.node_type != "Index Only Scan" {
        return;
    }
    let fetches = n.heap_fetches.unwrap_or(0.0) * n.loops();
    let rows = n.total_actual_rows().unwrap_or(0.0);
    if fetches < 100.0 || fetches < 0.1 * rows {
        return;
    }
    let d = diag(
        "Q007",
        "index-only-scan-heap-fetches",
        Severity::Warning,
        n,
        format!(
            "{} visited the heap {fetches:.0} times for {rows:.0} rows: the visibility map is stale",
            n.label()
        ),
    )
    .with_help("an index-only scan reads the table for pages not marked all-visible by VACUUM")
    .with_fix(format!(
        "VACUUM (ANALYZE) {}; and let autovacuum run more often on it \
         (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)",
        rel(n)
    ));
    out.push((w * (fetches / rows.max(fetches)) * 0.5, d));
}

fn workers_not_launched(n: &PlanNode, out: &mut Vec<(f64, Diagnostic)>) {
    let (Some(planned), Some(launched)) = (n.workers_planned, n.workers_launched) else {
        return;
    };
    if launched >= planned {
        return;
    }
    let d = diag(
        "Q010",
        "parallel-workers-not-launched",
        Severity::Note,
        n,
        format!(
            "{} planned {planned} parallel worker(s) but launched {launched}",
            n.label()
        ),
    )
    .with_help("the server ran out of background workers (busy with other queries or too few)")
    .with_fix(
        "raise max_parallel_workers and max_worker_processes (restart), or lower \
         max_parallel_workers_per_gather to what the server can give",
    );
    let share = (planned - launched) as f64 / (planned + 1) as f64;
    out.push((weight_inclusive(n) * share, d));
}

fn statement_level(e: &Explain, out: &mut Vec<(f64, Diagnostic)>) {
    let exec = e.execution_time_ms.unwrap_or(0.0);
    if let Some(jit) = e.jit.as_ref().and_then(|j| j.timing.as_ref())
        && e.analyzed
        && jit.total_ms >= 10.0
        && jit.total_ms >= 0.2 * exec
    {
        let d = Diagnostic::new(
            "Q008",
            "jit-dominates",
            Severity::Warning,
            format!(
                "JIT compilation took {:.1} ms of the {exec:.1} ms execution",
                jit.total_ms
            ),
        )
        .with_help("JIT pays off for long analytical queries only; this one is too short")
        .with_fix("SET jit = off; or raise jit_above_cost (e.g. ALTER DATABASE ... SET jit_above_cost = 1000000)");
        out.push((jit.total_ms, d));
    }
    if let Some(planning) = e.planning_time_ms
        && e.analyzed
        && planning >= 5.0
        && planning > exec
    {
        let d = Diagnostic::new(
            "Q009",
            "planning-time-dominates",
            Severity::Note,
            format!("planning took {planning:.1} ms, longer than the {exec:.1} ms execution"),
        )
        .with_help("many joins or partitions make planning expensive for a fast query")
        .with_fix(
            "run it as a prepared statement so its plan is cached (most drivers do with \
             parameters); fewer joins or partitions to consider",
        );
        out.push((planning - exec, d));
    }
}
