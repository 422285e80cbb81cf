//! `dbarch rag query`: the chunks that best answer a question, by dense, full-text or hybrid
//! (reciprocal rank fusion) retrieval over the chunk table.

use crate::{Error, Result, Store};
use dbarch_embed::Embedder;
use dbarch_pg::tokio_postgres::Client;
use dbarch_vector::search::{Mode, Query, SearchOptions, Searcher};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Answer {
    /// The document's id: its path relative to the ingest argument.
    pub document: String,
    pub chunk_index: i32,
    /// Higher is better; its scale depends on the mode (see `dbarch_vector::search::Hit`).
    pub score: f64,
    pub text: String,
}

/// A retrieval set up once and run for many questions.
pub struct Retriever {
    store: Store,
    mode: Mode,
    searcher: Searcher,
    embedder: Option<Arc<dyn Embedder>>,
}

impl Retriever {
    /// `embedder` is needed for dense and hybrid retrieval; it must be the model the chunks
    /// were embedded with.
    pub async fn new(
        client: &Client,
        store: &Store,
        embedder: Option<Arc<dyn Embedder>>,
        mode: Mode,
        k: usize,
        filter: Option<String>,
    ) -> Result<Retriever> {
        let chunks = store.chunks_table();
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&chunks])
            .await
            .map_err(Error::db("looking up the chunk table"))?
            .get(0);
        if !exists {
            return Err(Error::input(format!(
                "no table {chunks}: run `dbarch rag ingest PATH...` first"
            )));
        }
        let embedder = if mode == Mode::FullText {
            None
        } else {
            let e = embedder
                .ok_or_else(|| Error::input("dense and hybrid retrieval need an embedder"))?;
            let info = e.info();
            let stored = client
                .query_opt(
                    &format!("SELECT model_name, model_version FROM {chunks} LIMIT 1"),
                    &[],
                )
                .await
                .map_err(Error::db(format!("reading the model of {chunks}")))?;
            if let Some(r) = stored {
                let (name, version): (String, String) = (r.get(0), r.get(1));
                if name != info.name || version != info.version {
                    return Err(Error::input(format!(
                        "the chunks were embedded with {name} (version {version}), not {} (version {}): query with the same embedder, or ingest again with this one",
                        info.name, info.version
                    )));
                }
            }
            Some(e)
        };
        let opts = SearchOptions {
            mode,
            k,
            filter,
            metric: None,
            text_column: Some("content_tsv".into()),
            ts_config: None,
            candidates: None,
        };
        let searcher = Searcher::new(client, &chunks, &store.column, &opts).await?;
        Ok(Retriever {
            store: store.clone(),
            mode,
            searcher,
            embedder,
        })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Embeds questions (in one batch) for [`Retriever::retrieve`].
    pub async fn embed(&self, questions: &[String]) -> Result<Vec<Option<Vec<f32>>>> {
        let Some(e) = &self.embedder else {
            return Ok(vec![None; questions.len()]);
        };
        let e = e.clone();
        let texts = questions.to_vec();
        let out = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            e.embed(&refs)
        })
        .await
        .map_err(|e| Error::input(format!("the embedder stopped: {e}")))??;
        Ok(out.into_iter().map(Some).collect())
    }

    /// The best chunks for a question (and its embedding, for dense and hybrid).
    pub async fn retrieve(
        &self,
        client: &mut Client,
        question: &str,
        vector: Option<&[f32]>,
    ) -> Result<Vec<Answer>> {
        let hits = self
            .searcher
            .run(
                client,
                Query {
                    vector,
                    text: Some(question),
                },
            )
            .await?;
        let ids: Vec<i64> = hits
            .iter()
            .filter_map(|h| h.row.get("document_id").and_then(|v| v.as_i64()))
            .collect();
        let docs = self.store.documents_table();
        let sources: HashMap<i64, String> = client
            .query(
                &format!("SELECT id, source FROM {docs} WHERE id = ANY($1)"),
                &[&ids],
            )
            .await
            .map_err(Error::db(format!("reading {docs}")))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        Ok(hits
            .into_iter()
            .map(|h| {
                let id = h
                    .row
                    .get("document_id")
                    .and_then(|v| v.as_i64())
                    .unwrap_or_default();
                Answer {
                    document: sources.get(&id).cloned().unwrap_or_default(),
                    chunk_index: h
                        .row
                        .get("chunk_index")
                        .and_then(|v| v.as_i64())
                        .unwrap_or_default() as i32,
                    score: h.score,
                    text: h
                        .row
                        .get("content")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                }
            })
            .collect())
    }
}

/// One question, answered.
pub async fn query(
    client: &mut Client,
    store: &Store,
    embedder: Option<Arc<dyn Embedder>>,
    question: &str,
    mode: Mode,
    k: usize,
    filter: Option<String>,
) -> Result<Vec<Answer>> {
    if question.trim().is_empty() {
        return Err(Error::input("the question is empty"));
    }
    let r = Retriever::new(client, store, embedder, mode, k, filter).await?;
    let v = r.embed(&[question.to_owned()]).await?.pop().flatten();
    r.retrieve(client, question, v.as_deref()).await
}
