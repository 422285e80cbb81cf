//! The rule registry. A rule is a module under `rules/` with a `check` function and a module
//! doc comment; `rules!` lists them with their stable codes, and their docs are read from their
//! own source text, so the documentation cannot drift from the code that ships.

use crate::Context;
use crate::migration::{State, Statement};
use dbarch_model::Database;
use dbarch_report::{Diagnostic, Severity};

/// Rule families; the code's letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `S`: schema design.
    Schema,
    /// `V`: pgvector.
    Vector,
    /// `M`: migration safety.
    Migration,
}

impl Family {
    pub fn title(self) -> &'static str {
        match self {
            Family::Schema => "Schema design",
            Family::Vector => "pgvector",
            Family::Migration => "Migration safety",
        }
    }
}

pub type SchemaCheck = fn(&Database, &Context, &mut Vec<Diagnostic>);
/// Runs on each statement of a migration, seeing what the file did before it.
pub type StatementCheck = fn(&Statement, &State, &mut Vec<Diagnostic>);
/// Runs once per migration file, after its statements.
pub type FileCheck = fn(&[Statement], &State, &mut Vec<Diagnostic>);

/// Where a rule looks.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// The schema model.
    Schema(SchemaCheck),
    /// Each statement of a migration.
    Statement(StatementCheck),
    /// A whole migration file.
    File(FileCheck),
    /// Emitted by the migration driver itself (syntax errors, unused ignores).
    Driver,
    /// Emitted by `dbarch lint --trace` from what a statement did on a real server.
    Trace,
}

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
    /// Off unless enabled in the configuration.
    pub default_enabled: bool,
    /// The rule module's source; its `//!` lines are the documentation.
    source: &'static str,
    pub check: Check,
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

/// `rules! { CODE NAME Family Severity kind module [off]; ... }` where kind is `schema`,
/// `statement`, `file` (the module's `check` function) or `driver`; `off` marks a rule that
/// is disabled by default.
macro_rules! rules {
    ($( $code:literal $name:literal $family:ident $severity:ident $kind:ident $module:ident $($off:ident)?; )*) => {
        const RULES: &[RuleInfo] = &[
            $( RuleInfo {
                code: $code,
                name: $name,
                family: Family::$family,
                severity: Severity::$severity,
                default_enabled: rules!(@enabled $($off)?),
                source: include_str!(concat!("rules/", stringify!($module), ".rs")),
                check: rules!(@check $kind $module),
            }, )*
        ];
    };
    (@enabled) => { true };
    (@enabled off) => { false };
    (@check schema $module:ident) => { Check::Schema(crate::rules::$module::check) };
    (@check statement $module:ident) => { Check::Statement(crate::rules::$module::check) };
    (@check file $module:ident) => { Check::File(crate::rules::$module::check) };
    (@check driver $module:ident) => { Check::Driver };
    (@check trace $module:ident) => { Check::Trace };
}

rules! {
    "M001" "syntax-error" Migration Error driver syntax_error;
    "M002" "non-concurrent-index-build" Migration Warning statement non_concurrent_index_build;
    "M003" "non-concurrent-index-drop" Migration Warning statement non_concurrent_index_drop;
    "M004" "concurrently-in-transaction" Migration Error statement concurrently_in_transaction;
    "M005" "non-concurrent-reindex" Migration Warning statement non_concurrent_reindex;
    "M006" "non-concurrent-refresh" Migration Warning statement non_concurrent_refresh;
    "M007" "non-concurrent-detach-partition" Migration Warning statement non_concurrent_detach_partition;
    "M008" "vacuum-full" Migration Error statement vacuum_full;
    "M009" "cluster" Migration Warning statement cluster;
    "M010" "lock-table" Migration Warning statement lock_table;
    "M011" "truncate" Migration Warning statement truncate;
    "M012" "table-rewriting-alter" Migration Warning statement table_rewriting_alter;
    "M013" "drop-column" Migration Warning statement drop_column;
    "M014" "drop-table" Migration Warning statement drop_table;
    "M015" "foreign-key-without-not-valid" Migration Warning statement foreign_key_without_not_valid;
    "M016" "check-without-not-valid" Migration Warning statement check_without_not_valid;
    "M017" "validate-in-same-transaction" Migration Warning statement validate_in_same_transaction;
    "M018" "set-not-null" Migration Warning statement set_not_null;
    "M019" "required-column-without-default" Migration Error statement required_column_without_default;
    "M020" "volatile-default" Migration Warning statement volatile_default;
    "M021" "stored-generated-column-added" Migration Warning statement stored_generated_column_added;
    "M022" "identity-or-serial-added" Migration Warning statement identity_or_serial_added;
    "M023" "column-type-change-rewrite" Migration Warning statement column_type_change_rewrite;
    "M024" "unique-without-prebuilt-index" Migration Warning statement unique_without_prebuilt_index;
    "M025" "exclusion-constraint-added" Migration Warning statement exclusion_constraint_added;
    "M026" "rename-column" Migration Warning statement rename_column;
    "M027" "rename-table" Migration Warning file rename_table;
    "M028" "enum-value-change" Migration Warning statement enum_value_change;
    "M029" "drop-not-null" Migration Note statement drop_not_null;
    "M030" "multiple-alters-of-one-table" Migration Note statement multiple_alters_of_one_table;
    "M031" "char-type" Migration Warning statement char_type;
    "M032" "int4-key" Migration Warning statement int4_key;
    "M033" "timestamp-without-time-zone" Migration Warning statement timestamp_without_time_zone_column;
    "M034" "money-type" Migration Warning statement money_type;
    "M035" "json-type" Migration Note statement json_type;
    "M036" "nested-transaction" Migration Error statement nested_transaction;
    "M037" "uncommitted-transaction" Migration Error file uncommitted_transaction;
    "M038" "non-idempotent-in-non-transactional-file" Migration Warning file non_idempotent_in_non_transactional_file;
    "M039" "identifier-too-long" Migration Warning statement identifier_too_long;
    "M040" "concurrently-on-affected-pg14" Migration Error statement concurrently_on_affected_pg14;
    "M041" "missing-lock-timeout" Migration Warning file missing_lock_timeout off;
    "M042" "unused-ignore" Migration Note driver unused_ignore;
    "M043" "traced-statement-failed" Migration Error trace traced_statement_failed;
    "M044" "traced-blocking-lock" Migration Warning trace traced_blocking_lock;
    "M045" "traced-table-rewrite" Migration Warning trace traced_table_rewrite;
    "M046" "traced-full-scan" Migration Note trace traced_full_scan;
    "S001" "foreign-key-without-index" Schema Warning schema foreign_key_without_index;
    "S002" "table-without-primary-key" Schema Warning schema table_without_primary_key;
    "S003" "duplicate-index" Schema Warning schema duplicate_index;
    "S004" "redundant-prefix-index" Schema Note schema redundant_prefix_index;
    "S005" "arbitrary-varchar-limit" Schema Note schema arbitrary_varchar_limit;
    "S006" "float-for-money" Schema Warning schema float_for_money;
    "S007" "updated-at-without-trigger" Schema Warning schema updated_at_without_trigger;
    "S008" "timestamp-without-time-zone" Schema Warning schema timestamp_without_time_zone;
    "S009" "int4-primary-key" Schema Warning schema int4_primary_key;
    "S010" "jsonb-filter-without-gin-index" Schema Warning schema jsonb_filter_without_gin_index;
    "V001" "vector-column-without-ann-index" Vector Warning schema vector_column_without_ann_index;
    "V002" "ivfflat-lists-unsuited-to-table-size" Vector Warning schema ivfflat_lists;
    "V003" "vector-dimensions-over-index-limit" Vector Warning schema vector_dimensions_over_index_limit;
    "V004" "hnsw-parameters-out-of-range" Vector Error statement hnsw_parameters_out_of_range;
    "V005" "non-concurrent-ann-index-build" Vector Warning statement non_concurrent_ann_index_build;
    "V006" "ivfflat-on-empty-table" Vector Warning file ivfflat_on_empty_table;
    "V007" "vector-dimension-change" Vector Warning statement vector_dimension_change;
    "V008" "hnsw-build-over-maintenance-work-mem" Vector Warning file hnsw_build_over_maintenance_work_mem;
    "V009" "vector-opclass-mismatch" Vector Warning schema vector_opclass_mismatch;
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

/// A diagnostic of rule `code` with its name and default severity. Panics on an unknown
/// code: codes are compile-time constants of the callers.
pub fn diag(code: &str, message: impl Into<String>) -> Diagnostic {
    let info = rule(code).expect("rules are registered");
    Diagnostic::new(info.code, info.name, info.severity, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_ordered_and_documented() {
        // Ordered by family letter as listed (M, S, V), then number.
        let mut sorted: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), RULES.len(), "codes are unique");
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
