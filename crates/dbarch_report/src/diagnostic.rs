use serde::{Deserialize, Serialize};
use std::fmt;

/// How serious a finding is. Ordered: `Note < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding. `code` is stable and never reused (e.g. `Q001`); `name` is the kebab-case rule
/// name describing the flagged pattern. Optional fields are omitted from JSON when absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub code: String,
    pub name: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Where the flagged span ends (1-based, inclusive line, exclusive column), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
    /// The database object concerned (`schema.table`, an index, a plan node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Why it matters and what to do, in prose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The concrete remedy: a statement, a setting, a rewrite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Diagnostic {
    pub fn new(
        code: impl Into<String>,
        name: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code: code.into(),
            name: name.into(),
            severity,
            message: message.into(),
            file: None,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            object: None,
            help: None,
            fix: None,
        }
    }

    pub fn with_object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// The end of the flagged span (see `end_line`).
    pub fn with_end(mut self, line: u32, column: u32) -> Self {
        self.end_line = Some(line);
        self.end_column = Some(column);
        self
    }

    pub fn with_location(mut self, file: impl Into<String>, line: u32, column: u32) -> Self {
        self.file = Some(file.into());
        self.line = Some(line);
        self.column = Some(column);
        self
    }
}

/// Counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl Summary {
    pub fn of(diags: &[Diagnostic]) -> Summary {
        let mut s = Summary::default();
        for d in diags {
            match d.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Note => s.notes += 1,
            }
        }
        s
    }
}

/// The `--fail-on` threshold: findings at or above it make the command exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

/// Whether any finding reaches the `--fail-on` threshold.
pub fn exceeds(diags: &[Diagnostic], fail_on: FailOn) -> bool {
    fail_on
        .threshold()
        .is_some_and(|t| diags.iter().any(|d| d.severity >= t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(sev: Severity) -> Diagnostic {
        Diagnostic::new("X001", "x", sev, "m")
    }

    #[test]
    fn fail_on_thresholds() {
        let warn = [d(Severity::Note), d(Severity::Warning)];
        assert!(!exceeds(&warn, FailOn::Error));
        assert!(exceeds(&warn, FailOn::Warning));
        assert!(exceeds(&warn, FailOn::Note));
        assert!(!exceeds(&warn, FailOn::Never));
        assert!(exceeds(&[d(Severity::Error)], FailOn::Error));
        assert!(!exceeds(&[], FailOn::Note));
    }

    #[test]
    fn severity_order_and_summary() {
        assert!(Severity::Note < Severity::Warning && Severity::Warning < Severity::Error);
        let s = Summary::of(&[d(Severity::Error), d(Severity::Note), d(Severity::Note)]);
        assert_eq!(
            s,
            Summary {
                errors: 1,
                warnings: 0,
                notes: 2
            }
        );
    }
}
