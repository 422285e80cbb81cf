//! The tracer against PostgreSQL 18: each measurement with the statements that show it.

use dbarch_testing::{TestDb, TestServer};
use dbarch_trace::{
    LockMode, LockSource, Script, StatementTrace, Trace, TraceOptions, trace_script,
    trace_script_with,
};
use tokio_postgres::Client;

const SETUP: &str = "
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer_id bigint, amount int, note text);
INSERT INTO customers SELECT i, 'c' || i FROM generate_series(1, 200) i;
INSERT INTO orders SELECT i, 1 + i % 200, 1 + i % 50, NULL FROM generate_series(1, 5000) i;
ANALYZE customers, orders;
";

async fn setup() -> (TestDb, Client) {
    let db = TestServer::pg18().create_db().await;
    let client = db.client().await;
    client.batch_execute(SETUP).await.unwrap();
    (db, client)
}

fn script(sql: &str, transactional: bool) -> Script {
    // Cut like dbarch_migrate::split::statements does (by the grammar).
    let parts: Vec<String> = pg_split(sql);
    Script::new(sql, parts, transactional)
}

/// Statements of a test script: one per `;`-terminated line group (the test scripts have no
/// semicolons inside statements).
fn pg_split(sql: &str) -> Vec<String> {
    sql.split_inclusive(';')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

async fn traced(client: &Client, sql: &str) -> Trace {
    let t = trace_script(client, &script(sql, true)).await.unwrap();
    assert!(t.failed().is_none(), "{:#?}", t.failed());
    assert!(t.committed);
    t
}

fn only(t: &Trace) -> &StatementTrace {
    assert_eq!(t.statements.len(), 1, "{t:#?}");
    &t.statements[0]
}

fn rewritten(s: &StatementTrace) -> Vec<&str> {
    s.rewrites.iter().map(|r| r.relation.as_str()).collect()
}

fn scanned(s: &StatementTrace) -> Vec<&str> {
    s.seq_scans.iter().map(|r| r.relation.as_str()).collect()
}

#[tokio::test]
async fn volatile_default_rewrites_the_table_under_access_exclusive_lock() {
    let (_db, c) = setup().await;
    let t = traced(
        &c,
        "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();",
    )
    .await;
    let s = only(&t);
    assert_eq!(s.lock_source, LockSource::Held);
    assert_eq!(
        s.strongest_lock_on("public.orders"),
        Some(LockMode::AccessExclusiveLock)
    );
    assert_eq!(rewritten(s), ["public.orders", "public.orders_pkey"]);
    let holds = t.lock_holds();
    assert_eq!(
        holds[0].to_string().split(" for ").next().unwrap(),
        "statement 1 held AccessExclusiveLock on public.orders"
    );
    // The rewrite rebuilds the index too, under the same lock.
    let mut blocking: Vec<String> = t.blocking_holds().into_iter().map(|h| h.relation).collect();
    blocking.sort();
    assert_eq!(
        blocking,
        ["public.orders", "public.orders_pkey"],
        "{holds:#?}"
    );

    // A constant default is only catalog work: same lock, no rewrite.
    let t = traced(&c, "ALTER TABLE orders ADD COLUMN flag int DEFAULT 7;").await;
    let s = only(&t);
    assert_eq!(
        s.strongest_lock_on("public.orders"),
        Some(LockMode::AccessExclusiveLock)
    );
    assert!(s.rewrites.is_empty(), "{:?}", s.rewrites);
    assert!(s.seq_scans.is_empty(), "{:?}", s.seq_scans);
}

#[tokio::test]
async fn create_index_takes_share_lock_and_scans() {
    let (_db, c) = setup().await;
    let t = traced(
        &c,
        "CREATE INDEX orders_customer_idx ON orders (customer_id);",
    )
    .await;
    let s = only(&t);
    assert_eq!(
        s.strongest_lock_on("public.orders"),
        Some(LockMode::ShareLock)
    );
    // The new index's own lock is marked new: nobody can wait for it.
    let ix = s
        .locks
        .iter()
        .find(|l| l.relation == "public.orders_customer_idx")
        .expect("the new index is locked");
    assert!(ix.new);
    assert!(s.rewrites.is_empty(), "{:?}", s.rewrites);
    assert_eq!(scanned(s), ["public.orders"]);
    assert_eq!(s.seq_scans[0].rows_read, 5000);
    assert!(!LockMode::ShareLock.blocks_reads() && LockMode::ShareLock.blocks_writes());
}

#[tokio::test]
async fn add_foreign_key_locks_both_tables_share_row_exclusive() {
    let (_db, c) = setup().await;
    let t = traced(
        &c,
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);",
    )
    .await;
    let s = only(&t);
    assert_eq!(
        s.strongest_lock_on("public.orders"),
        Some(LockMode::ShareRowExclusiveLock)
    );
    assert_eq!(
        s.strongest_lock_on("public.customers"),
        Some(LockMode::ShareRowExclusiveLock)
    );
    assert!(scanned(s).contains(&"public.orders"), "{:?}", s.seq_scans);
}

#[tokio::test]
async fn validate_constraint_takes_share_update_exclusive_lock_and_scans() {
    let (_db, c) = setup().await;
    c.batch_execute(
        "ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0) NOT VALID;
         ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id)
             REFERENCES customers (id) NOT VALID;",
    )
    .await
    .unwrap();
    let t = traced(
        &c,
        "ALTER TABLE orders VALIDATE CONSTRAINT amount_positive;\n\
         ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;",
    )
    .await;
    for s in &t.statements {
        assert_eq!(
            s.strongest_lock_on("public.orders"),
            Some(LockMode::ShareUpdateExclusiveLock),
            "{s:#?}"
        );
        assert!(scanned(s).contains(&"public.orders"), "{s:#?}");
        assert!(s.rewrites.is_empty());
    }
    // The foreign key's validation also locks the referenced table, lightly.
    let fk = &t.statements[1];
    assert_eq!(
        fk.strongest_lock_on("public.customers"),
        Some(LockMode::RowShareLock)
    );
    assert_eq!(fk.line, 2);
    // Nothing new was taken on orders by the second statement.
    assert!(
        !fk.locks_added.iter().any(|l| l.relation == "public.orders"),
        "{:?}",
        fk.locks_added
    );
}

#[tokio::test]
async fn set_not_null_scans_without_rewriting() {
    let (_db, c) = setup().await;
    let t = traced(&c, "ALTER TABLE orders ALTER COLUMN amount SET NOT NULL;").await;
    let s = only(&t);
    assert_eq!(
        s.strongest_lock_on("public.orders"),
        Some(LockMode::AccessExclusiveLock)
    );
    assert_eq!(scanned(s), ["public.orders"]);
    assert!(s.rewrites.is_empty(), "{:?}", s.rewrites);
}

#[tokio::test]
async fn alter_type_int_to_bigint_rewrites() {
    let (_db, c) = setup().await;
    let t = traced(&c, "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;").await;
    let s = only(&t);
    assert_eq!(
        s.strongest_lock_on("public.orders"),
        Some(LockMode::AccessExclusiveLock)
    );
    assert_eq!(rewritten(s), ["public.orders", "public.orders_pkey"]);
    // text → varchar without a length is binary-compatible: no rewrite.
    let t = traced(&c, "ALTER TABLE customers ALTER COLUMN name TYPE varchar;").await;
    assert_eq!(rewritten(only(&t)), Vec::<&str>::new());
}

#[tokio::test]
async fn locks_accumulate_in_a_transaction_and_are_held_until_commit() {
    let (_db, c) = setup().await;
    let sql = "-- two steps\nALTER TABLE customers ADD COLUMN vip boolean;\n\nCREATE INDEX orders_amount_idx ON orders (amount);\n";
    let t = traced(&c, sql).await;
    assert_eq!(t.statements.len(), 2);
    let (a, b) = (&t.statements[0], &t.statements[1]);
    assert_eq!((a.line, b.line), (2, 4));
    assert_eq!(&sql[b.offset..b.offset + 12], "CREATE INDEX");
    // Statement 2 added ShareLock on orders; the customers lock is still held (cumulative).
    assert!(
        b.locks_added
            .iter()
            .any(|l| l.relation == "public.orders" && l.mode == LockMode::ShareLock)
    );
    assert!(
        !b.locks_added
            .iter()
            .any(|l| l.relation == "public.customers")
    );
    assert_eq!(
        b.strongest_lock_on("public.customers"),
        Some(LockMode::AccessExclusiveLock)
    );
    // The AccessExclusiveLock of statement 1 is held through statement 2 and the commit.
    let hold = t
        .lock_holds()
        .into_iter()
        .find(|h| h.relation == "public.customers")
        .unwrap();
    assert_eq!(hold.statement, 1);
    assert_eq!(hold.mode, LockMode::AccessExclusiveLock);
    assert_eq!(hold.held_ms, a.duration_ms + b.duration_ms + t.commit_ms);
    let json = serde_json::to_value(&t).unwrap();
    assert_eq!(
        json["statements"][0]["locks"][0]["mode"],
        "AccessExclusiveLock"
    );
}

#[tokio::test]
async fn a_failing_statement_is_recorded_and_rolls_the_script_back() {
    let (_db, c) = setup().await;
    let sql = "ALTER TABLE orders ADD COLUMN x int;\n\
               ALTER TABLE orders ADD CONSTRAINT big CHECK (amount > 1000);\n\
               ALTER TABLE orders ADD COLUMN y int;";
    let t = trace_script(&c, &script(sql, true)).await.unwrap();
    assert!(!t.committed);
    assert_eq!(t.statements.len(), 2);
    assert_eq!(t.statement_count, 3);
    let failed = t.failed().unwrap();
    assert_eq!(failed.index, 2);
    let err = failed.error.as_ref().unwrap();
    assert_eq!(err.code.as_deref(), Some("23514"));
    assert!(err.message.contains("is violated by some row"), "{err}");
    // Rolled back: column x is not there.
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'x'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // The session is usable afterwards.
    c.batch_execute("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn concurrent_index_build_is_observed_holding_share_update_exclusive_lock() {
    let (db, runner) = setup().await;
    let observer = db.client().await;
    let blocker = db.client().await;
    let monitor = db.client().await;
    let observer_pid: i32 = observer
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    // A writer in an open transaction: the concurrent build waits for it, holding its lock.
    blocker
        .batch_execute("BEGIN; INSERT INTO orders VALUES (100000, 1, 1, NULL);")
        .await
        .unwrap();
    let script = script(
        "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);",
        false,
    );
    let opts = TraceOptions {
        observer: Some(&observer),
        ..TraceOptions::default()
    };
    let control = async {
        // Wait until the build waits for the writer, then until the observer has polled
        // from start to end after that moment: that poll saw the build's lock.
        let since: String = loop {
            let row = monitor
                .query_opt(
                    "SELECT clock_timestamp()::text FROM pg_stat_activity \
                     WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'",
                    &[],
                )
                .await
                .unwrap();
            if let Some(r) = row {
                break r.get(0);
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        };
        loop {
            let polled: bool = monitor
                .query_one(
                    "SELECT coalesce(bool_or(state = 'idle' AND query_start > $2::text::timestamptz), false) \
                     FROM pg_stat_activity WHERE pid = $1",
                    &[&observer_pid, &since],
                )
                .await
                .unwrap()
                .get(0);
            if polled {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        blocker.batch_execute("COMMIT").await.unwrap();
    };
    let (trace, ()) = tokio::join!(trace_script_with(&runner, &script, &opts), control);
    let t = trace.unwrap();
    let s = only(&t);
    assert!(s.error.is_none(), "{:?}", s.error);
    assert!(s.autocommit);
    assert_eq!(s.lock_source, LockSource::Observed);
    assert_eq!(
        s.strongest_lock_on("public.orders"),
        Some(LockMode::ShareUpdateExclusiveLock),
        "{:#?}",
        s.locks
    );
    assert!(t.committed);
    let hold = t
        .lock_holds()
        .into_iter()
        .find(|h| h.relation == "public.orders")
        .unwrap();
    assert!(
        hold.to_string().starts_with(
            "statement 1 was observed holding ShareUpdateExclusiveLock on public.orders"
        ),
        "{hold}"
    );
    // Its scans reached the statistics too.
    assert!(scanned(s).contains(&"public.orders"), "{:?}", s.seq_scans);
}

#[tokio::test]
async fn works_on_postgresql_15() {
    let db = TestServer::pg15().create_db().await;
    let c = db.client().await;
    c.batch_execute(SETUP).await.unwrap();
    let t = traced(
        &c,
        "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\nALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;",
    )
    .await;
    assert_eq!(
        rewritten(&t.statements[0]),
        ["public.orders", "public.orders_pkey"]
    );
    assert_eq!(scanned(&t.statements[1]), ["public.orders"]);
    assert_eq!(
        t.lock_holds()[0].to_string().split(" for ").next().unwrap(),
        "statement 1 held AccessExclusiveLock on public.orders"
    );
    // Autocommit: scans read from the flushed statistics; no observer, locks unknown.
    let t = trace_script(
        &c,
        &script(
            "CREATE INDEX CONCURRENTLY orders_amount_idx ON orders (amount);",
            false,
        ),
    )
    .await
    .unwrap();
    let s = only(&t);
    assert!(s.error.is_none(), "{:?}", s.error);
    assert_eq!(s.lock_source, LockSource::Unknown);
    assert!(scanned(s).contains(&"public.orders"), "{:?}", s.seq_scans);
}
