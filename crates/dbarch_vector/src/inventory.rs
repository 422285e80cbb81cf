//! The vector storage of a live database, for `dbarch review`: every pgvector column, its ANN
//! indexes, the recall they give at the session's current settings, and what to change.
//!
//! - **Catalog**: one set-based query lists every `vector`, `halfvec` and `sparsevec` column
//!   (and `bit` columns that carry an HNSW/IVFFlat index: binary quantization) outside
//!   `pg_catalog`, `information_schema`, `_dbarch` and extensions, with the table's estimated
//!   rows (`reltuples`) and size, and each HNSW/IVFFlat index on the column or on an
//!   expression of it (`binary_quantize(embedding)`, `embedding::halfvec(3072)`): operator
//!   class, `m`/`ef_construction`/`lists`, size, validity, partial predicate. Without the
//!   `vector` extension the answer is empty (the query names no pgvector type).
//! - **Measurement**: for each column with rows and a valid, non-partial index on the column
//!   itself, up to `queries` vectors sampled from the column (fixed seed) are searched twice in
//!   a read-only transaction that is rolled back: exactly, by a sequential scan
//!   (`enable_indexscan`/`enable_bitmapscan` off), then through the index (`enable_seqscan`
//!   off), `ORDER BY column <op> $1 LIMIT k` with the index's own distance. Recall@k is the
//!   mean share of the exact top k that the index returned (a row at the same distance as the
//!   k-th exact one counts: ties), latency the P50 of the timed index searches (after a few
//!   warm-up ones). A column whose exact scans would read more than `scan_budget_bytes` in
//!   total (table size × queries, at least `min_queries`) is not measured, and says so; every
//!   statement runs under `statement_timeout`. Below the recall threshold the search is also
//!   measured at a suggested higher `hnsw.ef_search`/`ivfflat.probes`.
//! - **Advice**: a missing ANN index (with the size and build memory of [`crate::estimate`]
//!   and the `CREATE INDEX CONCURRENTLY` with the operator class), recall below the threshold,
//!   IVFFlat `lists` far from rows / 1000 (√rows past a million), an operator class that no
//!   workload query's distance uses (when a workload is given), an invalid index, `vector`
//!   where `halfvec` would halve the memory (over 1,000 dimensions), and more than 2,000
//!   dimensions with no halfvec or binary-quantization index.
//!
//! Nothing is built or written.

use crate::estimate::{self, Storage};
use crate::{Error, Result, ident, qualified};
use dbarch_pg::tokio_postgres::Client;
use dbarch_pg::tokio_postgres::types::Type;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How to take the inventory.
#[derive(Debug, Clone)]
pub struct InventoryOptions {
    /// Measure recall and latency (else the catalog and the advice only).
    pub measure: bool,
    /// Neighbours per search (recall@k).
    pub k: usize,
    /// Query vectors sampled per column (fewer when the table is smaller or large).
    pub queries: usize,
    /// Fewer queries than this: the column is not measured.
    pub min_queries: usize,
    pub seed: u64,
    /// Bytes the exact scans of one column may read in total (table size × queries).
    pub scan_budget_bytes: u64,
    /// Per statement of the measurement.
    pub statement_timeout: Duration,
    /// Recall below this is reported.
    pub recall_threshold: f64,
    /// Query texts of the application (distance operators used on each column), if known.
    pub workload: Vec<String>,
    /// Only the columns of these `(schema, table)`s (all when `None`).
    pub tables: Option<Vec<(String, String)>>,
}

impl Default for InventoryOptions {
    fn default() -> Self {
        InventoryOptions {
            measure: true,
            k: 10,
            queries: 50,
            min_queries: 10,
            seed: 1,
            scan_budget_bytes: 4 << 30,
            statement_timeout: Duration::from_secs(10),
            recall_threshold: 0.9,
            workload: Vec::new(),
            tables: None,
        }
    }
}

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    /// The `vector` extension's version, when installed.
    pub extension: Option<String>,
    /// The session's search settings (what the application's sessions get unless they set
    /// their own).
    pub settings: Settings,
    pub k: usize,
    pub recall_threshold: f64,
    pub columns: Vec<VectorColumn>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Settings {
    pub hnsw_ef_search: Option<String>,
    pub ivfflat_probes: Option<String>,
    pub hnsw_iterative_scan: Option<String>,
    pub maintenance_work_mem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VectorColumn {
    pub schema: String,
    pub table: String,
    pub column: String,
    /// As `format_type` prints it: `vector(384)`.
    pub data_type: String,
    /// `vector`, `halfvec`, `sparsevec` or `bit`.
    pub kind: String,
    pub dims: Option<u32>,
    /// `reltuples`; `None` when the table was never analyzed.
    pub estimated_rows: Option<i64>,
    /// Heap and TOAST bytes.
    pub table_bytes: i64,
    pub indexes: Vec<AnnIndex>,
    pub measurements: Vec<Measurement>,
    pub advice: Vec<Advice>,
    /// Why something was not measured, and the like.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnnIndex {
    pub schema: String,
    pub name: String,
    /// `hnsw` or `ivfflat`.
    pub method: String,
    pub opclass: String,
    /// The distance operator the operator class serves (`<=>`, ...).
    pub operator: Option<String>,
    /// The indexed expression when it is not the column itself.
    pub expression: Option<String>,
    /// The partial index's predicate.
    pub predicate: Option<String>,
    pub m: Option<u32>,
    pub ef_construction: Option<u32>,
    pub lists: Option<u32>,
    pub bytes: i64,
    pub valid: bool,
    pub definition: String,
}

/// Recall and latency of one index at the current settings.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub index: String,
    pub method: String,
    pub operator: String,
    pub k: usize,
    pub queries: usize,
    /// `hnsw.ef_search` or `ivfflat.probes`, and its value in the session.
    pub setting: String,
    pub value: Option<String>,
    pub recall: f64,
    pub p50_ms: f64,
    /// The exact search (sequential scan), for comparison.
    pub exact_p50_ms: f64,
    /// Below the threshold: the same searches at a higher setting.
    pub suggested: Option<SuggestedSetting>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuggestedSetting {
    pub value: u32,
    pub recall: f64,
    pub p50_ms: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Note,
}

/// One piece of advice on a column.
#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    /// Stable identifier: `missing-index`, `low-recall`, `ivfflat-lists`, `opclass-mismatch`,
    /// `invalid-index`, `halfvec`, `dimensions-over-index-limit`.
    pub kind: &'static str,
    pub level: Level,
    pub message: String,
    /// SQL (or a command) that acts on it.
    pub fix: Option<String>,
}

impl VectorColumn {
    /// `schema.table.column`, quoted where needed.
    pub fn label(&self) -> String {
        format!(
            "{}.{}",
            qualified(&self.schema, &self.table),
            ident(&self.column)
        )
    }
}

const CATALOG_SQL: &str = "\
WITH ext AS (
  SELECT e.extnamespace, e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'vector'
), cols AS (
  SELECT c.oid AS relid, n.nspname::text AS nspname, c.relname::text AS relname, a.attnum,
         a.attname::text AS attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
         t.typname::text AS typname, a.atttypmod,
         c.reltuples::float8 AS reltuples, pg_catalog.pg_table_size(c.oid) AS table_bytes
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  WHERE c.relkind IN ('r', 'm')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_dbarch', 'pg_toast')
    AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
    AND (t.typnamespace IN (SELECT extnamespace FROM ext)
           AND t.typname IN ('vector', 'halfvec', 'sparsevec')
         OR t.oid = 'pg_catalog.bit'::regtype)
), idx AS (
  SELECT cols.relid, cols.attnum, ic.oid AS indexrelid, ins.nspname::text AS index_schema,
         ic.relname::text AS index_name, am.amname::text AS method, opc.opcname::text AS opclass,
         i.indkey[0] AS key0, pg_catalog.pg_get_indexdef(i.indexrelid, 1, true) AS key_def,
         pg_catalog.pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
         pg_catalog.array_to_string(ic.reloptions, ',') AS options,
         pg_catalog.pg_relation_size(ic.oid) AS index_bytes, i.indisvalid,
         pg_catalog.pg_get_indexdef(i.indexrelid) AS definition
  FROM cols
  JOIN pg_catalog.pg_index i ON i.indrelid = cols.relid
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_namespace ins ON ins.oid = ic.relnamespace
  JOIN pg_catalog.pg_am am ON am.oid = ic.relam
  JOIN pg_catalog.pg_opclass opc ON opc.oid = i.indclass[0]
  WHERE am.amname IN ('hnsw', 'ivfflat')
    AND (i.indkey[0] = cols.attnum
         OR i.indkey[0] = 0 AND EXISTS (
              SELECT 1 FROM pg_catalog.pg_depend d
              WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = i.indexrelid
                AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = cols.relid
                AND d.refobjsubid = cols.attnum))
)
SELECT cols.nspname, cols.relname, cols.attname, cols.data_type, cols.typname, cols.atttypmod,
       cols.reltuples, cols.table_bytes,
       idx.index_schema, idx.index_name, idx.method, idx.opclass, idx.key0::int4, idx.key_def,
       idx.predicate, idx.options, idx.index_bytes, idx.indisvalid, idx.definition
FROM cols LEFT JOIN idx ON idx.relid = cols.relid AND idx.attnum = cols.attnum
WHERE cols.typname <> 'bit' OR idx.indexrelid IS NOT NULL
ORDER BY cols.nspname, cols.relname, cols.attnum, idx.index_name";

/// Takes the inventory (see the module doc). `client` may be a read-only session.
pub async fn inventory(client: &Client, opts: &InventoryOptions) -> Result<Inventory> {
    let ext = client
        .query_opt(
            "SELECT n.nspname::text, e.extversion FROM pg_catalog.pg_extension e \
             JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'",
            &[],
        )
        .await
        .map_err(Error::db("looking for the vector extension"))?
        .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)));
    let mut inv = Inventory {
        extension: ext.as_ref().map(|(_, v)| v.clone()),
        settings: Settings::default(),
        k: opts.k,
        recall_threshold: opts.recall_threshold,
        columns: Vec::new(),
    };
    let Some((ext_schema, _)) = ext else {
        return Ok(inv);
    };
    let rows = client
        .query(CATALOG_SQL, &[])
        .await
        .map_err(Error::db("listing the vector columns"))?;
    let mut columns: BTreeMap<(String, String, String), VectorColumn> = BTreeMap::new();
    let mut order = Vec::new();
    for r in &rows {
        let key: (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let col = columns.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            let typmod: i32 = r.get(5);
            let reltuples: f64 = r.get(6);
            VectorColumn {
                schema: key.0.clone(),
                table: key.1.clone(),
                column: key.2.clone(),
                data_type: r.get(3),
                kind: r.get(4),
                dims: u32::try_from(typmod).ok().filter(|d| *d > 0),
                estimated_rows: (reltuples >= 0.0).then_some(reltuples.round() as i64),
                table_bytes: r.get(7),
                indexes: Vec::new(),
                measurements: Vec::new(),
                advice: Vec::new(),
                notes: Vec::new(),
            }
        });
        let Some(name) = r.get::<_, Option<String>>(9) else {
            continue;
        };
        let key0: i32 = r.get(12);
        let key_def: String = r.get(13);
        let expression = if key0 == 0 {
            if !mentions(&key_def, &col.column) {
                // The column is only in the predicate of an index on something else.
                continue;
            }
            Some(key_def)
        } else {
            None
        };
        let opclass: String = r.get(11);
        let options: Option<String> = r.get(15);
        let options = options.unwrap_or_default();
        let method: String = r.get(10);
        col.indexes.push(AnnIndex {
            schema: r.get(8),
            name,
            operator: operator_of(&opclass).map(str::to_owned),
            opclass,
            expression,
            predicate: r.get(14),
            m: option(&options, "m").or((method == "hnsw").then_some(16)),
            ef_construction: option(&options, "ef_construction")
                .or((method == "hnsw").then_some(64)),
            lists: option(&options, "lists").or((method == "ivfflat").then_some(100)),
            method,
            bytes: r.get(16),
            valid: r.get(17),
            definition: r.get(18),
        });
    }
    let mut list: Vec<VectorColumn> = order
        .into_iter()
        .filter_map(|k| columns.remove(&k))
        .collect();
    if let Some(keep) = &opts.tables {
        list.retain(|c| keep.iter().any(|(s, t)| *s == c.schema && *t == c.table));
    }
    // pgvector defines its settings when its library loads: make sure it is.
    inv.settings = read_settings(client, &ext_schema).await?;
    let database: String = client
        .query_one("SELECT current_database()", &[])
        .await
        .map_err(Error::db("reading the database's name"))?
        .get(0);
    if opts.measure {
        for col in list.iter_mut() {
            measure_column(client, col, &inv.settings, opts).await?;
        }
    }
    for col in list.iter_mut() {
        advise(col, &inv.settings, &database, opts);
    }
    inv.columns = list;
    Ok(inv)
}

async fn read_settings(client: &Client, ext_schema: &str) -> Result<Settings> {
    let row = client
        .query_one(
            &format!(
                "SELECT '[1]'::{}.vector::text, current_setting('hnsw.ef_search', true), \
                 current_setting('ivfflat.probes', true), \
                 current_setting('hnsw.iterative_scan', true), \
                 current_setting('maintenance_work_mem', true)",
                ident(ext_schema)
            ),
            &[],
        )
        .await
        .map_err(Error::db("reading pgvector's settings"))?;
    Ok(Settings {
        hnsw_ef_search: row.get(1),
        ivfflat_probes: row.get(2),
        hnsw_iterative_scan: row.get(3),
        maintenance_work_mem: row.get(4),
    })
}

/// The distance operator an operator class serves.
pub fn operator_of(opclass: &str) -> Option<&'static str> {
    [
        ("l2_ops", "<->"),
        ("cosine_ops", "<=>"),
        ("ip_ops", "<#>"),
        ("l1_ops", "<+>"),
        ("hamming_ops", "<~>"),
        ("jaccard_ops", "<%>"),
    ]
    .into_iter()
    .find(|(suffix, _)| opclass.ends_with(suffix))
    .map(|(_, op)| op)
}

fn metric_suffix(op: &str) -> &'static str {
    match op {
        "<->" => "l2_ops",
        "<#>" => "ip_ops",
        "<+>" => "l1_ops",
        "<~>" => "hamming_ops",
        "<%>" => "jaccard_ops",
        _ => "cosine_ops",
    }
}

/// A numeric `key=value` of the index's reloptions.
fn option(options: &str, key: &str) -> Option<u32> {
    options
        .split(',')
        .find_map(|o| o.trim().strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Whether `text` names `column` as a whole identifier (bare or quoted).
fn mentions(text: &str, column: &str) -> bool {
    find_ident(text, column).next().is_some() || text.contains(&format!("\"{column}\""))
}

/// Byte offsets just past each whole-word occurrence of `word` in `text`.
fn find_ident<'a>(text: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(word).filter_map(move |(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let whole = !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char);
        whole.then_some(i + word.len())
    })
}

/// Distance operators the workload applies to `column`, in queries that name `table`.
fn workload_operators(workload: &[String], table: &str, column: &str) -> Vec<&'static str> {
    const OPS: [&str; 6] = ["<->", "<=>", "<#>", "<+>", "<~>", "<%>"];
    let mut out = Vec::new();
    for q in workload {
        if find_ident(q, table).next().is_none() {
            continue;
        }
        for end in find_ident(q, column) {
            let rest = q[end..].trim_start();
            if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op))
                && !out.contains(op)
            {
                out.push(*op);
            }
        }
    }
    out
}

/// One run of searches: per query the row ids found with their distances, and the times.
struct Runs {
    found: Vec<Vec<(String, f64)>>,
    times_ms: Vec<f64>,
}

async fn search_all(
    client: &Client,
    stmt: &dbarch_pg::tokio_postgres::Statement,
    queries: &[String],
) -> std::result::Result<Runs, dbarch_pg::tokio_postgres::Error> {
    let mut found = Vec::with_capacity(queries.len());
    let mut times_ms = Vec::with_capacity(queries.len());
    for q in queries {
        let t = Instant::now();
        let rows = client.query(stmt, &[q]).await?;
        times_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        found.push(
            rows.iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, f64>(1)))
                .collect(),
        );
    }
    Ok(Runs { found, times_ms })
}

/// Mean recall@k of `found` against `exact`: a found row counts when it is one of the exact
/// rows, or at a distance no greater than the k-th exact one (ties).
pub fn recall_at_k(found: &[Vec<(String, f64)>], exact: &[Vec<(String, f64)>]) -> f64 {
    if exact.is_empty() {
        return 0.0;
    }
    let sum: f64 = found
        .iter()
        .zip(exact)
        .map(|(f, e)| {
            let Some(&(_, kth)) = e.last() else {
                return 1.0;
            };
            let tolerance = 1e-6 * (1.0 + kth.abs());
            let hits = f
                .iter()
                .filter(|(id, d)| e.iter().any(|(x, _)| x == id) || *d <= kth + tolerance)
                .count()
                .min(e.len());
            hits as f64 / e.len() as f64
        })
        .sum();
    sum / exact.len() as f64
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The median, in milliseconds to the microsecond.
fn median(times: &[f64]) -> f64 {
    if times.is_empty() {
        return 0.0;
    }
    let mut t = times.to_vec();
    t.sort_by(f64::total_cmp);
    let n = t.len();
    let m = if n % 2 == 1 {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2.0
    };
    (m * 1000.0).round() / 1000.0
}

/// Why a measurement stopped, kept as a note unless the connection is gone.
enum Stop {
    Note(String),
    Fatal(Error),
}

async fn measure_column(
    client: &Client,
    col: &mut VectorColumn,
    settings: &Settings,
    opts: &InventoryOptions,
) -> Result<()> {
    let measurable: Vec<usize> = col
        .indexes
        .iter()
        .enumerate()
        .filter(|(_, i)| i.valid && i.expression.is_none() && i.predicate.is_none())
        .filter(|(_, i)| i.operator.is_some())
        .map(|(n, _)| n)
        .collect();
    for i in &col.indexes {
        if i.expression.is_some() || i.predicate.is_some() {
            col.notes.push(format!(
                "{} is {}: not measured (its queries order by that expression or filter by that predicate)",
                i.name,
                if i.expression.is_some() {
                    "an expression index"
                } else {
                    "partial"
                }
            ));
        }
    }
    if measurable.is_empty() {
        return Ok(());
    }
    // BEGIN READ ONLY, always rolled back (also when a statement failed).
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
             SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = 2000",
            opts.statement_timeout.as_millis().max(1)
        ))
        .await
        .map_err(Error::db("starting the measurement transaction"))?;
    let result = measure_in_transaction(client, col, &measurable, settings, opts).await;
    let rolled_back = client
        .batch_execute("ROLLBACK")
        .await
        .map_err(Error::db("ending the measurement transaction"));
    match result {
        Ok(()) => {}
        Err(Stop::Note(n)) => col.notes.push(n),
        Err(Stop::Fatal(e)) => return Err(e),
    }
    rolled_back
}

fn stop(what: &str) -> impl FnOnce(dbarch_pg::tokio_postgres::Error) -> Stop + '_ {
    move |e| {
        if e.is_closed() {
            return Stop::Fatal(Error::db(what.to_owned())(e));
        }
        let msg = e
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_else(|| e.to_string());
        let timeout = e
            .code()
            .is_some_and(|c| c.code() == "57014" || c.code() == "55P03");
        Stop::Note(if timeout {
            format!("not measured: {what} took too long ({msg})")
        } else {
            format!("not measured: {what} failed: {msg}")
        })
    }
}

async fn measure_in_transaction(
    client: &Client,
    col: &mut VectorColumn,
    measurable: &[usize],
    settings: &Settings,
    opts: &InventoryOptions,
) -> std::result::Result<(), Stop> {
    let table = qualified(&col.schema, &col.table);
    let c = ident(&col.column);
    let rows = match col.estimated_rows {
        Some(r) => r,
        None => client
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE {c} IS NOT NULL"),
                &[],
            )
            .await
            .map_err(stop("counting the rows"))?
            .get::<_, i64>(0),
    };
    if rows <= 0 {
        return Err(Stop::Note(
            "not measured: the table is empty (by its statistics)".into(),
        ));
    }
    let Some(n) = query_count(rows, col.table_bytes, opts) else {
        return Err(Stop::Note(format!(
            "not measured: exact ground truth would scan {} {} times (budget {}); \
             `dbarch vector tune {}.{}` measures on a copy",
            estimate::human(col.table_bytes.max(0) as u64),
            opts.min_queries,
            estimate::human(opts.scan_budget_bytes),
            table,
            c
        )));
    };
    let queries: Vec<String> = client
        .query(
            &format!(
                "SELECT {c}::text FROM {table} WHERE ctid = ANY(ARRAY(\
                   SELECT ctid FROM {table} WHERE {c} IS NOT NULL \
                   ORDER BY md5(ctid::text || $1) LIMIT $2)) \
                 ORDER BY md5(ctid::text || $1)"
            ),
            &[&opts.seed.to_string(), &(n as i64)],
        )
        .await
        .map_err(stop("sampling query vectors"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if queries.is_empty() {
        return Err(Stop::Note(
            "not measured: no non-null vector to query".into(),
        ));
    }
    let k = opts.k;
    // One measurement per distance: the planner picks among indexes serving the same one.
    let mut done_ops: Vec<String> = Vec::new();
    for &ix in measurable {
        let idx = col.indexes[ix].clone();
        let op = idx.operator.clone().unwrap_or_default();
        if done_ops.contains(&op) {
            continue;
        }
        done_ops.push(op.clone());
        let sql = format!(
            "SELECT ctid::text, ({c} {op} $1::{ty})::float8 FROM {table} WHERE {c} IS NOT NULL \
             ORDER BY {c} {op} $1::{ty} LIMIT {k}",
            ty = col.data_type
        );
        client
            .batch_execute(
                "SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off; \
                 SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_bitmapscan = off",
            )
            .await
            .map_err(stop("setting up exact search"))?;
        let exact_stmt = client
            .prepare_typed(&sql, &[Type::TEXT])
            .await
            .map_err(stop("preparing the exact search"))?;
        let exact = search_all(client, &exact_stmt, &queries)
            .await
            .map_err(stop("the exact search (sequential scan)"))?;
        client
            .batch_execute(
                "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on; \
                 SET LOCAL enable_bitmapscan = on",
            )
            .await
            .map_err(stop("setting up index search"))?;
        // Which index the planner takes for this distance.
        let explain = client
            .prepare_typed(&format!("EXPLAIN {sql}"), &[Type::TEXT])
            .await
            .map_err(stop("explaining the index search"))?;
        let plan: Vec<String> = client
            .query(&explain, &[&queries[0]])
            .await
            .map_err(stop("explaining the index search"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let used = plan.iter().find_map(|l| {
            let rest = &l[l.find("Index Scan using ")? + "Index Scan using ".len()..];
            Some(rest.split(" on ").next()?.trim().to_owned())
        });
        let Some(used) = used else {
            col.notes.push(format!(
                "{}: the planner does not use an index for ORDER BY {} {op} even with enable_seqscan off; not measured",
                idx.name, col.column
            ));
            continue;
        };
        let Some(used_idx) = col.indexes.iter().find(|i| i.name == used).cloned() else {
            col.notes.push(format!(
                "ORDER BY {} {op} uses {used}, which is not an HNSW/IVFFlat index on the column; not measured",
                col.column
            ));
            continue;
        };
        let index_stmt = client
            .prepare_typed(&sql, &[Type::TEXT])
            .await
            .map_err(stop("preparing the index search"))?;
        let warm = queries.len().min(5);
        search_all(client, &index_stmt, &queries[..warm])
            .await
            .map_err(stop("warming the index up"))?;
        let found = search_all(client, &index_stmt, &queries)
            .await
            .map_err(stop("the index search"))?;
        let recall = round4(recall_at_k(&found.found, &exact.found));
        let (setting, value) = if used_idx.method == "hnsw" {
            ("hnsw.ef_search", settings.hnsw_ef_search.clone())
        } else {
            ("ivfflat.probes", settings.ivfflat_probes.clone())
        };
        let mut m = Measurement {
            index: used_idx.name.clone(),
            method: used_idx.method.clone(),
            operator: op.clone(),
            k,
            queries: queries.len(),
            setting: setting.into(),
            value: value.clone(),
            recall,
            p50_ms: median(&found.times_ms),
            exact_p50_ms: median(&exact.times_ms),
            suggested: None,
        };
        if recall < opts.recall_threshold {
            let current: u32 = value.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
            if let Some(s) = suggest_value(&used_idx, current, rows) {
                client
                    .batch_execute(&format!("SET LOCAL {setting} = {s}"))
                    .await
                    .map_err(stop("raising the search setting"))?;
                search_all(client, &index_stmt, &queries[..warm])
                    .await
                    .map_err(stop("warming the index up"))?;
                let again = search_all(client, &index_stmt, &queries)
                    .await
                    .map_err(stop("the index search at a higher setting"))?;
                m.suggested = Some(SuggestedSetting {
                    value: s,
                    recall: round4(recall_at_k(&again.found, &exact.found)),
                    p50_ms: median(&again.times_ms),
                });
                client
                    .batch_execute(&format!(
                        "SET LOCAL {setting} = {}",
                        value.as_deref().map(literal).unwrap_or("DEFAULT".into())
                    ))
                    .await
                    .map_err(stop("restoring the search setting"))?;
            }
        }
        col.measurements.push(m);
    }
    for &ix in measurable {
        let name = col.indexes[ix].name.clone();
        let said = col.measurements.iter().any(|m| m.index == name)
            || col.notes.iter().any(|n| n.contains(&name));
        if !said {
            col.notes.push(format!(
                "{name}: not measured (the planner takes another index for the same distance)"
            ));
        }
    }
    Ok(())
}

/// How many queries to measure with: `queries`, at most the rows and what the scan budget
/// allows (each exact search reads the table); `None` below `min_queries` (or the rows).
fn query_count(rows: i64, table_bytes: i64, opts: &InventoryOptions) -> Option<usize> {
    let rows = usize::try_from(rows.max(0)).unwrap_or(usize::MAX);
    let per_scan = table_bytes.max(8192) as u64;
    let fit = usize::try_from(opts.scan_budget_bytes / per_scan).unwrap_or(usize::MAX);
    let n = opts.queries.min(rows).min(fit);
    (n > 0 && n >= opts.min_queries.min(rows)).then_some(n)
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A higher search setting to try: HNSW `ef_search` doubled, at least 100 (at most 1000);
/// IVFFlat `probes` doubled, at least √lists (at most lists).
fn suggest_value(idx: &AnnIndex, current: u32, rows: i64) -> Option<u32> {
    if idx.method == "hnsw" {
        let s = current.saturating_mul(2).clamp(100, 1000);
        (s > current).then_some(s)
    } else {
        let lists = idx
            .lists
            .unwrap_or(100)
            .min(u32::try_from(rows.max(1)).unwrap_or(u32::MAX))
            .max(1);
        let root = (f64::from(lists)).sqrt().ceil() as u32;
        let s = current.saturating_mul(2).max(root).min(lists);
        (s > current).then_some(s)
    }
}

fn index_name(col: &VectorColumn, method: &str) -> String {
    let mut name = format!("{}_{}_{method}_idx", col.table, col.column);
    while name.len() > 63 {
        name.remove(0);
    }
    name
}

fn advise(col: &mut VectorColumn, settings: &Settings, database: &str, opts: &InventoryOptions) {
    let table = qualified(&col.schema, &col.table);
    let c = ident(&col.column);
    let rows = col.estimated_rows.unwrap_or(0).max(0) as u64;
    let used_ops = workload_operators(&opts.workload, &col.table, &col.column);
    let index_op = col.indexes.iter().find_map(|i| i.operator.as_deref());
    let op = used_ops.first().copied().or(index_op).unwrap_or("<=>");
    let op_note = if used_ops.is_empty() && index_op.is_none() {
        " (cosine assumed: take the operator class of the distance the queries use)"
    } else {
        ""
    };
    let dims = col.dims.unwrap_or(0);
    let mut advice = Vec::new();

    // The key to index: the column itself, or a halfvec cast / binary quantization past the
    // 2,000 dimensions HNSW and IVFFlat take for vector.
    let (key, key_bytes) = match col.kind.as_str() {
        "vector" if dims > 4000 => (
            format!("(binary_quantize({c})::bit({dims})) bit_hamming_ops"),
            estimate::bit_bytes(dims),
        ),
        "vector" if dims > 2000 => (
            format!("({c}::halfvec({dims})) halfvec_{}", metric_suffix(op)),
            Storage::Halfvec.value_bytes(dims),
        ),
        "vector" => (
            format!("{c} vector_{}", metric_suffix(op)),
            Storage::Vector.value_bytes(dims),
        ),
        "halfvec" => (
            format!("{c} halfvec_{}", metric_suffix(op)),
            Storage::Halfvec.value_bytes(dims),
        ),
        "bit" => (format!("{c} bit_hamming_ops"), estimate::bit_bytes(dims)),
        _ => (
            format!("{c} sparsevec_{}", metric_suffix(op)),
            (col.table_bytes.max(0) as u64)
                .checked_div(rows)
                .map_or(64, |b| b.max(16)),
        ),
    };

    let valid_ann = col.indexes.iter().any(|i| i.valid);
    // An invalid index has its own advice (REINDEX) below.
    if col.indexes.is_empty() {
        let bytes = estimate::hnsw_index_bytes(rows, key_bytes, 16);
        let memory = estimate::hnsw_build_memory(rows, key_bytes, 16);
        let mwm = estimate::maintenance_work_mem_for(memory);
        let small = rows < 10_000;
        advice.push(Advice {
            kind: "missing-index",
            level: if small { Level::Note } else { Level::Warning },
            message: format!(
                "no HNSW or IVFFlat index: every similarity search reads {}{}. \
                 An HNSW index (m = 16) takes about {} and {} of maintenance_work_mem to build in memory{op_note}.",
                match col.estimated_rows {
                    Some(r) => format!("all {} rows", thousands(r)),
                    None => "every row (the table was never analyzed)".into(),
                },
                if small {
                    " (fast enough at this size; index it before it grows)"
                } else {
                    ""
                },
                estimate::human(bytes),
                estimate::human(memory),
            ),
            fix: Some(format!(
                "SET maintenance_work_mem = '{mwm}';\nCREATE INDEX CONCURRENTLY {} ON {table} USING hnsw ({key});",
                ident(&index_name(col, "hnsw"))
            )),
        });
    }

    for i in &col.indexes {
        if !i.valid {
            advice.push(Advice {
                kind: "invalid-index",
                level: Level::Warning,
                message: format!(
                    "{} is invalid (a failed or unfinished CREATE INDEX CONCURRENTLY): searches do not use it, writes still maintain it",
                    i.name
                ),
                fix: Some(format!(
                    "REINDEX INDEX CONCURRENTLY {};",
                    qualified(&i.schema, &i.name)
                )),
            });
        }
        if i.method == "ivfflat"
            && rows > 0
            && let Some(lists) = i.lists
        {
            let ideal = if rows <= 1_000_000 {
                (rows / 1000).max(1)
            } else {
                (rows as f64).sqrt().round() as u64
            };
            let l = u64::from(lists);
            if l > rows || l > ideal * 4 || l * 4 < ideal {
                let new = format!("{}_new", i.name.chars().take(59).collect::<String>());
                advice.push(Advice {
                    kind: "ivfflat-lists",
                    level: Level::Warning,
                    message: format!(
                        "{} has lists = {lists} for about {} rows (pgvector: rows / 1000 up to 1M rows, √rows above: {ideal}); \
                         each probe scans {} of the rows{}; its centroids come from the rows present when it was built, so build it after loading",
                        i.name,
                        thousands(rows as i64),
                        if l >= rows {
                            "lists nearly empty or none".to_owned()
                        } else {
                            format!("about 1/{lists}")
                        },
                        if l > rows {
                            ", and the lists were trained on fewer rows than they number"
                        } else {
                            ""
                        }
                    ),
                    fix: Some(format!(
                        "CREATE INDEX CONCURRENTLY {} ON {table} USING ivfflat ({c} {}) WITH (lists = {ideal});\n\
                         DROP INDEX CONCURRENTLY {};\nALTER INDEX {} RENAME TO {};",
                        ident(&new),
                        i.opclass,
                        qualified(&i.schema, &i.name),
                        qualified(&i.schema, &new),
                        ident(&i.name)
                    )),
                });
            }
        }
    }

    for m in &col.measurements {
        if m.recall >= opts.recall_threshold {
            continue;
        }
        let current = m.value.as_deref().unwrap_or("default");
        let (suggest, after) = match &m.suggested {
            Some(s) if s.recall >= opts.recall_threshold => (
                format!("raise {} to {}", m.setting, s.value),
                format!(
                    "; at {} = {} it measures {:.2}",
                    m.setting, s.value, s.recall
                ),
            ),
            Some(s) => (
                format!(
                    "raising {} alone is not enough: let `dbarch vector tune` pick the index and setting",
                    m.setting
                ),
                format!(
                    "; at {} = {} it still measures {:.2}",
                    m.setting, s.value, s.recall
                ),
            ),
            None => (
                format!(
                    "let `dbarch vector tune` pick the index and setting ({} is at its maximum)",
                    m.setting
                ),
                String::new(),
            ),
        };
        let iterative = if m.method == "hnsw" && m.queries > 0 {
            match settings.hnsw_iterative_scan.as_deref() {
                Some("off") | None => "",
                Some(_) => " (iterative scan on)",
            }
        } else {
            ""
        };
        advice.push(Advice {
            kind: "low-recall",
            level: Level::Warning,
            message: format!(
                "{} returns {:.2} of the true top {} at {} = {current}{iterative}, below {}{after}: {suggest}",
                m.index, m.recall, m.k, m.setting, opts.recall_threshold
            ),
            fix: Some(match &m.suggested {
                Some(s) if s.recall >= opts.recall_threshold => format!(
                    "ALTER DATABASE {} SET {} = {};  -- or per role / SET LOCAL per transaction; then: dbarch vector tune {}.{}",
                    ident(database),
                    m.setting,
                    s.value,
                    table,
                    c
                ),
                _ => format!("-- dbarch vector tune {table}.{c}"),
            }),
        });
    }

    if !used_ops.is_empty() {
        let served: Vec<&str> = col
            .indexes
            .iter()
            .filter(|i| i.valid && i.expression.is_none())
            .filter_map(|i| i.operator.as_deref())
            .collect();
        if !served.is_empty() {
            for op in &used_ops {
                if !served.contains(op) {
                    advice.push(Advice {
                        kind: "opclass-mismatch",
                        level: Level::Warning,
                        message: format!(
                            "the workload orders by {} {op}, but the ANN indexes serve {}: those searches scan every row",
                            col.column,
                            served.join(", ")
                        ),
                        fix: Some(format!(
                            "CREATE INDEX CONCURRENTLY {} ON {table} USING hnsw ({c} {}_{});",
                            ident(&index_name(col, "hnsw")),
                            col.kind,
                            metric_suffix(op)
                        )),
                    });
                }
            }
        }
    }

    let has_halfvec_or_bq = col.indexes.iter().any(|i| {
        i.expression.as_deref().is_some_and(|e| {
            e.contains("halfvec") || e.contains("binary_quantize") || e.contains("bit(")
        })
    });
    if col.kind == "vector" && dims > 2000 && valid_ann && !has_halfvec_or_bq {
        advice.push(Advice {
            kind: "dimensions-over-index-limit",
            level: Level::Warning,
            message: format!(
                "vector({dims}) is over the 2,000 dimensions HNSW and IVFFlat index for vector, and no halfvec or binary-quantization index is on it"
            ),
            fix: Some(format!(
                "CREATE INDEX CONCURRENTLY {} ON {table} USING hnsw ({key});",
                ident(&index_name(col, "hnsw"))
            )),
        });
    }
    if col.kind == "vector" && dims > 1000 && !has_halfvec_or_bq {
        let saved = rows * u64::from(dims) * 2;
        advice.push(Advice {
            kind: "halfvec",
            level: Level::Note,
            message: format!(
                "vector({dims}) takes {} bytes a row; halfvec({dims}) takes {}{}, and half the index and its build memory, usually at no measurable recall cost",
                Storage::Vector.value_bytes(dims),
                Storage::Halfvec.value_bytes(dims),
                match col.estimated_rows {
                    Some(r) if r > 0 =>
                        format!(" (about {} less over {} rows)", estimate::human(saved), thousands(r)),
                    _ => String::new(),
                }
            ),
            fix: Some(format!(
                "-- index a halfvec cast (queries then ORDER BY {c}::halfvec({dims}) {op} $1::halfvec({dims})):\n\
                 CREATE INDEX CONCURRENTLY {} ON {table} USING hnsw (({c}::halfvec({dims})) halfvec_{});",
                ident(&index_name(col, "halfvec_hnsw")),
                metric_suffix(op)
            )),
        });
    }
    col.advice = advice;
}

/// `1234567` → `1,234,567`.
fn thousands(n: i64) -> String {
    let digits = n.max(0).to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(ids: &[(&str, f64)]) -> Vec<(String, f64)> {
        ids.iter().map(|(i, d)| (i.to_string(), *d)).collect()
    }

    #[test]
    fn recall_counts_overlap_and_ties() {
        let exact = vec![found(&[("a", 0.1), ("b", 0.2)])];
        assert_eq!(
            recall_at_k(&[found(&[("a", 0.1), ("b", 0.2)])], &exact),
            1.0
        );
        assert_eq!(
            recall_at_k(&[found(&[("a", 0.1), ("x", 0.5)])], &exact),
            0.5
        );
        // Another row at the k-th distance is as good.
        assert_eq!(
            recall_at_k(&[found(&[("a", 0.1), ("y", 0.2)])], &exact),
            1.0
        );
        assert_eq!(recall_at_k(&[found(&[("a", 0.1)])], &exact), 0.5);
    }

    #[test]
    fn operators_and_options_are_read() {
        assert_eq!(operator_of("vector_cosine_ops"), Some("<=>"));
        assert_eq!(operator_of("halfvec_l2_ops"), Some("<->"));
        assert_eq!(operator_of("bit_hamming_ops"), Some("<~>"));
        assert_eq!(option("m=24,ef_construction=100", "m"), Some(24));
        assert_eq!(
            option("m=24,ef_construction=100", "ef_construction"),
            Some(100)
        );
        assert_eq!(option("lists=100", "m"), None);
    }

    #[test]
    fn workload_operators_need_the_table_and_the_column() {
        let w = vec![
            "SELECT id FROM chunks ORDER BY embedding <-> $1 LIMIT 10".to_owned(),
            "SELECT id FROM docs ORDER BY e.embedding <#> $1 LIMIT 10".to_owned(),
        ];
        assert_eq!(workload_operators(&w, "chunks", "embedding"), ["<->"]);
        assert_eq!(workload_operators(&w, "docs", "embedding"), ["<#>"]);
        assert!(workload_operators(&w, "other", "embedding").is_empty());
        assert!(mentions(
            "binary_quantize(embedding)::bit(384)",
            "embedding"
        ));
        assert!(!mentions("(embedding2)", "embedding"));
    }

    #[test]
    fn query_counts_follow_the_budget() {
        let o = InventoryOptions::default();
        assert_eq!(query_count(3000, 1 << 20, &o), Some(50));
        assert_eq!(query_count(7, 8192, &o), Some(7));
        assert_eq!(query_count(0, 8192, &o), None);
        // 4 GiB budget: a 200 MB table takes 20 queries, a 1 GB one is not measured.
        assert_eq!(query_count(1_000_000, 200 << 20, &o), Some(20));
        assert_eq!(query_count(5_000_000, 1 << 30, &o), None);
    }

    #[test]
    fn suggestions_go_up() {
        let mut i = AnnIndex {
            schema: "public".into(),
            name: "x".into(),
            method: "hnsw".into(),
            opclass: "vector_cosine_ops".into(),
            operator: Some("<=>".into()),
            expression: None,
            predicate: None,
            m: Some(16),
            ef_construction: Some(64),
            lists: None,
            bytes: 0,
            valid: true,
            definition: String::new(),
        };
        assert_eq!(suggest_value(&i, 40, 1000), Some(100));
        assert_eq!(suggest_value(&i, 1, 1000), Some(100));
        assert_eq!(suggest_value(&i, 1000, 1000), None);
        i.method = "ivfflat".into();
        i.lists = Some(100);
        assert_eq!(suggest_value(&i, 1, 100_000), Some(10));
        assert_eq!(suggest_value(&i, 10, 100_000), Some(20));
    }
}
