//! A table without a primary key.
//!
//! ## Why
//! Without a primary key rows have no stable identity: updates and deletes from applications
//! and ORMs are ambiguous, logical replication cannot replicate `UPDATE`/`DELETE` (without
//! `REPLICA IDENTITY FULL`), duplicates creep in, and batched backfills have no key to page on.
//!
//! ## Example
//! ```sql
//! CREATE TABLE events (user_id bigint, payload jsonb);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id bigint, payload jsonb);
//! ```
//! On an existing table, build a unique index concurrently, then
//! `ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_key`.
//!
//! ## References
//! - PostgreSQL documentation, "Primary Keys" (5.4.4) and "Replica Identity" (31.1.1).

use crate::util::{own_tables, table_label};
use crate::{Context, registry::diag};
use dbarch_model::Database;
use dbarch_report::Diagnostic;

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db).filter(|t| t.inherits.is_empty()) {
        if t.primary_key().is_none() {
            out.push(
                diag(
                    "S002",
                    format!("table {} has no primary key", table_label(t)),
                )
                .with_object(table_label(t))
                .with_help(
                    "Give every table a primary key: a bigint identity column unless a natural \
                     key exists.",
                ),
            );
        }
    }
}
