//! `dbarch rag eval`: retrieval quality against relevance judgements in BEIR's format
//! (`queries.jsonl` of `{"_id", "text"}`; `qrels/*.tsv` of `query-id corpus-id score`, the
//! corpus id being the document's id). Chunks are ranked, then folded into a ranking of
//! documents (a document takes the rank of its best chunk). Per query: recall@k (the share of
//! the relevant documents, score > 0, in the first k), reciprocal rank of the first relevant
//! document within 10, and nDCG@10 with graded gains (`Σ rel / log2(rank + 1)`, as trec_eval
//! computes it); the report gives their means over the judged queries.

use crate::query::Retriever;
use crate::{Error, Result, Store};
use dbarch_embed::Embedder;
use dbarch_pg::tokio_postgres::Client;
use dbarch_vector::search::Mode;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// query id → document id → graded relevance.
pub type Qrels = BTreeMap<String, HashMap<String, i32>>;

/// Reads a BEIR qrels file (a header line is optional; tabs or spaces; a TREC-style
/// four-column line `qid 0 docid rel` is accepted too).
pub fn read_qrels(path: &Path) -> Result<Qrels> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    let mut q = Qrels::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() || (i == 0 && fields[0] == "query-id") {
            continue;
        }
        let (qid, doc, score) = match fields.as_slice() {
            [q, d, s] => (*q, *d, *s),
            [q, _, d, s] => (*q, *d, *s),
            _ => {
                return Err(Error::input(format!(
                    "{}:{}: expected `query-id corpus-id score`",
                    path.display(),
                    i + 1
                )));
            }
        };
        let score: i32 = score.parse().map_err(|_| {
            Error::input(format!(
                "{}:{}: score {score:?} is not an integer",
                path.display(),
                i + 1
            ))
        })?;
        q.entry(qid.to_owned())
            .or_default()
            .insert(doc.to_owned(), score);
    }
    if q.is_empty() {
        return Err(Error::input(format!(
            "{}: no relevance judgements",
            path.display()
        )));
    }
    Ok(q)
}

/// Reads BEIR queries: one `{"_id": ..., "text": ...}` per line.
pub fn read_queries(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Error::input(format!("{}:{}: {e}", path.display(), i + 1)))?;
        let id = match &v["_id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err(Error::input(format!(
                    "{}:{}: no \"_id\"",
                    path.display(),
                    i + 1
                )));
            }
        };
        let text = v["text"]
            .as_str()
            .ok_or_else(|| Error::input(format!("{}:{}: no \"text\"", path.display(), i + 1)))?;
        out.insert(id, text.to_owned());
    }
    Ok(out)
}

/// The scores of one retrieval mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeScores {
    pub mode: Mode,
    pub recall_at_k: f64,
    pub mrr_at_10: f64,
    pub ndcg_at_10: f64,
    /// Per query: (id, recall@k, RR@10, nDCG@10).
    pub per_query: Vec<(String, f64, f64, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub k: usize,
    pub queries: usize,
    /// Judged documents that are not in the store (they count as missed).
    pub missing_documents: Vec<String>,
    pub modes: Vec<ModeScores>,
}

pub fn recall_at(ranking: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    let rel: HashSet<&String> = relevant
        .iter()
        .filter(|(_, s)| **s > 0)
        .map(|(d, _)| d)
        .collect();
    if rel.is_empty() {
        return 0.0;
    }
    let found = ranking.iter().take(k).filter(|d| rel.contains(d)).count();
    found as f64 / rel.len() as f64
}

pub fn reciprocal_rank_at(ranking: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    ranking
        .iter()
        .take(k)
        .position(|d| relevant.get(d).is_some_and(|s| *s > 0))
        .map_or(0.0, |p| 1.0 / (p + 1) as f64)
}

pub fn ndcg_at(ranking: &[String], relevant: &HashMap<String, i32>, k: usize) -> f64 {
    let gain = |rel: i32| f64::from(rel.max(0));
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, d)| gain(*relevant.get(d).unwrap_or(&0)) / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<i32> = relevant.values().copied().filter(|s| *s > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, r)| gain(*r) / ((i + 2) as f64).log2())
        .sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Folds ranked chunks into ranked documents.
fn documents(answers: &[crate::query::Answer]) -> Vec<String> {
    let mut seen = HashSet::new();
    answers
        .iter()
        .filter(|a| seen.insert(a.document.clone()))
        .map(|a| a.document.clone())
        .collect()
}

/// Runs every judged query through each mode.
pub async fn eval(
    client: &mut Client,
    store: &Store,
    embedder: Option<Arc<dyn Embedder>>,
    queries: &BTreeMap<String, String>,
    qrels: &Qrels,
    modes: &[Mode],
    k: usize,
) -> Result<EvalReport> {
    let judged: Vec<(&String, &String)> = queries
        .iter()
        .filter(|(id, _)| qrels.contains_key(*id))
        .collect();
    if judged.is_empty() {
        return Err(Error::input(
            "none of the queries has relevance judgements (do the ids of queries.jsonl and the qrels match?)",
        ));
    }
    let docs = store.documents_table();
    let stored: HashSet<String> = client
        .query(&format!("SELECT source FROM {docs}"), &[])
        .await
        .map_err(Error::db(format!("reading {docs}")))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut missing: Vec<String> = qrels
        .values()
        .flat_map(|m| m.keys())
        .filter(|d| !stored.contains(*d))
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    missing.sort();
    // Enough chunks that the first k (and 10) documents are usually all there.
    let chunk_k = (k.max(10) * 10).max(100);
    let texts: Vec<String> = judged.iter().map(|(_, t)| (*t).clone()).collect();
    let mut out = Vec::new();
    let mut vectors: Option<Vec<Option<Vec<f32>>>> = None;
    for &mode in modes {
        let r = Retriever::new(client, store, embedder.clone(), mode, chunk_k, None).await?;
        if mode != Mode::FullText && vectors.is_none() {
            vectors = Some(r.embed(&texts).await?);
        }
        let mut per_query = Vec::new();
        for (i, (id, text)) in judged.iter().enumerate() {
            let v = vectors
                .as_ref()
                .and_then(|v| v[i].as_deref())
                .filter(|_| mode != Mode::FullText);
            let answers = r.retrieve(client, text, v).await?;
            let ranking = documents(&answers);
            let rel = &qrels[*id];
            per_query.push((
                (*id).clone(),
                recall_at(&ranking, rel, k),
                reciprocal_rank_at(&ranking, rel, 10),
                ndcg_at(&ranking, rel, 10),
            ));
        }
        let n = per_query.len() as f64;
        let mean =
            |f: fn(&(String, f64, f64, f64)) -> f64| per_query.iter().map(f).sum::<f64>() / n;
        out.push(ModeScores {
            mode,
            recall_at_k: mean(|q| q.1),
            mrr_at_10: mean(|q| q.2),
            ndcg_at_10: mean(|q| q.3),
            per_query,
        });
    }
    Ok(EvalReport {
        k,
        queries: judged.len(),
        missing_documents: missing,
        modes: out,
    })
}

/// The report as a small text table.
pub fn render_text(r: &EvalReport) -> String {
    let mut s = format!(
        "{} judged queries; documents ranked by their best chunk\n\n{:<10} {:>10} {:>8} {:>8}\n",
        r.queries,
        "retrieval",
        format!("recall@{}", r.k),
        "MRR@10",
        "nDCG@10"
    );
    for m in &r.modes {
        let name = match m.mode {
            Mode::Dense => "dense",
            Mode::FullText => "full-text",
            Mode::Hybrid => "hybrid",
        };
        s.push_str(&format!(
            "{name:<10} {:>10.3} {:>8.3} {:>8.3}\n",
            m.recall_at_k, m.mrr_at_10, m.ndcg_at_10
        ));
    }
    if !r.missing_documents.is_empty() {
        s.push_str(&format!(
            "\n{} judged documents are not in the store (counted as missed): {}\n",
            r.missing_documents.len(),
            r.missing_documents.join(", ")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(pairs: &[(&str, i32)]) -> HashMap<String, i32> {
        pairs.iter().map(|(d, s)| ((*d).to_owned(), *s)).collect()
    }
    fn ranking(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn metrics_by_hand() {
        let r = ranking(&["a", "b", "c", "d"]);
        let q = rel(&[("b", 2), ("d", 1), ("z", 1)]);
        assert!((recall_at(&r, &q, 2) - 1.0 / 3.0).abs() < 1e-12);
        assert!((recall_at(&r, &q, 10) - 2.0 / 3.0).abs() < 1e-12);
        assert!((reciprocal_rank_at(&r, &q, 10) - 0.5).abs() < 1e-12);
        assert_eq!(reciprocal_rank_at(&r, &q, 1), 0.0);
        // DCG = 2/log2(3) + 1/log2(5); IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4).
        let dcg = 2.0 / 3f64.log2() + 1.0 / 5f64.log2();
        let idcg = 2.0 + 1.0 / 3f64.log2() + 0.5;
        assert!((ndcg_at(&r, &q, 10) - dcg / idcg).abs() < 1e-12);
        let perfect = ranking(&["b", "d", "z"]);
        assert!((ndcg_at(&perfect, &q, 10) - 1.0).abs() < 1e-12);
        assert_eq!(ndcg_at(&r, &rel(&[("x", 0)]), 10), 0.0);
    }

    #[test]
    fn qrels_and_queries_files() {
        let dir = tempfile::tempdir().unwrap();
        let qrels = dir.path().join("test.tsv");
        std::fs::write(
            &qrels,
            "query-id\tcorpus-id\tscore\nq1\ta.md\t2\nq1\tb.md\t1\nq2 0 c.md 1\n",
        )
        .unwrap();
        let q = read_qrels(&qrels).unwrap();
        assert_eq!(q["q1"]["a.md"], 2);
        assert_eq!(q["q2"]["c.md"], 1);
        std::fs::write(&qrels, "q1\ta.md\ttwo\n").unwrap();
        assert!(
            read_qrels(&qrels)
                .unwrap_err()
                .to_string()
                .contains(":1: score")
        );
        let queries = dir.path().join("queries.jsonl");
        std::fs::write(
            &queries,
            "{\"_id\": \"q1\", \"text\": \"vacuum\"}\n\n{\"_id\": 2, \"text\": \"x\"}\n",
        )
        .unwrap();
        let r = read_queries(&queries).unwrap();
        assert_eq!(r["q1"], "vacuum");
        assert_eq!(r["2"], "x");
        std::fs::write(&queries, "{\"_id\": \"q1\"}\n").unwrap();
        assert!(
            read_queries(&queries)
                .unwrap_err()
                .to_string()
                .contains("no \"text\"")
        );
    }
}
