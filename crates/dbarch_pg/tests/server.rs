//! Server manager tests against real PostgreSQL servers: each dev server test gets its own
//! project dir (and so its own cluster and port), so tests are independent and parallel-safe.

use std::time::{Duration, Instant};

use dbarch_pg::server::privilege;
use dbarch_pg::{DevServer, DiscoverOptions, EphemeralServer, Error, PgInstall, ShadowChoice};
use dbarch_testing::TestServer;

/// A dev server in a fresh project dir, stopped on drop even when the test fails.
struct Project {
    dir: tempfile::TempDir,
    dev: DevServer,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dbarch.toml"), "").unwrap();
        let sub = dir.path().join("src").join("deep");
        std::fs::create_dir_all(&sub).unwrap();
        // Located from a subdirectory: the root is where dbarch.toml is.
        let dev = DevServer::locate(&sub);
        assert_eq!(dev.root(), dir.path());
        Project { dir, dev }
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self.dev.stop();
    }
}

fn opts() -> DiscoverOptions {
    DiscoverOptions::default()
}

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    tokio::spawn(conn);
    client
}

async fn scalar_i32(url: &str, sql: &str) -> i32 {
    client(url).await.query_one(sql, &[]).await.unwrap().get(0)
}

/// Waits until `pid` is gone, reaping it if it is our child (the dev server was spawned by
/// this test process).
fn wait_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        unsafe {
            libc::waitpid(pid as i32, std::ptr::null_mut(), libc::WNOHANG);
            if libc::kill(pid as i32, 0) != 0 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "pid {pid} still alive");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn dev_start_is_idempotent_and_stop_keeps_port() {
    let p = Project::new();
    let before = p.dev.status();
    assert!(!before.running);
    assert_eq!(before.port, None);
    assert_eq!(p.dev.url(), None);

    let s1 = p.dev.start(&opts()).unwrap();
    assert!(s1.running, "{s1:?}");
    let version = s1.version.clone().unwrap();
    assert!(version.starts_with("18."), "{version}");
    let (pid, port) = (s1.pid.unwrap(), s1.port.unwrap());
    assert!(p.dir.path().join(".dbarch/pgdata/PG_VERSION").is_file());
    assert!(p.dir.path().join(".dbarch/state.json").is_file());

    let s2 = p.dev.start(&opts()).unwrap();
    assert_eq!((s2.pid, s2.port), (Some(pid), Some(port)), "second start");

    let url = p.dev.url().unwrap();
    assert_eq!(
        url,
        format!("postgres://postgres@127.0.0.1:{port}/postgres")
    );
    assert_eq!(scalar_i32(&url, "SELECT 1").await, 1);
    // pg_stat_statements is preloaded when the installation has it.
    let preload: String = client(&url)
        .await
        .query_one("SHOW shared_preload_libraries", &[])
        .await
        .unwrap()
        .get(0);
    assert!(preload.contains("pg_stat_statements"), "{preload}");

    assert!(p.dev.stop().unwrap(), "was running");
    let stopped = p.dev.status();
    assert!(!stopped.running);
    assert_eq!(stopped.pid, None);
    assert_eq!(stopped.port, Some(port), "the port is remembered");
    assert!(!p.dev.stop().unwrap(), "second stop: was not running");

    let s3 = p.dev.start(&opts()).unwrap();
    assert!(s3.running);
    assert_eq!(s3.port, Some(port), "restart keeps the port");
    assert_eq!(scalar_i32(&url, "SELECT 2").await, 2);
}

#[tokio::test]
async fn dev_runs_as_root_through_unprivileged_user() {
    let p = Project::new();
    let status = p.dev.start(&opts()).unwrap();
    assert!(status.running);
    if unsafe { libc::geteuid() } == 0 {
        // initdb and postgres refuse root: the server ran through a user namespace or setpriv.
        assert!(
            matches!(
                privilege::mode(),
                privilege::Mode::UserNamespace | privilege::Mode::Setpriv { .. }
            ),
            "{:?}",
            privilege::mode()
        );
    } else {
        assert_eq!(privilege::mode(), &privilege::Mode::Direct);
    }
    let user: String = client(&p.dev.url().unwrap())
        .await
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(user, "postgres");
}

#[tokio::test]
async fn dev_start_recovers_after_crash() {
    let p = Project::new();
    let s1 = p.dev.start(&opts()).unwrap();
    let (pid, port) = (s1.pid.unwrap(), s1.port.unwrap());
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    wait_gone(pid);
    assert!(
        p.dir.path().join(".dbarch/pgdata/postmaster.pid").exists(),
        "stale pid file"
    );
    assert!(!p.dev.status().running, "a dead pid is not running");

    let s2 = p.dev.start(&opts()).unwrap();
    assert!(s2.running);
    assert_ne!(s2.pid, Some(pid));
    assert_eq!(s2.port, Some(port));
    assert_eq!(scalar_i32(&p.dev.url().unwrap(), "SELECT 1").await, 1);
}

#[tokio::test]
async fn dev_reset_drops_data_and_keeps_port() {
    let p = Project::new();
    let port = p.dev.start(&opts()).unwrap().port;
    let url = p.dev.url().unwrap();
    client(&url)
        .await
        .batch_execute("CREATE TABLE kept_nowhere (id int); INSERT INTO kept_nowhere VALUES (1)")
        .await
        .unwrap();
    let s = p.dev.reset(&opts()).unwrap();
    assert!(s.running);
    assert_eq!(s.port, port);
    assert!(
        p.dir
            .path()
            .join(".dbarch/pgdata/dbarch-dev-cluster")
            .is_file()
    );
    let n = scalar_i32(
        &url,
        "SELECT count(*)::int FROM pg_class WHERE relname = 'kept_nowhere'",
    )
    .await;
    assert_eq!(n, 0, "the table is gone after reset");
}

#[test]
fn dev_reset_refuses_foreign_data_dir() {
    let p = Project::new();
    let data = p.dir.path().join(".dbarch/pgdata");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("precious.txt"), "not a cluster").unwrap();
    let err = p.dev.reset(&opts()).unwrap_err();
    assert!(err.to_string().contains("refusing to delete"), "{err}");
    assert!(data.join("precious.txt").is_file());
}

#[test]
fn concurrent_dev_starts_agree() {
    let p = Project::new();
    let root = p.dir.path().to_path_buf();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let root = root.clone();
            std::thread::spawn(move || DevServer::locate(&root).start(&opts()).unwrap())
        })
        .collect();
    let statuses: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(statuses.iter().all(|s| s.running));
    assert!(
        statuses
            .windows(2)
            .all(|w| w[0].pid == w[1].pid && w[0].port == w[1].port)
    );
}

#[tokio::test]
async fn dev_psql_and_long_paths() {
    // A project path so long that its socket path would exceed the kernel's 107 bytes.
    let p = Project::new();
    let long = p.dir.path().join("x".repeat(100));
    std::fs::create_dir_all(&long).unwrap();
    std::fs::write(long.join("dbarch.toml"), "").unwrap();
    let dev = DevServer::locate(&long);
    let status = dev.start(&opts()).unwrap();
    let _stop = StopOnDrop(&dev);
    assert!(status.running);
    let out = dev
        .psql_command()
        .unwrap()
        .args(["-Atc", "SELECT 40 + 2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
}

struct StopOnDrop<'a>(&'a DevServer);
impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.stop();
    }
}

#[tokio::test]
async fn ephemeral_server_has_pgvector_and_vanishes() {
    let install = TestServer::pg18().install().clone();
    let server = EphemeralServer::start(&install).unwrap();
    let data_dir = server.data_dir().to_path_buf();
    let pid = dbarch_pg::Cluster::new(install.clone(), &data_dir, "/unused", server.port())
        .pid()
        .expect("running");
    let c = client(&server.url("postgres")).await;
    c.batch_execute(
        "CREATE EXTENSION vector; CREATE TABLE e (v vector(3)); INSERT INTO e VALUES ('[1,2,3]')",
    )
    .await
    .unwrap();
    let dims: i32 = c
        .query_one("SELECT vector_dims(v) FROM e", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(dims, 3);
    drop(c);

    // A second one runs beside it, from the same cached template.
    let other = EphemeralServer::start(&install).unwrap();
    assert_ne!(other.port(), server.port());
    drop(other);

    drop(server);
    assert!(!data_dir.exists(), "{} is removed", data_dir.display());
    wait_gone(pid);
}

#[test]
fn discovery_finds_major_15_when_asked() {
    let install = PgInstall::discover(&DiscoverOptions {
        major: Some(15),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(install.major, 15);
    assert!(install.version.starts_with("15."), "{}", install.version);
    assert!(install.bin("postgres").is_file());
    assert!(install.share_dir().join("extension").is_dir());

    let pg18 = PgInstall::discover(&DiscoverOptions {
        require_pgvector: true,
        ..Default::default()
    })
    .unwrap();
    assert!(pg18.has_pgvector && pg18.has_pg_stat_statements);
    assert!(!PgInstall::all_candidates().is_empty());
}

#[test]
fn shadow_servers_use_the_target_major_or_say_why_not() {
    // PostgreSQL 15 exists (Debian's): a PG15 target gets a PG15 shadow, without fallback.
    let pg15 = ShadowChoice::for_target(15, false, &DiscoverOptions::default()).unwrap();
    assert_eq!(pg15.install.major, 15);
    assert!(pg15.fallback_reason.is_none());
    // A PG15 target whose schema needs pgvector: Debian's 15 has none, so the shadow falls
    // back to the newest installation with pgvector and says so.
    let vector15 = ShadowChoice::for_target(15, true, &DiscoverOptions::default()).unwrap();
    assert!(vector15.install.has_pgvector);
    let reason = vector15.fallback_reason.expect("a reason");
    assert!(
        reason.contains("no PostgreSQL 15 binaries with pgvector"),
        "{reason}"
    );
    // PostgreSQL 16: used when installed, else a fallback with a reason.
    let pg16 = ShadowChoice::for_target(16, false, &DiscoverOptions::default()).unwrap();
    assert_eq!(pg16.install.major == 16, pg16.fallback_reason.is_none());
}

#[test]
fn pg_bin_without_binaries_is_bad_install() {
    let empty = tempfile::tempdir().unwrap();
    let err = PgInstall::discover(&DiscoverOptions {
        pg_bin: Some(empty.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, Error::BadInstall { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&empty.path().display().to_string())
    );
    assert!(err.is_input());
}

#[test]
fn no_binaries_error_when_nothing_fits() {
    let err = PgInstall::discover(&DiscoverOptions {
        major: Some(11),
        provision: true, // the wheel is 18: provisioning cannot help
        ..Default::default()
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::NoBinaries(_)), "{msg}");
    assert!(
        msg.contains("--pg-bin") && msg.contains("DBARCH_PG_BIN"),
        "{msg}"
    );
}

#[tokio::test]
async fn test_harness_databases_are_isolated_and_dropped() {
    for server in [TestServer::pg18(), TestServer::pg15()] {
        let db = server.create_db().await;
        let c = db.client().await;
        c.batch_execute("CREATE TABLE t (id int)").await.unwrap();
        let version: i32 = c
            .query_one(
                "SELECT current_setting('server_version_num')::int / 10000",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(version as u32, server.install().major);
        let other = server.create_db().await;
        assert_ne!(other.name, db.name);
        let name = db.name.clone();
        drop(c);
        drop(db);
        let admin = client(&server.admin_url()).await;
        let left: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(left, 0, "{name} dropped");
    }
    // Shared: the same server for the whole run.
    assert_eq!(TestServer::pg18().port(), TestServer::pg18().port());
}
