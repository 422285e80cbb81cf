//! Desired-state SQL → schema model, through a throwaway shadow server.
//!
//! dbarch never parses DDL itself to learn a schema: the files are executed on an
//! [`EphemeralServer`] (PostgreSQL is the parser and the type checker) and the result is
//! introspected like any database. The shadow runs the target's major version when it is
//! installed, so version-specific syntax behaves as it will on the target.

use dbarch_catalog::{Options, introspect};
use dbarch_model::Database;
use dbarch_pg::{ConnConfig, DiscoverOptions, EphemeralServer, SessionOptions, ShadowChoice};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
    #[error("{file} does not load: {message}")]
    Sql { file: PathBuf, message: String },
    #[error(transparent)]
    Pg(#[from] dbarch_pg::Error),
    #[error(transparent)]
    Catalog(#[from] dbarch_catalog::Error),
}

impl Error {
    /// Bad files are the user's input (exit code 2); the rest are database errors.
    pub fn is_input(&self) -> bool {
        match self {
            Error::Input { .. } | Error::Sql { .. } => true,
            Error::Pg(e) => e.is_input(),
            Error::Catalog(_) => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The model of some SQL files, and how it was obtained.
#[derive(Debug)]
pub struct ShadowModel {
    pub database: Database,
    /// Major version of the shadow server that ran the files.
    pub server_major: u32,
    /// Set when the shadow could not run the requested major version (and why).
    pub fallback_reason: Option<String>,
    /// The files, in the order they were run.
    pub files: Vec<PathBuf>,
}

/// The `.sql` files of `path`: the file itself, or every `.sql` file under the directory
/// (recursively), in path order, leaving out `.down.sql` files.
pub fn sql_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::Input {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::Input {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::Input {
                path: dir.clone(),
                reason: e.to_string(),
            })?;
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "sql")
                && !p.to_string_lossy().ends_with(".down.sql")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            reason: "no .sql files here".into(),
        });
    }
    Ok(files)
}

/// Runs `files` on a fresh shadow server and introspects the result. `target_major` picks the
/// shadow's version (the newest installed when `None`); pgvector is required when a file
/// mentions it.
pub async fn model_of_files(
    files: &[PathBuf],
    target_major: Option<u32>,
    discover: &DiscoverOptions,
) -> Result<ShadowModel> {
    let mut texts = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| Error::Input {
            path: f.clone(),
            reason: e.to_string(),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| Error::Input {
            path: f.clone(),
            reason: "not UTF-8 text".into(),
        })?;
        texts.push(text);
    }
    let needs_pgvector = texts.iter().any(|t| mentions_pgvector(t));
    let choice = match target_major {
        Some(major) => ShadowChoice::for_target(major, needs_pgvector, discover)?,
        None => ShadowChoice {
            install: dbarch_pg::PgInstall::discover(&DiscoverOptions {
                require_pgvector: needs_pgvector,
                ..discover.clone()
            })?,
            fallback_reason: None,
        },
    };
    let server_major = choice.install.major;
    // Starting a server blocks (it waits for readiness): keep it off the async workers.
    let install = choice.install.clone();
    let shadow = tokio::task::spawn_blocking(move || EphemeralServer::start(&install))
        .await
        .map_err(|e| dbarch_pg::Error::Server {
            data_dir: PathBuf::new(),
            reason: format!("shadow server start was interrupted: {e}"),
        })??;
    let config = ConnConfig::parse(&shadow.url("postgres"))?;
    let session = SessionOptions {
        statement_timeout: Some(Duration::from_secs(300)),
        ..SessionOptions::writer()
    };
    let client = dbarch_pg::connect(&config, &session).await?;
    for (file, text) in files.iter().zip(&texts) {
        client.batch_execute(text).await.map_err(|e| Error::Sql {
            file: file.clone(),
            message: match e.as_db_error() {
                Some(db) => format!("{}: {}", db.severity(), db.message()),
                None => e.to_string(),
            },
        })?;
    }
    let database = introspect(&client, &Options::default()).await?.database;
    drop(client);
    // Stopping blocks too.
    tokio::task::spawn_blocking(move || drop(shadow)).await.ok();
    Ok(ShadowModel {
        database,
        server_major,
        fallback_reason: choice.fallback_reason,
        files: files.to_vec(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgvector_use_is_recognized() {
        assert!(mentions_pgvector("CREATE EXTENSION vector;"));
        assert!(mentions_pgvector("embedding VECTOR(384)"));
        assert!(mentions_pgvector("h public.halfvec(4)"));
        assert!(!mentions_pgvector(
            "doc tsvector GENERATED ALWAYS AS (to_tsvector('simple', body))"
        ));
        assert!(!mentions_pgvector("vectors_count int"));
    }

    #[test]
    fn sql_files_are_listed_in_order_without_down_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("b/2.sql"), "").unwrap();
        std::fs::write(dir.path().join("a.sql"), "").unwrap();
        std::fs::write(dir.path().join("1.down.sql"), "").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        let files = sql_files(dir.path()).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| {
                f.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["a.sql", "b/2.sql"]);
        assert!(sql_files(&dir.path().join("missing")).is_err());
        let empty = tempfile::tempdir().unwrap();
        assert!(sql_files(empty.path()).is_err());
    }
}
