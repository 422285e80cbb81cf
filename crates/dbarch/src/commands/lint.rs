//! `dbarch lint`: migration files (static, catalog-aware with a target, traced with
//! `--trace`), a desired-state directory, or a live schema.

use crate::cli::{GlobalArgs, LintArgs, LintFormat};
use crate::exit::{self, usage};
use crate::output::emit;
use crate::target;
use anyhow::{Context as _, Result};
use dbarch_catalog::{Filter, Options, introspect_parallel};
use dbarch_lint::{Config, Context};
use dbarch_model::Database;
use dbarch_report::{Diagnostic, FailOn};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub async fn run(global: &GlobalArgs, args: LintArgs) -> Result<u8> {
    let config = load_config(args.config.as_deref())?;
    let fail_on: FailOn = match (args.fail_on, config.fail_on.as_deref()) {
        (Some(f), _) => f.into(),
        (None, Some("warning")) => FailOn::Warning,
        (None, Some("note")) => FailOn::Note,
        (None, Some("never")) => FailOn::Never,
        (None, _) => FailOn::Error,
    };
    let mut ctx = Context::default();
    config.apply_to(&mut ctx);
    if let Some(path) = &args.workload {
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
        ctx.workload = dbarch_lint::workload::split_workload(&text);
    }

    let mut sources = HashMap::new();
    let diags = if let Some(dir) = &args.schema_dir {
        lint_schema_dir(global, dir, &ctx).await?
    } else if !args.paths.is_empty() || args.since.is_some() {
        let files = migration_files(&args.paths, args.since.as_deref())?;
        let catalog = match target_if_given(&args.db)? {
            Some(_) => Some(catalog(global, &args, &mut ctx).await?),
            None => None,
        };
        let mut diags = lint_files(&files, &ctx, catalog.as_ref(), &mut sources)?;
        if args.trace {
            diags.extend(
                crate::commands::trace::trace_files(global, &args.db, &files, &sources).await?,
            );
        }
        diags
    } else {
        if args.trace {
            return Err(usage("--trace needs migration files to run (give PATH...)"));
        }
        let clients = target::connect_for_introspection(global, &args.db).await?;
        let clients: Vec<_> = clients.iter().collect();
        let filter = Filter::new(args.schemas.clone(), &[], &args.exclude).map_err(usage)?;
        // Statistics let size-dependent rules speak (e.g. IVFFlat lists against row counts).
        let intro = introspect_parallel(
            &clients,
            &Options {
                stats: true,
                filter,
            },
        )
        .await?;
        ctx.server_major = u32::try_from(intro.server.major()).ok();
        dbarch_lint::lint_schema(&intro.database, &ctx)
    };
    let diags = config.apply(diags);

    let text = match args.format {
        LintFormat::Text => dbarch_report::text_with_sources(
            &diags,
            &|file| sources.get(file).cloned(),
            dbarch_report::TextOptions::default(),
        ),
        LintFormat::Json => dbarch_report::json(&diags),
        LintFormat::Sarif => dbarch_report::sarif(&diags, &rule_meta(), env!("CARGO_PKG_VERSION")),
        LintFormat::Github => dbarch_report::github(&diags),
    };
    emit(&text, None)?;
    Ok(if dbarch_report::exceeds(&diags, fail_on) {
        exit::FINDINGS
    } else {
        0
    })
}

/// `--config FILE`, else `dbarch.toml` in the current directory when there is one.
fn load_config(path: Option<&Path>) -> Result<Config> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from("dbarch.toml"), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(Config::default());
        }
        Err(e) => return Err(usage(format!("cannot read {}: {e}", path.display()))),
    };
    Config::from_toml(&text).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// A target given on the command line or in the environment (never the dev server: linting
/// files must not start one).
fn target_if_given(db: &crate::cli::DbArgs) -> Result<Option<dbarch_pg::ConnConfig>> {
    Ok(dbarch_pg::ConnConfig::from_env(db.url.as_deref())?.map(|(c, _)| c))
}

/// The target's schema with statistics, and its version and `maintenance_work_mem` in `ctx`.
async fn catalog(global: &GlobalArgs, args: &LintArgs, ctx: &mut Context) -> Result<Database> {
    let clients = target::connect_for_introspection(global, &args.db).await?;
    let row = clients[0]
        .query_one(
            "SELECT current_setting('server_version_num')::int4, \
                    pg_size_bytes(current_setting('maintenance_work_mem'))::int8",
            &[],
        )
        .await?;
    let version: i32 = row.get(0);
    let mwm: i64 = row.get(1);
    ctx.server_version_num = u32::try_from(version).ok();
    ctx.server_major = ctx.server_version_num.map(|v| v / 10000);
    ctx.maintenance_work_mem = u64::try_from(mwm).ok();
    let refs: Vec<_> = clients.iter().collect();
    let intro = introspect_parallel(
        &refs,
        &Options {
            stats: true,
            ..Default::default()
        },
    )
    .await?;
    Ok(intro.database)
}

/// A file to lint: its display name and where to read it (`None`: stdin).
pub struct LintFile {
    pub name: String,
    pub path: Option<PathBuf>,
}

/// The files named by PATH... (directories: their `.sql` files, recursively, in path order),
/// narrowed to those changed since `since` when given.
fn migration_files(paths: &[PathBuf], since: Option<&str>) -> Result<Vec<LintFile>> {
    let default = [PathBuf::from(".")];
    let roots = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let changed = since.map(|r| changed_since(r, roots)).transpose()?;
    let mut files = Vec::new();
    for root in roots {
        if root.as_os_str() == "-" {
            files.push(LintFile {
                name: "-".into(),
                path: None,
            });
            continue;
        }
        let meta = std::fs::metadata(root)
            .map_err(|e| usage(format!("cannot read {}: {e}", root.display())))?;
        let mut found = Vec::new();
        if meta.is_dir() {
            walk_sql(root, &mut found)
                .map_err(|e| usage(format!("cannot read {}: {e}", root.display())))?;
            found.sort();
        } else {
            found.push(root.clone());
        }
        for path in found {
            if let Some(changed) = &changed
                && !changed.iter().any(|c| same_file(c, &path))
            {
                continue;
            }
            files.push(LintFile {
                name: path.display().to_string(),
                path: Some(path),
            });
        }
    }
    if files.is_empty() && since.is_none() {
        return Err(usage(format!(
            "no .sql files in {}",
            roots
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(files)
}

fn walk_sql(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                walk_sql(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Files changed since `reference` (committed, staged, unstaged, and new untracked files).
fn changed_since(reference: &str, roots: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let git = |args: &[&str]| -> Result<Vec<PathBuf>> {
        let out = std::process::Command::new("git")
            .args(args)
            .arg("--")
            .args(roots.iter().filter(|r| r.as_os_str() != "-"))
            .output()
            .map_err(|e| usage(format!("--since needs git: {e}")))?;
        if !out.status.success() {
            let msg = String::from_utf8_lossy(&out.stderr);
            return Err(usage(format!(
                "--since {reference}: {}",
                msg.lines().next().unwrap_or("git failed").trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect())
    };
    // git prints paths relative to the repository root: make them absolute.
    let top = git(&["rev-parse", "--show-toplevel"])?
        .into_iter()
        .next()
        .context("not in a git repository")?;
    let mut files = git(&[
        "diff",
        "--name-only",
        "--diff-filter=ACMR",
        "--no-renames",
        reference,
    ])?;
    // Untracked files are listed relative to the current directory.
    let cwd = std::env::current_dir()?;
    let untracked: Vec<PathBuf> = git(&["ls-files", "--others", "--exclude-standard"])?
        .into_iter()
        .map(|p| cwd.join(p))
        .collect();
    files = files.into_iter().map(|p| top.join(p)).collect();
    files.extend(untracked);
    Ok(files)
}

/// Lints the files on both cores, keeping their texts for code frames.
fn lint_files(
    files: &[LintFile],
    ctx: &Context,
    catalog: Option<&Database>,
    sources: &mut HashMap<String, String>,
) -> Result<Vec<Diagnostic>> {
    let mut texts = Vec::with_capacity(files.len());
    for f in files {
        let bytes = match &f.path {
            Some(p) => {
                std::fs::read(p).map_err(|e| usage(format!("cannot read {}: {e}", p.display())))?
            }
            None => {
                let mut b = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut b)
                    .map_err(|e| usage(format!("cannot read stdin: {e}")))?;
                b
            }
        };
        texts.push(bytes);
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = files.len().div_ceil(threads).max(1);
    let mut results: Vec<Vec<Diagnostic>> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .zip(texts.chunks(chunk))
            .map(|(fs, ts)| {
                s.spawn(move || {
                    fs.iter()
                        .zip(ts)
                        .flat_map(|(f, t)| {
                            dbarch_lint::lint_migration_bytes(&f.name, t, None, ctx, catalog)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            results.push(h.join().unwrap_or_default());
        }
    });
    for (f, t) in files.iter().zip(texts) {
        if let Ok(text) = String::from_utf8(t) {
            sources.insert(f.name.clone(), text);
        }
    }
    Ok(results.into_iter().flatten().collect())
}

/// Schema rules on the model a desired-state directory produces on a throwaway server.
async fn lint_schema_dir(
    global: &GlobalArgs,
    dir: &Path,
    ctx: &Context,
) -> Result<Vec<Diagnostic>> {
    let files = dbarch_shadow::sql_files(dir)?;
    let shadow =
        dbarch_shadow::model_of_files(&files, None, &target::discover_options(global)).await?;
    let ctx = Context {
        server_major: Some(shadow.server_major),
        ..ctx.clone()
    };
    Ok(dbarch_lint::lint_schema(&shadow.database, &ctx))
}

/// The rules as SARIF describes them.
fn rule_meta() -> Vec<dbarch_report::RuleMeta> {
    dbarch_lint::rules()
        .iter()
        .map(|r| dbarch_report::RuleMeta {
            code: r.code.to_string(),
            name: r.name.to_string(),
            summary: r.summary(),
            help_markdown: Some(r.doc()),
            default_severity: r.severity,
        })
        .collect()
}

/// `dbarch rules`: the list, or one rule's documentation.
pub fn rules(rule: Option<&str>) -> Result<u8> {
    let text = match rule {
        Some(code) => {
            let r = dbarch_lint::rule(code)
                .ok_or_else(|| usage(format!("no rule {code:?} (`dbarch rules` lists them)")))?;
            format!(
                "{} {} ({}, default severity {}{})\n\n{}",
                r.code,
                r.name,
                r.family.title(),
                r.severity,
                if r.default_enabled {
                    ""
                } else {
                    ", off by default"
                },
                r.doc()
            )
        }
        None => {
            let mut s = String::new();
            for r in dbarch_lint::rules() {
                s.push_str(&format!(
                    "{:<5} {:<42} {:<8} {}{}\n",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    if r.default_enabled { "" } else { "(off) " },
                    r.summary()
                ));
            }
            s
        }
    };
    emit(&text, None)?;
    Ok(0)
}
