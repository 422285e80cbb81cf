//! End-to-end tests of the `dbarch` binary: exit codes, messages, output formats, the dev
//! server lifecycle. Real servers only (dbarch_testing), a database of its own per test, a
//! project directory of its own per test (so that dev servers never collide), and a child
//! environment without the libpq variables so that the tests are hermetic.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use dbarch_testing::{TestDb, TestServer};

mod common;
use common::*;
async fn pg18_db() -> TestDb {
    TestServer::pg18().create_db().await
}

/// A pg18 database holding the bundled example (loaded through the CLI).
async fn example_db() -> TestDb {
    let db = pg18_db().await;
    let url = db.url();
    run(&["example", "load", "--url", &url, "--rows", "100"]).code(0);
    db
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// `schema.name` of every table in an `inspect --format json` document.
fn table_names(doc: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = doc["model"]["tables"]
        .as_array()
        .unwrap_or_else(|| panic!("no model.tables array in {doc}"))
        .iter()
        .map(|t| {
            format!(
                "{}.{}",
                t["schema"].as_str().unwrap(),
                t["name"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// Usage and input errors (exit code 2)
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_flag_is_a_usage_error() {
    let r = run(&["inspect", "--bogus-flag"]);
    r.code(2);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error:") && first.contains("--bogus-flag"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn unknown_format_is_a_usage_error() {
    let r = run(&["inspect", "--format", "nope"]);
    r.code(2);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error:") && first.contains("nope"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("mermaid"),
        "lists the formats: {}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn malformed_urls_are_input_errors_without_the_password() {
    for (url, what) in [
        ("postgres://u:s3cret@host:notaport/db", "notaport"),
        ("postgres://u:s3cret@[::1", "]"),
    ] {
        for cmd in ["inspect", "review"] {
            let r = run(&[cmd, "--url", url]);
            r.code(2);
            let line = r.one_line_error();
            assert!(line.contains("invalid connection string"), "{line}");
            assert!(line.contains(what), "{line}");
            assert!(
                !r.stderr.contains("s3cret"),
                "password leaked: {}",
                r.stderr
            );
            assert!(
                !r.stdout.contains("s3cret"),
                "password leaked: {}",
                r.stdout
            );
        }
    }
}

#[test]
fn malformed_database_url_variable_is_an_input_error_without_the_password() {
    let dir = project();
    let out = dbarch_cmd(dir.path(), &["inspect"])
        .env("DATABASE_URL", "postgres://u:s3cret@host:notaport/db")
        .output()
        .unwrap();
    let r = Run::from_output(out);
    r.code(2);
    let line = r.one_line_error();
    assert!(line.contains("notaport"), "{line}");
    assert!(
        !r.stderr.contains("s3cret"),
        "password leaked: {}",
        r.stderr
    );
    // It did not fall back to a dev server.
    assert!(!dir.path().join(".dbarch").join("pgdata").exists());
}

#[test]
fn unknown_conninfo_key_is_an_input_error() {
    let r = run(&["inspect", "--url", "host=localhost bogus=1"]);
    r.code(2);
    let line = r.one_line_error();
    assert!(line.contains("bogus"), "{line}");
}

#[test]
fn bad_glob_is_an_input_error() {
    // Checked before connecting: the URL points nowhere.
    let r = run(&[
        "inspect",
        "--url",
        "postgres://u@127.0.0.1:1/db",
        "--table",
        "[",
    ]);
    r.code(2);
    let line = r.one_line_error();
    assert!(line.contains("glob") && line.contains('['), "{line}");
}

#[test]
fn missing_postgres_installation_says_how_to_install() {
    let dir = project();
    let out = dbarch_cmd(dir.path(), &["--pg-bin", "/nonexistent", "dev", "start"])
        .env("DBARCH_PG_BIN", "/nonexistent")
        .output()
        .unwrap();
    let r = Run::from_output(out);
    r.code(2);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.contains("/nonexistent"), "{}", r.stderr);
    assert!(
        r.stderr.contains("pip install") || r.stderr.contains("apt-get install"),
        "the message should say how to install PostgreSQL: {}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn data_dir_that_cannot_be_created_is_an_input_error() {
    let dev = DevProject::new();
    // `.dbarch` is a regular file: the state dir cannot be created.
    std::fs::write(dev.path().join(".dbarch"), "not a directory").unwrap();
    let r = dev.run(&["dev", "start"]);
    r.code(2);
    let line = r.one_line_error();
    assert!(line.contains(".dbarch"), "{line}");
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    // The file is untouched.
    assert_eq!(
        std::fs::read_to_string(dev.path().join(".dbarch")).unwrap(),
        "not a directory"
    );
}

// ---------------------------------------------------------------------------------------------
// Database errors (exit code 3)
// ---------------------------------------------------------------------------------------------

#[test]
fn unreachable_server_is_a_database_error() {
    let r = run(&["inspect", "--url", "postgres://u:s3cret@127.0.0.1:1/db"]);
    r.code(3);
    let line = r.one_line_error();
    assert!(line.contains("127.0.0.1:1"), "names the target: {line}");
    assert!(line.contains("cannot connect"), "{line}");
    assert!(
        !r.stderr.contains("s3cret"),
        "password leaked: {}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// The test servers use trust authentication everywhere (their pg_hba.conf: `local`/`host
/// all all ... trust`), so a wrong password cannot fail here. A database and a role that do
/// not exist are refused at connection time just the same (exit 3); wrong passwords over
/// scram-sha-256 are covered by `crates/dbarch_pg/tests/tls.rs`
/// (`passwords_authenticate_and_never_leak`).
#[tokio::test]
async fn missing_database_and_role_are_database_errors() {
    let server = TestServer::pg18();
    let hba: Vec<String> = {
        let db = server.create_db().await;
        let client = db.client().await;
        client
            .query(
                "SELECT auth_method FROM pg_hba_file_rules WHERE error IS NULL",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect()
    };
    assert!(
        hba.iter().all(|m| m == "trust"),
        "the test server now has password rules ({hba:?}): test a wrong password here"
    );

    let port = server.port();
    let url = format!("postgres://postgres:s3cret@127.0.0.1:{port}/no_such_database_xyz");
    let r = run(&["inspect", "--url", &url]);
    r.code(3);
    let line = r.one_line_error();
    assert!(
        line.contains("no_such_database_xyz"),
        "names the database: {line}"
    );
    assert!(line.contains("does not exist"), "{line}");
    assert!(
        !r.stderr.contains("s3cret"),
        "password leaked: {}",
        r.stderr
    );

    let url = format!("postgres://no_such_role_xyz:s3cret@127.0.0.1:{port}/postgres");
    let r = run(&["review", "--url", &url]);
    r.code(3);
    let line = r.one_line_error();
    assert!(line.contains("no_such_role_xyz"), "names the role: {line}");
    assert!(
        !r.stderr.contains("s3cret"),
        "password leaked: {}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// A server-side SQL error (here: a role that may not create the `vector` extension) is a
/// database error (exit 3), reported once: the step, then PostgreSQL's message (its HINT or
/// DETAIL may follow on lines of their own).
#[tokio::test]
async fn sql_error_is_a_database_error() {
    let db = pg18_db().await;
    let role = format!("{}_plain", db.name);
    let admin = db.client().await;
    admin
        .batch_execute(&format!("CREATE ROLE \"{role}\" LOGIN"))
        .await
        .unwrap();
    let url = format!("postgres://{role}@127.0.0.1:{}/{}", db.port, db.name);
    let r = run(&["example", "load", "--url", &url, "--rows", "10"]);
    let _ = admin
        .batch_execute(&format!("DROP ROLE IF EXISTS \"{role}\""))
        .await;
    r.code(3);
    let mut lines = r.stderr.lines();
    let first = lines.next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{}", r.stderr);
    assert!(first.contains("permission denied"), "{}", r.stderr);
    assert!(
        !first.contains("db error: db error"),
        "a cause is repeated: {first}"
    );
    for more in lines {
        assert!(
            more.starts_with("HINT:") || more.starts_with("DETAIL:"),
            "unexpected stderr line {more:?} in:\n{}",
            r.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The dev server
// ---------------------------------------------------------------------------------------------

#[test]
fn dev_server_lifecycle() {
    let dev = DevProject::new();

    let r = dev.run(&["dev", "status"]);
    r.code(1);
    assert!(r.stdout.starts_with("stopped"), "{}", r.stdout);

    let r = dev.run(&["dev", "url"]);
    r.code(1);
    assert!(r.stdout.is_empty(), "{}", r.stdout);

    dev.run(&["dev", "start"]).code(0);

    let r = dev.run(&["dev", "url"]);
    r.code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {:?}", r.stdout);
    assert!(r.stdout.ends_with('\n'));
    let url = lines[0].to_string();
    let port: u16 = url
        .strip_prefix("postgres://")
        .and_then(|rest| rest.split_once("@127.0.0.1:"))
        .and_then(|(user, rest)| (!user.is_empty()).then_some(rest))
        .and_then(|rest| rest.strip_suffix("/postgres"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not postgres://USER@127.0.0.1:PORT/postgres: {url}"));
    assert!(port > 0);

    let r = dev.run(&["dev", "status"]);
    r.code(0);
    assert!(r.stdout.contains(&url), "{}", r.stdout);

    let r = dev.run(&["dev", "status", "--format", "json"]);
    r.code(0);
    let status = json(&r.stdout);
    assert!(status["version"].is_number(), "{status}");
    assert_eq!(status["status"]["running"], true, "{status}");
    assert_eq!(status["status"]["url"], url.as_str(), "{status}");

    // Idempotent: same server, same URL.
    dev.run(&["dev", "start"]).code(0);
    assert_eq!(dev.run(&["dev", "url"]).code(0).stdout.trim_end(), url);

    // The URL works, and commands without --url use the dev server.
    let r = dev.run(&["inspect", "--url", &url, "--format", "json"]);
    r.code(0);
    assert_eq!(json(&r.stdout)["server"]["database"], "postgres");
    let r = dev.run(&["inspect", "--format", "json"]);
    r.code(0);
    let doc = json(&r.stdout);
    assert_eq!(doc["server"]["database"], "postgres");
    assert!(
        doc["server"]["version"].as_str().unwrap().starts_with("18"),
        "{doc}"
    );

    let r = dev.run(&["dev", "stop"]);
    r.code(0);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    dev.run(&["dev", "status"]).code(1);

    // Reset deletes data: never without --yes when nobody can be asked.
    let r = dev.run(&["dev", "reset"]);
    r.code(2);
    let line = r.one_line_error();
    assert!(line.contains("--yes"), "{line}");
    dev.run(&["dev", "status"]).code(1);
}

// ---------------------------------------------------------------------------------------------
// example, inspect, review
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn example_load_then_inspect_every_format() {
    let db = pg18_db().await;
    let url = db.url();

    run(&["example", "load", "--url", &url, "--rows", "100"]).code(0);

    let r = run(&["example", "load", "--url", &url, "--rows", "100"]);
    r.code(2);
    let line = r.one_line_error();
    assert!(line.contains("already loaded"), "{line}");
    assert!(line.contains("--replace"), "{line}");

    run(&[
        "example",
        "load",
        "--url",
        &url,
        "--rows",
        "100",
        "--replace",
    ])
    .code(0);

    let inspect = |format: &str| {
        let r = run(&["inspect", "--url", &url, "--format", format]);
        r.code(0);
        assert!(!r.stdout.is_empty(), "{format}: empty output");
        r.stdout
    };

    let sql = inspect("sql");
    assert!(sql.contains("CREATE TABLE public.users"), "{sql}");
    assert!(
        sql.contains("CREATE TABLE public.document_embeddings"),
        "{sql}"
    );

    let doc = json(&inspect("json"));
    assert!(doc["version"].is_number(), "{doc}");
    assert_eq!(
        table_names(&doc),
        [
            "public.ai_logs",
            "public.document_chunks",
            "public.document_embeddings",
            "public.documents",
            "public.users"
        ]
    );

    let mermaid = inspect("mermaid");
    assert!(mermaid.starts_with("erDiagram"), "{mermaid}");
    assert!(mermaid.contains("document_chunks"), "{mermaid}");

    let dot = inspect("dot");
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");

    let svg = inspect("svg");
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..svg.len().min(200)]
    );
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(
        svg.matches('<').count(),
        svg.matches('>').count(),
        "unbalanced markup"
    );

    let md = inspect("markdown");
    assert!(md.lines().any(|l| l.starts_with("# ")), "{md}");
    assert!(md.contains("users"), "{md}");
}

#[tokio::test]
async fn inspect_table_and_exclude_filters() {
    let db = example_db().await;
    let url = db.url();

    let r = run(&[
        "inspect", "--url", &url, "--format", "json", "--table", "doc*",
    ]);
    r.code(0);
    assert_eq!(
        table_names(&json(&r.stdout)),
        [
            "public.document_chunks",
            "public.document_embeddings",
            "public.documents"
        ]
    );

    let r = run(&[
        "inspect",
        "--url",
        &url,
        "--format",
        "json",
        "--exclude",
        "ai_logs",
    ]);
    r.code(0);
    let names = table_names(&json(&r.stdout));
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with("ai_logs")), "{names:?}");

    let r = run(&[
        "inspect",
        "--url",
        &url,
        "--format",
        "sql",
        "--exclude",
        "ai_logs",
    ]);
    r.code(0);
    assert!(!r.stdout.contains("ai_logs"), "{}", r.stdout);

    let r = run(&["inspect", "--url", &url, "--table", "["]);
    r.code(2);
    r.one_line_error();
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[tokio::test]
async fn outputs_are_deterministic() {
    let db = example_db().await;
    let url = db.url();
    for args in [
        &["inspect", "--format", "json"][..],
        &["inspect", "--format", "sql"],
        &["inspect", "--format", "svg"],
        &["review", "--format", "json"],
        &["review", "--format", "markdown"],
    ] {
        let mut full = args.to_vec();
        full.extend(["--url", url.as_str()]);
        let a = run(&full);
        a.code(0);
        let b = run(&full);
        b.code(0);
        assert!(
            without_latencies(&a.stdout) == without_latencies(&b.stdout),
            "{args:?}: two runs differ"
        );
    }
}

/// The review's measured latencies (the vector storage section's P50s) vary from run to run;
/// everything else must not.
fn without_latencies(out: &str) -> String {
    if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(out) {
        fn strip(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::Object(m) => {
                    m.retain(|k, _| !k.ends_with("p50_ms"));
                    m.values_mut().for_each(strip);
                }
                serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
                _ => {}
            }
        }
        strip(&mut v);
        return v.to_string();
    }
    let mut in_vector = false;
    out.lines()
        .map(|l| {
            if l.starts_with("## ") {
                in_vector = l == "## Vector storage";
            }
            match l.rfind(" | ") {
                Some(i) if in_vector && l.starts_with("| `") => format!("{} | P50 |", &l[..i]),
                _ => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn review_out_file_and_json() {
    let db = example_db().await;
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("review.md");

    let r = run(&["review", "--url", &url, "--out", file.to_str().unwrap()]);
    r.code(0);
    assert!(
        r.stdout.is_empty(),
        "stdout must be empty with --out: {}",
        r.stdout
    );
    let text = std::fs::read_to_string(&file).expect("the review file");
    assert!(
        text.starts_with("# Database review"),
        "{}",
        &text[..text.len().min(300)]
    );

    let r = run(&["review", "--url", &url, "--out", "/nonexistent-dir/x.md"]);
    r.code(2);
    let line = r.one_line_error();
    assert!(line.contains("/nonexistent-dir/x.md"), "{line}");
    assert!(!Path::new("/nonexistent-dir/x.md").exists());
    assert!(r.stdout.is_empty(), "{}", r.stdout);

    let r = run(&["review", "--url", &url, "--format", "json"]);
    r.code(0);
    let doc = json(&r.stdout);
    assert!(doc["version"].is_number(), "{doc}");
    assert!(
        doc["sections"].as_array().is_some_and(|s| !s.is_empty()),
        "{doc}"
    );
}

#[tokio::test]
async fn broken_pipe_exits_zero() {
    let db = pg18_db().await;
    {
        let client = db.client().await;
        // Enough schema for the DDL to exceed any pipe buffer by far.
        client
            .batch_execute(
                "DO $$ BEGIN
                   FOR i IN 1..400 LOOP
                     EXECUTE format('CREATE TABLE public.wide_table_%s (
                        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        a_rather_long_column_name_one text NOT NULL DEFAULT ''x'',
                        a_rather_long_column_name_two timestamptz NOT NULL DEFAULT now(),
                        a_rather_long_column_name_three numeric(12,4),
                        a_rather_long_column_name_four jsonb,
                        a_rather_long_column_name_five varchar(200) UNIQUE)', i);
                   END LOOP;
                 END $$",
            )
            .await
            .unwrap();
    }
    let url = db.url();
    let args = ["inspect", "--url", url.as_str(), "--format", "sql"];
    let full = run(&args);
    full.code(0);
    assert!(
        full.stdout.len() > 128 * 1024,
        "the output ({} bytes) should exceed the pipe buffer",
        full.stdout.len()
    );

    let dir = project();
    let mut child = dbarch_cmd(dir.path(), &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 16];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let r = Run::from_output(child.wait_with_output().unwrap());
    r.code(0);
    assert!(r.stderr.is_empty(), "nothing on stderr: {}", r.stderr);
}

#[test]
fn example_schema_prints_sql() {
    let r = run(&["example", "schema"]);
    r.code(0);
    assert!(r.stdout.contains("CREATE TABLE"), "{}", r.stdout);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[tokio::test]
async fn inspect_on_postgres_15() {
    let db = TestServer::pg15().create_db().await;
    {
        let client = db.client().await;
        client
            .batch_execute(
                "CREATE TABLE authors (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                       name text NOT NULL);
                 CREATE TABLE books (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                     author_id bigint NOT NULL REFERENCES authors (id),
                                     title text NOT NULL);
                 CREATE INDEX books_author_id_idx ON books (author_id);
                 CREATE VIEW book_titles AS SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id;",
            )
            .await
            .unwrap();
    }
    let url = db.url();
    let r = run(&["inspect", "--url", &url, "--format", "json"]);
    r.code(0);
    let doc = json(&r.stdout);
    assert!(
        doc["server"]["version"].as_str().unwrap().starts_with("15"),
        "{doc}"
    );
    assert_eq!(table_names(&doc), ["public.authors", "public.books"]);

    let r = run(&["inspect", "--url", &url, "--format", "sql"]);
    r.code(0);
    assert!(
        r.stdout.contains("CREATE TABLE public.books"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("books_author_id_idx"), "{}", r.stdout);

    for format in ["mermaid", "markdown"] {
        run(&["inspect", "--url", &url, "--format", format]).code(0);
    }
    let r = run(&["review", "--url", &url, "--format", "json"]);
    r.code(0);
    json(&r.stdout);
}

/// PostgreSQL 15 here has no pgvector: the server lacks what the example needs, which is a
/// database-side error (exit 3) with a message that says so and what to do.
#[tokio::test]
async fn example_load_without_pgvector() {
    let db = TestServer::pg15().create_db().await;
    let r = run(&["example", "load", "--url", &db.url()]);
    r.code(3);
    let line = r.one_line_error();
    assert!(line.contains("pgvector"), "{line}");
    assert!(line.contains("dbarch dev start"), "says what to do: {line}");
    // Nothing was created.
    let client = db.client().await;
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn conninfo_url_works() {
    let db = pg18_db().await;
    {
        let client = db.client().await;
        client
            .batch_execute("CREATE TABLE conninfo_probe (id int PRIMARY KEY)")
            .await
            .unwrap();
    }
    let conninfo = format!(
        "host=127.0.0.1 port={} user=postgres dbname={}",
        db.port, db.name
    );
    let r = run(&["inspect", "--url", &conninfo, "--format", "json"]);
    r.code(0);
    let doc = json(&r.stdout);
    assert_eq!(doc["server"]["database"], db.name.as_str());
    assert_eq!(table_names(&doc), ["public.conninfo_probe"]);
}

// ---------------------------------------------------------------------------------------------
// diff: desired state against live databases and shadow-loaded files
// ---------------------------------------------------------------------------------------------

fn desired_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write sql");
    }
    dir
}

#[tokio::test]
async fn diff_from_empty_plans_the_desired_state_and_exits_1() {
    let desired = desired_dir(&[("schema.sql", dbarch_example::SCHEMA_SQL)]);
    let dir = desired.path().to_str().unwrap();
    let r = run(&["diff", "--from", "empty", "--to", dir]);
    r.code(1);
    assert!(
        r.stdout.contains("CREATE TABLE public.users"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("USING hnsw"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("CREATE SCHEMA"),
        "an empty database has public: {}",
        r.stdout
    );

    let r = run(&["diff", "--from", "empty", "--to", dir, "--format", "json"]);
    r.code(1);
    let doc = json(&r.stdout);
    assert_eq!(doc["version"], 1);
    assert!(!doc["changes"].as_array().unwrap().is_empty());
    assert!(doc["steps"][0]["sql"].is_string());
}

#[tokio::test]
async fn diff_of_a_database_and_its_own_desired_state_is_empty() {
    let db = example_db().await;
    let desired = desired_dir(&[("schema.sql", dbarch_example::SCHEMA_SQL)]);
    let r = run(&[
        "diff",
        "--from",
        &db.url(),
        "--to",
        desired.path().to_str().unwrap(),
    ]);
    r.code(0);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[tokio::test]
async fn diff_applies_and_converges_online() {
    let db = pg18_db().await;
    let client = db.client().await;
    client
        .batch_execute("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
        .await
        .unwrap();
    let desired = desired_dir(&[(
        "t.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, name text NOT NULL, \
         email text);\nCREATE INDEX t_email ON t (email);",
    )]);
    let dir = desired.path().to_str().unwrap();
    let r = run(&["diff", "--from", &db.url(), "--to", dir]);
    r.code(1);
    // Online-safe forms: the index is built concurrently, outside a transaction.
    assert!(
        r.stdout.contains("CREATE INDEX CONCURRENTLY"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("-- dbarch:no-transaction"),
        "{}",
        r.stdout
    );
    // Apply the steps the way psql would (each statement on its own).
    let json_plan =
        json(&run(&["diff", "--from", &db.url(), "--to", dir, "--format", "json"]).stdout);
    for step in json_plan["steps"].as_array().unwrap() {
        client
            .batch_execute(step["sql"].as_str().unwrap())
            .await
            .unwrap_or_else(|e| panic!("step {step} fails: {e}"));
    }
    run(&["diff", "--from", &db.url(), "--to", dir]).code(0);
}

#[tokio::test]
async fn destructive_changes_are_refused_with_the_deprecate_first_path() {
    let db = pg18_db().await;
    db.client()
        .await
        .batch_execute("CREATE TABLE keep (id int PRIMARY KEY); CREATE TABLE old (id int)")
        .await
        .unwrap();
    let desired = desired_dir(&[("keep.sql", "CREATE TABLE keep (id int PRIMARY KEY);")]);
    let dir = desired.path().to_str().unwrap();
    let r = run(&["diff", "--from", &db.url(), "--to", dir]);
    r.code(2);
    assert!(r.stderr.contains("old"), "{}", r.stderr);
    assert!(r.stderr.to_lowercase().contains("deprecat"), "{}", r.stderr);
    let r = run(&[
        "diff",
        "--from",
        &db.url(),
        "--to",
        dir,
        "--allow-destructive",
    ]);
    r.code(1);
    assert!(r.stdout.contains("DROP TABLE public.old"), "{}", r.stdout);
}

#[tokio::test]
async fn renames_are_taken_only_when_confirmed() {
    let db = pg18_db().await;
    db.client()
        .await
        .batch_execute("CREATE TABLE people (id int PRIMARY KEY, full_name text)")
        .await
        .unwrap();
    let desired = desired_dir(&[(
        "people.sql",
        "CREATE TABLE people (id int PRIMARY KEY, display_name text);",
    )]);
    let dir = desired.path().to_str().unwrap();
    // Unconfirmed: a drop + add, which is destructive and refused.
    run(&["diff", "--from", &db.url(), "--to", dir]).code(2);
    let r = run(&[
        "diff",
        "--from",
        &db.url(),
        "--to",
        dir,
        "--rename",
        "public.people.full_name=display_name",
    ]);
    r.code(1);
    assert!(
        r.stdout.contains("RENAME COLUMN full_name TO display_name"),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_desired_state_files_are_input_errors_naming_the_file() {
    let desired = desired_dir(&[("broken.sql", "CREATE TABLE (;")]);
    let r = run(&[
        "diff",
        "--from",
        "empty",
        "--to",
        desired.path().to_str().unwrap(),
    ]);
    r.code(2);
    let line = r.one_line_error();
    assert!(
        line.contains("broken.sql") && line.contains("syntax error"),
        "{line}"
    );

    let r = run(&["diff", "--from", "empty", "--to", "/nonexistent/schema"]);
    r.code(2);
    assert!(r.one_line_error().contains("/nonexistent/schema"));
}

// ---------------------------------------------------------------------------------------------
// lint (schema rules) and review's design findings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lint_reports_the_examples_design_mistakes() {
    let db = example_db().await;
    let url = db.url();
    let r = run(&["lint", "--url", &url]);
    r.code(0); // warnings and notes only: below the default --fail-on error
    assert!(
        r.stdout.contains("warning[S001] foreign-key-without-index"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("idx_users_email"), "{}", r.stdout);
    run(&["lint", "--url", &url, "--fail-on", "warning"]).code(1);

    let r = run(&["lint", "--url", &url, "--format", "json"]);
    r.code(0);
    let doc = json(&r.stdout);
    assert_eq!(doc["version"], 1);
    let codes: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    for code in ["S001", "S003", "S005", "S007", "S008", "S009", "V002"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert!(doc["summary"]["warnings"].as_u64().unwrap() > 0);

    let r = run(&["review", "--url", &url]);
    r.code(0);
    assert!(r.stdout.contains("## Design findings"), "{}", r.stdout);
    // Health does not repeat what the design section already says about the same objects,
    // and a freshly loaded index is not "unused".
    for repeated in ["`H002`", "`H004`", "`H020`", "`H001`"] {
        assert!(
            !r.stdout.contains(repeated),
            "{repeated} repeated:\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout.contains("CREATE INDEX CONCURRENTLY"),
        "{}",
        r.stdout
    );
}

#[test]
fn rules_are_listed_and_explained() {
    let r = run(&["rules"]);
    r.code(0);
    assert!(
        r.stdout.contains("S001  foreign-key-without-index"),
        "{}",
        r.stdout
    );
    let r = run(&["rules", "S003"]);
    r.code(0);
    assert!(
        r.stdout.contains("## Why") && r.stdout.contains("## Instead"),
        "{}",
        r.stdout
    );
    run(&["rules", "foreign-key-without-index"]).code(0);
    let r = run(&["rules", "X999"]);
    r.code(2);
    assert!(r.one_line_error().contains("X999"));
}

#[tokio::test]
async fn diff_replays_migration_directories_in_their_own_format() {
    let dir = tempfile::tempdir().unwrap();
    // sqlx layout, with a no-transaction file that builds an index concurrently.
    std::fs::write(
        dir.path().join("1_init.sql"),
        "CREATE TABLE a (id bigint PRIMARY KEY, v text);",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("2_index.sql"),
        "-- no-transaction\nCREATE INDEX CONCURRENTLY a_v ON a (v);",
    )
    .unwrap();
    let desired = desired_dir(&[(
        "a.sql",
        "CREATE TABLE a (id bigint PRIMARY KEY, v text);\nCREATE INDEX a_v ON a (v);",
    )]);
    let from = format!("migrations:{}", dir.path().display());
    let r = run(&[
        "diff",
        "--from",
        &from,
        "--to",
        desired.path().to_str().unwrap(),
    ]);
    r.code(0);
    let r = run(&[
        "diff",
        "--from",
        &from,
        "--to",
        "empty",
        "--allow-destructive",
    ]);
    r.code(1);
    assert!(r.stdout.contains("DROP TABLE public.a"), "{}", r.stdout);
    assert!(!r.stdout.contains("DROP SCHEMA"), "{}", r.stdout);
}
