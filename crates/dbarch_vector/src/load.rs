//! Bulk loading: the rows of an embedding file into a table by binary COPY (pgvector's binary
//! format through `tokio-postgres`), all in one transaction — an error anywhere leaves nothing
//! visible. Other columns take their defaults, or the file's fields of the same name (then the
//! rows go through a temporary table and one `INSERT ... SELECT` that casts them). With
//! `rebuild_indexes`, the table's HNSW/IVFFlat indexes are dropped before the COPY and built
//! again after it, in the same transaction, with `maintenance_work_mem` and
//! `max_parallel_maintenance_workers` set from the estimate, their progress read from
//! `pg_stat_progress_create_index` by a second session.

use crate::copy::CopyWriter;
use crate::estimate::{self, Storage};
use crate::input::{Batch, Embeddings};
use crate::{Error, Result, ident};
use dbarch_pg::tokio_postgres::types::{ToSql, Type};
use dbarch_pg::tokio_postgres::{Client, GenericClient};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::time::{Duration, Instant};

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Rows between two progress updates.
    pub batch_rows: usize,
    pub rebuild_indexes: bool,
    /// Draw progress bars on stderr (indicatif hides them when stderr is not a terminal).
    pub progress: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            batch_rows: 10_000,
            rebuild_indexes: false,
            progress: true,
        }
    }
}

/// An index rebuilt after the load.
#[derive(Debug, Clone, Serialize)]
pub struct Rebuilt {
    pub name: String,
    pub definition: String,
    pub seconds: f64,
    pub maintenance_work_mem: String,
    pub max_parallel_maintenance_workers: u32,
}

/// What a load did.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub table: String,
    pub column: String,
    pub rows: u64,
    pub dims: usize,
    pub copy_seconds: f64,
    pub rows_per_second: f64,
    pub rebuilt: Vec<Rebuilt>,
}

/// A table's vector column, resolved in the catalog.
#[derive(Debug, Clone)]
pub struct Target {
    pub oid: u32,
    /// `schema.table`, quoted.
    pub table: String,
    pub column: String,
    pub data_type: String,
    pub storage: Storage,
    pub dims: Option<u32>,
}

/// Finds `table` (as `to_regclass` reads it: search_path, quoting) and its vector `column`.
pub async fn resolve(client: &impl GenericClient, table: &str, column: &str) -> Result<Target> {
    let row = client
        .query_opt(
            "SELECT c.oid, format('%I.%I', n.nspname, c.relname) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid = to_regclass($1)",
            &[&table],
        )
        .await
        .map_err(Error::db(format!("looking up {table}")))?
        .ok_or_else(|| Error::input(format!("no table {table}")))?;
    let oid: u32 = row.get(0);
    let qualified: String = row.get(1);
    let data_type: String = client
        .query_opt(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = $1 AND attname = $2 AND attnum > 0 AND NOT attisdropped",
            &[&oid, &column],
        )
        .await
        .map_err(Error::db(format!("looking up {qualified}.{column}")))?
        .ok_or_else(|| Error::input(format!("{qualified} has no column {column}")))?
        .get(0);
    let v = dbarch_model::parse_vector_type(&data_type);
    let storage = match v.map(|v| v.kind) {
        Some(dbarch_model::VectorKind::Vector) => Storage::Vector,
        Some(dbarch_model::VectorKind::Halfvec) => Storage::Halfvec,
        _ => {
            return Err(Error::input(format!(
                "{qualified}.{column} is {data_type}, not a vector or halfvec column"
            )));
        }
    };
    Ok(Target {
        oid,
        table: qualified,
        column: column.to_owned(),
        data_type,
        storage,
        dims: v.and_then(|v| v.dims),
    })
}

/// A row's value, as pgvector's binary format wants it.
pub fn param(storage: Storage, v: &[f32]) -> Box<dyn ToSql + Sync + Send> {
    match storage {
        Storage::Vector => Box::new(pgvector::Vector::from(v.to_vec())),
        Storage::Halfvec => Box::new(pgvector::HalfVector::from_f32_slice(v)),
    }
}

/// Data errors (bad casts, NOT NULL without a default, constraint violations) are the input's.
fn classify(context: String) -> impl FnOnce(dbarch_pg::tokio_postgres::Error) -> Error {
    move |e| {
        let input = e
            .code()
            .is_some_and(|c| c.code().starts_with("22") || c.code().starts_with("23"));
        if input {
            let msg = e
                .as_db_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_else(|| e.to_string());
            Error::input(format!("{context}: {msg}"))
        } else {
            Error::Db { context, source: e }
        }
    }
}

fn bar(opts: &LoadOptions, len: u64, what: &str) -> ProgressBar {
    bar_for(opts.progress, len, what)
}

/// A progress bar on stderr (hidden when `progress` is false).
pub fn bar_for(progress: bool, len: u64, what: &str) -> ProgressBar {
    let target = if progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(Some(len), target);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// The rows to load: read whole (`.jsonl`, `.csv`: other fields too), or streamed while the
/// file is read (`.npy`, `.fvecs`: [`crate::input::stream`]).
pub enum Source<'a> {
    Rows(&'a Embeddings),
    Stream(tokio::sync::mpsc::Receiver<Result<Batch>>),
}

/// Loads `source` into `target` (see the module doc). `monitor` is a second session on the same
/// database, used to read index build progress.
pub async fn load(
    client: &mut Client,
    monitor: Option<&Client>,
    target: &Target,
    source: Source<'_>,
    file: &str,
    opts: &LoadOptions,
) -> Result<LoadReport> {
    // A stream's first batch comes before anything is written: an unreadable or empty file,
    // or bad first rows, fail here.
    let empty = Embeddings {
        dims: 0,
        data: Vec::new(),
        extra: Vec::new(),
    };
    let (data, mut stream, first) = match source {
        Source::Rows(e) => (e, None, None),
        Source::Stream(mut rx) => {
            let first = rx
                .recv()
                .await
                .unwrap_or_else(|| Err(Error::input(format!("{file}: holds no vectors"))))?;
            (&empty, Some(rx), Some(first))
        }
    };
    let dims = first.as_ref().map_or(data.dims, |b| b.dims);
    if let Some(d) = target.dims
        && d as usize != dims
    {
        return Err(Error::input(format!(
            "{file} has {dims} dimensions, {}.{} is {}",
            target.table, target.column, target.data_type
        )));
    }
    // The file's other fields must be columns of the table.
    let mut extra_types = Vec::new();
    for c in &data.extra {
        let ty: Option<String> = client
            .query_opt(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
                 WHERE attrelid = $1 AND attname = $2 AND attnum > 0 AND NOT attisdropped",
                &[&target.oid, &c.name],
            )
            .await
            .map_err(Error::db(format!("looking up {}.{}", target.table, c.name)))?
            .map(|r| r.get(0));
        match ty {
            Some(t) => extra_types.push(t),
            None => {
                return Err(Error::input(format!(
                    "{file}: field \"{}\" is not a column of {}",
                    c.name, target.table
                )));
            }
        }
    }
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(Error::db("reading the session's pid"))?
        .get(0);
    let (max_workers,): (i32,) = {
        let r = client
            .query_one(
                "SELECT least(current_setting('max_parallel_workers')::int, \
                 current_setting('max_worker_processes')::int - 1)",
                &[],
            )
            .await
            .map_err(Error::db("reading max_parallel_workers"))?;
        (r.get(0),)
    };
    let table = &target.table;
    let col = ident(&target.column);
    let tx = client
        .transaction()
        .await
        .map_err(Error::db("starting the load's transaction"))?;
    // ANN indexes to rebuild after the load.
    let mut indexes: Vec<(String, String, String)> = Vec::new();
    if opts.rebuild_indexes {
        let rows = tx
            .query(
                "SELECT format('%I.%I', n.nspname, c.relname), pg_get_indexdef(c.oid), am.amname \
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_am am ON am.oid = c.relam \
                 WHERE i.indrelid = $1 AND am.amname IN ('hnsw', 'ivfflat') ORDER BY 1",
                &[&target.oid],
            )
            .await
            .map_err(Error::db(format!("reading the indexes of {table}")))?;
        for r in rows {
            let name: String = r.get(0);
            tx.batch_execute(&format!("DROP INDEX {name}"))
                .await
                .map_err(Error::db(format!("dropping {name} before the load")))?;
            indexes.push((name, r.get(1), r.get(2)));
        }
    }
    let vtype: Type = tx
        .prepare(&format!("SELECT {col} FROM {table} LIMIT 0"))
        .await
        .map_err(Error::db(format!("reading the type of {table}.{col}")))?
        .columns()[0]
        .type_()
        .clone();
    let direct = data.extra.is_empty();
    let copy_into = if direct {
        format!("{table} ({col})")
    } else {
        let mut cols = vec![format!("{col} {}", target.data_type)];
        cols.extend(
            data.extra
                .iter()
                .map(|c| format!("{} text", ident(&c.name))),
        );
        tx.batch_execute(&format!(
            "CREATE TEMP TABLE _dbarch_load ({}) ON COMMIT DROP",
            cols.join(", ")
        ))
        .await
        .map_err(Error::db("creating the staging table"))?;
        let names: Vec<String> = std::iter::once(col.clone())
            .chain(data.extra.iter().map(|c| ident(&c.name)))
            .collect();
        format!("_dbarch_load ({})", names.join(", "))
    };
    let mut types = vec![vtype];
    types.extend(data.extra.iter().map(|_| Type::TEXT));
    let start = Instant::now();
    let sink = tx
        .copy_in(&format!("COPY {copy_into} FROM STDIN (FORMAT binary)"))
        .await
        .map_err(Error::db(format!("starting COPY into {table}")))?;
    let mut writer = CopyWriter::new(sink, types);
    let total = first
        .as_ref()
        .map_or(data.rows() as u64, |b| b.total_rows.unwrap_or(0));
    let pb = bar(opts, total, &format!("loading {table}"));
    let copy_err = || classify(format!("COPY into {table}"));
    let mut sent = 0u64;
    if let Some(first) = first {
        let mut batch = first;
        loop {
            for row in batch.data.chunks_exact(dims) {
                let v = param(target.storage, row);
                writer
                    .write(&[v.as_ref()], sent as usize)
                    .await?
                    .map_err(copy_err())?;
                sent += 1;
            }
            pb.set_position(sent);
            let Some(rx) = stream.as_mut() else { break };
            match rx.recv().await {
                // An error ends the stream: returning drops the COPY and the transaction.
                Some(b) => batch = b?,
                None => break,
            }
            if batch.dims != dims {
                return Err(Error::input(format!(
                    "{file}: row {} has {} dimensions, the rows before it {dims}",
                    sent + 1,
                    batch.dims
                )));
            }
        }
    } else {
        for i in 0..data.rows() {
            let v = param(target.storage, data.row(i));
            let mut values: Vec<&(dyn ToSql + Sync)> = vec![v.as_ref()];
            values.extend(
                data.extra
                    .iter()
                    .map(|c| &c.values[i] as &(dyn ToSql + Sync)),
            );
            writer.write(&values, i).await?.map_err(copy_err())?;
            sent += 1;
            if sent.is_multiple_of(opts.batch_rows.max(1) as u64) {
                pb.set_position(sent);
            }
        }
    }
    let copied = writer.finish().await.map_err(copy_err())?;
    pb.finish_and_clear();
    if !direct {
        let mut names = vec![col.clone()];
        let mut exprs = vec![col.clone()];
        for (c, t) in data.extra.iter().zip(&extra_types) {
            names.push(ident(&c.name));
            exprs.push(format!("{}::{t}", ident(&c.name)));
        }
        tx.batch_execute(&format!(
            "INSERT INTO {table} ({}) SELECT {} FROM _dbarch_load",
            names.join(", "),
            exprs.join(", ")
        ))
        .await
        .map_err(classify(format!(
            "inserting the rows of {file} into {table}"
        )))?;
    }
    let copy_seconds = start.elapsed().as_secs_f64();
    let mut rebuilt = Vec::new();
    if !indexes.is_empty() {
        let rows: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .map_err(Error::db(format!("counting the rows of {table}")))?
            .get(0);
        let rows = rows.max(0) as u64;
        let vb = target.storage.value_bytes(dims as u32);
        for (name, def, am) in indexes {
            let memory = if am == "hnsw" {
                estimate::hnsw_build_memory(rows, vb, option(&def, "m").unwrap_or(16))
            } else {
                let lists = u64::from(option(&def, "lists").unwrap_or(100));
                rows.min(lists * 50) * (vb + 16)
            };
            let mwm = estimate::maintenance_work_mem_for(memory);
            let workers = estimate::parallel_workers_for(rows, max_workers.max(0) as u32);
            tx.batch_execute(&format!(
                "SET LOCAL maintenance_work_mem = '{mwm}'; SET LOCAL max_parallel_maintenance_workers = {workers}"
            ))
            .await
            .map_err(Error::db("setting maintenance_work_mem"))?;
            let started = Instant::now();
            let pb = bar(opts, 0, &format!("building {name}"));
            let result = {
                let build = tx.batch_execute(def.as_str());
                tokio::pin!(build);
                loop {
                    tokio::select! {
                        r = &mut build => break r,
                        _ = tokio::time::sleep(Duration::from_millis(250)) => {
                            if let Some(m) = monitor
                                && let Ok(Some(r)) = m.query_opt(
                                    "SELECT phase, coalesce(nullif(tuples_total, 0), blocks_total), \
                                     coalesce(nullif(tuples_done, 0), blocks_done) \
                                     FROM pg_stat_progress_create_index WHERE pid = $1",
                                    &[&pid],
                                ).await
                            {
                                let phase: String = r.get(0);
                                let total: i64 = r.get(1);
                                let done: i64 = r.get(2);
                                pb.set_message(format!("building {name}: {phase}"));
                                pb.set_length(total.max(0) as u64);
                                pb.set_position(done.max(0) as u64);
                            }
                        }
                    }
                }
            };
            pb.finish_and_clear();
            result.map_err(Error::db(format!("building {name} after the load")))?;
            rebuilt.push(Rebuilt {
                name,
                definition: def,
                seconds: started.elapsed().as_secs_f64(),
                maintenance_work_mem: mwm,
                max_parallel_maintenance_workers: workers,
            });
        }
    }
    tx.commit()
        .await
        .map_err(Error::db(format!("committing the load into {table}")))?;
    Ok(LoadReport {
        table: table.clone(),
        column: target.column.clone(),
        rows: copied,
        dims,
        copy_seconds,
        rows_per_second: copied as f64 / copy_seconds.max(1e-9),
        rebuilt,
    })
}

/// `m` or `lists` of an index definition's `WITH (m='16', ...)`.
fn option(def: &str, key: &str) -> Option<u32> {
    let with = &def[def.rfind("WITH (")? + 6..];
    with.split([',', ')'])
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .and_then(|(_, v)| v.trim().trim_matches('\'').parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn index_options_are_read() {
        let def = "CREATE INDEX i ON public.t USING hnsw (e vector_l2_ops) WITH (m='24', ef_construction='100')";
        assert_eq!(super::option(def, "m"), Some(24));
        assert_eq!(super::option(def, "ef_construction"), Some(100));
        assert_eq!(
            super::option("CREATE INDEX i ON t USING ivfflat (e)", "lists"),
            None
        );
    }
}
