//! The typed EXPLAIN (FORMAT JSON) tree. Deserialized from PostgreSQL's key names ("Node Type"),
//! serialized with snake_case names for dbarch's own JSON output. Every field PostgreSQL may
//! leave out (it depends on the node, the options and the version) is optional.

use serde::{Deserialize, Serialize};

/// One EXPLAIN result: the plan and the statement-level facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explain {
    #[serde(rename(deserialize = "Plan"))]
    pub plan: PlanNode,
    #[serde(
        rename(deserialize = "Planning Time"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub planning_time_ms: Option<f64>,
    #[serde(
        rename(deserialize = "Execution Time"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub execution_time_ms: Option<f64>,
    #[serde(
        rename(deserialize = "JIT"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub jit: Option<Jit>,
    /// Planner settings that differ from their defaults (EXPLAIN SETTINGS).
    #[serde(
        rename(deserialize = "Settings"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub settings: Option<std::collections::BTreeMap<String, String>>,
    /// Whether the statement was executed (EXPLAIN ANALYZE); set by dbarch, not PostgreSQL.
    #[serde(default)]
    pub analyzed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jit {
    #[serde(rename(deserialize = "Functions"), default)]
    pub functions: u64,
    #[serde(
        rename(deserialize = "Timing"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub timing: Option<JitTiming>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JitTiming {
    #[serde(rename(deserialize = "Total"), default)]
    pub total_ms: f64,
}

macro_rules! plan_node {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty = $key:literal ),* $(,)?) => {
        /// One plan node. Times are in milliseconds, per loop, as PostgreSQL reports them.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct PlanNode {
            #[serde(rename(deserialize = "Node Type"))]
            pub node_type: String,
            $(
                $(#[$doc])*
                #[serde(rename(deserialize = $key), default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            #[serde(rename(deserialize = "Plans"), default, skip_serializing_if = "Vec::is_empty")]
            pub plans: Vec<PlanNode>,
            /// Processes running this node at once (below a Gather: launched workers + the
            /// leader), so that loops × time counts wall-clock time once. Set after parsing.
            #[serde(skip)]
            pub processes: u32,
        }
    };
}

plan_node! {
    parent_relationship: String = "Parent Relationship",
    relation_name: String = "Relation Name",
    schema: String = "Schema",
    alias: String = "Alias",
    index_name: String = "Index Name",
    join_type: String = "Join Type",
    strategy: String = "Strategy",
    startup_cost: f64 = "Startup Cost",
    total_cost: f64 = "Total Cost",
    plan_rows: f64 = "Plan Rows",
    plan_width: u64 = "Plan Width",
    actual_startup_time: f64 = "Actual Startup Time",
    actual_total_time: f64 = "Actual Total Time",
    /// Per loop; fractional on PostgreSQL 18.
    actual_rows: f64 = "Actual Rows",
    actual_loops: f64 = "Actual Loops",
    filter: String = "Filter",
    index_cond: String = "Index Cond",
    recheck_cond: String = "Recheck Cond",
    join_filter: String = "Join Filter",
    hash_cond: String = "Hash Cond",
    merge_cond: String = "Merge Cond",
    order_by: String = "Order By",
    rows_removed_by_filter: f64 = "Rows Removed by Filter",
    rows_removed_by_join_filter: f64 = "Rows Removed by Join Filter",
    rows_removed_by_index_recheck: f64 = "Rows Removed by Index Recheck",
    sort_key: Vec<String> = "Sort Key",
    sort_method: String = "Sort Method",
    /// kB.
    sort_space_used: u64 = "Sort Space Used",
    /// "Memory" or "Disk".
    sort_space_type: String = "Sort Space Type",
    hash_batches: u64 = "Hash Batches",
    original_hash_batches: u64 = "Original Hash Batches",
    /// kB.
    peak_memory_usage: u64 = "Peak Memory Usage",
    /// HashAggregate spill (kB).
    disk_usage: u64 = "Disk Usage",
    hash_agg_batches: u64 = "HashAgg Batches",
    heap_fetches: f64 = "Heap Fetches",
    exact_heap_blocks: f64 = "Exact Heap Blocks",
    lossy_heap_blocks: f64 = "Lossy Heap Blocks",
    workers_planned: u64 = "Workers Planned",
    workers_launched: u64 = "Workers Launched",
    shared_hit_blocks: u64 = "Shared Hit Blocks",
    shared_read_blocks: u64 = "Shared Read Blocks",
    shared_dirtied_blocks: u64 = "Shared Dirtied Blocks",
    shared_written_blocks: u64 = "Shared Written Blocks",
    temp_read_blocks: u64 = "Temp Read Blocks",
    temp_written_blocks: u64 = "Temp Written Blocks",
}

impl Explain {
    /// Parses the document EXPLAIN (FORMAT JSON) returns: a one-element array.
    pub fn from_json(text: &str) -> Result<Explain, serde_json::Error> {
        let mut all: Vec<Explain> = serde_json::from_str(text)?;
        if all.is_empty() {
            return Err(serde::de::Error::custom("EXPLAIN returned no plan"));
        }
        let mut explain = all.swap_remove(0);
        set_processes(&mut explain.plan, 1);
        Ok(explain)
    }

    /// The statement's total time: execution (when analyzed) plus planning.
    pub fn total_time_ms(&self) -> f64 {
        self.execution_time_ms.unwrap_or(0.0) + self.planning_time_ms.unwrap_or(0.0)
    }

    /// Every node, depth first, with its depth.
    pub fn nodes(&self) -> Vec<(usize, &PlanNode)> {
        let mut out = Vec::new();
        fn walk<'a>(n: &'a PlanNode, depth: usize, out: &mut Vec<(usize, &'a PlanNode)>) {
            out.push((depth, n));
            for c in &n.plans {
                walk(c, depth + 1, out);
            }
        }
        walk(&self.plan, 0, &mut out);
        out
    }
}

fn set_processes(node: &mut PlanNode, processes: u32) {
    node.processes = processes;
    let below = match (node.node_type.as_str(), node.workers_launched) {
        ("Gather" | "Gather Merge", Some(w)) => w as u32 + 1,
        _ => processes,
    };
    for c in &mut node.plans {
        set_processes(c, below);
    }
}

impl PlanNode {
    pub fn loops(&self) -> f64 {
        self.actual_loops.unwrap_or(1.0).max(1.0)
    }

    /// Time spent in this node and its children over all loops (ms); `None` without ANALYZE.
    pub fn inclusive_time_ms(&self) -> Option<f64> {
        // A node that never ran reports loops = 0 and no meaningful time.
        if self.actual_loops == Some(0.0) {
            return Some(0.0);
        }
        let processes = f64::from(self.processes.max(1));
        self.actual_total_time.map(|t| t * self.loops() / processes)
    }

    /// Time spent in this node alone (ms): inclusive time minus its children's. Clamped at 0
    /// because parallel workers and InitPlans make the subtraction approximate.
    pub fn exclusive_time_ms(&self) -> Option<f64> {
        let own = self.inclusive_time_ms()?;
        let children: f64 = self
            .plans
            .iter()
            .filter_map(PlanNode::inclusive_time_ms)
            .sum();
        Some((own - children).max(0.0))
    }

    /// Rows produced over all loops.
    pub fn total_actual_rows(&self) -> Option<f64> {
        self.actual_rows.map(|r| r * self.loops())
    }

    /// `relation` or `relation alias` for display.
    pub fn relation_label(&self) -> Option<String> {
        let rel = self.relation_name.as_deref()?;
        let qualified = match &self.schema {
            Some(s) => format!("{s}.{rel}"),
            None => rel.to_owned(),
        };
        Some(match self.alias.as_deref() {
            Some(a) if a != rel => format!("{qualified} {a}"),
            _ => qualified,
        })
    }

    /// "Seq Scan on t", "Index Scan using i on t", "Hash Join".
    pub fn label(&self) -> String {
        let mut s = match (self.node_type.as_str(), self.strategy.as_deref()) {
            ("Aggregate", Some("Hashed")) => "HashAggregate".to_owned(),
            ("Aggregate", Some("Sorted")) => "GroupAggregate".to_owned(),
            ("Aggregate", Some("Mixed")) => "MixedAggregate".to_owned(),
            _ => self.node_type.clone(),
        };
        if let Some(j) = &self.join_type
            && j != "Inner"
        {
            s.push(' ');
            s.push_str(j);
        }
        if let Some(i) = &self.index_name {
            s.push_str(" using ");
            s.push_str(i);
        }
        if let Some(r) = self.relation_label() {
            s.push_str(" on ");
            s.push_str(&r);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"[{"Plan": {"Node Type": "Sort", "Startup Cost": 1.0, "Total Cost": 2.0,
        "Plan Rows": 10, "Plan Width": 4, "Actual Startup Time": 5.0, "Actual Total Time": 9.0,
        "Actual Rows": 10, "Actual Loops": 1, "Sort Key": ["a"], "Sort Method": "external merge",
        "Sort Space Used": 2048, "Sort Space Type": "Disk",
        "Plans": [{"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "t",
          "Alias": "t", "Plan Rows": 10, "Actual Total Time": 2.0, "Actual Rows": 2.5,
          "Actual Loops": 2, "Filter": "(a > 1)", "Rows Removed by Filter": 90}]},
        "Planning Time": 0.1, "Execution Time": 9.5, "Settings": {"work_mem": "64kB"}}]"#;

    #[test]
    fn parses_and_computes_exclusive_time() {
        let e = Explain::from_json(PLAN).unwrap();
        assert_eq!(e.plan.sort_space_type.as_deref(), Some("Disk"));
        let scan = &e.plan.plans[0];
        assert_eq!(scan.label(), "Seq Scan on t");
        assert_eq!(scan.inclusive_time_ms(), Some(4.0));
        assert_eq!(e.plan.exclusive_time_ms(), Some(5.0));
        assert_eq!(scan.total_actual_rows(), Some(5.0));
        assert_eq!(e.nodes().len(), 2);
        assert_eq!(e.settings.unwrap()["work_mem"], "64kB");
    }

    #[test]
    fn parallel_workers_count_wall_time_once() {
        let e = Explain::from_json(
            r#"[{"Plan": {"Node Type": "Gather", "Workers Planned": 2, "Workers Launched": 2,
            "Actual Total Time": 12.0, "Actual Loops": 1, "Plans": [{"Node Type": "Seq Scan",
            "Relation Name": "t", "Actual Total Time": 10.0, "Actual Loops": 3}]}}]"#,
        )
        .unwrap();
        assert_eq!(e.plan.plans[0].inclusive_time_ms(), Some(10.0));
        assert_eq!(e.plan.exclusive_time_ms(), Some(2.0));
    }
}
