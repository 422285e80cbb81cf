//! Every lock a rule's documentation claims (its `Lock:` line) is checked against what
//! PostgreSQL 18 really takes: the rule's `bad.sql` runs on a database prepared by its
//! `setup.sql`, traced statement by statement (`pg_locks` of the migration's own session,
//! read inside its transaction; observed from a second session for statements that cannot
//! run in one).

use dbarch_lint::{Check, rules};
use dbarch_testing::TestServer;
use dbarch_trace::{LockMode, Script, TraceOptions, trace_script_with};

/// The lock modes named on the doc's `Lock:` lines (pg_locks spelling, e.g. `ShareLock`).
fn claimed(doc: &str) -> Vec<LockMode> {
    doc.lines()
        .filter(|l| l.trim_start().starts_with("Lock:"))
        .flat_map(|l| {
            l.split(|c: char| !c.is_ascii_alphanumeric())
                .filter_map(LockMode::parse)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn documented_locks_match_pg_locks() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("resources");
    let mut checked = 0;
    for rule in rules() {
        if !matches!(rule.check, Check::Statement(_) | Check::File(_)) {
            continue;
        }
        let modes = claimed(&rule.doc());
        if modes.is_empty() {
            continue;
        }
        let dir = root.join(rule.code);
        let setup = std::fs::read_to_string(dir.join("setup.sql")).unwrap_or_else(|e| {
            panic!(
                "{}: its docs claim locks, so it needs resources/{}/setup.sql: {e}",
                rule.code, rule.code
            )
        });
        let bad = std::fs::read_to_string(dir.join("bad.sql")).unwrap();
        let db = TestServer::pg18().create_db().await;
        let client = db.client().await;
        let observer = db.client().await;
        client
            .batch_execute(&setup)
            .await
            .unwrap_or_else(|e| panic!("{} setup.sql: {e:?}", rule.code));
        let statements = dbarch_migrate::split::statements(&bad);
        let transactional = !dbarch_migrate::split::manages_transactions(&bad)
            && !bad.lines().any(|l| l.trim() == "-- dbarch:no-transaction");
        let script = Script::new(&bad, statements, transactional);
        let trace = trace_script_with(
            &client,
            &script,
            &TraceOptions {
                observer: Some(&observer),
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{} trace: {e:?}", rule.code));
        let held: Vec<LockMode> = trace
            .statements
            .iter()
            .flat_map(|s| s.locks.iter().map(|l| l.mode))
            .collect();
        for mode in &modes {
            assert!(
                held.contains(mode),
                "{}: docs claim {} but bad.sql held only {:?}\n{:#?}",
                rule.code,
                mode.as_str(),
                held.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
                trace.statements
            );
        }
        // The claimed strongest lock is the strongest one taken on a relation that existed.
        let strongest_claim = modes.iter().max().unwrap();
        let strongest_held = trace
            .statements
            .iter()
            .flat_map(|s| s.locks.iter().filter(|l| !l.new).map(|l| l.mode))
            .max();
        assert_eq!(
            strongest_held,
            Some(*strongest_claim),
            "{}: strongest lock held on existing relations differs from the docs",
            rule.code
        );
        checked += 1;
    }
    assert!(checked >= 1, "no rule documents its locks");
}
