//! `dbarch rag` and hybrid `vector search` end to end on PostgreSQL 18 + pgvector, with the
//! shipped labelled corpus: ingest (skips, non-UTF-8, idempotence, edits and deletions, a
//! kill -9 in the middle, a model change through a column swap), query in the three modes,
//! evaluation, and reciprocal rank fusion checked against an independent computation.
//! The hashing embedder keeps these fast; `rag_local.rs` runs the real model.

use dbarch_testing::{TestDb, TestServer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod common;
use common::*;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbarch_rag/corpus")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn ingest(db: &TestDb, dir: &Path, extra: &[&str]) -> Run {
    let url = db.url();
    let d = dir.to_str().unwrap();
    let mut args = vec![
        "rag",
        "ingest",
        d,
        "--url",
        &url,
        "--embedder",
        "hash",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// (source, chunk_index, content_hash) of every chunk, sorted.
async fn chunk_set(db: &TestDb, schema: &str) -> Vec<(String, i32, Vec<u8>)> {
    db.client()
        .await
        .query(
            &format!(
                "SELECT d.source, c.chunk_index, c.content_hash FROM {schema}.chunks c \
                 JOIN {schema}.documents d ON d.id = c.document_id ORDER BY 1, 2"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn ingest_is_idempotent_and_follows_edits() {
    let db = TestServer::pg18().create_db().await;
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    copy_dir(&corpus().join("docs"), &docs);

    // First run: tables created, 24 documents in; the PNG and CSV skipped, the Latin-1 file
    // failed with its own message, and the exit code says so.
    let r = ingest(&db, &docs, &[]);
    r.code(1);
    let rep = json(&r);
    assert_eq!(rep["created_tables"], true);
    assert_eq!(rep["documents_new"], 24, "{}", r.stdout);
    let skipped: Vec<&str> = rep["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped.iter().any(|p| p.ends_with("image.png")));
    assert!(skipped.iter().any(|p| p.ends_with("data.csv")));
    let failed = rep["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("latin1.txt is not valid UTF-8"),
        "{failed:?}"
    );
    let first = chunk_set(&db, "public").await;
    let chunks = first.len();
    assert!(chunks > 60, "{chunks} chunks");
    assert_eq!(rep["chunks_written"], chunks);
    // The design's pieces are there: the HNSW index, the generated tsvector, ids as paths.
    let c = db.client().await;
    let has_hnsw: bool = c
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_indexes WHERE tablename = 'chunks' AND indexdef LIKE '%hnsw%')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(has_hnsw);
    let ids: Vec<String> = c
        .query("SELECT source FROM documents ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        ids.contains(&"postgres/mvcc-and-vacuum.md".to_owned()),
        "{ids:?}"
    );
    assert!(ids.contains(&"lighthouses.txt".to_owned()));
    let empty_tsv: i64 = c
        .query_one(
            "SELECT count(*) FROM chunks WHERE content_tsv = ''::tsvector",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(empty_tsv, 0);

    // Second run: nothing to do.
    std::fs::remove_file(docs.join("latin1.txt")).unwrap();
    let r = ingest(&db, &docs, &[]);
    r.code(0);
    let rep = json(&r);
    assert_eq!(rep["documents_unchanged"], 24, "{}", r.stdout);
    assert_eq!(rep["chunks_embedded"], 0);
    assert_eq!(rep["chunks_written"], 0);
    assert_eq!(chunk_set(&db, "public").await, first);

    // An edit re-embeds only the new text; a removed document goes with its chunks.
    let edited = docs.join("postgres/index-types.md");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("\n\n## Hash indexes\n\nHash indexes answer equality only, and are WAL-logged since version 10.\n");
    std::fs::write(&edited, text).unwrap();
    std::fs::remove_file(docs.join("chess-openings.md")).unwrap();
    let r = ingest(&db, &docs, &[]);
    r.code(0);
    let rep = json(&r);
    assert_eq!(rep["documents_changed"], 1, "{}", r.stdout);
    assert_eq!(rep["documents_deleted"], 1);
    assert_eq!(rep["documents_unchanged"], 22);
    let embedded = rep["chunks_embedded"].as_u64().unwrap();
    let reused = rep["chunks_reused"].as_u64().unwrap();
    assert!((1..=2).contains(&embedded), "{}", r.stdout);
    assert!(reused >= 1, "{}", r.stdout);
    let after = chunk_set(&db, "public").await;
    assert!(after.iter().all(|(s, _, _)| s != "chess-openings.md"));
    let orphans: i64 = c
        .query_one(
            "SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(orphans, 0);

    // --keep-missing leaves documents outside the given paths alone.
    let r = ingest(&db, &docs.join("postgres"), &["--keep-missing"]);
    r.code(0);
    let n: i64 = c
        .query_one("SELECT count(*) FROM documents", &[])
        .await
        .unwrap()
        .get(0);
    assert!(n >= 23, "{n}");

    // Bad options and paths: exit 2, one line.
    let url = db.url();
    for (args, expected) in [
        (
            vec!["rag", "ingest", "/nonexistent/dir", "--embedder", "hash"],
            "/nonexistent/dir",
        ),
        (
            vec![
                "rag",
                "ingest",
                ".",
                "--embedder",
                "hash",
                "--chunk-tokens",
                "50",
                "--overlap",
                "60",
            ],
            "--overlap",
        ),
    ] {
        let mut a = args.clone();
        a.extend(["--url", &url]);
        let r = run(&a);
        r.code(2);
        assert!(r.one_line_error().contains(expected), "{}", r.stderr);
    }
}

#[tokio::test]
async fn query_modes_and_eval_on_the_shipped_corpus() {
    let db = TestServer::pg18().create_db().await;
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    copy_dir(&corpus().join("docs"), &docs);
    std::fs::remove_file(docs.join("latin1.txt")).unwrap();
    ingest(&db, &docs, &[]).code(0);
    let url = db.url();

    for mode in [&["--mode", "dense"][..], &["--mode", "text"], &["--hybrid"]] {
        let mut args = vec![
            "rag",
            "query",
            "pg_basebackup point-in-time recovery",
            "--k",
            "4",
            "--embedder",
            "hash",
            "--url",
            &url,
        ];
        args.extend_from_slice(mode);
        let r = run(&args);
        r.code(0);
        let answers = json(&r);
        let answers = answers.as_array().unwrap();
        assert_eq!(answers.len(), 4, "{mode:?}: {}", r.stdout);
        for a in answers {
            assert!(a["document"].as_str().unwrap().contains('.'), "{a}");
            assert!(a["chunk_index"].as_i64().unwrap() >= 0);
            assert!(!a["text"].as_str().unwrap().is_empty());
        }
        let scores: Vec<f64> = answers
            .iter()
            .map(|a| a["score"].as_f64().unwrap())
            .collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "{mode:?}: {scores:?}"
        );
        assert_eq!(
            answers[0]["document"], "postgres/backups-and-pitr.md",
            "{mode:?}: {}",
            r.stdout
        );
    }

    let qrels = corpus().join("qrels/test.tsv");
    let r = run(&[
        "rag",
        "eval",
        "--qrels",
        qrels.to_str().unwrap(),
        "--embedder",
        "hash",
        "--format",
        "json",
        "--url",
        &url,
    ]);
    r.code(0);
    let rep = json(&r);
    assert_eq!(rep["queries"], 44);
    assert_eq!(rep["missing_documents"].as_array().unwrap().len(), 0);
    let modes = rep["modes"].as_array().unwrap();
    assert_eq!(modes.len(), 3);
    let by_mode: HashMap<&str, &serde_json::Value> = modes
        .iter()
        .map(|m| (m["mode"].as_str().unwrap(), m))
        .collect();
    for m in modes {
        for key in ["recall_at_k", "mrr_at_10", "ndcg_at_10"] {
            let v = m[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{key} = {v}");
        }
        assert_eq!(m["per_query"].as_array().unwrap().len(), 44);
    }
    // Full text finds most judged documents on this corpus; the fusion is not worse than
    // its weaker input.
    let text_recall = by_mode["fulltext"]["recall_at_k"].as_f64().unwrap();
    assert!(text_recall > 0.5, "{}", r.stdout);
    let weaker = by_mode["fulltext"]["ndcg_at_10"]
        .as_f64()
        .unwrap()
        .min(by_mode["dense"]["ndcg_at_10"].as_f64().unwrap());
    assert!(by_mode["hybrid"]["ndcg_at_10"].as_f64().unwrap() >= weaker);

    // The text table.
    let r = run(&[
        "rag",
        "eval",
        "--qrels",
        qrels.to_str().unwrap(),
        "--embedder",
        "hash",
        "--mode",
        "text",
        "--url",
        &url,
    ]);
    r.code(0);
    assert!(r.stdout.contains("recall@10"), "{}", r.stdout);
    assert!(r.stdout.contains("full-text"), "{}", r.stdout);

    // Querying with another model than the stored one is refused.
    let r = run(&[
        "rag",
        "query",
        "vacuum",
        "--embedder",
        "hash",
        "--embed-dims",
        "64",
        "--url",
        &url,
    ]);
    r.code(2);
    assert!(r.one_line_error().contains("dimensions"), "{}", r.stderr);
}

#[tokio::test]
async fn a_model_change_swaps_in_a_new_column() {
    let db = TestServer::pg18().create_db().await;
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    copy_dir(&corpus().join("docs/postgres"), &docs);
    ingest(&db, &docs, &["--embed-dims", "64"]).code(0);
    let before = chunk_set(&db, "public").await;
    let r = ingest(&db, &docs, &["--embed-dims", "128"]);
    r.code(0);
    let rep = json(&r);
    assert_eq!(rep["reembedded"], before.len(), "{}", r.stdout);
    // Chunks are measured in the model's tokens, so the documents are chunked again; the
    // texts are the same here, and their new embeddings are reused from the swapped column.
    assert_eq!(rep["documents_changed"], 11, "{}", r.stdout);
    assert_eq!(rep["chunks_embedded"], 0, "{}", r.stdout);
    let c = db.client().await;
    let ty: String = c
        .query_one(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ty, "vector(128)");
    let leftovers: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'chunks'::regclass \
             AND attname = 'embedding_next' AND NOT attisdropped",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0);
    let index: String = c
        .query_one(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_embedding_idx'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    // Normalized embeddings: inner product ranks as cosine does, for less work.
    assert!(index.contains("hnsw (embedding vector_ip_ops)"), "{index}");
    assert_eq!(chunk_set(&db, "public").await, before);
    let r = run(&[
        "rag",
        "query",
        "vacuum",
        "--embedder",
        "hash",
        "--embed-dims",
        "128",
        "--url",
        &db.url(),
    ]);
    r.code(0);
}

#[tokio::test]
async fn an_interrupted_ingest_resumes_without_duplicates() {
    let db = TestServer::pg18().create_db().await;
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("many");
    std::fs::create_dir_all(&docs).unwrap();
    // 3,000 small documents: many write batches, so a kill lands between two of them.
    for i in 0..3000 {
        std::fs::write(
            docs.join(format!("doc{i:04}.md")),
            format!(
                "# Note {i}\n\nRow {i} of the log: the vacuum of table t{i} removed {} dead tuples.\n\n{}",
                i * 7,
                "Autovacuum keeps the visibility map current. ".repeat(i % 40 + 1)
            ),
        )
        .unwrap();
    }
    let url = db.url();
    let d = docs.to_str().unwrap();
    let mut child = dbarch_cmd(
        tmp.path(),
        &["rag", "ingest", d, "--url", &url, "--embedder", "hash"],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // Kill it once some documents are in, and before all are.
    let c = db.client().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let n: i64 = c
            .query_one(
                "SELECT CASE WHEN to_regclass('documents') IS NULL THEN 0 ELSE \
                 (SELECT count(*) FROM documents) END",
                &[],
            )
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        if n > 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no document arrived");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial: i64 = c
        .query_one("SELECT count(*) FROM documents", &[])
        .await
        .unwrap()
        .get(0);
    assert!(partial < 3000, "the ingest ended before the kill");
    // Every document that is in has all its chunks (a batch is one transaction).
    let r = ingest(&db, &docs, &[]);
    r.code(0);
    let rep = json(&r);
    assert_eq!(
        rep["documents_new"].as_u64().unwrap() + rep["documents_unchanged"].as_u64().unwrap(),
        3000,
        "{}",
        r.stdout
    );
    assert_eq!(rep["documents_unchanged"].as_i64().unwrap(), partial);
    // Same rows as an uninterrupted ingest into another schema.
    c.batch_execute("CREATE SCHEMA fresh").await.unwrap();
    run(&[
        "rag",
        "ingest",
        d,
        "--url",
        &url,
        "--embedder",
        "hash",
        "--schema",
        "fresh",
    ])
    .code(0);
    assert_eq!(
        chunk_set(&db, "public").await,
        chunk_set(&db, "fresh").await
    );
    let dups: i64 = c
        .query_one(
            "SELECT count(*) FROM (SELECT source FROM documents GROUP BY source HAVING count(*) > 1) d",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(dups, 0);
}

/// Hybrid search fuses exactly the ranks of the two lists, as computed here independently.
#[tokio::test]
async fn hybrid_search_is_reciprocal_rank_fusion() {
    let db = TestServer::pg18().create_db().await;
    let c = db.client().await;
    c.batch_execute(
        "CREATE EXTENSION vector;
         SELECT setseed(0.25);
         CREATE TABLE notes (
             id bigint PRIMARY KEY,
             category int NOT NULL,
             body text NOT NULL,
             embedding vector(8) NOT NULL,
             body_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, body)) STORED);
         INSERT INTO notes SELECT g, g % 50,
             (ARRAY['vacuum freezes old tuples', 'an index on the foreign key', 'hnsw graph search',
                    'tomato blight in wet summers', 'vacuum and autovacuum tuning'])[1 + g % 5]
               || ' note ' || g,
             (SELECT array_agg(random())::vector(8) FROM generate_series(1, 8) WHERE g > 0)
           FROM generate_series(1, 5000) g;
         CREATE INDEX ON notes USING gin (body_tsv);
         ANALYZE notes;",
    )
    .await
    .unwrap();
    let q = "[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]";
    let r = run(&[
        "vector",
        "search",
        "notes",
        "vacuum tuning",
        "--hybrid",
        "--k",
        "10",
        "--metric",
        "l2",
        "--url",
        &db.url(),
        "--embedder",
        "hash",
        "--embed-dims",
        "8",
    ]);
    r.code(0);
    let doc = json(&r);
    assert_eq!(doc["mode"], "hybrid");
    let hits = doc["results"].as_array().unwrap();
    assert_eq!(hits.len(), 10);

    // The same fusion from the two lists, each fetched exactly here.
    let hash = {
        use dbarch_embed::Embedder;
        dbarch_embed::hash::HashEmbedder::new(8)
            .embed(&["vacuum tuning"])
            .unwrap()
            .pop()
            .unwrap()
    };
    let lit = format!(
        "[{}]",
        hash.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    c.batch_execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
        .await
        .unwrap();
    let dense: Vec<i64> = c
        .query(
            "SELECT id FROM notes ORDER BY embedding <-> $1::text::vector, ctid LIMIT 40",
            &[&lit],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let text: Vec<i64> = c
        .query(
            "SELECT id FROM notes, to_tsquery('english', 'vacuum | tuning') q \
             WHERE body_tsv @@ q ORDER BY ts_rank_cd(body_tsv, q) DESC, ctid LIMIT 40",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut fused: HashMap<i64, f64> = HashMap::new();
    for list in [&dense, &text] {
        for (i, id) in list.iter().enumerate() {
            *fused.entry(*id).or_default() += 1.0 / (60.0 + (i + 1) as f64);
        }
    }
    for hit in hits {
        let id = hit["row"]["id"].as_i64().unwrap();
        let expected = fused[&id];
        let got = hit["score"].as_f64().unwrap();
        assert!(
            (got - expected).abs() < 1e-9,
            "id {id}: {got} vs {expected}"
        );
        assert!(hit["row"].get("embedding").is_none() && hit["row"].get("body_tsv").is_none());
    }
    let mut best: Vec<f64> = fused.values().copied().collect();
    best.sort_by(|a, b| b.partial_cmp(a).unwrap());
    assert!((hits[9]["score"].as_f64().unwrap() - best[9]).abs() < 1e-9);

    // With an HNSW index (whose plain scan would return fewer rows than LIMIT), a filter
    // keeps LIMIT full in both lists (2 % of rows match).
    c.batch_execute("CREATE INDEX ON notes USING hnsw (embedding vector_l2_ops); ANALYZE notes")
        .await
        .unwrap();
    let r = run(&[
        "vector",
        "search",
        "notes",
        "vacuum",
        "--hybrid",
        "--k",
        "10",
        "--filter",
        "category = 5",
        "--url",
        &db.url(),
        "--embedder",
        "hash",
        "--embed-dims",
        "8",
    ]);
    r.code(0);
    let hits = json(&r)["results"].as_array().unwrap().clone();
    assert_eq!(hits.len(), 10, "{}", r.stdout);
    assert!(hits.iter().all(|h| h["row"]["category"] == 5));
    // A vector literal is pure vector search; --hybrid needs a text.
    let r = run(&[
        "vector",
        "search",
        "notes",
        q,
        "--hybrid",
        "--url",
        &db.url(),
    ]);
    r.code(2);
    assert!(r.one_line_error().contains("--hybrid needs a text"));
    let r = run(&["vector", "search", "notes", q, "--url", &db.url()]);
    r.code(0);
}
