//! Positions in a linted file: byte offsets to 1-based line and column (in characters), and
//! the `-- dbarch:ignore` directives written in its comments.

/// A file's text with its line starts, for turning byte offsets into line and column.
pub(crate) struct SourceMap<'a> {
    pub text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceMap<'a> {
    pub fn new(text: &'a str) -> SourceMap<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceMap { text, line_starts }
    }

    /// 1-based line and column (in characters) of byte `offset`, clamped to the text.
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let column = self.text[self.line_starts[line]..offset].chars().count() + 1;
        (line as u32 + 1, column as u32)
    }

    /// The byte offset where the line holding `offset` ends (before its newline).
    pub fn line_end(&self, offset: usize) -> usize {
        self.text[offset.min(self.text.len())..]
            .find('\n')
            .map_or(self.text.len(), |i| offset + i)
    }
}

/// `-- dbarch:ignore CODE[,CODE...] reason`: silences those codes on the next statement (or,
/// written after a statement on its own line, on that statement). `-- dbarch:ignore-file`
/// silences them in the whole file.
#[derive(Debug, Clone)]
pub(crate) struct Ignore {
    pub codes: Vec<String>,
    /// Byte range of the comment.
    pub start: usize,
    pub end: usize,
    pub whole_file: bool,
    /// Index of the statement it covers (`None` for whole-file directives).
    pub statement: Option<usize>,
    pub used: bool,
}

/// Parses the directive in one comment's text (with its `--` or `/* */`).
pub(crate) fn directive(comment: &str) -> Option<(bool, Vec<String>)> {
    let body = comment
        .trim_start_matches("--")
        .trim_start_matches("/*")
        .trim_end_matches("*/")
        .trim();
    let (whole_file, rest) = if let Some(rest) = body.strip_prefix("dbarch:ignore-file") {
        (true, rest)
    } else if let Some(rest) = body.strip_prefix("dbarch:ignore") {
        (false, rest)
    } else {
        return None;
    };
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    // Codes come first, separated by commas or spaces; the first word that is not a code
    // starts the reason.
    let mut codes = Vec::new();
    for word in rest.split(|c: char| c == ',' || c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        let is_code = word.len() == 4
            && word.as_bytes()[0].is_ascii_alphabetic()
            && word[1..].bytes().all(|b| b.is_ascii_digit());
        let is_name = crate::rule(word).is_some();
        if is_code || is_name {
            let code =
                crate::rule(word).map_or_else(|| word.to_ascii_uppercase(), |r| r.code.into());
            codes.push(code);
        } else {
            break;
        }
    }
    Some((whole_file, codes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let m = SourceMap::new("ab\nçd\n");
        assert_eq!(m.position(0), (1, 1));
        assert_eq!(m.position(3), (2, 1));
        assert_eq!(m.position(5), (2, 2));
        assert_eq!(m.position(99), (3, 1));
        assert_eq!(m.line_end(3), 6);
    }

    #[test]
    fn directives() {
        assert_eq!(
            directive("-- dbarch:ignore M002 small lookup table"),
            Some((false, vec!["M002".to_string()]))
        );
        assert_eq!(
            directive("-- dbarch:ignore M002,M030 reason"),
            Some((false, vec!["M002".to_string(), "M030".to_string()]))
        );
        assert_eq!(
            directive("-- dbarch:ignore-file non-concurrent-index-build"),
            Some((true, vec!["M002".to_string()]))
        );
        assert_eq!(directive("-- dbarch:ignored"), None);
        assert_eq!(directive("-- just a comment"), None);
    }
}
