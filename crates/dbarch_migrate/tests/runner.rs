//! The runner against real PostgreSQL servers (dbarch_testing): history, failures, resume,
//! down, concurrency, lock_timeout retries, imported histories, orphans.

use dbarch_migrate::{DownTarget, Error, Migration, Options, State, load, runner};
use dbarch_testing::{TestDb, TestServer};
use std::path::Path;
use std::time::{Duration, Instant};

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// A migrations directory holding `files`, loaded (the directory lives as long as the guard).
fn migrations(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<Migration>) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    let ms = load(dir.path()).unwrap();
    (dir, ms)
}

fn quick() -> Options {
    Options {
        lock_timeout: Duration::from_millis(300),
        retry_backoff: Duration::from_millis(100),
        ..Options::default()
    }
}

async fn history(db: &TestDb) -> Vec<(String, bool, i32)> {
    db.client()
        .await
        .query(
            "SELECT version, success, statements_done FROM _dbarch.migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

async fn exists(db: &TestDb, relation: &str) -> bool {
    db.client()
        .await
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&relation])
        .await
        .unwrap()
        .get(0)
}

fn versions(done: &[runner::Done]) -> Vec<&str> {
    done.iter().map(|d| d.version.as_str()).collect()
}

#[tokio::test]
async fn up_to_is_inclusive_then_down_by_steps_to_and_all() {
    let db = TestServer::pg18().create_db().await;
    let (_dir, ms) = migrations(&[
        ("1_a.sql", "CREATE TABLE a (x int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.sql", "CREATE TABLE b (x int);"),
        ("2_b.down.sql", "DROP TABLE b;"),
        ("3_c.sql", "CREATE TABLE c (x int);"),
        ("3_c.down.sql", "DROP TABLE c;"),
    ]);
    let c = db.client().await;
    let planned = runner::up(&c, &ms, None, true, &quick()).await.unwrap();
    assert_eq!(versions(&planned), ["1", "2", "3"]);
    assert!(
        !exists(&db, "_dbarch.migrations").await,
        "a dry run writes nothing"
    );

    let done = runner::up(&c, &ms, Some("2"), false, &quick())
        .await
        .unwrap();
    assert_eq!(versions(&done), ["1", "2"]);
    assert!(exists(&db, "b").await && !exists(&db, "c").await);
    let done = runner::up(&c, &ms, None, false, &quick()).await.unwrap();
    assert_eq!(versions(&done), ["3"]);
    assert!(
        runner::up(&c, &ms, None, false, &quick())
            .await
            .unwrap()
            .is_empty()
    );

    let undone = runner::down(&c, &ms, &DownTarget::Steps(1), &quick())
        .await
        .unwrap();
    assert_eq!(versions(&undone), ["3"]);
    assert!(!exists(&db, "c").await);
    let undone = runner::down(&c, &ms, &DownTarget::To("1".into()), &quick())
        .await
        .unwrap();
    assert_eq!(versions(&undone), ["2"]);
    assert_eq!(history(&db).await, [("1".to_string(), true, 1)]);
    runner::down(&c, &ms, &DownTarget::All, &quick())
        .await
        .unwrap();
    assert!(history(&db).await.is_empty());
    assert!(!exists(&db, "a").await);
}

#[tokio::test]
async fn a_missing_down_file_is_named_and_nothing_runs() {
    let db = TestServer::pg15().create_db().await;
    let (_dir, ms) = migrations(&[
        ("1_a.sql", "CREATE TABLE a (x int);"),
        ("2_b.sql", "CREATE TABLE b (x int);"),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    let c = db.client().await;
    runner::up(&c, &ms, None, false, &quick()).await.unwrap();
    let e = runner::down(&c, &ms, &DownTarget::All, &quick())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::MissingDown { .. }), "{e}");
    assert!(e.to_string().contains("1_a.down.sql"), "{e}");
    assert_eq!(history(&db).await.len(), 2, "nothing was reverted");
    assert!(exists(&db, "b").await);
}

#[tokio::test]
async fn a_failed_transactional_migration_leaves_nothing() {
    let db = TestServer::pg18().create_db().await;
    let (_dir, ms) = migrations(&[
        ("1_a.sql", "CREATE TABLE a (x int);"),
        ("2_b.sql", "CREATE TABLE b (x int);\nSELECT 1/0;\n"),
    ]);
    let c = db.client().await;
    let e = runner::up(&c, &ms, None, false, &quick())
        .await
        .unwrap_err();
    match &e {
        Error::Migration {
            version, statement, ..
        } => assert_eq!((version.as_str(), *statement), ("2", 2)),
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("2_b.sql") && e.to_string().contains("division by zero"));
    assert!(!exists(&db, "b").await);
    assert_eq!(history(&db).await, [("1".to_string(), true, 1)]);
}

#[tokio::test]
async fn a_failed_non_transactional_migration_is_recorded_and_resumes() {
    let db = TestServer::pg18().create_db().await;
    let dir = tempfile::tempdir().unwrap();
    let broken = "-- dbarch:no-transaction\nCREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\n\
                  INSERT INTO nope VALUES (2);\nCREATE INDEX CONCURRENTLY a_x ON a (x);\n";
    write(dir.path(), &[("1_a.sql", broken)]);
    let c = db.client().await;
    let ms = load(dir.path()).unwrap();
    let e = runner::up(&c, &ms, None, false, &quick())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Migration { statement: 3, .. }), "{e}");
    assert_eq!(history(&db).await, [("1".to_string(), false, 2)]);
    let status = runner::status(&c, &ms).await.unwrap();
    assert_eq!(status[0].state, State::Failed);

    write(dir.path(), &[("1_a.sql", &broken.replace("nope", "a"))]);
    let ms = load(dir.path()).unwrap();
    runner::up(&c, &ms, None, false, &quick()).await.unwrap();
    assert_eq!(history(&db).await, [("1".to_string(), true, 4)]);
    let rows: i64 = c
        .query_one("SELECT count(*) FROM a", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        rows, 2,
        "the statements before the failure did not run twice"
    );
    assert!(exists(&db, "a_x").await);
    assert_eq!(
        runner::status(&c, &ms).await.unwrap()[0].state,
        State::Applied
    );
}

#[tokio::test]
async fn an_edited_applied_migration_is_a_checksum_mismatch() {
    let db = TestServer::pg15().create_db().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("1_a.sql", "CREATE TABLE a (x int);")]);
    let c = db.client().await;
    runner::up(&c, &load(dir.path()).unwrap(), None, false, &quick())
        .await
        .unwrap();
    write(dir.path(), &[("1_a.sql", "CREATE TABLE a (x bigint);")]);
    let ms = load(dir.path()).unwrap();
    let status = runner::status(&c, &ms).await.unwrap();
    assert_eq!(status[0].state, State::ChecksumMismatch);
    let e = runner::up(&c, &ms, None, false, &quick())
        .await
        .unwrap_err();
    assert!(e.is_input() && e.to_string().contains("edited"), "{e}");
}

#[tokio::test]
async fn concurrent_runs_apply_each_migration_once() {
    let db = TestServer::pg18().create_db().await;
    let dir = tempfile::tempdir().unwrap();
    // Each would fail if it ran twice.
    write(
        dir.path(),
        &[
            (
                "1_t.sql",
                "CREATE TABLE t (x int PRIMARY KEY);\nINSERT INTO t VALUES (1);",
            ),
            (
                "2_idx.sql",
                "-- dbarch:no-transaction\nCREATE INDEX CONCURRENTLY t_idx ON t (x);",
            ),
            (
                "3_more.sql",
                "INSERT INTO t VALUES (2);\nCREATE TABLE u ();",
            ),
        ],
    );
    let ms = std::sync::Arc::new(load(dir.path()).unwrap());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = db.client().await;
        let ms = ms.clone();
        tasks.push(tokio::spawn(async move {
            runner::up(&client, &ms, None, false, &quick())
                .await
                .map(|d| d.len())
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap().unwrap();
    }
    assert_eq!(total, 3, "each migration applied by exactly one run");
    assert_eq!(history(&db).await.len(), 3);
    let rows: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn lock_timeout_gives_up_retries_and_succeeds_after_release() {
    let db = TestServer::pg18().create_db().await;
    let setup = db.client().await;
    setup.batch_execute("CREATE TABLE t (x int)").await.unwrap();
    let (dir, ms) = migrations(&[("1_alter.sql", "ALTER TABLE t ADD COLUMN y int;")]);

    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        holder.batch_execute("COMMIT").await.unwrap();
    });
    let c = db.client().await;
    let opts = Options {
        lock_retries: 10,
        ..quick()
    };
    let start = Instant::now();
    runner::up(&c, &ms, None, false, &opts).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(1400),
        "it waited for the holder"
    );
    release.await.unwrap();
    assert_eq!(history(&db).await, [("1".to_string(), true, 1)]);

    // A lock that never clears: a clear error naming the migration and the holder.
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    write(
        dir.path(),
        &[("2_alter.sql", "ALTER TABLE t ADD COLUMN z int;")],
    );
    let ms = load(dir.path()).unwrap();
    let opts = Options {
        lock_retries: 2,
        ..quick()
    };
    let e = runner::up(&c, &ms, None, false, &opts).await.unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::LockTimeout { tries: 3, .. }), "{msg}");
    assert!(
        msg.contains("migration 2") && msg.contains("AccessExclusiveLock on t"),
        "{msg}"
    );
    assert_eq!(history(&db).await.len(), 1);
}

#[tokio::test]
async fn sqlx_history_is_imported() {
    let db = TestServer::pg15().create_db().await;
    let c = db.client().await;
    c.batch_execute(
        "CREATE TABLE a (x int);
         CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL,
             installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL,
             checksum bytea NOT NULL, execution_time bigint NOT NULL);
         INSERT INTO _sqlx_migrations VALUES (1, 'a', now(), true, '\\x00', 1);",
    )
    .await
    .unwrap();
    let (_dir, ms) = migrations(&[
        ("0001_a.sql", "CREATE TABLE a (x int);"),
        ("0002_b.sql", "CREATE TABLE b (x int);"),
    ]);
    let status = runner::status(&c, &ms).await.unwrap();
    assert_eq!(
        status.iter().map(|s| s.state).collect::<Vec<_>>(),
        [State::Applied, State::Pending]
    );
    let done = runner::up(&c, &ms, None, false, &quick()).await.unwrap();
    assert_eq!(versions(&done), ["0002"]);
    let note: String = c
        .query_one(
            "SELECT note FROM _dbarch.migrations WHERE version = '0001'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(note, "imported from _sqlx_migrations");
}

#[tokio::test]
async fn baseline_marks_without_running() {
    let db = TestServer::pg15().create_db().await;
    let (_dir, ms) = migrations(&[
        ("1_a.sql", "SELECT 1/0;"),
        ("2_b.sql", "CREATE TABLE b ();"),
    ]);
    let c = db.client().await;
    let done = runner::baseline(&c, &ms, "1", &quick()).await.unwrap();
    assert_eq!(versions(&done), ["1"]);
    runner::up(&c, &ms, None, false, &quick()).await.unwrap();
    assert!(exists(&db, "b").await);
    assert!(
        runner::baseline(&c, &ms, "7", &quick())
            .await
            .unwrap_err()
            .is_input()
    );
}

#[tokio::test]
async fn an_orphaned_runner_session_is_ended() {
    let db = TestServer::pg18().create_db().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("1_a.sql", "CREATE TABLE a ();")]);
    let ms = load(dir.path()).unwrap();
    // A runner whose client hangs: it holds the migration lock, idle in a transaction.
    let orphan = db.client().await;
    orphan
        .batch_execute(&format!(
            "SET application_name = 'dbarch-migrate'; BEGIN; SELECT pg_advisory_lock({})",
            dbarch_migrate::lock::LOCK_KEY
        ))
        .await
        .unwrap();
    let c = db.client().await;
    let opts = Options {
        orphan_after: Duration::from_millis(500),
        ..quick()
    };
    runner::up(&c, &ms, None, false, &opts).await.unwrap();
    assert!(exists(&db, "a").await);
    assert!(
        orphan.batch_execute("SELECT 1").await.is_err(),
        "the orphan was ended"
    );

    // A hung runner idle outside a transaction, holding the session lock.
    write(dir.path(), &[("2_b.sql", "CREATE TABLE b ();")]);
    let ms = load(dir.path()).unwrap();
    let orphan = db.client().await;
    orphan
        .batch_execute(&format!(
            "SET application_name = 'dbarch-migrate'; SELECT pg_advisory_lock({})",
            dbarch_migrate::lock::LOCK_KEY
        ))
        .await
        .unwrap();
    // Another client idle with the same name but without the lock is left alone.
    let bystander = db.client().await;
    bystander
        .batch_execute("SET application_name = 'dbarch-migrate'")
        .await
        .unwrap();
    runner::up(&c, &ms, None, false, &opts).await.unwrap();
    assert!(exists(&db, "b").await);
    assert!(
        orphan.batch_execute("SELECT 1").await.is_err(),
        "the orphan was ended"
    );
    bystander.batch_execute("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn an_invalid_index_from_a_failed_concurrent_build_is_rebuilt() {
    let db = TestServer::pg18().create_db().await;
    let setup = db.client().await;
    setup
        .batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (1)")
        .await
        .unwrap();
    let (_dir, ms) = migrations(&[(
        "1_u.sql",
        "-- dbarch:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_u ON t (x);",
    )]);
    let c = db.client().await;
    let e = runner::up(&c, &ms, None, false, &quick())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("could not create unique index"),
        "{e}"
    );
    let valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_u'::regclass";
    let v: bool = setup.query_one(valid, &[]).await.unwrap().get(0);
    assert!(!v, "the failed build left an INVALID index");
    setup
        .batch_execute("DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t)")
        .await
        .unwrap();
    runner::up(&c, &ms, None, false, &quick()).await.unwrap();
    let v: bool = setup.query_one(valid, &[]).await.unwrap().get(0);
    assert!(v, "rebuilt, not skipped by IF NOT EXISTS");
    assert_eq!(history(&db).await, [("1".to_string(), true, 1)]);
}

#[tokio::test]
async fn golang_migrate_history_is_imported() {
    let db = TestServer::pg15().create_db().await;
    let c = db.client().await;
    c.batch_execute(
        "CREATE TABLE a (); CREATE TABLE b ();
         CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (2, false);",
    )
    .await
    .unwrap();
    let (_dir, ms) = migrations(&[
        ("1_a.up.sql", "CREATE TABLE a ();"),
        ("2_b.up.sql", "CREATE TABLE b ();"),
        ("3_c.up.sql", "CREATE TABLE c ();"),
    ]);
    let done = runner::up(&c, &ms, None, false, &quick()).await.unwrap();
    assert_eq!(
        versions(&done),
        ["3"],
        "1 and 2 are applied according to golang-migrate"
    );
    assert_eq!(history(&db).await.len(), 3);
}

#[tokio::test]
async fn roundtrip_finds_a_down_that_forgets_something() {
    let server = TestServer::pg18();
    let (_dir, ms) = migrations(&[
        ("1_a.sql", "CREATE TABLE a (x int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.sql",
            "CREATE TABLE b (x int);\nALTER TABLE a ADD COLUMN forgotten int;",
        ),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    let discover = dbarch_pg::DiscoverOptions {
        pg_bin: Some(server.install().bin_dir.clone()),
        major: None,
        require_pgvector: false,
        provision: false,
    };
    let (failures, shadow) = dbarch_migrate::replay::roundtrip(&ms, Some(18), &discover)
        .await
        .unwrap();
    shadow.stop().await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        (failures[0].version.as_str(), failures[0].step),
        ("2", "down")
    );
    assert!(
        failures[0].changes.iter().any(|c| c.contains("forgotten")),
        "{failures:?}"
    );
}

#[tokio::test]
async fn readers_never_queue_behind_a_waiting_migration_for_longer_than_lock_timeout() {
    let db = TestServer::pg18().create_db().await;
    let setup = db.client().await;
    setup.batch_execute("CREATE TABLE t (x int)").await.unwrap();
    let (_dir, ms) = migrations(&[("1_alter.sql", "ALTER TABLE t ADD COLUMN y int;")]);
    // A long transaction that read t: the ALTER's ACCESS EXCLUSIVE request waits for it, and
    // every later reader of t queues behind that request.
    let long = db.client().await;
    long.batch_execute("BEGIN; SELECT count(*) FROM t")
        .await
        .unwrap();
    let c = db.client().await;
    let opts = Options {
        lock_retries: 20,
        ..quick()
    };
    let migrate = tokio::spawn(async move { runner::up(&c, &ms, None, false, &opts).await });
    let reader = db.client().await;
    let mut worst = Duration::ZERO;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        let t = Instant::now();
        reader
            .batch_execute("SELECT count(*) FROM t")
            .await
            .unwrap();
        worst = worst.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    long.batch_execute("COMMIT").await.unwrap();
    migrate.await.unwrap().unwrap();
    // lock_timeout is 300 ms; allow for scheduling on a loaded machine.
    assert!(
        worst < Duration::from_millis(800),
        "a reader waited {worst:?}"
    );
    assert_eq!(history(&db).await, [("1".to_string(), true, 1)]);
}

#[tokio::test]
async fn flyway_and_diesel_histories_are_imported() {
    // Flyway: dotted versions match `V1_1__x.sql`; failed and undo rows are not applied.
    let db = TestServer::pg15().create_db().await;
    let c = db.client().await;
    c.batch_execute(
        "CREATE TABLE a ();
         CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version text,
             description text, type text NOT NULL, script text, checksum int,
             installed_by text, installed_on timestamp DEFAULT now(), execution_time int,
             success boolean NOT NULL);
         INSERT INTO flyway_schema_history VALUES
             (1, '1.1', 'a', 'SQL', 'V1_1__a.sql', 0, 'x', now(), 1, true),
             (2, '1.2', 'b', 'SQL', 'V1_2__b.sql', 0, 'x', now(), 1, false);",
    )
    .await
    .unwrap();
    let (_dir, ms) = migrations(&[
        ("V1_1__a.sql", "CREATE TABLE a ();"),
        ("V1_2__b.sql", "CREATE TABLE b ();"),
    ]);
    let done = runner::up(&c, &ms, None, false, &quick()).await.unwrap();
    assert_eq!(versions(&done), ["1.2"]);

    // diesel: versions recorded without their dashes.
    let db = TestServer::pg15().create_db().await;
    let c = db.client().await;
    c.batch_execute(
        "CREATE TABLE a ();
         CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY,
             run_on timestamp NOT NULL DEFAULT now());
         INSERT INTO __diesel_schema_migrations (version) VALUES ('20240101000000');",
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (d, sql) in [
        ("2024-01-01-000000_a", "CREATE TABLE a ();"),
        ("2024-01-02-000000_b", "CREATE TABLE b ();"),
    ] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
        std::fs::write(dir.path().join(d).join("up.sql"), sql).unwrap();
    }
    let ms = load(dir.path()).unwrap();
    let done = runner::up(&c, &ms, None, false, &quick()).await.unwrap();
    assert_eq!(versions(&done), ["20240102000000"]);
}
