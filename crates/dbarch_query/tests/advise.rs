//! The index advisor against real servers: the real-build path on PostgreSQL 18 (the bundled
//! example, a shadow database holding its sampled copy), the HypoPG path on PostgreSQL 15 (a
//! scalar workload), pg_stat_statements as the workload with N+1 detection, and bad input.

use dbarch_query::advise::{self, AdviseOptions, Evaluation, Workload};
use dbarch_testing::{TestDb, TestServer};
use tokio_postgres::Client;

fn opts() -> AdviseOptions {
    AdviseOptions {
        runs: 10,
        ..Default::default()
    }
}

async fn read_only(db: &TestDb) -> Client {
    let c = db.client().await;
    c.batch_execute("SET default_transaction_read_only = on; SET statement_timeout = '60s'")
        .await
        .unwrap();
    c
}

async fn index_count(c: &Client) -> i64 {
    c.query_one(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn example_on_pg18_real_builds_on_a_shadow() {
    let target = TestServer::pg18().create_db().await;
    let shadow_db = TestServer::pg18().create_db().await;
    {
        let mut c = target.client().await;
        dbarch_example::load(
            &mut c,
            &dbarch_example::LoadOptions {
                rows: 3000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let client = read_only(&target).await;
    let indexes = index_count(&client).await;
    let shadow = shadow_db.client().await;
    let workload = advise::workload::from_sql(dbarch_example::QUERIES_SQL, "queries.sql");
    assert_eq!(workload.queries.len(), 7);
    let advice = advise::advise(
        &client,
        Evaluation::Shadow(&shadow),
        None,
        &workload,
        &opts(),
    )
    .await
    .unwrap();
    let text = advise::render_text(&advice);
    eprintln!("{text}");
    let stmts: Vec<&str> = advice
        .recommendations
        .iter()
        .map(|r| r.statement.as_str())
        .collect();
    // The foreign keys the queries filter on have no index in the example.
    assert!(
        stmts.iter().any(|s| s
            .starts_with("CREATE INDEX CONCURRENTLY document_chunks_document_id")
            && s.contains("ON public.document_chunks (document_id")),
        "{stmts:#?}"
    );
    assert!(
        stmts
            .iter()
            .any(|s| s.contains("ON public.documents (user_id")),
        "{stmts:#?}"
    );
    // Existing indexes are not proposed again (ai_logs.user_id has one).
    assert!(
        !stmts
            .iter()
            .any(|s| s.contains("ON public.ai_logs (user_id)")),
        "{stmts:#?}"
    );
    // Measured before and after on the shadow: the chunks lookup got faster.
    let chunks = advice
        .queries
        .iter()
        .find(|q| q.name == "chunks_of_document")
        .unwrap();
    let (before, after) = (
        chunks.before.as_ref().unwrap(),
        chunks.after.as_ref().unwrap(),
    );
    assert_eq!(before.runs, 10);
    assert!(after.p95_ms < before.p95_ms, "{before:?} → {after:?}");
    assert!(chunks.cost_after.unwrap() < chunks.cost_before.unwrap());
    let rec = advice
        .recommendations
        .iter()
        .find(|r| r.table == "public.document_chunks")
        .unwrap();
    assert!(rec.queries.iter().any(|s| s.query == "chunks_of_document"));
    assert!(rec.size_bytes > 0);
    // The duplicate index of the example is reported for dropping.
    assert!(
        advice
            .drop
            .iter()
            .any(|d| d.code == "H002" && d.message.contains("idx_users_email")),
        "{:#?}",
        advice.drop
    );
    assert!(advice.cost_cache_hits > 0);
    // Nothing changed on the target.
    assert_eq!(index_count(&client).await, indexes);
    // The migration.
    let (up, down) = advise::migration(&advice).unwrap();
    assert!(up.starts_with("-- dbarch:no-transaction\n"), "{up}");
    assert!(up.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS document_chunks_document_id"));
    assert!(down.contains("DROP INDEX CONCURRENTLY IF EXISTS public.document_chunks_document_id"));
    // A budget smaller than any candidate leaves nothing.
    let shadow2_db = TestServer::pg18().create_db().await;
    let shadow2 = shadow2_db.client().await;
    let tiny = advise::advise(
        &client,
        Evaluation::Shadow(&shadow2),
        None,
        &workload,
        &AdviseOptions {
            budget_bytes: Some(1024),
            runs: 0,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(tiny.recommendations.is_empty());
    assert!(
        tiny.notes.iter().any(|n| n.contains("did not fit")),
        "{:?}",
        tiny.notes
    );
}

/// orders(customer_id, status, ...) without secondary indexes, 20,000 rows.
async fn orders_db(server: &TestServer) -> TestDb {
    let db = server.create_db().await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
             INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 2000) g;
             CREATE TABLE orders (
               id bigint PRIMARY KEY,
               customer_id bigint NOT NULL REFERENCES customers,
               status text NOT NULL,
               created_at timestamptz NOT NULL,
               total numeric(10,2) NOT NULL);
             INSERT INTO orders
               SELECT g, 1 + g % 2000, CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'done' END,
                      timestamptz '2026-01-01' + g * interval '1 minute', (g % 1000) / 10.0
               FROM generate_series(1, 20000) g;
             ANALYZE customers, orders;",
        )
        .await
        .unwrap();
    db
}

const SCALAR: &str = "\
-- name: orders_of_customer
SELECT id, status, total FROM orders WHERE customer_id = $1;

-- name: pending
SELECT id, customer_id FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 20;

-- name: cancel
DELETE FROM orders WHERE customer_id = $1;
";

#[tokio::test]
async fn scalar_workload_on_pg15_with_hypopg() {
    let db = orders_db(TestServer::pg15()).await;
    db.client()
        .await
        .batch_execute("CREATE EXTENSION hypopg")
        .await
        .unwrap();
    let client = read_only(&db).await;
    let workload = advise::workload::from_sql(SCALAR, "w.sql");
    let advice = advise::advise(&client, Evaluation::Hypopg, None, &workload, &opts())
        .await
        .unwrap();
    eprintln!("{}", advise::render_text(&advice));
    let stmts: Vec<&str> = advice
        .recommendations
        .iter()
        .map(|r| r.statement.as_str())
        .collect();
    assert!(
        stmts
            .iter()
            .any(|s| s.contains("ON public.orders (customer_id")),
        "{stmts:#?}"
    );
    // The constant predicate makes a partial index (2% of the rows).
    assert!(
        stmts
            .iter()
            .any(|s| s.contains("(created_at)") && s.ends_with("WHERE status = 'pending';")),
        "{stmts:#?}"
    );
    assert_eq!(serde_json::to_value(&advice).unwrap()["method"], "hypopg");
    // Before measured on the target; after needs --apply.
    let q = &advice.queries[0];
    assert!(q.before.is_some() && q.after.is_none(), "{q:?}");
    assert!(advice.notes.iter().any(|n| n.contains("--apply")));
    // The DELETE was explained, never executed on the read-only session.
    let cancel = &advice.queries[2];
    assert!(cancel.before.is_none());
    assert!(
        cancel.notes.iter().any(|n| n.contains("read-only")),
        "{cancel:?}"
    );
    let n: i64 = client
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 20_000);
    assert_eq!(index_count(&client).await, 2);
    // --apply builds them concurrently on the target and measures after.
    let writer = db.client().await;
    let applied = advise::advise(
        &client,
        Evaluation::Hypopg,
        Some(&writer),
        &workload,
        &opts(),
    )
    .await
    .unwrap();
    assert!(applied.applied);
    assert_eq!(
        index_count(&client).await,
        2 + applied.recommendations.len() as i64
    );
    assert!(applied.queries[0].after.is_some());
}

#[tokio::test]
async fn bad_input() {
    let db = orders_db(TestServer::pg15()).await;
    let client = read_only(&db).await;
    // A syntax error: its position in the file.
    let w = advise::workload::from_sql(
        "-- name: ok\nSELECT 1 FROM orders;\n\n-- name: broken\nSELECT id\n  FROM orders WHERE customer_id = = 1;\n",
        "w.sql",
    );
    let err = advise::advise(&client, Evaluation::Hypopg, None, &w, &opts())
        .await
        .unwrap_err();
    assert!(err.is_input());
    assert_eq!(
        err.to_string(),
        "w.sql:6:35: query broken: syntax error at or near \"=\""
    );
    // HypoPG missing.
    let w = advise::workload::from_sql(SCALAR, "w.sql");
    let err = advise::advise(&client, Evaluation::Hypopg, None, &w, &opts())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HypoPG is not installed"), "{err}");
    // pg_stat_statements missing.
    let err = advise::workload::from_pg_stat_statements(&client, 10)
        .await
        .unwrap_err();
    assert!(err.is_input());
    assert!(
        err.to_string()
            .contains("pg_stat_statements is not installed"),
        "{err}"
    );
    // statement_timeout is honoured: the slow query is reported, the rest goes on.
    db.client()
        .await
        .batch_execute("CREATE EXTENSION hypopg")
        .await
        .unwrap();
    client
        .batch_execute("SET statement_timeout = '300ms'")
        .await
        .unwrap();
    let w = advise::workload::from_sql(
        "-- name: slow\nSELECT pg_sleep(1), id FROM orders WHERE customer_id = $1;\n",
        "w.sql",
    );
    let advice = advise::advise(&client, Evaluation::Hypopg, None, &w, &opts())
        .await
        .unwrap();
    let slow = &advice.queries[0];
    assert!(slow.before.is_none());
    assert!(
        slow.notes.iter().any(|n| n.contains("statement_timeout")),
        "{slow:?}"
    );
}

/// A PostgreSQL 15 cluster of its own with pg_stat_statements preloaded.
struct Preloaded {
    cluster: dbarch_pg::Cluster,
    _dir: tempfile::TempDir,
}

impl Drop for Preloaded {
    fn drop(&mut self) {
        let _ = self
            .cluster
            .stop_with(dbarch_pg::server::StopMode::Immediate);
    }
}

#[tokio::test]
async fn pg_stat_statements_workload_and_n_plus_one() {
    let install = TestServer::pg15().install().clone();
    let (cluster, dir) = tokio::task::spawn_blocking(move || {
        let dir = tempfile::Builder::new()
            .prefix("dbarch-advise-pgss-")
            .tempdir()
            .unwrap();
        let port = dbarch_pg::server::free_port().unwrap();
        let cluster = dbarch_pg::Cluster::init_unsynced(
            install,
            dir.path().join("pgdata"),
            dir.path().join("run"),
            port,
        )
        .unwrap();
        cluster
            .start(&[
                ("shared_preload_libraries", "pg_stat_statements"),
                ("fsync", "off"),
            ])
            .unwrap();
        (cluster, dir)
    })
    .await
    .unwrap();
    let server = Preloaded { cluster, _dir: dir };
    let (admin, conn) =
        tokio_postgres::connect(&server.cluster.url("postgres"), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(conn);
    admin
        .batch_execute(
            "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg;
             CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
             INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 2000) g;
             CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers,
                                  total float8 NOT NULL);
             INSERT INTO orders SELECT g, 1 + g % 2000, g % 100 FROM generate_series(1, 20000) g;
             ANALYZE; SELECT pg_stat_statements_reset();",
        )
        .await
        .unwrap();
    // The application: a list of orders, then one lookup per order (N+1), and a filter on an
    // unindexed column.
    let list = admin
        .prepare("SELECT id, customer_id FROM orders WHERE total > $1 ORDER BY id LIMIT 100")
        .await
        .unwrap();
    let one = admin
        .prepare("SELECT name FROM customers WHERE id = $1")
        .await
        .unwrap();
    let by_customer = admin
        .prepare("SELECT id, total FROM orders WHERE customer_id = $1")
        .await
        .unwrap();
    for round in 0..12 {
        let total = round as f64;
        let rows = admin.query(&list, &[&total]).await.unwrap();
        for r in rows {
            let c: i64 = r.get(1);
            admin.query(&one, &[&c]).await.unwrap();
        }
        for c in 1..20i64 {
            admin
                .query(&by_customer, &[&(c * 7 + round)])
                .await
                .unwrap();
        }
    }
    let client = {
        let (c, conn) =
            tokio_postgres::connect(&server.cluster.url("postgres"), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(conn);
        c.batch_execute("SET default_transaction_read_only = on")
            .await
            .unwrap();
        c
    };
    let workload: Workload = advise::workload::from_pg_stat_statements(&client, 20)
        .await
        .unwrap();
    assert_eq!(workload.source, "pg_stat_statements");
    let lookup = workload
        .queries
        .iter()
        .find(|q| q.sql.contains("FROM customers WHERE id = $1"))
        .unwrap_or_else(|| panic!("{workload:#?}"));
    assert_eq!(lookup.calls, 1200.0);
    let advice = advise::advise(
        &client,
        Evaluation::Hypopg,
        None,
        &workload,
        &AdviseOptions {
            runs: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    eprintln!("{}", advise::render_text(&advice));
    assert!(
        advice
            .recommendations
            .iter()
            .any(|r| r.statement.contains("ON public.orders (customer_id")),
        "{:#?}",
        advice.recommendations
    );
    let n1 = advice
        .n_plus_one
        .iter()
        .find(|n| n.table == "public.customers")
        .unwrap_or_else(|| panic!("{:#?}", advice.n_plus_one));
    assert_eq!(n1.column, "id");
    assert_eq!(n1.rewrite, "SELECT name FROM customers WHERE id = ANY($1)");
    assert!(n1.parent.is_some());
    // doctor's view: measured latency per common query (H022) and the N+1 (H023).
    let diags = advise::doctor_findings(&client, 10, 3, 50.0).await.unwrap();
    let latency: Vec<_> = diags.iter().filter(|d| d.code == "H022").collect();
    assert!(latency.len() >= 3, "{diags:#?}");
    assert!(
        latency
            .iter()
            .all(|d| d.message.contains("P50 ") && d.message.contains("P99 ")),
        "{latency:#?}"
    );
    let n1 = diags.iter().find(|d| d.code == "H023").unwrap();
    assert_eq!(
        n1.fix.as_deref(),
        Some("SELECT name FROM customers WHERE id = ANY($1)")
    );
}

#[tokio::test]
async fn pg18_skip_scan_serves_the_second_key() {
    let db = TestServer::pg18().create_db().await;
    let shadow_db = TestServer::pg18().create_db().await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE events (id bigint PRIMARY KEY, kind int NOT NULL, account_id int NOT NULL,
                                  at timestamptz NOT NULL);
             INSERT INTO events SELECT g, g % 4, g % 5000, now() FROM generate_series(1, 50000) g;
             CREATE INDEX events_kind_account_idx ON events (kind, account_id);
             ANALYZE events;",
        )
        .await
        .unwrap();
    let client = read_only(&db).await;
    let shadow = shadow_db.client().await;
    let w = advise::workload::from_sql(
        "-- name: by_account\nSELECT id FROM events WHERE account_id = $1;\n\
         -- name: purge\nDELETE FROM events WHERE kind = $1;\n",
        "w.sql",
    );
    let advice = advise::advise(
        &client,
        Evaluation::Shadow(&shadow),
        None,
        &w,
        &AdviseOptions {
            runs: 3,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        !advice
            .recommendations
            .iter()
            .any(|r| r.statement.contains("(account_id)")),
        "{:#?}",
        advice.recommendations
    );
    assert!(
        advice
            .notes
            .iter()
            .any(|n| n.contains("skip scan uses events_kind_account_idx")),
        "{:#?}",
        advice.notes
    );
    // The DELETE ran on the shadow (measured), each run rolled back: nothing deleted there,
    // and the target was never written.
    let purge = &advice.queries[1];
    assert_eq!(purge.before.as_ref().unwrap().runs, 3, "{purge:?}");
    for c in [&client, &shadow] {
        let n: i64 = c
            .query_one("SELECT count(*) FROM events", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 50_000);
    }
}

#[tokio::test]
async fn gin_and_trigram_candidates_are_built_on_the_shadow() {
    let db = TestServer::pg18().create_db().await;
    let shadow_db = TestServer::pg18().create_db().await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL, meta jsonb NOT NULL);
             INSERT INTO notes
               SELECT g, md5(g::text) || CASE WHEN g % 2000 = 0 THEN ' needle' ELSE '' END,
                      jsonb_build_object('k', g % 1000, 'tag', 't' || g % 7)
               FROM generate_series(1, 30000) g;
             ANALYZE notes;",
        )
        .await
        .unwrap();
    let client = read_only(&db).await;
    let shadow = shadow_db.client().await;
    let w = advise::workload::from_sql(
        "-- name: by_meta\nSELECT id FROM notes WHERE meta @> '{\"k\": 7}';\n\
         -- name: search\nSELECT id FROM notes WHERE body ILIKE '%needle%';\n\
         -- name: unmapped\nSELECT id FROM notes WHERE body = $1 AND id > $2 - 5;\n",
        "w.sql",
    );
    let advice = advise::advise(
        &client,
        Evaluation::Shadow(&shadow),
        None,
        &w,
        &AdviseOptions {
            runs: 3,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    eprintln!("{}", advise::render_text(&advice));
    let stmts: Vec<&str> = advice
        .recommendations
        .iter()
        .map(|r| r.statement.as_str())
        .collect();
    assert!(
        stmts.contains(
            &"CREATE INDEX CONCURRENTLY notes_meta_gin_idx ON public.notes USING gin (meta jsonb_path_ops);"
        ),
        "{stmts:#?}"
    );
    assert!(
        stmts.contains(
            &"CREATE INDEX CONCURRENTLY notes_body_trgm_idx ON public.notes USING gin (body gin_trgm_ops);"
        ),
        "{stmts:#?}"
    );
    let (up, _) = advise::migration(&advice).unwrap();
    assert!(
        up.contains("CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"),
        "{up}"
    );
    // $2 is compared to an expression: no value to sample, so a generic plan prices it.
    let unmapped = &advice.queries[2];
    assert!(unmapped.before.is_none());
    assert!(
        unmapped.notes.iter().any(|n| n.contains("generic plan")),
        "{unmapped:?}"
    );
    assert!(
        stmts.contains(&"CREATE INDEX CONCURRENTLY notes_body_idx ON public.notes (body);"),
        "{stmts:#?}"
    );
}
