//! Documents to text. Markdown stays Markdown (the chunker splits on its structure); HTML is
//! turned into Markdown-like text (headings as `#`, paragraphs and list items on their own
//! lines) without its head, scripts, styles, navigation and forms; plain text stays as it is.

use crate::{Error, Result};
use scraper::{ElementRef, Html, Node};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Markdown,
    Html,
}

impl Kind {
    /// The kind a file's extension says, if it is one the pipeline reads.
    pub fn of(path: &Path) -> Option<Kind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" | "text" => Some(Kind::Text),
            "md" | "markdown" => Some(Kind::Markdown),
            "html" | "htm" => Some(Kind::Html),
            _ => None,
        }
    }
}

/// A document read and turned into text.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub kind: Kind,
    pub title: Option<String>,
    /// Markdown for Markdown and HTML, plain text otherwise.
    pub text: String,
}

/// Decodes and extracts one document; `name` is used in error messages.
pub fn extract(name: &str, kind: Kind, bytes: &[u8]) -> Result<Extracted> {
    let raw = std::str::from_utf8(bytes).map_err(|e| {
        Error::input(format!(
            "{name} is not valid UTF-8 (invalid byte at offset {}): convert it first, e.g. with iconv -f latin1 -t utf-8",
            e.valid_up_to()
        ))
    })?;
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    Ok(match kind {
        Kind::Text => Extracted {
            kind,
            title: first_line(raw),
            text: raw.to_owned(),
        },
        Kind::Markdown => Extracted {
            kind,
            title: raw
                .lines()
                .find_map(|l| l.strip_prefix("# "))
                .map(|t| t.trim().to_owned())
                .or_else(|| first_line(raw)),
            text: raw.to_owned(),
        },
        Kind::Html => html(raw),
    })
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(200).collect())
}

const SKIPPED: &[&str] = &[
    "head", "script", "style", "noscript", "template", "nav", "form", "svg", "iframe", "button",
];
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "blockquote",
    "pre",
    "table",
    "tr",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "br",
    "hr",
];

fn html(raw: &str) -> Extracted {
    let doc = Html::parse_document(raw);
    let title = doc
        .select(&scraper::Selector::parse("title").expect("a valid selector"))
        .next()
        .map(|t| collapse(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    let mut out = String::new();
    walk(doc.root_element(), &mut out);
    // At most one blank line between blocks.
    let mut text = String::new();
    let mut blank = 0;
    for line in out.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        text.push_str(line.trim_start());
        blank = 0;
    }
    let title = title.or_else(|| first_line(&text));
    Extracted {
        kind: Kind::Html,
        title,
        text,
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn walk(el: ElementRef, out: &mut String) {
    let name = el.value().name();
    if SKIPPED.contains(&name) {
        return;
    }
    let heading = match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    };
    if let Some(level) = heading {
        let text = collapse(&el.text().collect::<String>());
        if !text.is_empty() {
            out.push_str(&format!("\n\n{} {text}\n\n", "#".repeat(level)));
        }
        return;
    }
    let block = BLOCKS.contains(&name);
    if block {
        out.push_str("\n\n");
    }
    if name == "li" {
        out.push_str("\n- ");
    }
    if name == "td" || name == "th" {
        out.push_str(" | ");
    }
    for child in el.children() {
        match child.value() {
            Node::Text(t) => {
                // Whitespace runs collapse as a browser would, except inside <pre>.
                if name == "pre" {
                    out.push_str(t);
                } else {
                    let s: &str = t;
                    let c = collapse(s);
                    if !c.is_empty() {
                        if s.starts_with(char::is_whitespace) && !out.ends_with([' ', '\n']) {
                            out.push(' ');
                        }
                        out.push_str(&c);
                        if s.ends_with(char::is_whitespace) {
                            out.push(' ');
                        }
                    }
                }
            }
            Node::Element(_) => {
                if let Some(child) = ElementRef::wrap(child) {
                    walk(child, out);
                }
            }
            _ => {}
        }
    }
    if block {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_loses_its_chrome_and_keeps_its_structure() {
        let page = "<!doctype html><html><head><title> Lock  levels </title><style>p{}</style></head>\
            <body><nav><a href='/'>Home</a></nav><script>var x = 1;</script>\
            <h1>ALTER TABLE</h1><p>Most forms take an <b>ACCESS EXCLUSIVE</b> lock.</p>\
            <ul><li>ADD COLUMN</li><li>SET NOT NULL</li></ul><h2>Safer</h2><p>Use NOT VALID.</p></body></html>";
        let e = extract("a.html", Kind::Html, page.as_bytes()).unwrap();
        assert_eq!(e.title.as_deref(), Some("Lock levels"));
        assert_eq!(
            e.text,
            "# ALTER TABLE\n\nMost forms take an ACCESS EXCLUSIVE lock.\n\n- ADD COLUMN\n- SET NOT NULL\n\n## Safer\n\nUse NOT VALID."
        );
    }

    #[test]
    fn non_utf8_is_one_clear_error() {
        let err = extract("docs/latin1.txt", Kind::Text, b"caf\xe9 au lait").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("docs/latin1.txt is not valid UTF-8"), "{msg}");
        assert!(msg.contains("offset 3"), "{msg}");
        assert!(err.is_input());
    }

    #[test]
    fn titles() {
        let md = extract("a.md", Kind::Markdown, b"\xef\xbb\xbfintro\n# Vacuum\ntext").unwrap();
        assert_eq!(md.title.as_deref(), Some("Vacuum"));
        assert!(md.text.starts_with("intro"));
        let txt = extract("a.txt", Kind::Text, b"\n\n  First line  \nmore").unwrap();
        assert_eq!(txt.title.as_deref(), Some("First line"));
        assert_eq!(Kind::of(Path::new("x/y.HTM")), Some(Kind::Html));
        assert_eq!(Kind::of(Path::new("x/y.png")), None);
    }
}
