//! Backfills against a real PostgreSQL 18 (dbarch_testing): every matching row exactly once,
//! WHERE, composite keys, resume after an interruption, refusals.

use dbarch_migrate::Error;
use dbarch_migrate::backfill::{self, BackfillOptions, Outcome, Throttle};
use dbarch_testing::{Standby, TestDb, TestServer};
use std::time::Duration;

fn opts(table: &str, set: &str) -> BackfillOptions {
    BackfillOptions {
        batch: 1000,
        sleep: Duration::ZERO,
        ..BackfillOptions::new(table, set)
    }
}

/// A database with `items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)` holding ids 1..=rows.
async fn items(rows: u32) -> (TestDb, tokio_postgres::Client) {
    let db = TestServer::pg18().create_db().await;
    let c = db.client().await;
    c.batch_execute(&format!(
        "CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);
         INSERT INTO items (id) SELECT g FROM generate_series(1, {rows}) g;"
    ))
    .await
    .unwrap();
    (db, c)
}

async fn counts(client: &tokio_postgres::Client, sql: &str) -> Vec<(i32, i64)> {
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn every_row_exactly_once_in_batches() {
    let db = TestServer::pg18().create_db().await;
    let c = db.client().await;
    c.batch_execute(
        "CREATE TABLE items (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);
         INSERT INTO items (id) SELECT g FROM generate_series(1, 20000) g;",
    )
    .await
    .unwrap();
    let mut calls = 0;
    let r = backfill::run(&c, &opts("items", "n = n + 1"), &mut |p| {
        calls += 1;
        assert!(p.rows_done <= p.total);
    })
    .await
    .unwrap();
    assert_eq!(r.outcome, Outcome::Finished);
    assert_eq!(r.rows_done, 20000);
    assert_eq!(r.batches, 20);
    assert_eq!(calls, 20);
    assert_eq!(r.table, "public.items");
    assert_eq!(
        counts(&c, "SELECT n, count(*) FROM items GROUP BY n").await,
        vec![(1, 20000)]
    );
    let row = c
        .query_one(
            "SELECT rows_done, finished_at IS NOT NULL, last_key FROM _dbarch.backfills",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 20000);
    assert!(row.get::<_, bool>(1));
    assert_eq!(
        row.get::<_, serde_json::Value>(2),
        serde_json::json!(["20000"])
    );

    // Finished: a re-run does nothing.
    let again = backfill::run(&c, &opts("items", "n = n + 1"), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyFinished);
    assert_eq!(again.rows_this_run, 0);
    assert_eq!(
        counts(&c, "SELECT n, count(*) FROM items GROUP BY n").await,
        vec![(1, 20000)]
    );
}

#[tokio::test]
async fn where_and_composite_key() {
    let db = TestServer::pg18().create_db().await;
    let c = db.client().await;
    c.batch_execute(
        "CREATE TABLE app_events (tenant text, seq int, kind text NOT NULL, n int NOT NULL DEFAULT 0,
                                  PRIMARY KEY (tenant, seq));
         INSERT INTO app_events (tenant, seq, kind)
         SELECT 't' || (g % 7), g, CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END
         FROM generate_series(1, 5000) g;",
    )
    .await
    .unwrap();
    let o = BackfillOptions {
        where_: Some("kind = 'a'".into()),
        batch: 250,
        ..opts("app_events", "n = n + 1")
    };
    let mut total = 0;
    let r = backfill::run(&c, &o, &mut |p| total = p.total)
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Finished);
    assert_eq!(r.rows_done, 1666);
    assert_eq!(total, 1666);
    assert_eq!(
        counts(
            &c,
            "SELECT n, count(*) FROM app_events GROUP BY n, kind = 'a' ORDER BY n"
        )
        .await,
        vec![(0, 3334), (1, 1666)]
    );
}

#[tokio::test]
async fn resumes_after_an_interruption_without_updating_twice() {
    let (_db, c) = items(20000).await;
    let stopped = backfill::run(
        &c,
        &BackfillOptions {
            max_batches: Some(3),
            ..opts("items", "n = n + 1")
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(stopped.outcome, Outcome::Stopped);
    assert_eq!(stopped.rows_done, 3000);
    assert_eq!(
        counts(&c, "SELECT n, count(*) FROM items GROUP BY n ORDER BY n").await,
        vec![(0, 17000), (1, 3000)]
    );

    // A stop flag set before the first batch: nothing runs.
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let r = backfill::run(
        &c,
        &BackfillOptions {
            stop: Some(flag),
            ..opts("items", "n = n + 1")
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!((r.outcome, r.rows_this_run), (Outcome::Stopped, 0));

    let mut totals = Vec::new();
    let resumed = backfill::run(&c, &opts("items", "n = n + 1"), &mut |p| {
        totals.push(p.total)
    })
    .await
    .unwrap();
    assert!(totals.iter().all(|&t| t == 20000), "{totals:?}");
    assert_eq!(resumed.outcome, Outcome::Finished);
    assert_eq!(resumed.rows_this_run, 17000);
    assert_eq!(resumed.rows_done, 20000);
    assert_eq!(
        counts(&c, "SELECT n, count(*) FROM items GROUP BY n").await,
        vec![(1, 20000)]
    );

    // The same name with another expression is refused.
    let e = backfill::run(
        &c,
        &BackfillOptions {
            name: Some(resumed.name.clone()),
            ..opts("items", "n = n + 2")
        },
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(e.is_input(), "{e}");
}

#[tokio::test]
async fn refusals_are_input_errors() {
    let db = TestServer::pg18().create_db().await;
    let c = db.client().await;
    c.batch_execute(
        "CREATE TABLE nokey (id int, n int);
         CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);
         INSERT INTO items (id) VALUES (1), (2);",
    )
    .await
    .unwrap();
    let input = |e: Error| {
        assert!(e.is_input(), "{e}");
        e.to_string()
    };
    let msg = input(
        backfill::run(&c, &opts("nokey", "n = 1"), &mut |_| {})
            .await
            .unwrap_err(),
    );
    assert!(msg.contains("no primary key"), "{msg}");
    let msg = input(
        backfill::run(&c, &opts("missing", "n = 1"), &mut |_| {})
            .await
            .unwrap_err(),
    );
    assert!(msg.contains("does not exist"), "{msg}");
    let msg = input(
        backfill::run(&c, &opts("items", "nope = 1"), &mut |_| {})
            .await
            .unwrap_err(),
    );
    assert!(msg.contains("nope"), "{msg}");
    let msg = input(
        backfill::run(
            &c,
            &BackfillOptions {
                where_: Some("n +".into()),
                ..opts("items", "n = 1")
            },
            &mut |_| {},
        )
        .await
        .unwrap_err(),
    );
    assert!(msg.contains("syntax error"), "{msg}");
    // Nothing was recorded or changed.
    assert_eq!(
        counts(&c, "SELECT n, count(*) FROM items GROUP BY n").await,
        vec![(0, 2)]
    );
}

#[tokio::test]
async fn retries_a_batch_blocked_by_a_lock() {
    let (db, c) = items(100).await;
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; SELECT * FROM items WHERE id = 50 FOR UPDATE")
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        holder.batch_execute("COMMIT").await.unwrap();
    });
    let r = backfill::run(
        &c,
        &BackfillOptions {
            lock_timeout: Duration::from_millis(100),
            ..opts("items", "n = n + 1")
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    release.await.unwrap();
    assert_eq!(r.outcome, Outcome::Finished);
    assert!(r.lock_retries >= 1, "{r:?}");
    assert_eq!(
        counts(&c, "SELECT n, count(*) FROM items GROUP BY n").await,
        vec![(1, 100)]
    );
}

#[tokio::test]
async fn lock_waits_between_other_sessions_do_not_throttle() {
    let (db, c) = items(1000).await;
    // A session waiting on a row lock of the table held by another, outside the backfill.
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; SELECT * FROM items WHERE id = 900 FOR UPDATE")
        .await
        .unwrap();
    let waiter = db.client().await;
    let waiting = tokio::spawn(async move {
        waiter
            .execute("UPDATE items SET n = 7 WHERE id = 900", &[])
            .await
    });
    // Until it waits.
    while !c
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
             AND query LIKE 'UPDATE items SET n = 7%')",
            &[],
        )
        .await
        .unwrap()
        .get::<_, bool>(0)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut reasons = Vec::new();
    let r = backfill::run(
        &c,
        &BackfillOptions {
            where_: Some("id <= 500".into()),
            batch: 100,
            sleep: Duration::from_millis(10),
            ..opts("items", "n = n + 1")
        },
        &mut |p| reasons.push(p.reason),
    )
    .await
    .unwrap();
    holder.batch_execute("COMMIT").await.unwrap();
    waiting.await.unwrap().unwrap();
    assert_eq!(r.batches, 5);
    assert!(
        !reasons
            .iter()
            .any(|r| matches!(r, Some(Throttle::Blocking(_)))),
        "{reasons:?}"
    );
    assert_eq!(
        counts(
            &c,
            "SELECT n, count(*) FROM items WHERE id <= 500 GROUP BY n"
        )
        .await,
        vec![(1, 500)]
    );
}

#[tokio::test]
async fn sessions_waiting_on_a_batch_throttle_it() {
    let (db, c) = items(1000).await;
    // Each batch waits (in its SET expression, holding its locks) until a session queues
    // for a SHARE lock on the table behind it.
    c.batch_execute(
        "CREATE FUNCTION wait_for_a_waiter() RETURNS int LANGUAGE plpgsql AS $$
         BEGIN
           FOR i IN 1..3000 LOOP
             IF EXISTS (SELECT FROM pg_locks WHERE relation = 'items'::regclass
                        AND mode = 'ShareLock' AND NOT granted) THEN
               RETURN 0;
             END IF;
             PERFORM pg_sleep(0.01);
           END LOOP;
           RAISE 'nobody queued behind the batch';
         END $$;",
    )
    .await
    .unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let locker = db.client().await;
    let lockers = {
        let done = done.clone();
        tokio::spawn(async move {
            // Granted at once between batches (and released at once: autocommit), queued
            // behind a batch.
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                locker
                    .batch_execute("BEGIN; LOCK TABLE items IN SHARE MODE; COMMIT")
                    .await
                    .unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    let r = backfill::run(
        &c,
        &BackfillOptions {
            where_: Some("id <= 300".into()),
            batch: 100,
            sleep: Duration::from_millis(10),
            ..opts("items", "n = n + 1 + wait_for_a_waiter()")
        },
        &mut |p| seen.push((p.reason, p.sleep)),
    )
    .await
    .unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    lockers.await.unwrap();
    assert_eq!((r.batches, r.throttled_batches), (3, 3), "{seen:?}");
    for (reason, sleep) in &seen {
        assert!(
            matches!(reason, Some(Throttle::Blocking(1)) | Some(Throttle::Slow)),
            "{seen:?}"
        );
        assert!(*sleep >= Duration::from_millis(10), "{seen:?}");
    }
    assert_eq!(
        counts(
            &c,
            "SELECT n, count(*) FROM items WHERE id <= 300 GROUP BY n"
        )
        .await,
        vec![(1, 300)]
    );
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// Replica lag throttles: with replay paused on a standby and more WAL than
/// `max_replica_lag_bytes` not replayed, every batch doubles the pause; replaying, none.
#[tokio::test]
async fn a_lagging_replica_throttles() {
    let primary = dbarch_pg::EphemeralServer::start(TestServer::pg18().install()).unwrap();
    let standby = Standby::of(&primary);
    let c = connect(&primary.url("postgres")).await;
    let s = connect(&standby.url("postgres")).await;
    c.batch_execute(
        "CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);
         INSERT INTO items (id) SELECT g FROM generate_series(1, 1000) g;",
    )
    .await
    .unwrap();
    let streaming = async || -> bool {
        c.query_one(
            "SELECT count(*) = 1 FROM pg_stat_replication WHERE state = 'streaming'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
    };
    while !streaming().await {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let o = |set: &str| BackfillOptions {
        batch: 100,
        max_batches: Some(3),
        max_replica_lag_bytes: 1 << 20,
        ..opts("items", set)
    };

    // Replaying: at most one batch of WAL behind, far below 1 MB.
    let mut reasons = Vec::new();
    let r = backfill::run(&c, &o("n = n + 1"), &mut |p| reasons.push(p.reason))
        .await
        .unwrap();
    assert_eq!(r.batches, 3);
    assert!(
        !reasons.contains(&Some(Throttle::ReplicaLag)),
        "{reasons:?}"
    );

    // Paused: 2 MB of WAL the standby does not replay.
    s.batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    c.batch_execute(
        "CREATE TABLE filler AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 10000) g",
    )
    .await
    .unwrap();
    let mut reasons = Vec::new();
    let mut sleeps = Vec::new();
    let r = backfill::run(&c, &o("n = n + 2"), &mut |p| {
        reasons.push(p.reason);
        sleeps.push(p.sleep);
    })
    .await
    .unwrap();
    assert_eq!((r.batches, r.throttled_batches), (3, 3), "{reasons:?}");
    assert!(
        reasons.iter().all(|r| *r == Some(Throttle::ReplicaLag)),
        "{reasons:?}"
    );
    assert_eq!(
        sleeps,
        [
            Duration::from_millis(20),
            Duration::from_millis(40),
            Duration::from_millis(80)
        ]
    );
    s.batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    drop(standby);
}

#[tokio::test]
async fn two_runs_of_the_same_backfill_take_turns() {
    let (db, c) = items(20000).await;
    // Both create the progress row first (then run at once).
    backfill::run(
        &c,
        &BackfillOptions {
            max_batches: Some(0),
            ..opts("items", "n = n + 1")
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    let (c1, c2) = (db.client().await, db.client().await);
    let o = BackfillOptions {
        batch: 500,
        ..opts("items", "n = n + 1")
    };
    let (mut pa, mut pb) = (|_: &backfill::Progress| {}, |_: &backfill::Progress| {});
    let (a, b) = tokio::join!(
        backfill::run(&c1, &o, &mut pa),
        backfill::run(&c2, &o, &mut pb)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.rows_this_run + b.rows_this_run, 20000, "{a:?} {b:?}");
    assert_eq!((a.rows_done, b.rows_done), (20000, 20000));
    assert_eq!(
        counts(&c, "SELECT n, count(*) FROM items GROUP BY n").await,
        vec![(1, 20000)]
    );
}
