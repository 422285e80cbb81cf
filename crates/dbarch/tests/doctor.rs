//! `dbarch doctor` end to end: text and JSON output, `--fail-on` exit codes, and the Health
//! section of `dbarch review`. Real servers; hermetic child environment.

use dbarch_testing::{TestDb, TestServer};

mod common;
use common::*;

/// A database with an int4 serial at 90% of its range (an error), an unindexed foreign key
/// (a warning) and no pg_stat_statements extension (a note).
async fn db() -> TestDb {
    let db = TestServer::pg18().create_db().await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE parent (id serial PRIMARY KEY);
             CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent);
             SELECT setval('parent_id_seq', 1932735283);",
        )
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn text_output_and_fail_on() {
    let db = db().await;
    let url = db.url();
    let r = run(&["doctor", "--url", &url]);
    r.code(1);
    assert!(
        r.stdout.contains(
            "error[H009] sequence-near-overflow: sequence parent_id_seq (integer) is at \
             1932735283: 90% of its maximum 2147483647"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("= fix: CREATE INDEX CONCURRENTLY ON public.child (parent_id);"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("note[H019] pg-stat-statements-missing"),
        "{}",
        r.stdout
    );
    run(&["doctor", "--url", &url, "--fail-on", "never"]).code(0);
    // Fixed: no error left, warnings still fail --fail-on warning.
    db.client()
        .await
        .batch_execute("ALTER SEQUENCE parent_id_seq AS bigint; ALTER TABLE parent ALTER COLUMN id TYPE bigint")
        .await
        .unwrap();
    run(&["doctor", "--url", &url]).code(0);
    run(&["doctor", "--url", &url, "--fail-on", "warning"]).code(1);
}

#[tokio::test]
async fn json_document() {
    let db = db().await;
    let url = db.url();
    let r = run(&[
        "doctor",
        "--url",
        &url,
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    assert_eq!(doc["version"], 1);
    let diags = doc["diagnostics"].as_array().unwrap();
    let fk = diags
        .iter()
        .find(|d| d["code"] == "H004")
        .expect("H004 in json");
    assert_eq!(fk["name"], "foreign-key-without-index");
    assert_eq!(fk["severity"], "warning");
    assert_eq!(fk["object"], "public.child.child_parent_id_fkey");
    assert!(doc["summary"]["errors"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn review_has_a_health_section() {
    let db = db().await;
    let url = db.url();
    let r = run(&["review", "--url", &url]);
    r.code(0);
    assert!(r.stdout.contains("## Health"), "{}", r.stdout);
    assert!(r.stdout.contains("H009"), "{}", r.stdout);
}

#[test]
fn unreachable_server_is_a_database_error() {
    let r = run(&["doctor", "--url", "postgres://nobody@127.0.0.1:1/none"]);
    r.code(3);
}

/// The thresholds are flags: a session idle in a transaction for a second is reported with
/// `--idle-in-transaction 0.5` and not with the default (a minute); a bad value is a usage
/// error.
#[tokio::test]
async fn thresholds_are_flags() {
    let db = db().await;
    let url = db.url();
    let idle = db.client().await;
    idle.batch_execute("BEGIN; SELECT 1;").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let codes = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["doctor", "--url", &url, "--format", "json", "--runs", "0"];
        all.extend_from_slice(args);
        let r = run(&all);
        let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!codes(&[]).contains(&"H016".to_string()));
    assert!(codes(&["--idle-in-transaction", "0.5"]).contains(&"H016".to_string()));
    let r = run(&["doctor", "--url", &url, "--long-running", "-1"]);
    r.code(2);
    drop(idle);
}
