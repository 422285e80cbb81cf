//! A deterministic embedder for tests only: each lower-cased word (and each pair of adjacent
//! words) is hashed to a dimension and a sign, the counts are L2-normalized. Texts sharing
//! words get close vectors, so retrieval tests have something to find, with no model files.

use crate::{Embedder, ModelInfo, Result};

pub struct HashEmbedder {
    info: ModelInfo,
}

impl HashEmbedder {
    pub fn new(dims: usize) -> HashEmbedder {
        HashEmbedder {
            info: ModelInfo {
                name: "dbarch-hash-test-only".into(),
                version: "1".into(),
                dims,
                max_tokens: 100_000,
                normalized: true,
            },
        }
    }
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
}

/// FNV-1a: stable across platforms and releases, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Embedder for HashEmbedder {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn count_tokens(&self, text: &str) -> usize {
        words(text).count()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let dims = self.info.dims;
        Ok(texts
            .iter()
            .map(|text| {
                let mut v = vec![0f32; dims];
                let mut prev: Option<String> = None;
                for w in words(text) {
                    let mut add = |feature: &str, weight: f32| {
                        let h = fnv1a(feature.as_bytes());
                        let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
                        v[(h % dims as u64) as usize] += sign * weight;
                    };
                    add(&w, 1.0);
                    if let Some(p) = &prev {
                        add(&format!("{p} {w}"), 0.5);
                    }
                    prev = Some(w);
                }
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|x| *x /= norm);
                } else {
                    // An empty text still needs a valid (non-zero) vector for cosine.
                    v[0] = 1.0;
                }
                v
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_normalized_and_lexical() {
        let e = HashEmbedder::new(64);
        let v = e
            .embed(&[
                "vector index tuning",
                "vector index tuning",
                "cats and dogs",
                "",
            ])
            .unwrap();
        assert_eq!(v[0], v[1]);
        for x in &v {
            assert_eq!(x.len(), 64);
            let n: f32 = x.iter().map(|a| a * a).sum();
            assert!((n - 1.0).abs() < 1e-5);
        }
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        let related = e.embed(&["tuning the vector index"]).unwrap();
        assert!(dot(&v[0], &related[0]) > dot(&v[0], &v[2]));
        assert_eq!(e.count_tokens("Hello, world!  again"), 3);
    }
}
