//! Throwaway clusters for shadow work (diffing, migration tests).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::install::{PgInstall, cache_dir, last_lines};

use super::cluster::{Cluster, StopMode, free_port, lock_file, remove_socket_dir_replacement};
use super::privilege;

/// Settings that trade durability for speed: the cluster is deleted anyway.
const FAST_SETTINGS: &[(&str, &str)] = &[
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
];

/// A cluster in a temp dir, stopped (immediate shutdown) and deleted on drop.
///
/// initdb runs once per installation: its result is cached as a template under
/// `<cache>/templates/<major>-<hash of bin_dir>` and copied for each server.
#[derive(Debug)]
pub struct EphemeralServer {
    cluster: Cluster,
    socket_dir: PathBuf,
    dir: Option<tempfile::TempDir>,
}

/// The installation a shadow server for a target of major version `target_major` should use,
/// and, when it is not that major, why: a shadow replays schemas of the target, so the same
/// major avoids syntax and catalog differences (e.g. PG18's virtual generated columns).
#[derive(Debug, Clone)]
pub struct ShadowChoice {
    pub install: PgInstall,
    /// Set when no installation of the target's major exists and another one is used.
    pub fallback_reason: Option<String>,
}

impl ShadowChoice {
    /// Prefers the target's major; pgvector is required only when `needs_pgvector`. Falls back
    /// to the newest installation dbarch can find or provision, with a reason to show the user.
    pub fn for_target(
        target_major: u32,
        needs_pgvector: bool,
        base: &crate::DiscoverOptions,
    ) -> Result<ShadowChoice> {
        let exact = crate::DiscoverOptions {
            major: Some(target_major),
            require_pgvector: needs_pgvector,
            provision: base.provision && target_major == crate::install::WHEEL_PG_MAJOR,
            ..base.clone()
        };
        match PgInstall::discover(&exact) {
            Ok(install) => Ok(ShadowChoice {
                install,
                fallback_reason: None,
            }),
            Err(exact_err) => {
                let any = crate::DiscoverOptions {
                    major: None,
                    require_pgvector: needs_pgvector,
                    ..base.clone()
                };
                let install = PgInstall::discover(&any)?;
                let reason = format!(
                    "no PostgreSQL {target_major} binaries{} were found ({exact_err}); the shadow \
                     server runs PostgreSQL {} instead, so version-specific differences may show",
                    if needs_pgvector { " with pgvector" } else { "" },
                    install.version
                );
                Ok(ShadowChoice {
                    install,
                    fallback_reason: Some(reason),
                })
            }
        }
    }
}

impl EphemeralServer {
    pub fn start(install: &PgInstall) -> Result<EphemeralServer> {
        let template = template_dir(install)?;
        let dir = tempfile::Builder::new()
            .prefix("dbarch-shadow-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let data = dir.path().join("pgdata");
        copy_dir(&template, &data)?;
        privilege::hand_over(dir.path())?;
        let socket_dir = dir.path().join("run");
        let cluster = Cluster::new(install.clone(), &data, &socket_dir, free_port()?);
        let server = EphemeralServer {
            cluster,
            socket_dir,
            dir: Some(dir),
        };
        server.cluster.start(FAST_SETTINGS)?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.cluster.port()
    }
    pub fn install(&self) -> &PgInstall {
        self.cluster.install()
    }
    pub fn data_dir(&self) -> &Path {
        self.cluster.data_dir()
    }
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }
    /// `postgres://postgres@127.0.0.1:PORT/DBNAME` (trust authentication, no password).
    pub fn url(&self, dbname: &str) -> String {
        self.cluster.url(dbname)
    }
}

impl Drop for EphemeralServer {
    fn drop(&mut self) {
        match self.cluster.stop_with(StopMode::Immediate) {
            Ok(_) => remove_socket_dir_replacement(&self.socket_dir),
            Err(e) => tracing::warn!("stopping shadow server: {e}"),
        }
        if let Some(dir) = self.dir.take()
            && let Err(e) = dir.close()
        {
            tracing::warn!("removing shadow server dir: {e}");
        }
    }
}

/// The cached initdb result for `install`, created atomically (initdb into a scratch dir,
/// renamed into place) under a lock.
fn template_dir(install: &PgInstall) -> Result<PathBuf> {
    let root = cache_dir().join("templates");
    let dir = root.join(install.id());
    if is_template_for(&dir, install) {
        return Ok(dir);
    }
    let _lock = lock_file(&root.join(format!("{}.lock", install.id())))?;
    if is_template_for(&dir, install) {
        return Ok(dir);
    }
    if dir.exists() {
        // Left by another version of the binaries at the same path.
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    let scratch = tempfile::Builder::new()
        .prefix(&format!(".{}.partial-", install.id()))
        .tempdir_in(&root)
        .map_err(|e| Error::io(&root, e))?;
    privilege::hand_over(scratch.path())?;
    let data = scratch.path().join("pgdata");
    Cluster::init_unsynced(install.clone(), &data, scratch.path().join("run"), 5432)?;
    std::fs::rename(&data, &dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

fn is_template_for(dir: &Path, install: &PgInstall) -> bool {
    std::fs::read_to_string(dir.join("PG_VERSION"))
        .is_ok_and(|v| v.trim() == install.major.to_string())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let out = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(to, e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::io(
            to,
            std::io::Error::other(format!(
                "cp -a {} failed: {}",
                from.display(),
                last_lines(&String::from_utf8_lossy(&out.stderr), 5)
            )),
        ))
    }
}
