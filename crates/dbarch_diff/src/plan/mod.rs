//! The planner: [`Change`]s → [`Plan`] of SQL steps, each with its reverse, the locks it
//! takes, whether it rewrites or scans a table, whether it may run in a transaction, and its
//! hazards.
//!
//! With `online` (the default) changes to tables in use take their online-safe forms: indexes
//! built and dropped `CONCURRENTLY`, constraints added `NOT VALID` and validated in a later
//! transaction, `SET NOT NULL` proven by a validated constraint, unique keys attached to a
//! concurrently built index. Without it, the plain forms (for empty databases and shadow
//! replays).

mod expand;
mod locks;
mod online;
mod steps;

pub use expand::{BACKFILL_DIRECTIVE, Staged, directive_value, plan_expand_contract};
pub use locks::{LockClaim, LockMode};

use crate::change::Change;
use serde::Serialize;

/// What the planner knows about the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlanContext {
    /// The server's major version, 15 to 18: forms differ (`NOT NULL ... NOT VALID` is 18+).
    pub server_major: u32,
    /// Online-safe forms (default), or plain ones.
    pub online: bool,
}

impl Default for PlanContext {
    fn default() -> Self {
        PlanContext {
            server_major: 18,
            online: true,
        }
    }
}

/// A migration: steps to run in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// One unit of a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What the step does, for people.
    pub description: String,
    /// One or more statements separated by `;\n`, without the final `;`. A non-transactional
    /// step is always exactly one statement (a multi-statement query is a transaction).
    pub sql: String,
    pub reverse: Reverse,
    pub locks: Vec<LockClaim>,
    pub rewrites_table: bool,
    pub scans_table: bool,
    /// False for statements that cannot run inside a transaction block (`CONCURRENTLY`).
    pub transactional: bool,
    /// The step must not share a transaction with the steps before it: a validation must not
    /// hold the strong lock its `ADD ... NOT VALID` took, and a new enum value cannot be used
    /// in the transaction that added it.
    pub commit_before: bool,
    pub hazards: Vec<Hazard>,
    /// Advice for whoever runs the step (memory settings, preconditions).
    pub notes: Vec<String>,
    /// Index of the change this step implements, in the planned change list.
    pub change_index: usize,
}

/// How to undo a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Reverse {
    /// Statements that undo the step (empty when there is nothing to undo, e.g. a validation).
    Sql(String),
    Irreversible {
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hazard {
    DataLoss,
    LongRunning,
    BlocksWrites,
    BlocksReads,
    Rewrite,
}

/// Plans the changes (in the order given: [`crate::diff`] returns them dependency-ordered).
pub fn plan(changes: &[Change], ctx: &PlanContext) -> Plan {
    let steps = changes
        .iter()
        .enumerate()
        .flat_map(|(i, change)| steps::steps(change, ctx).into_iter().map(move |s| (i, s)))
        .collect();
    finish(changes, steps)
}

/// Steps with the index of their change → the plan: descriptions, enum commits, hazards.
fn finish(changes: &[Change], steps: Vec<(usize, Step)>) -> Plan {
    let mut out: Vec<Step> = Vec::new();
    for (i, mut step) in steps {
        step.change_index = i;
        if step.description.is_empty() {
            step.description = changes[i].describe();
        }
        out.push(step);
    }
    // A new enum value can be used only after its transaction commits.
    for i in 1..out.len() {
        if matches!(
            changes[out[i - 1].change_index],
            Change::AddEnumValue { .. }
        ) && !matches!(changes[out[i].change_index], Change::AddEnumValue { .. })
        {
            out[i].commit_before = true;
        }
    }
    for s in &mut out {
        derive_hazards(s);
    }
    Plan { steps: out }
}

/// Lock hazards matter when a lock is held for long: during a rewrite or a full scan. A
/// brief ACCESS EXCLUSIVE for a catalog change is left to the runner's `lock_timeout`.
fn derive_hazards(s: &mut Step) {
    let long = s.rewrites_table || s.scans_table;
    if s.rewrites_table {
        s.hazards.push(Hazard::Rewrite);
    }
    if long {
        s.hazards.push(Hazard::LongRunning);
        if s.locks.iter().any(|l| l.mode.blocks_writes()) {
            s.hazards.push(Hazard::BlocksWrites);
        }
        if s.locks.iter().any(|l| l.mode.blocks_reads()) {
            s.hazards.push(Hazard::BlocksReads);
        }
    }
    s.hazards.sort();
    s.hazards.dedup();
}

impl Step {
    /// A runner directive (`-- dbarch:backfill ...`) rather than SQL.
    pub fn is_directive(&self) -> bool {
        self.sql.starts_with(BACKFILL_DIRECTIVE)
    }
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// True when every step can run in one transaction.
    pub fn is_transactional(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.transactional && !s.commit_before)
    }

    /// The migration script.
    ///
    /// A plan that fits one transaction is a plain list of statements (the runner wraps it).
    /// Otherwise the script starts with `-- dbarch:no-transaction` (the runner sends it
    /// statement by statement) and manages its own transactions: each run of transactional
    /// steps is wrapped in `BEGIN`/`COMMIT`, and each non-transactional step stands alone
    /// under a `-- dbarch:no-transaction` line. The script also runs as is with `psql -f`.
    pub fn to_sql(&self) -> String {
        let items: Vec<Item> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| Item {
                number: i + 1,
                step: s,
                sql: Some(s.sql.as_str()),
                irreversible: None,
            })
            .collect();
        render(
            &format!("-- dbarch migration: {} step(s)\n", self.steps.len()),
            &items,
            self.is_transactional(),
        )
    }

    /// The down script: the reverse of each step, last step first. Irreversible steps are
    /// named in comments (the script then only undoes what can be undone).
    pub fn reverse_sql(&self) -> String {
        let items: Vec<Item> = self
            .steps
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, s)| match &s.reverse {
                Reverse::Sql(sql) if sql.is_empty() => None,
                Reverse::Sql(sql) => Some(Item {
                    number: i + 1,
                    step: s,
                    sql: Some(sql.as_str()),
                    irreversible: None,
                }),
                Reverse::Irreversible { reason } => Some(Item {
                    number: i + 1,
                    step: s,
                    sql: None,
                    irreversible: Some(reason.as_str()),
                }),
            })
            .collect();
        let irreversible = items.iter().filter(|i| i.irreversible.is_some()).count();
        let mut header = format!(
            "-- dbarch down migration: reverses {} step(s)\n",
            self.steps.len()
        );
        if irreversible > 0 {
            header.push_str(&format!(
                "-- WARNING: {irreversible} step(s) cannot be reversed (see the irreversible comments)\n"
            ));
        }
        let transactional = items
            .iter()
            .all(|i| i.irreversible.is_some() || (i.step.transactional && !i.step.commit_before));
        render(&header, &items, transactional)
    }
}

struct Item<'a> {
    number: usize,
    step: &'a Step,
    sql: Option<&'a str>,
    irreversible: Option<&'a str>,
}

fn render(header: &str, items: &[Item], one_transaction: bool) -> String {
    let mut out = String::from(header);
    if !one_transaction {
        out.push_str("-- dbarch:no-transaction\n");
    }
    let mut in_tx = false;
    for item in items {
        let s = item.step;
        if let Some(reason) = item.irreversible {
            out.push_str(&format!(
                "\n-- irreversible: step {} ({}): {reason}\n",
                item.number, s.description
            ));
            continue;
        }
        let Some(sql) = item.sql else { continue };
        let tx = s.transactional;
        if !one_transaction && in_tx && (!tx || s.commit_before) {
            out.push_str("\nCOMMIT;\n");
            in_tx = false;
        }
        if !one_transaction && !tx {
            out.push_str("\n-- dbarch:no-transaction\n");
        }
        if !one_transaction && tx && !in_tx {
            out.push_str("\nBEGIN;\n");
            in_tx = true;
        }
        out.push_str(&format!("\n-- step {}: {}\n", item.number, s.description));
        if !s.locks.is_empty() {
            let locks: Vec<String> = s
                .locks
                .iter()
                .map(|l| format!("{} on {}", l.mode, l.relation))
                .collect();
            out.push_str(&format!("-- locks: {}\n", locks.join(", ")));
        }
        if !s.hazards.is_empty() {
            let hazards: Vec<String> = s.hazards.iter().map(|h| format!("{h:?}")).collect();
            out.push_str(&format!("-- hazards: {}\n", hazards.join(", ")));
        }
        for n in &s.notes {
            out.push_str(&format!("-- note: {n}\n"));
        }
        out.push_str(sql);
        // A runner directive is a comment line: no `;` after it.
        out.push_str(if s.is_directive() { "\n" } else { ";\n" });
    }
    if in_tx {
        out.push_str("\nCOMMIT;\n");
    }
    out
}
