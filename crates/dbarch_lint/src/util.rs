//! Small helpers shared by rules.

use dbarch_model::{Index, IndexTarget, Table, quote_ident};

/// `schema.table`, quoted as needed (for fixes).
pub(crate) fn table_sql(t: &Table) -> String {
    t.qualified_name().sql()
}

/// `schema.table` for display.
pub(crate) fn table_label(t: &Table) -> String {
    format!("{}.{}", t.schema, t.name)
}

/// The key columns of an index, `None` when a key is an expression.
pub(crate) fn key_columns(i: &Index) -> Option<Vec<&str>> {
    i.keys
        .iter()
        .map(|k| match &k.target {
            IndexTarget::Column(c) => Some(c.as_str()),
            IndexTarget::Expression(_) => None,
        })
        .collect()
}

/// Tables a rule looks at: partitions and their clones follow their parent.
pub(crate) fn own_tables(db: &dbarch_model::Database) -> impl Iterator<Item = &Table> {
    db.tables.iter().filter(|t| !t.is_partition())
}

/// An index name for a fix: `<table>_<columns>_idx`, kept under 63 bytes.
pub(crate) fn index_name(table: &str, columns: &[&str]) -> String {
    let mut name = format!("{table}_{}_idx", columns.join("_"));
    if name.len() > 63 {
        let mut cut = 59;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
        name.push_str("_idx");
    }
    quote_ident(&name)
}
