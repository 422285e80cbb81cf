//! Shared helpers: load SQL into a fresh database, introspect it, apply a plan the way a
//! runner would (transactional steps batched in transactions, the others alone).

#![allow(dead_code)]

use dbarch_catalog::{Options, introspect};
use dbarch_diff::{Plan, Reverse};
use dbarch_model::Database;
use dbarch_testing::{TestDb, TestServer};
use tokio_postgres::Client;

pub const COMMON: &str = include_str!("../../../dbarch_catalog/tests/fixtures/common.sql");
pub const PG18: &str = include_str!("../../../dbarch_catalog/tests/fixtures/pg18.sql");

pub async fn load(server: &TestServer, scripts: &[&str]) -> TestDb {
    let db = server.create_db().await;
    let client = db.client().await;
    // Roles are cluster-wide and tests run in parallel: a concurrent creation is fine.
    let _ = client.batch_execute("CREATE ROLE dbarch_reader").await;
    for script in scripts {
        client
            .batch_execute(script)
            .await
            .unwrap_or_else(|e| panic!("fixture loads: {e:?}\n{script}"));
    }
    db
}

pub async fn model(db: &TestDb) -> Database {
    let client = db.client().await;
    introspect(&client, &Options::default())
        .await
        .expect("introspection")
        .database
}

pub async fn major(db: &TestDb) -> u32 {
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int / 10000",
            &[],
        )
        .await
        .unwrap();
    row.get::<_, i32>(0) as u32
}

/// Panics with the first differing lines of the two models' JSON.
pub fn assert_same(expected: &Database, actual: &Database, context: &str) {
    let a = serde_json::to_string_pretty(expected).unwrap();
    let b = serde_json::to_string_pretty(actual).unwrap();
    if a != b {
        let diff: Vec<String> = a
            .lines()
            .zip(b.lines())
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .take(12)
            .map(|(i, (x, y))| format!("line {i}:\n  - {x}\n  + {y}"))
            .collect();
        panic!(
            "models differ ({context}; {} vs {} lines):\n{}",
            a.lines().count(),
            b.lines().count(),
            diff.join("\n")
        );
    }
}

async fn run_batch(client: &Client, batch: &mut Vec<String>, plan_sql: &str) {
    if batch.is_empty() {
        return;
    }
    let sql = format!("BEGIN;\n{};\nCOMMIT;", batch.join(";\n"));
    if let Err(e) = client.batch_execute(&sql).await {
        let _ = client.batch_execute("ROLLBACK").await;
        panic!("transaction failed: {e:?}\n--- statements:\n{sql}\n--- plan:\n{plan_sql}");
    }
    batch.clear();
}

/// Applies the plan: consecutive transactional steps in one transaction (a new one where a
/// step asks for it), each non-transactional step alone.
pub async fn apply(client: &Client, plan: &Plan) {
    let plan_sql = plan.to_sql();
    let mut batch: Vec<String> = Vec::new();
    for step in &plan.steps {
        if !step.transactional || step.commit_before {
            run_batch(client, &mut batch, &plan_sql).await;
        }
        if step.transactional {
            batch.push(step.sql.clone());
        } else {
            assert!(!step.sql.contains(";\n"), "one statement: {}", step.sql);
            client.batch_execute(&step.sql).await.unwrap_or_else(|e| {
                panic!("step failed: {e:?}\n{}\n--- plan:\n{plan_sql}", step.sql)
            });
        }
    }
    run_batch(client, &mut batch, &plan_sql).await;
}

pub fn reversible(plan: &Plan) -> bool {
    plan.steps
        .iter()
        .all(|s| matches!(s.reverse, Reverse::Sql(_)))
}

/// Applies the reverse of every step, last first, each in a transaction of its own unless
/// it cannot run in one.
pub async fn apply_reverse(client: &Client, plan: &Plan) {
    let down = plan.reverse_sql();
    for step in plan.steps.iter().rev() {
        let Reverse::Sql(sql) = &step.reverse else {
            panic!("irreversible step: {}", step.description);
        };
        if sql.is_empty() {
            continue;
        }
        let sql = if step.transactional {
            format!("BEGIN;\n{sql};\nCOMMIT;")
        } else {
            sql.clone()
        };
        if let Err(e) = client.batch_execute(&sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            panic!("reverse step failed: {e:?}\n{sql}\n--- down:\n{down}");
        }
    }
}
