//! End-to-end tests of `dbarch migrate backfill`: real servers (dbarch_testing), a project
//! directory of its own per test, and a child environment without the libpq variables.

use dbarch_testing::TestServer;
use std::process::Stdio;
use std::time::Duration;

mod common;
use common::*;

async fn counts(db: &dbarch_testing::TestDb) -> Vec<(i32, i64)> {
    db.client()
        .await
        .query("SELECT n, count(*) FROM items GROUP BY n ORDER BY n", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn runs_prints_a_summary_and_a_second_run_is_finished() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, flag boolean);
             INSERT INTO items (id, flag) SELECT g, g % 2 = 0 FROM generate_series(1, 3000) g;",
        )
        .await
        .unwrap();
    let p = project();
    let args = [
        "migrate",
        "backfill",
        "--url",
        &url,
        "--table",
        "items",
        "--set",
        "n = n + 1",
        "--where",
        "flag",
        "--batch",
        "500",
        "--sleep",
        "0",
    ];
    let r = run_in(p.path(), &args);
    r.code(0);
    assert!(
        r.stderr
            .contains("finished: 1500 rows of public.items updated in 3 batches"),
        "{}",
        r.stderr
    );
    assert_eq!(counts(&db).await, vec![(0, 1500), (1, 1500)]);

    let r = run_in(p.path(), &args);
    r.code(0);
    assert!(r.stderr.contains("already finished"), "{}", r.stderr);
    assert_eq!(counts(&db).await, vec![(0, 1500), (1, 1500)]);

    // -q: nothing on stderr.
    let r = run_in(
        p.path(),
        &[
            "-q", "migrate", "backfill", "--url", &url, "--table", "items", "--set", "n = 5",
            "--name", "five",
        ],
    );
    r.code(0);
    assert_eq!(r.stderr, "");
    assert_eq!(counts(&db).await, vec![(5, 3000)]);
}

#[tokio::test]
async fn errors_have_their_exit_codes() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);
             CREATE TABLE nokey (n int);",
        )
        .await
        .unwrap();
    let p = project();
    let base = ["migrate", "backfill", "--url", &url];
    let with = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        run_in(p.path(), &a)
    };
    let r = with(&["--table", "items", "--set", "missing = 1"]);
    r.code(2);
    assert!(r.one_line_error().contains("missing"), "{}", r.stderr);
    let r = with(&["--table", "nope", "--set", "n = 1"]);
    r.code(2);
    assert!(
        r.one_line_error().contains("does not exist"),
        "{}",
        r.stderr
    );
    let r = with(&["--table", "nokey", "--set", "n = 1"]);
    r.code(2);
    assert!(
        r.one_line_error().contains("no primary key"),
        "{}",
        r.stderr
    );
    let r = with(&["--table", "items", "--set", "n = 1", "--sleep", "soon"]);
    r.code(2);
    let r = run_in(
        p.path(),
        &[
            "migrate",
            "backfill",
            "--url",
            "postgres://postgres@127.0.0.1:1/none",
            "--table",
            "items",
            "--set",
            "n = 1",
        ],
    );
    r.code(3);
}

#[tokio::test]
async fn ctrl_c_stops_between_batches_and_a_rerun_continues() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);
             INSERT INTO items (id) SELECT g FROM generate_series(1, 2000) g;",
        )
        .await
        .unwrap();
    let p = project();
    let args = [
        "migrate",
        "backfill",
        "--url",
        &url,
        "--table",
        "items",
        "--set",
        "n = n + 1",
        "--batch",
        "100",
        "--sleep",
        "200ms",
    ];
    let child = dbarch_cmd(p.path(), &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let r = Run::from_output(child.wait_with_output().unwrap());
    r.code(130);
    assert!(r.stderr.contains("stopped"), "{}", r.stderr);
    let c = counts(&db).await;
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(c[1].0 == 1 && c[1].1 > 0 && c[1].1 % 100 == 0, "{c:?}");

    let r = run_in(p.path(), &args);
    r.code(0);
    assert!(r.stderr.contains("finished"), "{}", r.stderr);
    assert_eq!(counts(&db).await, vec![(1, 2000)]);
}
