//! Command-line definitions (clap). Only this binary knows clap.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "dbarch",
    version,
    about = "A database architect for PostgreSQL 15+ with pgvector",
    long_about = "A database architect for PostgreSQL 15+ with pgvector: schema docs and ERDs, \
                  the architect's review, and (coming) safe migrations, lint, query tuning and \
                  vector storage.\n\nDatabase commands connect to --url, else DATABASE_URL, \
                  else the libpq PG* variables (PGSERVICE, ~/.pgpass), else the project's dev \
                  server (started on demand).",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory of PostgreSQL binaries to use (else DBARCH_PG_BIN, the provisioned wheel,
    /// pg_config, PATH, /usr/lib/postgresql/*/bin).
    #[arg(long, global = true, value_name = "DIR", env = "DBARCH_PG_BIN")]
    pub pg_bin: Option<PathBuf>,
    /// More logging on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// How to reach the database.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// A postgres:// URL or a libpq conninfo string ("host=... dbname=...").
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// statement_timeout for every query dbarch sends, in seconds (0 disables it).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub statement_timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The project's embedded PostgreSQL 18 + pgvector server (in .dbarch/).
    #[command(subcommand)]
    Dev(DevCommand),
    /// Describe a database's schema: canonical SQL, JSON model, ERDs, Markdown docs.
    Inspect(InspectArgs),
    /// The architect's report on a database: summary, tables, ERD and every analysis.
    Review(ReviewArgs),
    /// Compare two schemas and print the migration from one to the other (exit 1 when they
    /// differ, like diff).
    Diff(DiffArgs),
    /// Lint migration files (PATH...: files, directories, `-` for stdin) for migration
    /// safety, or with no PATH a database's schema (schema design and pgvector rules);
    /// `dbarch rules` lists the rules.
    Lint(LintArgs),
    /// List the lint rules, or explain one (`dbarch rules S001`).
    Rules {
        /// A rule code or name.
        rule: Option<String>,
    },
    /// The bundled example application (an AI/RAG schema with realistic data).
    #[command(subcommand)]
    Example(ExampleCommand),
    /// EXPLAIN a query (rolled back, never committed): the plan tree with each node's own
    /// time, and findings ranked by the time they could save, each with a concrete fix.
    Explain(ExplainArgs),
    /// Versioned migrations: new, plan, up, down, status, verify, baseline, adopt, test.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Health checks of a live database (read-only): unused, duplicate and invalid indexes,
    /// unindexed foreign keys, bloat, sequences near overflow, wraparound, cache hits,
    /// sessions, locks, connections, pg_stat_statements, vector indexes.
    Doctor(DoctorArgs),
    /// Workload-level index advisor: candidates from the workload's predicates, joins and
    /// sorts, what-if costs (HypoPG on the target, else real builds on a shadow server with a
    /// sampled copy), greedy selection under a budget, measured P50/P95/P99 before and after,
    /// indexes to drop, N+1 patterns. Read-only unless --apply.
    Advise(AdviseArgs),
    /// pgvector storage: design (tables, type, indexes, size estimate), setup on an existing
    /// table, bulk load by binary COPY, index tuning to a recall target.
    #[command(subcommand)]
    Vector(crate::commands::vector::VectorCommand),
    /// An offline RAG pipeline: ingest documents (chunked in the embedding model's tokens,
    /// embedded locally or by an OpenAI-compatible endpoint), query them (dense, full-text,
    /// hybrid), evaluate the retrieval against relevance judgements.
    #[command(subcommand)]
    Rag(crate::commands::rag::RagCommand),
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Start the dev server (provisioning PostgreSQL on first use); does nothing if running.
    Start {
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Stop the dev server.
    Stop,
    /// Is the dev server running? Exit 0 when running, 1 when stopped.
    Status {
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Print the dev server's connection URL (one line).
    Url,
    /// Open psql on the dev server; arguments after -- go to psql.
    Psql {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Delete the dev server's data and start afresh (only this project's dev cluster).
    Reset {
        /// Don't ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    /// Canonical DDL in dependency order.
    Sql,
    /// The schema model.
    Json,
    /// Mermaid erDiagram (renders on GitHub).
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// SVG ERD, laid out by dbarch (no Graphviz needed).
    Svg,
    /// Per-table documentation with the ERD.
    Markdown,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, short, value_enum, default_value_t = InspectFormat::Sql)]
    pub format: InspectFormat,
    /// Only these schemas (repeatable).
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,
    /// Only tables and views matching this glob (`name` or `schema.name`; repeatable).
    #[arg(long = "table", value_name = "GLOB")]
    pub tables: Vec<String>,
    /// Leave out objects matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Add row estimates and sizes to the model (json).
    #[arg(long)]
    pub stats: bool,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewFormat {
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, short, value_enum, default_value_t = ReviewFormat::Markdown)]
    pub format: ReviewFormat,
    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only these schemas (repeatable).
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,
    /// Leave out objects matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// First (re)load the bundled example into the database (`dbarch example load --replace`).
    #[arg(long)]
    pub example: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// The migration script (online-safe forms, non-transactional steps marked).
    Sql,
    /// The changes and the planned steps with their locks, reverses and hazards.
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The current schema: a postgres:// URL or conninfo string, `dev` (the dev server),
    /// `empty`, a .sql file or a directory of .sql files (desired state, run on a shadow
    /// server), or `migrations:DIR` (its migrations replayed in order on a shadow server).
    #[arg(long, value_name = "SRC")]
    pub from: String,
    /// The wanted schema, in the same forms as --from.
    #[arg(long, value_name = "SRC")]
    pub to: String,
    #[arg(long, short, value_enum, default_value_t = DiffFormat::Sql)]
    pub format: DiffFormat,
    /// Allow changes that lose data (drop table or column, type narrowing, enum value removal).
    #[arg(long)]
    pub allow_destructive: bool,
    /// A confirmed rename: `table=new`, `schema.table=new` or `schema.table.column=new`
    /// (repeatable). Renames are never guessed.
    #[arg(long = "rename", value_name = "OLD=NEW")]
    pub renames: Vec<String>,
    /// Plain forms instead of online-safe ones (for empty or offline databases).
    #[arg(long)]
    pub offline: bool,
    /// statement_timeout for every query dbarch sends, in seconds (0 disables it).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub statement_timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum ExampleCommand {
    /// Create the example schema and fill it with generated data.
    Load {
        #[command(flatten)]
        db: DbArgs,
        /// Number of documents (users: a tenth; chunks: four per document; logs: two).
        #[arg(long, default_value_t = 1000)]
        rows: u64,
        /// Seed of the data generator.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Drop the example's tables first if they exist.
        #[arg(long)]
        replace: bool,
    },
    /// Print the example's schema SQL.
    Schema,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    Text,
    Json,
}

/// How findings are written: for people, for programs, for code scanning, for GitHub
/// Actions annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
    Github,
}

/// `--fail-on`: findings at or above this severity make the command exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    Error,
    Warning,
    Note,
    Never,
}

impl From<FailOnArg> for dbarch_report::FailOn {
    fn from(f: FailOnArg) -> Self {
        match f {
            FailOnArg::Error => dbarch_report::FailOn::Error,
            FailOnArg::Warning => dbarch_report::FailOn::Warning,
            FailOnArg::Note => dbarch_report::FailOn::Note,
            FailOnArg::Never => dbarch_report::FailOn::Never,
        }
    }
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Migration files or directories of them (`-` reads stdin). Without PATH (and without
    /// --schema-dir or --since) the schema of the database is linted.
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Lint a desired-state directory of .sql files (loaded into a throwaway server).
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    pub schema_dir: Option<std::path::PathBuf>,
    /// Only the .sql files changed since this git ref (in PATH..., default the current
    /// directory).
    #[arg(long, value_name = "GIT_REF")]
    pub since: Option<String>,
    /// Run each migration on a throwaway server holding the target's schema (or the replayed
    /// history) and report the locks, rewrites and scans each statement really takes.
    #[arg(long)]
    pub trace: bool,
    /// The configuration file (default: dbarch.toml in the current directory, if any).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Queries the schema serves (a .sql file): rules that depend on usage (a jsonb column
    /// filtered without a GIN index, a vector index of the wrong distance) use them.
    #[arg(long, value_name = "FILE")]
    pub workload: Option<std::path::PathBuf>,
    #[arg(long, short, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Exit 1 when a finding reaches this severity (default error, or dbarch.toml's
    /// [lint] fail_on).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOnArg>,
    /// Only these schemas (repeatable).
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,
    /// Leave out objects matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdviseMethod {
    /// HypoPG when the target has it installed, else a shadow server.
    Auto,
    /// Hypothetical indexes on the target (HypoPG; btree only).
    Hypopg,
    /// Real builds on a shadow server of the target's major holding a sampled copy.
    Shadow,
}

#[derive(Debug, Args)]
pub struct AdviseArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The workload: `pg_stat_statements` (its top statements by total time), a .sql file of
    /// statements (`-- name: NAME` comments, `$1` parameters allowed), or a statement log
    /// (`.log`/`.csv`, with session and transaction ids: N+1 detection only).
    #[arg(long, value_name = "pg_stat_statements|FILE.sql|LOG")]
    pub workload: Option<String>,
    /// (Re)load the bundled example and use its common queries as the workload.
    #[arg(long)]
    pub example: bool,
    /// Storage budget for the new indexes: 500MB, 2GB, 64kB, or bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub budget: Option<u64>,
    /// Where candidates are evaluated.
    #[arg(long, value_enum, default_value_t = AdviseMethod::Auto)]
    pub method: AdviseMethod,
    /// Measured runs per query, before and after (0: costs only).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub runs: usize,
    /// How many pg_stat_statements statements (by total time).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,
    /// Rows per table copied to the shadow server.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub sample_rows: i64,
    /// Flag queries whose P95 exceeds this (ms).
    #[arg(long, value_name = "MS", default_value_t = 50.0)]
    pub target_ms: f64,
    #[arg(long, short, value_enum, default_value_t = FindingsFormat::Text)]
    pub format: FindingsFormat,
    /// Write the advised indexes as the next migration (CREATE INDEX CONCURRENTLY, and its
    /// down) into the migrations directory.
    #[arg(long)]
    pub write_migration: bool,
    /// The migrations directory for --write-migration (default: dbarch.toml's, else
    /// migrations/).
    #[arg(long, value_name = "DIR")]
    pub migrations_dir: Option<PathBuf>,
    /// Build the advised indexes on the target (CONCURRENTLY) and measure after.
    #[arg(long)]
    pub apply: bool,
}

/// `500MB`, `2GB`, `64kB`, `1.5GB` or plain bytes (units of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let n: f64 = t[..split]
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size (500MB, 2GB, bytes)"))?;
    let mult: u64 = match t[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        u => return Err(format!("{s:?}: unknown unit {u:?} (kB, MB, GB, TB)")),
    };
    if n < 0.0 {
        return Err(format!("{s:?}: a size cannot be negative"));
    }
    Ok((n * mult as f64) as u64)
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, short, value_enum, default_value_t = FindingsFormat::Text)]
    pub format: FindingsFormat,
    /// Exit 1 when a finding reaches this severity.
    #[arg(long, value_enum, default_value_t = FailOnArg::Error)]
    pub fail_on: FailOnArg,
    /// Executions per common query (pg_stat_statements' top ones, parameters sampled from the
    /// data, each run rolled back) for their P50/P95/P99; 0 measures nothing.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub runs: usize,
    /// How many of pg_stat_statements' statements (by total time) are measured.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Flag common queries whose P95 exceeds this (ms).
    #[arg(long, value_name = "MS", default_value_t = 50.0)]
    pub target_ms: f64,
    /// Tables (and bloat) smaller than this are too small to matter for the unused-index and
    /// bloat checks (default 10MB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub min_table_size: Option<u64>,
    /// An index counts as unused only once its table has been read this many times (default
    /// 1000).
    #[arg(long, value_name = "N")]
    pub min_table_reads: Option<u64>,
    /// Report queries running longer than this many seconds (default 300).
    #[arg(long, value_name = "SECS")]
    pub long_running: Option<f64>,
    /// Report sessions idle in a transaction for longer than this many seconds (default 60).
    #[arg(long, value_name = "SECS")]
    pub idle_in_transaction: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The query, or @FILE to read it from a file.
    #[arg(value_name = "SQL|@FILE")]
    pub query: String,
    #[command(flatten)]
    pub db: DbArgs,
    /// Execute it (EXPLAIN ANALYZE, BUFFERS) inside a transaction that is rolled back.
    #[arg(long)]
    pub analyze: bool,
    /// Values for $1, $2, ... (NULL for SQL NULL). Without them, a generic plan.
    #[arg(long, value_name = "V", num_args = 1..)]
    pub params: Vec<String>,
    #[arg(long, short, value_enum, default_value_t = FindingsFormat::Text)]
    pub format: FindingsFormat,
    /// Exit 1 when a finding reaches this severity.
    #[arg(long, value_enum, default_value_t = FailOnArg::Error)]
    pub fail_on: FailOnArg,
}

#[derive(Debug, Args, Clone)]
pub struct MigrateDirs {
    /// The desired-state SQL (default: `schema_dir` of dbarch.toml, else `schema/`).
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    /// The migrations (default: `migrations_dir` of dbarch.toml, else `migrations/`).
    #[arg(long, value_name = "DIR")]
    pub migrations_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct MigrateRun {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub dirs: MigrateDirs,
    /// lock_timeout of the migration session, in seconds: a migration that waits longer for a
    /// lock gives up (so traffic never queues behind it) and is tried again later.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub lock_timeout: f64,
    /// How many times a migration that hit lock_timeout is tried again (jittered backoff).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub lock_retries: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateStatusFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Write an empty migration `<UTC yyyymmddhhmmss>_<name>.sql` and its `.down.sql`.
    New {
        name: String,
        #[command(flatten)]
        dirs: MigrateDirs,
    },
    /// Write the next migration (and its down) from the difference between the migrations
    /// replayed on a shadow server (or the --url database) and `schema/`.
    Plan {
        /// The migration's name.
        name: Option<String>,
        /// Diff this database instead of the replayed migrations.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        #[command(flatten)]
        dirs: MigrateDirs,
        /// Allow changes that lose data (drop table or column, type narrowing).
        #[arg(long)]
        allow_destructive: bool,
        /// A confirmed rename (`table=new`, `schema.table.column=new`), repeatable.
        #[arg(long = "rename", value_name = "OLD=NEW")]
        renames: Vec<String>,
        /// Plain forms instead of online-safe ones.
        #[arg(long, conflicts_with = "online")]
        offline: bool,
        /// Zero-downtime expand/contract: a confirmed column rename or a type change that
        /// rewrites the table becomes an expand migration (new column, sync trigger, batched
        /// backfill, constraints and indexes built online) and a separate contract migration
        /// (`<version>_contract_<name>.sql`: drops the old column) to apply once every
        /// application instance uses the new column.
        #[arg(long)]
        online: bool,
    },
    /// Apply the pending migrations (each in its own transaction unless marked otherwise).
    Up {
        #[command(flatten)]
        run: MigrateRun,
        /// Stop after this version (inclusive).
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        /// Only list what would be applied.
        #[arg(long)]
        dry_run: bool,
    },
    /// Revert applied migrations with their down scripts.
    #[command(group(clap::ArgGroup::new("target").required(true).args(["to", "steps", "all"])))]
    Down {
        #[command(flatten)]
        run: MigrateRun,
        /// Revert the migrations after this version (which stays applied).
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        /// Revert the last N applied migrations.
        #[arg(long, value_name = "N")]
        steps: Option<usize>,
        /// Revert every applied migration.
        #[arg(long)]
        all: bool,
    },
    /// Applied, pending, failed and edited migrations.
    Status {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        dirs: MigrateDirs,
        #[arg(long, short, value_enum, default_value_t = MigrateStatusFormat::Text)]
        format: MigrateStatusFormat,
    },
    /// Check applied migrations against their files (checksums) and the live schema against
    /// the replayed history (drift); exit 1 on a finding.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        dirs: MigrateDirs,
        /// Also replay up → down → up of every migration on a shadow server and check the
        /// schema after each step.
        #[arg(long)]
        roundtrip: bool,
    },
    /// Record the migrations up to VERSION as applied without running them.
    Baseline {
        #[command(flatten)]
        run: MigrateRun,
        #[arg(long, value_name = "VERSION")]
        version: String,
    },
    /// Write a migration absorbing the drift between the database and the replayed history,
    /// and record it as applied there.
    Adopt {
        /// The migration's name.
        name: Option<String>,
        #[command(flatten)]
        run: MigrateRun,
    },
    /// Update a big table in batches (`UPDATE T SET ... [WHERE ...]`), paged by its primary
    /// key, one short transaction per batch, throttled when others wait; resumable by name.
    Backfill(BackfillArgs),
    /// Rehearse the pending migrations on a shadow server: the applied ones replayed, every
    /// table filled with synthetic rows, then each pending statement run and traced
    /// (duration, locks, rewrites, full scans). Never writes to the target. Exit 1 when a
    /// migration fails on the rehearsal data.
    Test(MigrateTestArgs),
}

#[derive(Debug, Args)]
pub struct MigrateTestArgs {
    /// The database whose history says which migrations are applied (read only; also
    /// DATABASE_URL, PG*, else the dev server).
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub dirs: MigrateDirs,
    /// Rows per table.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000,
        conflicts_with = "like"
    )]
    pub rows: u64,
    /// Rows per table as this database's statistics estimate them (pg_class.reltuples),
    /// capped by --max-rows.
    #[arg(long, value_name = "URL")]
    pub like: Option<String>,
    /// The cap on --like's row counts.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_rows: u64,
    /// Rehearse the last N migrations (the others count as applied) without reading any
    /// database's history.
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
    /// Seed of the data generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Warn about a lock that blocks writes (AccessExclusiveLock: also reads) held longer
    /// than this, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub lock_warn: f64,
    #[arg(long, short, value_enum, default_value_t = FindingsFormat::Text)]
    pub format: FindingsFormat,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The table (`items`, `app.items`); it needs a primary key.
    #[arg(long, value_name = "TABLE")]
    pub table: String,
    /// The assignments, as in UPDATE: "col = expr[, col2 = expr2]".
    #[arg(long, value_name = "COL = EXPR")]
    pub set: String,
    /// Only the rows matching this condition.
    #[arg(long = "where", value_name = "COND")]
    pub where_: Option<String>,
    /// Rows per batch (one transaction each).
    #[arg(long, value_name = "ROWS", default_value_t = 5000)]
    pub batch: u32,
    /// Pause after each batch (50ms, 1s, 0); at least as long as the batch when sessions waited
    /// on its locks, doubled up to 5s when a batch waited on locks itself, batches slow down or
    /// a replica lags (replay_lag > 1s or 16 MB of WAL behind).
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = parse_duration)]
    pub sleep: std::time::Duration,
    /// The progress record's name in _dbarch.backfills (default: from table, set and where);
    /// a re-run with the same name continues where the last one stopped.
    #[arg(long)]
    pub name: Option<String>,
    /// lock_timeout of each batch, in seconds; a batch that waits longer is tried again.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub lock_timeout: f64,
    /// How many times a batch that hit lock_timeout is tried again.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub lock_retries: u32,
}

/// `50ms`, `2s`, `1.5s`, `1m`, or a bare number of milliseconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "ms"),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (50ms, 2s, 1m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (ms, s, m)")),
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}
