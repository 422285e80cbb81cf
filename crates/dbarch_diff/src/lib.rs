//! Schema diff and migration planning, with no I/O.
//!
//! [`diff`] compares two [`dbarch_model::Database`]s and returns the [`Change`]s that turn the
//! first into the second, dependency-ordered; destructive changes are refused unless allowed,
//! and renames are taken only from [`DiffOptions::renames`], never guessed. [`plan`] turns the
//! changes into a [`Plan`] of SQL [`Step`]s, online-safe by default, each with its reverse,
//! locks, rewrite/scan flags, transactionality and hazards.
//!
//! ```
//! use dbarch_diff::{diff, plan, DiffOptions, PlanContext};
//! let empty = dbarch_model::Database::default();
//! let changes = diff(&empty, &empty, &DiffOptions::default()).unwrap();
//! assert!(changes.is_empty());
//! assert!(plan(&changes, &PlanContext::default()).is_empty());
//! ```

mod change;
mod coercion;
mod diff;
mod plan;

pub use change::{Change, ColumnType, EnumPosition, ObjectRef, PartitionIndex, TypedColumn};
pub use coercion::{Conversion, classify as classify_type_change, is_volatile_default};
pub use diff::{DiffError, DiffOptions, Rename, diff};
pub use plan::{
    BACKFILL_DIRECTIVE, Hazard, LockClaim, LockMode, Plan, PlanContext, Reverse, Staged, Step,
    directive_value, plan, plan_expand_contract,
};
