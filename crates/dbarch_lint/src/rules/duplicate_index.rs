//! An index with the same method, keys, included columns and predicate as another index on
//! the same table (including the index behind a primary key or unique constraint).
//!
//! ## Why
//! The second index is never needed for reads but is maintained on every write, takes disk,
//! cache and vacuum time, and slows `INSERT`/`UPDATE`. A common case is a plain index on a
//! column that already has a `UNIQUE` constraint, which creates its own index.
//!
//! ## Example
//! ```sql
//! CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE);
//! CREATE INDEX idx_users_email ON users (email);
//! ```
//!
//! ## Instead
//! ```sql
//! DROP INDEX CONCURRENTLY idx_users_email;
//! ```
//! Keep the index that backs a constraint; drop the plain one.
//!
//! ## References
//! - PgHero's duplicate index check; PostgreSQL documentation, "Unique Indexes" (11.6).

use crate::util::{own_tables, table_label};
use crate::{Context, registry::diag};
use dbarch_model::{Database, Index, QualifiedName};
use dbarch_report::Diagnostic;

/// What makes two indexes interchangeable for reads (uniqueness aside).
pub(crate) fn signature(i: &Index) -> impl PartialEq + '_ {
    (&i.method, &i.keys, &i.include, &i.predicate, &i.options)
}

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        let usable: Vec<&Index> = t.indexes.iter().filter(|i| i.valid).collect();
        for (n, dup) in usable.iter().enumerate() {
            // Report the index to drop: a plain one duplicating a constraint's, or the later
            // of two plain ones (by name), never a constraint's own index.
            if dup.constraint.is_some() {
                continue;
            }
            let keeper = usable.iter().enumerate().find(|(m, other)| {
                *m != n
                    && signature(other) == signature(dup)
                    && (other.unique || !dup.unique)
                    && (other.constraint.is_some() || (other.unique && !dup.unique) || *m < n)
            });
            if let Some((_, keep)) = keeper {
                let name = QualifiedName::new(&t.schema, &dup.name);
                out.push(
                    diag(
                        "S003",
                        format!(
                            "index {} on {} duplicates {}{}",
                            dup.name,
                            table_label(t),
                            keep.name,
                            match &keep.constraint {
                                Some(c) => format!(" (the index of constraint {c})"),
                                None => String::new(),
                            }
                        ),
                    )
                    .with_object(name.to_string())
                    .with_help("Every write maintains both indexes; reads need only one.")
                    .with_fix(format!("DROP INDEX CONCURRENTLY {};", name.sql())),
                );
            }
        }
    }
}
