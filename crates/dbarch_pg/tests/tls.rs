//! `sslmode` semantics against a real PostgreSQL 15 with TLS, a CA and a server certificate
//! generated here with the `openssl` CLI.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dbarch_pg::{ConnConfig, Error, SessionOptions, connect};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const PASSWORD: &str = "s3cret-Pa55";
const NOSSL_PASSWORD: &str = "n0ssl-Pa55";

/// A PostgreSQL 15 server with `ssl=on`, listening on 127.0.0.1 and 127.0.0.2 (the
/// certificate names only 127.0.0.1 and localhost). `postgres` may connect with or without
/// TLS; `nossluser` only without (`hostnossl`). Stopped on drop.
struct TlsServer {
    dir: tempfile::TempDir,
    port: u16,
    postmaster: std::process::Child,
}

impl TlsServer {
    fn start() -> TlsServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        make_certs(d);
        std::fs::write(d.join("pw"), PASSWORD).unwrap();
        let data = d.join("data");
        run(as_unprivileged(&format!("{PG_BIN}/initdb"))
            .args([
                "-D",
                path(&data),
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", d.join("pw").display())));
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             hostnossl all nossluser 127.0.0.0/8 scram-sha-256\n\
             host all postgres 127.0.0.0/8 scram-sha-256\n",
        )
        .unwrap();
        let port = free_port();
        let sockets = d.join("sock");
        std::fs::create_dir(&sockets).unwrap();
        let log = std::fs::File::create(d.join("log")).unwrap();
        let postmaster = as_unprivileged(&format!("{PG_BIN}/postgres"))
            .args(["-D", path(&data), "-k", path(&sockets)])
            .args(["-h", "127.0.0.1,127.0.0.2", "-p", &port.to_string()])
            .args(["-c", "ssl=on", "-c", "fsync=off"])
            .arg("-c")
            .arg(format!("ssl_cert_file={}", d.join("server.crt").display()))
            .arg("-c")
            .arg(format!("ssl_key_file={}", d.join("server.key").display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn postgres");
        let server = TlsServer {
            dir,
            port,
            postmaster,
        };
        server.wait_ready(&data);
        // The role that may only connect without TLS (the socket uses trust).
        let out = Command::new(format!("{PG_BIN}/psql"))
            .args([
                "-h",
                path(&sockets),
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-c"])
            .arg(format!(
                "CREATE ROLE nossluser LOGIN PASSWORD '{NOSSL_PASSWORD}'"
            ))
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        server
    }

    fn wait_ready(&self, data: &Path) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pidfile = std::fs::read_to_string(data.join("postmaster.pid")).unwrap_or_default();
            if pidfile.lines().nth(7).is_some_and(|l| l.trim() == "ready") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server did not start: {}",
                std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// A URL as `postgres` with the right password.
    fn url(&self, host: &str, params: &str) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@{host}:{}/postgres?{params}",
            self.port
        )
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let pidfile = self.dir.path().join("data/postmaster.pid");
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        {
            // SAFETY: plain kill(2) on the postmaster this test started (fast shutdown).
            unsafe { libc::kill(pid, libc::SIGINT) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while pidfile.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // Reap the postmaster (unshare execs it, so it is our child); SIGKILL if it hangs.
        if pidfile.exists() {
            let _ = self.postmaster.kill();
        }
        let _ = self.postmaster.wait();
    }
}

/// initdb and postgres refuse to run as root: run them as uid 1000 in a user namespace.
fn as_unprivileged(bin: &str) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-user=1000", "--map-group=1000", "--", bin]);
    cmd
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// ca.crt signs server.crt (SAN IP:127.0.0.1, DNS:localhost); other-ca.crt signs nothing.
fn make_certs(d: &Path) {
    let openssl = |args: &[&str]| run(Command::new("/usr/bin/openssl").current_dir(d).args(args));
    for ca in ["ca", "other-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=dbarch test {ca}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    }
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        d.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
}

async fn try_ssl(url: &str) -> Result<bool, Error> {
    let cfg = ConnConfig::parse(url)?;
    let client = connect(&cfg, &SessionOptions::default()).await?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("pg_stat_ssl");
    Ok(row.get(0))
}

async fn ssl_used(url: &str) -> bool {
    try_ssl(url).await.unwrap_or_else(|e| panic!("{url}: {e}"))
}

async fn fails(url: &str) -> String {
    match try_ssl(url).await {
        Ok(ssl) => panic!("{url}: connected (ssl={ssl}) but should have failed"),
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains(PASSWORD), "password leaked: {msg}");
            msg
        }
    }
}

#[tokio::test]
async fn sslmodes_and_verification() {
    let s = TlsServer::start();
    let (ca, other) = (s.file("ca.crt"), s.file("other-ca.crt"));

    assert!(!ssl_used(&s.url("127.0.0.1", "sslmode=disable")).await);
    assert!(ssl_used(&s.url("127.0.0.1", "sslmode=prefer")).await);
    // allow: plaintext first (a missing root file only matters for verify-*).
    assert!(!ssl_used(&s.url("127.0.0.1", "sslmode=allow&sslrootcert=/nonexistent")).await);
    assert!(ssl_used(&s.url("127.0.0.1", "sslmode=require")).await);
    // No verification in require: a host name not in the certificate is fine.
    assert!(ssl_used(&s.url("127.0.0.2", "sslmode=require")).await);

    // verify-ca: the chain, not the name.
    assert!(ssl_used(&s.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"))).await);
    assert!(ssl_used(&s.url("127.0.0.2", &format!("sslmode=verify-ca&sslrootcert={ca}"))).await);
    let msg = fails(&s.url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={other}"),
    ))
    .await;
    assert!(
        msg.contains("not signed by a CA") && msg.contains("other-ca.crt"),
        "{msg}"
    );

    // verify-full: chain and name (IP and DNS SANs).
    let full = format!("sslmode=verify-full&sslrootcert={ca}");
    assert!(ssl_used(&s.url("127.0.0.1", &full)).await);
    assert!(ssl_used(&s.url("localhost", &full)).await);
    let msg = fails(&s.url("127.0.0.2", &full)).await;
    assert!(msg.contains("not valid for host \"127.0.0.2\""), "{msg}");
    let msg = fails(&s.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other}"),
    ))
    .await;
    assert!(msg.contains("not signed by a CA"), "{msg}");

    // require with a root certificate behaves like verify-ca (libpq).
    assert!(ssl_used(&s.url("127.0.0.2", &format!("sslmode=require&sslrootcert={ca}"))).await);
    let msg = fails(&s.url("127.0.0.1", &format!("sslmode=require&sslrootcert={other}"))).await;
    assert!(msg.contains("not signed by a CA"), "{msg}");

    // verify-* without the file: the error names it.
    let msg = fails(&s.url(
        "127.0.0.1",
        "sslmode=verify-full&sslrootcert=/nonexistent/root.crt",
    ))
    .await;
    assert!(
        msg.contains("/nonexistent/root.crt") && msg.contains("does not exist"),
        "{msg}"
    );

    // A conninfo string works the same way.
    let conninfo = format!(
        "host=localhost port={} user=postgres password='{PASSWORD}' dbname=postgres sslmode=verify-full sslrootcert='{ca}'",
        s.port
    );
    assert!(ssl_used(&conninfo).await);
}

#[tokio::test]
async fn hostnossl_require_fails_prefer_falls_back() {
    let s = TlsServer::start();
    let url = |mode: &str| {
        format!(
            "postgres://nossluser:{NOSSL_PASSWORD}@127.0.0.1:{}/postgres?sslmode={mode}",
            s.port
        )
    };
    let msg = match try_ssl(&url("require")).await {
        Ok(_) => panic!("require should fail against hostnossl"),
        Err(e) => e.to_string(),
    };
    assert!(msg.contains("no pg_hba.conf entry"), "{msg}");
    assert!(!msg.contains(NOSSL_PASSWORD), "{msg}");
    assert!(!ssl_used(&url("prefer")).await);
    assert!(!ssl_used(&url("allow")).await);
    assert!(!ssl_used(&url("disable")).await);
}

#[tokio::test]
async fn passwords_authenticate_and_never_leak() {
    let s = TlsServer::start();
    // scram-sha-256 with the password from the URL, over TLS and in plaintext.
    assert!(ssl_used(&s.url("127.0.0.1", "sslmode=require")).await);
    assert!(!ssl_used(&s.url("127.0.0.1", "sslmode=disable")).await);

    let wrong = "Wr0ng-Secret-Value";
    for mode in ["disable", "require"] {
        let url = format!(
            "postgres://postgres:{wrong}@127.0.0.1:{}/postgres?sslmode={mode}",
            s.port
        );
        let err = connect(
            &ConnConfig::parse(&url).unwrap(),
            &SessionOptions::default(),
        )
        .await
        .expect_err("wrong password");
        assert!(matches!(err, Error::Connect { .. }), "{err:?}");
        assert!(!err.is_input());
        let (msg, dbg) = (err.to_string(), format!("{err:?}"));
        assert!(
            msg.contains("password authentication failed for user \"postgres\""),
            "{msg}"
        );
        assert!(msg.contains("postgres:****@"), "{msg}");
        assert!(
            !msg.contains(wrong) && !dbg.contains(wrong),
            "{msg} / {dbg}"
        );
    }

    // No password at all: say so, rather than a bare protocol error.
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
        s.port
    );
    let msg = connect(
        &ConnConfig::parse(&url).unwrap(),
        &SessionOptions::default(),
    )
    .await
    .expect_err("no password")
    .to_string();
    assert!(msg.contains("requires a password"), "{msg}");

    // A missing database is named.
    let url = format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{}/nope?sslmode=disable",
        s.port
    );
    let msg = connect(
        &ConnConfig::parse(&url).unwrap(),
        &SessionOptions::default(),
    )
    .await
    .expect_err("no database")
    .to_string();
    assert!(msg.contains("database \"nope\" does not exist"), "{msg}");
    assert!(!msg.contains(PASSWORD), "{msg}");
}
