//! A `timestamp` (`timestamp without time zone`) column.
//!
//! ## Why
//! A `timestamp` stores a wall-clock reading with no zone: the same value means different
//! instants depending on the session's `TimeZone` when it was written, comparisons across
//! zones and daylight-saving changes go wrong, and `now()` is silently converted to local
//! time on the way in. `timestamptz` stores an instant (UTC internally), takes the same 8
//! bytes, and converts to the reader's zone on output. Flagged in `CREATE TABLE`,
//! `ADD COLUMN` and `ALTER COLUMN ... TYPE`.
//!
//! ## Example
//! ```sql
//! CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamp NOT NULL);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamptz NOT NULL);
//! ```
//!
//! ## References
//! - PostgreSQL documentation, "Date/Time Types" (8.5.1.3 Time Stamps).
//! - PostgreSQL wiki, "Don't Do This": "Don't use timestamp (without time zone)"; squawk
//!   `prefer-timestamptz`.

use super::table_changes::flag_column_types;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    flag_column_types(
        stmt,
        state,
        out,
        "M033",
        |t| t.canonical() == "timestamp",
        |t| match t.mods.as_slice() {
            [p] => format!("timestamptz({p})"),
            _ => "timestamptz".to_string(),
        },
        |object, _| {
            format!(
                "{object} is timestamp without time zone: the instant it denotes depends on the writer's TimeZone"
            )
        },
        "Use timestamptz: same size, stores an instant, and converts to each session's zone.",
    );
}
