//! Each finding is triggered by a real query on a real database, and not by the fixed version.

use dbarch_query::{Error, Outcome, Request, analyze, explain};
use dbarch_testing::{TestDb, TestServer};
use tokio_postgres::Client;

async fn db_with(server: &'static TestServer, setup: &str) -> (TestDb, Client) {
    let db = server.create_db().await;
    let client = db.client().await;
    client.batch_execute(setup).await.expect("setup");
    (db, client)
}

async fn run(client: &Client, sql: &str, analyze_it: bool) -> Outcome {
    explain(
        client,
        &Request {
            sql,
            params: &[],
            analyze: analyze_it,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("explain {sql}: {e}"))
}

async fn codes(client: &Client, sql: &str, analyze_it: bool) -> Vec<String> {
    let outcome = run(client, sql, analyze_it).await;
    analyze(&outcome).into_iter().map(|d| d.code).collect()
}

/// 200k rows, 1000 categories, and autovacuum kept away so that tests control VACUUM.
const BIG: &str = "
    CREATE TABLE t (id int, category int, b int, payload text) WITH (autovacuum_enabled = off);
    INSERT INTO t SELECT g, g % 1000, g % 10000, md5(g::text) FROM generate_series(1, 200000) g;
    ANALYZE t;
    SET max_parallel_workers_per_gather = 0;";

#[tokio::test]
async fn seq_scan_with_selective_filter() {
    let (_db, c) = db_with(TestServer::pg18(), BIG).await;
    let q = "SELECT * FROM t WHERE category = 42";
    let diags = analyze(&run(&c, q, true).await);
    let d = diags.iter().find(|d| d.code == "Q001").expect("Q001");
    assert_eq!(d.name, "seq-scan-selective-filter");
    assert_eq!(
        d.fix.as_deref(),
        Some("CREATE INDEX CONCURRENTLY ON t (category);")
    );
    // The same below a Gather (workers' rows and loops add up).
    c.batch_execute(
        "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
         SET parallel_tuple_cost = 0;",
    )
    .await
    .unwrap();
    let parallel = analyze(&run(&c, q, true).await);
    let d = parallel
        .iter()
        .find(|d| d.code == "Q001")
        .expect("Q001 parallel");
    assert!(
        d.message.contains("reads 200000 rows to keep 200 "),
        "{d:?}"
    );
    c.batch_execute("SET max_parallel_workers_per_gather = 0")
        .await
        .unwrap();
    // A plain EXPLAIN compares the estimate with the table's size.
    let planned = analyze(&run(&c, q, false).await);
    let d = planned
        .iter()
        .find(|d| d.code == "Q001")
        .expect("Q001 estimated");
    assert!(d.message.contains("(estimated)"), "{d:?}");
    c.batch_execute("CREATE INDEX ON t (category); ANALYZE t")
        .await
        .unwrap();
    assert!(!codes(&c, q, true).await.contains(&"Q001".to_owned()));
    assert!(!codes(&c, q, false).await.contains(&"Q001".to_owned()));
}

#[tokio::test]
async fn index_scan_filter_removing_rows() {
    let setup = format!("{BIG} CREATE INDEX t_category ON t (category); ANALYZE t;");
    let (_db, c) = db_with(TestServer::pg18(), &setup).await;
    // 200 rows per category, 20 of which have b = 42 + 1000k... the filter keeps few of them.
    let q = "SELECT * FROM t WHERE category BETWEEN 1 AND 20 AND b = 7";
    let diags = analyze(&run(&c, q, true).await);
    let d = diags.iter().find(|d| d.code == "Q002").expect("Q002");
    assert!(d.fix.as_deref().unwrap().contains("(category, b)"), "{d:?}");
    c.batch_execute("CREATE INDEX ON t (b, category); ANALYZE t")
        .await
        .unwrap();
    assert!(!codes(&c, q, true).await.contains(&"Q002".to_owned()));
}

#[tokio::test]
async fn sort_spilling_to_disk() {
    let (_db, c) = db_with(TestServer::pg18(), BIG).await;
    c.batch_execute("SET work_mem = '64kB'").await.unwrap();
    let q = "SELECT * FROM t ORDER BY payload";
    let diags = analyze(&run(&c, q, true).await);
    let d = diags.iter().find(|d| d.code == "Q004").expect("Q004");
    assert!(
        d.fix.as_deref().unwrap().starts_with("SET work_mem = '"),
        "{d:?}"
    );
    c.batch_execute("SET work_mem = '256MB'").await.unwrap();
    assert!(!codes(&c, q, true).await.contains(&"Q004".to_owned()));
}

#[tokio::test]
async fn lossy_bitmap_heap_scan() {
    let setup = format!("{BIG} CREATE INDEX ON t (category); SET enable_seqscan = off;");
    let (_db, c) = db_with(TestServer::pg18(), &setup).await;
    c.batch_execute("SET work_mem = '64kB'").await.unwrap();
    let q = "SELECT * FROM t WHERE category < 700";
    assert!(codes(&c, q, true).await.contains(&"Q005".to_owned()));
    c.batch_execute("SET work_mem = '64MB'").await.unwrap();
    assert!(!codes(&c, q, true).await.contains(&"Q005".to_owned()));
}

#[tokio::test]
async fn row_misestimate_on_correlated_columns() {
    let setup = "
        CREATE TABLE c (a int, b int);
        INSERT INTO c SELECT g % 100, g % 100 FROM generate_series(1, 100000) g;
        ANALYZE c;";
    let (_db, c) = db_with(TestServer::pg18(), setup).await;
    let q = "SELECT * FROM c WHERE a = 1 AND b = 1";
    let diags = analyze(&run(&c, q, true).await);
    let d = diags.iter().find(|d| d.code == "Q003").expect("Q003");
    assert_eq!(
        d.fix.as_deref(),
        Some("CREATE STATISTICS ON a, b FROM c; ANALYZE c;")
    );
    c.batch_execute("CREATE STATISTICS c_ab (dependencies) ON a, b FROM c; ANALYZE c")
        .await
        .unwrap();
    assert!(!codes(&c, q, true).await.contains(&"Q003".to_owned()));
}

#[tokio::test]
async fn nested_loop_over_unindexed_inner_side() {
    let setup = "
        CREATE TABLE parent (id int);
        CREATE TABLE child (parent_id int, v int);
        INSERT INTO parent SELECT g FROM generate_series(1, 500) g;
        INSERT INTO child SELECT g % 500, g FROM generate_series(1, 5000) g;
        ANALYZE parent, child;
        SET enable_hashjoin = off; SET enable_mergejoin = off;";
    let (_db, c) = db_with(TestServer::pg18(), setup).await;
    let q = "SELECT * FROM parent p JOIN child ch ON ch.parent_id = p.id";
    let diags = analyze(&run(&c, q, true).await);
    let d = diags.iter().find(|d| d.code == "Q006").expect("Q006");
    assert_eq!(
        d.fix.as_deref(),
        Some("CREATE INDEX CONCURRENTLY ON parent (id);")
    );
    c.batch_execute("ALTER TABLE parent ADD PRIMARY KEY (id); ANALYZE parent")
        .await
        .unwrap();
    assert!(!codes(&c, q, true).await.contains(&"Q006".to_owned()));
}

#[tokio::test]
async fn heap_fetches_in_index_only_scan() {
    let setup = "
        CREATE TABLE stale (id int) WITH (autovacuum_enabled = off);
        CREATE TABLE fresh (id int) WITH (autovacuum_enabled = off);
        INSERT INTO stale SELECT generate_series(1, 100000);
        INSERT INTO fresh SELECT generate_series(1, 100000);
        CREATE INDEX ON stale (id); CREATE INDEX ON fresh (id); ANALYZE stale, fresh;
        SET enable_seqscan = off; SET enable_bitmapscan = off;";
    let (_db, c) = db_with(TestServer::pg18(), setup).await;
    // Right after a bulk load VACUUM may not yet mark every page all-visible (transactions
    // of concurrent tests on the shared server): repeat until the visibility map is complete.
    for _ in 0..50 {
        c.batch_execute("SELECT txid_current()").await.unwrap();
        c.batch_execute("VACUUM fresh").await.unwrap();
        let row = c
            .query_one(
                "SELECT relallvisible >= relpages FROM pg_class WHERE relname = 'fresh'",
                &[],
            )
            .await
            .unwrap();
        if row.get::<_, bool>(0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let diags = analyze(&run(&c, "SELECT id FROM stale WHERE id < 50000", true).await);
    let d = diags.iter().find(|d| d.code == "Q007").expect("Q007");
    assert!(
        d.fix
            .as_deref()
            .unwrap()
            .starts_with("VACUUM (ANALYZE) stale;")
    );
    let after = analyze(&run(&c, "SELECT id FROM fresh WHERE id < 50000", true).await);
    assert!(!after.iter().any(|d| d.code == "Q007"), "{after:#?}");
}

const VECTORS: &str = "
    CREATE EXTENSION vector;
    CREATE TABLE items (id serial PRIMARY KEY, e vector(3));
    INSERT INTO items (e)
      SELECT ARRAY[random(), random(), random()]::vector FROM generate_series(1, 5000);
    CREATE INDEX items_e_cosine ON items USING hnsw (e vector_cosine_ops);
    ANALYZE items;";

#[tokio::test]
async fn vector_order_by_with_mismatched_opclass() {
    let (_db, c) = db_with(TestServer::pg18(), VECTORS).await;
    let l2 = "SELECT id FROM items ORDER BY e <-> '[1,2,3]' LIMIT 5";
    let diags = analyze(&run(&c, l2, false).await);
    let d = diags.iter().find(|d| d.code == "Q011").expect("Q011");
    assert!(d.message.contains("vector_cosine_ops"), "{d:?}");
    assert!(d.fix.as_deref().unwrap().contains("vector_l2_ops"), "{d:?}");
    let cosine = "SELECT id FROM items ORDER BY e <=> '[1,2,3]' LIMIT 5";
    assert!(!codes(&c, cosine, false).await.contains(&"Q011".to_owned()));
    // Without LIMIT no ANN index scan is possible.
    let unlimited = "SELECT id FROM items ORDER BY e <=> '[1,2,3]'";
    let diags = analyze(&run(&c, unlimited, false).await);
    let d = diags.iter().find(|d| d.code == "Q011").expect("Q011");
    assert!(d.message.contains("without LIMIT"), "{d:?}");
    let desc = "SELECT id FROM items ORDER BY e <=> '[1,2,3]' DESC LIMIT 5";
    let diags = analyze(&run(&c, desc, false).await);
    let d = diags.iter().find(|d| d.code == "Q011").expect("Q011");
    assert!(d.message.contains("DESC"), "{d:?}");
    // No ANN index at all: the fix creates one for the query's operator.
    c.batch_execute("DROP INDEX items_e_cosine").await.unwrap();
    let diags = analyze(&run(&c, cosine, false).await);
    let d = diags.iter().find(|d| d.code == "Q011").expect("Q011");
    assert_eq!(
        d.fix.as_deref(),
        Some("CREATE INDEX CONCURRENTLY ON items USING hnsw (e vector_cosine_ops);")
    );
}

#[tokio::test]
async fn analyzed_dml_is_rolled_back() {
    let (_db, c) = db_with(
        TestServer::pg18(),
        "CREATE TABLE d AS SELECT g FROM generate_series(1, 100) g",
    )
    .await;
    let outcome = run(&c, "DELETE FROM d WHERE g <= 50", true).await;
    assert_eq!(outcome.explain.plan.node_type, "ModifyTable");
    let n: i64 = c
        .query_one("SELECT count(*) FROM d", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 100);
}

async fn generic_plan(server: &'static TestServer) {
    let (_db, c) = db_with(server, "CREATE TABLE g (id int PRIMARY KEY, v text)").await;
    let q = "SELECT * FROM g WHERE id = $1 AND v <> $2;";
    let generic = run(&c, q, false).await;
    assert!(
        generic
            .explain
            .nodes()
            .iter()
            .any(|(_, n)| n.relation_name.as_deref() == Some("g"))
    );
    let params = ["1".to_owned(), "it's".to_owned()];
    let with_values = explain(
        &c,
        &Request {
            sql: q,
            params: &params,
            analyze: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(with_values.explain.plan.actual_rows, Some(0.0));
    let err = explain(
        &c,
        &Request {
            sql: q,
            params: &[],
            analyze: true,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::AnalyzeNeedsParams(2)), "{err}");
    let err = explain(
        &c,
        &Request {
            sql: q,
            params: &params[..1],
            analyze: false,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ParamCount {
                expected: 2,
                given: 1
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn generic_plan_pg18() {
    generic_plan(TestServer::pg18()).await;
}

#[tokio::test]
async fn generic_plan_pg15() {
    generic_plan(TestServer::pg15()).await;
}

#[tokio::test]
async fn rejected_query_is_input_with_position() {
    let (_db, c) = db_with(TestServer::pg18(), "SELECT 1").await;
    let err = explain(
        &c,
        &Request {
            sql: "SELECT 1\n  FROMM x",
            params: &[],
            analyze: false,
        },
    )
    .await
    .unwrap_err();
    assert!(err.is_input());
    let Error::Rejected { line, column, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *column), (Some(2), Some(9)));
    // The session is usable afterwards: the failed transaction was rolled back.
    c.batch_execute("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn statement_timeout_is_a_database_error() {
    let (_db, c) = db_with(TestServer::pg18(), "SET statement_timeout = '100ms'").await;
    let err = explain(
        &c,
        &Request {
            sql: "SELECT pg_sleep(5)",
            params: &[],
            analyze: true,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err}");
}

#[tokio::test]
async fn jit_dominating_a_short_query() {
    // PG 15 (Debian) is built with LLVM; the PG 18 wheel is not.
    let setup = "SET jit_above_cost = 0; SET jit_inline_above_cost = 0;
                 SET jit_optimize_above_cost = 0;";
    let (_db, c) = db_with(TestServer::pg15(), setup).await;
    let q = "SELECT sum(g), avg(g * 2) FROM generate_series(1, 1000) g";
    let diags = analyze(&run(&c, q, true).await);
    let d = diags.iter().find(|d| d.code == "Q008").expect("Q008");
    assert!(d.fix.as_deref().unwrap().starts_with("SET jit = off"));
    c.batch_execute("SET jit = off").await.unwrap();
    assert!(!codes(&c, q, true).await.contains(&"Q008".to_owned()));
}

#[tokio::test]
async fn planning_time_dominating() {
    let tables: Vec<String> = (1..=10)
        .map(|i| format!("CREATE TABLE j{i} (id int);"))
        .collect();
    let setup = format!(
        "{} SET join_collapse_limit = 20; SET from_collapse_limit = 20; SET geqo_threshold = 20;",
        tables.concat()
    );
    let (_db, c) = db_with(TestServer::pg18(), &setup).await;
    let joins: Vec<String> = (2..=10)
        .map(|i| format!(" JOIN j{i} ON j{i}.id = j{}.id", i - 1))
        .collect();
    let q = format!("SELECT * FROM j1{}", joins.concat());
    assert!(codes(&c, &q, true).await.contains(&"Q009".to_owned()));
    // The fixed version: the planner follows the written join order.
    c.batch_execute("SET join_collapse_limit = 1")
        .await
        .unwrap();
    assert!(!codes(&c, &q, true).await.contains(&"Q009".to_owned()));
}

#[tokio::test]
async fn parallel_workers_planned_but_not_launched() {
    let setup = format!(
        "{BIG} SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
         SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
         SET max_parallel_workers = 0;"
    );
    let (_db, c) = db_with(TestServer::pg18(), &setup).await;
    let q = "SELECT count(*) FROM t WHERE payload LIKE 'a%'";
    let diags = analyze(&run(&c, q, true).await);
    let d = diags.iter().find(|d| d.code == "Q010").expect("Q010");
    assert!(
        d.message
            .contains("planned 2 parallel worker(s) but launched 0"),
        "{d:?}"
    );
    // The fixed version asks for no more workers than the server gives.
    c.batch_execute("SET max_parallel_workers_per_gather = 0")
        .await
        .unwrap();
    assert!(!codes(&c, q, true).await.contains(&"Q010".to_owned()));
}

#[tokio::test]
async fn vector_order_by_not_matching_an_expression_index() {
    let setup = "
        CREATE EXTENSION vector;
        CREATE TABLE h (id serial PRIMARY KEY, e vector(3));
        INSERT INTO h (e)
          SELECT ARRAY[random(), random(), random()]::vector FROM generate_series(1, 5000);
        CREATE INDEX h_e_half ON h USING hnsw ((e::halfvec(3)) halfvec_cosine_ops);
        ANALYZE h;";
    let (_db, c) = db_with(TestServer::pg18(), setup).await;
    let plain = "SELECT id FROM h ORDER BY e <=> '[1,2,3]' LIMIT 5";
    let diags = analyze(&run(&c, plain, false).await);
    let d = diags.iter().find(|d| d.code == "Q011").expect("Q011");
    assert!(d.message.contains("expression"), "{d:?}");
    let matching = "SELECT id FROM h ORDER BY e::halfvec(3) <=> '[1,2,3]'::halfvec(3) LIMIT 5";
    let outcome = run(&c, matching, false).await;
    assert!(
        outcome
            .explain
            .nodes()
            .iter()
            .any(|(_, n)| n.index_name.as_deref() == Some("h_e_half")),
        "{:#?}",
        outcome.explain
    );
    assert!(!analyze(&outcome).iter().any(|d| d.code == "Q011"));
}
