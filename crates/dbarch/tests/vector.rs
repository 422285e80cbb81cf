//! `dbarch vector` end to end on PostgreSQL 18 + pgvector: the design applies through the
//! migration runner, round-trips through inspect, and lints clean of V rules; setup on an
//! existing table; loading every input format (and each bad input: exit 2, one line, nothing
//! written); tuning a synthetic clustered set to a recall target, checked independently on
//! held-out queries.

use dbarch_testing::{TestDb, TestServer};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

mod common;
use common::*;

fn write_fvecs(path: &Path, rows: &[Vec<f32>]) {
    let mut b = Vec::new();
    for r in rows {
        b.extend_from_slice(&(r.len() as i32).to_le_bytes());
        for v in r {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path, b).unwrap();
}

/// A version 1.0 .npy file of a 2-D little-endian float32 (`f4`) or float64 (`f8`) array.
fn write_npy(path: &Path, rows: &[Vec<f64>], f8: bool) {
    let dims = rows[0].len();
    let mut header = format!(
        "{{'descr': '<f{}', 'fortran_order': False, 'shape': ({}, {}), }}",
        if f8 { 8 } else { 4 },
        rows.len(),
        dims
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    for r in rows {
        for &v in r {
            if f8 {
                b.extend_from_slice(&v.to_le_bytes());
            } else {
                b.extend_from_slice(&(v as f32).to_le_bytes());
            }
        }
    }
    std::fs::write(path, b).unwrap();
}

async fn db_with(sql: &str) -> TestDb {
    let db = TestServer::pg18().create_db().await;
    db.client().await.batch_execute(sql).await.unwrap();
    db
}

async fn count(db: &TestDb, table: &str) -> i64 {
    db.client()
        .await
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

fn inspect_sql(url: &str) -> String {
    let r = run(&["inspect", "--url", url, "--format", "sql"]);
    r.code(0);
    r.stdout
}

#[tokio::test]
async fn design_applies_round_trips_and_lints_clean() {
    for (args, must) in [
        (
            vec![
                "--model",
                "all-MiniLM-L6-v2",
                "--rows",
                "50000",
                "--filter",
                "lang:text,tags:text[],meta:jsonb,published:date",
            ],
            vec![
                "USING hnsw (embedding public.vector_ip_ops) WITH (m='16', ef_construction='64')",
                "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED",
                "USING gin (content_tsv)",
                "USING gin (meta jsonb_path_ops)",
                "USING gin (tags)",
                "USING btree (lang)",
                "REFERENCES public.documents(id) ON DELETE CASCADE",
                "UNIQUE (document_id, chunk_index)",
            ],
        ),
        (
            vec!["--dims", "3072", "--metric", "l2", "--rows", "1000"],
            vec!["embedding public.halfvec(3072) NOT NULL", "halfvec_l2_ops"],
        ),
        (
            vec!["--dims", "8192", "--rows", "1000"],
            vec![
                "(public.binary_quantize(embedding))::bit(8192)",
                "bit_hamming_ops",
            ],
        ),
    ] {
        let db = TestServer::pg18().create_db().await;
        let url = db.url();
        let dir = project();
        let mut full = vec!["vector", "design", "--write-migration"];
        full.extend(&args);
        let r = run_in(dir.path(), &full);
        r.code(0);
        assert!(r.stdout.contains("Estimate for"), "{}", r.stdout);
        let files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 4, "{files:?}");
        run_in(dir.path(), &["migrate", "up", "--url", &url]).code(0);
        let sql = inspect_sql(&url);
        for m in &must {
            assert!(sql.contains(m), "{args:?}: {m} missing from\n{sql}");
        }
        // Round trip: the canonical SQL loaded into an empty database gives the same schema.
        let db2 = TestServer::pg18().create_db().await;
        db2.client().await.batch_execute(&sql).await.unwrap();
        assert_eq!(inspect_sql(&db2.url()), sql, "{args:?}");
        // No V-rule finding on the designed schema, nor on the migration files.
        let r = run_in(dir.path(), &["lint", "--url", &url, "--format", "json"]);
        assert!(!r.stdout.contains("\"V0"), "{args:?}:\n{}", r.stdout);
        let r = run_in(dir.path(), &["lint", "migrations", "--format", "json"]);
        assert!(!r.stdout.contains("\"V0"), "{args:?}:\n{}", r.stdout);
        // And the downs take it all away.
        run_in(dir.path(), &["migrate", "down", "--url", &url, "--all"]);
    }
}

#[tokio::test]
async fn design_rejects_bad_flags() {
    let r = run(&["vector", "design", "--rows", "10"]);
    r.code(2);
    assert!(r.one_line_error().contains("--dims"));
    let r = run(&["vector", "design", "--dims", "3000", "--storage", "vector"]);
    r.code(2);
    assert!(r.one_line_error().contains("2,000"));
    let r = run(&["vector", "design", "--dims", "8", "--filter", "oops"]);
    r.code(2);
    r.one_line_error();
}

#[tokio::test]
async fn setup_adds_column_and_index() {
    let db = db_with(
        "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text);
         INSERT INTO items (title) SELECT 'x' || g FROM generate_series(1, 100) g;",
    )
    .await;
    let url = db.url();
    let dir = project();
    let r = run_in(
        dir.path(),
        &[
            "vector",
            "setup",
            "items",
            "--column",
            "embedding",
            "--dims",
            "32",
            "--url",
            &url,
            "--write-migration",
        ],
    );
    r.code(0);
    assert!(
        r.stdout
            .contains("ALTER TABLE public.items ADD COLUMN embedding vector(32);")
    );
    run_in(dir.path(), &["migrate", "up", "--url", &url]).code(0);
    let sql = inspect_sql(&url);
    assert!(sql.contains("embedding public.vector(32)"), "{sql}");
    assert!(
        sql.contains("USING hnsw (embedding public.vector_cosine_ops)"),
        "{sql}"
    );
    // The column now exists: only the index would be proposed, and a wrong type is refused.
    let r = run(&["vector", "setup", "items", "--dims", "64", "--url", &url]);
    r.code(2);
    assert!(r.one_line_error().contains("is vector(32)"));
}

const ITEMS: &str = "CREATE EXTENSION vector;
CREATE TABLE items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    embedding vector(3) NOT NULL,
    title text NOT NULL DEFAULT 'untitled',
    n integer
);
CREATE TABLE halfs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, embedding halfvec(3));";

async fn loaded(db: &TestDb, table: &str) -> Vec<(String, String, Option<i32>)> {
    let c = db.client().await;
    let extra = if table == "items" {
        "title, n"
    } else {
        "'', NULL::int"
    };
    c.query(
        &format!("SELECT embedding::text, {extra} FROM {table} ORDER BY id"),
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

#[tokio::test]
async fn load_reads_every_format() {
    let db = db_with(ITEMS).await;
    let url = db.url();
    let dir = project();
    let p = |name: &str| dir.path().join(name);
    let rows = [vec![1.0, 2.5, 3.0], vec![4.0, 5.0, -6.0]];
    write_npy(&p("a.npy"), &rows, false);
    write_npy(&p("b.npy"), &rows, true);
    let f32rows: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| r.iter().map(|&v| v as f32).collect())
        .collect();
    write_fvecs(&p("c.fvecs"), &f32rows);
    std::fs::write(
        p("d.jsonl"),
        "{\"embedding\": [1, 2.5, 3], \"title\": \"one\", \"n\": 1}\n{\"embedding\": [4, 5, -6], \"title\": \"two\"}\n",
    )
    .unwrap();
    std::fs::write(
        p("e.csv"),
        "title,embedding,n\none,\"[1,2.5,3]\",7\ntwo,\"[4,5,-6]\",8\n",
    )
    .unwrap();
    std::fs::write(p("f.csv"), "1,2.5,3\n4,5,-6\n").unwrap();
    let expect_vec = ["[1,2.5,3]", "[4,5,-6]"];
    for (file, titles, ns) in [
        ("a.npy", ["untitled", "untitled"], [None, None]),
        ("b.npy", ["untitled", "untitled"], [None, None]),
        ("c.fvecs", ["untitled", "untitled"], [None, None]),
        ("d.jsonl", ["one", "two"], [Some(1), None]),
        ("e.csv", ["one", "two"], [Some(7), Some(8)]),
        ("f.csv", ["untitled", "untitled"], [None, None]),
    ] {
        db.client()
            .await
            .batch_execute("TRUNCATE items")
            .await
            .unwrap();
        let r = run_in(
            dir.path(),
            &[
                "vector",
                "load",
                "items",
                "--from",
                p(file).to_str().unwrap(),
                "--url",
                &url,
            ],
        );
        r.code(0);
        assert!(
            r.stdout
                .starts_with("Loaded 2 rows of 3 dimensions into public.items.embedding"),
            "{}",
            r.stdout
        );
        let got = loaded(&db, "items").await;
        let want: Vec<(String, String, Option<i32>)> = (0..2)
            .map(|i| (expect_vec[i].to_owned(), titles[i].to_owned(), ns[i]))
            .collect();
        assert_eq!(got, want, "{file}");
    }
    // halfvec columns take the same files.
    let r = run_in(
        dir.path(),
        &[
            "vector",
            "load",
            "halfs",
            "--from",
            p("c.fvecs").to_str().unwrap(),
            "--url",
            &url,
            "--format",
            "json",
        ],
    );
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["rows"], 2);
    assert_eq!(loaded(&db, "halfs").await[1].0, "[4,5,-6]");
}

#[tokio::test]
async fn load_rebuilds_ann_indexes() {
    let db = db_with(&format!(
        "{ITEMS}\nCREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8);"
    ))
    .await;
    let url = db.url();
    let dir = project();
    let rows: Vec<Vec<f32>> = clustered(&centers(4, 3, 7), 2000, 8);
    let file = dir.path().join("v.fvecs");
    write_fvecs(&file, &rows);
    let r = run_in(
        dir.path(),
        &[
            "vector",
            "load",
            "items",
            "--from",
            file.to_str().unwrap(),
            "--url",
            &url,
            "--rebuild-indexes",
            "--format",
            "json",
        ],
    );
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["rows"], 2000);
    let rebuilt = doc["rebuilt"].as_array().unwrap();
    assert_eq!(rebuilt.len(), 1, "{}", r.stdout);
    assert_eq!(rebuilt[0]["name"], "public.items_embedding_idx");
    assert_eq!(rebuilt[0]["maintenance_work_mem"], "64MB");
    let def: String = db
        .client()
        .await
        .query_one(
            "SELECT pg_get_indexdef('items_embedding_idx'::regclass)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        def.contains("USING hnsw (embedding vector_l2_ops) WITH (m='8')"),
        "{def}"
    );
    assert_eq!(count(&db, "items").await, 2000);
}

#[tokio::test]
async fn load_bad_input_is_one_error_and_writes_nothing() {
    let db = db_with(ITEMS).await;
    let url = db.url();
    let dir = project();
    let p = |name: &str| dir.path().join(name);
    std::fs::write(
        p("dims.jsonl"),
        "{\"embedding\": [1,2,3]}\n{\"embedding\": [1,2]}\n",
    )
    .unwrap();
    std::fs::write(p("nan.csv"), "1,2,3\n4,NaN,6\n").unwrap();
    write_npy(
        &p("inf.npy"),
        &[vec![1.0, 2.0, 3.0], vec![1.0, f64::INFINITY, 3.0]],
        true,
    );
    write_fvecs(&p("four.fvecs"), &[vec![1.0, 2.0, 3.0, 4.0]]);
    std::fs::write(p("empty.jsonl"), "").unwrap();
    std::fs::write(p("empty.fvecs"), "").unwrap();
    // Streamed files: the bad row comes after a first batch of 8,192 rows went into the COPY.
    let mut many: Vec<Vec<f32>> = (0..10_000).map(|i| vec![i as f32, 1.0, 2.0]).collect();
    many[8999][1] = f32::NAN;
    write_fvecs(&p("late_nan.fvecs"), &many);
    many[8999][1] = 1.0;
    many[9499] = vec![1.0, 2.0];
    write_fvecs(&p("late_dims.fvecs"), &many);
    std::fs::write(
        p("cast.jsonl"),
        "{\"embedding\": [1,2,3], \"n\": 1}\n{\"embedding\": [1,2,3], \"n\": \"many\"}\n",
    )
    .unwrap();
    std::fs::write(
        p("field.jsonl"),
        "{\"embedding\": [1,2,3], \"colour\": \"red\"}\n",
    )
    .unwrap();
    std::fs::write(p("v.txt"), "1,2,3\n").unwrap();
    for (file, expected) in [
        (
            "dims.jsonl",
            "dims.jsonl: line 2 has 2 dimensions, the rows before it 3",
        ),
        ("nan.csv", "nan.csv: line 2 holds NaN at dimension 2"),
        ("inf.npy", "inf.npy: row 2 holds inf at dimension 2"),
        (
            "four.fvecs",
            "four.fvecs has 4 dimensions, public.items.embedding is vector(3)",
        ),
        ("empty.jsonl", "empty.jsonl: holds no vectors"),
        ("empty.fvecs", "empty.fvecs: holds no vectors"),
        (
            "late_nan.fvecs",
            "late_nan.fvecs: row 9000 holds NaN at dimension 2",
        ),
        (
            "late_dims.fvecs",
            "late_dims.fvecs: row 9500 has 2 dimensions, the rows before it 3",
        ),
        ("missing.npy", "cannot read "),
        (
            "cast.jsonl",
            "invalid input syntax for type integer: \"many\"",
        ),
        (
            "field.jsonl",
            "field \"colour\" is not a column of public.items",
        ),
        ("v.txt", "unknown format"),
    ] {
        let r = run_in(
            dir.path(),
            &[
                "vector",
                "load",
                "items",
                "--from",
                p(file).to_str().unwrap(),
                "--url",
                &url,
            ],
        );
        r.code(2);
        let line = r.one_line_error();
        assert!(line.contains(expected), "{file}: {line}");
        assert_eq!(count(&db, "items").await, 0, "{file} left rows behind");
    }
    std::fs::write(p("ok.csv"), "1,2,3\n").unwrap();
    let r = run(&[
        "vector",
        "load",
        "nope",
        "--from",
        p("ok.csv").to_str().unwrap(),
        "--url",
        &url,
    ]);
    r.code(2);
    assert!(r.one_line_error().contains("no table nope"));
}

#[tokio::test]
async fn tune_meets_the_recall_target_on_held_out_queries() {
    let dims = 32;
    let db = db_with(&format!(
        "CREATE EXTENSION vector;
         CREATE TABLE docs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, embedding vector({dims}) NOT NULL);"
    ))
    .await;
    let url = db.url();
    let dir = project();
    let cs = centers(40, dims, 11);
    let data = clustered(&cs, 20_000, 12);
    let file = dir.path().join("data.fvecs");
    write_fvecs(&file, &data);
    run_in(
        dir.path(),
        &[
            "vector",
            "load",
            "docs",
            "--from",
            file.to_str().unwrap(),
            "--url",
            &url,
        ],
    )
    .code(0);
    let queries = clustered(&cs, 1000, 13);
    let qfile = dir.path().join("queries.fvecs");
    write_fvecs(&qfile, &queries);
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
            "--queries",
            qfile.to_str().unwrap(),
            "--url",
            &url,
            "--format",
            "json",
            "--apply",
            "--write-migration",
            "--statement-timeout",
            "600",
        ],
    );
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let chosen = &doc["chosen"];
    let method = chosen["method"].as_str().unwrap().to_owned();
    for key in [
        "recall",
        "p50_ms",
        "p95_ms",
        "qps",
        "build_seconds",
        "bytes",
    ] {
        assert!(doc["measured"][key].is_number(), "{key}: {}", r.stdout);
    }
    assert!(doc["measured"]["recall"].as_f64().unwrap() >= target);
    assert!(doc["curve"].as_array().unwrap().len() >= 2);
    assert_eq!(doc["held_out_queries"], 500);
    // No scratch table or candidate left behind; the chosen index on the table.
    let c = db.client().await;
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'vector_tune_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    let indexes: Vec<String> = c
        .query(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'docs' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        indexes,
        vec![
            format!("docs_embedding_{method}_idx"),
            "docs_pkey".to_owned()
        ]
    );
    let migrations: Vec<String> = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(migrations.len(), 2, "{migrations:?}");
    // Independently: a new session (it gets the database's setting), 500 other queries.
    let (setting, value) = match method.as_str() {
        "hnsw" => ("hnsw.ef_search", chosen["ef_search"].to_string()),
        _ => ("ivfflat.probes", chosen["probes"].to_string()),
    };
    let c = db.client().await;
    c.batch_execute("SELECT '[1]'::vector").await.unwrap(); // loads pgvector's settings
    let shown: String = c
        .query_one(&format!("SHOW {setting}"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(shown, value);
    let held_out = clustered(&cs, 500, 14);
    let knn = "SELECT id FROM docs ORDER BY embedding <-> $1::text::vector LIMIT 10";
    let mut total = 0.0;
    for q in &held_out {
        let lit = literal(q);
        c.batch_execute("SET enable_seqscan = off; SET enable_indexscan = on")
            .await
            .unwrap();
        let plan: String = c
            .query(
                &format!("EXPLAIN {}", knn.replace("$1", &format!("'{lit}'"))),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            plan.contains(&format!("docs_embedding_{method}_idx")),
            "{plan}"
        );
        let ann: HashSet<i64> = c
            .query(knn, &[&lit])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        c.batch_execute("SET enable_seqscan = on; SET enable_indexscan = off")
            .await
            .unwrap();
        let exact: HashSet<i64> = c
            .query(knn, &[&lit])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        total += ann.intersection(&exact).count() as f64 / exact.len() as f64;
    }
    let recall = total / held_out.len() as f64;
    assert!(
        recall >= target - 0.01,
        "independent recall {recall} < {target} - 0.01\n{}",
        r.stdout
    );
}

#[tokio::test]
async fn tune_rejects_bad_targets() {
    let db = db_with(
        "CREATE EXTENSION vector; CREATE TABLE t (id int PRIMARY KEY, e vector(3), s text);
         INSERT INTO t SELECT g, '[1,2,3]', 'x' FROM generate_series(1, 5) g;",
    )
    .await;
    let url = db.url();
    for (args, expected) in [
        (vec!["t.e", "--recall", "1.5"], "--recall 1.5"),
        (vec!["t.s"], "not a vector or halfvec column"),
        (vec!["t.e"], "too few to tune"),
        (vec!["nosuch.e"], "no table nosuch"),
    ] {
        let mut full = vec!["vector", "tune", "--url", &url];
        full.extend(args);
        let r = run(&full);
        r.code(2);
        assert!(r.one_line_error().contains(expected), "{}", r.stderr);
    }
}

#[tokio::test]
async fn filtered_search_returns_full_limit() {
    // 10,000 rows in 100 categories: the filter keeps 1 %, far fewer than the 40 candidates of
    // an HNSW scan hold, so a plain index scan returns fewer rows than LIMIT.
    let db = db_with(
        "CREATE EXTENSION vector;
         SELECT setseed(0.5);
         CREATE TABLE items (id bigint PRIMARY KEY, category int NOT NULL, embedding vector(8) NOT NULL);
         INSERT INTO items SELECT g, g % 100,
             (SELECT array_agg(random())::vector(8) FROM generate_series(1, 8) WHERE g > 0)
           FROM generate_series(1, 10000) g;
         CREATE INDEX ON items USING hnsw (embedding vector_l2_ops);
         ANALYZE items;",
    )
    .await;
    // Both sessions below use the index (as a large table would).
    db.client()
        .await
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET enable_seqscan = off",
            db.name
        ))
        .await
        .unwrap();
    let q = "[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]";
    let c = db.client().await;
    let plain = c
        .query(
            "SELECT id FROM items WHERE category = 7 ORDER BY embedding <-> $1::text::vector LIMIT 10",
            &[&q],
        )
        .await
        .unwrap();
    assert!(
        plain.len() < 10,
        "a plain HNSW scan returned {} rows",
        plain.len()
    );
    let r = run(&[
        "vector",
        "search",
        "items",
        q,
        "--filter",
        "category = 7",
        "--k",
        "10",
        "--url",
        &db.url(),
    ]);
    r.code(0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 10, "{}", r.stdout);
    let mut last = 0.0;
    for hit in results {
        assert_eq!(hit["row"]["category"], 7);
        assert!(hit["row"].get("embedding").is_none());
        let d = hit["distance"].as_f64().unwrap();
        assert!(d >= last, "not in distance order: {}", r.stdout);
        last = d;
    }
    let r = run(&["vector", "search", "items", "[1,2]", "--url", &db.url()]);
    r.code(2);
    assert!(r.one_line_error().contains("the query has 2 dimensions"));
    let r = run(&[
        "vector",
        "search",
        "items",
        q,
        "--filter",
        "nope = 1",
        "--url",
        &db.url(),
    ]);
    r.code(2);
    assert!(r.one_line_error().contains("--filter"));
}
