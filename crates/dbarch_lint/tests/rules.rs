//! Every rule against its own `resources/<CODE>/bad.sql` (findings snapshotted) and
//! `good.sql` (no finding of that rule), on a real PostgreSQL 18 with pgvector.

use dbarch_catalog::{Options, introspect};
use dbarch_lint::{Check, Context, MigrationFile, lint_migration, lint_schema, rules};
use dbarch_testing::TestServer;

async fn findings(sql: &str, code: &str) -> Vec<dbarch_report::Diagnostic> {
    let db = TestServer::pg18().create_db().await;
    let client = db.client().await;
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{code} resource loads: {e:?}"));
    let model = introspect(
        &client,
        &Options {
            stats: true,
            ..Default::default()
        },
    )
    .await
    .expect("introspection")
    .database;
    let ctx = Context {
        workload: sql
            .lines()
            .filter_map(|l| l.strip_prefix("-- dbarch-test: workload="))
            .map(str::to_string)
            .collect(),
        ..Default::default()
    };
    lint_schema(&model, &ctx)
        .into_iter()
        .filter(|d| d.code == code)
        .collect()
}

/// Findings of rule `code` on a migration resource. A `setup.sql` beside it is loaded into
/// a PostgreSQL 18 database whose schema (with statistics) is the catalog the migration is
/// linted against; `-- dbarch-test: server_version_num=N` lines set the server version.
async fn migration_findings(
    dir: &std::path::Path,
    file: &str,
    sql: &str,
    code: &str,
) -> Vec<dbarch_report::Diagnostic> {
    let mut ctx = Context::default();
    for line in sql.lines() {
        if let Some(v) = line.strip_prefix("-- dbarch-test: server_version_num=") {
            let v: u32 = v.trim().parse().expect("a version number");
            ctx.server_version_num = Some(v);
            ctx.server_major = Some(v / 10000);
        }
        if let Some(v) = line.strip_prefix("-- dbarch-test: maintenance_work_mem=") {
            ctx.maintenance_work_mem = Some(v.trim().parse().expect("bytes"));
        }
        if let Some(v) = line.strip_prefix("-- dbarch-test: enable=") {
            ctx.enable.push(v.trim().to_string());
        }
    }
    if !rules().iter().any(|r| r.code == code && r.default_enabled) {
        ctx.enable.push(code.to_string());
    }
    let catalog = match std::fs::read_to_string(dir.join("setup.sql")) {
        Ok(setup) => {
            let db = TestServer::pg18().create_db().await;
            let client = db.client().await;
            client
                .batch_execute(&setup)
                .await
                .unwrap_or_else(|e| panic!("{code} setup.sql loads: {e:?}"));
            client.batch_execute("ANALYZE").await.unwrap();
            Some(
                introspect(
                    &client,
                    &Options {
                        stats: true,
                        ..Default::default()
                    },
                )
                .await
                .expect("introspection")
                .database,
            )
        }
        Err(_) => None,
    };
    lint_migration(
        &MigrationFile {
            name: file,
            sql,
            transactional: None,
        },
        &ctx,
        catalog.as_ref(),
    )
    .into_iter()
    .filter(|d| d.code == code)
    .collect()
}

#[tokio::test]
async fn every_rule_flags_its_bad_example_and_passes_its_good_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("resources");
    // Trace findings come from running migrations: tests/cli covers them.
    for rule in rules().iter().filter(|r| !matches!(r.check, Check::Trace)) {
        let dir = root.join(rule.code);
        let bad = std::fs::read_to_string(dir.join("bad.sql"))
            .unwrap_or_else(|e| panic!("{} needs resources/{}/bad.sql: {e}", rule.code, rule.code));
        let good = std::fs::read_to_string(dir.join("good.sql")).unwrap_or_else(|e| {
            panic!("{} needs resources/{}/good.sql: {e}", rule.code, rule.code)
        });
        let schema_rule = matches!(rule.check, Check::Schema(_));
        let flagged = if schema_rule {
            findings(&bad, rule.code).await
        } else {
            migration_findings(&dir, "bad.sql", &bad, rule.code).await
        };
        assert!(
            !flagged.is_empty(),
            "{} did not flag its bad.sql",
            rule.code
        );
        insta::assert_json_snapshot!(format!("{}-{}", rule.code, rule.name), flagged);
        let clean = if schema_rule {
            findings(&good, rule.code).await
        } else {
            migration_findings(&dir, "good.sql", &good, rule.code).await
        };
        assert!(
            clean.is_empty(),
            "{} flagged its good.sql: {clean:#?}",
            rule.code
        );
    }
}

/// The bundled example carries the seed document's design mistakes: lint finds them.
#[tokio::test]
async fn the_bundled_example_shows_the_seed_documents_mistakes() {
    let db = TestServer::pg18().create_db().await;
    let mut client = db.client().await;
    dbarch_example::load(
        &mut client,
        &dbarch_example::LoadOptions {
            rows: 200,
            ..Default::default()
        },
    )
    .await
    .expect("example loads");
    let model = introspect(
        &client,
        &Options {
            stats: true,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .database;
    let found = lint_schema(&model, &Context::default());
    let has = |code: &str, object: &str| {
        found
            .iter()
            .any(|d| d.code == code && d.object.as_deref().is_some_and(|o| o.contains(object)))
    };
    assert!(
        has("S001", "document_chunks.document_chunks_document_id_fkey"),
        "{found:#?}"
    );
    assert!(has("S001", "document_embeddings"));
    assert!(has("S001", "documents.documents_user_id_fkey"));
    assert!(!has("S001", "ai_logs"), "ai_logs.user_id is indexed");
    assert!(has("S003", "idx_users_email"));
    assert!(has("S005", "users.email"));
    assert!(has("S007", "users.updated_at"));
    assert!(has("S008", "ai_logs.created_at"));
    assert!(has("S009", "document_chunks.id"));
    assert!(has("V002", "document_chunks_embedding_idx"));
    assert!(
        !found.iter().any(|d| d.code == "V001"),
        "every vector column is indexed"
    );
}

/// docs/rules/ is generated from the rules' doc comments; this fails when it is stale.
/// Regenerate with `DBARCH_UPDATE_DOCS=1 cargo test -p dbarch_lint --test rules`.
#[test]
fn rule_docs_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let update = std::env::var_os("DBARCH_UPDATE_DOCS").is_some();
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut index = String::from(
        "# Rules\n\nGenerated from each rule's doc comment (`crates/dbarch_lint/src/rules/`).\n\n| Code | Name | Severity | Summary |\n|---|---|---|---|\n",
    );
    for r in rules() {
        let page = format!(
            "# {} {}\n\nFamily: {} · default severity: {}\n\n{}",
            r.code,
            r.name,
            r.family.title(),
            r.severity,
            r.doc()
        );
        index.push_str(&format!(
            "| [{}]({}.md) | `{}` | {} | {} |\n",
            r.code,
            r.code,
            r.name,
            r.severity,
            r.summary().replace('|', "\\|")
        ));
        let path = dir.join(format!("{}.md", r.code));
        if update {
            std::fs::write(&path, &page).unwrap();
        } else {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                current,
                page,
                "{} is stale: regenerate docs/rules",
                path.display()
            );
        }
    }
    let path = dir.join("README.md");
    if update {
        std::fs::write(&path, &index).unwrap();
    } else {
        assert_eq!(
            std::fs::read_to_string(&path).unwrap_or_default(),
            index,
            "docs/rules/README.md is stale"
        );
    }
}
