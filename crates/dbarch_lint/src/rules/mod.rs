//! One module per rule; the registry (`registry.rs`) gives each its code and name.

pub(crate) mod arbitrary_varchar_limit;
pub(crate) mod duplicate_index;
pub(crate) mod float_for_money;
pub(crate) mod foreign_key_without_index;
pub(crate) mod int4_primary_key;
pub(crate) mod ivfflat_lists;
pub(crate) mod redundant_prefix_index;
pub(crate) mod table_without_primary_key;
pub(crate) mod timestamp_without_time_zone;
pub(crate) mod updated_at_without_trigger;
pub(crate) mod vector_column_without_ann_index;
pub(crate) mod vector_dimensions_over_index_limit;
// Migration rules: documentation-only modules for findings the driver emits, then one module
// per statement or file rule.
pub(crate) mod syntax_error;
pub(crate) mod unused_ignore;
pub(crate) mod non_concurrent_index_build;
pub(crate) mod traced_blocking_lock;
pub(crate) mod traced_full_scan;
pub(crate) mod traced_statement_failed;
pub(crate) mod traced_table_rewrite;
