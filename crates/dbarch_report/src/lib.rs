//! The one `Diagnostic` type that every finding in dbarch uses (lint, explain, doctor, audit),
//! the `--fail-on` threshold, and the emitters:
//!
//! - [`json`]: the guide's JSON document, a contract (snapshot-tested): `{"version",
//!   "diagnostics": [...], "summary": {"errors", "warnings", "notes"}}`, absent fields omitted,
//!   bytes deterministic;
//! - [`text`] and [`text_with_sources`]: for people, with rustc-style code frames when the source
//!   of the flagged file is at hand;
//! - [`sarif`]: a SARIF 2.1.0 log, for code scanning services and IDEs;
//! - [`github`]: GitHub Actions workflow commands, which annotate the lines in a pull request.
//!
//! Positions are 1-based; columns count characters (Unicode scalar values), `end_column`
//! exclusive. The emitters do no I/O: the caller hands [`text_with_sources`] the file contents.

mod diagnostic;
mod emit;
mod github;
mod sarif;
mod text;

pub use diagnostic::{Diagnostic, FailOn, Severity, Summary, exceeds};
pub use emit::{REPORT_FORMAT_VERSION, Report, json};
pub use github::github;
pub use sarif::{RuleMeta, SARIF_SCHEMA, SARIF_SRCROOT, SARIF_VERSION, sarif};
pub use text::{TextOptions, text, text_with_sources};
