//! End-to-end tests of `dbarch migrate`: real servers (dbarch_testing), a project directory
//! of its own per test, and a child environment without the libpq variables.

use std::path::Path;
use std::process::{Command, Stdio};

use dbarch_testing::TestServer;

mod common;
use common::*;

fn migration_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir.join("migrations")) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn states(doc: &serde_json::Value) -> Vec<String> {
    doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn new_writes_an_up_and_a_down_file() {
    let p = project();
    let r = run_in(p.path(), &["migrate", "new", "Add users"]);
    r.code(0);
    assert!(r.stdout.trim().ends_with("_add_users.sql"), "{}", r.stdout);
    run_in(p.path(), &["migrate", "new", "second"]).code(0);
    let files = migration_files(p.path());
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(files[0].ends_with("_add_users.down.sql") && files[1].ends_with("_add_users.sql"));
    let v1 = &files[0][..14];
    let v2 = &files[2][..14];
    assert!(
        v1.bytes().all(|b| b.is_ascii_digit()) && v2 > v1,
        "{files:?}"
    );
    let r = run_in(p.path(), &["migrate", "new", "!!!"]);
    r.code(2);
}

#[tokio::test]
async fn plan_up_status_verify_drift_and_adopt() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    let p = project();
    std::fs::create_dir(p.path().join("schema")).unwrap();
    std::fs::write(
        p.path().join("schema/schema.sql"),
        "CREATE TABLE public.users (id bigint PRIMARY KEY, email text NOT NULL);\n\
         CREATE INDEX users_email ON public.users (email);\n",
    )
    .unwrap();

    let r = run_in(p.path(), &["migrate", "plan", "init"]);
    r.code(0);
    assert!(r.stdout.trim().ends_with("_init.sql"), "{}", r.stdout);
    let files = migration_files(p.path());
    assert_eq!(files.len(), 2, "{files:?}");
    let up = std::fs::read_to_string(p.path().join("migrations").join(&files[1])).unwrap();
    assert!(up.contains("CREATE TABLE public.users"), "{up}");
    let down = std::fs::read_to_string(p.path().join("migrations").join(&files[0])).unwrap();
    assert!(down.contains("DROP TABLE public.users"), "{down}");

    // Fixpoint: the replayed migration is the desired schema.
    let r = run_in(p.path(), &["migrate", "plan", "again"]);
    r.code(0);
    assert!(
        r.stdout.is_empty() && r.stderr.contains("no migration written"),
        "{r:?}"
    );
    assert_eq!(migration_files(p.path()).len(), 2);

    let r = run_in(p.path(), &["migrate", "up", "--url", &url]);
    r.code(0);
    assert!(
        r.stdout.contains("applied") && r.stdout.contains("init"),
        "{}",
        r.stdout
    );
    let r = run_in(
        p.path(),
        &["migrate", "status", "--url", &url, "--format", "json"],
    );
    r.code(0);
    assert_eq!(states(&json(&r.stdout)), ["applied"]);

    run_in(
        p.path(),
        &["migrate", "verify", "--url", &url, "--roundtrip"],
    )
    .code(0);
    // Planned against the live database: nothing to do either.
    let r = run_in(p.path(), &["migrate", "plan", "--url", &url]);
    r.code(0);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert_eq!(migration_files(p.path()).len(), 2);

    db.client()
        .await
        .batch_execute("ALTER TABLE public.users ADD COLUMN nickname text")
        .await
        .unwrap();
    let r = run_in(p.path(), &["migrate", "verify", "--url", &url]);
    r.code(1);
    assert!(
        r.stdout.contains("drift") && r.stdout.contains("nickname"),
        "{}",
        r.stdout
    );

    let r = run_in(p.path(), &["migrate", "adopt", "--url", &url]);
    r.code(0);
    assert!(
        r.stdout.trim().ends_with("_adopt_drift.sql"),
        "{}",
        r.stdout
    );
    let r = run_in(
        p.path(),
        &["migrate", "status", "--url", &url, "--format", "json"],
    );
    assert_eq!(states(&json(&r.stdout)), ["applied", "applied"]);
    run_in(p.path(), &["migrate", "verify", "--url", &url]).code(0);
}

#[tokio::test]
async fn a_syntax_error_names_the_file_and_keeps_the_history_true() {
    let db = TestServer::pg15().create_db().await;
    let url = db.url();
    let p = project();
    let m = p.path().join("migrations");
    std::fs::create_dir(&m).unwrap();
    std::fs::write(m.join("20250101000000_ok.sql"), "CREATE TABLE ok (x int);").unwrap();
    std::fs::write(m.join("20250101000000_ok.down.sql"), "DROP TABLE ok;").unwrap();
    std::fs::write(
        m.join("20250102000000_bad.sql"),
        "CREATE TABLE half (x int);\nCREAT TABLE oops ();\n",
    )
    .unwrap();
    let r = run_in(p.path(), &["migrate", "up", "--url", &url]);
    r.code(3);
    assert!(
        r.stderr.contains("20250102000000_bad.sql") && r.stderr.contains("syntax error"),
        "{}",
        r.stderr
    );
    let r = run_in(
        p.path(),
        &["migrate", "status", "--url", &url, "--format", "json"],
    );
    assert_eq!(states(&json(&r.stdout)), ["applied", "pending"]);
    let half: bool = db
        .client()
        .await
        .query_one("SELECT to_regclass('half') IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!half, "the failed migration left nothing");

    // down: a missing down file is an input error naming it.
    std::fs::remove_file(m.join("20250102000000_bad.sql")).unwrap();
    run_in(p.path(), &["migrate", "down", "--url", &url]).code(2);
    let r = run_in(
        p.path(),
        &["migrate", "down", "--url", &url, "--steps", "1"],
    );
    r.code(0);
    assert!(
        r.stdout.contains("reverted 20250101000000 ok"),
        "{}",
        r.stdout
    );
    let r = run_in(p.path(), &["migrate", "status", "--url", &url]);
    r.code(0);
    assert!(r.stdout.contains("pending"), "{}", r.stdout);
}

#[tokio::test]
async fn eight_concurrent_up_processes_apply_each_migration_once() {
    let db = TestServer::pg15().create_db().await;
    let url = db.url();
    let p = project();
    let m = p.path().join("migrations");
    std::fs::create_dir(&m).unwrap();
    // Each fails if run twice.
    std::fs::write(m.join("1_t.sql"), "CREATE TABLE t (x int PRIMARY KEY);").unwrap();
    std::fs::write(
        m.join("2_idx.sql"),
        "-- dbarch:no-transaction\nCREATE INDEX CONCURRENTLY t_x ON t (x);\nINSERT INTO t VALUES (1);",
    )
    .unwrap();
    std::fs::write(m.join("3_u.sql"), "CREATE TABLE u ();").unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (dir, url) = (p.path().to_path_buf(), url.clone());
            std::thread::spawn(move || run_in(&dir, &["migrate", "up", "--url", &url]))
        })
        .collect();
    let mut applied = 0;
    for t in threads {
        let r = t.join().unwrap();
        r.code(0);
        applied += r.stdout.matches("applied ").count();
    }
    assert_eq!(applied, 3, "each migration applied by exactly one process");
    let c = db.client().await;
    let n: i64 = c
        .query_one("SELECT count(*) FROM _dbarch.migrations WHERE success", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
}

/// kill -9 at random points of `up`, then `up` again: the result equals an uninterrupted run
/// (a transactional migration is all or nothing with its history row; a non-transactional
/// one records each statement in the same implicit transaction as the statement).
#[tokio::test]
async fn kill_9_during_up_then_up_again_gives_the_uninterrupted_result() {
    let db = TestServer::pg15().create_db().await;
    let url = db.url();
    let p = project();
    let m = p.path().join("migrations");
    std::fs::create_dir(&m).unwrap();
    const N: i64 = 30;
    for i in 1..=N {
        let mut sql = format!(
            "CREATE TABLE t{i} (x int);\nINSERT INTO t{i} SELECT generate_series(1, {i});\n\
             SELECT pg_sleep(0.03);\n"
        );
        if i % 5 == 0 {
            // Non-transactional: statement by statement, progress recorded with each one.
            sql = format!(
                "-- dbarch:no-transaction\n{sql}\
                 CREATE INDEX CONCURRENTLY IF NOT EXISTS t{i}_x ON t{i} (x);\n\
                 INSERT INTO t{i} SELECT -x FROM t{i};\n"
            );
        }
        std::fs::write(m.join(format!("{i:03}_t{i}.sql")), sql).unwrap();
    }
    let c = db.client().await;
    let mut finished = false;
    let mut interrupted = 0;
    for round in 0..60 {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbarch"));
        cmd.args(["migrate", "up", "--url", &url])
            .current_dir(p.path())
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        if round < 8 {
            std::thread::sleep(std::time::Duration::from_millis(20 + fastrand_ms(round)));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                let done: i64 = c
                    .query_one(
                        "SELECT CASE WHEN to_regclass('_dbarch.migrations') IS NULL THEN 0 \
                         ELSE (SELECT count(*) FROM _dbarch.migrations) END",
                        &[],
                    )
                    .await
                    .unwrap()
                    .get(0);
                if done > 0 && done < N {
                    interrupted += 1;
                }
                continue;
            }
        }
        let status = child.wait().unwrap();
        assert!(status.success(), "round {round}: {status}");
        finished = true;
        break;
    }
    assert!(finished);
    assert!(interrupted > 0, "no kill landed in the middle of the run");
    let n: i64 = c
        .query_one("SELECT count(*) FROM _dbarch.migrations WHERE success", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, N);
    for i in 1..=N {
        let rows: i64 = c
            .query_one(&format!("SELECT count(*) FROM t{i}"), &[])
            .await
            .unwrap()
            .get(0);
        let expected = if i % 5 == 0 { 2 * i } else { i };
        assert_eq!(rows, expected, "t{i}");
    }
}

/// A spread of kill delays without a random number crate: 0..250 ms.
fn fastrand_ms(round: u64) -> u64 {
    (round * 7919 + 104_729) % 250
}
