use crate::cli::{DbArgs, DiffArgs, DiffFormat, GlobalArgs};
use crate::exit::{self, usage};
use crate::output::emit;
use crate::target;
use anyhow::{Context, Result};
use dbarch_catalog::{Options, introspect};
use dbarch_diff::{DiffOptions, PlanContext, Rename};
use dbarch_model::Database;
use std::path::PathBuf;

/// Where a schema comes from.
#[derive(Debug)]
enum Source {
    /// A live database.
    Url(String),
    /// The project's dev server.
    Dev,
    /// A freshly created database: nothing but the `public` schema.
    Empty,
    /// Desired-state SQL (a file or a directory), or migrations replayed in order.
    Files { path: PathBuf, migrations: bool },
}

impl Source {
    fn parse(s: &str) -> Source {
        if s == "dev" {
            Source::Dev
        } else if s == "empty" {
            Source::Empty
        } else if let Some(dir) = s.strip_prefix("migrations:") {
            Source::Files {
                path: dir.into(),
                migrations: true,
            }
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") || s.contains('=')
        {
            Source::Url(s.to_string())
        } else {
            Source::Files {
                path: s.into(),
                migrations: false,
            }
        }
    }
}

/// A schema and, for live and shadow sources, the server major version it came from.
struct Side {
    model: Database,
    major: Option<u32>,
}

pub async fn run(global: &GlobalArgs, args: DiffArgs) -> Result<u8> {
    let renames = args
        .renames
        .iter()
        .map(|r| r.parse::<Rename>())
        .collect::<Result<Vec<_>, _>>()?;
    let db = DbArgs {
        url: None,
        statement_timeout: args.statement_timeout,
    };
    let (from, to) = (Source::parse(&args.from), Source::parse(&args.to));
    // Live sides first: their server version picks the shadow server's for the file sides.
    let mut from_side = load_live(global, &db, &from).await?;
    let mut to_side = load_live(global, &db, &to).await?;
    let live_major = from_side
        .as_ref()
        .and_then(|s| s.major)
        .or(to_side.as_ref().and_then(|s| s.major));
    if from_side.is_none() {
        from_side = Some(load_files(global, &from, live_major).await?);
    }
    if to_side.is_none() {
        to_side = Some(load_files(global, &to, live_major).await?);
    }
    let (from_side, to_side) = (
        from_side.context("no --from schema")?,
        to_side.context("no --to schema")?,
    );
    let changes = dbarch_diff::diff(
        &from_side.model,
        &to_side.model,
        &DiffOptions {
            allow_destructive: args.allow_destructive,
            renames,
        },
    )?;
    // The plan is for the --from side's server (the one the migration will run on).
    let server_major = from_side
        .major
        .or(live_major)
        .or(to_side.major)
        .unwrap_or(dbarch_pg::install::WHEEL_PG_MAJOR);
    let plan = dbarch_diff::plan(
        &changes,
        &PlanContext {
            server_major,
            online: !args.offline,
        },
    );
    let text = match args.format {
        DiffFormat::Sql if plan.is_empty() => String::new(),
        DiffFormat::Sql => plan.to_sql(),
        DiffFormat::Json => {
            #[derive(serde::Serialize)]
            struct Document<'a> {
                version: u32,
                server_major: u32,
                online: bool,
                changes: &'a [dbarch_diff::Change],
                steps: &'a [dbarch_diff::Step],
            }
            let mut s = serde_json::to_string_pretty(&Document {
                version: 1,
                server_major,
                online: !args.offline,
                changes: &changes,
                steps: &plan.steps,
            })?;
            s.push('\n');
            s
        }
    };
    emit(&text, None)?;
    if changes.is_empty() {
        if !global.quiet && args.format == DiffFormat::Sql {
            eprintln!("dbarch: no difference");
        }
        Ok(0)
    } else {
        if !global.quiet {
            eprintln!(
                "dbarch: {} change(s) in {} step(s)",
                changes.len(),
                plan.steps.len()
            );
        }
        Ok(exit::FINDINGS)
    }
}

async fn load_live(global: &GlobalArgs, db: &DbArgs, source: &Source) -> Result<Option<Side>> {
    let config = match source {
        Source::Url(url) => dbarch_pg::ConnConfig::parse(url)?,
        Source::Dev => target::dev_config(global)?,
        Source::Empty => {
            return Ok(Some(Side {
                model: fresh_database(),
                major: None,
            }));
        }
        Source::Files { .. } => return Ok(None),
    };
    let client = dbarch_pg::connect(&config, &target::session(db, false)).await?;
    let intro = introspect(&client, &Options::default()).await?;
    Ok(Some(Side {
        major: u32::try_from(intro.server.major()).ok(),
        model: intro.database,
    }))
}

async fn load_files(global: &GlobalArgs, source: &Source, major: Option<u32>) -> Result<Side> {
    let Source::Files { path, migrations } = source else {
        return Err(usage("internal: not a file source"));
    };
    if *migrations {
        // The directory's own format (dbarch, sqlx, golang-migrate, dbmate, Flyway, diesel),
        // replayed by the migration runner, no-transaction files included.
        let list = dbarch_migrate::format::load(path)?;
        let (model, shadow) =
            dbarch_migrate::replay::replayed_model(&list, major, &target::discover_options(global))
                .await?;
        let server_major = shadow.server_major;
        shadow.stop().await;
        return Ok(Side {
            model,
            major: Some(server_major),
        });
    }
    let files = dbarch_shadow::sql_files(path)?;
    let shadow =
        dbarch_shadow::model_of_files(&files, major, &target::discover_options(global)).await?;
    if let Some(reason) = &shadow.fallback_reason {
        eprintln!("dbarch: {reason}");
    }
    Ok(Side {
        model: shadow.database,
        major: Some(shadow.server_major),
    })
}

/// The model of a database just made by `CREATE DATABASE` (PostgreSQL 15+): only the `public`
/// schema, with its standard comment and `USAGE` for everyone. Diffing against it neither
/// creates nor drops `public`.
fn fresh_database() -> Database {
    Database {
        schemas: vec![dbarch_model::Schema {
            name: "public".into(),
            comment: Some("standard public schema".into()),
            grants: vec![dbarch_model::Grant {
                grantee: "PUBLIC".into(),
                privilege: "USAGE".into(),
                with_grant_option: false,
            }],
        }],
        ..Database::default()
    }
}
