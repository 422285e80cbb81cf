//! `dbarch rag ingest`: documents → chunks → embeddings → the chunk table.
//!
//! - **Idempotent.** A document whose bytes (and chunking options) hash as stored is skipped
//!   without being read further; a changed one is re-chunked, and only chunks whose text is
//!   not already embedded by the same model (looked up by content hash) are embedded again.
//!   Documents that are no longer under the ingested paths are deleted (their chunks cascade),
//!   unless `keep_missing`.
//! - **Atomic per batch.** Each batch of documents is written in one transaction: its
//!   `documents` rows (with the new hash), the removal of its old chunks and one binary COPY of
//!   its new ones. An interrupted run leaves whole documents, old or new, and the next run
//!   resumes where it stopped (the old hash makes the unfinished documents look changed).
//! - **A model change is not made in place.** When the stored chunks come from another model
//!   (name, version or dimensions), every chunk is embedded again into a new nullable column,
//!   batch by batch (resumable), its ANN index is built `CONCURRENTLY`, and one short
//!   transaction swaps the columns. Queries keep using the old embeddings until the swap.

use crate::chunk::{ChunkOptions, chunks};
use crate::extract::{Kind, extract};
use crate::{Error, Result, Store};
use dbarch_embed::{Embedder, ModelInfo};
use dbarch_pg::tokio_postgres::Client;
use dbarch_pg::tokio_postgres::types::{ToSql, Type};
use dbarch_vector::copy::CopyWriter;
use dbarch_vector::design::{self, DesignInput};
use dbarch_vector::load::{Target, param, resolve};
use dbarch_vector::{Metric, ident};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub chunk: ChunkOptions,
    /// Keep documents that are no longer under the ingested paths.
    pub keep_missing: bool,
    /// Chunks per embedding call.
    pub embed_batch: usize,
    /// Chunks per write transaction (whole documents: a batch may hold more).
    pub write_batch: usize,
    pub progress: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            chunk: ChunkOptions::default(),
            keep_missing: false,
            embed_batch: 32,
            write_batch: 512,
            progress: true,
        }
    }
}

/// A file given to the pipeline and why it was not ingested.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub model: Option<ModelInfo>,
    /// The tables were created by this run.
    pub created_tables: bool,
    /// Chunks embedded again because the stored ones came from another model.
    pub reembedded: usize,
    pub documents_new: usize,
    pub documents_changed: usize,
    pub documents_unchanged: usize,
    pub documents_deleted: u64,
    pub chunks_written: usize,
    pub chunks_embedded: usize,
    pub chunks_reused: usize,
    /// Files of other types.
    pub skipped: Vec<Skipped>,
    /// Documents that could not be read (not UTF-8, unreadable).
    pub failed: Vec<Skipped>,
    pub seconds: f64,
}

/// A document to ingest: its id (the path relative to the ingest argument) and its file.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: String,
    pub path: PathBuf,
    pub kind: Kind,
}

/// The documents under `paths` (files, or directories walked in name order; hidden entries
/// left out), and the files of other types.
pub fn collect(paths: &[PathBuf]) -> Result<(Vec<Source>, Vec<Skipped>)> {
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for root in paths {
        let meta = std::fs::metadata(root)
            .map_err(|e| Error::input(format!("{}: {e}", root.display())))?;
        let mut files = Vec::new();
        if meta.is_dir() {
            walk(root, &mut files)?;
        } else {
            files.push(root.clone());
        }
        for file in files {
            let id = if meta.is_dir() {
                file.strip_prefix(root)
                    .unwrap_or(&file)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            } else {
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            let Some(kind) = Kind::of(&file) else {
                let ext = file
                    .extension()
                    .map(|e| format!(".{}", e.to_string_lossy()))
                    .unwrap_or_else(|| "a file without an extension".into());
                skipped.push(Skipped {
                    path: file.display().to_string(),
                    reason: format!(
                        "{ext} is not a document type the pipeline reads (.txt, .md, .html)"
                    ),
                });
                continue;
            };
            if let Some(other) = seen.insert(id.clone(), file.clone()) {
                return Err(Error::input(format!(
                    "{} and {} would both be document {id:?}: ingest them in separate runs or from one common directory",
                    other.display(),
                    file.display()
                )));
            }
            sources.push(Source {
                id,
                path: file,
                kind,
            });
        }
    }
    Ok((sources, skipped))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let read = |e: std::io::Error| Error::input(format!("{}: {e}", dir.display()));
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read)?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(read)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::metadata(&path)
            .map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else if meta.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Bumped when extraction or chunking changes what the same bytes give.
const PIPELINE_VERSION: &str = "dbarch-rag-1";

fn document_hash(bytes: &[u8], opts: &ChunkOptions, model: &ModelInfo) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(PIPELINE_VERSION);
    h.update(format!(
        "\0{}\0{}\0{}\0{}\0{}\0",
        opts.tokens, opts.overlap, model.name, model.version, model.dims
    ));
    h.update(bytes);
    h.finalize().to_vec()
}

fn text_hash(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

struct Pending {
    source: String,
    title: Option<String>,
    hash: Vec<u8>,
    chunks: Vec<String>,
    new: bool,
}

/// Ingests the documents under `paths`.
pub async fn ingest(
    client: &mut Client,
    store: &Store,
    embedder: Arc<dyn Embedder>,
    paths: &[PathBuf],
    opts: &IngestOptions,
) -> Result<IngestReport> {
    let start = Instant::now();
    opts.chunk.check(embedder.as_ref())?;
    let (sources, skipped) = collect(paths)?;
    let mut report = IngestReport {
        model: Some(embedder.info().clone()),
        skipped,
        ..IngestReport::default()
    };
    report.created_tables = ensure_store(client, store, embedder.info()).await?;
    report.reembedded = switch_model(client, store, embedder.clone(), opts).await?;
    let target = resolve(&*client, &store.chunks_table(), &store.column).await?;

    let docs = store.documents_table();
    let stored: HashMap<String, Vec<u8>> = client
        .query(&format!("SELECT source, content_hash FROM {docs}"), &[])
        .await
        .map_err(Error::db(format!("reading {docs}")))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();

    let pb = dbarch_vector::load::bar_for(opts.progress, sources.len() as u64, "ingesting");
    let mut batch: Vec<Pending> = Vec::new();
    let mut batch_chunks = 0;
    for source in &sources {
        pb.inc(1);
        let bytes = match std::fs::read(&source.path) {
            Ok(b) => b,
            Err(e) => {
                report.failed.push(Skipped {
                    path: source.path.display().to_string(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let hash = document_hash(&bytes, &opts.chunk, embedder.info());
        let old = stored.get(&source.id);
        if old == Some(&hash) {
            report.documents_unchanged += 1;
            continue;
        }
        let doc = match extract(&source.path.display().to_string(), source.kind, &bytes) {
            Ok(d) => d,
            Err(e) => {
                report.failed.push(Skipped {
                    path: source.path.display().to_string(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let parts = chunks(&doc, embedder.as_ref(), opts.chunk)?;
        batch_chunks += parts.len();
        batch.push(Pending {
            source: source.id.clone(),
            title: doc.title,
            hash,
            chunks: parts,
            new: old.is_none(),
        });
        if batch_chunks >= opts.write_batch {
            write_batch(
                client,
                store,
                &target,
                &embedder,
                opts,
                &mut batch,
                &mut report,
            )
            .await?;
            batch_chunks = 0;
        }
    }
    write_batch(
        client,
        store,
        &target,
        &embedder,
        opts,
        &mut batch,
        &mut report,
    )
    .await?;
    pb.finish_and_clear();

    if !opts.keep_missing {
        let present: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
        report.documents_deleted = client
            .execute(
                &format!("DELETE FROM {docs} WHERE source <> ALL($1::text[])"),
                &[&present],
            )
            .await
            .map_err(Error::db(format!("deleting removed documents from {docs}")))?;
    }
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// Embeds what the batch needs and writes it in one transaction.
async fn write_batch(
    client: &mut Client,
    store: &Store,
    target: &Target,
    embedder: &Arc<dyn Embedder>,
    opts: &IngestOptions,
    batch: &mut Vec<Pending>,
    report: &mut IngestReport,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let info = embedder.info();
    let chunks_table = store.chunks_table();
    let col = ident(&store.column);
    // Embeddings already made by this model for the same texts are reused.
    let hashes: Vec<Vec<u8>> = batch
        .iter()
        .flat_map(|d| d.chunks.iter().map(|c| text_hash(c)))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut vectors: HashMap<Vec<u8>, Vec<f32>> = client
        .query(
            &format!(
                "SELECT DISTINCT ON (content_hash) content_hash, {col}::real[] FROM {chunks_table} \
                 WHERE content_hash = ANY($1) AND model_name = $2 AND model_version = $3"
            ),
            &[&hashes, &info.name, &info.version],
        )
        .await
        .map_err(Error::db(format!(
            "looking up embeddings in {chunks_table}"
        )))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let reused_before = vectors.len();
    let mut todo: Vec<(Vec<u8>, String)> = Vec::new();
    let mut queued = HashSet::new();
    for d in batch.iter() {
        for c in &d.chunks {
            let h = text_hash(c);
            if !vectors.contains_key(&h) && queued.insert(h.clone()) {
                todo.push((h, c.clone()));
            }
        }
    }
    for part in todo.chunks(opts.embed_batch.max(1)) {
        let texts: Vec<String> = part.iter().map(|(_, t)| t.clone()).collect();
        let out = embed(embedder.clone(), texts).await?;
        for ((h, _), v) in part.iter().zip(out) {
            vectors.insert(h.clone(), v);
        }
    }
    report.chunks_embedded += todo.len();
    report.chunks_reused += reused_before;

    let docs = store.documents_table();
    let tx = client
        .transaction()
        .await
        .map_err(Error::db("starting an ingest transaction"))?;
    let sources: Vec<&str> = batch.iter().map(|d| d.source.as_str()).collect();
    let titles: Vec<Option<&str>> = batch.iter().map(|d| d.title.as_deref()).collect();
    let doc_hashes: Vec<&[u8]> = batch.iter().map(|d| d.hash.as_slice()).collect();
    let ids: HashMap<String, i64> = tx
        .query(
            &format!(
                "INSERT INTO {docs} (source, title, content_hash) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) \
                 ON CONFLICT (source) DO UPDATE SET title = EXCLUDED.title, content_hash = EXCLUDED.content_hash \
                 RETURNING source, id"
            ),
            &[&sources, &titles, &doc_hashes],
        )
        .await
        .map_err(Error::db(format!("writing {docs}")))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let id_list: Vec<i64> = ids.values().copied().collect();
    tx.execute(
        &format!("DELETE FROM {chunks_table} WHERE document_id = ANY($1)"),
        &[&id_list],
    )
    .await
    .map_err(Error::db(format!("replacing chunks in {chunks_table}")))?;
    let vtype: Type = tx
        .prepare(&format!("SELECT {col} FROM {chunks_table} LIMIT 0"))
        .await
        .map_err(Error::db(format!(
            "reading the type of {chunks_table}.{col}"
        )))?
        .columns()[0]
        .type_()
        .clone();
    let sink = tx
        .copy_in(&format!(
            "COPY {chunks_table} (document_id, chunk_index, content, content_hash, model_name, model_version, {col}) \
             FROM STDIN (FORMAT binary)"
        ))
        .await
        .map_err(Error::db(format!("starting COPY into {chunks_table}")))?;
    let mut writer = CopyWriter::new(
        sink,
        vec![
            Type::INT8,
            Type::INT4,
            Type::TEXT,
            Type::BYTEA,
            Type::TEXT,
            Type::TEXT,
            vtype,
        ],
    );
    let mut row = 0;
    for d in batch.iter() {
        let id = ids[&d.source];
        for (i, c) in d.chunks.iter().enumerate() {
            let h = text_hash(c);
            let v = param(target.storage, &vectors[&h]);
            let index = i as i32;
            let values: [&(dyn ToSql + Sync); 7] =
                [&id, &index, c, &h, &info.name, &info.version, v.as_ref()];
            writer
                .write(&values, row)
                .await?
                .map_err(Error::db(format!("COPY into {chunks_table}")))?;
            row += 1;
        }
    }
    writer
        .finish()
        .await
        .map_err(Error::db(format!("COPY into {chunks_table}")))?;
    tx.commit()
        .await
        .map_err(Error::db("committing an ingest batch"))?;
    report.chunks_written += row;
    for d in batch.iter() {
        if d.new {
            report.documents_new += 1;
        } else {
            report.documents_changed += 1;
        }
    }
    batch.clear();
    Ok(())
}

/// Runs the embedder on a blocking thread, and checks what it returns.
async fn embed(embedder: Arc<dyn Embedder>, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
    let n = texts.len();
    let dims = embedder.info().dims;
    let out = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        embedder.embed(&refs)
    })
    .await
    .map_err(|e| Error::input(format!("the embedder stopped: {e}")))??;
    if out.len() != n {
        return Err(Error::Embed(dbarch_embed::Error::Embed(format!(
            "the embedder returned {} vectors for {n} texts",
            out.len()
        ))));
    }
    for v in &out {
        if v.len() != dims || v.iter().any(|x| !x.is_finite()) {
            return Err(Error::Embed(dbarch_embed::Error::Embed(format!(
                "the embedder returned a vector of {} values (expected {dims} finite values)",
                v.len()
            ))));
        }
    }
    Ok(out)
}

fn design_input(store: &Store, model: &ModelInfo, column: &str) -> DesignInput {
    DesignInput {
        dims: model.dims as u32,
        rows: 10_000,
        model: Some(model.name.clone()),
        model_version: Some(model.version.clone()),
        metric: Metric::Cosine,
        normalized: model.normalized,
        schema: store.schema.clone(),
        table: store.chunks.clone(),
        documents_table: store.documents.clone(),
        column: column.to_owned(),
        ..DesignInput::default()
    }
}

/// Creates the documents and chunk tables of the storage design when neither exists; returns
/// whether it did.
pub async fn ensure_store(client: &mut Client, store: &Store, model: &ModelInfo) -> Result<bool> {
    let docs = store.documents_table();
    let chunks = store.chunks_table();
    let row = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL",
            &[&docs, &chunks],
        )
        .await
        .map_err(Error::db("looking up the RAG tables"))?;
    let (has_docs, has_chunks): (bool, bool) = (row.get(0), row.get(1));
    match (has_docs, has_chunks) {
        (true, true) => return Ok(false),
        (false, false) => {}
        _ => {
            return Err(Error::input(format!(
                "{} exists but {} does not: the RAG tables are half there; drop the one that exists or create the other",
                if has_docs { &docs } else { &chunks },
                if has_docs { &chunks } else { &docs }
            )));
        }
    }
    let d = design::design(&design_input(store, model, &store.column))?;
    let tx = client
        .transaction()
        .await
        .map_err(Error::db("starting to create the RAG tables"))?;
    tx.batch_execute(&d.tables_up)
        .await
        .map_err(Error::db(format!("creating {docs} and {chunks}")))?;
    tx.commit()
        .await
        .map_err(Error::db("creating the RAG tables"))?;
    run_non_transactional(client, &d.index_up).await?;
    tracing::info!(
        "created {docs} and {chunks} for {} ({} dimensions)",
        model.name,
        model.dims
    );
    Ok(true)
}

/// Runs the statements of a `-- dbarch:no-transaction` migration one by one (a multi-statement
/// string would be one implicit transaction, where `CREATE INDEX CONCURRENTLY` is refused).
async fn run_non_transactional(client: &Client, sql: &str) -> Result<()> {
    for stmt in sql.split(";\n") {
        let body: String = stmt
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        if body.trim().is_empty() {
            continue;
        }
        client
            .batch_execute(&body)
            .await
            .map_err(Error::db(format!("running {}", body.trim())))?;
    }
    Ok(())
}

const NEXT_SUFFIX: &str = "_next";

/// When the stored embeddings come from another model than `embedder`'s, embeds every chunk
/// again into `<column>_next`, indexes it and swaps it in. Returns the chunks embedded.
async fn switch_model(
    client: &mut Client,
    store: &Store,
    embedder: Arc<dyn Embedder>,
    opts: &IngestOptions,
) -> Result<usize> {
    let info = embedder.info().clone();
    let chunks = store.chunks_table();
    let next = format!("{}{NEXT_SUFFIX}", store.column);
    let current = resolve(&*client, &chunks, &store.column).await?;
    let others: i64 = client
        .query_one(
            &format!(
                "SELECT count(*) FROM {chunks} WHERE model_name IS DISTINCT FROM $1 OR model_version IS DISTINCT FROM $2"
            ),
            &[&info.name, &info.version],
        )
        .await
        .map_err(Error::db(format!("reading the models of {chunks}")))?
        .get(0);
    let has_next: bool = client
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass($1) \
             AND attname = $2 AND attnum > 0 AND NOT attisdropped)",
            &[&chunks, &next],
        )
        .await
        .map_err(Error::db(format!("looking up {chunks}.{next}")))?
        .get(0);
    let same_dims = current.dims.is_none_or(|d| d as usize == info.dims);
    let next_q = ident(&next);
    // The column records the model it is being filled with: a switch interrupted and then
    // resumed with yet another model (or abandoned) starts over.
    let mark = format!("dbarch rag: {} {}", info.name, info.version);
    if has_next {
        let comment: Option<String> = client
            .query_one(
                "SELECT col_description(to_regclass($1),                    (SELECT attnum FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2)::int)",
                &[&chunks, &next],
            )
            .await
            .map_err(Error::db(format!("reading the comment of {chunks}.{next}")))?
            .get(0);
        if comment.as_deref() != Some(mark.as_str()) || (others == 0 && same_dims) {
            client
                .batch_execute(&format!("ALTER TABLE {chunks} DROP COLUMN {next_q}"))
                .await
                .map_err(Error::db(format!("dropping {chunks}.{next}")))?;
        }
    }
    if others == 0 && same_dims {
        return Ok(0);
    }
    tracing::info!(
        "{chunks} holds embeddings of another model: embedding every chunk again with {} into {next}",
        info.name
    );
    let d = design::design(&design_input(store, &info, &next))?;
    client
        .batch_execute(&format!(
            "ALTER TABLE {chunks} ADD COLUMN IF NOT EXISTS {next_q} {}; COMMENT ON COLUMN {chunks}.{next_q} IS {}",
            d.plan.column_type,
            design::literal(&mark)
        ))
        .await
        .map_err(Error::db(format!("adding {chunks}.{next}")))?;
    let todo: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {chunks} WHERE {next_q} IS NULL"),
            &[],
        )
        .await
        .map_err(Error::db(format!("counting the chunks of {chunks}")))?
        .get(0);
    let pb = dbarch_vector::load::bar_for(opts.progress, todo as u64, "re-embedding");
    let mut done = 0usize;
    let batch = opts.write_batch.max(1) as i64;
    loop {
        let rows = client
            .query(
                &format!(
                    "SELECT id, content FROM {chunks} WHERE {next_q} IS NULL ORDER BY id LIMIT $1"
                ),
                &[&batch],
            )
            .await
            .map_err(Error::db(format!("reading the chunks of {chunks}")))?;
        if rows.is_empty() {
            break;
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let texts: Vec<String> = rows.iter().map(|r| r.get(1)).collect();
        let mut literals = Vec::with_capacity(texts.len());
        for part in texts.chunks(opts.embed_batch.max(1)) {
            for v in embed(embedder.clone(), part.to_vec()).await? {
                literals.push(vector_literal(&v));
            }
        }
        // Each batch commits on its own: an interrupted switch resumes at the NULLs.
        client
            .execute(
                &format!(
                    "UPDATE {chunks} c SET {next_q} = u.e::{} FROM unnest($1::bigint[], $2::text[]) AS u(id, e) WHERE c.id = u.id",
                    d.plan.column_type
                ),
                &[&ids, &literals],
            )
            .await
            .map_err(Error::db(format!("writing {chunks}.{next}")))?;
        done += ids.len();
        pb.set_position(done as u64);
    }
    pb.finish_and_clear();
    // A build interrupted earlier leaves an invalid index behind.
    let index_next = format!("{}_{}_idx", store.chunks, next);
    client
        .batch_execute(&format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}",
            dbarch_vector::qualified(&store.schema, &index_next)
        ))
        .await
        .map_err(Error::db(format!("dropping {index_next}")))?;
    run_non_transactional(client, &d.index_up).await?;
    let index_final = format!("{}_{}_idx", store.chunks, store.column);
    let col = ident(&store.column);
    let tx = client
        .transaction()
        .await
        .map_err(Error::db("starting the column swap"))?;
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '10s';
         ALTER TABLE {chunks} DROP COLUMN {col};
         ALTER TABLE {chunks} RENAME COLUMN {next_q} TO {col};
         ALTER TABLE {chunks} ALTER COLUMN {col} SET NOT NULL;
         ALTER INDEX {} RENAME TO {};
         ALTER TABLE {chunks} ALTER COLUMN model_name SET DEFAULT {}, ALTER COLUMN model_version SET DEFAULT {};",
        dbarch_vector::qualified(&store.schema, &index_next),
        ident(&index_final),
        design::literal(&info.name),
        design::literal(&info.version),
    ))
    .await
    .map_err(Error::db(format!("swapping {chunks}.{next} in")))?;
    tx.execute(
        &format!("UPDATE {chunks} SET model_name = $1, model_version = $2"),
        &[&info.name, &info.version],
    )
    .await
    .map_err(Error::db(format!("recording the model in {chunks}")))?;
    tx.commit()
        .await
        .map_err(Error::db("committing the column swap"))?;
    Ok(done)
}

fn vector_literal(v: &[f32]) -> String {
    let mut s = String::with_capacity(v.len() * 10 + 2);
    s.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&x.to_string());
    }
    s.push(']');
    s
}
