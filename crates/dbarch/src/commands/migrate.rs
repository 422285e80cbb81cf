//! `dbarch migrate`: wires the project directories, the target database and shadow servers to
//! `dbarch_migrate` (the runner) and `dbarch_diff` (planning).

mod rehearse;

use crate::cli::{
    BackfillArgs, GlobalArgs, MigrateCommand, MigrateDirs, MigrateRun, MigrateStatusFormat,
};
use crate::exit::{self, usage};
use crate::output::{emit, write_atomically};
use crate::target;
use anyhow::{Context, Result};
use dbarch_catalog::introspect;
use dbarch_diff::{DiffOptions, PlanContext, Rename};
use dbarch_migrate::replay::{self, differences};
use dbarch_migrate::{DownTarget, Migration, Options, Project, State, runner};
use dbarch_model::Database;
use dbarch_pg::tokio_postgres::Client;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

pub async fn run(global: &GlobalArgs, cmd: MigrateCommand) -> Result<u8> {
    match cmd {
        MigrateCommand::New { name, dirs } => new(&name, &dirs),
        MigrateCommand::Plan {
            name,
            url,
            dirs,
            allow_destructive,
            renames,
            offline,
            online,
        } => {
            let renames = renames
                .iter()
                .map(|r| r.parse::<Rename>())
                .collect::<Result<Vec<_>, _>>()?;
            let opts = DiffOptions {
                allow_destructive,
                renames,
            };
            plan(global, name, url, &dirs, &opts, !offline, online).await
        }
        MigrateCommand::Up { run, to, dry_run } => up(global, &run, to, dry_run).await,
        MigrateCommand::Down {
            run,
            to,
            steps,
            all,
        } => {
            let target = match (to, steps, all) {
                (Some(v), _, _) => DownTarget::To(v),
                (_, Some(n), _) => DownTarget::Steps(n),
                (_, _, true) => DownTarget::All,
                _ => return Err(usage("give one of --to, --steps or --all")),
            };
            down(global, &run, &target).await
        }
        MigrateCommand::Status { db, dirs, format } => {
            let migrations = load(&dirs)?;
            let client = target::connect(global, &db, false).await?;
            status(&client, &migrations, format).await
        }
        MigrateCommand::Verify {
            db,
            dirs,
            roundtrip,
        } => {
            let migrations = load(&dirs)?;
            let client = target::connect(global, &db, false).await?;
            verify(global, &client, &migrations, roundtrip).await
        }
        MigrateCommand::Baseline { run, version } => {
            let migrations = load(&run.dirs)?;
            let client = target::connect(global, &run.db, true).await?;
            let done = runner::baseline(&client, &migrations, &version, &options(&run)?).await?;
            for d in &done {
                println!("baselined {} {}", d.version, d.name);
            }
            Ok(0)
        }
        MigrateCommand::Adopt { name, run } => adopt(global, name, &run).await,
        MigrateCommand::Backfill(args) => backfill(global, &args).await,
        MigrateCommand::Test(args) => rehearse::run(global, &args).await,
    }
}

/// `migrate backfill`: the batches run by `dbarch_migrate::backfill`, a progress bar on a
/// terminal's stderr, Ctrl-C stops between batches with the progress saved.
async fn backfill(global: &GlobalArgs, args: &BackfillArgs) -> Result<u8> {
    use dbarch_migrate::backfill::{self, BackfillOptions, Outcome};
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    if !args.lock_timeout.is_finite() || args.lock_timeout <= 0.0 {
        return Err(usage("--lock-timeout must be a positive number of seconds"));
    }
    if args.batch == 0 {
        return Err(usage("--batch must be at least 1"));
    }
    let client = target::connect(global, &args.db, true).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
            }
        })
    };
    let opts = BackfillOptions {
        where_: args.where_.clone(),
        batch: i64::from(args.batch),
        sleep: args.sleep,
        name: args.name.clone(),
        lock_timeout: Duration::from_secs_f64(args.lock_timeout),
        lock_retries: args.lock_retries,
        stop: Some(stop.clone()),
        ..BackfillOptions::new(&args.table, &args.set)
    };
    let bar = if global.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} rows,              {per_sec}, ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut first = true;
    let result = backfill::run(&client, &opts, &mut |p| {
        if first {
            bar.set_length(p.total);
            bar.set_position(p.rows_done - p.rows_this_run);
            bar.reset_eta();
            first = false;
        }
        bar.set_length(p.total);
        bar.set_position(p.rows_done);
        bar.set_message(match p.reason {
            Some(reason) => format!("(throttled: {reason}; sleeping {:?})", p.sleep),
            None => String::new(),
        });
    })
    .await;
    bar.finish_and_clear();
    on_signal.abort();
    let r = result?;
    if !global.quiet {
        let secs = r.elapsed.as_secs_f64();
        match r.outcome {
            Outcome::AlreadyFinished => eprintln!(
                "backfill {:?} already finished: {} rows of {} updated; nothing to do",
                r.name, r.rows_done, r.table
            ),
            Outcome::Finished | Outcome::Stopped => {
                let rate = if secs > 0.0 {
                    r.rows_this_run as f64 / secs
                } else {
                    0.0
                };
                eprintln!(
                    "backfill {:?} {}: {} rows of {} updated in {} batches, {:.1}s, {:.0} rows/s                      ({} rows in all, {} lock retries, {} throttled batches){}",
                    r.name,
                    if r.outcome == Outcome::Finished {
                        "finished"
                    } else {
                        "stopped"
                    },
                    r.rows_this_run,
                    r.table,
                    r.batches,
                    secs,
                    rate,
                    r.rows_done,
                    r.lock_retries,
                    r.throttled_batches,
                    if r.outcome == Outcome::Stopped {
                        "; run it again to continue"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(
        if r.outcome == Outcome::Stopped && stop.load(Ordering::SeqCst) {
            130
        } else {
            0
        },
    )
}

fn project(dirs: &MigrateDirs) -> Result<Project> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(Project::open(
        &cwd,
        dirs.schema_dir.clone(),
        dirs.migrations_dir.clone(),
    )?)
}

pub(crate) fn load(dirs: &MigrateDirs) -> Result<Vec<Migration>> {
    Ok(dbarch_migrate::load(&project(dirs)?.migrations_dir)?)
}

fn options(run: &MigrateRun) -> Result<Options> {
    if !run.lock_timeout.is_finite() || run.lock_timeout <= 0.0 {
        return Err(usage("--lock-timeout must be a positive number of seconds"));
    }
    Ok(Options {
        lock_timeout: Duration::from_secs_f64(run.lock_timeout),
        lock_retries: run.lock_retries,
        ..Options::default()
    })
}

/// The version of a new migration: the UTC timestamp, or one more than the newest version
/// when that is not older (two migrations written in the same second).
fn next_version(migrations: &[Migration]) -> String {
    let ts = dbarch_migrate::format::native::timestamp_version(SystemTime::now());
    let now: u128 = ts.parse().unwrap_or(0);
    match migrations
        .last()
        .and_then(|m| m.version.parse::<u128>().ok())
    {
        Some(last) if last >= now => (last + 1).to_string(),
        _ => ts,
    }
}

/// Writes `<version>_<name>.sql` and `.down.sql`, never over an existing file.
pub(crate) fn write_migration(
    dirs: &MigrateDirs,
    migrations: &[Migration],
    name: &str,
    up: &str,
    down: &str,
) -> Result<(String, PathBuf)> {
    let slug = dbarch_migrate::format::native::slug(name);
    if slug.is_empty() {
        return Err(usage(format!(
            "migration name {name:?} has no letters or digits"
        )));
    }
    let dir = project(dirs)?.migrations_dir;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let version = next_version(migrations);
    let up_path = dir.join(format!("{version}_{slug}.sql"));
    let down_path = dir.join(format!("{version}_{slug}.down.sql"));
    for p in [&up_path, &down_path] {
        if p.exists() {
            return Err(usage(format!("{} already exists", p.display())));
        }
    }
    write_atomically(&up_path, up.as_bytes())?;
    write_atomically(&down_path, down.as_bytes())?;
    Ok((version, up_path))
}

fn new(name: &str, dirs: &MigrateDirs) -> Result<u8> {
    let migrations = load(dirs)?;
    let (_, path) = write_migration(
        dirs,
        &migrations,
        name,
        &format!("-- {name}\n"),
        &format!("-- revert {name}\n"),
    )?;
    println!("{}", path.display());
    Ok(0)
}

/// The live schema, without the history tables of other tools (dbarch's own is hidden by the
/// catalog), and the server's major version.
async fn live_model(client: &Client) -> Result<(Database, u32)> {
    let intro = introspect(client, &dbarch_catalog::Options::default()).await?;
    let mut db = intro.database;
    db.tables.retain(|t| {
        ![
            "_sqlx_migrations",
            "__diesel_schema_migrations",
            "schema_migrations",
            "flyway_schema_history",
        ]
        .contains(&t.name.as_str())
    });
    Ok((db, u32::try_from(intro.server.major()).unwrap_or(0)))
}

/// The schema of `migrations` replayed on a shadow. Also without migrations: a new database
/// is not an empty model (it has schema `public`, its comment and grants).
async fn replayed(
    global: &GlobalArgs,
    migrations: &[Migration],
    major: Option<u32>,
) -> Result<(Database, Option<u32>)> {
    let (model, shadow) =
        replay::replayed_model(migrations, major, &target::discover_options(global)).await?;
    if let Some(reason) = &shadow.fallback_reason {
        eprintln!("dbarch: {reason}");
    }
    let major = Some(shadow.server_major);
    shadow.stop().await;
    Ok((model, major))
}

async fn plan(
    global: &GlobalArgs,
    name: Option<String>,
    url: Option<String>,
    dirs: &MigrateDirs,
    opts: &DiffOptions,
    online: bool,
    expand_contract: bool,
) -> Result<u8> {
    let project = project(dirs)?;
    let migrations = dbarch_migrate::load(&project.migrations_dir)?;
    let (from, major) = match url {
        Some(url) => {
            let config = dbarch_pg::ConnConfig::parse(&url)?;
            let client = dbarch_pg::connect(&config, &dbarch_pg::SessionOptions::default()).await?;
            let (model, major) = live_model(&client).await?;
            (model, Some(major))
        }
        None => replayed(global, &migrations, None).await?,
    };
    let files = dbarch_shadow::sql_files(&project.schema_dir)?;
    let desired =
        dbarch_shadow::model_of_files(&files, major, &target::discover_options(global)).await?;
    let changes = dbarch_diff::diff(&from, &desired.database, opts)?;
    let ctx = PlanContext {
        server_major: major.unwrap_or(desired.server_major),
        online,
    };
    if expand_contract {
        return plan_expand_contract(
            global,
            name,
            dirs,
            &project,
            &migrations,
            &changes,
            &from,
            &desired.database,
            &ctx,
        );
    }
    let plan = dbarch_diff::plan(&changes, &ctx);
    if plan.is_empty() {
        if !global.quiet {
            eprintln!(
                "dbarch: the migrations already give {}; no migration written",
                project.schema_dir.display()
            );
        }
        return Ok(0);
    }
    let name = name.unwrap_or_else(|| "plan".into());
    let (_, path) = write_migration(
        dirs,
        &migrations,
        &name,
        &plan.to_sql(),
        &plan.reverse_sql(),
    )?;
    println!("{}", path.display());
    if !global.quiet {
        eprintln!(
            "dbarch: {} change(s) in {} step(s) written",
            changes.len(),
            plan.steps.len()
        );
    }
    Ok(0)
}

/// `migrate plan --online`: the expand migration, and the contract migration in a file of its
/// own (`<version>_contract_<name>.sql`, the next version) when a change was expanded.
#[allow(clippy::too_many_arguments)]
fn plan_expand_contract(
    global: &GlobalArgs,
    name: Option<String>,
    dirs: &MigrateDirs,
    project: &Project,
    migrations: &[Migration],
    changes: &[dbarch_diff::Change],
    from: &Database,
    to: &Database,
    ctx: &PlanContext,
) -> Result<u8> {
    let staged = dbarch_diff::plan_expand_contract(changes, from, to, ctx);
    if !global.quiet {
        for n in &staged.notes {
            eprintln!("dbarch: {n}");
        }
    }
    if staged.expand.is_empty() && staged.contract.is_empty() {
        if !global.quiet {
            eprintln!(
                "dbarch: the migrations already give {}; no migration written",
                project.schema_dir.display()
            );
        }
        return Ok(0);
    }
    let name = name.unwrap_or_else(|| "plan".into());
    let (_, path) = write_migration(
        dirs,
        migrations,
        &name,
        &staged.expand_sql(),
        &staged.expand_down_sql(),
    )?;
    println!("{}", path.display());
    if !staged.contract.is_empty() {
        // Read again: the contract's version follows the expand's.
        let migrations = dbarch_migrate::load(&project.migrations_dir)?;
        let (_, path) = write_migration(
            dirs,
            &migrations,
            &format!("contract_{name}"),
            &staged.contract_sql(),
            &staged.contract_down_sql(),
        )?;
        println!("{}", path.display());
    }
    if !global.quiet {
        eprintln!(
            "dbarch: {} change(s): expand in {} step(s), contract in {} step(s); apply the contract only once every application instance uses the new column(s)",
            changes.len(),
            staged.expand.steps.len(),
            staged.contract.steps.len()
        );
    }
    Ok(0)
}

async fn up(
    global: &GlobalArgs,
    run: &MigrateRun,
    to: Option<String>,
    dry_run: bool,
) -> Result<u8> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let migrations = load(&run.dirs)?;
    let stop = Arc::new(AtomicBool::new(false));
    let opts = Options {
        stop: Some(stop.clone()),
        ..options(run)?
    };
    let client = target::connect(global, &run.db, true).await?;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .get(0);
    // Ctrl-C: stop, and cancel the statement running now (a transactional migration then rolls
    // back, a non-transactional one keeps the progress it recorded). A second Ctrl-C exits at
    // once (the server then ends the session, rolling back and releasing the lock itself).
    let work = runner::up(&client, &migrations, to.as_deref(), dry_run, &opts);
    tokio::pin!(work);
    let result = tokio::select! {
        r = &mut work => r,
        _ = tokio::signal::ctrl_c() => {
            stop.store(true, Ordering::SeqCst);
            cancel_running(global, run, &client, pid).await;
            tokio::select! {
                r = &mut work => r,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("dbarch: interrupted twice: exiting without waiting for the server");
                    std::process::exit(130);
                }
            }
        }
    };
    let done = match result {
        Err(dbarch_migrate::Error::Interrupted { what, done }) => {
            for d in &done {
                println!("applied {} {} ({} ms)", d.version, d.name, d.duration_ms);
            }
            eprintln!("dbarch: interrupted: {what}");
            return Ok(130);
        }
        r => r?,
    };
    for d in &done {
        if dry_run {
            println!("would apply {} {}", d.version, d.name);
        } else {
            println!("applied {} {} ({} ms)", d.version, d.name, d.duration_ms);
        }
    }
    if done.is_empty() && !global.quiet {
        eprintln!("dbarch: no pending migration");
    }
    Ok(0)
}

/// Asks the server to cancel what `client` runs now: the protocol's cancel request (sent
/// without TLS, which servers accept), else `pg_cancel_backend` from a second session.
async fn cancel_running(global: &GlobalArgs, run: &MigrateRun, client: &Client, pid: i32) {
    use dbarch_pg::tokio_postgres::NoTls;
    let Err(e) = client.cancel_token().cancel_query(NoTls).await else {
        return;
    };
    tracing::debug!("cancel request failed ({e}); cancelling from a second session");
    let cancelled = async {
        let other = target::connect(global, &run.db, false).await?;
        other
            .execute("SELECT pg_cancel_backend($1)", &[&pid])
            .await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = cancelled {
        tracing::warn!("could not cancel the running statement ({e}); stopping after it");
    }
}

async fn down(global: &GlobalArgs, run: &MigrateRun, target: &DownTarget) -> Result<u8> {
    let migrations = load(&run.dirs)?;
    let opts = options(run)?;
    let client = target::connect(global, &run.db, true).await?;
    let done = runner::down(&client, &migrations, target, &opts).await?;
    for d in &done {
        println!("reverted {} {} ({} ms)", d.version, d.name, d.duration_ms);
    }
    if done.is_empty() && !global.quiet {
        eprintln!("dbarch: nothing to revert");
    }
    Ok(0)
}

fn state_word(s: State) -> &'static str {
    match s {
        State::Applied => "applied",
        State::Pending => "pending",
        State::Failed => "failed",
        State::ChecksumMismatch => "checksum-mismatch",
        State::MissingFile => "missing-file",
    }
}

async fn status(
    client: &Client,
    migrations: &[Migration],
    format: MigrateStatusFormat,
) -> Result<u8> {
    let entries = runner::status(client, migrations).await?;
    let text = match format {
        MigrateStatusFormat::Json => {
            #[derive(serde::Serialize)]
            struct Document<'a> {
                version: u32,
                migrations: &'a [dbarch_migrate::StatusEntry],
            }
            let mut s = serde_json::to_string_pretty(&Document {
                version: 1,
                migrations: &entries,
            })?;
            s.push('\n');
            s
        }
        MigrateStatusFormat::Text => {
            let mut s = String::new();
            for e in &entries {
                let mut line = format!("{:<18} {:<18} {}", e.version, state_word(e.state), e.name);
                if let Some(a) = &e.applied {
                    if !a.applied_at.is_empty() {
                        line.push_str(&format!("  ({})", a.applied_at));
                    }
                    if e.state == State::Failed {
                        line.push_str(&format!("  {} statement(s) done", a.statements_done));
                    }
                    if let Some(note) = &a.note {
                        line.push_str(&format!("  [{note}]"));
                    }
                }
                s.push_str(line.trim_end());
                s.push('\n');
            }
            s
        }
    };
    emit(&text, None)?;
    Ok(0)
}

/// The migrations the history records as applied, in order.
fn applied_of(migrations: &[Migration], entries: &[dbarch_migrate::StatusEntry]) -> Vec<Migration> {
    migrations
        .iter()
        .filter(|m| {
            entries.iter().any(|e| {
                e.version == m.version
                    && matches!(e.state, State::Applied | State::ChecksumMismatch)
            })
        })
        .cloned()
        .collect()
}

async fn verify(
    global: &GlobalArgs,
    client: &Client,
    migrations: &[Migration],
    roundtrip: bool,
) -> Result<u8> {
    let entries = runner::status(client, migrations).await?;
    let mut findings = 0;
    for e in &entries {
        let problem = match e.state {
            State::ChecksumMismatch => "was edited after it was applied (checksum mismatch)",
            State::Failed => "failed part-way (run `dbarch migrate up` after fixing it)",
            State::MissingFile => "is applied but its file is missing",
            State::Applied | State::Pending => continue,
        };
        println!("migration {} {} {problem}", e.version, e.name);
        findings += 1;
    }
    let (live, major) = live_model(client).await?;
    let applied = applied_of(migrations, &entries);
    let (history, _) = replayed(global, &applied, Some(major)).await?;
    if let Some(changes) = differences(&history, &live) {
        println!(
            "drift: the database differs from its {} applied migration(s) replayed; the changes made outside them:",
            applied.len()
        );
        for c in changes {
            println!("{c}");
        }
        findings += 1;
    }
    if roundtrip && !migrations.is_empty() {
        let (failures, shadow) =
            replay::roundtrip(migrations, Some(major), &target::discover_options(global)).await?;
        shadow.stop().await;
        for f in &failures {
            println!(
                "roundtrip: migration {}: the schema after `{}` differs:",
                f.version, f.step
            );
            for c in &f.changes {
                println!("{c}");
            }
        }
        findings += failures.len();
    }
    if findings > 0 {
        return Ok(exit::FINDINGS);
    }
    if !global.quiet {
        eprintln!(
            "dbarch: verified {} applied migration(s): no edit, no drift{}",
            applied.len(),
            if roundtrip { ", roundtrip clean" } else { "" }
        );
    }
    Ok(0)
}

async fn adopt(global: &GlobalArgs, name: Option<String>, run: &MigrateRun) -> Result<u8> {
    let migrations = load(&run.dirs)?;
    let client = target::connect(global, &run.db, true).await?;
    let entries = runner::status(&client, &migrations).await?;
    if let Some(e) = entries.iter().find(|e| e.state != State::Applied) {
        return Err(usage(format!(
            "migration {} is {}: adopt needs every migration applied and unedited (run `dbarch migrate up`, or fix the file)",
            e.version,
            state_word(e.state)
        )));
    }
    let (live, major) = live_model(&client).await?;
    let (history, _) = replayed(global, &migrations, Some(major)).await?;
    let changes = dbarch_diff::diff(
        &history,
        &live,
        &DiffOptions {
            allow_destructive: true,
            renames: Vec::new(),
        },
    )?;
    if changes.is_empty() {
        if !global.quiet {
            eprintln!("dbarch: no drift: nothing to adopt");
        }
        return Ok(0);
    }
    let plan = dbarch_diff::plan(
        &changes,
        &PlanContext {
            server_major: major,
            online: true,
        },
    );
    let name = name.unwrap_or_else(|| "adopt_drift".into());
    let (version, path) = write_migration(
        &run.dirs,
        &migrations,
        &name,
        &plan.to_sql(),
        &plan.reverse_sql(),
    )?;
    // The database already has these changes: record the migration without running it.
    let migrations = load(&run.dirs)?;
    runner::baseline(&client, &migrations, &version, &options(run)?).await?;
    println!("{}", path.display());
    if !global.quiet {
        eprintln!(
            "dbarch: {} drifted change(s) written and recorded as applied",
            changes.len()
        );
    }
    Ok(0)
}
