//! Which database a command talks to: `--url`, `DATABASE_URL`, the `PG*` variables, or the
//! project's dev server (started on demand).

use crate::cli::{DbArgs, GlobalArgs};
use anyhow::{Context, Result};
use dbarch_pg::{ConnConfig, DevServer, DiscoverOptions, SessionOptions};
use std::time::Duration;

pub fn discover_options(global: &GlobalArgs) -> DiscoverOptions {
    DiscoverOptions {
        pg_bin: global.pg_bin.clone(),
        major: None,
        require_pgvector: true,
        provision: true,
    }
}

pub fn dev_server() -> Result<DevServer> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(DevServer::locate(&cwd))
}

/// The connection settings for a command, starting the dev server when it is the target.
pub fn resolve(global: &GlobalArgs, db: &DbArgs) -> Result<ConnConfig> {
    if let Some((config, source)) = ConnConfig::from_env(db.url.as_deref())? {
        tracing::info!("connecting to {config} (from {source})");
        return Ok(config);
    }
    dev_config(global)
}

/// The dev server's connection settings, starting it if needed.
pub fn dev_config(global: &GlobalArgs) -> Result<ConnConfig> {
    let dev = dev_server()?;
    let was_running = dev.status().running;
    let status = dev.start(&discover_options(global))?;
    if !was_running {
        eprintln!(
            "dbarch: started the dev server (PostgreSQL {}) in {}",
            status.version.as_deref().unwrap_or("?"),
            dev.state_dir().display()
        );
    }
    let url = status
        .url
        .context("the dev server started but reported no URL")?;
    Ok(ConnConfig::parse(&url)?)
}

pub fn session(db: &DbArgs, writes: bool) -> SessionOptions {
    let mut opts = if writes {
        SessionOptions::writer()
    } else {
        SessionOptions::default()
    };
    opts.statement_timeout = Some(Duration::from_secs(db.statement_timeout));
    opts
}

/// Connects for a command.
pub async fn connect(
    global: &GlobalArgs,
    db: &DbArgs,
    writes: bool,
) -> Result<dbarch_pg::tokio_postgres::Client> {
    let config = resolve(global, db)?;
    Ok(dbarch_pg::connect(&config, &session(db, writes)).await?)
}

/// Connections for introspection: the catalog spreads its costliest queries over them.
pub async fn connect_for_introspection(
    global: &GlobalArgs,
    db: &DbArgs,
) -> Result<Vec<dbarch_pg::tokio_postgres::Client>> {
    let config = resolve(global, db)?;
    let session = session(db, false);
    let (a, b, c) = tokio::try_join!(
        dbarch_pg::connect(&config, &session),
        dbarch_pg::connect(&config, &session),
        dbarch_pg::connect(&config, &session),
    )?;
    Ok(vec![a, b, c])
}
