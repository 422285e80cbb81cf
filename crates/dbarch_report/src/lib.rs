//! The one `Diagnostic` type that every finding in dbarch uses (lint, explain, doctor, audit),
//! the `--fail-on` threshold, and the emitters: the guide's JSON shape and plain text.
//!
//! The JSON document is a contract (snapshot-tested): `{"version", "diagnostics": [...],
//! "summary": {"errors", "warnings", "notes"}}`, absent fields omitted, bytes deterministic.

mod diagnostic;
mod emit;

pub use diagnostic::{Diagnostic, FailOn, Severity, Summary, exceeds};
pub use emit::{REPORT_FORMAT_VERSION, Report, json, text};
