//! SARIF 2.1.0 (the OASIS Static Analysis Results Interchange Format), the log format that code
//! scanning services (GitHub code scanning among them) and IDE viewers read.

use crate::diagnostic::{Diagnostic, Severity};
use crate::github::message_with_fix;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use std::collections::HashMap;

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// The `$schema` of the SARIF log.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base that relative artifact URIs are resolved against: the project's root.
pub const SARIF_SRCROOT: &str = "%SRCROOT%";

const INFORMATION_URI: &str = "https://github.com/dbarch/dbarch";

/// What a SARIF log says about a rule (its `reportingDescriptor`); the linter's registry fills
/// these in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMeta {
    /// The stable code, e.g. `M004`: the SARIF rule `id`, and the `ruleId` of its results.
    pub code: String,
    /// The kebab-case rule name.
    pub name: String,
    /// One sentence: the rule's `shortDescription`.
    pub summary: String,
    /// The rule's documentation in Markdown, when there is one: its `fullDescription` and `help`.
    pub help_markdown: Option<String>,
    /// The severity of its findings unless configured otherwise: `defaultConfiguration.level`.
    pub default_severity: Severity,
}

/// The findings as a SARIF 2.1.0 log (pretty JSON with a trailing newline; bytes deterministic):
/// one run of the tool `dbarch` (version `tool_version`) whose `rules` are `rules`, in their
/// order, and one result per finding, in order.
///
/// A result gives its `ruleId` (the code) and, when the code is among `rules`, its `ruleIndex`;
/// its `level`; its message (and the fix, when there is one, on a line of its own); a physical
/// location when the finding has a file (a relative path becomes a relative URI against
/// `%SRCROOT%`, an absolute one a `file://` URI) with the region of its line and columns when
/// known; and a logical location (the `object`) when it has one. Columns count Unicode code
/// points (`columnKind` `unicodeCodePoints`), as the diagnostics do; the end column is exclusive,
/// as in SARIF.
pub fn sarif(diagnostics: &[Diagnostic], rules: &[RuleMeta], tool_version: &str) -> String {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        index.entry(r.code.as_str()).or_insert(i);
    }
    let log = Log {
        schema: SARIF_SCHEMA,
        version: SARIF_VERSION,
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "dbarch",
                    information_uri: INFORMATION_URI,
                    version: tool_version,
                    rules: rules.iter().map(descriptor).collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results: diagnostics
                .iter()
                .map(|d| result(d, index.get(d.code.as_str()).copied()))
                .collect(),
        }],
    };
    let mut s = serde_json::to_string_pretty(&log).expect("a SARIF log always serializes");
    s.push('\n');
    s
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn descriptor(r: &RuleMeta) -> Descriptor<'_> {
    let markdown = r.help_markdown.as_deref().map(|m| MultiformatText {
        text: m,
        markdown: Some(m),
    });
    Descriptor {
        id: &r.code,
        name: &r.name,
        short_description: MultiformatText {
            text: &r.summary,
            markdown: None,
        },
        full_description: markdown.clone(),
        help: markdown,
        default_configuration: Configuration {
            level: level(r.default_severity),
        },
    }
}

fn result(d: &Diagnostic, rule_index: Option<usize>) -> SarifResult<'_> {
    let physical = d
        .file
        .as_deref()
        .filter(|f| !f.is_empty())
        .map(|f| PhysicalLocation {
            artifact_location: artifact_location(f),
            region: region(d),
        });
    let logical = d.object.as_deref().map(|o| {
        vec![LogicalLocation {
            fully_qualified_name: o,
        }]
    });
    let locations = if physical.is_some() || logical.is_some() {
        vec![Location {
            physical_location: physical,
            logical_locations: logical,
        }]
    } else {
        Vec::new()
    };
    SarifResult {
        rule_id: &d.code,
        rule_index,
        level: level(d.severity),
        message: Message {
            text: message_with_fix(d),
        },
        locations,
    }
}

/// The region of the finding's lines and columns; `None` without a (positive) line. Positions
/// SARIF forbids (zero, an end before the start) are left out rather than written.
fn region(d: &Diagnostic) -> Option<Region> {
    let positive = |n: Option<u32>| n.filter(|&n| n >= 1);
    let start_line = positive(d.line)?;
    let start_column = positive(d.column);
    let (end_line, end_column) = match positive(d.end_line) {
        Some(l) if l < start_line => (None, None),
        l => (l, positive(d.end_column)),
    };
    let on_start_line = end_line.is_none_or(|l| l == start_line);
    let end_column =
        end_column.filter(|&c| !(on_start_line && start_column.is_some_and(|s| c < s)));
    Some(Region {
        start_line,
        start_column,
        end_line,
        end_column,
    })
}

/// Everything but the unreserved characters of RFC 3986 and `/` is percent-encoded (UTF-8), so
/// that any path makes a valid URI reference (`:` too, which would read as a scheme).
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// A relative path → a relative URI (forward slashes, no leading `./`) against `%SRCROOT%`; an
/// absolute one (`/…`, `C:\…`) → a `file://` URI.
fn artifact_location(path: &str) -> ArtifactLocation {
    let path = path.replace('\\', "/");
    let bytes = path.as_bytes();
    if path.starts_with('/') {
        let uri = format!("file://{}", utf8_percent_encode(&path, PATH));
        return ArtifactLocation {
            uri,
            uri_base_id: None,
        };
    }
    if bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/' {
        let (drive, rest) = path.split_at(2);
        let uri = format!("file:///{drive}{}", utf8_percent_encode(rest, PATH));
        return ArtifactLocation {
            uri,
            uri_base_id: None,
        };
    }
    let mut relative = path.as_str();
    while let Some(rest) = relative.strip_prefix("./") {
        relative = rest.trim_start_matches('/');
    }
    ArtifactLocation {
        uri: utf8_percent_encode(relative, PATH).to_string(),
        uri_base_id: Some(SARIF_SRCROOT),
    }
}

// The SARIF objects written; field order is the serialization order.

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    column_kind: &'a str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    information_uri: &'a str,
    version: &'a str,
    rules: Vec<Descriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    id: &'a str,
    name: &'a str,
    short_description: MultiformatText<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<MultiformatText<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<MultiformatText<'a>>,
    default_configuration: Configuration,
}

#[derive(Serialize, Clone)]
struct MultiformatText<'a> {
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<&'a str>,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location<'a>>,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logical_locations: Option<Vec<LogicalLocation<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    fully_qualified_name: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn rules() -> Vec<RuleMeta> {
        vec![
            RuleMeta {
                code: "S001".into(),
                name: "table-without-primary-key".into(),
                summary: "A table without a primary key.".into(),
                help_markdown: None,
                default_severity: Severity::Error,
            },
            RuleMeta {
                code: "M004".into(),
                name: "require-concurrent-index".into(),
                summary: "CREATE INDEX without CONCURRENTLY on an existing table.".into(),
                help_markdown: Some(
                    "A plain `CREATE INDEX` blocks writes to the table until it is built.\n\n\
                     ```sql\nCREATE INDEX CONCURRENTLY ...;\n```\n"
                        .into(),
                ),
                default_severity: Severity::Warning,
            },
        ]
    }

    fn diagnostics() -> Vec<Diagnostic> {
        vec![
            Diagnostic::new(
                "M004",
                "require-concurrent-index",
                Severity::Warning,
                "CREATE INDEX without CONCURRENTLY blocks writes to public.orders",
            )
            .with_location("migrations/2024 01 init/up.sql", 2, 1)
            .with_end(3, 32)
            .with_object("public.orders_customer_id_idx")
            .with_fix(
                "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON public.orders (customer_id);",
            ),
            Diagnostic::new(
                "S001",
                "table-without-primary-key",
                Severity::Error,
                "no key",
            )
            .with_object("public.events"),
            // A code no rule describes: no ruleIndex; a file without a line: no region.
            Diagnostic::new(
                "Q009",
                "planning-time-dominates",
                Severity::Note,
                "planning took longer",
            )
            .with_location(".\\queries\\q.sql", 0, 0),
        ]
    }

    fn log() -> Value {
        serde_json::from_str(&sarif(&diagnostics(), &rules(), "0.1.0")).unwrap()
    }

    #[test]
    fn sample() {
        insta::assert_snapshot!(sarif(&diagnostics(), &rules(), "0.1.0"));
    }

    #[test]
    fn valid_against_the_schema() {
        assert_eq!(violations(&log()), Vec::<String>::new());
        // Nothing to report is a valid log too.
        let empty: Value = serde_json::from_str(&sarif(&[], &[], "0.1.0")).unwrap();
        assert_eq!(violations(&empty), Vec::<String>::new());
        assert_eq!(empty["runs"][0]["results"], json!([]));
    }

    /// The checker is not vacuous: each kind of breakage is caught.
    #[test]
    fn the_checker_catches_breakage() {
        let broken = |edit: &dyn Fn(&mut Value)| {
            let mut v = log();
            edit(&mut v);
            violations(&v)
        };
        assert!(!broken(&|v| v["version"] = json!("2.0.0")).is_empty());
        assert!(
            !broken(&|v| {
                v["runs"][0]["tool"]["driver"]
                    .as_object_mut()
                    .unwrap()
                    .remove("name");
            })
            .is_empty()
        );
        assert!(!broken(&|v| v["runs"][0]["results"][0]["level"] = json!("info")).is_empty());
        assert!(!broken(&|v| v["runs"][0]["results"][0]["ruleIndex"] = json!(0)).is_empty());
        assert!(!broken(&|v| v["runs"][0]["results"][0]["ruleIndex"] = json!(7)).is_empty());
        assert!(!broken(&|v| v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
            ["region"]["startLine"] = json!(0))
        .is_empty());
        assert!(!broken(&|v| v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
            ["region"]["endColumn"] = json!(1.5))
        .is_empty());
        assert!(!broken(&|v| v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
            ["artifactLocation"]["uri"] = json!("a b.sql"))
        .is_empty());
        assert!(!broken(&|v| v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
            ["artifactLocation"]["uri"] = json!("c:x.sql"))
        .is_empty());
        assert!(!broken(&|v| v["runs"][0]["results"][0]["message"] = json!({})).is_empty());
        assert!(!broken(&|v| v["runs"][0]["results"][0]["extra"] = json!(1)).is_empty());
        assert!(
            !broken(
                &|v| v["runs"][0]["tool"]["driver"]["rules"][1]["defaultConfiguration"]["level"] =
                    json!("fatal")
            )
            .is_empty()
        );
    }

    #[test]
    fn results() {
        let v = log();
        let results = &v["runs"][0]["results"];
        // ruleIndex points at the result's rule; a code without a rule has none.
        assert_eq!(results[0]["ruleId"], "M004");
        assert_eq!(results[0]["ruleIndex"], 1);
        assert_eq!(results[1]["ruleIndex"], 0);
        assert_eq!(results[2]["ruleId"], "Q009");
        assert!(results[2].get("ruleIndex").is_none());
        // The fix rides in the message.
        assert_eq!(
            results[0]["message"]["text"],
            "CREATE INDEX without CONCURRENTLY blocks writes to public.orders\n\
             fix: CREATE INDEX CONCURRENTLY orders_customer_id_idx ON public.orders (customer_id);"
        );
        // No file: a logical location only; a file without a line: no region.
        assert!(results[1]["locations"][0].get("physicalLocation").is_none());
        assert_eq!(
            results[1]["locations"][0]["logicalLocations"],
            json!([{"fullyQualifiedName": "public.events"}])
        );
        assert_eq!(
            results[2]["locations"][0]["physicalLocation"],
            json!({"artifactLocation": {"uri": "queries/q.sql", "uriBaseId": "%SRCROOT%"}})
        );
        let no_location = Diagnostic::new("X001", "x", Severity::Note, "m");
        let v: Value = serde_json::from_str(&sarif(&[no_location], &[], "1")).unwrap();
        assert!(v["runs"][0]["results"][0].get("locations").is_none());
    }

    #[test]
    fn the_first_of_duplicate_rules_is_indexed() {
        let mut rules = rules();
        rules.push(rules[0].clone());
        let v: Value = serde_json::from_str(&sarif(&diagnostics(), &rules, "1")).unwrap();
        assert_eq!(v["runs"][0]["results"][1]["ruleIndex"], 0);
    }

    #[test]
    fn uris() {
        let uri = |p: &str| {
            let a = artifact_location(p);
            (a.uri, a.uri_base_id)
        };
        let rel = |s: &str| (s.to_string(), Some(SARIF_SRCROOT));
        assert_eq!(
            uri("migrations/001_init.sql"),
            rel("migrations/001_init.sql")
        );
        assert_eq!(uri("./a/./b.sql"), rel("a/./b.sql"));
        assert_eq!(uri(".//a.sql"), rel("a.sql"));
        assert_eq!(uri("a b/c%d#e?f.sql"), rel("a%20b/c%25d%23e%3Ff.sql"));
        assert_eq!(uri("dir\\sub\\x.sql"), rel("dir/sub/x.sql"));
        // A colon in the first segment would read as a scheme.
        assert_eq!(uri("c:x.sql"), rel("c%3Ax.sql"));
        assert_eq!(uri("données/é.sql"), rel("donn%C3%A9es/%C3%A9.sql"));
        assert_eq!(uri("../up.sql"), rel("../up.sql"));
        assert_eq!(
            uri("/srv/app/m 1.sql"),
            ("file:///srv/app/m%201.sql".into(), None)
        );
        assert_eq!(uri("C:\\app\\m.sql"), ("file:///C:/app/m.sql".into(), None));
        for p in [
            "a b/c%d#e?f.sql",
            "c:x.sql",
            "données/é.sql",
            "[x]{y}|`^\"<>.sql",
        ] {
            let (u, base) = uri(p);
            assert!(base.is_some() && is_relative_reference(&u), "{p} -> {u}");
        }
        for p in ["/srv/app/m 1.sql", "C:\\app\\m.sql"] {
            assert!(is_absolute_uri(&uri(p).0), "{p}");
        }
    }

    #[test]
    fn regions() {
        let region = |l, c, el, ec| {
            let mut d = Diagnostic::new("X001", "x", Severity::Note, "m");
            (d.line, d.column, d.end_line, d.end_column) = (l, c, el, ec);
            serde_json::to_value(super::region(&d)).unwrap()
        };
        assert_eq!(region(None, Some(3), None, None), Value::Null);
        assert_eq!(region(Some(0), Some(3), None, None), Value::Null);
        assert_eq!(
            region(Some(2), Some(3), Some(4), Some(1)),
            json!({"startLine": 2, "startColumn": 3, "endLine": 4, "endColumn": 1})
        );
        // Zero columns and ends before the start are left out.
        assert_eq!(
            region(Some(2), Some(0), Some(1), Some(9)),
            json!({"startLine": 2})
        );
        assert_eq!(
            region(Some(2), Some(5), None, Some(4)),
            json!({"startLine": 2, "startColumn": 5})
        );
        assert_eq!(
            region(Some(2), Some(5), Some(2), Some(5)),
            json!({"startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 5})
        );
    }

    // ---------------------------------------------------------------------------------------
    // A structural check of a log against the requirements that the SARIF 2.1.0 schema
    // (sarif-schema-2.1.0.json) and specification place on the objects this emitter writes:
    // required properties, the enums of `level` and `columnKind`, integers and their minimums,
    // `uri` and `uri-reference` formats, and no properties beyond those the schema defines (its
    // objects allow no others; the lists below are the subset this emitter may write). Plus the
    // specification's consistency rules: `ruleIndex` designates the rule whose `id` is `ruleId`
    // (§3.27.6), and a `uri` with a `uriBaseId` is a relative reference (§3.4.4).
    // ---------------------------------------------------------------------------------------

    const LEVELS: &[&str] = &["none", "note", "warning", "error"];

    struct Check {
        errors: Vec<String>,
    }

    impl Check {
        fn fail(&mut self, at: &str, what: impl std::fmt::Display) {
            self.errors.push(format!("{at}: {what}"));
        }

        /// An object with the `required` properties and no others than `allowed`.
        fn object<'v>(
            &mut self,
            v: &'v Value,
            at: &str,
            required: &[&str],
            allowed: &[&str],
        ) -> Option<&'v serde_json::Map<String, Value>> {
            let Some(o) = v.as_object() else {
                self.fail(at, "not an object");
                return None;
            };
            for r in required {
                if !o.contains_key(*r) {
                    self.fail(at, format!("missing required `{r}`"));
                }
            }
            for k in o.keys() {
                if !allowed.contains(&k.as_str()) && !required.contains(&k.as_str()) {
                    self.fail(at, format!("unexpected property `{k}`"));
                }
            }
            Some(o)
        }

        fn string<'v>(&mut self, v: Option<&'v Value>, at: &str) -> Option<&'v str> {
            let v = v?;
            let s = v.as_str();
            if s.is_none() {
                self.fail(at, "not a string");
            }
            s
        }

        fn enumerated(&mut self, v: Option<&Value>, at: &str, values: &[&str]) {
            if let Some(s) = self.string(v, at)
                && !values.contains(&s)
            {
                self.fail(at, format!("`{s}` is none of {values:?}"));
            }
        }

        fn integer(&mut self, v: Option<&Value>, at: &str, minimum: i64) -> Option<i64> {
            let v = v?;
            match v.as_i64() {
                Some(n) if n >= minimum => Some(n),
                Some(n) => {
                    self.fail(at, format!("{n} < {minimum}"));
                    None
                }
                None => {
                    self.fail(at, format!("{v} is not an integer"));
                    None
                }
            }
        }

        fn array<'v>(&mut self, v: Option<&'v Value>, at: &str) -> &'v [Value] {
            match v {
                None => &[],
                Some(Value::Array(a)) => a,
                Some(_) => {
                    self.fail(at, "not an array");
                    &[]
                }
            }
        }

        fn multiformat(&mut self, v: Option<&Value>, at: &str) {
            if let Some(v) = v
                && let Some(o) = self.object(v, at, &["text"], &["markdown"])
            {
                self.string(o.get("text"), &format!("{at}.text"));
                self.string(o.get("markdown"), &format!("{at}.markdown"));
            }
        }
    }

    fn violations(log: &Value) -> Vec<String> {
        let mut c = Check { errors: Vec::new() };
        let Some(root) = c.object(log, "$", &["version", "runs"], &["$schema"]) else {
            return c.errors;
        };
        if let Some(s) = c.string(root.get("$schema"), "$.$schema")
            && !is_absolute_uri(s)
        {
            c.fail("$.$schema", "not a URI");
        }
        c.enumerated(root.get("version"), "$.version", &["2.1.0"]);
        let runs = c.array(root.get("runs"), "$.runs");
        if runs.len() != 1 {
            c.fail("$.runs", format!("{} runs, not 1", runs.len()));
        }
        for (i, run) in runs.iter().enumerate() {
            let at = format!("$.runs[{i}]");
            let Some(run) = c.object(run, &at, &["tool"], &["columnKind", "results"]) else {
                continue;
            };
            c.enumerated(
                run.get("columnKind"),
                &format!("{at}.columnKind"),
                &["utf16CodeUnits", "unicodeCodePoints"],
            );
            let mut rule_ids: Vec<Option<&str>> = Vec::new();
            if let Some(tool) = run.get("tool")
                && let Some(tool) = c.object(tool, &format!("{at}.tool"), &["driver"], &[])
                && let Some(driver) = tool.get("driver")
            {
                let at = format!("{at}.tool.driver");
                if let Some(driver) = c.object(
                    driver,
                    &at,
                    &["name"],
                    &["informationUri", "version", "rules"],
                ) {
                    c.string(driver.get("name"), &format!("{at}.name"));
                    c.string(driver.get("version"), &format!("{at}.version"));
                    if let Some(u) = c.string(driver.get("informationUri"), &at)
                        && !is_absolute_uri(u)
                    {
                        c.fail(&at, "informationUri is not a URI");
                    }
                    let rules = c.array(driver.get("rules"), &format!("{at}.rules"));
                    for (j, rule) in rules.iter().enumerate() {
                        if rules[..j].contains(rule) {
                            c.fail(&format!("{at}.rules"), "items are not unique");
                        }
                        let at = format!("{at}.rules[{j}]");
                        let Some(rule) = c.object(
                            rule,
                            &at,
                            &["id"],
                            &[
                                "name",
                                "shortDescription",
                                "fullDescription",
                                "help",
                                "defaultConfiguration",
                            ],
                        ) else {
                            rule_ids.push(None);
                            continue;
                        };
                        rule_ids.push(c.string(rule.get("id"), &format!("{at}.id")));
                        c.string(rule.get("name"), &format!("{at}.name"));
                        for m in ["shortDescription", "fullDescription", "help"] {
                            c.multiformat(rule.get(m), &format!("{at}.{m}"));
                        }
                        if let Some(conf) = rule.get("defaultConfiguration")
                            && let Some(conf) = c.object(
                                conf,
                                &format!("{at}.defaultConfiguration"),
                                &[],
                                &["level"],
                            )
                        {
                            c.enumerated(
                                conf.get("level"),
                                &format!("{at}.defaultConfiguration.level"),
                                LEVELS,
                            );
                        }
                    }
                }
            }
            let results = c.array(run.get("results"), &format!("{at}.results"));
            for (j, result) in results.iter().enumerate() {
                let at = format!("{at}.results[{j}]");
                check_result(&mut c, result, &at, &rule_ids);
            }
        }
        c.errors
    }

    fn check_result(c: &mut Check, result: &Value, at: &str, rule_ids: &[Option<&str>]) {
        let Some(result) = c.object(
            result,
            at,
            &["message"],
            &["ruleId", "ruleIndex", "level", "locations"],
        ) else {
            return;
        };
        let rule_id = c.string(result.get("ruleId"), &format!("{at}.ruleId"));
        if let Some(index) = c.integer(result.get("ruleIndex"), &format!("{at}.ruleIndex"), -1)
            && index >= 0
        {
            match usize::try_from(index).ok().and_then(|i| rule_ids.get(i)) {
                None => c.fail(at, format!("ruleIndex {index} designates no rule")),
                Some(id) if *id != rule_id => c.fail(
                    at,
                    format!("ruleIndex {index} designates rule {id:?}, not {rule_id:?}"),
                ),
                Some(_) => {}
            }
        }
        c.enumerated(result.get("level"), &format!("{at}.level"), LEVELS);
        if let Some(message) = result.get("message")
            && let Some(m) = c.object(message, &format!("{at}.message"), &[], &["text", "id"])
        {
            if !m.contains_key("text") && !m.contains_key("id") {
                c.fail(at, "message has neither text nor id");
            }
            c.string(m.get("text"), &format!("{at}.message.text"));
        }
        let locations = c.array(result.get("locations"), &format!("{at}.locations"));
        for (k, location) in locations.iter().enumerate() {
            let at = format!("{at}.locations[{k}]");
            let Some(location) = c.object(
                location,
                &at,
                &[],
                &["physicalLocation", "logicalLocations"],
            ) else {
                continue;
            };
            if let Some(physical) = location.get("physicalLocation") {
                check_physical(c, physical, &format!("{at}.physicalLocation"));
            }
            let logical = c.array(
                location.get("logicalLocations"),
                &format!("{at}.logicalLocations"),
            );
            for (l, logical) in logical.iter().enumerate() {
                let at = format!("{at}.logicalLocations[{l}]");
                if let Some(o) = c.object(logical, &at, &[], &["fullyQualifiedName"]) {
                    c.string(o.get("fullyQualifiedName"), &at);
                }
            }
        }
    }

    fn check_physical(c: &mut Check, physical: &Value, at: &str) {
        // The schema's anyOf: an address or an artifactLocation; this emitter writes the latter.
        let Some(physical) = c.object(physical, at, &["artifactLocation"], &["region"]) else {
            return;
        };
        if let Some(artifact) = physical.get("artifactLocation")
            && let Some(a) = c.object(
                artifact,
                &format!("{at}.artifactLocation"),
                &[],
                &["uri", "uriBaseId"],
            )
        {
            let uri = c.string(a.get("uri"), &format!("{at}.artifactLocation.uri"));
            let base = c.string(
                a.get("uriBaseId"),
                &format!("{at}.artifactLocation.uriBaseId"),
            );
            match (uri, base) {
                (Some(u), Some(_)) if !is_relative_reference(u) => {
                    c.fail(at, format!("`{u}` is not a relative reference"));
                }
                (Some(u), None) if !is_relative_reference(u) && !is_absolute_uri(u) => {
                    c.fail(at, format!("`{u}` is not a URI reference"));
                }
                _ => {}
            }
        }
        if let Some(region) = physical.get("region") {
            let at = format!("{at}.region");
            let Some(r) = c.object(
                region,
                &at,
                // A text region starts somewhere: this emitter writes startLine.
                &["startLine"],
                &["startColumn", "endLine", "endColumn"],
            ) else {
                return;
            };
            let mut n = |k: &str| c.integer(r.get(k), &format!("{at}.{k}"), 1);
            let (start_line, start_column) = (n("startLine"), n("startColumn"));
            let (end_line, end_column) = (n("endLine"), n("endColumn"));
            if let (Some(s), Some(e)) = (start_line, end_line)
                && e < s
            {
                c.fail(&at, "endLine before startLine");
            }
            if end_line.is_none_or(|e| Some(e) == start_line)
                && let (Some(s), Some(e)) = (start_column, end_column)
                && e < s
            {
                c.fail(&at, "endColumn before startColumn on one line");
            }
        }
    }

    /// RFC 3986: only its characters, and `%` always followed by two hex digits.
    fn uri_characters(s: &str) -> bool {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' => {
                    let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
                    if !(hex(i + 1) && hex(i + 2)) {
                        return false;
                    }
                    i += 3;
                    continue;
                }
                c if c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?#".contains(&c) => {}
                _ => return false,
            }
            i += 1;
        }
        true
    }

    /// `scheme ":" ...` with a scheme of `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    fn is_absolute_uri(s: &str) -> bool {
        let Some((scheme, _)) = s.split_once(':') else {
            return false;
        };
        uri_characters(s)
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    }

    /// A relative-path reference: no scheme (no `:` before the first `/`, `?` or `#`), no
    /// authority (no leading `//`), not empty.
    fn is_relative_reference(s: &str) -> bool {
        let first_segment = s.split(['/', '?', '#']).next().unwrap_or("");
        !s.is_empty() && uri_characters(s) && !first_segment.contains(':') && !s.starts_with("//")
    }
}
