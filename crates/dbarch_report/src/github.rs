//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding, which
//! the runner turns into an annotation on the file and lines concerned.

use crate::diagnostic::{Diagnostic, Severity};
use std::fmt::Write;

/// GitHub Actions annotations, one line per finding:
///
/// ```text
/// ::warning file=migrations/001.sql,line=2,col=1,endLine=2,endColumn=68,title=M004 require-concurrent-index::CREATE INDEX without CONCURRENTLY blocks writes
/// ```
///
/// `error`, `warning`, or `notice` for a note. `file`, `line`, `col`, `endLine` and `endColumn`
/// are given when known (no position without a file, no column without a line); the title is
/// the code and the rule name. The message carries the fix, when there is one, on a line of its
/// own. Values are escaped as the Actions toolkit escapes them (`%`, CR and LF in the message;
/// also `:` and `,` in property values), so every finding stays on one line.
pub fn github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut properties: Vec<(&str, String)> = Vec::new();
        if let Some(file) = d.file.as_deref().filter(|f| !f.is_empty()) {
            properties.push(("file", file.to_string()));
            let positive = |n: Option<u32>| n.filter(|&n| n >= 1);
            if let Some(line) = positive(d.line) {
                properties.push(("line", line.to_string()));
                if let Some(col) = positive(d.column) {
                    properties.push(("col", col.to_string()));
                }
                if let Some(end_line) = positive(d.end_line).filter(|&l| l >= line) {
                    properties.push(("endLine", end_line.to_string()));
                }
                if let Some(end_column) = positive(d.end_column) {
                    properties.push(("endColumn", end_column.to_string()));
                }
            }
        }
        properties.push(("title", format!("{} {}", d.code, d.name)));
        let properties = properties
            .iter()
            .map(|(k, v)| format!("{k}={}", escape_property(v)))
            .collect::<Vec<_>>()
            .join(",");
        let _ = writeln!(
            out,
            "::{command} {properties}::{}",
            escape_data(&message_with_fix(d))
        );
    }
    out
}

/// The message, and the fix on a line of its own when there is one (SARIF and GitHub carry no
/// separate field for it).
pub(crate) fn message_with_fix(d: &Diagnostic) -> String {
    match &d.fix {
        Some(fix) => format!("{}\nfix: {fix}", d.message),
        None => d.message.clone(),
    }
}

/// `escapeData` of `@actions/core`: the message of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `escapeProperty` of `@actions/core`: a property value of a workflow command.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations() {
        let diags = [
            Diagnostic::new(
                "M004",
                "require-concurrent-index",
                Severity::Warning,
                "CREATE INDEX without CONCURRENTLY blocks writes",
            )
            .with_location("migrations/001.sql", 2, 1)
            .with_end(2, 68)
            .with_fix("CREATE INDEX CONCURRENTLY orders_customer_id_idx\n    ON public.orders (customer_id);"),
            Diagnostic::new("M007", "add-column", Severity::Error, "rewrites the table")
                .with_location("migrations/001.sql", 3, 1),
            Diagnostic::new("S001", "table-without-primary-key", Severity::Note, "no key")
                .with_object("public.t"),
        ];
        insta::assert_snapshot!(github(&diags), @r"
        ::warning file=migrations/001.sql,line=2,col=1,endLine=2,endColumn=68,title=M004 require-concurrent-index::CREATE INDEX without CONCURRENTLY blocks writes%0Afix: CREATE INDEX CONCURRENTLY orders_customer_id_idx%0A    ON public.orders (customer_id);
        ::error file=migrations/001.sql,line=3,col=1,title=M007 add-column::rewrites the table
        ::notice title=S001 table-without-primary-key::no key
        ");
    }

    #[test]
    fn escaping_as_the_actions_toolkit() {
        // The cases of the toolkit's own tests (packages/core/__tests__/command.test.ts).
        assert_eq!(
            escape_data("percent % percent % cr \r cr \r lf \n lf \n"),
            "percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A"
        );
        assert_eq!(
            escape_data("%25 %25 %0D %0D %0A %0A"),
            "%2525 %2525 %250D %250D %250A %250A"
        );
        assert_eq!(
            escape_property(
                "percent % percent % cr \r cr \r lf \n lf \n colon : colon : comma , comma ,"
            ),
            "percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A colon %3A colon %3A comma %2C comma %2C"
        );
        assert_eq!(
            escape_property("%25 %25 %0D %0D %0A %0A %3A %3A %2C %2C"),
            "%2525 %2525 %250D %250D %250A %250A %253A %253A %252C %252C"
        );
        // The message keeps `:` and `,`.
        assert_eq!(escape_data("a\r\nb:c,d%"), "a%0D%0Ab:c,d%25");
        assert_eq!(
            escape_property("a\r\nb:c,d%"),
            "a%0D%0Ab%3Ac%2Cd%25",
            "`%` is escaped first, so the escapes are not escaped again"
        );

        let d = Diagnostic::new(
            "X001",
            "x,y:z",
            Severity::Warning,
            "100% of rows:\r\nall, of them",
        )
        .with_location("dir,1/a:b%.sql", 1, 2);
        assert_eq!(
            github(&[d]),
            "::warning file=dir%2C1/a%3Ab%25.sql,line=1,col=2,title=X001 x%2Cy%3Az\
             ::100%25 of rows:%0D%0Aall, of them\n"
        );
    }

    #[test]
    fn positions_only_with_a_file_and_a_line() {
        let mut d = Diagnostic::new("X001", "x", Severity::Error, "m");
        (d.line, d.column, d.end_line, d.end_column) = (Some(3), Some(4), Some(5), Some(6));
        assert_eq!(
            github(std::slice::from_ref(&d)),
            "::error title=X001 x::m\n"
        );
        d.file = Some("f.sql".into());
        d.line = Some(0);
        assert_eq!(github(&[d]), "::error file=f.sql,title=X001 x::m\n");
    }

    #[test]
    fn one_line_per_finding() {
        let d = Diagnostic::new("X001", "x", Severity::Note, "a\nb\r\nc").with_fix("d\ne");
        let out = github(&[d.clone(), d]);
        assert_eq!(out.lines().count(), 2);
        assert!(out.lines().all(|l| l.starts_with("::notice ")));
    }
}
