//! Migrations replayed on a throwaway shadow server, by the runner itself (so that
//! non-transactional scripts run as they will in production): the schema the history says a
//! database has, and the up → down → up roundtrip check.

use crate::error::{Error, Result};
use crate::format::Migration;
use crate::runner::{self, DownTarget, Options};
use dbarch_catalog::introspect;
use dbarch_model::Database;
use dbarch_pg::{
    ConnConfig, DiscoverOptions, EphemeralServer, PgInstall, SessionOptions, ShadowChoice,
};
use std::time::Duration;
use tokio_postgres::Client;

/// A shadow server and a runner session on it.
pub struct Shadow {
    server: Option<EphemeralServer>,
    pub client: Client,
    pub server_major: u32,
    /// Set when the shadow could not run the requested major version (and why).
    pub fallback_reason: Option<String>,
}

impl Shadow {
    /// Starts a shadow of `target_major` (the newest installed when `None`), with pgvector
    /// when a migration mentions it.
    pub async fn start(
        migrations: &[Migration],
        target_major: Option<u32>,
        discover: &DiscoverOptions,
    ) -> Result<Shadow> {
        let needs_pgvector = migrations.iter().any(|m| mentions_pgvector(&m.up.sql));
        let choice = match target_major {
            Some(major) => ShadowChoice::for_target(major, needs_pgvector, discover)?,
            None => ShadowChoice {
                install: PgInstall::discover(&DiscoverOptions {
                    require_pgvector: needs_pgvector,
                    ..discover.clone()
                })?,
                fallback_reason: None,
            },
        };
        let install = choice.install.clone();
        // Starting a server blocks (it waits for readiness): keep it off the async workers.
        let server = tokio::task::spawn_blocking(move || EphemeralServer::start(&install))
            .await
            .map_err(|e| Error::Refused(format!("shadow server start was interrupted: {e}")))??;
        let config = ConnConfig::parse(&server.url("postgres"))?;
        let session = SessionOptions {
            statement_timeout: Some(Duration::from_secs(300)),
            ..SessionOptions::writer()
        };
        let client = dbarch_pg::connect(&config, &session).await?;
        Ok(Shadow {
            server: Some(server),
            client,
            server_major: choice.install.major,
            fallback_reason: choice.fallback_reason,
        })
    }

    /// The URL of database `dbname` on the shadow server (for another session on it).
    pub fn url(&self, dbname: &str) -> Option<String> {
        self.server.as_ref().map(|s| s.url(dbname))
    }

    pub async fn model(&self) -> Result<Database> {
        Ok(
            introspect(&self.client, &dbarch_catalog::Options::default())
                .await?
                .database,
        )
    }

    /// Stops the server (off the async workers: stopping blocks).
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            tokio::task::spawn_blocking(move || drop(server)).await.ok();
        }
    }
}

fn shadow_options() -> Options {
    Options {
        lock_retries: 0,
        ..Options::default()
    }
}

/// The schema obtained by applying `migrations` in order on a fresh shadow.
pub async fn replayed_model(
    migrations: &[Migration],
    target_major: Option<u32>,
    discover: &DiscoverOptions,
) -> Result<(Database, Shadow)> {
    let shadow = Shadow::start(migrations, target_major, discover).await?;
    let result = async {
        runner::up(&shadow.client, migrations, None, false, &shadow_options()).await?;
        shadow.model().await
    }
    .await;
    match result {
        Ok(model) => Ok((model, shadow)),
        Err(e) => {
            shadow.stop().await;
            Err(e)
        }
    }
}

/// A roundtrip step whose schema differs from what it should be.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoundtripFailure {
    pub version: String,
    /// `down` (the down did not restore the schema before the up) or `up again` (the second
    /// up did not give the schema of the first).
    pub step: &'static str,
    /// The differences, as `dbarch_diff` describes them.
    pub changes: Vec<String>,
}

/// For each migration in order: up, down, up again on a shadow, checking that the down gives
/// back the schema before the up and the second up the schema of the first. Stops at the
/// first failure.
pub async fn roundtrip(
    migrations: &[Migration],
    target_major: Option<u32>,
    discover: &DiscoverOptions,
) -> Result<(Vec<RoundtripFailure>, Shadow)> {
    let shadow = Shadow::start(migrations, target_major, discover).await?;
    let result = async {
        let opts = shadow_options();
        let c = &shadow.client;
        let mut failures = Vec::new();
        let mut before = shadow.model().await?;
        for m in migrations {
            let v = Some(m.version.as_str());
            runner::up(c, migrations, v, false, &opts).await?;
            let after = shadow.model().await?;
            runner::down(c, migrations, &DownTarget::Steps(1), &opts).await?;
            let undone = shadow.model().await?;
            if let Some(changes) = differences(&undone, &before) {
                // What follows would fail or mislead: the schema is no longer the history's.
                failures.push(RoundtripFailure {
                    version: m.version.clone(),
                    step: "down",
                    changes,
                });
                break;
            }
            if let Err(e) = runner::up(c, migrations, v, false, &opts).await {
                failures.push(RoundtripFailure {
                    version: m.version.clone(),
                    step: "up again",
                    changes: vec![e.to_string()],
                });
                break;
            }
            let again = shadow.model().await?;
            if let Some(changes) = differences(&again, &after) {
                failures.push(RoundtripFailure {
                    version: m.version.clone(),
                    step: "up again",
                    changes,
                });
            }
            before = again;
        }
        Ok(failures)
    }
    .await;
    match result {
        Ok(f) => Ok((f, shadow)),
        Err(e) => {
            shadow.stop().await;
            Err(e)
        }
    }
}

/// The changes from `a` to `b` (the SQL of the plan from one to the other), `None` when the
/// schemas are the same.
pub fn differences(a: &Database, b: &Database) -> Option<Vec<String>> {
    if a == b {
        return None;
    }
    let opts = dbarch_diff::DiffOptions {
        allow_destructive: true,
        renames: Vec::new(),
    };
    let changes = match dbarch_diff::diff(a, b, &opts) {
        Ok(c) => {
            let ctx = dbarch_diff::PlanContext {
                server_major: dbarch_pg::install::WHEEL_PG_MAJOR,
                online: false,
            };
            dbarch_diff::plan(&c, &ctx)
                .steps
                .iter()
                .map(|s| s.sql.trim().to_string())
                .collect()
        }
        Err(e) => vec![e.to_string()],
    };
    Some(if changes.is_empty() {
        vec!["the models differ in details the differ does not report".into()]
    } else {
        changes
    })
}

/// True when SQL text uses pgvector: the word `vector` (not `tsvector`), `halfvec` or
/// `sparsevec`.
fn mentions_pgvector(sql: &str) -> bool {
    let lower = sql.to_lowercase();
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    ["vector", "halfvec", "sparsevec"].iter().any(|word| {
        lower.match_indices(word).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + word.len()..].chars().next();
            !before.is_some_and(is_word) && !after.is_some_and(is_word)
        })
    })
}
