//! Fixpoint: planning a schema from nothing, applying the plan to an empty database and
//! introspecting it gives the schema back, and diffing again finds nothing.

mod common;

use common::*;
use dbarch_diff::{DiffOptions, PlanContext, diff, plan};
use dbarch_model::Database;
use dbarch_testing::TestServer;

/// Returns the online plan's script.
async fn fixpoint(server: &TestServer, scripts: &[&str]) -> String {
    let source = load(server, scripts).await;
    let target = model(&source).await;
    let major = major(&source).await;
    let changes = diff(&Database::default(), &target, &DiffOptions::default()).expect("diff");
    assert!(!changes.is_empty());
    let mut script = String::new();
    for online in [false, true] {
        let ctx = PlanContext {
            server_major: major,
            online,
        };
        let plan = plan(&changes, &ctx);
        let db = server.create_db().await;
        let client = db.client().await;
        let _ = client.batch_execute("CREATE ROLE dbarch_reader").await;
        apply(&client, &plan).await;
        let built = model(&db).await;
        assert_same(&target, &built, &format!("online = {online}"));
        let again = diff(&target, &built, &DiffOptions::default()).expect("diff");
        assert!(again.is_empty(), "second diff: {again:#?}");
        script = plan.to_sql();
    }
    script
}

#[tokio::test]
async fn fixpoint_of_the_catalog_fixtures_on_pg15() {
    fixpoint(TestServer::pg15(), &[COMMON]).await;
}

#[tokio::test]
async fn fixpoint_of_the_catalog_fixtures_on_pg18() {
    fixpoint(TestServer::pg18(), &[COMMON, PG18]).await;
}

#[tokio::test]
async fn fixpoint_of_the_bundled_example() {
    let script = fixpoint(TestServer::pg18(), &[dbarch_example::SCHEMA_SQL]).await;
    insta::assert_snapshot!("example_from_empty", script);
}
