//! The `[lint]` table of `dbarch.toml`: rules turned on or off, severities, and the same per
//! path glob.
//!
//! ```toml
//! [lint]
//! enable = ["M041"]            # rules that are off by default
//! disable = ["S005"]
//! fail_on = "warning"          # error (default), warning, note, never
//!
//! [lint.severity]
//! M013 = "error"
//!
//! [[lint.overrides]]
//! paths = ["migrations/legacy/**"]
//! disable = ["M002"]
//! severity = { M030 = "note" }
//! ```

use crate::{Context, rule};
use dbarch_report::{Diagnostic, Severity};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    enable: Vec<String>,
    #[serde(default)]
    disable: Vec<String>,
    fail_on: Option<String>,
    #[serde(default)]
    severity: BTreeMap<String, Severity>,
    #[serde(default)]
    overrides: Vec<RawOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    paths: Vec<String>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, Severity>,
}

#[derive(Debug)]
struct Override {
    paths: GlobSet,
    disable: Vec<String>,
    severity: BTreeMap<String, Severity>,
}

/// The linter's configuration, checked: every code names a rule, every glob compiles.
#[derive(Debug, Default)]
pub struct Config {
    pub enable: Vec<String>,
    pub disable: Vec<String>,
    /// `error`, `warning`, `note` or `never`, when set.
    pub fail_on: Option<String>,
    severity: BTreeMap<String, Severity>,
    overrides: Vec<Override>,
}

impl Config {
    /// Reads the `[lint]` table of a `dbarch.toml` text (other tables are not ours).
    pub fn from_toml(text: &str) -> Result<Config, String> {
        let doc: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let Some(lint) = doc.get("lint") else {
            return Ok(Config::default());
        };
        let raw: Raw = lint
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| format!("[lint]: {}", e.message()))?;
        let code = |c: &String| -> Result<String, String> {
            rule(c)
                .map(|r| r.code.to_string())
                .ok_or_else(|| format!("[lint]: no rule {c:?} (`dbarch rules` lists them)"))
        };
        let codes = |list: &[String]| list.iter().map(code).collect::<Result<Vec<_>, _>>();
        let severities = |map: &BTreeMap<String, Severity>| {
            map.iter()
                .map(|(c, s)| Ok((code(c)?, *s)))
                .collect::<Result<BTreeMap<_, _>, String>>()
        };
        if let Some(f) = &raw.fail_on
            && !matches!(f.as_str(), "error" | "warning" | "note" | "never")
        {
            return Err(format!(
                "[lint]: fail_on = {f:?}: expected error, warning, note or never"
            ));
        }
        let mut overrides = Vec::new();
        for o in &raw.overrides {
            let mut set = GlobSetBuilder::new();
            for p in &o.paths {
                set.add(Glob::new(p).map_err(|e| format!("[[lint.overrides]]: {e}"))?);
            }
            overrides.push(Override {
                paths: set
                    .build()
                    .map_err(|e| format!("[[lint.overrides]]: {e}"))?,
                disable: codes(&o.disable)?,
                severity: severities(&o.severity)?,
            });
        }
        Ok(Config {
            enable: codes(&raw.enable)?,
            disable: codes(&raw.disable)?,
            fail_on: raw.fail_on,
            severity: severities(&raw.severity)?,
            overrides,
        })
    }

    /// Puts the rule selection into a lint context.
    pub fn apply_to(&self, ctx: &mut Context) {
        ctx.enable.extend(self.enable.iter().cloned());
        ctx.disable.extend(self.disable.iter().cloned());
    }

    /// Applies severities and per-path overrides to findings, dropping disabled ones.
    pub fn apply(&self, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
        diags
            .into_iter()
            .filter_map(|mut d| {
                if let Some(s) = self.severity.get(&d.code) {
                    d.severity = *s;
                }
                if let Some(file) = d.file.clone() {
                    let file = file.trim_start_matches("./");
                    for o in self.overrides.iter().filter(|o| o.paths.is_match(file)) {
                        if o.disable.contains(&d.code) {
                            return None;
                        }
                        if let Some(s) = o.severity.get(&d.code) {
                            d.severity = *s;
                        }
                    }
                }
                Some(d)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_names_and_overrides() {
        let c = Config::from_toml(
            r#"
schema_dir = "db"
[lint]
enable = ["M042"]
disable = ["arbitrary-varchar-limit"]
fail_on = "warning"
[lint.severity]
M002 = "error"
[[lint.overrides]]
paths = ["legacy/**"]
disable = ["M002"]
"#,
        )
        .unwrap();
        assert_eq!(c.enable, ["M042"]);
        assert_eq!(c.disable, ["S005"]);
        let d = |file: &str| {
            Diagnostic::new("M002", "x", Severity::Warning, "m").with_location(file, 1, 1)
        };
        let out = c.apply(vec![d("migrations/1.sql"), d("legacy/2.sql")]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].severity, Severity::Error);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Config::from_toml("[lint]\ndisable = [\"X999\"]").unwrap_err();
        assert!(e.contains("X999"), "{e}");
        let e = Config::from_toml("[lint]\nfail_on = \"sometimes\"").unwrap_err();
        assert!(e.contains("fail_on"), "{e}");
        let e = Config::from_toml("[lint]\nunknown = 1").unwrap_err();
        assert!(e.contains("unknown"), "{e}");
        assert!(Config::from_toml("[migrate]\nx = 1").is_ok());
    }
}
