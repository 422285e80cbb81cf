use crate::diagnostic::{Diagnostic, Summary};
use serde::Serialize;

/// Version of the JSON report document; bumped only on incompatible changes.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// The guide's findings document. Field order is the serialization order (deterministic).
#[derive(Debug, Clone, Serialize)]
pub struct Report<'a> {
    pub version: u32,
    pub diagnostics: &'a [Diagnostic],
    pub summary: Summary,
}

impl<'a> Report<'a> {
    pub fn new(diagnostics: &'a [Diagnostic]) -> Report<'a> {
        Report {
            version: REPORT_FORMAT_VERSION,
            diagnostics,
            summary: Summary::of(diagnostics),
        }
    }
}

/// The report as pretty JSON with a trailing newline.
pub fn json(diagnostics: &[Diagnostic]) -> String {
    let mut s = serde_json::to_string_pretty(&Report::new(diagnostics))
        .expect("a report always serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

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

    #[test]
    fn json_contract() {
        insta::assert_snapshot!(json(&sample()));
    }

    #[test]
    fn json_of_nothing() {
        insta::assert_snapshot!(json(&[]));
    }

    #[test]
    fn json_round_trips() {
        let diags = sample();
        let value: serde_json::Value = serde_json::from_str(&json(&diags)).unwrap();
        let back: Vec<Diagnostic> = serde_json::from_value(value["diagnostics"].clone()).unwrap();
        assert_eq!(back, diags);
    }
}
