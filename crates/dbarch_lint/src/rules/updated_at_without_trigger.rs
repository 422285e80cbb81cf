//! A table with an `updated_at` (or `modified_at`, `last_modified`) column but no trigger to
//! keep it current.
//!
//! ## Why
//! A `DEFAULT now()` is applied on `INSERT` only. Unless every writer remembers to set the
//! column on every `UPDATE`, it silently keeps the creation time, and incremental syncs, caches
//! and audits built on it miss changes.
//!
//! ## Example
//! ```sql
//! CREATE TABLE users (id bigint PRIMARY KEY, updated_at timestamptz DEFAULT now());
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
//! BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
//! CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
//! ```
//!
//! ## References
//! - PostgreSQL documentation, "Trigger Functions" (PL/pgSQL 41.10).

use crate::util::{own_tables, table_label, table_sql};
use crate::{Context, registry::diag};
use dbarch_model::Database;
use dbarch_report::Diagnostic;

const NAMES: &[&str] = &["updated_at", "modified_at", "last_modified", "updated_on"];

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        let Some(col) = t.columns.iter().find(|c| NAMES.contains(&c.name.as_str())) else {
            continue;
        };
        let maintained = t
            .triggers
            .iter()
            .any(|tr| tr.enabled && tr.definition.contains("UPDATE"));
        if maintained {
            continue;
        }
        out.push(
            diag(
                "S007",
                format!(
                    "{}.{} is not maintained by a trigger: it keeps the insert time unless \
                     every UPDATE sets it",
                    table_label(t),
                    col.name
                ),
            )
            .with_object(format!("{}.{}", table_label(t), col.name))
            .with_help("Add a BEFORE UPDATE trigger that sets the column.")
            .with_fix(format!(
                "CREATE TRIGGER {}_touch BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION \
                 touch_updated_at();  -- with a function setting NEW.{} := now()",
                t.name,
                table_sql(t),
                col.name
            )),
        );
    }
}
