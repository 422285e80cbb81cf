//! The RAG pipeline with the real local model (all-MiniLM-L6-v2 in-process, provisioned into
//! dbarch's cache by `.ci/run` or on first use) on the shipped labelled corpus: ingest, query
//! and evaluation give what a language model should (paraphrased questions found), and a
//! switch from the hashing embedder to the model goes through the column swap.

use dbarch_testing::TestServer;
use std::path::{Path, PathBuf};

mod common;
use common::*;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbarch_rag/corpus")
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[tokio::test]
async fn local_model_ingest_query_and_eval() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for e in walk(&corpus().join("docs")) {
        let rel = e.strip_prefix(corpus().join("docs")).unwrap();
        if rel.ends_with("latin1.txt") {
            continue;
        }
        let dest = docs.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&e, dest).unwrap();
    }
    let d = docs.to_str().unwrap();
    // First with the hashing embedder, then the model: a model change.
    run(&["rag", "ingest", d, "--url", &url, "--embedder", "hash"]).code(0);
    let r = run(&["rag", "ingest", d, "--url", &url, "--format", "json"]);
    r.code(0);
    let rep = json(&r);
    assert_eq!(
        rep["model"]["name"], "sentence-transformers/all-MiniLM-L6-v2",
        "{}",
        r.stdout
    );
    assert!(rep["reembedded"].as_u64().unwrap() > 0, "{}", r.stdout);
    let c = db.client().await;
    let models: Vec<String> = c
        .query("SELECT DISTINCT model_name FROM chunks", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(models, ["sentence-transformers/all-MiniLM-L6-v2"]);

    // A paraphrase with few words in common with the answer.
    let r = run(&[
        "rag",
        "query",
        "how can I bring the database back to the state it had just before someone dropped a table?",
        "--k",
        "3",
        "--url",
        &url,
    ]);
    r.code(0);
    let answers = json(&r);
    assert_eq!(
        answers[0]["document"], "postgres/backups-and-pitr.md",
        "{}",
        r.stdout
    );

    let qrels = corpus().join("qrels/test.tsv");
    let r = run(&[
        "rag",
        "eval",
        "--qrels",
        qrels.to_str().unwrap(),
        "--format",
        "json",
        "--url",
        &url,
    ]);
    r.code(0);
    let rep = json(&r);
    let score = |mode: &str, key: &str| {
        rep["modes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mode"] == mode)
            .unwrap()[key]
            .as_f64()
            .unwrap()
    };
    eprintln!(
        "dense {:.3}/{:.3}/{:.3} text {:.3}/{:.3}/{:.3} hybrid {:.3}/{:.3}/{:.3}",
        score("dense", "recall_at_k"),
        score("dense", "mrr_at_10"),
        score("dense", "ndcg_at_10"),
        score("fulltext", "recall_at_k"),
        score("fulltext", "mrr_at_10"),
        score("fulltext", "ndcg_at_10"),
        score("hybrid", "recall_at_k"),
        score("hybrid", "mrr_at_10"),
        score("hybrid", "ndcg_at_10"),
    );
    assert!(score("dense", "recall_at_k") >= 0.85, "{}", r.stdout);
    assert!(score("dense", "mrr_at_10") >= 0.7, "{}", r.stdout);
    assert!(score("hybrid", "ndcg_at_10") >= 0.7, "{}", r.stdout);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
