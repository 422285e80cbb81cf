//! An IVFFlat index whose `lists` is far from what the table's size calls for: more than 4×
//! away from rows / 1000 (√rows above a million rows), or more lists than rows.
//!
//! ## Why
//! IVFFlat clusters the rows present when the index is built into `lists` centroids. Built on
//! an empty or tiny table (as when the index is created together with the table) the
//! centroids are meaningless and recall is poor until a `REINDEX`; too many lists leave each
//! nearly empty, so `ivfflat.probes` must rise to find anything; too few make every probe
//! scan a large share of the table.
//!
//! Needs table statistics (`--stats`, or `review`); silent without them.
//!
//! ## Example
//! ```sql
//! CREATE TABLE chunks (id bigint PRIMARY KEY, embedding vector(384));
//! CREATE INDEX ON chunks USING ivfflat (embedding vector_cosine_ops) WITH (lists = 100);
//! -- then 4,000 rows are loaded
//! ```
//!
//! ## Instead
//! Load the data first, then build with `lists` ≈ rows / 1000 (at least 1), or use HNSW, which
//! needs no training data:
//! ```sql
//! CREATE INDEX CONCURRENTLY ON chunks USING ivfflat (embedding vector_cosine_ops) WITH (lists = 4);
//! ```
//!
//! ## References
//! - pgvector README, "IVFFlat": "a good place to start is rows / 1000 for up to 1M rows and
//!   sqrt(rows) for over 1M rows"; create the index after the table has data.

use crate::util::{own_tables, table_label};
use crate::{Context, registry::diag};
use dbarch_model::Database;
use dbarch_report::Diagnostic;

/// A numeric `key=value` storage option of an index.
fn option(options: &[String], key: &str) -> Option<i64> {
    options
        .iter()
        .find_map(|o| o.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// Build the replacement beside the old index, then swap: the table stays searchable.
fn rebuild(schema: &str, i: &dbarch_model::Index, lists: i64, want: i64) -> String {
    let new_name = format!("{}_rebuilt", i.name);
    let create = i
        .definition
        .replacen(
            &format!("CREATE INDEX {} ON", dbarch_model::quote_ident(&i.name)),
            &format!(
                "CREATE INDEX CONCURRENTLY {} ON",
                dbarch_model::quote_ident(&new_name)
            ),
            1,
        )
        .replace(&format!("lists='{lists}'"), &format!("lists='{want}'"));
    let old = dbarch_model::QualifiedName::new(schema, &i.name);
    format!(
        "{create};\nDROP INDEX CONCURRENTLY {};\nALTER INDEX {} RENAME TO {};",
        old.sql(),
        dbarch_model::QualifiedName::new(schema, &new_name).sql(),
        dbarch_model::quote_ident(&i.name)
    )
}

/// pgvector's rule of thumb for the number of lists.
pub(crate) fn recommended_lists(rows: i64) -> i64 {
    if rows <= 1_000_000 {
        (rows / 1000).max(1)
    } else {
        (rows as f64).sqrt().round() as i64
    }
}

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        let Some(stats) = &t.stats else { continue };
        // Never analyzed (-1): the size is unknown.
        if stats.estimated_rows < 0 {
            continue;
        }
        let rows = stats.estimated_rows;
        for i in t.indexes.iter().filter(|i| i.method == "ivfflat") {
            let lists = option(&i.options, "lists").unwrap_or(100);
            let want = recommended_lists(rows);
            if lists <= rows && lists <= want * 4 && lists * 4 >= want {
                continue;
            }
            out.push(
                diag(
                    "V002",
                    format!(
                        "IVFFlat index {} on {} has lists = {lists} for about {rows} rows \
                         (about {want} suits this size)",
                        i.name,
                        table_label(t)
                    ),
                )
                .with_object(format!("{}.{}", t.schema, i.name))
                .with_help(
                    "Rebuild after loading, with lists ≈ rows / 1000 (√rows above 1M), or use \
                     HNSW.",
                )
                .with_fix(rebuild(&t.schema, i, lists, want)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn recommended_lists_follow_pgvector() {
        assert_eq!(super::recommended_lists(0), 1);
        assert_eq!(super::recommended_lists(4_000), 4);
        assert_eq!(super::recommended_lists(1_000_000), 1000);
        assert_eq!(super::recommended_lists(4_000_000), 2000);
    }
}
