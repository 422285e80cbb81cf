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

/// Fixed-seed pseudo-random numbers (xorshift), so that a failure can be replayed.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// 50 migrations, every fourth non-transactional. Each one creates a table with rows and
/// alters and updates the previous table, so that any statement applied twice or lost shows
/// in the schema or the data.
fn fifty_migrations(dir: &Path) {
    for i in 1..=50 {
        let mut sql = String::new();
        if i % 4 == 0 {
            sql.push_str("-- dbarch:no-transaction\n");
        }
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id int PRIMARY KEY, v text NOT NULL);\n\
             INSERT INTO t{i} SELECT g, md5(g::text) FROM generate_series(1, {}) g;\n",
            i * 10
        ));
        if i > 1 {
            let p = i - 1;
            sql.push_str(&format!(
                "ALTER TABLE t{p} ADD COLUMN c{i} int NOT NULL DEFAULT {i};\n\
                 UPDATE t{p} SET v = v || '+{i}' WHERE id % 3 = 0;\n"
            ));
        }
        sql.push_str("SELECT pg_sleep(0.02);\n");
        if i % 4 == 0 {
            // Statement by statement, each recorded with its progress.
            sql.push_str(&format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS t{i}_v ON t{i} (v);\n\
                 INSERT INTO t{i} SELECT -id, v FROM t{i};\n\
                 SELECT pg_sleep(0.03);\n\
                 UPDATE t{i} SET v = upper(v) WHERE id < 0;\n"
            ));
        }
        std::fs::write(dir.join(format!("{i:03}_t{i}.sql")), sql).unwrap();
    }
}

/// What must be equal after an interrupted and an uninterrupted run: the schema (inspect
/// JSON), every table's rows (count and checksum) and the history.
async fn outcome(
    db: &dbarch_testing::TestDb,
    cwd: &Path,
) -> (serde_json::Value, Vec<String>, Vec<String>) {
    let r = run_in(cwd, &["inspect", "--url", &db.url(), "--format", "json"]);
    r.code(0);
    // The model only: the document also names the database.
    let schema = json(&r.stdout)["model"].clone();
    assert!(schema.is_object(), "{}", r.stdout);
    let client = db.client().await;
    let mut data = Vec::new();
    for i in 1..=50 {
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*)::text || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) \
                     FROM t{i} t"
                ),
                &[],
            )
            .await
            .unwrap();
        data.push(format!("t{i}: {}", row.get::<_, String>(0)));
    }
    let history = client
        .query(
            "SELECT format('%s %s %s %s %s', version, name, checksum, success, statements_done) \
             FROM _dbarch.migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (schema, data, history)
}

/// kill -9 at three points of a 50-migration `up` (after a seeded number of migrations, and
/// in the middle of a non-transactional one), then `up` again: the schema, the data and the
/// history equal those of an uninterrupted run on another database. A transactional
/// migration is all or nothing with its history row; a non-transactional one records each
/// statement in the same implicit transaction as the statement.
#[tokio::test]
async fn kill_9_during_up_then_up_again_gives_the_uninterrupted_result() {
    let (db, reference) = (
        TestServer::pg15().create_db().await,
        TestServer::pg15().create_db().await,
    );
    let url = db.url();
    let p = project();
    let m = p.path().join("migrations");
    std::fs::create_dir(&m).unwrap();
    fifty_migrations(&m);
    run_in(p.path(), &["migrate", "up", "--url", &reference.url()]).code(0);

    let c = db.client().await;
    let progress = async || -> (i64, bool) {
        let created: bool = c
            .query_one("SELECT to_regclass('_dbarch.migrations') IS NOT NULL", &[])
            .await
            .unwrap()
            .get(0);
        if !created {
            return (0, false);
        }
        let row = c
            .query_one(
                "SELECT count(*) FILTER (WHERE success), \
                        count(*) FILTER (WHERE NOT success AND statements_done BETWEEN 1 AND 5) > 0 \
                 FROM _dbarch.migrations",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    let mut rng = Seeded(0x5eed_dba7);
    // Kill points: after 3..15 migrations; part-way through a non-transactional migration
    // after 16..30; after 31..45.
    let kills = [
        (3 + rng.below(13) as i64, false),
        (16 + rng.below(15) as i64, true),
        (31 + rng.below(15) as i64, false),
    ];
    for (k, (at, part_way)) in kills.into_iter().enumerate() {
        let mut child = dbarch_cmd(p.path(), &["migrate", "up", "--url", &url])
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        loop {
            let (applied, partial) = progress().await;
            if applied >= at && (!part_way || partial) {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("kill {k}: up ended ({status}) before the kill point {at}/{part_way}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let (applied, _) = progress().await;
        assert!(applied < 50, "kill {k} came after the end");
    }
    run_in(p.path(), &["migrate", "up", "--url", &url]).code(0);

    let (schema, data, history) = outcome(&db, p.path()).await;
    let (schema_ref, data_ref, history_ref) = outcome(&reference, p.path()).await;
    assert_eq!(history.len(), 50);
    assert_eq!(history, history_ref);
    assert_eq!(data, data_ref);
    let (a, b) = (schema.to_string(), schema_ref.to_string());
    if a != b {
        let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let around = |s: &str| s[at.saturating_sub(300)..(at + 300).min(s.len())].to_string();
        panic!(
            "the schemas differ at byte {at}:\n  interrupted: {}\n  reference:   {}",
            around(&a),
            around(&b)
        );
    }
}

/// Ctrl-C while `up` runs a long statement: the statement is cancelled, a transactional
/// migration rolls back (no table, no history row), a non-transactional one keeps what it
/// recorded, exit code 130 with one line saying so, the advisory lock is free, and the next
/// `up` completes.
#[tokio::test]
async fn ctrl_c_during_up_cancels_rolls_back_and_exits_130() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    let c = db.client().await;
    // Migration N sleeps 30 s until the test sets dbarch_test.sleepN to 0 (new sessions
    // read it).
    let sleep = async |n: u32, secs: &str| {
        c.batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET dbarch_test.sleep{n} = '{secs}'",
            db.name
        ))
        .await
        .unwrap();
    };
    sleep(2, "30").await;
    sleep(3, "30").await;
    let p = project();
    let m = p.path().join("migrations");
    std::fs::create_dir(&m).unwrap();
    let slow =
        |n: u32| format!("SELECT pg_sleep(current_setting('dbarch_test.sleep{n}')::float8);");
    std::fs::write(m.join("1_first.sql"), "CREATE TABLE first (x int);").unwrap();
    std::fs::write(
        m.join("2_slow.sql"),
        format!(
            "CREATE TABLE slow (x int);\nINSERT INTO slow VALUES (1);\n{}\n",
            slow(2)
        ),
    )
    .unwrap();
    std::fs::write(
        m.join("3_nontx.sql"),
        format!(
            "-- dbarch:no-transaction\nCREATE TABLE n1 (x int);\n{}\nCREATE TABLE n2 (x int);\n",
            slow(3)
        ),
    )
    .unwrap();

    let interrupt = async || -> Run {
        let child = dbarch_cmd(p.path(), &["migrate", "up", "--url", &url])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Until the sleep is visible in pg_stat_activity.
        loop {
            let sleeping: bool = c
                .query_one(
                    "SELECT EXISTS (SELECT FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid() \
                       AND wait_event = 'PgSleep')",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if sleeping {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let killed = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        Run::from_output(child.wait_with_output().unwrap())
    };
    let exists = async |rel: &str| -> bool {
        c.query_one("SELECT to_regclass($1) IS NOT NULL", &[&rel])
            .await
            .unwrap()
            .get(0)
    };
    let advisory_locks = async || -> i64 {
        c.query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await
        .unwrap()
        .get(0)
    };
    let history = async || -> Vec<(String, bool, i32)> {
        c.query(
            "SELECT version, success, statements_done FROM _dbarch.migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    };

    // A transactional migration: rolled back.
    let r = interrupt().await;
    r.code(130);
    assert!(r.stdout.contains("applied 1 first"), "{}", r.stdout);
    assert_eq!(
        r.stderr.trim(),
        "dbarch: interrupted: migration 2 slow rolled back; nothing of it was applied"
    );
    assert!(exists("first").await && !exists("slow").await);
    assert_eq!(history().await, [("1".to_string(), true, 1)]);
    assert_eq!(advisory_locks().await, 0);

    // A non-transactional migration: the statement before the sleep stays, and is recorded.
    sleep(2, "0").await;
    let r = interrupt().await;
    r.code(130);
    assert!(r.stdout.contains("applied 2 slow"), "{}", r.stdout);
    assert!(
        r.stderr.trim().starts_with(
            "dbarch: interrupted: migration 3 nontx (non-transactional) stopped after statement 1 of 3"
        ) && r.stderr.trim().lines().count() == 1,
        "{}",
        r.stderr
    );
    assert!(exists("n1").await && !exists("n2").await);
    assert_eq!(
        history().await,
        [
            ("1".to_string(), true, 1),
            ("2".to_string(), true, 3),
            ("3".to_string(), false, 1)
        ]
    );
    assert_eq!(advisory_locks().await, 0);

    sleep(3, "0").await;
    let r = run_in(p.path(), &["migrate", "up", "--url", &url]);
    r.code(0);
    assert!(r.stdout.contains("applied 3 nontx"), "{}", r.stdout);
    assert!(exists("n2").await);
    assert_eq!(
        history().await,
        [
            ("1".to_string(), true, 1),
            ("2".to_string(), true, 3),
            ("3".to_string(), true, 3)
        ]
    );
}
