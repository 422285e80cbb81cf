//! End-to-end tests of `dbarch migrate plan --online` (expand/contract) on PostgreSQL 18 with
//! rows: expand applied, old and new application versions writing side by side, contract,
//! the desired schema reached, down scripts, and a kill -9 during the expand's backfill.

use std::path::Path;
use std::process::Stdio;

use dbarch_testing::{TestDb, TestServer};

mod common;
use common::*;

const V1: &str = "\
CREATE TABLE public.users (id bigint PRIMARY KEY, name text NOT NULL, score integer);
CREATE INDEX users_name_idx ON public.users (name);
CREATE TABLE public.events (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0, note text,
    CONSTRAINT events_n_check CHECK (n >= 0));
CREATE INDEX events_n_idx ON public.events (n) WHERE n > 10;
";

const V2: &str = "\
CREATE TABLE public.users (id bigint PRIMARY KEY, full_name text NOT NULL, score integer);
CREATE INDEX users_name_idx ON public.users (full_name);
CREATE TABLE public.events (id bigint PRIMARY KEY, n bigint NOT NULL DEFAULT 0, note text,
    CONSTRAINT events_n_check CHECK (n >= 0));
CREATE INDEX events_n_idx ON public.events (n) WHERE n > 10;
";

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("migrations"))
        .map(|e| {
            e.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("migrations").join(name)).unwrap()
}

/// A project at schema V1, applied to `db`, with `rows` rows in each table.
async fn at_v1(db: &TestDb, rows: i64) -> tempfile::TempDir {
    let p = project();
    for (dir, sql) in [("schema", V1), ("schema_v1", V1), ("schema_v2", V2)] {
        std::fs::create_dir(p.path().join(dir)).unwrap();
        std::fs::write(p.path().join(dir).join("schema.sql"), sql).unwrap();
    }
    run_in(p.path(), &["migrate", "plan", "init"]).code(0);
    run_in(p.path(), &["migrate", "up", "--url", &db.url()]).code(0);
    db.client()
        .await
        .execute(
            "INSERT INTO public.users SELECT i, 'user ' || i, i % 100 FROM generate_series(1, $1::bigint) i;
             ",
            &[&rows],
        )
        .await
        .unwrap();
    db.client()
        .await
        .execute(
            "INSERT INTO public.events SELECT i, i % 1000, 'e' FROM generate_series(1, $1::bigint) i",
            &[&rows],
        )
        .await
        .unwrap();
    std::fs::write(p.path().join("schema/schema.sql"), V2).unwrap();
    p
}

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    db.client().await.query_one(sql, &[]).await.unwrap().get(0)
}

async fn columns(db: &TestDb, table: &str) -> Vec<String> {
    db.client()
        .await
        .query(
            "SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attname",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Old and new application versions writing at once: the old one through `users.name` and
/// `events.n`, the new one through `users.full_name` and `events.n_dbarch_new` (the bigint
/// column), inserts and updates, 4 sessions.
async fn old_and_new_apps_write(db: &TestDb, rows: i64, base: i64) {
    let mut tasks = Vec::new();
    for w in 0..4i64 {
        let c = db.client().await;
        tasks.push(tokio::spawn(async move {
            let new = w % 2 == 1;
            for k in 0..150i64 {
                let id = 1 + (k * 37 + w * 11) % rows;
                let fresh = base + w * 1000 + k;
                let sql = if new {
                    format!(
                        "UPDATE public.users SET full_name = 'new {k}' WHERE id = {id};
                         INSERT INTO public.users (id, full_name, score) VALUES ({fresh}, 'new ins {k}', 1);
                         UPDATE public.events SET n_dbarch_new = {} WHERE id = {id};
                         INSERT INTO public.events (id, n_dbarch_new, note) VALUES ({fresh}, {k}, 'new');
                         UPDATE public.users SET score = score + 1 WHERE id = {id}",
                        2000 + k
                    )
                } else {
                    format!(
                        "UPDATE public.users SET name = 'old {k}' WHERE id = {id};
                         INSERT INTO public.users (id, name) VALUES ({fresh}, 'old ins {k}');
                         UPDATE public.events SET n = {} WHERE id = {id};
                         INSERT INTO public.events (id, note) VALUES ({fresh}, 'old');
                         UPDATE public.events SET note = 'touched' WHERE id = {id}",
                        3000 + k
                    )
                };
                c.batch_execute(&sql).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn version_of(file: &str) -> &str {
    &file[..14]
}

#[tokio::test]
async fn expand_contract_of_a_rename_and_a_type_change_keeps_old_and_new_in_sync() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    let rows = 3000;
    let p = at_v1(&db, rows).await;
    let r = run_in(
        p.path(),
        &[
            "migrate",
            "plan",
            "--online",
            "--rename",
            "public.users.name=full_name",
            "online",
        ],
    );
    r.code(0);
    assert!(
        r.stderr
            .contains("expand/contract: rename column public.users.name")
            && r.stderr
                .contains("expand/contract: change type of public.events.n"),
        "{}",
        r.stderr
    );
    let all = files(p.path());
    assert_eq!(all.len(), 6, "{all:?}");
    let (expand, contract) = (&all[3], &all[5]);
    assert!(expand.ends_with("_online.sql"), "{all:?}");
    assert!(contract.ends_with("_contract_online.sql"), "{all:?}");
    assert!(all[2].ends_with("_online.down.sql") && all[4].ends_with("_contract_online.down.sql"));
    assert!(version_of(contract) > version_of(expand));
    let up = read(p.path(), expand);
    for needle in [
        "-- dbarch:no-transaction",
        "ADD COLUMN full_name text",
        "ADD COLUMN n_dbarch_new bigint",
        "BEFORE INSERT OR UPDATE OF name, full_name ON public.users",
        "-- dbarch:backfill table=public.users set=\"full_name = name\" where=\"full_name IS DISTINCT FROM name\"",
        "-- dbarch:backfill table=public.events set=\"n_dbarch_new = n::bigint\"",
        "NOT NULL full_name NOT VALID",
        "CREATE INDEX CONCURRENTLY users_name_idx_dbarch ON public.users USING btree (full_name)",
        "CREATE INDEX CONCURRENTLY events_n_idx_dbarch ON public.events USING btree (n_dbarch_new) WHERE (n_dbarch_new > 10)",
    ] {
        assert!(up.contains(needle), "expand lacks {needle:?}:\n{up}");
    }
    assert!(
        !up.contains("RENAME COLUMN") && !up.contains("DROP COLUMN name"),
        "{up}"
    );
    let down_contract = read(p.path(), &all[4]);
    assert!(
        down_contract.contains("-- dbarch:backfill table=public.users set=\"name = full_name\""),
        "{down_contract}"
    );
    let c = read(p.path(), contract);
    assert!(c.contains("only after every application instance"), "{c}");
    assert!(
        c.contains("DROP COLUMN name") && c.contains("RENAME COLUMN n_dbarch_new TO n"),
        "{c}"
    );

    // Expand only.
    run_in(
        p.path(),
        &["migrate", "up", "--url", &url, "--to", version_of(expand)],
    )
    .code(0);
    assert_eq!(
        columns(&db, "public.users").await,
        ["full_name text", "id bigint", "name text", "score integer"]
    );
    let unsynced = "SELECT (SELECT count(*) FROM public.users WHERE full_name IS DISTINCT FROM name) \
                  + (SELECT count(*) FROM public.events WHERE n_dbarch_new IS DISTINCT FROM n::bigint)";
    assert_eq!(
        scalar(&db, unsynced).await,
        0,
        "the backfill filled every row"
    );
    old_and_new_apps_write(&db, rows, 1_000_000).await;
    assert_eq!(
        scalar(&db, unsynced).await,
        0,
        "old and new columns in sync"
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM public.users").await,
        rows + 600
    );
    // The new application's writes reached the old columns.
    assert!(
        scalar(
            &db,
            "SELECT count(*) FROM public.users WHERE name LIKE 'new%'"
        )
        .await
            > 0
    );
    assert!(scalar(&db, "SELECT count(*) FROM public.events WHERE n >= 2000").await > 0);
    let snapshot = "SELECT hashtext(string_agg(id || ':' || name || ':' || coalesce(score, -1), ',' ORDER BY id))::bigint \
                    FROM public.users";
    let before = scalar(&db, snapshot).await;
    let events = "SELECT hashtext(string_agg(id || ':' || n || ':' || note, ',' ORDER BY id))::bigint FROM public.events";
    let events_before = scalar(&db, events).await;

    // Contract.
    run_in(p.path(), &["migrate", "up", "--url", &url]).code(0);
    assert_eq!(
        columns(&db, "public.users").await,
        ["full_name text", "id bigint", "score integer"]
    );
    assert_eq!(
        columns(&db, "public.events").await,
        ["id bigint", "n bigint", "note text"]
    );
    assert_eq!(
        scalar(&db, &snapshot.replace("':' || name", "':' || full_name")).await,
        before,
        "data preserved"
    );
    assert_eq!(scalar(&db, events).await, events_before, "data preserved");
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname IN ('users', 'events') AND NOT tgisinternal").await,
        0
    );
    // The desired schema exactly: nothing to diff, and plan writes nothing (replayed or live).
    run_in(p.path(), &["diff", "--from", &url, "--to", "schema"]).code(0);
    let r = run_in(p.path(), &["migrate", "plan", "--online", "again"]);
    r.code(0);
    assert!(r.stdout.is_empty(), "{r:?}");
    let r = run_in(p.path(), &["migrate", "plan", "--url", &url]);
    r.code(0);
    assert!(r.stdout.is_empty(), "{r:?}");
    assert_eq!(files(p.path()).len(), 6);
    // New-type values now fit.
    db.client()
        .await
        .batch_execute("UPDATE public.events SET n = 5000000000 WHERE id = 1")
        .await
        .unwrap();
    db.client()
        .await
        .batch_execute("UPDATE public.events SET n = 1 WHERE id = 1")
        .await
        .unwrap();

    // Down the contract: both columns again, synced, backfilled from the new ones.
    run_in(
        p.path(),
        &["migrate", "down", "--url", &url, "--steps", "1"],
    )
    .code(0);
    assert_eq!(
        columns(&db, "public.users").await,
        ["full_name text", "id bigint", "name text", "score integer"]
    );
    assert_eq!(scalar(&db, unsynced).await, 0);
    old_and_new_apps_write(&db, rows, 2_000_000).await;
    assert_eq!(scalar(&db, unsynced).await, 0);
    // Down the expand: schema V1 again, with the old columns' data.
    run_in(
        p.path(),
        &["migrate", "down", "--url", &url, "--steps", "1"],
    )
    .code(0);
    run_in(p.path(), &["diff", "--from", &url, "--to", "schema_v1"]).code(0);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM public.users WHERE name IS NULL").await,
        0
    );
    // Up again (the backfills start over), and the desired schema once more.
    run_in(p.path(), &["migrate", "up", "--url", &url]).code(0);
    run_in(p.path(), &["diff", "--from", &url, "--to", "schema"]).code(0);
    run_in(p.path(), &["migrate", "verify", "--url", &url]).code(0);
}

/// kill -9 while `up` runs the expand's backfill: the next `up` continues the same progress
/// record from its last batch and finishes the migration.
#[tokio::test]
async fn kill_9_during_the_expand_backfill_resumes_on_the_next_up() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    let rows = 150_000;
    let p = at_v1(&db, rows).await;
    // Only the type change (no rename).
    std::fs::write(
        p.path().join("schema/schema.sql"),
        V2.replace("full_name", "name"),
    )
    .unwrap();
    run_in(p.path(), &["migrate", "plan", "--online", "bigint"]).code(0);
    let all = files(p.path());
    assert_eq!(all.len(), 6, "{all:?}");
    let expand = all[3].clone();
    let c = db.client().await;
    let progress = async || -> Option<(i64, bool, String)> {
        let exists: bool = c
            .query_one("SELECT to_regclass('_dbarch.backfills') IS NOT NULL", &[])
            .await
            .unwrap()
            .get(0);
        if !exists {
            return None;
        }
        c.query_opt(
            "SELECT rows_done, finished_at IS NOT NULL, started_at::text FROM _dbarch.backfills",
            &[],
        )
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
    };
    let mut child = dbarch_cmd(
        p.path(),
        &["migrate", "up", "--url", &url, "--to", version_of(&expand)],
    )
    .env("RUST_LOG", "error")
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let (done_at_kill, started) = loop {
        if let Some((done, finished, started)) = progress().await {
            assert!(!finished, "the backfill ended before the kill");
            if done > 0 {
                break (done, started);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("up ended ({status}) before the backfill started");
        }
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (after_kill, finished, _) = progress().await.unwrap();
    assert!(!finished && after_kill >= done_at_kill && after_kill < rows);
    let r = run_in(p.path(), &["migrate", "status", "--url", &url]);
    assert!(r.stdout.contains("failed"), "{}", r.stdout);

    run_in(
        p.path(),
        &["migrate", "up", "--url", &url, "--to", version_of(&expand)],
    )
    .code(0);
    let (total, finished, started_again) = progress().await.unwrap();
    assert!(finished);
    assert_eq!(started_again, started, "the same progress record continued");
    assert_eq!(total, rows, "every row updated once across both runs");
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM public.events WHERE n_dbarch_new IS DISTINCT FROM n::bigint"
        )
        .await,
        0
    );
    run_in(p.path(), &["migrate", "up", "--url", &url]).code(0);
    run_in(p.path(), &["diff", "--from", &url, "--to", "schema"]).code(0);
}
