//! Chunking in the embedding model's own tokens: recursive splitting (sections, paragraphs,
//! sentences, words) by `text-splitter`, Markdown-aware for Markdown and HTML, each chunk at
//! most `tokens` long with up to `overlap` tokens repeated from the previous one.

use crate::extract::{Extracted, Kind};
use crate::{Error, Result};
use dbarch_embed::Embedder;
use text_splitter::{ChunkConfig, ChunkSizer, MarkdownSplitter, TextSplitter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    pub tokens: usize,
    pub overlap: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        // all-MiniLM-L6-v2 reads 256 tokens (2 of them special): 200 leaves room, and an
        // overlap of a sentence or two keeps a passage cut at a boundary findable.
        ChunkOptions {
            tokens: 200,
            overlap: 40,
        }
    }
}

impl ChunkOptions {
    /// Checks the options against the model: a chunk the model would truncate loses its end.
    pub fn check(&self, embedder: &dyn Embedder) -> Result<()> {
        let max = embedder.info().max_tokens;
        if self.tokens == 0 {
            return Err(Error::input("--chunk-tokens must be at least 1"));
        }
        if self.tokens > max {
            return Err(Error::input(format!(
                "--chunk-tokens {}: {} reads at most {max} tokens",
                self.tokens,
                embedder.info().name
            )));
        }
        if self.overlap >= self.tokens {
            return Err(Error::input(format!(
                "--overlap {} must be smaller than --chunk-tokens {}",
                self.overlap, self.tokens
            )));
        }
        Ok(())
    }
}

struct ModelTokens<'a>(&'a dyn Embedder);

impl ChunkSizer for ModelTokens<'_> {
    fn size(&self, chunk: &str) -> usize {
        self.0.count_tokens(chunk)
    }
}

/// The document's chunks, in order, none empty.
pub fn chunks(doc: &Extracted, embedder: &dyn Embedder, opts: ChunkOptions) -> Result<Vec<String>> {
    opts.check(embedder)?;
    let config = ChunkConfig::new(opts.tokens)
        .with_sizer(ModelTokens(embedder))
        .with_overlap(opts.overlap)
        .map_err(|e| Error::input(format!("chunk options: {e}")))?;
    let out: Vec<String> = match doc.kind {
        Kind::Markdown | Kind::Html => MarkdownSplitter::new(config)
            .chunks(&doc.text)
            .map(str::to_owned)
            .collect(),
        Kind::Text => TextSplitter::new(config)
            .chunks(&doc.text)
            .map(str::to_owned)
            .collect(),
    };
    Ok(out.into_iter().filter(|c| !c.trim().is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbarch_embed::hash::HashEmbedder;

    #[test]
    fn chunks_fit_and_overlap() {
        let e = HashEmbedder::new(16);
        let para = "PostgreSQL keeps old row versions until vacuum removes them. ".repeat(40);
        let text = format!(
            "# Vacuum\n\n{para}\n\n## Freezing\n\nFreezing marks rows as visible to all.\n"
        );
        let doc = Extracted {
            kind: Kind::Markdown,
            title: None,
            text,
        };
        let opts = ChunkOptions {
            tokens: 50,
            overlap: 10,
        };
        let c = chunks(&doc, &e, opts).unwrap();
        assert!(c.len() > 5, "{c:?}");
        for chunk in &c {
            assert!(e.count_tokens(chunk) <= 50, "{chunk}");
        }
        // The last section stays whole, with its heading.
        assert!(c.last().unwrap().contains("## Freezing"), "{c:?}");
        let bad = ChunkOptions {
            tokens: 10,
            overlap: 10,
        };
        assert!(
            chunks(&doc, &e, bad)
                .unwrap_err()
                .to_string()
                .contains("--overlap")
        );
    }
}
