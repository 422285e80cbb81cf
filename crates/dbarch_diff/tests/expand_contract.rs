//! `plan_expand_contract` on hand-made models (no server): what is expanded, what stays in
//! place and why, and the shape of the three plans. The end-to-end behaviour (sync under
//! concurrent writes, contract, down, resume after kill -9) is tested on PostgreSQL 18 in
//! `crates/dbarch/tests/migrate_online.rs`.

use dbarch_diff::*;
use dbarch_model::{Database, QualifiedName};

fn db(tables: serde_json::Value) -> Database {
    serde_json::from_value(serde_json::json!({ "tables": tables })).unwrap()
}

fn table(name: &str, columns: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "schema": "app", "name": name, "columns": columns,
        "constraints": [{"name": format!("{name}_pkey"), "type": "primary_key",
                         "columns": ["id"], "definition": "PRIMARY KEY (id)"}],
    })
}

fn col(name: &str, ty: &str) -> serde_json::Value {
    serde_json::json!({"name": name, "data_type": ty})
}

fn staged(from: &Database, to: &Database, renames: Vec<Rename>, ctx: &PlanContext) -> Staged {
    let changes = diff(
        from,
        to,
        &DiffOptions {
            allow_destructive: false,
            renames,
        },
    )
    .unwrap();
    plan_expand_contract(&changes, from, to, ctx)
}

#[test]
fn a_rename_and_a_type_change_become_expand_and_contract() {
    let from = db(serde_json::json!([table(
        "t",
        serde_json::json!([col("id", "bigint"), col("a", "text"), col("n", "integer")])
    )]));
    let mut n = col("n", "bigint");
    n["not_null"] = true.into();
    n["default"] = "0".into();
    let to = db(serde_json::json!([table(
        "t",
        serde_json::json!([col("id", "bigint"), col("b", "text"), n])
    )]));
    let s = staged(
        &from,
        &to,
        vec![Rename::Column {
            table: QualifiedName::new("app", "t"),
            from: "a".into(),
            to: "b".into(),
        }],
        &PlanContext::default(),
    );
    assert_eq!(s.notes.len(), 2, "{:?}", s.notes);
    let up = s.expand_sql();
    assert!(up.contains("ALTER TABLE app.t ADD COLUMN b text"), "{up}");
    assert!(
        up.contains("ALTER TABLE app.t ADD COLUMN n_dbarch_new bigint;"),
        "{up}"
    );
    assert!(
        !up.contains("RENAME COLUMN") && !up.contains("ALTER COLUMN n TYPE"),
        "{up}"
    );
    assert!(up.contains("-- dbarch:backfill table=app.t set=\"n_dbarch_new = n::bigint\""));
    // The directive is a line of its own, without `;`.
    assert!(!up.contains("::bigint\";"), "{up}");
    assert!(up.contains("NOT NULL n_dbarch_new NOT VALID"), "{up}");
    assert!(
        !up.contains("SET DEFAULT"),
        "the default waits for the contract: {up}"
    );
    let contract = s.contract_sql();
    assert!(contract.contains("only after every application instance"));
    assert!(
        contract.contains("ALTER TABLE app.t DROP COLUMN a;"),
        "{contract}"
    );
    assert!(
        contract.contains("RENAME COLUMN n_dbarch_new TO n"),
        "{contract}"
    );
    assert!(contract.contains("RENAME CONSTRAINT t_n_dbarch_new_not_null TO t_n_not_null"));
    assert!(
        contract.contains("ALTER COLUMN n SET DEFAULT 0"),
        "{contract}"
    );
    let down = s.contract_down_sql();
    assert!(
        down.contains("ALTER TABLE app.t ADD COLUMN a text"),
        "{down}"
    );
    assert!(down.contains("set=\"n = n_dbarch_new::integer\""), "{down}");
    assert!(
        s.expand_down_sql()
            .contains("DROP COLUMN IF EXISTS n_dbarch_new")
    );
}

#[test]
fn what_cannot_be_expanded_stays_in_place_with_the_reason() {
    let mut id = col("n", "integer");
    id["identity"] = serde_json::json!({"always": false});
    let from = db(serde_json::json!([table(
        "t",
        serde_json::json!([col("id", "bigint"), id])
    )]));
    let mut id2 = col("n", "bigint");
    id2["identity"] = serde_json::json!({"always": false});
    let to = db(serde_json::json!([table(
        "t",
        serde_json::json!([col("id", "bigint"), id2])
    )]));
    let s = staged(&from, &to, Vec::new(), &PlanContext::default());
    assert!(s.contract.is_empty());
    assert!(
        s.notes[0].starts_with("in place (identity column)"),
        "{:?}",
        s.notes
    );
    assert!(s.expand_sql().contains("ALTER COLUMN n TYPE bigint"));

    // Binary-coercible changes and plain forms are never expanded.
    let from = db(serde_json::json!([table(
        "t",
        serde_json::json!([col("id", "bigint"), col("v", "character varying(10)")])
    )]));
    let to = db(serde_json::json!([table(
        "t",
        serde_json::json!([col("id", "bigint"), col("v", "text")])
    )]));
    let s = staged(&from, &to, Vec::new(), &PlanContext::default());
    assert!(s.contract.is_empty() && s.notes.is_empty());
    let to = db(serde_json::json!([table(
        "t",
        serde_json::json!([col("id", "bigint"), col("v", "bigint")])
    )]));
    let offline = PlanContext {
        server_major: 18,
        online: false,
    };
    let s = staged(&from, &to, Vec::new(), &offline);
    assert!(s.contract.is_empty());
    assert_eq!(
        s.expand,
        plan(
            &diff(&from, &to, &DiffOptions::default()).unwrap(),
            &offline
        )
    );
}
