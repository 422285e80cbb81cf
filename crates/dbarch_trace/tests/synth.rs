//! Synthetic data against PostgreSQL 18 (+ pgvector): every constraint of a varied schema
//! holds (the server checks them on insert), counts, caps, failures and determinism.

use dbarch_model::Database;
use dbarch_testing::{TestDb, TestServer};
use dbarch_trace::{FillOptions, FillReport, fill};
use tokio_postgres::Client;

const SCHEMA: &str = r#"
CREATE EXTENSION vector;
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN app.positive AS integer NOT NULL CHECK (VALUE > 0 AND VALUE < 500);
CREATE TABLE app.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email varchar(40) NOT NULL UNIQUE,
    code char(3),
    tier text NOT NULL CHECK (tier IN ('free', 'pro', 'team')),
    mood app.mood NOT NULL,
    active boolean NOT NULL,
    born date,
    created_at timestamptz NOT NULL DEFAULT now(),
    profile jsonb,
    tags text[],
    score numeric(5,2) CHECK (score > 0),
    stars app.positive,
    "Weird Name" int CHECK ("Weird Name" BETWEEN 10 AND 20)
);
CREATE TABLE app.products (
    sku text PRIMARY KEY,
    price numeric(8,2) NOT NULL CHECK (price >= 1),
    qty smallint NOT NULL CHECK (qty BETWEEN 1 AND 5),
    ref uuid NOT NULL UNIQUE,
    embedding vector(3),
    half halfvec(4),
    starts_at timestamp NOT NULL,
    ends_at timestamp NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE TABLE app.orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES app.customers,
    parent_id int REFERENCES app.orders,
    note text,
    bits bytea,
    at time,
    ip inet
);
CREATE TABLE app.order_items (
    order_id int NOT NULL REFERENCES app.orders,
    sku text NOT NULL REFERENCES app.products,
    n int NOT NULL,
    PRIMARY KEY (order_id, sku)
);
CREATE TABLE app.tree (
    id int PRIMARY KEY,
    parent int NOT NULL REFERENCES app.tree
);
CREATE TABLE app.events (id int NOT NULL, at date NOT NULL, body jsonb) PARTITION BY HASH (id);
CREATE TABLE app.events_0 PARTITION OF app.events FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE app.events_1 PARTITION OF app.events FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE app.flags (
    on_off boolean NOT NULL,
    mood app.mood NOT NULL,
    UNIQUE (on_off, mood)
);
"#;

async fn schema_db() -> (TestDb, Client, Database) {
    let db = TestServer::pg18().create_db().await;
    let c = db.client().await;
    c.batch_execute(SCHEMA).await.unwrap();
    let model = dbarch_catalog::introspect(&c, &dbarch_catalog::Options::default())
        .await
        .unwrap()
        .database;
    (db, c, model)
}

fn table<'a>(r: &'a FillReport, name: &str) -> &'a dbarch_trace::TableFill {
    r.table(name)
        .unwrap_or_else(|| panic!("{name} not in the report: {r:#?}"))
}

async fn count(c: &Client, q: &str) -> i64 {
    c.query_one(q, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn every_table_is_filled_within_its_constraints() {
    let (_db, c, model) = schema_db().await;
    let opts = FillOptions {
        rows: 2000,
        ..FillOptions::default()
    };
    let r = fill(&c, &model, &opts).await.unwrap();
    // Parents before children.
    let order: Vec<&str> = r.tables.iter().map(|t| t.table.as_str()).collect();
    let pos = |n: &str| order.iter().position(|t| *t == n).unwrap();
    assert!(pos("app.customers") < pos("app.orders"));
    assert!(pos("app.orders") < pos("app.order_items"));
    assert!(pos("app.products") < pos("app.order_items"));

    // Partitions are filled through their parent.
    assert!(r.table("app.events_0").is_none());
    for t in [
        "app.customers",
        "app.orders",
        "app.order_items",
        "app.tree",
        "app.events",
    ] {
        let f = table(&r, t);
        assert_eq!(f.error, None, "{f:#?}\n{}", f.sql);
        assert_eq!(f.inserted, 2000, "{f:#?}");
    }
    // The unreadable check (ends_at > starts_at) filters rows generated 4x over.
    let p = table(&r, "app.products");
    assert_eq!(p.error, None, "{p:#?}");
    assert_eq!(p.inserted, 2000, "{p:#?}");
    assert!(
        p.notes.iter().any(|n| n.contains("products_check")),
        "{:?}",
        p.notes
    );
    // Two booleans × three moods: six distinct rows at most.
    let f = table(&r, "app.flags");
    assert_eq!(f.inserted, 6, "{f:#?}");
    assert!(
        f.notes.iter().any(|n| n.contains("only 6 distinct")),
        "{f:?}"
    );

    assert!(count(&c, "SELECT count(DISTINCT customer_id) FROM app.orders").await > 100);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM app.orders WHERE parent_id IS NOT NULL"
        )
        .await,
        0
    );
    assert!(count(&c, "SELECT count(*) FROM app.events_1").await > 0);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM app.customers WHERE \"Weird Name\" NOT BETWEEN 10 AND 20"
        )
        .await,
        0
    );
    assert_eq!(
        count(&c, "SELECT count(DISTINCT tier) FROM app.customers").await,
        3
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM app.products WHERE vector_dims(embedding) = 3"
        )
        .await,
        2000
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM app.tree t JOIN app.tree p ON p.id = t.parent WHERE p.id <= t.id"
        )
        .await,
        2000
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM app.customers WHERE created_at IS NULL OR profile IS NULL OR tags IS NULL").await,
        0
    );
    // Analyzed: the planner knows the sizes.
    assert_eq!(
        count(
            &c,
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'app.order_items'::regclass"
        )
        .await,
        2000
    );
}

#[tokio::test]
async fn per_table_counts_and_determinism() {
    let (_a, ca, model) = schema_db().await;
    let (_b, cb, _) = schema_db().await;
    let mut opts = FillOptions {
        rows: 300,
        seed: 7,
        ..FillOptions::default()
    };
    opts.per_table.insert("app.tree".into(), 50);
    let ra = fill(&ca, &model, &opts).await.unwrap();
    let rb = fill(&cb, &model, &opts).await.unwrap();
    assert_eq!(table(&ra, "app.tree").inserted, 50);
    assert_eq!(table(&ra, "app.customers").inserted, 300);
    // Tables without server-computed values are identical for the same seed.
    let digest = "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM app.products t";
    let a: String = ca.query_one(digest, &[]).await.unwrap().get(0);
    let b: String = cb.query_one(digest, &[]).await.unwrap().get(0);
    assert_eq!(a, b);
    let digest = "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM app.order_items t";
    let a: String = ca.query_one(digest, &[]).await.unwrap().get(0);
    let b: String = cb.query_one(digest, &[]).await.unwrap().get(0);
    assert_eq!(a, b);
    assert_eq!(ra.rows, rb.rows);
}

#[tokio::test]
async fn a_table_that_cannot_be_filled_is_reported_not_fatal() {
    let db = TestServer::pg18().create_db().await;
    let c = db.client().await;
    c.batch_execute(
        "CREATE TABLE parent (id int PRIMARY KEY, n int NOT NULL CHECK (n > 0));
         -- The check mentions a defaulted column: it cannot filter, and it fails.
         CREATE TABLE bad (id serial PRIMARY KEY, n int NOT NULL, CHECK (n > id + 2000000000));
         CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent);
         CREATE TABLE orphan (id int PRIMARY KEY, bad_id int NOT NULL REFERENCES bad);",
    )
    .await
    .unwrap();
    let model = dbarch_catalog::introspect(&c, &dbarch_catalog::Options::default())
        .await
        .unwrap()
        .database;
    let r = fill(
        &c,
        &model,
        &FillOptions {
            rows: 100,
            ..FillOptions::default()
        },
    )
    .await
    .unwrap();
    let bad = table(&r, "public.bad");
    assert_eq!(bad.inserted, 0);
    let e = bad.error.as_deref().unwrap();
    assert!(e.contains("violates check constraint"), "{e}");
    assert!(bad.notes.iter().any(|n| n.contains("bad_check")), "{bad:?}");
    let orphan = table(&r, "public.orphan");
    assert!(
        orphan.error.as_deref().unwrap().contains("has no rows"),
        "{orphan:?}"
    );
    assert_eq!(table(&r, "public.child").inserted, 100);
    assert_eq!(r.rows, 200);
}

#[tokio::test]
async fn composite_keys_of_foreign_keys_spread_over_both_parents() {
    let (_db, c, model) = schema_db().await;
    let r = fill(
        &c,
        &model,
        &FillOptions {
            rows: 500,
            ..FillOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(table(&r, "app.order_items").inserted, 500);
    // One item per order here, and the products vary with the order (not all the first one).
    assert_eq!(
        count(&c, "SELECT count(DISTINCT order_id) FROM app.order_items").await,
        500
    );
    assert!(count(&c, "SELECT count(DISTINCT sku) FROM app.order_items").await > 100);
}
