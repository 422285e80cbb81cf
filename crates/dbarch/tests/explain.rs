//! `dbarch explain` end to end: output formats, exit codes, @FILE, rollback of DML. Real
//! servers; a child environment without the libpq variables so that the tests are hermetic.

use dbarch_testing::{TestDb, TestServer};

mod common;
use common::*;

/// A database with a 200k-row table whose `category` filter is selective and unindexed.
async fn db() -> TestDb {
    let db = TestServer::pg18().create_db().await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE t (id int, category int, payload text);
             INSERT INTO t SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 200000) g;
             ANALYZE t;",
        )
        .await
        .unwrap();
    db
}

fn dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("dbarch.toml"), "").unwrap();
    d
}

#[tokio::test]
async fn text_output_from_a_file_with_fail_on() {
    let db = db().await;
    let url = db.url();
    let d = dir();
    std::fs::write(
        d.path().join("q.sql"),
        "-- the slow one\nSELECT * FROM t WHERE category = 42;\n",
    )
    .unwrap();
    let args = ["explain", "@q.sql", "--analyze", "--url", &url];
    let r = run_in(d.path(), &args);
    r.code(0);
    assert!(r.stdout.contains("Seq Scan on t  ["), "{}", r.stdout);
    assert!(r.stdout.contains("Execution: "), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("warning[Q001] seq-scan-selective-filter: Seq Scan on t reads 200000 rows"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("  --> q.sql"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("= fix: CREATE INDEX CONCURRENTLY ON t (category);"),
        "{}",
        r.stdout
    );
    let mut strict = args.to_vec();
    strict.extend(["--fail-on", "warning"]);
    run_in(d.path(), &strict).code(1);
}

#[tokio::test]
async fn json_document() {
    let db = db().await;
    let url = db.url();
    let d = dir();
    let r = run_in(
        d.path(),
        &[
            "explain",
            "SELECT * FROM t WHERE category = $1",
            "--params",
            "42",
            "--analyze",
            "--format",
            "json",
            "--url",
            &url,
        ],
    );
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["plan"]["plan"]["node_type"], "Seq Scan");
    assert_eq!(doc["plan"]["plan"]["relation_name"], "t");
    assert_eq!(doc["plan"]["analyzed"], true);
    assert_eq!(doc["diagnostics"][0]["code"], "Q001");
    assert_eq!(doc["diagnostics"][0]["severity"], "warning");
    assert!(
        doc["diagnostics"][0].get("line").is_none(),
        "absent fields are omitted"
    );
    assert_eq!(doc["summary"]["warnings"], 1);
    assert_eq!(doc["summary"]["errors"], 0);
}

#[tokio::test]
async fn dml_is_rolled_back_and_plain_explain_is_read_only() {
    let db = db().await;
    let url = db.url();
    let d = dir();
    run_in(
        d.path(),
        &[
            "explain",
            "--analyze",
            "DELETE FROM t WHERE id <= 1000",
            "--url",
            &url,
        ],
    )
    .code(0);
    run_in(d.path(), &["explain", "DELETE FROM t", "--url", &url]).code(0);
    let n: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 200_000);
}

#[tokio::test]
async fn rejected_query_is_an_input_error_with_position() {
    let db = db().await;
    let url = db.url();
    let d = dir();
    let r = run_in(
        d.path(),
        &[
            "explain",
            "SELECT * FROM t\nWHERE categori = 1",
            "--url",
            &url,
        ],
    );
    r.code(2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.starts_with("error: PostgreSQL rejected the query: column \"categori\" does not exist (at line 2, column 7)"),
        "{}",
        r.stderr
    );
    let r = run_in(d.path(), &["explain", "@missing.sql", "--url", &url]);
    r.code(2);
    assert!(r.stderr.contains("cannot read missing.sql"), "{}", r.stderr);
    let r = run_in(
        d.path(),
        &[
            "explain",
            "--analyze",
            "SELECT * FROM t WHERE id = $1",
            "--url",
            &url,
        ],
    );
    r.code(2);
    assert!(r.stderr.contains("--params"), "{}", r.stderr);
}

#[test]
fn unreachable_server_is_a_database_error() {
    let d = dir();
    // A port nothing listens on (the test servers use others).
    let r = run_in(
        d.path(),
        &[
            "explain",
            "SELECT 1",
            "--url",
            "postgres://postgres@127.0.0.1:1/x",
        ],
    );
    r.code(3);
}

#[tokio::test]
async fn statement_timeout_is_a_database_error() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    let d = dir();
    let r = run_in(
        d.path(),
        &[
            "explain",
            "--analyze",
            "SELECT pg_sleep(5)",
            "--statement-timeout",
            "1",
            "--url",
            &url,
        ],
    );
    r.code(3);
    assert!(r.stderr.contains("statement_timeout"), "{}", r.stderr);
}
