//! `dbarch vector`: storage design (`design`, `setup`), bulk loading (`load`) and index
//! tuning to a recall target (`tune`). The work is `dbarch_vector`'s; this module parses the
//! flags, connects, writes migrations and prints.

use crate::cli::{DbArgs, GlobalArgs, MigrateDirs};
use crate::exit::usage;
use crate::output::emit;
use crate::target;
use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use dbarch_vector::design::{self, DesignInput, FilterColumn, StorageChoice};
use dbarch_vector::{Metric, load, tune};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum VectorCommand {
    /// The storage design of an embedding store (documents and chunk tables, type, operator
    /// class, metadata and full-text indexes, HNSW index) with a size and memory estimate;
    /// --write-migration writes it as two migrations (tables; the index, concurrently).
    Design(DesignArgs),
    /// A vector column and its HNSW index on an existing table, as migrations.
    Setup(SetupArgs),
    /// Bulk-load embeddings (.npy, .fvecs, .jsonl, .csv) by binary COPY, in one transaction.
    Load(LoadArgs),
    /// Tune the column's ANN index to a recall target: exact ground truth, candidate HNSW and
    /// IVFFlat builds on a scratch copy, a sweep of ef_search/probes, measured recall, latency,
    /// QPS, build time and size; the cheapest configuration that meets the target.
    Tune(TuneArgs),
    /// The k rows nearest to a vector; --filter (SQL) keeps LIMIT full through pgvector 0.8's
    /// iterative index scans (relaxed order, re-sorted exactly). JSON on stdout.
    Search(SearchArgs),
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The table ([schema.]name).
    pub table: String,
    /// A vector "[0.1, 0.2, ...]", or a text (embedded with --embedder; with --hybrid also
    /// searched in the table's tsvector column).
    pub query: String,
    #[arg(long, value_name = "NAME", default_value = "embedding")]
    pub column: String,
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// A SQL condition on the table's columns ("lang = 'en' AND published > '2024-01-01'").
    #[arg(long, value_name = "SQL")]
    pub filter: Option<String>,
    /// The distance (default: that of an ANN index on the column, else cosine).
    #[arg(long, value_enum)]
    pub metric: Option<MetricArg>,
    /// Fuse full-text (ts_rank_cd over the tsvector column) and vector results by reciprocal
    /// rank, in one SQL statement.
    #[arg(long)]
    pub hybrid: bool,
    /// The tsvector column for --hybrid (default: the table's only one).
    #[arg(long, value_name = "NAME")]
    pub text_column: Option<String>,
    /// The text search configuration (default: the tsvector column's, else english).
    #[arg(long, value_name = "CONFIG")]
    pub ts_config: Option<String>,
    #[command(flatten)]
    pub embedder: crate::commands::embedder::EmbedderArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricArg {
    Cosine,
    L2,
    Ip,
}

impl From<MetricArg> for Metric {
    fn from(m: MetricArg) -> Metric {
        match m {
            MetricArg::Cosine => Metric::Cosine,
            MetricArg::L2 => Metric::L2,
            MetricArg::Ip => Metric::Ip,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageArg {
    /// vector up to 2,000 dimensions, halfvec up to 4,000, binary quantization above.
    Auto,
    Vector,
    /// Half the bytes of vector.
    Halfvec,
    /// A bit index over binary_quantize() with an exact re-rank.
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VectorFormat {
    Text,
    Json,
    /// The migrations' SQL only.
    Sql,
}

/// The embedding and index flags `design` and `setup` share.
#[derive(Debug, Args, Clone)]
pub struct EmbeddingArgs {
    /// Dimensions of the embeddings (known models imply them).
    #[arg(long, value_name = "D")]
    pub dims: Option<u32>,
    /// The embedding model (all-MiniLM-L6-v2, text-embedding-3-small, ...): stored per chunk;
    /// known models imply --dims and --normalized.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// The model's version, stored per chunk.
    #[arg(long, value_name = "V")]
    pub model_version: Option<String>,
    #[arg(long, value_enum, default_value_t = MetricArg::Cosine)]
    pub metric: MetricArg,
    /// The embeddings have unit length (cosine then ranks like inner product, cheaper).
    #[arg(long)]
    pub normalized: bool,
    #[arg(long, value_enum, default_value_t = StorageArg::Auto)]
    pub storage: StorageArg,
    /// HNSW m.
    #[arg(long, default_value_t = 16)]
    pub m: u32,
    /// HNSW ef_construction.
    #[arg(long, default_value_t = 64)]
    pub ef_construction: u32,
    #[arg(long, short, value_enum, default_value_t = VectorFormat::Text)]
    pub format: VectorFormat,
    /// Write the design as the next migrations.
    #[arg(long)]
    pub write_migration: bool,
    /// The migrations (default: `migrations_dir` of dbarch.toml, else `migrations/`).
    #[arg(long, value_name = "DIR")]
    pub migrations_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DesignArgs {
    #[command(flatten)]
    pub embedding: EmbeddingArgs,
    /// Expected number of chunks (for the estimate).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub rows: u64,
    /// Metadata columns searches filter on: COL:TYPE,... (lang:text, tags:text[], meta:jsonb).
    #[arg(long, value_name = "COL:TYPE,...", value_delimiter = ',')]
    pub filter: Vec<String>,
    /// The chunk table (holding the embeddings).
    #[arg(long, value_name = "NAME", default_value = "chunks")]
    pub table: String,
    #[arg(long, value_name = "NAME", default_value = "documents")]
    pub documents_table: String,
    #[arg(long, value_name = "NAME", default_value = "public")]
    pub schema: String,
    #[arg(long, value_name = "NAME", default_value = "embedding")]
    pub column: String,
    /// Average bytes of a chunk's text (for the estimate).
    #[arg(long, value_name = "BYTES", default_value_t = 1000)]
    pub avg_chunk_bytes: u64,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The table ([schema.]name).
    pub table: String,
    #[arg(long, value_name = "NAME", default_value = "embedding")]
    pub column: String,
    #[command(flatten)]
    pub embedding: EmbeddingArgs,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The table ([schema.]name); its other columns need defaults unless the file fills them.
    pub table: String,
    #[arg(long, value_name = "NAME", default_value = "embedding")]
    pub column: String,
    /// .npy (2-D float32/float64), .fvecs, .jsonl ({"embedding": [...], ...}), .csv.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Drop the table's HNSW/IVFFlat indexes, load, and build them again (same transaction).
    #[arg(long)]
    pub rebuild_indexes: bool,
    #[arg(long, value_enum, default_value_t = crate::cli::FindingsFormat::Text)]
    pub format: crate::cli::FindingsFormat,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// TABLE.COLUMN ([schema.]table.column).
    pub target: String,
    /// The recall@k target.
    #[arg(long, default_value_t = 0.95)]
    pub recall: f64,
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// The distance (default: that of an existing ANN index on the column, else cosine).
    #[arg(long, value_enum)]
    pub metric: Option<MetricArg>,
    /// Query vectors (.npy, .fvecs, .jsonl, .csv): half tune, half are held out.
    #[arg(long, value_name = "FILE", conflicts_with = "sample")]
    pub queries: Option<PathBuf>,
    /// Sample this many rows of the table as queries (half tune, half are held out).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub sample: usize,
    /// Seed of the sample.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Tune filtered queries too: a boolean SQL expression over the table's columns (e.g.
    /// `category = 3`). Measures under-return (fewer rows than LIMIT) and picks iterative
    /// scans, a partial index or exact search, whichever returns full LIMIT fastest.
    #[arg(long, value_name = "SQL")]
    pub filter: Option<String>,
    /// The most time all candidate builds may take together (90s, 10m, 1h): builds estimated
    /// not to fit are skipped, a build that overruns is cancelled.
    #[arg(long, value_name = "DURATION")]
    pub budget_build: Option<String>,
    /// Build the chosen index concurrently and ALTER DATABASE ... SET its search settings.
    #[arg(long)]
    pub apply: bool,
    /// Write the chosen index as the next migration.
    #[arg(long)]
    pub write_migration: bool,
    #[arg(long, value_name = "DIR")]
    pub migrations_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = crate::cli::FindingsFormat::Text)]
    pub format: crate::cli::FindingsFormat,
}

pub async fn run(global: &GlobalArgs, cmd: VectorCommand) -> Result<u8> {
    match cmd {
        VectorCommand::Design(args) => design_cmd(global, args),
        VectorCommand::Setup(args) => setup_cmd(global, args).await,
        VectorCommand::Load(args) => load_cmd(global, args).await,
        VectorCommand::Tune(args) => tune_cmd(global, args).await,
        VectorCommand::Search(args) => search_cmd(global, args).await,
    }
}

fn map_err(e: dbarch_vector::Error) -> anyhow::Error {
    if e.is_input() {
        usage(e.to_string())
    } else {
        e.into()
    }
}

/// Fills `input` from the shared flags (known models imply dims and normalization).
fn embedding_input(e: &EmbeddingArgs, mut input: DesignInput) -> Result<DesignInput> {
    let known = e.model.as_deref().and_then(design::known_model);
    input.dims = match (e.dims, known) {
        (Some(d), _) => d,
        (None, Some((d, _))) => d,
        (None, None) => {
            return Err(usage(match &e.model {
                Some(m) => format!("--dims is needed: the model {m} is not one dbarch knows"),
                None => "--dims (or a known --model) is needed".to_owned(),
            }));
        }
    };
    input.normalized = e.normalized || known.is_some_and(|(_, n)| n);
    input.model = e.model.clone();
    input.model_version = e.model_version.clone();
    input.metric = e.metric.into();
    input.storage = match e.storage {
        StorageArg::Auto => StorageChoice::Auto,
        StorageArg::Vector => StorageChoice::Vector,
        StorageArg::Halfvec => StorageChoice::Halfvec,
        StorageArg::Binary => StorageChoice::Binary,
    };
    if e.m < 2 || e.m > 100 {
        return Err(usage(format!("--m {}: pgvector accepts 2 to 100", e.m)));
    }
    if e.ef_construction < 2 * e.m || e.ef_construction > 1000 {
        return Err(usage(format!(
            "--ef-construction {}: pgvector accepts 2 * m ({}) to 1000",
            e.ef_construction,
            2 * e.m
        )));
    }
    input.m = e.m;
    input.ef_construction = e.ef_construction;
    Ok(input)
}

/// Writes the migrations in order (each gets the next version).
fn write_migrations(
    global: &GlobalArgs,
    dir: &Option<PathBuf>,
    migrations: &[(&str, &str, &str)],
) -> Result<()> {
    let dirs = MigrateDirs {
        schema_dir: None,
        migrations_dir: dir.clone(),
    };
    for (name, up, down) in migrations {
        let existing = super::migrate::load(&dirs)?;
        let (_, path) = super::migrate::write_migration(&dirs, &existing, name, up, down)?;
        if !global.quiet {
            eprintln!("dbarch: wrote the migration {}", path.display());
        }
    }
    Ok(())
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    let mut value = serde_json::to_value(v)?;
    if let Some(o) = value.as_object_mut() {
        o.insert("version".into(), 1.into());
    }
    let mut s = serde_json::to_string_pretty(&value)?;
    s.push('\n');
    Ok(s)
}

fn design_cmd(global: &GlobalArgs, args: DesignArgs) -> Result<u8> {
    let filters = args
        .filter
        .iter()
        .filter(|f| !f.trim().is_empty())
        .map(|f| FilterColumn::parse(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_err)?;
    let input = embedding_input(
        &args.embedding,
        DesignInput {
            rows: args.rows,
            filters,
            schema: args.schema.clone(),
            table: args.table.clone(),
            documents_table: args.documents_table.clone(),
            column: args.column.clone(),
            avg_chunk_bytes: args.avg_chunk_bytes,
            ..Default::default()
        },
    )?;
    let d = design::design(&input).map_err(map_err)?;
    let out = match args.embedding.format {
        VectorFormat::Text => design::render_text(&d),
        VectorFormat::Json => json(&d)?,
        VectorFormat::Sql => format!("{}\n{}", d.tables_up, d.index_up),
    };
    emit(&out, None)?;
    if args.embedding.write_migration {
        write_migrations(
            global,
            &args.embedding.migrations_dir,
            &[
                ("vector_storage", &d.tables_up, &d.tables_down),
                ("vector_storage_index", &d.index_up, &d.index_down),
            ],
        )?;
    }
    Ok(0)
}

async fn setup_cmd(global: &GlobalArgs, args: SetupArgs) -> Result<u8> {
    let client = target::connect(global, &args.db, false).await?;
    let row = client
        .query_opt(
            "SELECT n.nspname, c.relname, \
                    CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END, \
                    least(current_setting('max_parallel_workers')::int, \
                          current_setting('max_worker_processes')::int - 1) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid = to_regclass($1)",
            &[&args.table],
        )
        .await?
        .ok_or_else(|| usage(format!("no table {}", args.table)))?;
    let (schema, table): (String, String) = (row.get(0), row.get(1));
    let rows: i64 = match row.get::<_, Option<i64>>(2) {
        Some(r) => r,
        None => client
            .query_one(
                &format!(
                    "SELECT count(*) FROM {}",
                    dbarch_vector::qualified(&schema, &table)
                ),
                &[],
            )
            .await?
            .get(0),
    };
    let workers: i32 = row.get(3);
    let existing: Option<String> = client
        .query_opt(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped",
            &[&args.table, &args.column],
        )
        .await?
        .map(|r| r.get(0));
    let input = embedding_input(
        &args.embedding,
        DesignInput {
            rows: rows.max(0) as u64,
            schema,
            table,
            column: args.column.clone(),
            available_workers: workers.max(0) as u32,
            ..Default::default()
        },
    )?;
    let s = design::setup(&input, existing.as_deref()).map_err(map_err)?;
    let out = match args.embedding.format {
        VectorFormat::Text => {
            let e = &s.estimate;
            let mut t = format!(
                "Storage: {} — {}\nIndex: hnsw ({} {}), queries order by {}\n\nEstimate for {} rows: vectors {}, HNSW index {}, build graph {} → maintenance_work_mem = '{}', max_parallel_maintenance_workers = {}\n\n",
                s.plan.column_type,
                s.plan.reason,
                s.plan.index_key,
                s.plan.opclass,
                s.plan.operator,
                e.rows,
                dbarch_vector::estimate::human(e.vectors_total_bytes),
                dbarch_vector::estimate::human(e.ann_index_bytes),
                dbarch_vector::estimate::human(e.build_memory_bytes),
                e.maintenance_work_mem,
                e.max_parallel_maintenance_workers
            );
            if let Some((up, _)) = &s.column_up {
                t.push_str("-- Migration 1 (one transaction)\n");
                t.push_str(up);
                t.push('\n');
            }
            t.push_str("-- Index migration\n");
            t.push_str(&s.index_up);
            t.push_str("\n-- The search it serves\n");
            t.push_str(&s.query);
            t.push('\n');
            t
        }
        VectorFormat::Json => json(&s)?,
        VectorFormat::Sql => {
            let mut t = s
                .column_up
                .as_ref()
                .map(|(u, _)| u.clone())
                .unwrap_or_default();
            t.push_str(&s.index_up);
            t
        }
    };
    emit(&out, None)?;
    if args.embedding.write_migration {
        let name = format!("{}_{}", input.table, input.column);
        let mut list: Vec<(String, String, String)> = Vec::new();
        if let Some((up, down)) = &s.column_up {
            list.push((format!("add_{name}"), up.clone(), down.clone()));
        }
        list.push((
            format!("index_{name}"),
            s.index_up.clone(),
            s.index_down.clone(),
        ));
        let refs: Vec<(&str, &str, &str)> = list
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        write_migrations(global, &args.embedding.migrations_dir, &refs)?;
    }
    Ok(0)
}

async fn load_cmd(global: &GlobalArgs, args: LoadArgs) -> Result<u8> {
    // .npy and .fvecs are streamed: the COPY starts while the file is still being read.
    let path = args.from.clone();
    let column = args.column.clone();
    let (whole, stream) = if dbarch_vector::input::streamable(&path) {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::task::spawn_blocking(move || dbarch_vector::input::stream(&path, 8192, tx));
        (None, Some(rx))
    } else {
        let data = tokio::task::spawn_blocking(move || dbarch_vector::input::read(&path, &column))
            .await?
            .map_err(map_err)?;
        (Some(data), None)
    };
    let mut client = target::connect(global, &args.db, true).await?;
    let monitor = if args.rebuild_indexes {
        Some(target::connect(global, &args.db, false).await?)
    } else {
        None
    };
    let t = load::resolve(&client, &args.table, &args.column)
        .await
        .map_err(map_err)?;
    let opts = load::LoadOptions {
        rebuild_indexes: args.rebuild_indexes,
        progress: !global.quiet,
        ..Default::default()
    };
    let file = args.from.display().to_string();
    let source = match (&whole, stream) {
        (Some(data), _) => load::Source::Rows(data),
        (None, Some(rx)) => load::Source::Stream(rx),
        (None, None) => return Err(usage(format!("{file}: nothing to load"))),
    };
    let report = load::load(&mut client, monitor.as_ref(), &t, source, &file, &opts)
        .await
        .map_err(map_err)?;
    let out = match args.format {
        crate::cli::FindingsFormat::Json => json(&report)?,
        crate::cli::FindingsFormat::Text => {
            let mut s = format!(
                "Loaded {} rows of {} dimensions into {}.{} in {:.2} s ({:.0} rows/s)\n",
                report.rows,
                report.dims,
                report.table,
                report.column,
                report.copy_seconds,
                report.rows_per_second
            );
            for r in &report.rebuilt {
                s.push_str(&format!(
                    "Rebuilt {} in {:.2} s (maintenance_work_mem = '{}', max_parallel_maintenance_workers = {})\n",
                    r.name, r.seconds, r.maintenance_work_mem, r.max_parallel_maintenance_workers
                ));
            }
            s
        }
    };
    emit(&out, None)?;
    Ok(0)
}

async fn tune_cmd(global: &GlobalArgs, args: TuneArgs) -> Result<u8> {
    let (table, column) = args
        .target
        .rsplit_once('.')
        .ok_or_else(|| usage(format!("{}: expected TABLE.COLUMN", args.target)))?;
    let queries = match &args.queries {
        Some(p) => {
            let (p, c) = (p.clone(), column.to_owned());
            Some(
                tokio::task::spawn_blocking(move || dbarch_vector::input::read(&p, &c))
                    .await?
                    .map_err(map_err)?,
            )
        }
        None => None,
    };
    let budget_build = args
        .budget_build
        .as_deref()
        .map(tune::parse_duration)
        .transpose()
        .map_err(|e| usage(format!("--budget-build {e}")))?;
    if args.filter.as_deref().is_some_and(|f| f.trim().is_empty()) {
        return Err(usage("--filter: an empty filter"));
    }
    let client = target::connect(global, &args.db, true).await?;
    let opts = tune::TuneOptions {
        recall: args.recall,
        k: args.k,
        metric: args.metric.map(Into::into),
        queries,
        sample: args.sample,
        seed: args.seed,
        progress: !global.quiet,
        filter: args.filter.clone(),
        budget_build,
    };
    let tuning = tune::tune(&client, table, column, &opts)
        .await
        .map_err(map_err)?;
    let out = match args.format {
        crate::cli::FindingsFormat::Json => json(&tuning)?,
        crate::cli::FindingsFormat::Text => tune::render_text(&tuning),
    };
    emit(&out, None)?;
    let Some(m) = &tuning.migration else {
        return Ok(crate::exit::FINDINGS);
    };
    if args.write_migration {
        write_migrations(
            global,
            &args.migrations_dir,
            &[(&format!("tune_{}", m.index_name), &m.up, &m.down)],
        )?;
    }
    if args.apply {
        tune::apply(&client, &tuning).await.map_err(map_err)?;
        if !global.quiet {
            eprintln!(
                "dbarch: built {} and set the search settings for the database",
                m.index_name
            );
        }
    }
    Ok(0)
}

async fn search_cmd(global: &GlobalArgs, args: SearchArgs) -> Result<u8> {
    use dbarch_vector::search::{Mode, Query, SearchOptions, Searcher, looks_like_vector};
    if args.k == 0 || args.k > 10_000 {
        return Err(usage(format!("--k {}: between 1 and 10000", args.k)));
    }
    let is_vector = looks_like_vector(&args.query);
    if args.hybrid && is_vector {
        return Err(usage(
            "--hybrid needs a text query (it is searched in the tsvector column and embedded)",
        ));
    }
    let vector = if is_vector {
        dbarch_vector::search::parse_vector(&args.query).map_err(map_err)?
    } else {
        let embedder = args.embedder.build()?;
        let text = args.query.clone();
        tokio::task::spawn_blocking(move || embedder.embed(&[text.as_str()]))
            .await?
            .map_err(|e| {
                if e.is_input() {
                    usage(e.to_string())
                } else {
                    anyhow::Error::from(e)
                }
            })?
            .pop()
            .unwrap_or_default()
    };
    let mut client = target::connect(global, &args.db, false).await?;
    let opts = SearchOptions {
        mode: if args.hybrid {
            Mode::Hybrid
        } else {
            Mode::Dense
        },
        k: args.k,
        filter: args.filter.clone(),
        metric: args.metric.map(Into::into),
        text_column: args.text_column.clone(),
        ts_config: args.ts_config.clone(),
        candidates: None,
    };
    let searcher = Searcher::new(&client, &args.table, &args.column, &opts)
        .await
        .map_err(map_err)?;
    let text = (!is_vector).then_some(args.query.as_str());
    let hits = searcher
        .run(
            &mut client,
            Query {
                vector: Some(&vector),
                text,
            },
        )
        .await
        .map_err(map_err)?;
    let mut s = serde_json::to_string_pretty(&serde_json::json!({
        "version": 1,
        "table": args.table,
        "k": args.k,
        "mode": opts.mode,
        "results": hits,
    }))?;
    s.push('\n');
    emit(&s, None)?;
    Ok(0)
}
