//! Escaping shared by the renderers.

/// Escapes text for XML/HTML content and attribute values, dropping characters XML 1.0 forbids.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Collapses every run of whitespace (newlines included) into one space.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A Markdown table cell holding free text (comments): HTML-escaped so that stray markup shows
/// as typed, pipes escaped so they do not split the cell, newlines as `<br>`.
pub(crate) fn md_cell(s: &str) -> String {
    let s = s.replace("\r\n", "\n");
    let mut out = String::with_capacity(s.len());
    for ch in s.trim().chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// A code span safe inside a Markdown table cell (GFM splits cells on `|` even inside code
/// spans unless escaped; the backslash is not rendered there).
pub(crate) fn md_code(s: &str) -> String {
    let s = one_line(s);
    if s.is_empty() {
        return String::new();
    }
    let longest_tick_run = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_tick_run + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", s.replace('|', "\\|"))
}

/// Plain text (object names) in Markdown headings, link texts and cells: escapes what could be
/// read as markup. `_` is escaped only where it could open or close emphasis, so
/// `user_accounts` stays readable.
pub(crate) fn md_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &ch) in chars.iter().enumerate() {
        match ch {
            '\\' | '`' | '*' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '_' => {
                let before = i > 0 && chars[i - 1].is_alphanumeric();
                let after = chars.get(i + 1).is_some_and(|c| c.is_alphanumeric());
                if !(before && after) {
                    out.push('\\');
                }
                out.push('_');
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A paragraph of free text (a table's comment): HTML-escaped, line breaks kept as hard breaks,
/// and a leading character that would start a block (heading, quote, list) escaped.
pub(crate) fn md_paragraph(s: &str) -> String {
    let s = s.replace("\r\n", "\n");
    let mut lines = Vec::new();
    for line in s.trim().lines() {
        let line = line.trim_end();
        let mut esc = String::with_capacity(line.len());
        for ch in line.chars() {
            match ch {
                '&' => esc.push_str("&amp;"),
                '<' => esc.push_str("&lt;"),
                '>' => esc.push_str("&gt;"),
                c => esc.push(c),
            }
        }
        let trimmed = esc.trim_start();
        let starts_block = trimmed.starts_with(['#', '-', '+', '*', '=', '|'])
            || trimmed.starts_with("&gt;")
            || trimmed
                .split_once(['.', ')'])
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if starts_block {
            esc = format!("\\{trimmed}");
        }
        lines.push(esc);
    }
    // Two trailing spaces are a hard line break; an empty line stays a paragraph break.
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        let next_blank = lines.get(i + 1).is_some_and(|l| l.is_empty());
        if i + 1 < lines.len() && !line.is_empty() && !next_blank {
            out.push_str("  ");
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
    out
}

/// The anchor GitHub generates for a heading (github-slugger): lowercase, letters, digits, `_`
/// and `-` kept, spaces turned into `-`, everything else dropped. Duplicates are numbered by
/// [`Slugger`].
pub(crate) fn github_slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.to_lowercase().chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == '-' {
            out.push(ch);
        } else if ch == ' ' {
            out.push('-');
        }
    }
    out
}

/// Numbers repeated slugs the way GitHub does (`columns`, `columns-1`, ...).
#[derive(Default)]
pub(crate) struct Slugger {
    seen: std::collections::HashSet<String>,
}

impl Slugger {
    pub(crate) fn slug(&mut self, text: &str) -> String {
        let base = github_slug(text);
        let mut slug = base.clone();
        let mut n = 0;
        while self.seen.contains(&slug) {
            n += 1;
            slug = format!("{base}-{n}");
        }
        self.seen.insert(slug.clone());
        slug
    }
}

/// A fenced code block whose fence is longer than any backtick run in the body.
pub(crate) fn md_fence(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{}\n{fence}\n", body.trim_end())
}

/// A number for SVG coordinates: one decimal at most, no trailing `.0`.
pub(crate) fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    let r = if r == 0.0 { 0.0 } else { r }; // no "-0"
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_match_github() {
        assert_eq!(github_slug("public.users"), "publicusers");
        assert_eq!(github_slug("audit.user_events"), "audituser_events");
        assert_eq!(github_slug("Foreign keys & more"), "foreign-keys--more");
        let mut s = Slugger::default();
        assert_eq!(s.slug("Columns"), "columns");
        assert_eq!(s.slug("Columns"), "columns-1");
    }

    #[test]
    fn cells_and_code_are_escaped() {
        assert_eq!(md_cell("a | b\n<c> & d"), "a \\| b<br>&lt;c&gt; &amp; d");
        assert_eq!(md_code("a || b"), "`a \\|\\| b`");
        assert_eq!(md_code("x `y`"), "`` x `y` ``");
        assert_eq!(md_text("_x_y*"), "\\_x_y\\*");
        assert_eq!(
            md_paragraph("# not a heading\nline"),
            "\\# not a heading  \nline"
        );
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.25), "12.3");
        assert_eq!(num(-0.01), "0");
    }
}
