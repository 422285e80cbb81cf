//! The linter: rules with stable codes, each in its own file whose module documentation is
//! the rule's documentation (what it flags, why, example, instead, references).
//!
//! Families: `S` schema design and `V` pgvector (rules on the schema model, here); `M`
//! migration safety (on parsed migrations and the shared `Change` type) comes next.
//! Findings are data ([`dbarch_report::Diagnostic`]), never errors.

mod registry;
mod rules;
mod util;

pub use registry::{Family, RuleInfo, rule, rules};

use dbarch_model::Database;
use dbarch_report::Diagnostic;

/// Facts a rule may use beyond the schema; each is optional, and a rule that needs a fact it
/// does not have stays silent rather than guessing.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The server's major version, when the schema came from a live server.
    pub server_major: Option<u32>,
}

/// Runs every schema rule on `db`. Diagnostics come out in a stable order: by rule code, then
/// by object.
pub fn lint_schema(db: &Database, ctx: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in rules() {
        if let Some(check) = rule.check {
            let mut found = Vec::new();
            check(db, ctx, &mut found);
            found.sort_by(|a, b| a.object.cmp(&b.object).then(a.message.cmp(&b.message)));
            out.extend(found);
        }
    }
    out
}
