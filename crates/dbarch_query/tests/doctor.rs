//! Each doctor check triggered by a real situation on a real server, and silent once fixed.

use dbarch_query::DoctorOptions;
use dbarch_query::doctor::run;
use dbarch_report::{Diagnostic, Severity};
use dbarch_testing::{TestDb, TestServer};
use std::time::Duration;
use tokio_postgres::Client;

async fn db_with(server: &'static TestServer, setup: &str) -> (TestDb, Client) {
    let db = server.create_db().await;
    let client = db.client().await;
    client.batch_execute(setup).await.expect("setup");
    (db, client)
}

/// Small thresholds, so that test-sized tables and short waits count.
fn small() -> DoctorOptions {
    DoctorOptions {
        min_table_bytes: Some(0),
        min_table_reads: Some(0),
        long_running: Some(Duration::from_secs(3600)),
        idle_in_transaction: Some(Duration::from_millis(500)),
    }
}

/// The doctor as the CLI runs it: a read-only session.
async fn doctor(db: &TestDb, options: &DoctorOptions) -> Vec<Diagnostic> {
    let c = db.client().await;
    c.batch_execute("SET default_transaction_read_only = on")
        .await
        .unwrap();
    run(&c, options).await.expect("doctor")
}

fn find<'a>(diags: &'a [Diagnostic], code: &str, object: &str) -> Option<&'a Diagnostic> {
    diags
        .iter()
        .find(|d| d.code == code && d.object.as_deref() == Some(object))
}

fn codes(diags: &[Diagnostic]) -> Vec<&str> {
    diags.iter().map(|d| d.code.as_str()).collect()
}

async fn indexes(server: &'static TestServer) {
    let (db, c) = db_with(
        server,
        "CREATE TABLE t (id int PRIMARY KEY, a int, b int);
         INSERT INTO t SELECT g, g % 10, g FROM generate_series(1, 1000) g;
         CREATE INDEX t_a ON t (a); CREATE INDEX t_a2 ON t (a); CREATE INDEX t_ab ON t (a, b);
         CREATE UNIQUE INDEX t_b_key ON t (b); CREATE INDEX t_b ON t (b);",
    )
    .await;
    let diags = doctor(&db, &small()).await;
    let d = find(&diags, "H001", "public.t_ab").expect("H001");
    assert_eq!(d.name, "unused-index");
    assert_eq!(
        d.fix.as_deref(),
        Some("DROP INDEX CONCURRENTLY public.t_ab;")
    );
    assert!(find(&diags, "H001", "public.t_pkey").is_none());
    assert!(find(&diags, "H001", "public.t_b_key").is_none());
    // Exact duplicates: one reported, the later name; a plain index duplicating a unique
    // one is the one to drop.
    let d = find(&diags, "H002", "public.t_a2").expect("H002 t_a2");
    assert!(d.message.contains("exact duplicate of t_a "), "{d:?}");
    assert!(find(&diags, "H002", "public.t_a").is_none());
    assert!(find(&diags, "H002", "public.t_b").is_some());
    assert!(find(&diags, "H002", "public.t_b_key").is_none());
    // Prefix-covered: a note, not a duplicate.
    let d = find(&diags, "H003", "public.t_a").expect("H003");
    assert_eq!(
        (d.name.as_str(), d.severity),
        ("covered-index", Severity::Note)
    );
    assert!(d.message.contains("covered by t_ab"), "{d:?}");
    c.batch_execute("DROP INDEX t_a, t_a2, t_b").await.unwrap();
    let diags = doctor(&db, &small()).await;
    assert!(!codes(&diags).iter().any(|c| *c == "H002" || *c == "H003"));
    // The default size threshold keeps small tables quiet.
    let diags = doctor(&db, &DoctorOptions::default()).await;
    assert!(!codes(&diags).contains(&"H001"), "{diags:#?}");
    // So does the read threshold: an index of a table that nobody has read yet is not unused.
    let unread = DoctorOptions {
        min_table_bytes: Some(0),
        ..Default::default()
    };
    let diags = doctor(&db, &unread).await;
    assert!(!codes(&diags).contains(&"H001"), "{diags:#?}");
}

#[tokio::test]
async fn unused_duplicate_and_covered_indexes_pg18() {
    indexes(TestServer::pg18()).await;
}

#[tokio::test]
async fn unused_duplicate_and_covered_indexes_pg15() {
    indexes(TestServer::pg15()).await;
}

async fn constraints(server: &'static TestServer) {
    let (db, c) = db_with(
        server,
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent);
         CREATE TABLE u (x int); INSERT INTO u VALUES (1), (1);
         ALTER TABLE u ADD CONSTRAINT u_x_positive CHECK (x > 0) NOT VALID;",
    )
    .await;
    // A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index behind.
    assert!(
        c.batch_execute("CREATE UNIQUE INDEX CONCURRENTLY u_x ON u (x)")
            .await
            .is_err()
    );
    let diags = doctor(&db, &small()).await;
    let d = find(&diags, "H004", "public.child.child_parent_id_fkey").expect("H004");
    assert_eq!(
        d.fix.as_deref(),
        Some("CREATE INDEX CONCURRENTLY ON public.child (parent_id);")
    );
    let d = find(&diags, "H005", "public.u_x").expect("H005");
    assert!(
        d.fix
            .as_deref()
            .unwrap()
            .starts_with("REINDEX INDEX CONCURRENTLY public.u_x;")
    );
    let d = find(&diags, "H006", "public.u.u_x_positive").expect("H006");
    assert_eq!(
        d.fix.as_deref(),
        Some("ALTER TABLE public.u VALIDATE CONSTRAINT u_x_positive;")
    );
    c.batch_execute(
        "CREATE INDEX ON child (parent_id); DROP INDEX u_x;
         ALTER TABLE u VALIDATE CONSTRAINT u_x_positive;",
    )
    .await
    .unwrap();
    let diags = doctor(&db, &small()).await;
    for code in ["H004", "H005", "H006"] {
        assert!(!codes(&diags).contains(&code), "{code}: {diags:#?}");
    }
}

#[tokio::test]
async fn fk_invalid_index_and_not_valid_constraint_pg18() {
    constraints(TestServer::pg18()).await;
}

#[tokio::test]
async fn fk_invalid_index_and_not_valid_constraint_pg15() {
    constraints(TestServer::pg15()).await;
}

async fn sequences(server: &'static TestServer) {
    let (db, c) = db_with(
        server,
        "CREATE TABLE s (id serial PRIMARY KEY);
         SELECT setval('s_id_seq', 1932735283);
         CREATE TABLE k (id int);
         CREATE SEQUENCE k_seq OWNED BY k.id;
         SELECT setval('k_seq', 1288490189);
         CREATE TABLE app (id int PRIMARY KEY);
         INSERT INTO app VALUES (1), (2), (2000000000);
         ANALYZE app;",
    )
    .await;
    let diags = doctor(&db, &small()).await;
    let d = find(&diags, "H009", "public.s_id_seq").expect("H009");
    assert_eq!(d.severity, Severity::Error);
    assert!(d.message.contains("90% of its maximum 2147483647"), "{d:?}");
    assert_eq!(
        d.fix.as_deref().unwrap().lines().next(),
        Some("ALTER SEQUENCE public.s_id_seq AS bigint;")
    );
    // A bigint sequence feeding an int column: the column is the limit.
    let d = find(&diags, "H010", "public.k.id").expect("H010");
    assert_eq!(d.severity, Severity::Warning);
    // A key the application numbers itself, seen through ANALYZE.
    let d = find(&diags, "H010", "public.app.id").expect("H010 app");
    assert_eq!(d.severity, Severity::Error);
    assert!(d.message.contains("up to about 2000000000: 93%"), "{d:?}");
    c.batch_execute(
        "ALTER SEQUENCE s_id_seq AS bigint; ALTER TABLE s ALTER COLUMN id TYPE bigint;
         ALTER TABLE k ALTER COLUMN id TYPE bigint; ALTER TABLE app ALTER COLUMN id TYPE bigint;
         ANALYZE app;",
    )
    .await
    .unwrap();
    let diags = doctor(&db, &small()).await;
    assert!(!codes(&diags).iter().any(|c| *c == "H009" || *c == "H010"));
}

#[tokio::test]
async fn sequences_near_overflow_pg18() {
    sequences(TestServer::pg18()).await;
}

#[tokio::test]
async fn sequences_near_overflow_pg15() {
    sequences(TestServer::pg15()).await;
}

async fn sessions(server: &'static TestServer) {
    let (db, c) = db_with(server, "CREATE TABLE t (x int)").await;
    // Idle in transaction past the (lowered) threshold.
    let idle = db.client().await;
    idle.batch_execute("BEGIN; SELECT 1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let diags = doctor(&db, &small()).await;
    let d = diags.iter().find(|d| d.code == "H016").expect("H016");
    assert!(d.message.contains("idle in a transaction"), "{d:?}");
    assert!(d.fix.as_deref().unwrap().contains("pg_terminate_backend("));
    idle.batch_execute("COMMIT").await.unwrap();
    assert!(!codes(&doctor(&db, &small()).await).contains(&"H016"));
    // A query waiting for a lock another session holds.
    c.batch_execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let waiter = db.client().await;
    let waiting =
        tokio::spawn(async move { waiter.simple_query("SELECT count(*) FROM t").await.is_ok() });
    let mut found = None;
    for _ in 0..50 {
        let diags = doctor(&db, &DoctorOptions::default()).await;
        if let Some(d) = diags.into_iter().find(|d| d.code == "H017") {
            found = Some(d);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let d = found.expect("H017");
    assert!(d.message.contains("SELECT count(*) FROM t"), "{d:?}");
    c.batch_execute("COMMIT").await.unwrap();
    assert!(waiting.await.unwrap());
    assert!(!codes(&doctor(&db, &small()).await).contains(&"H017"));
}

#[tokio::test]
async fn idle_in_transaction_and_blocked_query_pg18() {
    sessions(TestServer::pg18()).await;
}

#[tokio::test]
async fn idle_in_transaction_and_blocked_query_pg15() {
    sessions(TestServer::pg15()).await;
}

#[tokio::test]
async fn pg_stat_statements_missing() {
    let (db, c) = db_with(TestServer::pg18(), "").await;
    let diags = doctor(&db, &small()).await;
    let d = diags.iter().find(|d| d.code == "H019").expect("H019");
    assert_eq!(d.severity, Severity::Note);
    assert_eq!(
        d.fix.as_deref(),
        Some("CREATE EXTENSION pg_stat_statements;")
    );
    c.batch_execute("CREATE EXTENSION pg_stat_statements")
        .await
        .unwrap();
    assert!(!codes(&doctor(&db, &small()).await).contains(&"H019"));
}

#[tokio::test]
async fn ivfflat_lists_against_current_rows() {
    let (db, c) = db_with(
        TestServer::pg18(),
        "CREATE EXTENSION vector;
         CREATE TABLE chunks (id int PRIMARY KEY, e vector(3));
         CREATE INDEX chunks_e ON chunks USING ivfflat (e vector_l2_ops) WITH (lists = 100);
         INSERT INTO chunks SELECT g, ARRAY[random(), random(), random()]::vector
         FROM generate_series(1, 4000) g;
         ANALYZE chunks;",
    )
    .await;
    let diags = doctor(&db, &small()).await;
    let d = find(&diags, "H020", "public.chunks_e").expect("H020");
    assert!(
        d.message.contains("lists = 100 for about 4000 rows"),
        "{d:?}"
    );
    let fix = d.fix.clone().unwrap();
    assert!(fix.contains("WITH (lists='4')"), "{fix}");
    // The fix, as given, is the cure.
    for stmt in fix.split(";\n") {
        c.batch_execute(stmt).await.unwrap();
    }
    assert!(!codes(&doctor(&db, &small()).await).contains(&"H020"));
}

#[tokio::test]
async fn table_and_index_bloat() {
    let (db, c) = db_with(
        TestServer::pg18(),
        "CREATE TABLE b (id int PRIMARY KEY, payload text) WITH (autovacuum_enabled = off);
         INSERT INTO b SELECT g, md5(g::text) FROM generate_series(1, 100000) g;
         DELETE FROM b WHERE id % 10 <> 0;",
    )
    .await;
    c.batch_execute("VACUUM ANALYZE b").await.unwrap();
    let diags = doctor(&db, &small()).await;
    let d = find(&diags, "H007", "public.b").expect("H007");
    assert!(d.message.contains("% bloat"), "{d:?}");
    assert!(
        find(&diags, "H008", "public.b_pkey").is_some(),
        "{diags:#?}"
    );
    c.batch_execute("VACUUM (FULL, ANALYZE) b").await.unwrap();
    let diags = doctor(&db, &small()).await;
    assert!(
        !codes(&diags).iter().any(|c| *c == "H007" || *c == "H008"),
        "{diags:#?}"
    );
}

#[tokio::test]
async fn a_check_that_cannot_run_is_a_note() {
    let (db, c) = db_with(
        TestServer::pg18(),
        "CREATE TABLE t (id int PRIMARY KEY, a int); CREATE INDEX t_a ON t (a);",
    )
    .await;
    // pg_relation_size waits for the lock; statement_timeout cancels the check, not the run.
    c.batch_execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let d = db.client().await;
    d.batch_execute("SET default_transaction_read_only = on; SET statement_timeout = '300ms'")
        .await
        .unwrap();
    let diags = run(&d, &small()).await.expect("doctor runs");
    let skipped = diags
        .iter()
        .find(|d| d.code == "H001")
        .expect("H001 skipped");
    assert_eq!(skipped.severity, Severity::Note);
    assert!(
        skipped
            .message
            .starts_with("check skipped: canceling statement"),
        "{skipped:?}"
    );
    // The other checks still ran.
    assert!(codes(&diags).contains(&"H019"), "{diags:#?}");
    c.batch_execute("COMMIT").await.unwrap();
}

async fn maintenance(server: &'static TestServer) {
    let (db, c) = db_with(
        server,
        "CREATE TABLE m (id int) WITH (autovacuum_enabled = off);
         INSERT INTO m SELECT generate_series(1, 1000);
         DELETE FROM m WHERE id <= 100;",
    )
    .await;
    // Statistics reach the shared counters when the session flushes them.
    c.batch_execute("SELECT pg_stat_force_next_flush()")
        .await
        .unwrap();
    c.batch_execute("SELECT 1").await.unwrap();
    let diags = doctor(&db, &small()).await;
    let d = find(&diags, "H013", "public.m").expect("H013");
    assert_eq!(d.fix.as_deref(), Some("ANALYZE public.m;"));
    let d = find(&diags, "H014", "public.m").expect("H014");
    assert!(d.message.contains("100 dead rows"), "{d:?}");
    c.batch_execute("VACUUM ANALYZE m").await.unwrap();
    c.batch_execute("SELECT pg_stat_force_next_flush()")
        .await
        .unwrap();
    c.batch_execute("SELECT 1").await.unwrap();
    let diags = doctor(&db, &small()).await;
    assert!(
        !codes(&diags).iter().any(|c| *c == "H013" || *c == "H014"),
        "{diags:#?}"
    );
}

#[tokio::test]
async fn tables_never_analyzed_or_vacuumed_pg18() {
    maintenance(TestServer::pg18()).await;
}

#[tokio::test]
async fn tables_never_analyzed_or_vacuumed_pg15() {
    maintenance(TestServer::pg15()).await;
}

#[tokio::test]
async fn long_running_query() {
    let (db, _c) = db_with(TestServer::pg18(), "").await;
    let sleeper = db.client().await;
    let sleeping =
        tokio::spawn(async move { sleeper.simple_query("SELECT pg_sleep(1.5)").await.is_ok() });
    tokio::time::sleep(Duration::from_millis(700)).await;
    let options = DoctorOptions {
        long_running: Some(Duration::from_millis(300)),
        ..small()
    };
    let diags = doctor(&db, &options).await;
    let d = diags.iter().find(|d| d.code == "H015").expect("H015");
    assert!(d.message.contains("SELECT pg_sleep(1.5)"), "{d:?}");
    assert!(
        d.fix
            .as_deref()
            .unwrap()
            .starts_with("SELECT pg_cancel_backend(")
    );
    assert!(sleeping.await.unwrap());
    assert!(!codes(&doctor(&db, &options).await).contains(&"H015"));
}
