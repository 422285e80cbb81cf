//! What the advisor reads about the workload's tables: columns (type, width, distinct values),
//! existing indexes, row estimates, read and write activity, foreign keys. Three set-based
//! queries, read-only.

use super::AdviseError;
use tokio_postgres::Client;

#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    /// `format_type` (e.g. `character varying(50)`).
    pub type_sql: String,
    /// `pg_type.typname` (e.g. `vector`, `jsonb`).
    pub type_name: String,
    pub avg_width: Option<i32>,
    pub n_distinct: Option<f64>,
    /// Not a generated column: COPY can write it.
    pub copyable: bool,
}

#[derive(Debug, Clone)]
pub struct ExistingIndex {
    pub name: String,
    pub method: String,
    /// Key columns (`(expr)` for an expression key), then INCLUDE columns.
    pub keys: Vec<String>,
    pub include: Vec<String>,
    pub predicate: Option<String>,
    pub valid: bool,
}

#[derive(Debug, Clone)]
pub struct TableInfo {
    pub oid: i64,
    pub schema: String,
    pub name: String,
    pub rows: f64,
    /// Tuples inserted, updated and deleted since the statistics were reset.
    pub writes: i64,
    /// Tuples read by sequential and index scans since then.
    pub reads: i64,
    pub columns: Vec<ColumnInfo>,
    pub indexes: Vec<ExistingIndex>,
    /// Foreign keys: (own columns, referenced table oid, referenced columns).
    pub foreign_keys: Vec<(Vec<String>, i64, Vec<String>)>,
    /// Columns of the primary key.
    pub primary_key: Vec<String>,
}

impl TableInfo {
    pub fn qualified(&self) -> String {
        format!(
            "{}.{}",
            super::ast::quote(&self.schema),
            super::ast::quote(&self.name)
        )
    }
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
    /// The share of tuple writes in the table's activity (0 = read-only, 1 = write-only).
    pub fn write_share(&self) -> f64 {
        let (w, r) = (self.writes.max(0) as f64, self.reads.max(0) as f64);
        if w + r == 0.0 { 0.0 } else { w / (w + r) }
    }
}

const TABLES: &str = "\
SELECT q.name, c.oid::int8, n.nspname::text, c.relname::text, c.reltuples::float8,
       coalesce(st.n_tup_ins + st.n_tup_upd + st.n_tup_del, 0)::int8,
       coalesce(st.seq_tup_read + st.idx_tup_fetch, 0)::int8
FROM unnest($1::text[]) AS q(name)
JOIN pg_class c ON c.oid = to_regclass(q.name)
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables st ON st.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm')";

const COLUMNS: &str = "\
SELECT a.attrelid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), t.typname::text,
       s.avg_width, s.n_distinct::float8, a.attgenerated = ''
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
                     AND s.attname = a.attname AND NOT s.inherited
WHERE a.attrelid::int8 = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum";

const INDEXES: &str = "\
SELECT x.indrelid::int8, i.relname::text, am.amname::text, x.indnkeyatts::int4,
       ARRAY(SELECT coalesce(a.attname::text, '(expr)')
             FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       pg_get_expr(x.indpred, x.indrelid), x.indisvalid
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_am am ON am.oid = i.relam
WHERE x.indrelid::int8 = ANY($1)
ORDER BY 1, 2";

const CONSTRAINTS: &str = "\
SELECT c.conrelid::int8, c.contype::text, c.confrelid::int8,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)
FROM pg_constraint c
WHERE c.contype IN ('p', 'f') AND (c.conrelid::int8 = ANY($1) OR c.confrelid::int8 = ANY($1))";

/// The tables named (`name` or `schema.name`, as SQL identifiers), resolved through the
/// session's search_path; names that are no table are left out.
pub async fn tables(
    client: &Client,
    names: &[String],
) -> Result<Vec<(String, TableInfo)>, AdviseError> {
    let db = |what: &'static str| move |e| AdviseError::db(what, e);
    let rows = client
        .query(TABLES, &[&names])
        .await
        .map_err(db("reading the workload's tables"))?;
    let mut out: Vec<(String, TableInfo)> = rows
        .iter()
        .map(|r| {
            (
                r.get::<_, String>(0),
                TableInfo {
                    oid: r.get(1),
                    schema: r.get(2),
                    name: r.get(3),
                    rows: r.get(4),
                    writes: r.get(5),
                    reads: r.get(6),
                    columns: Vec::new(),
                    indexes: Vec::new(),
                    foreign_keys: Vec::new(),
                    primary_key: Vec::new(),
                },
            )
        })
        .collect();
    let oids: Vec<i64> = out.iter().map(|(_, t)| t.oid).collect();
    for r in client
        .query(COLUMNS, &[&oids])
        .await
        .map_err(db("reading the workload's columns"))?
    {
        let col = ColumnInfo {
            name: r.get(1),
            type_sql: r.get(2),
            type_name: r.get(3),
            avg_width: r.get(4),
            n_distinct: r.get(5),
            copyable: r.get(6),
        };
        for (_, t) in out.iter_mut().filter(|(_, t)| t.oid == r.get::<_, i64>(0)) {
            t.columns.push(col.clone());
        }
    }
    for r in client
        .query(INDEXES, &[&oids])
        .await
        .map_err(db("reading the workload's indexes"))?
    {
        let nkeys = usize::try_from(r.get::<_, i32>(3)).unwrap_or(0);
        let all: Vec<String> = r.get(4);
        let idx = ExistingIndex {
            name: r.get(1),
            method: r.get(2),
            keys: all.iter().take(nkeys).cloned().collect(),
            include: all.iter().skip(nkeys).cloned().collect(),
            predicate: r.get(5),
            valid: r.get(6),
        };
        for (_, t) in out.iter_mut().filter(|(_, t)| t.oid == r.get::<_, i64>(0)) {
            t.indexes.push(idx.clone());
        }
    }
    for r in client
        .query(CONSTRAINTS, &[&oids])
        .await
        .map_err(db("reading the workload's keys"))?
    {
        let (rel, kind, frel): (i64, String, i64) = (r.get(0), r.get(1), r.get(2));
        let (cols, fcols): (Vec<String>, Vec<String>) = (r.get(3), r.get(4));
        for (_, t) in out.iter_mut().filter(|(_, t)| t.oid == rel) {
            if kind == "p" {
                t.primary_key = cols.clone();
            } else {
                t.foreign_keys.push((cols.clone(), frel, fcols.clone()));
            }
        }
    }
    Ok(out)
}
