//! Human-readable findings: one block per finding and a summary line. Findings located in a file
//! whose source text is known get a code frame in the style of rustc (drawn by
//! `annotate-snippets`); the others keep the compact form.

use crate::diagnostic::{Diagnostic, Severity, Summary};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use std::collections::HashMap;
use std::fmt::Write;
use std::ops::Range;

/// How [`text_with_sources`] renders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// ANSI colours (for a terminal). Off by default.
    pub color: bool,
}

/// Plain text, one block per finding, then a summary line:
///
/// ```text
/// warning[Q001] seq-scan-selective-filter: message
///   --> file:line:column
///   = object: public.t
///   = help: ...
///   = fix: CREATE INDEX ...
/// ```
///
/// The same as [`text_with_sources`] with no source text, so without code frames.
pub fn text(diagnostics: &[Diagnostic]) -> String {
    text_with_sources(diagnostics, &|_| None, TextOptions::default())
}

/// Text as [`text`], plus a code frame for each finding with a `file` and `line` whose source
/// `sources` returns: the lines of the flagged span, the span underlined (from `column` to
/// `end_line`:`end_column`; to the end of the line when the end is not known) and labelled with
/// the rule name, then the `= object:`, `= help:` and `= fix:` lines. Columns count characters
/// (Unicode scalar values), 1-based, the end column exclusive.
///
/// `sources` maps a diagnostic's `file` to that file's text; it is asked once per file (so it may
/// read the file, e.g. `&|f| std::fs::read_to_string(f).ok()`). A finding whose location lies
/// outside the source it is given is shown without a frame; a span running past the end of its
/// line or of the source is cut there.
///
/// ```text
/// warning[M004] require-concurrent-index: CREATE INDEX without CONCURRENTLY blocks writes
///  --> migrations/001.sql:2:1
///   |
/// 2 | CREATE INDEX orders_customer_id_idx ON public.orders (customer_id);
///   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ require-concurrent-index
///   |
///   = object: public.orders
///   = help: build the index concurrently, in a migration without a transaction
///   = fix: CREATE INDEX CONCURRENTLY orders_customer_id_idx ON public.orders (customer_id);
///
/// error[M007] add-column-not-null-default-volatile: ADD COLUMN ... NOT NULL takes an ACCESS EXCLUSIVE lock
///  --> migrations/001.sql:3:1
///   |
/// 3 | / ALTER TABLE public.orders
/// 4 | |     ADD COLUMN status text
/// 5 | |     NOT NULL DEFAULT 'new';
///   | |___________________________^ add-column-not-null-default-volatile
///
/// 1 error(s), 1 warning(s), 0 note(s)
/// ```
///
/// Long spans are folded in the middle, long lines cut around the span, tabs shown as four
/// spaces. With `options.color`, ANSI colours as rustc's.
pub fn text_with_sources(
    diagnostics: &[Diagnostic],
    sources: &dyn Fn(&str) -> Option<String>,
    options: TextOptions,
) -> String {
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut cache: HashMap<&str, Option<String>> = HashMap::new();
    let mut out = String::new();
    for d in diagnostics {
        let frame = match (d.file.as_deref(), d.line) {
            (Some(file), Some(_)) => cache
                .entry(file)
                .or_insert_with(|| sources(file))
                .as_deref()
                .and_then(|source| Frame::of(source, d)),
            _ => None,
        };
        match frame {
            Some(frame) => framed(&mut out, &renderer, d, &frame),
            None => compact(&mut out, &renderer, d),
        }
    }
    let s = Summary::of(diagnostics);
    let _ = writeln!(
        out,
        "{} error(s), {} warning(s), {} note(s)",
        s.errors, s.warnings, s.notes
    );
    out
}

/// `severity[CODE] name` as the level's name, so that the title reads
/// `warning[Q001] seq-scan-selective-filter: message` (and is coloured as one, like rustc's).
fn level(d: &Diagnostic) -> Level<'static> {
    let base = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    };
    base.with_name(format!("{}[{}] {}", d.severity, d.code, d.name))
}

/// The form without a code frame (also that of findings about the schema, which have no file).
fn compact(out: &mut String, renderer: &Renderer, d: &Diagnostic) {
    let title = Group::with_title(level(d).primary_title(d.message.as_str()));
    let _ = writeln!(out, "{}", renderer.render(&[title]));
    if let Some(file) = &d.file {
        let _ = match (d.line, d.column) {
            (Some(l), Some(c)) => writeln!(out, "  --> {file}:{l}:{c}"),
            (Some(l), None) => writeln!(out, "  --> {file}:{l}"),
            _ => writeln!(out, "  --> {file}"),
        };
    }
    if let Some(o) = &d.object {
        let _ = writeln!(out, "  = object: {o}");
    }
    // Multi-line help and fixes stay readable: continuation lines are indented.
    if let Some(h) = &d.help {
        let _ = writeln!(out, "  = help: {}", h.replace('\n', "\n          "));
    }
    if let Some(f) = &d.fix {
        let _ = writeln!(out, "  = fix: {}", f.replace('\n', "\n         "));
    }
}

/// The form with a code frame; a blank line follows it, as after rustc's diagnostics.
fn framed(out: &mut String, renderer: &Renderer, d: &Diagnostic, frame: &Frame) {
    let mut snippet = Snippet::source(frame.text.as_str())
        .line_start(frame.line_start)
        .annotation(
            AnnotationKind::Primary
                .span(frame.span.clone())
                .label(d.name.as_str()),
        );
    if let Some(file) = &d.file {
        snippet = snippet.path(file.as_str());
    }
    let mut group = level(d).primary_title(d.message.as_str()).element(snippet);
    if let Some(o) = &d.object {
        group = group.element(Level::NOTE.with_name("object").message(o.as_str()));
    }
    if let Some(h) = &d.help {
        group = group.element(Level::HELP.message(h.as_str()));
    }
    if let Some(f) = &d.fix {
        group = group.element(Level::HELP.with_name("fix").message(f.as_str()));
    }
    let _ = writeln!(out, "{}\n", renderer.render(&[group]));
}

/// The lines a diagnostic flags, cut out of its file, with the span as byte offsets into them.
#[derive(Debug, PartialEq, Eq)]
struct Frame {
    /// The flagged lines, joined with `\n` (line endings normalized).
    text: String,
    /// The 1-based number of the first line of `text`.
    line_start: usize,
    span: Range<usize>,
}

impl Frame {
    /// `None` when the diagnostic has no line, or its line is not in `source`.
    fn of(source: &str, d: &Diagnostic) -> Option<Frame> {
        let lines: Vec<&str> = source.lines().collect();
        let first = usize::try_from(d.line?).ok()?.checked_sub(1)?;
        let first_line = lines.get(first)?;
        let start = match d.column {
            Some(c) => byte_of_column(first_line, c),
            None => first_line.len() - first_line.trim_start().len(),
        };
        let to_end_of = |line: &str| line.trim_end().len();
        let (mut last, mut end) = match (d.end_line, d.end_column) {
            (Some(l), c) => {
                let l = usize::try_from(l).map_or(usize::MAX, |l| l.saturating_sub(1));
                match (lines.get(l), c) {
                    (Some(line), Some(c)) => (l, byte_of_column(line, c)),
                    (Some(line), None) => (l, to_end_of(line)),
                    // Past the end of the source: up to its end.
                    (None, _) => (lines.len() - 1, to_end_of(lines[lines.len() - 1])),
                }
            }
            (None, Some(c)) => (first, byte_of_column(first_line, c)),
            (None, None) => (first, to_end_of(first_line).max(start)),
        };
        // An end before the start (bad data) flags the start alone.
        if (last, end) < (first, start) {
            (last, end) = (first, start);
        }
        let window = &lines[first..=last];
        let offset: usize = window[..window.len() - 1].iter().map(|l| l.len() + 1).sum();
        Some(Frame {
            text: window.join("\n"),
            line_start: first + 1,
            span: start..offset + end,
        })
    }
}

/// The byte offset of a 1-based character column in `line`; past its end, the end of the line.
fn byte_of_column(line: &str, column: u32) -> usize {
    let index = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    line.char_indices()
        .nth(index)
        .map_or(line.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;
    use std::collections::BTreeMap;

    const MIGRATION: &str = "\
-- 001: orders
CREATE INDEX orders_customer_id_idx ON public.orders (customer_id);
ALTER TABLE public.orders
    ADD COLUMN status text
    NOT NULL DEFAULT 'new';
";

    fn sample() -> Vec<Diagnostic> {
        vec![
            Diagnostic::new(
                "Q001",
                "seq-scan-selective-filter",
                Severity::Warning,
                "Seq Scan on orders reads 200000 rows to keep 20",
            )
            .with_location("query.sql", 1, 15)
            .with_object("public.orders")
            .with_help("an index on the filtered column turns this into an index scan")
            .with_fix("CREATE INDEX CONCURRENTLY ON public.orders (customer_id);"),
            Diagnostic::new(
                "Q009",
                "planning-time-dominates",
                Severity::Note,
                "planning took longer than execution",
            ),
        ]
    }

    fn migration_findings() -> Vec<Diagnostic> {
        vec![
            Diagnostic::new(
                "M004",
                "require-concurrent-index",
                Severity::Warning,
                "CREATE INDEX without CONCURRENTLY blocks writes to public.orders while it builds",
            )
            .with_location("migrations/001.sql", 2, 1)
            .with_end(2, 68)
            .with_object("public.orders")
            .with_help("build the index concurrently, in a migration without a transaction")
            .with_fix(
                "CREATE INDEX CONCURRENTLY orders_customer_id_idx\n    ON public.orders (customer_id);",
            ),
            Diagnostic::new(
                "M007",
                "add-column-not-null-default-volatile",
                Severity::Error,
                "ADD COLUMN ... NOT NULL takes an ACCESS EXCLUSIVE lock",
            )
            .with_location("migrations/001.sql", 3, 1)
            .with_end(5, 28),
            // A point inside a line, no end: underlined to the end of the line.
            Diagnostic::new("M009", "column-type", Severity::Note, "text without a limit")
                .with_location("migrations/001.sql", 4, 23),
            // A file whose source is not given: the compact form.
            Diagnostic::new("M001", "other", Severity::Note, "elsewhere")
                .with_location("migrations/002.sql", 1, 1),
            // No file at all.
            Diagnostic::new("S001", "table-without-primary-key", Severity::Error, "no key")
                .with_object("public.t"),
        ]
    }

    fn sources(map: &BTreeMap<&str, &str>) -> impl Fn(&str) -> Option<String> {
        move |f| map.get(f).map(|s| s.to_string())
    }

    #[test]
    fn text_output() {
        insta::assert_snapshot!(text(&sample()));
    }

    #[test]
    fn text_is_text_with_sources_without_sources() {
        let all = [sample(), migration_findings()].concat();
        let with_nothing = text_with_sources(&all, &|_| None, TextOptions::default());
        assert_eq!(text(&all), with_nothing);
        assert!(!with_nothing.contains(" | "), "no frame without sources");
    }

    #[test]
    fn a_location_outside_the_source_has_no_frame() {
        let d = Diagnostic::new("X001", "x", Severity::Note, "m")
            .with_location("f.sql", 9, 1)
            .with_help("one\ntwo");
        let out = text_with_sources(
            &[d],
            &|_| Some("SELECT 1;\n".into()),
            TextOptions::default(),
        );
        assert_eq!(
            out,
            "note[X001] x: m\n  --> f.sql:9:1\n  = help: one\n          two\n\
             0 error(s), 0 warning(s), 1 note(s)\n"
        );
    }

    #[test]
    fn code_frames() {
        let map = BTreeMap::from([("migrations/001.sql", MIGRATION)]);
        let out = text_with_sources(
            &migration_findings(),
            &sources(&map),
            TextOptions::default(),
        );
        assert!(!out.contains('\x1b'), "no colour unless asked");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn a_long_statement_is_folded() {
        let mut source = String::from("CREATE TABLE public.big (\n");
        for i in 0..40 {
            source.push_str(&format!("    c{i} int,\n"));
        }
        source.push_str("    last int\n);\n");
        let d = Diagnostic::new("S002", "wide-table", Severity::Note, "42 columns")
            .with_location("big.sql", 1, 1)
            .with_end(43, 3);
        let out = text_with_sources(&[d], &|_| Some(source.clone()), TextOptions::default());
        insta::assert_snapshot!(out);
    }

    #[test]
    fn colour_when_asked() {
        let map = BTreeMap::from([("migrations/001.sql", MIGRATION)]);
        let out = text_with_sources(
            &migration_findings(),
            &sources(&map),
            TextOptions { color: true },
        );
        assert!(out.contains("\x1b["));
    }

    #[test]
    fn sources_are_asked_once_per_file() {
        let asked = std::cell::Cell::new(0);
        let provider = |f: &str| {
            asked.set(asked.get() + 1);
            (f == "migrations/001.sql").then(|| MIGRATION.to_string())
        };
        text_with_sources(&migration_findings(), &provider, TextOptions::default());
        assert_eq!(asked.get(), 2, "001.sql and 002.sql, once each");
    }

    /// Every combination of out-of-range, zero and reversed positions, on sources with CRLF,
    /// tabs, multi-byte characters, no trailing newline and no text at all: never a panic.
    #[test]
    fn spans_out_of_range_do_not_panic() {
        let sources = [
            "",
            "\n",
            "SELECT 1;",
            "SELECT 'é→😀' FROM\r\n\tt WHERE x = 'ü';\r\n",
            "a\n\nb\n",
        ];
        let values = [
            None,
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(7),
            Some(u32::MAX),
        ];
        for source in sources {
            for line in values {
                for column in values {
                    for end_line in values {
                        for end_column in values {
                            let mut d = Diagnostic::new("X001", "x", Severity::Error, "m");
                            d.file = Some("f.sql".into());
                            (d.line, d.column, d.end_line, d.end_column) =
                                (line, column, end_line, end_column);
                            if let Some(frame) = Frame::of(source, &d) {
                                assert!(frame.span.start <= frame.span.end, "{d:?}");
                                assert!(frame.text.is_char_boundary(frame.span.start));
                                assert!(frame.text.is_char_boundary(frame.span.end));
                            }
                            let out = text_with_sources(
                                &[d],
                                &|_| Some(source.to_string()),
                                TextOptions::default(),
                            );
                            assert!(out.ends_with("note(s)\n"));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn frames() {
        let d = |l, c, el: Option<u32>, ec: Option<u32>| {
            let mut d = Diagnostic::new("X001", "x", Severity::Error, "m");
            (d.line, d.column, d.end_line, d.end_column) = (l, c, el, ec);
            d
        };
        let src = "SELECT 1;\r\n  SELECT 'é' ,\n    2;  \n";
        // Columns count characters: 'é' is one column but two bytes.
        let f = Frame::of(src, &d(Some(2), Some(12), Some(2), Some(13))).unwrap();
        assert_eq!((f.text.as_str(), f.line_start), ("  SELECT 'é' ,", 2));
        assert_eq!(&f.text[f.span.clone()], "'");
        // No column: from the first non-blank; no end: to the end of the line, blanks trimmed.
        let f = Frame::of(src, &d(Some(3), None, None, None)).unwrap();
        assert_eq!(&f.text[f.span.clone()], "2;");
        // Over two lines, CRLF normalized.
        let f = Frame::of(src, &d(Some(1), Some(1), Some(2), Some(3))).unwrap();
        assert_eq!(&f.text[f.span.clone()], "SELECT 1;\n  ");
        // An end past the source stops at its end.
        let f = Frame::of(src, &d(Some(2), Some(3), Some(9), Some(1))).unwrap();
        assert_eq!(&f.text[f.span.clone()], "SELECT 'é' ,\n    2;");
        // A line past the source: no frame.
        assert_eq!(Frame::of(src, &d(Some(4), Some(1), None, None)), None);
        assert_eq!(Frame::of(src, &d(Some(0), Some(1), None, None)), None);
        assert_eq!(Frame::of(src, &d(None, Some(1), None, None)), None);
    }
}
