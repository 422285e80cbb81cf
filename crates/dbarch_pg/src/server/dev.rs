//! The project's dev server: one cluster per project, state in `<root>/.dbarch/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::install::{DiscoverOptions, InstallSource, PgInstall};

use super::cluster::{
    Cluster, StopMode, free_port, lock_file, remove_socket_dir_replacement, stop_data_dir,
};
use super::process;

/// Written into the data dir at init: [`DevServer::reset`] deletes only dirs carrying it.
const MARKER: &str = "dbarch-dev-cluster";

/// The project's dev server. Its root is the nearest directory holding `dbarch.toml`; its
/// state lives in `<root>/.dbarch/`:
///
/// - `pgdata/`: the data dir; `run/`: the unix socket dir (0700); `server.log`;
/// - `state.json`: the port (kept across restarts and resets), bin dir and version;
/// - `lock`: held while starting, stopping or resetting, so concurrent commands are safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevServer {
    root: PathBuf,
}

/// What `dbarch dev status` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DevStatus {
    pub running: bool,
    pub pid: Option<u32>,
    pub port: Option<u16>,
    pub data_dir: PathBuf,
    /// PostgreSQL version, e.g. `"18.6"`, once initialized.
    pub version: Option<String>,
    pub bin_dir: Option<PathBuf>,
    /// Connection URL (no password: trust authentication on loopback only).
    pub url: Option<String>,
    pub log_file: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    port: u16,
    bin_dir: PathBuf,
    version: String,
}

impl DevServer {
    /// The dev server of the project containing `cwd`: the nearest directory upward holding
    /// `dbarch.toml`, else `cwd` itself.
    pub fn locate(cwd: &Path) -> DevServer {
        let cwd = std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf());
        let root = cwd
            .ancestors()
            .find(|d| d.join("dbarch.toml").is_file())
            .unwrap_or(&cwd)
            .to_path_buf();
        DevServer { root }
    }

    /// The dev server rooted exactly at `root`.
    pub fn at(root: impl Into<PathBuf>) -> DevServer {
        DevServer { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".dbarch")
    }
    pub fn data_dir(&self) -> PathBuf {
        self.state_dir().join("pgdata")
    }
    pub fn socket_dir(&self) -> PathBuf {
        self.state_dir().join("run")
    }
    pub fn log_file(&self) -> PathBuf {
        self.state_dir().join("server.log")
    }
    fn state_file(&self) -> PathBuf {
        self.state_dir().join("state.json")
    }

    /// Starts the server (initializing it on first use, with a free port that is then kept)
    /// and returns its status. Idempotent; a crashed server's stale pid file is recovered.
    /// Needs pgvector: discovery requires it and may provision the pinned wheel.
    pub fn start(&self, opts: &DiscoverOptions) -> Result<DevStatus> {
        let _lock = self.lock()?;
        self.start_locked(opts)
    }

    /// Stops the server (fast shutdown); false if it was not running.
    pub fn stop(&self) -> Result<bool> {
        let _lock = self.lock()?;
        let was_running = stop_data_dir(&self.data_dir(), StopMode::Fast)?;
        remove_socket_dir_replacement(&self.socket_dir());
        Ok(was_running)
    }

    /// Stops the server, deletes its data dir (only if it is a dbarch dev cluster),
    /// initializes a new one on the same port and starts it.
    pub fn reset(&self, opts: &DiscoverOptions) -> Result<DevStatus> {
        let _lock = self.lock()?;
        let data = self.data_dir();
        stop_data_dir(&data, StopMode::Fast)?;
        if data.exists() {
            if !(data.join("PG_VERSION").is_file() && data.join(MARKER).is_file()) {
                return Err(Error::Server {
                    data_dir: data,
                    reason: format!(
                        "refusing to delete: not a dbarch dev cluster (no PG_VERSION and {MARKER} marker)"
                    ),
                });
            }
            std::fs::remove_dir_all(&data).map_err(|e| Error::io(&data, e))?;
        }
        self.start_locked(opts)
    }

    /// The server's state, read without locking.
    pub fn status(&self) -> DevStatus {
        let state = self.read_state();
        let pid = process::running_pid(&self.data_dir());
        DevStatus {
            running: pid.is_some(),
            pid,
            port: state.as_ref().map(|s| s.port),
            data_dir: self.data_dir(),
            version: state.as_ref().map(|s| s.version.clone()),
            bin_dir: state.as_ref().map(|s| s.bin_dir.clone()),
            url: state.as_ref().map(|s| url(s.port)),
            log_file: self.log_file(),
        }
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` once a port has been chosen.
    pub fn url(&self) -> Option<String> {
        self.read_state().map(|s| url(s.port))
    }

    /// `psql` of the server's installation, connected to [`DevServer::url`].
    pub fn psql_command(&self) -> Result<Command> {
        let state = self.read_state().ok_or_else(|| Error::Server {
            data_dir: self.data_dir(),
            reason: "the dev server has never been started (run `dbarch dev start`)".into(),
        })?;
        let psql = state.bin_dir.join("psql");
        if !psql.is_file() {
            return Err(Error::BadInstall {
                dir: state.bin_dir,
                reason: "no psql in this installation".into(),
            });
        }
        let mut cmd = Command::new(psql);
        cmd.arg(url(state.port));
        Ok(cmd)
    }

    fn lock(&self) -> Result<std::fs::File> {
        let dir = self.state_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        // Keep the state out of version control without touching the project's .gitignore.
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n").map_err(|e| Error::io(&ignore, e))?;
        }
        lock_file(&dir.join("lock"))
    }

    fn read_state(&self) -> Option<State> {
        let text = std::fs::read_to_string(self.state_file()).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn write_state(&self, state: &State) -> Result<()> {
        let path = self.state_file();
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(state).map_err(|e| {
            Error::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        std::fs::write(&tmp, text + "\n").map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
    }

    fn start_locked(&self, opts: &DiscoverOptions) -> Result<DevStatus> {
        let data = self.data_dir();
        if process::running_pid(&data).is_some() {
            return Ok(self.status());
        }
        let state = self.read_state();
        let install = self.choose_install(opts, state.as_ref())?;
        let port = match &state {
            Some(s) => s.port,
            None => free_port()?,
        };
        if !data.join("PG_VERSION").is_file() {
            self.init(&install, port)?;
        }
        self.write_state(&State {
            port,
            bin_dir: install.bin_dir.clone(),
            version: install.version.clone(),
        })?;
        Cluster::new(install, &data, self.socket_dir(), port)
            .with_log_file(self.log_file())
            .start(&[])?;
        Ok(self.status())
    }

    /// initdb into a scratch dir renamed into place, so an interrupted init is never
    /// mistaken for a cluster.
    fn init(&self, install: &PgInstall, port: u16) -> Result<()> {
        let data = self.data_dir();
        if data.exists() {
            // Only an empty leftover may be replaced; anything else is not ours to delete.
            std::fs::remove_dir(&data).map_err(|_| Error::Server {
                data_dir: data.clone(),
                reason: "exists but holds no cluster (no PG_VERSION); move it away".into(),
            })?;
        }
        let scratch = self.state_dir().join("pgdata.init");
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).map_err(|e| Error::io(&scratch, e))?;
        }
        Cluster::init(install.clone(), &scratch, self.socket_dir(), port)?;
        let marker = scratch.join(MARKER);
        std::fs::write(
            &marker,
            "created by dbarch dev start; `dbarch dev reset` may delete this cluster\n",
        )
        .map_err(|e| Error::io(&marker, e))?;
        std::fs::rename(&scratch, &data).map_err(|e| Error::io(&data, e))
    }

    /// The stored installation while it still fits the data dir, else discovery.
    fn choose_install(&self, opts: &DiscoverOptions, state: Option<&State>) -> Result<PgInstall> {
        let data = self.data_dir();
        let data_major: Option<u32> = std::fs::read_to_string(data.join("PG_VERSION"))
            .ok()
            .and_then(|v| v.trim().parse().ok());
        let install = match (&opts.pg_bin, state) {
            (None, Some(s)) => PgInstall::from_bin_dir(&s.bin_dir, InstallSource::Explicit)
                .ok()
                .filter(|i| i.has_pgvector && data_major.is_none_or(|m| m == i.major)),
            _ => None,
        };
        let install = match install {
            Some(i) => i,
            None => PgInstall::discover(&DiscoverOptions {
                pg_bin: opts.pg_bin.clone(),
                major: data_major.or(opts.major),
                require_pgvector: true,
                provision: true,
            })?,
        };
        if let Some(m) = data_major
            && m != install.major
        {
            return Err(Error::Server {
                data_dir: data,
                reason: format!(
                    "initialized by PostgreSQL {m}, but the binaries in {} are {}; use them or run `dbarch dev reset`",
                    install.bin_dir.display(),
                    install.version
                ),
            });
        }
        Ok(install)
    }
}

fn url(port: u16) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}
