//! A loopback standby for tests that need a replica: `pg_basebackup -R` of a throwaway
//! primary, started on another port, stopped on drop.

use dbarch_pg::{Cluster, EphemeralServer};

pub struct Standby {
    pub cluster: Cluster,
    _dir: tempfile::TempDir,
}

impl Standby {
    /// A streaming standby of `primary` (panics with the tool's message if it cannot be made:
    /// a test that cannot get its server fails).
    pub fn of(primary: &EphemeralServer) -> Standby {
        let dir = tempfile::Builder::new()
            .prefix("dbarch-standby-")
            .tempdir()
            .expect("a temp dir");
        let data = dir.path().join("pgdata");
        let install = primary.install().clone();
        let out = std::process::Command::new(install.bin("pg_basebackup"))
            .args(["-h", "127.0.0.1", "-p", &primary.port().to_string()])
            .args(["-U", "postgres", "-R", "-X", "stream", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .expect("running pg_basebackup");
        assert!(
            out.status.success(),
            "pg_basebackup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = Cluster::new(
            install,
            &data,
            dir.path().join("run"),
            dbarch_pg::server::free_port().expect("a free port"),
        );
        cluster
            .start(&[("fsync", "off")])
            .unwrap_or_else(|e| panic!("starting the standby: {e}\n{}", cluster.log_tail(30)));
        Standby { cluster, _dir: dir }
    }

    /// A URL of database `dbname` on the standby.
    pub fn url(&self, dbname: &str) -> String {
        self.cluster.url(dbname)
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        let _ = self.cluster.stop();
    }
}
