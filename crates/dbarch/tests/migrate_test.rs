//! End-to-end tests of `dbarch migrate test`: the pending migrations rehearsed on a shadow
//! server filled with synthetic rows, the target only read.

use std::path::Path;

use dbarch_testing::TestServer;

mod common;
use common::*;

const INIT: &str = "CREATE TABLE customers (\n\
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n\
    email text NOT NULL UNIQUE,\n\
    tier text NOT NULL CHECK (tier IN ('free', 'pro'))\n\
);\n\
CREATE TABLE orders (\n\
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n\
    customer_id bigint NOT NULL REFERENCES customers,\n\
    amount int NOT NULL CHECK (amount > 0),\n\
    created_at timestamptz NOT NULL DEFAULT now()\n\
);\n";

const TOKEN: &str = "-- A volatile default: the table is rewritten.\n\
ALTER TABLE orders ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();\n\
CREATE INDEX orders_customer_idx ON orders (customer_id);\n";

const CONCURRENT: &str = "-- dbarch:no-transaction\n\
CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at);\n";

fn write(dir: &Path, name: &str, sql: &str) {
    let m = dir.join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join(name), sql).unwrap();
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn three_migrations(dir: &Path) {
    write(dir, "20250101000001_init.sql", INIT);
    write(dir, "20250101000002_token.sql", TOKEN);
    write(dir, "20250101000003_concurrent.sql", CONCURRENT);
}

#[tokio::test]
async fn rehearses_the_pending_migrations_of_the_targets_history() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    let p = project();
    three_migrations(p.path());
    run_in(
        p.path(),
        &["migrate", "up", "--url", &url, "--to", "20250101000001"],
    )
    .code(0);

    let r = run_in(
        p.path(),
        &[
            "migrate",
            "test",
            "--url",
            &url,
            "--rows",
            "3000",
            "--format",
            "json",
            "--lock-warn",
            "0",
        ],
    );
    r.code(0);
    let doc = json(&r.stdout);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["applied_from"], "history");
    assert_eq!(doc["server_major"], 18);
    assert_eq!(doc["applied"], serde_json::json!(["20250101000001"]));
    for t in doc["fill"]["tables"].as_array().unwrap() {
        assert_eq!(t["inserted"], 3000, "{t}");
    }
    let ms = doc["migrations"].as_array().unwrap();
    let versions: Vec<&str> = ms.iter().map(|m| m["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["20250101000002", "20250101000003"]);

    let add = &ms[0]["trace"]["statements"][0];
    assert_eq!(add["line"], 2);
    assert!(
        add["locks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| { l["relation"] == "public.orders" && l["mode"] == "AccessExclusiveLock" }),
        "{add}"
    );
    let rewritten: Vec<&str> = add["rewrites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["relation"].as_str().unwrap())
        .collect();
    assert_eq!(rewritten, ["public.orders", "public.orders_pkey"]);
    // CREATE INDEX's ShareLock is covered by the AccessExclusiveLock statement 1 holds until
    // the commit: nothing new on orders, only the new index.
    let index = &ms[0]["trace"]["statements"][1];
    let added: Vec<(&str, bool)> = index["locks_added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["relation"].as_str().unwrap(), l["new"] == true))
        .collect();
    assert_eq!(added, [("public.orders_customer_idx", true)], "{index}");
    let warnings = ms[0]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("AccessExclusiveLock on public.orders held for")),
        "{warnings:?}"
    );
    let cic = &ms[1]["trace"];
    assert_eq!(cic["transactional"], false);
    assert_eq!(cic["statements"][0]["lock_source"], "observed");
    assert_eq!(cic["statements"][0]["autocommit"], true);
    assert_eq!(doc["summary"]["failed"], false);
    assert_eq!(doc["summary"]["statements"], 3);

    // The text report.
    let r = run_in(
        p.path(),
        &[
            "migrate",
            "test",
            "--url",
            &url,
            "--rows",
            "500",
            "--lock-warn",
            "0",
        ],
    );
    r.code(0);
    for want in [
        "Rehearsal on a shadow PostgreSQL 18 server: 1 applied migration replayed, 2 tables filled with 1,000 rows",
        "20250101000002 token (one transaction, 2 statements,",
        "  #1 line 2: ALTER TABLE orders ADD COLUMN token uuid",
        "      locks: AccessExclusiveLock on public.orders",
        "      rewrites: public.orders (table), public.orders_pkey (index)",
        "      full scans: public.orders (",
        "  warning: AccessExclusiveLock on public.orders held for",
        "20250101000003 concurrent (autocommit, 1 statement,",
        "Summary: 2 migrations, 3 statements in",
    ] {
        assert!(
            r.stdout.contains(want),
            "missing {want:?} in:\n{}",
            r.stdout
        );
    }

    // The target was only read: the pending migrations are still pending, nothing was added.
    let r = run_in(
        p.path(),
        &["migrate", "status", "--url", &url, "--format", "json"],
    );
    r.code(0);
    let states: Vec<String> = json(&r.stdout)["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states, ["applied", "pending", "pending"]);
    let c = db.client().await;
    let row = c
        .query_one(
            "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM customers), \
                    (SELECT count(*) FROM pg_attribute \
                     WHERE attrelid = 'orders'::regclass AND attname = 'token')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (0, 0));
}

#[test]
fn a_migration_failing_on_the_rehearsal_data_exits_1() {
    let p = project();
    write(p.path(), "20250101000001_init.sql", INIT);
    write(
        p.path(),
        "20250101000002_big.sql",
        "ALTER TABLE orders ADD COLUMN note text;\n\
         ALTER TABLE orders ADD CONSTRAINT big CHECK (amount > 2000000000);\n",
    );
    // --last needs no database: none is contacted (no dev server is started).
    let r = run_in(
        p.path(),
        &["migrate", "test", "--last", "1", "--rows", "200"],
    );
    r.code(1);
    assert!(
        r.stdout
            .contains("      error: ERROR: check constraint \"big\" of relation \"orders\" is violated by some row (SQLSTATE 23514)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("20250101000002 big (one transaction, 2 of 2 statements run,")
            || r.stdout
                .contains("20250101000002 big (one transaction, 2 statements,"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("; FAILED."), "{}", r.stdout);
    assert!(
        r.stderr.contains(
            "migration 20250101000002 big failed on the rehearsal data at statement 2 (line 2): ERROR: check constraint"
        ),
        "{}",
        r.stderr
    );
    assert!(
        !p.path().join(".dbarch").exists(),
        "a dev server was started"
    );

    let r = run_in(
        p.path(),
        &[
            "migrate", "test", "--last", "1", "--rows", "200", "--format", "json",
        ],
    );
    r.code(1);
    let doc = json(&r.stdout);
    assert_eq!(doc["applied_from"], "last");
    assert_eq!(doc["failed"]["statement"], 2);
    assert_eq!(doc["failed"]["version"], "20250101000002");
    assert_eq!(doc["migrations"][0]["trace"]["committed"], false);
}

#[tokio::test]
async fn like_takes_row_counts_from_the_statistics_capped() {
    let db = TestServer::pg18().create_db().await;
    let url = db.url();
    let p = project();
    three_migrations(p.path());
    run_in(
        p.path(),
        &["migrate", "up", "--url", &url, "--to", "20250101000001"],
    )
    .code(0);
    let c = db.client().await;
    c.batch_execute(
        "INSERT INTO customers (email, tier) SELECT 'c' || i, 'free' FROM generate_series(1, 250) i;
         ANALYZE customers, orders;",
    )
    .await
    .unwrap();
    let r = run_in(
        p.path(),
        &[
            "migrate",
            "test",
            "--url",
            &url,
            "--like",
            &url,
            "--max-rows",
            "100",
            "--format",
            "json",
        ],
    );
    r.code(0);
    let doc = json(&r.stdout);
    let fill = &doc["fill"]["tables"];
    let by_name = |n: &str| {
        fill.as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == n)
            .unwrap_or_else(|| panic!("{n} not in {fill}"))
            .clone()
    };
    assert_eq!(by_name("public.customers")["requested"], 100);
    assert_eq!(by_name("public.customers")["inserted"], 100);
    assert_eq!(by_name("public.orders")["requested"], 0);
    assert!(
        doc["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("capped to 100 rows")),
        "{}",
        doc["notes"]
    );
    // The statistics of the --like database were read, its rows were not touched.
    let n: i64 = c
        .query_one("SELECT count(*) FROM customers", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 250);
}

#[test]
fn usage_errors_and_nothing_to_rehearse() {
    let p = project();
    write(p.path(), "20250101000001_init.sql", INIT);
    let r = run_in(
        p.path(),
        &[
            "migrate",
            "test",
            "--rows",
            "5",
            "--like",
            "postgres://x@127.0.0.1:1/x",
        ],
    );
    r.code(2);
    let r = run_in(p.path(), &["migrate", "test", "--last", "3"]);
    r.code(2);
    assert!(
        r.one_line_error()
            .contains("--last 3: there are only 1 migration(s)")
    );
    let r = run_in(
        p.path(),
        &["migrate", "test", "--last", "1", "--lock-warn", "-1"],
    );
    r.code(2);
    let r = run_in(p.path(), &["migrate", "test", "--last", "0"]);
    r.code(0);
    assert!(r.stderr.contains("nothing to rehearse"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}
