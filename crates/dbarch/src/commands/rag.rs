//! `dbarch rag`: ingest documents into the designed chunk table, query it, evaluate the
//! retrieval. The work is `dbarch_rag`'s; this module parses the flags, connects and prints.

use crate::cli::{DbArgs, FindingsFormat, GlobalArgs};
use crate::commands::embedder::EmbedderArgs;
use crate::exit::usage;
use crate::output::emit;
use crate::target;
use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use dbarch_rag::Store;
use dbarch_rag::chunk::ChunkOptions;
use dbarch_rag::ingest::IngestOptions;
use dbarch_vector::search::Mode;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RagCommand {
    /// Extract (.txt, .md, .html), chunk in the model's tokens, embed and COPY documents into
    /// the chunk table (created first through `vector design` when missing). Idempotent:
    /// unchanged documents are skipped, unchanged chunks not re-embedded, documents no longer
    /// under PATH deleted. A document's id is its path relative to PATH.
    Ingest(IngestArgs),
    /// The chunks that best answer a question: [{document, chunk_index, score, text}].
    Query(QueryArgs),
    /// recall@k, MRR@10 and nDCG@10 of dense, full-text and hybrid retrieval against BEIR
    /// relevance judgements.
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The schema of the documents and chunks tables.
    #[arg(long, default_value = "public")]
    pub schema: String,
}

impl StoreArgs {
    fn store(&self) -> Store {
        Store {
            schema: self.schema.clone(),
            ..Store::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub embedder: EmbedderArgs,
    /// Files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The largest chunk, in the embedding model's tokens.
    #[arg(long, default_value_t = ChunkOptions::default().tokens)]
    pub chunk_tokens: usize,
    /// Tokens a chunk may repeat from the one before.
    #[arg(long, default_value_t = ChunkOptions::default().overlap)]
    pub overlap: usize,
    /// Keep the documents that are no longer under PATH.
    #[arg(long)]
    pub keep_missing: bool,
    #[arg(long, value_enum, default_value_t = FindingsFormat::Text)]
    pub format: FindingsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Dense,
    Text,
    Hybrid,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Dense => Mode::Dense,
            ModeArg::Text => Mode::FullText,
            ModeArg::Hybrid => Mode::Hybrid,
        }
    }
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub embedder: EmbedderArgs,
    pub question: String,
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Full-text and vector results fused by reciprocal rank (same as --mode hybrid).
    #[arg(long, conflicts_with = "mode")]
    pub hybrid: bool,
    #[arg(long, value_enum, default_value_t = ModeArg::Dense)]
    pub mode: ModeArg,
    /// A SQL condition on the chunk table's columns.
    #[arg(long, value_name = "SQL")]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub embedder: EmbedderArgs,
    /// BEIR qrels (`query-id corpus-id score`, tab-separated), corpus ids being document ids.
    #[arg(long, value_name = "FILE")]
    pub qrels: PathBuf,
    /// BEIR queries (`{"_id", "text"}` per line); default: queries.jsonl beside the qrels'
    /// directory, as BEIR lays a dataset out.
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,
    /// k of recall@k.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// The retrievals to evaluate (default: all three).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub mode: Vec<ModeArg>,
    #[arg(long, value_enum, default_value_t = FindingsFormat::Text)]
    pub format: FindingsFormat,
}

pub async fn run(global: &GlobalArgs, cmd: RagCommand) -> Result<u8> {
    match cmd {
        RagCommand::Ingest(args) => ingest_cmd(global, args).await,
        RagCommand::Query(args) => query_cmd(global, args).await,
        RagCommand::Eval(args) => eval_cmd(global, args).await,
    }
}

fn map_err(e: dbarch_rag::Error) -> anyhow::Error {
    if e.is_input() {
        usage(e.to_string())
    } else {
        e.into()
    }
}

/// The embedder, unless only full-text retrieval runs (it needs no model).
fn embedder_for(
    args: &EmbedderArgs,
    modes: &[Mode],
) -> Result<Option<std::sync::Arc<dyn dbarch_embed::Embedder>>> {
    if modes.iter().all(|m| *m == Mode::FullText) {
        Ok(None)
    } else {
        args.build().map(Some)
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

async fn ingest_cmd(global: &GlobalArgs, args: IngestArgs) -> Result<u8> {
    let embedder = args.embedder.build()?;
    let opts = IngestOptions {
        chunk: ChunkOptions {
            tokens: args.chunk_tokens,
            overlap: args.overlap,
        },
        keep_missing: args.keep_missing,
        progress: !global.quiet,
        ..IngestOptions::default()
    };
    opts.chunk.check(embedder.as_ref()).map_err(map_err)?;
    let mut client = target::connect(global, &args.db, true).await?;
    let store = args.store.store();
    let r = dbarch_rag::ingest::ingest(&mut client, &store, embedder, &args.paths, &opts)
        .await
        .map_err(map_err)?;
    let out = match args.format {
        FindingsFormat::Json => json(&r)?,
        FindingsFormat::Text => {
            let mut s = String::new();
            if r.created_tables {
                s.push_str(&format!(
                    "Created {} and {} (vector storage design for {} dimensions)\n",
                    store.documents_table(),
                    store.chunks_table(),
                    r.model.as_ref().map_or(0, |m| m.dims)
                ));
            }
            if r.reembedded > 0 {
                s.push_str(&format!(
                    "Model changed: {} chunks embedded again into a new column, indexed and swapped in\n",
                    r.reembedded
                ));
            }
            s.push_str(&format!(
                "Documents: {} new, {} changed, {} unchanged, {} deleted, {} skipped, {} failed\n\
                 Chunks: {} written ({} embedded, {} reused by content hash) with {} in {:.2} s\n",
                r.documents_new,
                r.documents_changed,
                r.documents_unchanged,
                r.documents_deleted,
                r.skipped.len(),
                r.failed.len(),
                r.chunks_written,
                r.chunks_embedded,
                r.chunks_reused,
                r.model.as_ref().map_or("?", |m| m.name.as_str()),
                r.seconds
            ));
            for f in &r.skipped {
                s.push_str(&format!("  skipped {}: {}\n", f.path, f.reason));
            }
            for f in &r.failed {
                s.push_str(&format!("  failed {}\n", f.reason));
            }
            s
        }
    };
    emit(&out, None)?;
    // Every other document is in; the failed ones need the user.
    Ok(if r.failed.is_empty() { 0 } else { 1 })
}

async fn query_cmd(global: &GlobalArgs, args: QueryArgs) -> Result<u8> {
    if args.k == 0 || args.k > 1000 {
        return Err(usage(format!("--k {}: between 1 and 1000", args.k)));
    }
    let mode: Mode = if args.hybrid {
        Mode::Hybrid
    } else {
        args.mode.into()
    };
    let embedder = embedder_for(&args.embedder, &[mode])?;
    let mut client = target::connect(global, &args.db, false).await?;
    let answers = dbarch_rag::query::query(
        &mut client,
        &args.store.store(),
        embedder,
        &args.question,
        mode,
        args.k,
        args.filter,
    )
    .await
    .map_err(map_err)?;
    emit(&json(&answers)?, None)?;
    Ok(0)
}

async fn eval_cmd(global: &GlobalArgs, args: EvalArgs) -> Result<u8> {
    if args.k == 0 || args.k > 1000 {
        return Err(usage(format!("--k {}: between 1 and 1000", args.k)));
    }
    let qrels = dbarch_rag::eval::read_qrels(&args.qrels).map_err(map_err)?;
    let queries_path = match &args.queries {
        Some(p) => p.clone(),
        None => args
            .qrels
            .parent()
            .and_then(|d| d.parent())
            .map(|d| d.join("queries.jsonl"))
            .ok_or_else(|| usage("--queries: give the queries file"))?,
    };
    let queries = dbarch_rag::eval::read_queries(&queries_path).map_err(map_err)?;
    let modes: Vec<Mode> = if args.mode.is_empty() {
        vec![Mode::Dense, Mode::FullText, Mode::Hybrid]
    } else {
        args.mode.iter().map(|m| (*m).into()).collect()
    };
    let embedder = embedder_for(&args.embedder, &modes)?;
    let mut client = target::connect(global, &args.db, false).await?;
    let report = dbarch_rag::eval::eval(
        &mut client,
        &args.store.store(),
        embedder,
        &queries,
        &qrels,
        &modes,
        args.k,
    )
    .await
    .map_err(map_err)?;
    let out = match args.format {
        FindingsFormat::Json => json(&report)?,
        FindingsFormat::Text => dbarch_rag::eval::render_text(&report),
    };
    emit(&out, None)?;
    Ok(0)
}
