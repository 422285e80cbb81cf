//! The planner's forms, locks and flags, on hand-made changes (no server needed).

use dbarch_diff::*;
use dbarch_model::*;

fn qn(schema: &str, name: &str) -> QualifiedName {
    QualifiedName::new(schema, name)
}

fn index(name: &str, method: &str, definition: &str) -> Index {
    Index {
        name: name.into(),
        method: method.into(),
        keys: Vec::new(),
        include: Vec::new(),
        unique: false,
        nulls_not_distinct: false,
        predicate: None,
        options: Vec::new(),
        valid: true,
        constraint: None,
        parent_index: None,
        definition: definition.into(),
        comment: None,
    }
}

fn column(name: &str, data_type: &str) -> Column {
    Column::new(name, data_type)
}

fn online(major: u32) -> PlanContext {
    PlanContext {
        server_major: major,
        online: true,
    }
}

const OFFLINE: PlanContext = PlanContext {
    server_major: 18,
    online: false,
};

fn lock(relation: &str, mode: LockMode) -> LockClaim {
    LockClaim {
        relation: relation.into(),
        mode,
    }
}

fn create_index(i: Index) -> Change {
    Change::CreateIndex {
        table: qn("app", "t"),
        index: i,
        partitions: Vec::new(),
        new_table: false,
    }
}

#[test]
fn create_index_is_concurrent_and_alone_online() {
    let change = create_index(index(
        "t_a",
        "btree",
        "CREATE INDEX t_a ON app.t USING btree (a)",
    ));
    let p = plan(std::slice::from_ref(&change), &online(18));
    let [step] = p.steps.as_slice() else {
        panic!("{p:#?}")
    };
    assert_eq!(
        step.sql,
        "CREATE INDEX CONCURRENTLY t_a ON app.t USING btree (a)"
    );
    assert!(!step.transactional);
    assert_eq!(step.locks, [lock("app.t", LockMode::ShareUpdateExclusive)]);
    assert!(step.scans_table && !step.rewrites_table);
    assert_eq!(step.hazards, [Hazard::LongRunning]);
    assert_eq!(
        step.reverse,
        Reverse::Sql("DROP INDEX CONCURRENTLY IF EXISTS app.t_a".into())
    );

    // Plain: in a transaction, SHARE (blocks writes for the whole build).
    let p = plan(&[change], &OFFLINE);
    let step = &p.steps[0];
    assert_eq!(step.sql, "CREATE INDEX t_a ON app.t USING btree (a)");
    assert!(step.transactional);
    assert_eq!(step.locks, [lock("app.t", LockMode::Share)]);
    assert!(step.hazards.contains(&Hazard::BlocksWrites));
}

#[test]
fn vector_indexes_carry_memory_advice() {
    let change = create_index(index(
        "t_emb",
        "hnsw",
        "CREATE INDEX t_emb ON app.t USING hnsw (emb vector_cosine_ops)",
    ));
    let p = plan(&[change], &online(18));
    let step = &p.steps[0];
    assert!(step.sql.starts_with("CREATE INDEX CONCURRENTLY"));
    assert!(step.notes[0].contains("maintenance_work_mem"));
    assert!(step.hazards.contains(&Hazard::LongRunning));
    assert!(p.to_sql().contains("-- note: pgvector index build"));
}

#[test]
fn drop_index_is_concurrent_online() {
    let change = Change::DropIndex {
        table: qn("app", "t"),
        index: index("t_a", "btree", "CREATE INDEX t_a ON app.t USING btree (a)"),
        partitions: Vec::new(),
    };
    let step = &plan(&[change], &online(15)).steps[0];
    assert_eq!(step.sql, "DROP INDEX CONCURRENTLY app.t_a");
    assert!(!step.transactional);
    assert_eq!(
        step.reverse,
        Reverse::Sql("CREATE INDEX CONCURRENTLY t_a ON app.t USING btree (a)".into())
    );
}

#[test]
fn set_not_null_path_depends_on_the_server() {
    let change = Change::SetNotNull {
        table: qn("app", "t"),
        column: "a".into(),
    };
    // PostgreSQL 15-17: a validated CHECK lets SET NOT NULL skip its scan.
    let p = plan(std::slice::from_ref(&change), &online(17));
    let sql: Vec<&str> = p.steps.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        [
            "ALTER TABLE app.t ADD CONSTRAINT t_a_not_null_dbarch CHECK (a IS NOT NULL) NOT VALID",
            "ALTER TABLE app.t VALIDATE CONSTRAINT t_a_not_null_dbarch",
            "ALTER TABLE app.t ALTER COLUMN a SET NOT NULL;\n\
             ALTER TABLE app.t DROP CONSTRAINT IF EXISTS t_a_not_null_dbarch",
        ]
    );
    assert!(!p.steps[0].scans_table);
    assert_eq!(p.steps[0].locks, [lock("app.t", LockMode::AccessExclusive)]);
    assert!(p.steps[1].scans_table && p.steps[1].commit_before);
    assert_eq!(
        p.steps[1].locks,
        [lock("app.t", LockMode::ShareUpdateExclusive)]
    );
    assert!(!p.steps[1].hazards.contains(&Hazard::BlocksWrites));
    assert!(!p.steps[2].scans_table && p.steps[2].commit_before);

    // PostgreSQL 18: NOT NULL ... NOT VALID, then VALIDATE.
    let p = plan(std::slice::from_ref(&change), &online(18));
    let sql: Vec<&str> = p.steps.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        [
            "ALTER TABLE app.t ADD CONSTRAINT t_a_not_null NOT NULL a NOT VALID",
            "ALTER TABLE app.t VALIDATE CONSTRAINT t_a_not_null",
        ]
    );

    // Plain: one scanning step under ACCESS EXCLUSIVE.
    let p = plan(&[change], &OFFLINE);
    assert_eq!(p.steps.len(), 1);
    assert!(p.steps[0].hazards.contains(&Hazard::BlocksReads));
}

#[test]
fn foreign_keys_are_added_not_valid_then_validated() {
    let fk = Constraint {
        name: "c_p_fk".into(),
        kind: ConstraintKind::ForeignKey {
            columns: vec!["p".into()],
            references: qn("app", "parent"),
            referenced_columns: vec!["id".into()],
            on_update: FkAction::NoAction,
            on_delete: FkAction::NoAction,
            match_type: FkMatch::Simple,
        },
        definition: "FOREIGN KEY (p) REFERENCES app.parent(id)".into(),
        deferrable: false,
        initially_deferred: false,
        validated: true,
        is_local: true,
        comment: None,
    };
    let change = Change::AddConstraint {
        table: qn("app", "child"),
        constraint: fk,
        index: None,
        new_table: false,
    };
    let p = plan(std::slice::from_ref(&change), &online(18));
    assert_eq!(p.steps.len(), 2);
    assert_eq!(
        p.steps[0].sql,
        "ALTER TABLE app.child ADD CONSTRAINT c_p_fk FOREIGN KEY (p) REFERENCES app.parent(id) NOT VALID"
    );
    assert_eq!(
        p.steps[0].locks,
        [
            lock("app.child", LockMode::ShareRowExclusive),
            lock("app.parent", LockMode::ShareRowExclusive)
        ]
    );
    assert!(!p.steps[0].scans_table);
    assert_eq!(
        p.steps[1].locks,
        [
            lock("app.child", LockMode::ShareUpdateExclusive),
            lock("app.parent", LockMode::RowShare)
        ]
    );
    assert!(p.steps[1].commit_before && p.steps[1].scans_table);

    // On a new table: the plain form.
    let Change::AddConstraint { constraint, .. } = change else {
        unreachable!()
    };
    let p = plan(
        &[Change::AddConstraint {
            table: qn("app", "child"),
            constraint,
            index: None,
            new_table: true,
        }],
        &online(18),
    );
    assert_eq!(p.steps.len(), 1);
    assert!(!p.steps[0].sql.contains("NOT VALID"));
}

#[test]
fn adding_a_column_rewrites_only_with_a_volatile_default() {
    let mut c = column("created", "timestamp with time zone");
    c.default = Some("now()".into());
    let add = |c: &Column| Change::AddColumn {
        table: qn("app", "t"),
        column: c.clone(),
    };
    let step = &plan(&[add(&c)], &online(18)).steps[0];
    assert!(!step.rewrites_table && step.hazards.is_empty());
    c.default = Some("clock_timestamp()".into());
    let step = &plan(&[add(&c)], &online(18)).steps[0];
    assert!(step.rewrites_table);
    assert_eq!(
        step.hazards,
        [
            Hazard::LongRunning,
            Hazard::BlocksWrites,
            Hazard::BlocksReads,
            Hazard::Rewrite
        ]
    );
}

#[test]
fn type_changes_rewrite_unless_binary_coercible() {
    let change = |from: &str, to: &str| Change::AlterColumnType {
        table: qn("app", "t"),
        column: "a".into(),
        from: ColumnType {
            data_type: from.into(),
            collation: None,
        },
        to: ColumnType {
            data_type: to.into(),
            collation: None,
        },
    };
    let p = plan(
        &[
            change("character varying(10)", "character varying(20)"),
            change("integer", "bigint"),
        ],
        &online(18),
    );
    assert!(!p.steps[0].rewrites_table);
    assert_eq!(
        p.steps[0].sql,
        "ALTER TABLE app.t ALTER COLUMN a TYPE character varying(20)"
    );
    assert!(p.steps[1].rewrites_table);
    assert!(p.steps[1].sql.ends_with("USING a::bigint"));
    assert!(p.steps[1].hazards.contains(&Hazard::Rewrite));
}

#[test]
fn scripts_mark_transactions_and_irreversible_steps() {
    let changes = [
        Change::DropColumn {
            table: qn("app", "t"),
            column: column("b", "integer"),
        },
        create_index(index(
            "t_a",
            "btree",
            "CREATE INDEX t_a ON app.t USING btree (a)",
        )),
        Change::AddEnumValue {
            type_name: qn("app", "mood"),
            value: "meh".into(),
            position: Some(EnumPosition::Before("sad".into())),
        },
    ];
    let p = plan(&changes, &online(18));
    assert!(!p.is_transactional());
    let sql = p.to_sql();
    assert!(sql.starts_with("-- dbarch migration: 3 step(s)\n-- dbarch:no-transaction\n"));
    let expected = "BEGIN;\n\n-- step 1: drop column app.t.b\n-- locks: ACCESS EXCLUSIVE on app.t\n\
        -- hazards: DataLoss\nALTER TABLE app.t DROP COLUMN b;\n\nCOMMIT;\n\n\
        -- dbarch:no-transaction\n\n-- step 2: create index t_a on app.t\n";
    assert!(sql.contains(expected), "{sql}");
    assert!(sql.contains("ALTER TYPE app.mood ADD VALUE 'meh' BEFORE 'sad';\n\nCOMMIT;\n"));
    let down = p.reverse_sql();
    assert!(
        down.contains("-- irreversible: step 1 (drop column app.t.b): data loss"),
        "{down}"
    );
    assert!(down.contains("-- irreversible: step 3"), "{down}");
    assert!(
        down.contains("DROP INDEX CONCURRENTLY IF EXISTS app.t_a;"),
        "{down}"
    );

    // A plan that fits one transaction is a plain list of statements.
    let p = plan(&changes[..1], &online(18));
    assert!(p.is_transactional());
    assert!(!p.to_sql().contains("BEGIN") && !p.to_sql().contains("dbarch:no-transaction"));
}

#[test]
fn changes_serialize_with_a_kind_tag() {
    let change = Change::SetNotNull {
        table: qn("app", "t"),
        column: "a".into(),
    };
    let json = serde_json::to_value(&change).unwrap();
    assert_eq!(json["kind"], "set_not_null");
    assert_eq!(json["table"]["schema"], "app");
    let step = serde_json::to_value(&plan(&[change], &online(18)).steps[0]).unwrap();
    assert_eq!(step["locks"][0]["mode"], "AccessExclusive");
}
