//! `dbarch lint PATH...`: migration files, stdin, directories, `--since`, configuration,
//! output formats, catalog-aware severity (`--url`) and `--trace`, end to end.

mod common;

use common::{dbarch_cmd, project, run_in};
use dbarch_testing::TestServer;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}):\n{s}"))
}

fn codes(doc: &serde_json::Value) -> Vec<String> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

const RISKY: &str = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n";

#[test]
fn files_directories_and_formats() {
    let dir = project();
    write(dir.path(), "migrations/001_index.sql", RISKY);
    write(
        dir.path(),
        "migrations/002_new_table.sql",
        "CREATE TABLE items (id bigint PRIMARY KEY, sku text);\nCREATE INDEX items_sku_idx ON items (sku);\n",
    );

    // Text: the finding, its code frame and its fix; warnings stay under --fail-on error.
    let r = run_in(dir.path(), &["lint", "migrations"]);
    r.code(0);
    assert!(r.stdout.contains("M002"), "{}", r.stdout);
    assert!(
        r.stdout.contains("migrations/001_index.sql:1:1"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("CREATE INDEX orders_customer_idx"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("CONCURRENTLY"), "{}", r.stdout);
    assert!(!r.stdout.contains("002_new_table"), "{}", r.stdout);
    run_in(dir.path(), &["lint", "migrations", "--fail-on", "warning"]).code(1);

    let r = run_in(dir.path(), &["lint", "migrations", "--format", "json"]);
    assert_eq!(codes(&json(&r.stdout)), ["M002"]);

    let r = run_in(dir.path(), &["lint", "migrations", "--format", "sarif"]);
    let sarif = json(&r.stdout);
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "M002");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "migrations/001_index.sql"
    );

    let r = run_in(dir.path(), &["lint", "migrations", "--format", "github"]);
    assert!(
        r.stdout
            .starts_with("::warning file=migrations/001_index.sql,line=1,col=1"),
        "{}",
        r.stdout
    );
}

#[test]
fn stdin_is_linted_as_dash() {
    let dir = project();
    let mut child = dbarch_cmd(dir.path(), &["lint", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(RISKY.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let doc = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(doc["diagnostics"][0]["file"], "-");
    assert!(!codes(&doc).is_empty());
}

#[test]
fn bad_input_is_a_finding_or_one_clear_error() {
    let dir = project();
    write(
        dir.path(),
        "syntax.sql",
        "ALTER TABLE t ADD COLUMN c text DEFALT '';\n",
    );
    write(dir.path(), "empty.sql", "-- nothing here\n");
    write(
        dir.path(),
        "meta.sql",
        "\\set ON_ERROR_STOP on\nSELECT 1;\n",
    );
    std::fs::write(dir.path().join("binary.sql"), b"\x00\x01\x02SELECT").unwrap();
    std::fs::write(dir.path().join("latin1.sql"), b"SELECT 'caf\xe9';\n").unwrap();

    // A syntax error is an error-severity finding with its position: exit 1, not 2.
    let r = run_in(dir.path(), &["lint", "syntax.sql", "--format", "json"]);
    r.code(1);
    let doc = json(&r.stdout);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "M001");
    assert_eq!(d["line"], 1);
    assert!(
        d["column"].as_u64().unwrap() > 1,
        "points at the token: {d}"
    );

    for (file, needle) in [
        ("empty.sql", "empty migration"),
        ("meta.sql", "meta-command"),
        ("binary.sql", "binary file"),
        ("latin1.sql", "not valid UTF-8"),
    ] {
        let r = run_in(dir.path(), &["lint", file, "--format", "json"]);
        let doc = json(&r.stdout);
        let messages: Vec<&str> = doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap())
            .collect();
        assert!(
            messages.iter().any(|m| m.contains(needle)),
            "{file}: {messages:?}"
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }

    // A missing path is an input error.
    let r = run_in(dir.path(), &["lint", "nowhere.sql"]);
    r.code(2);
    assert!(r.one_line_error().contains("nowhere.sql"));
}

#[test]
fn configuration_and_ignore_directives() {
    let dir = project();
    write(dir.path(), "m/001.sql", RISKY);
    write(
        dir.path(),
        "legacy/001.sql",
        "-- dbarch:ignore M002 built before launch\nCREATE INDEX a_idx ON a (x);\nCREATE INDEX b_idx ON b (x);\n",
    );
    // The directive silences its statement only.
    let r = run_in(dir.path(), &["lint", "legacy", "--format", "json"]);
    let doc = json(&r.stdout);
    assert_eq!(codes(&doc), ["M002"]);
    assert_eq!(doc["diagnostics"][0]["line"], 3);

    write(
        dir.path(),
        "dbarch.toml",
        "[lint]\nfail_on = \"warning\"\n[lint.severity]\nM002 = \"error\"\n[[lint.overrides]]\npaths = [\"legacy/**\"]\ndisable = [\"M002\"]\n",
    );
    let r = run_in(dir.path(), &["lint", "m", "legacy", "--format", "json"]);
    r.code(1);
    let doc = json(&r.stdout);
    assert_eq!(codes(&doc), ["M002"]);
    assert_eq!(doc["diagnostics"][0]["severity"], "error");

    write(dir.path(), "dbarch.toml", "[lint]\ndisable = [\"Z999\"]\n");
    let r = run_in(dir.path(), &["lint", "m"]);
    r.code(2);
    assert!(r.one_line_error().contains("Z999"));
}

#[test]
fn since_lints_only_changed_files() {
    let dir = project();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(ok.status.success(), "git {args:?}: {ok:?}");
    };
    git(&["init", "-q"]);
    write(dir.path(), "migrations/001.sql", RISKY);
    git(&["add", "."]);
    git(&["commit", "-qm", "one"]);
    write(
        dir.path(),
        "migrations/002.sql",
        "CREATE INDEX b_idx ON b (x);\n",
    );
    let r = run_in(dir.path(), &["lint", "--since", "HEAD", "--format", "json"]);
    let doc = json(&r.stdout);
    let files: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert!(files.iter().all(|f| f.ends_with("002.sql")), "{files:?}");
    assert!(!files.is_empty());

    let r = run_in(dir.path(), &["lint", "--since", "no-such-ref"]);
    r.code(2);
    assert!(r.one_line_error().contains("no-such-ref"));
}

/// With a target, severity follows the table's size: a blocking build on an empty table is a
/// note, and `--trace` reports the lock PostgreSQL really took.
#[tokio::test]
async fn catalog_aware_severity_and_trace() {
    let db = TestServer::pg18().create_db().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);
             CREATE TABLE big (id bigint PRIMARY KEY, customer_id bigint);
             INSERT INTO big SELECT g, g % 100 FROM generate_series(1, 20000) g;
             ANALYZE;",
        )
        .await
        .unwrap();
    let dir = project();
    write(dir.path(), "m/001.sql", RISKY);
    write(
        dir.path(),
        "m/002.sql",
        "CREATE INDEX big_customer_idx ON big (customer_id);\n",
    );
    let url = db.url();
    let r = run_in(
        dir.path(),
        &["lint", "m", "--url", &url, "--format", "json"],
    );
    let doc = json(&r.stdout);
    let sev = |file: &str| {
        doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "M002" && d["file"].as_str().unwrap().ends_with(file))
            .map(|d| d["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(sev("001.sql").as_deref(), Some("note"), "{doc}");
    assert_eq!(sev("002.sql").as_deref(), Some("warning"), "{doc}");

    let r = run_in(
        dir.path(),
        &["lint", "m", "--url", &url, "--trace", "--format", "json"],
    );
    let doc = json(&r.stdout);
    let traced: Vec<&serde_json::Value> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "M044")
        .collect();
    assert!(
        traced
            .iter()
            .any(|d| d["message"].as_str().unwrap().contains("ShareLock")
                && d["object"].as_str().unwrap().contains("orders")),
        "{doc}"
    );
    // Nothing on the target changed.
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname IN ('orders_customer_idx', 'big_customer_idx')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[test]
fn schema_dir_lints_the_desired_state() {
    let dir = project();
    write(
        dir.path(),
        "schema/tables.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));\n",
    );
    let r = run_in(
        dir.path(),
        &["lint", "--schema-dir", "schema", "--format", "json"],
    );
    r.code(0);
    let doc = json(&r.stdout);
    assert!(codes(&doc).contains(&"S001".to_string()), "{doc}");
    // A desired state that does not run is an input error naming the file.
    write(
        dir.path(),
        "broken/a.sql",
        "CREATE TABLE x (id nosuchtype);\n",
    );
    let r = run_in(dir.path(), &["lint", "--schema-dir", "broken"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("a.sql"), "{}", r.stderr);
}

/// Without a target, `--trace` runs a migration on the history before it: the earlier
/// migrations of its directory are replayed first, and down scripts are never traced.
#[test]
fn trace_replays_the_history_before_the_linted_file() {
    let dir = project();
    write(
        dir.path(),
        "migrations/20250101000000_orders.sql",
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\nINSERT INTO orders SELECT g, g FROM generate_series(1, 100) g;\n",
    );
    write(
        dir.path(),
        "migrations/20250101000000_orders.down.sql",
        "DROP TABLE orders;\n",
    );
    write(dir.path(), "migrations/20250102000000_index.sql", RISKY);
    write(
        dir.path(),
        "migrations/20250102000000_index.down.sql",
        "DROP INDEX orders_customer_idx;\n",
    );
    let r = run_in(
        dir.path(),
        &[
            "lint",
            "migrations/20250102000000_index.sql",
            "migrations/20250102000000_index.down.sql",
            "--trace",
            "--format",
            "json",
        ],
    );
    let doc = json(&r.stdout);
    let all = codes(&doc);
    assert!(!all.contains(&"M043".to_string()), "{doc}");
    assert!(
        doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "M044"
                && d["message"].as_str().unwrap().contains("ShareLock")
                && d["file"]
                    .as_str()
                    .unwrap()
                    .ends_with("20250102000000_index.sql")),
        "{doc}"
    );
}
