//! One cluster: a data dir, a private socket dir and a loopback port, served by the
//! binaries of one installation.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::install::{PgInstall, last_lines, short_hash};

use super::{privilege, process};

/// How long [`Cluster::start`] waits for the server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a fast shutdown may take before escalating to an immediate one.
const FAST_STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest unix socket path (`sun_path` is 108 bytes with the terminating NUL).
const MAX_SOCKET_PATH: usize = 107;
/// Written to the log before each start, so errors quote only the latest attempt.
const LOG_MARKER: &str = "--- dbarch: starting postgres";

/// How to stop a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// SIGINT: roll back sessions, checkpoint, exit. Escalates to immediate after 30 s.
    Fast,
    /// SIGQUIT: exit at once; the next start runs crash recovery. For throwaway clusters.
    Immediate,
}

/// A PostgreSQL cluster managed by dbarch: trust authentication, reachable only on
/// 127.0.0.1 and through a private (0700) unix socket dir.
#[derive(Debug, Clone)]
pub struct Cluster {
    install: PgInstall,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    log_file: PathBuf,
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::io("127.0.0.1:0 (choosing a free port)", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("127.0.0.1:0 (choosing a free port)", e))?;
    Ok(addr.port())
}

impl Cluster {
    /// Describes an existing (or future) cluster without touching the disk. The server log
    /// defaults to `server.log` beside the data dir.
    pub fn new(
        install: PgInstall,
        data_dir: impl Into<PathBuf>,
        socket_dir: impl Into<PathBuf>,
        port: u16,
    ) -> Cluster {
        let data_dir = absolute(data_dir.into());
        let socket_dir = absolute(socket_dir.into());
        let log_file = data_dir
            .parent()
            .unwrap_or(Path::new("/"))
            .join("server.log");
        Cluster {
            install,
            data_dir,
            socket_dir,
            port,
            log_file,
        }
    }

    /// Runs initdb (superuser `postgres`, trust authentication, UTF8, C locale) into
    /// `data_dir`, which must not exist or be empty.
    pub fn init(
        install: PgInstall,
        data_dir: impl Into<PathBuf>,
        socket_dir: impl Into<PathBuf>,
        port: u16,
    ) -> Result<Cluster> {
        let cluster = Cluster::new(install, data_dir, socket_dir, port);
        cluster.initdb(true)?;
        Ok(cluster)
    }

    /// Like [`Cluster::init`] without initdb's final fsync: for throwaway clusters only.
    pub fn init_unsynced(
        install: PgInstall,
        data_dir: impl Into<PathBuf>,
        socket_dir: impl Into<PathBuf>,
        port: u16,
    ) -> Result<Cluster> {
        let cluster = Cluster::new(install, data_dir, socket_dir, port);
        cluster.initdb(false)?;
        Ok(cluster)
    }

    /// Sends the server's output to `path` instead of `server.log` beside the data dir.
    pub fn with_log_file(mut self, path: impl Into<PathBuf>) -> Cluster {
        self.log_file = absolute(path.into());
        self
    }

    pub fn install(&self) -> &PgInstall {
        &self.install
    }
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The socket dir actually used: the configured one, or when its socket path would
    /// exceed the kernel's 107-byte limit, a private dir under /tmp named by its hash.
    pub fn socket_dir(&self) -> PathBuf {
        effective_socket_dir(&self.socket_dir)
    }

    /// `postgres://postgres@127.0.0.1:PORT/DBNAME`. No password: trust authentication on
    /// loopback only, so the URL holds no secret.
    pub fn url(&self, dbname: &str) -> String {
        let db = percent_encoding::utf8_percent_encode(dbname, percent_encoding::NON_ALPHANUMERIC);
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The data dir holds a cluster (`PG_VERSION` exists).
    pub fn is_initialized(&self) -> bool {
        self.data_dir.join("PG_VERSION").is_file()
    }

    /// The postmaster's pid when it is running.
    pub fn pid(&self) -> Option<u32> {
        process::running_pid(&self.data_dir)
    }

    pub fn is_running(&self) -> bool {
        self.pid().is_some()
    }

    fn err(&self, reason: impl Into<String>) -> Error {
        Error::Server {
            data_dir: self.data_dir.clone(),
            reason: reason.into(),
        }
    }

    fn initdb(&self, sync: bool) -> Result<()> {
        let data = &self.data_dir;
        if let Some(parent) = data.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        match std::fs::read_dir(data) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(self.err("cannot initialize: the directory is not empty"));
                }
            }
            Err(_) => DirBuilder::new()
                .mode(0o700)
                .create(data)
                .map_err(|e| Error::io(data, e))?,
        }
        std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(data, e))?;
        privilege::hand_over(data)?;
        let mut cmd = privilege::command(&self.install.bin("initdb"), data)?;
        cmd.arg("-D")
            .arg(data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
            .arg("--no-instructions")
            .current_dir("/")
            .stdin(Stdio::null());
        if !sync {
            cmd.arg("--no-sync");
        }
        let out = cmd
            .output()
            .map_err(|e| self.err(format!("cannot run initdb: {e}")))?;
        if !out.status.success() {
            return Err(self.err(format!(
                "initdb ({}) failed ({}):\n{}",
                self.install.bin("initdb").display(),
                out.status,
                last_lines(&String::from_utf8_lossy(&out.stderr), 20)
            )));
        }
        // Record the settings so that a hand-run `postgres -D` behaves like dbarch's start.
        let conf = data.join("postgresql.conf");
        let mut f = OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(|e| Error::io(&conf, e))?;
        writeln!(
            f,
            "\n# Added by dbarch: loopback and a private socket dir only (trust authentication).\n\
             listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'",
            self.port,
            self.socket_dir().display().to_string().replace('\'', "''")
        )
        .map_err(|e| Error::io(&conf, e))?;
        Ok(())
    }

    /// Starts the postmaster detached (own session, output to the log file) and waits until
    /// it answers `SELECT 1` on 127.0.0.1. `extra_settings` are passed as `-c name=value`.
    /// Returns the postmaster's pid; a running server is left alone.
    pub fn start(&self, extra_settings: &[(&str, &str)]) -> Result<u32> {
        if let Some(pid) = self.pid() {
            return Ok(pid);
        }
        if !self.is_initialized() {
            return Err(self.err("not initialized (no PG_VERSION); run initdb first"));
        }
        self.clear_stale_pid_file()?;
        let socket_dir = self.prepare_socket_dir()?;

        if let Some(parent) = self.log_file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .map_err(|e| Error::io(&self.log_file, e))?;
        writeln!(log, "{LOG_MARKER} (port {}) ---", self.port)
            .map_err(|e| Error::io(&self.log_file, e))?;
        let log_err = log.try_clone().map_err(|e| Error::io(&self.log_file, e))?;

        let mut cmd = privilege::command(&self.install.bin("postgres"), &self.data_dir)?;
        cmd.arg("-D")
            .arg(&self.data_dir)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if self.install.has_pg_stat_statements {
            cmd.args(["-c", "shared_preload_libraries=pg_stat_statements"]);
        }
        for (name, value) in extra_settings {
            cmd.arg("-c").arg(format!("{name}={value}"));
        }
        cmd.current_dir("/")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        // Its own session: the server outlives us and ignores our terminal's signals.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| self.err(format!("cannot run postgres: {e}")))?;
        let pid = child.id();
        self.wait_ready(child)?;
        Ok(pid)
    }

    /// Stops the server with a fast shutdown; false if it was not running.
    pub fn stop(&self) -> Result<bool> {
        self.stop_with(StopMode::Fast)
    }

    /// Stops the server and waits until the postmaster is gone; false if it was not running.
    pub fn stop_with(&self, mode: StopMode) -> Result<bool> {
        stop_data_dir(&self.data_dir, mode)
    }

    /// A postmaster.pid whose process is gone (crash, kill -9, reboot) would block the start
    /// when its pid gets reused: remove it, once the dead server's backends have exited.
    fn clear_stale_pid_file(&self) -> Result<()> {
        let pid_file = self.data_dir.join("postmaster.pid");
        if !pid_file.exists() {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = process::processes_in(&self.data_dir);
            if left.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(self.err(format!(
                    "the postmaster is gone but old server processes still use the data dir (pids {left:?}); stop them and retry"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        match std::fs::remove_file(&pid_file) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(&pid_file, e)),
        }
    }

    fn prepare_socket_dir(&self) -> Result<PathBuf> {
        let dir = self.socket_dir();
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) => {
                // The /tmp fallback must really be ours, not something planted there.
                let ours = meta.uid() == unsafe { libc::geteuid() }
                    || matches!(privilege::mode(), privilege::Mode::Setpriv { uid, .. } if *uid == meta.uid());
                if !meta.is_dir() || !ours {
                    return Err(self.err(format!(
                        "socket dir {} is not a directory owned by us",
                        dir.display()
                    )));
                }
            }
            Err(_) => {
                if let Some(parent) = dir.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                }
                match DirBuilder::new().mode(0o700).create(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(Error::io(&dir, e)),
                }
            }
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(&dir, e))?;
        privilege::hand_over(&dir)?;
        Ok(dir)
    }

    /// Polls until the server answers on its port, or fails with the log's last lines.
    fn wait_ready(&self, mut child: Child) -> Result<()> {
        let port = self.port;
        let data_dir = self.data_dir.clone();
        // On a thread of its own: callers may be inside a tokio runtime, which cannot block
        // on another one.
        let outcome = std::thread::spawn(move || -> std::result::Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot create a tokio runtime: {e}"))?;
            let deadline = Instant::now() + START_TIMEOUT;
            let mut last = String::from("no answer yet");
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => return Err(format!("postgres exited ({status})")),
                    Ok(None) => {}
                    Err(e) => return Err(format!("cannot watch postgres: {e}")),
                }
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
                if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    match rt.block_on(server_data_dir(port)) {
                        Ok(dir) if same_dir(Path::new(&dir), &data_dir) => return Ok(()),
                        Ok(dir) => {
                            return Err(format!(
                                "port {port} is served by another PostgreSQL (data dir {dir})"
                            ));
                        }
                        Err(e) => last = e,
                    }
                }
                if Instant::now() >= deadline {
                    return Err(format!(
                        "not accepting connections on 127.0.0.1:{port} after {}s ({last})",
                        START_TIMEOUT.as_secs()
                    ));
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        })
        .join()
        .unwrap_or_else(|_| Err("the readiness check panicked".into()));
        outcome.map_err(|reason| {
            self.err(format!(
                "start failed: {reason}\nlast lines of {}:\n{}",
                self.log_file.display(),
                self.log_tail(20)
            ))
        })
    }

    /// The last `n` lines the latest start wrote to the log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log_file).unwrap_or_default();
        let latest = text.rfind(LOG_MARKER).map_or(&text[..], |i| &text[i..]);
        last_lines(latest, n)
    }
}

/// `socket_dir`, or its replacement under /tmp when the socket path would be too long.
pub(crate) fn effective_socket_dir(socket_dir: &Path) -> PathBuf {
    let socket_len = socket_dir.as_os_str().len() + "/.s.PGSQL.".len() + 5;
    if socket_len <= MAX_SOCKET_PATH {
        return socket_dir.to_path_buf();
    }
    let hash = short_hash(socket_dir.as_os_str().as_encoded_bytes());
    PathBuf::from(format!("/tmp/dbarch-{hash}"))
}

/// Removes the /tmp replacement of `socket_dir` (if one is used) once the server is stopped,
/// so that deleted projects leave nothing behind in /tmp.
pub(crate) fn remove_socket_dir_replacement(socket_dir: &Path) {
    let dir = effective_socket_dir(socket_dir);
    if dir != socket_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Stops the server of `data_dir` (no installation needed: signals only).
pub(crate) fn stop_data_dir(data_dir: &Path, mode: StopMode) -> Result<bool> {
    let Some(pid) = process::running_pid(data_dir) else {
        return Ok(false);
    };
    let exited = match mode {
        StopMode::Fast => {
            process::signal(pid, libc::SIGINT);
            process::wait_exit(pid, FAST_STOP_TIMEOUT) || {
                process::signal(pid, libc::SIGQUIT);
                process::wait_exit(pid, Duration::from_secs(10))
            }
        }
        StopMode::Immediate => {
            process::signal(pid, libc::SIGQUIT);
            process::wait_exit(pid, Duration::from_secs(10))
        }
    } || {
        process::signal(pid, libc::SIGKILL);
        process::wait_exit(pid, Duration::from_secs(5))
    };
    if exited {
        Ok(true)
    } else {
        Err(Error::Server {
            data_dir: data_dir.to_path_buf(),
            reason: format!("the postmaster (pid {pid}) does not exit, even after SIGKILL"),
        })
    }
}

async fn server_data_dir(port: u16) -> std::result::Result<String, String> {
    let (client, conn) = tokio_postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname("postgres")
        .connect_timeout(Duration::from_secs(2))
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    let conn = tokio::spawn(conn);
    let row = client
        .query_one("SELECT current_setting('data_directory')", &[])
        .await
        .map_err(|e| e.to_string());
    drop(client);
    let _ = conn.await;
    row.map(|r| r.get(0))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

/// Creates `file` and takes an exclusive lock on it (released when the file is dropped).
pub(crate) fn lock_file(path: &Path) -> Result<File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.lock().map_err(|e| Error::io(path, e))?;
    Ok(f)
}
