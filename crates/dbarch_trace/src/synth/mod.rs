//! Synthetic rows for every table of a schema, one set-based statement per table:
//!
//! ```sql
//! INSERT INTO t (cols) SELECT cols FROM (
//!     SELECT <value per column> AS col, ...
//!     FROM (SELECT g.i, <parent row picked per foreign key> FROM generate_series(1, N) g(i)) g
//!     LEFT JOIN (SELECT row_number() OVER (ORDER BY key) rn, key FROM parent) p1 ON p1.rn = g.k1
//! ) r WHERE <the table's checks> LIMIT N
//! ```
//!
//! - Columns with a default, identity or generation are left to the server.
//! - Values follow the column's type (through domains) and the bounds its CHECKs give (see
//!   `checks`); a CHECK that cannot be read is still enforced by the `WHERE` (with 4× the
//!   rows generated), when it only mentions generated columns.
//! - Primary keys and unique constraints get distinct values: one column of the key becomes
//!   a function of the row number, or, when all its columns have few values (foreign keys,
//!   enums, booleans), the row number is spread over them in mixed radix (and the row count
//!   capped to the number of combinations).
//! - Foreign keys pick an existing parent row (parents are filled first, in dependency
//!   order); a self-reference is NULL when it may be, else an earlier row of the same insert.
//! - `setseed` before each table (from the seed and the table's name) makes the data
//!   deterministic, except for values the server's defaults compute (`gen_random_uuid()`,
//!   `now()`).
//!
//! A table whose insert fails is reported with PostgreSQL's message; the fill goes on.

mod checks;
mod types;

pub use checks::Bounds;

use crate::error::{Context, Result};
use dbarch_model::{ConstraintKind, Database, IndexTarget, QualifiedName, Table, quote_ident};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;
use tokio_postgres::Client;
use types::{Role, TypeInfo};

/// How many rows, and the seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FillOptions {
    /// Rows per table, unless `per_table` says otherwise.
    pub rows: u64,
    /// Rows of particular tables, by `schema.name` (unquoted).
    #[serde(default)]
    pub per_table: BTreeMap<String, u64>,
    pub seed: u64,
    /// `ANALYZE` the filled tables at the end (so that later plans see the data).
    pub analyze: bool,
}

impl Default for FillOptions {
    fn default() -> Self {
        FillOptions {
            rows: 10_000,
            per_table: BTreeMap::new(),
            seed: 42,
            analyze: true,
        }
    }
}

impl FillOptions {
    pub fn rows_for(&self, schema: &str, name: &str) -> u64 {
        self.per_table
            .get(&format!("{schema}.{name}"))
            .copied()
            .unwrap_or(self.rows)
    }
}

/// What happened to one table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableFill {
    /// `schema.name`, quoted where needed.
    pub table: String,
    pub requested: u64,
    pub inserted: u64,
    pub duration_ms: f64,
    /// What could not be satisfied or was left out (columns left NULL, checks not read,
    /// row counts capped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why nothing was inserted: PostgreSQL's message, or what was missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The statement that was run.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sql: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FillReport {
    /// In the order they were filled (parents first).
    pub tables: Vec<TableFill>,
    pub rows: u64,
    pub duration_ms: f64,
}

impl FillReport {
    pub fn table(&self, name: &str) -> Option<&TableFill> {
        self.tables.iter().find(|t| t.table == name)
    }
}

fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// Fills every table of `db` (partitions through their parent) on `client`, which holds
/// that schema.
pub async fn fill(client: &Client, db: &Database, opts: &FillOptions) -> Result<FillReport> {
    let start = Instant::now();
    let mut report = FillReport {
        tables: Vec::new(),
        rows: 0,
        duration_ms: 0.0,
    };
    for table in fill_order(db) {
        let requested = opts.rows_for(&table.schema, &table.name);
        let t = Instant::now();
        let mut result = TableFill {
            table: qualified(&table.schema, &table.name),
            requested,
            inserted: 0,
            duration_ms: 0.0,
            notes: Vec::new(),
            error: None,
            sql: String::new(),
        };
        if requested > 0 {
            fill_table(client, db, table, requested, opts.seed, &mut result).await?;
        }
        result.duration_ms = (t.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
        report.rows += result.inserted;
        report.tables.push(result);
    }
    if opts.analyze {
        let names: Vec<&str> = report
            .tables
            .iter()
            .filter(|t| t.inserted > 0)
            .map(|t| t.table.as_str())
            .collect();
        if !names.is_empty() {
            client
                .batch_execute(&format!("ANALYZE {}", names.join(", ")))
                .await
                .doing("analyzing the filled tables")?;
        }
    }
    report.duration_ms = (start.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
    Ok(report)
}

/// Tables parents first (Kahn's algorithm, by name among equals); tables in a cycle come
/// last, by name. Partitions are left out (their parent routes the rows).
fn fill_order(db: &Database) -> Vec<&Table> {
    let tables: Vec<&Table> = db.tables.iter().filter(|t| !t.is_partition()).collect();
    let key = |t: &Table| (t.schema.clone(), t.name.clone());
    let present: BTreeSet<(String, String)> = tables.iter().map(|t| key(t)).collect();
    let mut deps: BTreeMap<(String, String), BTreeSet<(String, String)>> = BTreeMap::new();
    for t in &tables {
        let mut d = BTreeSet::new();
        for (_, fk) in t.foreign_keys() {
            let p = (fk.references.schema.clone(), fk.references.name.clone());
            if p != key(t) && present.contains(&p) {
                d.insert(p);
            }
        }
        deps.insert(key(t), d);
    }
    let mut order = Vec::new();
    let mut done: BTreeSet<(String, String)> = BTreeSet::new();
    loop {
        let ready: Vec<(String, String)> = deps
            .iter()
            .filter(|(k, d)| !done.contains(*k) && d.iter().all(|p| done.contains(p)))
            .map(|(k, _)| k.clone())
            .collect();
        if ready.is_empty() {
            break;
        }
        for k in ready {
            done.insert(k.clone());
            order.push(k);
        }
    }
    for k in deps.keys() {
        if !done.contains(k) {
            order.push(k.clone());
        }
    }
    order
        .into_iter()
        .filter_map(|k| tables.iter().find(|t| key(t) == k).copied())
        .collect()
}

/// A generated column's plan.
#[derive(Debug, Clone)]
struct Col {
    name: String,
    info: TypeInfo,
    bounds: Bounds,
    not_null: bool,
    /// The foreign key unit it belongs to.
    fk: Option<usize>,
}

/// A foreign key whose columns are filled from a parent row.
#[derive(Debug, Clone)]
struct Fk {
    name: String,
    columns: Vec<String>,
    parent: QualifiedName,
    parent_columns: Vec<String>,
    self_ref: bool,
    /// Rows of the parent (for a self-reference: unknown).
    parent_rows: u64,
}

/// A unit of choice: a plain column or a foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Unit {
    Col(usize),
    Fk(usize),
}

/// A unit's distinct values (units without a choice are random): a 0-based slot computed
/// from the row number.
#[derive(Debug, Clone, PartialEq)]
struct Choice {
    /// The slot, an SQL expression of `g.i`.
    sql: String,
    /// `i - 1` itself: distinct for every row, by itself.
    alone: bool,
}

fn slot_sql(stride: u64, card: Option<u64>) -> String {
    let base = if stride == 1 {
        "(g.i - 1)".to_string()
    } else {
        format!("((g.i - 1) / {stride})")
    };
    match card {
        Some(c) => format!("({base} % {c})"),
        None => base,
    }
}

/// A stable hash of the seed and the table's name, as a `setseed` argument in [-1, 1].
fn seed_for(seed: u64, table: &str) -> f64 {
    let mut h: u64 = 0xcbf29ce484222325 ^ seed;
    for b in table.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    (h % 2_000_001) as f64 / 1_000_000.0 - 1.0
}

async fn fill_table(
    client: &Client,
    db: &Database,
    table: &Table,
    requested: u64,
    seed: u64,
    out: &mut TableFill,
) -> Result<()> {
    let tname = qualified(&table.schema, &table.name);
    // Columns and their constraints.
    let pk: BTreeSet<&str> = table
        .primary_key_columns()
        .iter()
        .map(String::as_str)
        .collect();
    let mut not_null_constraints = BTreeSet::new();
    let mut checks: Vec<(String, String, checks::Check)> = Vec::new();
    for c in &table.constraints {
        match &c.kind {
            ConstraintKind::NotNull { column, .. } => {
                not_null_constraints.insert(column.clone());
            }
            ConstraintKind::Check { expression, .. } => {
                checks.push((
                    c.name.clone(),
                    expression.clone(),
                    checks::read(expression, None),
                ));
            }
            ConstraintKind::Exclusion {} => out.notes.push(format!(
                "exclusion constraint {} is not ensured: rows may violate it",
                c.name
            )),
            _ => {}
        }
    }
    let mut cols: Vec<Col> = Vec::new();
    for c in &table.columns {
        if c.generated.is_some() || c.identity.is_some() || c.default.is_some() {
            continue;
        }
        let info = types::resolve(db, &c.data_type);
        if info.has_default {
            continue;
        }
        let mut bounds = info.bounds.clone();
        for (_, _, ch) in &checks {
            if let Some(b) = ch.bounds.get(&c.name) {
                bounds.merge(b);
            }
        }
        for d in &info.unread_checks {
            out.notes.push(format!(
                "{}: the check {} of its domain was not understood",
                c.name, d
            ));
        }
        let not_null = c.not_null
            || bounds.not_null
            || pk.contains(c.name.as_str())
            || not_null_constraints.contains(&c.name);
        cols.push(Col {
            name: c.name.clone(),
            info,
            bounds,
            not_null,
            fk: None,
        });
    }
    let col_index = |cols: &[Col], name: &str| cols.iter().position(|c| c.name == name);

    // Foreign keys.
    let mut fks: Vec<Fk> = Vec::new();
    for (con, fk) in table.foreign_keys() {
        let idx: Option<Vec<usize>> = fk.columns.iter().map(|c| col_index(&cols, c)).collect();
        let Some(idx) = idx else {
            out.notes.push(format!(
                "foreign key {}: a column has a default; left to it",
                con.name
            ));
            continue;
        };
        if idx.iter().any(|&i| cols[i].fk.is_some()) {
            out.notes.push(format!(
                "foreign key {} shares columns with another one: not ensured",
                con.name
            ));
            continue;
        }
        let self_ref = fk.references.schema == table.schema && fk.references.name == table.name;
        let parent_rows = if self_ref {
            0
        } else {
            let q = format!(
                "SELECT count(*) FROM {}",
                qualified(&fk.references.schema, &fk.references.name)
            );
            match client.query_one(&q, &[]).await {
                Ok(r) => r.get::<_, i64>(0).max(0) as u64,
                Err(e) => {
                    out.error = Some(format!(
                        "cannot count the rows of {}: {}",
                        fk.references,
                        pg_message(&e)
                    ));
                    return Ok(());
                }
            }
        };
        let n = fks.len();
        for &i in &idx {
            cols[i].fk = Some(n);
        }
        fks.push(Fk {
            name: con.name.clone(),
            columns: fk.columns.to_vec(),
            parent: fk.references.clone(),
            parent_columns: fk.referenced_columns.to_vec(),
            self_ref,
            parent_rows,
        });
    }
    // An empty parent: NULL where allowed, else nothing can be inserted.
    for (n, fk) in fks.iter().enumerate() {
        if fk.self_ref || fk.parent_rows > 0 {
            continue;
        }
        let required: Vec<&str> = cols
            .iter()
            .filter(|c| c.fk == Some(n) && c.not_null)
            .map(|c| c.name.as_str())
            .collect();
        if !required.is_empty() {
            out.error = Some(format!(
                "the parent table {} of foreign key {} has no rows, and {} cannot be NULL",
                fk.parent,
                fk.name,
                required.join(", ")
            ));
            return Ok(());
        }
        out.notes.push(format!(
            "foreign key {}: the parent table {} has no rows; left NULL",
            fk.name, fk.parent
        ));
    }

    // Unique keys: constraints, then unique indexes on plain columns without a predicate.
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for c in &table.constraints {
        match &c.kind {
            ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns, .. } => {
                keys.push((c.name.clone(), columns.clone()))
            }
            _ => {}
        }
    }
    for ix in &table.indexes {
        if !ix.unique || ix.constraint.is_some() || ix.predicate.is_some() {
            continue;
        }
        let cols_of: Option<Vec<String>> = ix
            .keys
            .iter()
            .map(|k| match &k.target {
                IndexTarget::Column(c) => Some(c.clone()),
                IndexTarget::Expression(_) => None,
            })
            .collect();
        match cols_of {
            Some(c) => keys.push((ix.name.clone(), c)),
            None => out.notes.push(format!(
                "unique index {} is on expressions: its uniqueness is not ensured",
                ix.name
            )),
        }
    }
    keys.sort_by_key(|(_, c)| c.len());

    let unit_of = |cols: &[Col], name: &str| -> Option<Unit> {
        let i = col_index(cols, name)?;
        Some(match cols[i].fk {
            Some(f) => Unit::Fk(f),
            None => Unit::Col(i),
        })
    };
    let card_of = |cols: &[Col], fks: &[Fk], u: Unit| -> Option<u64> {
        match u {
            Unit::Col(i) => types::cardinality(&cols[i].info.kind, &cols[i].bounds),
            Unit::Fk(f) if fks[f].self_ref => Some(0),
            Unit::Fk(f) => Some(fks[f].parent_rows),
        }
    };
    let mut choice: HashMap<Unit, Choice> = HashMap::new();
    let mut series = requested;
    for (kname, kcols) in &keys {
        let units: Option<BTreeSet<Unit>> = kcols.iter().map(|c| unit_of(&cols, c)).collect();
        // A column left to its default (identity, serial, gen_random_uuid()) makes it unique.
        let Some(units) = units else { continue };
        if units.iter().any(|u| choice.get(u).is_some_and(|c| c.alone)) {
            continue;
        }
        // A column with more values than rows (even generated 4x over) is distinct by itself.
        let plenty = |u: &Unit| {
            card_of(&cols, &fks, *u).is_none_or(|c| c >= series.saturating_mul(4))
                && !matches!(u, Unit::Fk(_))
        };
        if let Some(u) = units.iter().find(|u| !choice.contains_key(u) && plenty(u)) {
            choice.insert(
                *u,
                Choice {
                    sql: slot_sql(1, None),
                    alone: true,
                },
            );
            continue;
        }
        // Few values in every column: spread the row number over them in mixed radix, each
        // digit shifted by the previous one (still one combination per row, but the values
        // of a later column vary with the earlier ones instead of staying at 0 for the
        // first rows).
        let mut stride: u64 = 1;
        let mut spread = false;
        let mut previous: Option<String> = None;
        for u in &units {
            if choice.contains_key(u) {
                continue;
            }
            let card = card_of(&cols, &fks, *u).unwrap_or(0);
            if card == 0 {
                continue;
            }
            let raw = slot_sql(stride, Some(card));
            let sql = match &previous {
                None => raw,
                Some(p) => format!("(({raw} + {p}) % {card})"),
            };
            previous = Some(sql.clone());
            choice.insert(*u, Choice { sql, alone: false });
            stride = stride.saturating_mul(card);
            spread = true;
        }
        if !spread {
            out.notes.push(format!(
                "{kname}: no column of the key can take distinct values; it may be violated"
            ));
        } else if stride < series {
            out.notes.push(format!(
                "{kname}: only {stride} distinct ({}) exist: {stride} rows instead of {requested}",
                kcols.join(", ")
            ));
            series = stride;
        }
    }

    // Self-references: NULL when allowed, else an earlier row (or the row itself).
    let mut self_slots: HashMap<usize, String> = HashMap::new();
    for (n, fk) in fks.iter().enumerate() {
        if !fk.self_ref {
            continue;
        }
        let nullable = cols.iter().filter(|c| c.fk == Some(n)).all(|c| !c.not_null);
        if nullable {
            out.notes.push(format!(
                "self-referencing foreign key {}: left NULL",
                fk.name
            ));
            continue;
        }
        // Possible when every referenced column is a function of the row number alone.
        let distinct = fk
            .parent_columns
            .iter()
            .all(|pc| unit_of(&cols, pc).is_some_and(|u| choice.get(&u).is_some_and(|c| c.alone)));
        if distinct {
            self_slots.insert(n, format!("g.ks{n}"));
        } else {
            out.notes.push(format!(
                "self-referencing foreign key {}: its key is not generated from the row number; not ensured",
                fk.name
            ));
        }
    }

    // The statement.
    let row = "g.i";
    let mut select = Vec::new();
    let mut inserted = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        let qname = quote_ident(&c.name);
        let expr = match c.fk {
            Some(n) if fks[n].self_ref => {
                let Some(slot) = self_slots.get(&n) else {
                    continue;
                };
                let fk = &fks[n];
                let pos = fk.columns.iter().position(|x| *x == c.name).unwrap_or(0);
                let target = &fk.parent_columns[pos];
                let Some(ti) = col_index(&cols, target) else {
                    continue;
                };
                let t = &cols[ti];
                match types::value(
                    &t.info,
                    &t.bounds,
                    &Role::Slot(slot),
                    &format!("{tname}.{}", t.name),
                    row,
                ) {
                    Ok(e) => format!("({e})::{}", c.info.cast),
                    Err(_) => continue,
                }
            }
            Some(n) => {
                let fk = &fks[n];
                if fk.parent_rows == 0 {
                    continue;
                }
                let pos = fk.columns.iter().position(|x| *x == c.name).unwrap_or(0);
                format!(
                    "(p{n}.{})::{}",
                    quote_ident(&fk.parent_columns[pos]),
                    c.info.cast
                )
            }
            None => {
                let role = match choice.get(&Unit::Col(i)) {
                    Some(c) => Role::Slot(&c.sql),
                    None => Role::Random,
                };
                match types::value(
                    &c.info,
                    &c.bounds,
                    &role,
                    &format!("{tname}.{}", c.name),
                    row,
                ) {
                    Ok(e) => e,
                    Err(why) => {
                        out.notes
                            .push(format!("{} ({}): {why}; left NULL", c.name, c.info.cast));
                        continue;
                    }
                }
            }
        };
        inserted.push(qname.clone());
        select.push(format!("{expr} AS {qname}"));
    }
    if inserted.is_empty() {
        // Every column has a default: DEFAULT VALUES, N times.
        let sql = format!("INSERT INTO {tname} SELECT FROM generate_series(1, {requested})");
        return run(client, &sql, seed, &tname, out).await;
    }

    // Checks: read ones hold by construction; all that mention only generated columns also
    // filter the rows (with more rows generated when one was not understood).
    let generated: BTreeSet<&str> = cols
        .iter()
        .filter(|c| inserted.contains(&quote_ident(&c.name)))
        .map(|c| c.name.as_str())
        .collect();
    let mut filters = Vec::new();
    let mut oversample = false;
    for (name, expr, ch) in &checks {
        let filterable = ch.columns.iter().all(|c| generated.contains(c.as_str()));
        if filterable {
            filters.push(format!("({expr}) IS NOT FALSE"));
            if !ch.understood {
                oversample = true;
                out.notes.push(format!(
                    "check {name} was not understood: rows were generated at random and filtered by it"
                ));
            }
        } else if !ch.understood {
            out.notes.push(format!(
                "check {name} was not understood and mentions columns left to their defaults: rows may violate it"
            ));
        }
    }
    let generate = if oversample {
        series.saturating_mul(4).min(
            // Distinct keys spread in mixed radix must not wrap.
            if series < requested { series } else { u64::MAX },
        )
    } else {
        series
    };

    let mut g_cols = vec!["g.i".to_string()];
    let mut joins = Vec::new();
    for (n, fk) in fks.iter().enumerate() {
        if fk.self_ref {
            if self_slots.contains_key(&n) {
                g_cols.push(format!("floor(random() * g.i)::bigint AS ks{n}"));
            }
            continue;
        }
        if fk.parent_rows == 0 {
            continue;
        }
        let k = match choice.get(&Unit::Fk(n)) {
            Some(c) => format!("1 + {}", c.sql),
            _ => format!("1 + floor(random() * {})::bigint", fk.parent_rows),
        };
        g_cols.push(format!("{k} AS k{n}"));
        let pcols = fk
            .parent_columns
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        joins.push(format!(
            "LEFT JOIN (SELECT row_number() OVER (ORDER BY {pcols}) AS rn, {pcols} FROM {}) AS p{n} ON p{n}.rn = g.k{n}",
            qualified(&fk.parent.schema, &fk.parent.name)
        ));
    }
    let list = inserted.join(", ");
    let mut sql = format!(
        "INSERT INTO {tname} ({list})\nSELECT {list} FROM (\n  SELECT {}\n  FROM (SELECT {} FROM generate_series(1, {generate}) AS g(i)) AS g",
        select.join(",\n         "),
        g_cols.join(", ")
    );
    for j in &joins {
        sql.push_str("\n  ");
        sql.push_str(j);
    }
    sql.push_str("\n) AS r");
    if !filters.is_empty() {
        sql.push_str(&format!("\nWHERE {}", filters.join(" AND ")));
    }
    if generate != series {
        sql.push_str(&format!("\nLIMIT {series}"));
    }
    for c in &cols {
        if c.not_null && !inserted.contains(&quote_ident(&c.name)) {
            out.notes.push(format!(
                "{} is NOT NULL but no value could be generated",
                c.name
            ));
        }
    }
    run(client, &sql, seed, &tname, out).await
}

async fn run(
    client: &Client,
    sql: &str,
    seed: u64,
    tname: &str,
    out: &mut TableFill,
) -> Result<()> {
    out.sql = sql.to_string();
    client
        .batch_execute(&format!("SELECT setseed({})", seed_for(seed, tname)))
        .await
        .doing("seeding random()")?;
    match client.execute(sql, &[]).await {
        Ok(n) => out.inserted = n,
        Err(e) if e.as_db_error().is_some() => out.error = Some(pg_message(&e)),
        Err(e) => {
            return Err(crate::Error::Db {
                doing: "filling a table",
                source: e,
            });
        }
    }
    Ok(())
}

fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = format!("{}: {}", db.severity(), db.message());
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            m
        }
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_stable_and_in_range() {
        let a = seed_for(42, "public.t");
        assert_eq!(a, seed_for(42, "public.t"));
        assert_ne!(a, seed_for(43, "public.t"));
        assert!((-1.0..=1.0).contains(&a));
    }
}
