//! Sessions against a real PostgreSQL 15 (the shared test server of `dbarch_testing`).

use std::time::Duration;

use dbarch_pg::{ConnConfig, ConnSource, Error, SessionOptions, connect};
use dbarch_testing::TestServer;

async fn show(client: &tokio_postgres::Client, setting: &str) -> String {
    client
        .query_one(&format!("SHOW {setting}"), &[])
        .await
        .unwrap_or_else(|e| panic!("SHOW {setting}: {e}"))
        .get(0)
}

#[tokio::test]
async fn default_session_is_read_only_with_timeouts() {
    let db = TestServer::pg15().create_db().await;
    // The string's application_name is overridden by the session's.
    let cfg = ConnConfig::parse(&format!("{}?application_name=other", db.url())).unwrap();
    let client = connect(&cfg, &SessionOptions::default()).await.unwrap();
    assert_eq!(show(&client, "application_name").await, "dbarch");
    assert_eq!(show(&client, "statement_timeout").await, "1min");
    assert_eq!(show(&client, "default_transaction_read_only").await, "on");

    let err = client
        .batch_execute("CREATE TABLE t (id int)")
        .await
        .expect_err("a write in a read-only session");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION)
    );
    assert_eq!(err.code().map(|c| c.code()), Some("25006"));
}

#[tokio::test]
async fn writer_session_writes_and_sets_lock_timeout() {
    let db = TestServer::pg15().create_db().await;
    let cfg = ConnConfig::parse(&db.url()).unwrap();
    let opts = SessionOptions {
        application_name: "dbarch-migrate".into(),
        lock_timeout: Some(Duration::from_millis(2500)),
        statement_timeout: None,
        ..SessionOptions::writer()
    };
    let client = connect(&cfg, &opts).await.unwrap();
    client
        .batch_execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    assert_eq!(show(&client, "application_name").await, "dbarch-migrate");
    assert_eq!(show(&client, "lock_timeout").await, "2500ms");
    assert_eq!(show(&client, "statement_timeout").await, "0");
}

#[tokio::test]
async fn environment_and_multiple_hosts() {
    let db = TestServer::pg15().create_db().await;
    let port = TestServer::pg15().port().to_string();
    let vars = [
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", db.name.as_str()),
        ("HOME", "/nonexistent"),
    ];
    let env = |k: &str| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    };
    let (cfg, source) = ConnConfig::resolve(None, &env).unwrap().unwrap();
    assert_eq!(source, ConnSource::Environment);
    let client = connect(&cfg, &SessionOptions::default()).await.unwrap();
    assert_eq!(show(&client, "port").await, port);

    // The first host is down: the second one is used.
    let dead = free_port();
    let url = format!(
        "postgres://postgres@127.0.0.1:{dead},127.0.0.1:{port}/{}",
        db.name
    );
    let client = connect(
        &ConnConfig::parse(&url).unwrap(),
        &SessionOptions::default(),
    )
    .await
    .unwrap();
    let db_name: String = client
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(db_name, db.name);

    // A missing database is named.
    let cfg = ConnConfig::tcp("127.0.0.1", port.parse().unwrap(), "postgres", "no_such_db");
    let msg = connect(&cfg, &SessionOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("database \"no_such_db\" does not exist"),
        "{msg}"
    );
}

#[tokio::test]
async fn server_without_tls() {
    let db = TestServer::pg15().create_db().await;
    let ssl = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    // prefer (the default) falls back to plaintext when the server has no TLS.
    let client = connect(
        &ConnConfig::parse(&db.url()).unwrap(),
        &SessionOptions::default(),
    )
    .await
    .unwrap();
    assert!(!client.query_one(ssl, &[]).await.unwrap().get::<_, bool>(0));
    let cfg = ConnConfig::parse(&format!("{}?sslmode=require", db.url())).unwrap();
    let msg = connect(&cfg, &SessionOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("does not accept TLS"), "{msg}");
}

#[tokio::test]
async fn unreachable_server_is_a_connect_error_without_password() {
    let port = free_port();
    let url = format!("postgres://app:Very-Secret-1@127.0.0.1:{port}/app");
    let err = connect(
        &ConnConfig::parse(&url).unwrap(),
        &SessionOptions::default(),
    )
    .await
    .expect_err("nothing listens there");
    let Error::Connect { target, reason } = &err else {
        panic!("expected Error::Connect, got {err:?}");
    };
    assert_eq!(target, &format!("postgres://app:****@127.0.0.1:{port}/app"));
    assert!(reason.contains("connection refused"), "{reason}");
    assert!(reason.contains("dbarch dev start"), "{reason}");
    assert!(!err.is_input());
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("Very-Secret-1"), "{text}");
    }

    // Both hosts down: each one's reason is reported.
    let other = free_port();
    let url = format!("postgres://app:Very-Secret-1@127.0.0.1:{port},localhost:{other}/app");
    let msg = connect(
        &ConnConfig::parse(&url).unwrap(),
        &SessionOptions::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains(&format!("127.0.0.1:{port}: connection refused")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("localhost:{other}: connection refused")),
        "{msg}"
    );
    assert!(!msg.contains("Very-Secret-1"), "{msg}");

    // A Unix socket directory without a server.
    let dir = tempfile::tempdir().unwrap();
    let cfg =
        ConnConfig::parse(&format!("host={} port=5999 user=u", dir.path().display())).unwrap();
    let msg = connect(&cfg, &SessionOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(".s.PGSQL.5999") && msg.contains("is the server running"),
        "{msg}"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
