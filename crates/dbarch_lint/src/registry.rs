//! The rule registry. A rule is a module under `rules/` with a `check` function and a module
//! doc comment; `rules!` lists them with their stable codes, and their docs are read from their
//! own source text, so the documentation cannot drift from the code that ships.

use crate::Context;
use dbarch_model::Database;
use dbarch_report::{Diagnostic, Severity};

/// Rule families; the code's letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `S`: schema design.
    Schema,
    /// `V`: pgvector.
    Vector,
}

impl Family {
    pub fn title(self) -> &'static str {
        match self {
            Family::Schema => "Schema design",
            Family::Vector => "pgvector",
        }
    }
}

pub type SchemaCheck = fn(&Database, &Context, &mut Vec<Diagnostic>);

/// A rule's identity and documentation.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    /// Stable, never reused: `S001`.
    pub code: &'static str,
    /// Kebab-case, describing the flagged pattern.
    pub name: &'static str,
    pub family: Family,
    /// Default severity of its findings.
    pub severity: Severity,
    /// The rule module's source; its `//!` lines are the documentation.
    source: &'static str,
    pub check: Option<SchemaCheck>,
}

impl RuleInfo {
    /// The rule's documentation (Markdown), from its module doc comment.
    pub fn doc(&self) -> String {
        let mut doc = String::new();
        for line in self.source.lines() {
            let Some(rest) = line.strip_prefix("//!") else {
                if doc.is_empty() {
                    continue;
                }
                break;
            };
            doc.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            doc.push('\n');
        }
        doc
    }

    /// The first paragraph of the documentation: one line for listings.
    pub fn summary(&self) -> String {
        self.doc()
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .replace('\n', " ")
            .trim()
            .to_string()
    }
}

macro_rules! rules {
    ($( $code:literal $name:literal $family:ident $severity:ident $module:ident; )*) => {
        const RULES: &[RuleInfo] = &[
            $( RuleInfo {
                code: $code,
                name: $name,
                family: Family::$family,
                severity: Severity::$severity,
                source: include_str!(concat!("rules/", stringify!($module), ".rs")),
                check: Some(crate::rules::$module::check),
            }, )*
        ];
    };
}

rules! {
    "S001" "foreign-key-without-index" Schema Warning foreign_key_without_index;
    "S002" "table-without-primary-key" Schema Warning table_without_primary_key;
    "S003" "duplicate-index" Schema Warning duplicate_index;
    "S004" "redundant-prefix-index" Schema Note redundant_prefix_index;
    "S005" "arbitrary-varchar-limit" Schema Note arbitrary_varchar_limit;
    "S006" "float-for-money" Schema Warning float_for_money;
    "S007" "updated-at-without-trigger" Schema Warning updated_at_without_trigger;
    "S008" "timestamp-without-time-zone" Schema Warning timestamp_without_time_zone;
    "S009" "int4-primary-key" Schema Warning int4_primary_key;
    "V001" "vector-column-without-ann-index" Vector Warning vector_column_without_ann_index;
    "V002" "ivfflat-lists-unsuited-to-table-size" Vector Warning ivfflat_lists;
    "V003" "vector-dimensions-over-index-limit" Vector Warning vector_dimensions_over_index_limit;
}

/// Every rule, ordered by code.
pub fn rules() -> &'static [RuleInfo] {
    RULES
}

/// The rule with this code or name.
pub fn rule(code_or_name: &str) -> Option<&'static RuleInfo> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// A diagnostic of `rule` with its code, name and default severity.
pub(crate) fn diag(code: &str, message: impl Into<String>) -> Diagnostic {
    let info = rule(code).expect("rules are registered");
    Diagnostic::new(info.code, info.name, info.severity, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_ordered_and_documented() {
        assert!(RULES.windows(2).all(|w| w[0].code < w[1].code));
        for r in RULES {
            let doc = r.doc();
            for heading in ["## Why", "## Example", "## Instead"] {
                assert!(doc.contains(heading), "{} lacks {heading}:\n{doc}", r.code);
            }
            assert!(!r.summary().is_empty(), "{}", r.code);
            assert!(
                r.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
            );
        }
    }
}
