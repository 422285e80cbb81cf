//! The plan as an indented tree: each node's exclusive time and its share of the total,
//! estimated vs actual rows (misestimates of 10x or more flagged), loops and buffers.

use crate::plan::{Explain, PlanNode};
use std::fmt::Write;

pub fn text(e: &Explain) -> String {
    let mut out = String::new();
    let total = e.execution_time_ms.unwrap_or(0.0);
    for (depth, n) in e.nodes() {
        let indent = "  ".repeat(depth);
        let arrow = if depth == 0 { "" } else { "-> " };
        let _ = write!(out, "{indent}{arrow}{}", n.label());
        if let Some(t) = n.exclusive_time_ms() {
            let share = if total > 0.0 { t / total * 100.0 } else { 0.0 };
            let _ = write!(out, "  [{t:.2} ms, {share:.1}%]");
        } else if let Some(c) = n.total_cost {
            let _ = write!(out, "  [cost {c:.2}]");
        }
        let _ = write!(out, "  rows {}", rows(n));
        if let Some(l) = n.actual_loops
            && l != 1.0
        {
            let _ = write!(out, "  loops {l:.0}");
        }
        let b = buffers(n);
        if !b.is_empty() {
            let _ = write!(out, "  buffers {b}");
        }
        out.push('\n');
        for line in details(n) {
            let _ = writeln!(out, "{indent}     {line}");
        }
    }
    if let Some(p) = e.planning_time_ms {
        let _ = writeln!(out, "Planning: {p:.3} ms");
    }
    if let Some(x) = e.execution_time_ms {
        let _ = writeln!(out, "Execution: {x:.3} ms");
    }
    if let Some(jit) = &e.jit {
        let t = jit.timing.as_ref().map_or(0.0, |t| t.total_ms);
        let _ = writeln!(out, "JIT: {} functions, {t:.3} ms", jit.functions);
    }
    if let Some(s) = e.settings.as_ref().filter(|s| !s.is_empty()) {
        let list: Vec<String> = s.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "Settings: {}", list.join(", "));
    }
    out
}

fn rows(n: &PlanNode) -> String {
    let est = n.plan_rows.unwrap_or(0.0);
    match n.actual_rows {
        None => format!("{est:.0} est"),
        Some(act) => {
            let ratio = est.max(act) / est.min(act).max(1.0);
            let flag = if ratio >= 10.0 && est.max(act) >= 10.0 {
                format!(
                    " !! {ratio:.0}x {}",
                    if act > est { "under" } else { "over" }
                )
            } else {
                String::new()
            };
            format!("{act} actual / {est:.0} est{flag}")
        }
    }
}

fn buffers(n: &PlanNode) -> String {
    let mut parts = Vec::new();
    for (name, v) in [
        ("hit", n.shared_hit_blocks),
        ("read", n.shared_read_blocks),
        ("dirtied", n.shared_dirtied_blocks),
        ("written", n.shared_written_blocks),
        ("temp read", n.temp_read_blocks),
        ("temp written", n.temp_written_blocks),
    ] {
        if let Some(v) = v.filter(|v| *v > 0) {
            parts.push(format!("{name}={v}"));
        }
    }
    parts.join(" ")
}

fn details(n: &PlanNode) -> Vec<String> {
    let mut d = Vec::new();
    let mut add = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            d.push(format!("{k}: {v}"));
        }
    };
    add("Index Cond", n.index_cond.clone());
    add("Recheck Cond", n.recheck_cond.clone());
    add("Hash Cond", n.hash_cond.clone());
    add("Merge Cond", n.merge_cond.clone());
    add("Join Filter", n.join_filter.clone());
    add("Filter", n.filter.clone());
    add("Order By", n.order_by.clone());
    add(
        "Rows Removed by Filter",
        n.rows_removed_by_filter.map(|r| format!("{r}")),
    );
    add("Sort Key", n.sort_key.as_ref().map(|k| k.join(", ")));
    add(
        "Sort Method",
        n.sort_method.as_ref().map(|m| {
            format!(
                "{m}  {}: {} kB",
                n.sort_space_type.as_deref().unwrap_or("Memory"),
                n.sort_space_used.unwrap_or(0)
            )
        }),
    );
    add(
        "Hash Batches",
        n.hash_batches
            .filter(|b| *b > 1)
            .map(|b| format!("{b}  Peak Memory: {} kB", n.peak_memory_usage.unwrap_or(0))),
    );
    add(
        "Disk Usage",
        n.disk_usage.filter(|d| *d > 0).map(|d| format!("{d} kB")),
    );
    add("Heap Fetches", n.heap_fetches.map(|h| format!("{h}")));
    add(
        "Heap Blocks",
        n.lossy_heap_blocks
            .filter(|l| *l > 0.0)
            .map(|l| format!("exact={} lossy={l}", n.exact_heap_blocks.unwrap_or(0.0))),
    );
    if let (Some(p), Some(l)) = (n.workers_planned, n.workers_launched) {
        d.push(format!("Workers: planned {p}, launched {l}"));
    }
    d
}

#[cfg(test)]
mod tests {
    #[test]
    fn tree_with_exclusive_times_and_misestimates() {
        let e = crate::Explain::from_json(
            r#"[{"Plan": {"Node Type": "Sort", "Plan Rows": 10, "Actual Total Time": 8.0,
            "Actual Rows": 1000, "Actual Loops": 1, "Sort Method": "external merge",
            "Sort Space Used": 2048, "Sort Space Type": "Disk", "Temp Written Blocks": 256,
            "Plans": [{"Node Type": "Seq Scan", "Relation Name": "t", "Alias": "t",
            "Plan Rows": 1000, "Actual Total Time": 2.0, "Actual Rows": 1000,
            "Actual Loops": 1, "Shared Hit Blocks": 12}]}, "Planning Time": 0.5,
            "Execution Time": 10.0}]"#,
        )
        .unwrap();
        let text = super::text(&e);
        assert_eq!(
            text,
            "Sort  [6.00 ms, 60.0%]  rows 1000 actual / 10 est !! 100x under  buffers temp written=256\n\
             \x20    Sort Method: external merge  Disk: 2048 kB\n\
             \x20\x20-> Seq Scan on t  [2.00 ms, 20.0%]  rows 1000 actual / 1000 est  buffers hit=12\n\
             Planning: 0.500 ms\n\
             Execution: 10.000 ms\n"
        );
    }
}
