//! `dbarch vector tune` with `--filter` and `--budget-build`, end to end on PostgreSQL 18 +
//! pgvector: a rare category under-returns with a plain HNSW scan; the strategy the tuner
//! picks (and applies) returns full LIMIT at the recall target, checked here independently
//! on 500 other queries; a tiny build budget skips candidates (or stops with one clear error);
//! bad filters and durations are one-line usage errors.

use dbarch_testing::{TestDb, TestServer};
use std::collections::HashSet;

mod common;
use common::*;

/// `docs (id, category = id % 100, embedding vector(dims))` of `data`.
async fn docs(data: &[Vec<f32>], dims: usize) -> TestDb {
    let db = TestServer::pg18().create_db().await;
    let c = db.client().await;
    c.batch_execute(&format!(
        "CREATE EXTENSION vector;
         CREATE TABLE docs (id bigint PRIMARY KEY, category int NOT NULL, embedding vector({dims}) NOT NULL);"
    ))
    .await
    .unwrap();
    for (b, chunk) in data.chunks(1000).enumerate() {
        let values: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let id = b * 1000 + i + 1;
                format!("({id}, {}, '{}')", id % 100, literal(v))
            })
            .collect();
        c.batch_execute(&format!(
            "INSERT INTO docs (id, category, embedding) VALUES {}",
            values.join(",")
        ))
        .await
        .unwrap();
    }
    c.batch_execute("CREATE INDEX ON docs (category)")
        .await
        .unwrap();
    c.batch_execute("VACUUM ANALYZE docs").await.unwrap();
    db
}

#[tokio::test]
async fn tune_filter_returns_full_limit_at_the_target() {
    // A rare category (1 %): a plain HNSW scan under-returns.
    let dims = 32;
    let cs = centers(40, dims, 21);
    let data = clustered(&cs, 10_000, 22);
    let db = docs(&data, dims).await;
    let doc = tune_filtered(&db, &cs, "category = 7", 0.01).await;
    assert!(doc["filter"]["matching_rows"].as_i64().unwrap() <= 100);
}

#[tokio::test]
async fn tune_filter_on_a_frequent_value() {
    // A frequent value (25 %): a partial index is measured too.
    let dims = 16;
    let cs = centers(20, dims, 41);
    let data: Vec<Vec<f32>> = clustered(&cs, 4_000, 42);
    let db = docs(&data, dims).await;
    let c = db.client().await;
    c.batch_execute("UPDATE docs SET category = id % 4")
        .await
        .unwrap();
    c.batch_execute("VACUUM ANALYZE docs").await.unwrap();
    let doc = tune_filtered(&db, &cs, "category = 1", 0.25).await;
    let curve = doc["filter"]["curve"].as_array().unwrap();
    assert!(
        curve.iter().any(|p| p["strategy"] == "partial_index"),
        "{:#}",
        doc["filter"]
    );
}

/// Tunes `docs.embedding` with `filter` (matching `share` of the rows), applies, and checks the strategy
/// independently.
async fn tune_filtered(
    db: &TestDb,
    cs: &[Vec<f32>],
    filter: &str,
    share: f64,
) -> serde_json::Value {
    let url = db.url();
    let dir = project();
    let target = 0.95;
    let r = run_in(
        dir.path(),
        &[
            "vector",
            "tune",
            "docs.embedding",
            "--recall",
            "0.95",
            "--k",
            "10",
            "--metric",
            "l2",
            "--sample",
            "400",
            "--filter",
            filter,
            "--url",
            &url,
            "--format",
            "json",
            "--apply",
            "--statement-timeout",
            "600",
        ],
    );
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let f = &doc["filter"];
    // Measured on the copy the sampled queries are held out of: about the table's share.
    let selectivity = f["selectivity"].as_f64().unwrap();
    assert!((selectivity - share).abs() < 0.005, "{}", r.stdout);
    let strategy = f["strategy"].as_str().unwrap().to_owned();
    assert!(
        ["exact", "iterative_scan", "partial_index"].contains(&strategy.as_str()),
        "{strategy}"
    );
    assert_eq!(f["after"]["held_out_under_returned"], 0.0, "{}", r.stdout);
    assert!(f["after"]["held_out_recall"].as_f64().unwrap() >= target);
    // A plain HNSW scan visits ~ef_search rows and finds ~1 % of them in the category.
    if doc["chosen"]["method"] == "hnsw" && f["selectivity"].as_f64().unwrap() <= 0.01 {
        let before = &f["before"];
        assert!(
            before["under_returned"].as_f64().unwrap() > 0.5,
            "a plain scan should under-return: {before}"
        );
        assert!(before["mean_rows"].as_f64().unwrap() < 10.0);
    }
    // Every filtered measurement reports its under-return; the exact one is first.
    let curve = f["curve"].as_array().unwrap();
    assert_eq!(curve[0]["strategy"], "exact");
    assert!(curve.iter().all(|p| p["under_returned"].is_number()));
    let query = f["query"]
        .as_str()
        .unwrap()
        .replace("$1", "$1::text::vector");
    assert!(query.contains(filter), "{query}");
    // Independently: a new session (it gets the database's settings), 500 other queries run
    // the way the tuner says, against the exact filtered top 10 computed here.
    let c = db.client().await;
    c.batch_execute("SELECT '[1]'::vector").await.unwrap(); // loads pgvector's settings
    if strategy == "iterative_scan" {
        let mode = if doc["chosen"]["method"] == "hnsw" {
            "hnsw.iterative_scan"
        } else {
            "ivfflat.iterative_scan"
        };
        let shown: String = c
            .query_one(&format!("SHOW {mode}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(shown, "relaxed_order");
    }
    let exact_sql = format!(
        "SELECT id FROM docs WHERE {filter} ORDER BY embedding <-> $1::text::vector LIMIT 10"
    );
    let held_out = clustered(cs, 500, 23);
    let mut total = 0.0;
    for q in &held_out {
        let lit = literal(q);
        let got: Vec<i64> = c
            .query(&query, &[&lit])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("id"))
            .collect();
        assert_eq!(got.len(), 10, "under-returned for {lit}");
        c.batch_execute("SET enable_indexscan = off").await.unwrap();
        let exact: HashSet<i64> = c
            .query(&exact_sql, &[&lit])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        c.batch_execute("RESET enable_indexscan").await.unwrap();
        total += got.iter().filter(|id| exact.contains(id)).count() as f64 / exact.len() as f64;
    }
    let recall = total / held_out.len() as f64;
    assert!(
        recall >= target - 0.01,
        "independent filtered recall {recall} < {target} - 0.01\n{}",
        r.stdout
    );
    // The scratch table is gone.
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'vector_tune_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    doc
}

#[tokio::test]
async fn tune_budget_skips_what_does_not_fit() {
    let dims = 16;
    let cs = centers(20, dims, 31);
    let data = clustered(&cs, 5_000, 32);
    let db = docs(&data, dims).await;
    let url = db.url();
    let r = run(&[
        "vector",
        "tune",
        "docs.embedding",
        "--metric",
        "l2",
        "--sample",
        "200",
        "--budget-build",
        "300ms",
        "--url",
        &url,
        "--format",
        "json",
        "-q",
    ]);
    match r.code {
        // Something was built: what did not fit is reported, with its reason.
        0 | 1 => {
            let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            let b = &doc["budget"];
            assert_eq!(b["seconds"], 0.3);
            let skipped = b["skipped"].as_array().unwrap();
            assert!(!skipped.is_empty(), "{}", r.stdout);
            assert!(skipped.iter().all(|s| s["reason"].is_string()));
            // Nothing ran past the budget (a build over it is cancelled), bar timer slack.
            assert!(b["spent_seconds"].as_f64().unwrap() < 0.3 + 0.5, "{b}");
            if r.code == 0 {
                assert!(doc["measured"]["held_out_recall"].as_f64().unwrap() >= 0.95);
            }
        }
        _ => {
            r.code(2);
            assert!(
                r.one_line_error()
                    .contains("no candidate index could be built within it"),
                "{}",
                r.stderr
            );
        }
    }
    // The text output reports the skipped candidates.
    let r = run(&[
        "vector",
        "tune",
        "docs.embedding",
        "--metric",
        "l2",
        "--sample",
        "200",
        "--budget-build",
        "1h",
        "--url",
        &url,
        "-q",
    ]);
    r.code(0);
    assert!(r.stdout.contains("Build budget 3600.0 s"), "{}", r.stdout);
    assert!(r.stdout.contains("0 candidate(s) skipped"), "{}", r.stdout);
}

#[tokio::test]
async fn tune_rejects_bad_filters_and_budgets() {
    let db = TestServer::pg18().create_db().await;
    db.client()
        .await
        .batch_execute(
            "CREATE EXTENSION vector;
             CREATE TABLE t (id int PRIMARY KEY, category int, e vector(3));
             INSERT INTO t SELECT g, g % 10, array[g, g % 7, 1]::real[]::vector FROM generate_series(1, 500) g;",
        )
        .await
        .unwrap();
    let url = db.url();
    for (args, expected) in [
        (
            vec!["--filter", "nope = 1"],
            "--filter: column \"nope\" does not exist",
        ),
        (vec!["--filter", "category ="], "--filter: syntax error"),
        (
            vec!["--filter", "'x' || category"],
            "--filter: invalid input syntax for type boolean",
        ),
        (
            vec!["--filter", "true; DROP TABLE t"],
            "--filter: syntax error at or near \";\"",
        ),
        (
            vec!["--filter", "category = 99"],
            "no row of public.t matches it",
        ),
        (vec!["--filter", " "], "--filter: an empty filter"),
        (
            vec!["--budget-build", "10x"],
            "--budget-build \"10x\": expected a positive duration",
        ),
        (vec!["--budget-build", "0s"], "--budget-build \"0s\""),
    ] {
        let mut full = vec!["vector", "tune", "t.e", "--sample", "50", "--url", &url];
        full.extend(args.iter().copied());
        let r = run(&full);
        r.code(2);
        assert!(
            r.one_line_error().contains(expected),
            "{args:?}: {}",
            r.stderr
        );
    }
    let n: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 500);
}
