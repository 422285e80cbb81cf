//! The linter: rules with stable codes, each in its own file whose module documentation is
//! the rule's documentation (what it flags, why, example, instead, references).
//!
//! Families: `S` schema design and `V` pgvector (rules on the schema model), `M` migration
//! safety (rules on migration scripts parsed by libpg_query, see [`migration`]; some `V`
//! rules look at migrations too).
//! Findings are data ([`dbarch_report::Diagnostic`]), never errors.

pub mod config;
pub mod migration;
mod registry;
mod rules;
mod util;
pub mod workload;

pub use config::Config;
pub use migration::{MigrationFile, lint_migration, lint_migration_bytes};
pub use registry::{Check, Family, RuleInfo, diag as diagnostic, rule, rules};

use dbarch_model::Database;
use dbarch_report::Diagnostic;

/// Facts a rule may use beyond the schema; each is optional, and a rule that needs a fact it
/// does not have stays silent rather than guessing.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The server's major version, when the schema came from a live server.
    pub server_major: Option<u32>,
    /// `server_version_num` (e.g. 140003), when known.
    pub server_version_num: Option<u32>,
    /// `maintenance_work_mem` in bytes, when known.
    pub maintenance_work_mem: Option<u64>,
    /// The workload's queries (a file, the bundled example's, pg_stat_statements), for
    /// rules that depend on how the schema is used.
    pub workload: Vec<String>,
    /// Rules turned on beyond the defaults (codes).
    pub enable: Vec<String>,
    /// Rules turned off (codes).
    pub disable: Vec<String>,
}

impl Context {
    /// Whether rule `code` runs: not disabled, and on by default or enabled.
    pub fn is_enabled(&self, code: &str) -> bool {
        if self.disable.iter().any(|c| c == code) {
            return false;
        }
        rule(code).is_some_and(|r| r.default_enabled) || self.enable.iter().any(|c| c == code)
    }
}

/// Runs every schema rule on `db`. Diagnostics come out in a stable order: by rule code, then
/// by object.
pub fn lint_schema(db: &Database, ctx: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in rules().iter().filter(|r| ctx.is_enabled(r.code)) {
        if let Check::Schema(check) = rule.check {
            let mut found = Vec::new();
            check(db, ctx, &mut found);
            found.sort_by(|a, b| a.object.cmp(&b.object).then(a.message.cmp(&b.message)));
            out.extend(found);
        }
    }
    out
}
