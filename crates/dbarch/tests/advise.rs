//! `dbarch advise` end to end: the bundled example on PostgreSQL 18 (real builds on a shadow
//! server, JSON with complete CREATE INDEX CONCURRENTLY statements and measured before/after
//! times, --write-migration), HypoPG and --apply on PostgreSQL 15, bad input (syntax error
//! with its position, missing pg_stat_statements, statement_timeout), N+1 from a log.

use dbarch_testing::{TestDb, TestServer};

mod common;
use common::*;

async fn example_db() -> TestDb {
    let db = TestServer::pg18().create_db().await;
    let mut c = db.client().await;
    dbarch_example::load(
        &mut c,
        &dbarch_example::LoadOptions {
            rows: 2000,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    db
}

#[tokio::test]
async fn example_json_and_migration() {
    let db = example_db().await;
    let url = db.url();
    let dir = project();
    let queries = dir.path().join("queries.sql");
    std::fs::write(&queries, dbarch_example::QUERIES_SQL).unwrap();
    let r = run_in(
        dir.path(),
        &[
            "advise",
            "--url",
            &url,
            "--workload",
            queries.to_str().unwrap(),
            "--format",
            "json",
            "--runs",
            "5",
            "--write-migration",
        ],
    );
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["method"], "shadow");
    let recs = doc["recommendations"].as_array().unwrap();
    let chunks = recs
        .iter()
        .find(|r| r["table"] == "public.document_chunks")
        .unwrap_or_else(|| panic!("{}", r.stdout));
    let stmt = chunks["statement"].as_str().unwrap();
    assert!(
        stmt.starts_with("CREATE INDEX CONCURRENTLY document_chunks_document_id")
            && stmt.contains(" ON public.document_chunks (document_id")
            && stmt.ends_with(';'),
        "{stmt}"
    );
    let served = &chunks["queries"][0];
    assert_eq!(served["query"], "chunks_of_document");
    assert!(served["p95_before_ms"].as_f64().unwrap() > served["p95_after_ms"].as_f64().unwrap());
    // The migration, in the native format.
    let migrations: Vec<_> = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(migrations.len(), 2, "{migrations:?}");
    let up = migrations
        .iter()
        .find(|p| !p.to_string_lossy().ends_with(".down.sql"))
        .unwrap();
    let text = std::fs::read_to_string(up).unwrap();
    assert!(text.starts_with("-- dbarch:no-transaction\n"), "{text}");
    assert!(text.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS document_chunks_document_id"));
    // It applies with the migration runner.
    run_in(dir.path(), &["migrate", "up", "--url", &url]).code(0);
    let n: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'document_chunks' AND indexname LIKE 'document_chunks_document_id%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

async fn orders_db() -> TestDb {
    let db = TestServer::pg15().create_db().await;
    db.client()
        .await
        .batch_execute(
            "CREATE EXTENSION hypopg;
             CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric NOT NULL);
             INSERT INTO orders SELECT g, g % 1000, g % 100 FROM generate_series(1, 20000) g;
             ANALYZE orders;",
        )
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn hypopg_apply_and_bad_input() {
    let db = orders_db().await;
    let url = db.url();
    let dir = project();
    let w = dir.path().join("w.sql");
    std::fs::write(
        &w,
        "-- name: by_customer\nSELECT id, total FROM orders WHERE customer_id = $1;\n",
    )
    .unwrap();
    let w = w.to_str().unwrap();
    let r = run_in(
        dir.path(),
        &["advise", "--url", &url, "--workload", w, "--runs", "3"],
    );
    r.code(0);
    assert!(r.stdout.contains("what-if: HypoPG"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON public.orders (customer_id);"
        ),
        "{}",
        r.stdout
    );
    let count = || async {
        db.client()
            .await
            .query_one(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'",
                &[],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    assert_eq!(count().await, 1, "nothing is built without --apply");
    // A budget smaller than the index leaves nothing to add.
    let r = run_in(
        dir.path(),
        &[
            "advise",
            "--url",
            &url,
            "--workload",
            w,
            "--runs",
            "0",
            "--budget",
            "8kB",
        ],
    );
    r.code(0);
    assert!(r.stdout.contains("No index to add"), "{}", r.stdout);
    assert!(
        r.stdout.contains("did not fit the remaining budget"),
        "{}",
        r.stdout
    );
    let r = run_in(dir.path(), &["advise", "--url", &url, "--budget", "lots"]);
    r.code(2);
    let r = run_in(
        dir.path(),
        &[
            "advise",
            "--url",
            &url,
            "--workload",
            w,
            "--runs",
            "3",
            "--apply",
            "--format",
            "json",
        ],
    );
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["applied"], true);
    assert!(
        doc["queries"][0]["after"]["p95_ms"].is_number(),
        "{}",
        r.stdout
    );
    assert_eq!(count().await, 2);

    // A syntax error: exit 2 with the position in the file.
    let bad = dir.path().join("bad.sql");
    std::fs::write(
        &bad,
        "SELECT 1;\nSELECT id FROM orders WHERE WHERE id = 1;\n",
    )
    .unwrap();
    let r = run_in(
        dir.path(),
        &["advise", "--url", &url, "--workload", bad.to_str().unwrap()],
    );
    r.code(2);
    let line = r.one_line_error();
    assert!(line.contains("bad.sql:2:29: "), "{line}");
    assert!(line.contains("syntax error at or near \"WHERE\""), "{line}");
    // pg_stat_statements (the default workload) missing.
    let r = run_in(dir.path(), &["advise", "--url", &url]);
    r.code(2);
    assert!(
        r.one_line_error()
            .contains("pg_stat_statements is not installed"),
        "{}",
        r.stderr
    );
    // statement_timeout applies to every analysis session.
    let slow = dir.path().join("slow.sql");
    std::fs::write(
        &slow,
        "-- name: slow\nSELECT pg_sleep(2), id FROM orders WHERE customer_id = $1 LIMIT 1;\n",
    )
    .unwrap();
    let r = run_in(
        dir.path(),
        &[
            "advise",
            "--url",
            &url,
            "--workload",
            slow.to_str().unwrap(),
            "--statement-timeout",
            "1",
            "--runs",
            "2",
        ],
    );
    r.code(0);
    assert!(
        r.stdout
            .contains("not measured: it ran longer than statement_timeout"),
        "{}",
        r.stdout
    );
}

#[test]
fn n_plus_one_from_a_log() {
    let dir = project();
    let log = dir.path().join("app.log");
    let mut text = String::new();
    text.push_str("2026-11-25 10:00:00 UTC [65a.1] [900] LOG:  statement: SELECT id FROM documents WHERE user_id = 7\n");
    for i in 0..8 {
        text.push_str(&format!(
            "2026-11-25 10:00:00 UTC [65a.1] [900] LOG:  statement: SELECT chunk_index, content FROM document_chunks WHERE document_id = {i}\n"
        ));
    }
    std::fs::write(&log, text).unwrap();
    let r = run(&["advise", "--workload", log.to_str().unwrap()]);
    r.code(0);
    assert!(
        r.stdout.contains("document_chunks.document_id"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("(8 times)"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "SELECT chunk_index, content FROM document_chunks WHERE document_id = ANY($1)"
        ),
        "{}",
        r.stdout
    );
}

#[tokio::test]
async fn review_has_an_index_advice_section() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    let r = run(&["review", "--example", "--url", &url]);
    r.code(0);
    let advice = r
        .stdout
        .split("## Index advice")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(
        advice.contains("Workload `example/queries.sql` (7 queries)"),
        "{advice}"
    );
    assert!(
        advice.contains("CREATE INDEX CONCURRENTLY document_chunks_document_id"),
        "{advice}"
    );
    // Without a workload the section says how to get one.
    let plain = orders_db().await;
    let r = run(&["review", "--url", &plain.url(), "--format", "json"]);
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let section = doc["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "index-advice")
        .unwrap();
    assert_eq!(section["data"], serde_json::Value::Null);
}

/// `--apply` against a read-only replica is refused with one clear line, and nothing is
/// built anywhere.
#[tokio::test]
async fn apply_on_a_replica_is_refused() {
    let primary = dbarch_pg::EphemeralServer::start(TestServer::pg18().install()).unwrap();
    let (c, conn) = dbarch_pg::tokio_postgres::connect(
        &primary.url("postgres"),
        dbarch_pg::tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    c.batch_execute(
        "CREATE TABLE items (id bigint PRIMARY KEY, owner bigint NOT NULL);
         INSERT INTO items SELECT g, g % 50 FROM generate_series(1, 5000) g;
         ANALYZE items;",
    )
    .await
    .unwrap();
    let standby = dbarch_testing::Standby::of(&primary);
    let url = standby.url("postgres");
    let dir = project();
    let queries = dir.path().join("q.sql");
    std::fs::write(&queries, "SELECT id FROM items WHERE owner = 7;\n").unwrap();
    let r = run_in(
        dir.path(),
        &[
            "advise",
            "--url",
            &url,
            "--workload",
            queries.to_str().unwrap(),
            "--apply",
            "--runs",
            "1",
        ],
    );
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.one_line_error().contains("replica"), "{}", r.stderr);
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'items'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1, "only the primary key");
}
