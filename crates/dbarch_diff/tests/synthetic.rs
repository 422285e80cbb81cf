//! In-memory models: large schemas (correctness only; the time is printed, not asserted),
//! destructive refusal, and renames that are checked and never guessed.

use dbarch_diff::*;
use dbarch_model::*;
use std::time::Instant;

fn qn(schema: &str, name: &str) -> QualifiedName {
    QualifiedName::new(schema, name)
}

fn column(name: &str, data_type: &str, not_null: bool) -> Column {
    Column {
        not_null,
        ..Column::new(name, data_type)
    }
}

fn constraint(name: &str, kind: ConstraintKind, definition: String) -> Constraint {
    Constraint::new(name, kind, definition)
}

fn index(table: &str, name: &str, column: &str) -> Index {
    Index {
        name: name.into(),
        method: "btree".into(),
        keys: vec![IndexKey {
            target: IndexTarget::Column(column.into()),
            opclass: None,
            collation: None,
            descending: false,
            nulls_first: None,
        }],
        include: Vec::new(),
        unique: false,
        nulls_not_distinct: false,
        predicate: None,
        options: Vec::new(),
        valid: true,
        constraint: None,
        parent_index: None,
        definition: format!("CREATE INDEX {name} ON s.{table} USING btree ({column})"),
        comment: None,
    }
}

/// Table `t{i}`: a primary key, a foreign key to `t{i-1}`, an index on it.
fn table(i: usize) -> Table {
    let name = format!("t{i}");
    let mut constraints = vec![constraint(
        &format!("{name}_pkey"),
        ConstraintKind::PrimaryKey {
            columns: vec!["id".into()],
        },
        "PRIMARY KEY (id)".into(),
    )];
    if i > 0 {
        constraints.push(constraint(
            &format!("{name}_ref_fkey"),
            ConstraintKind::ForeignKey {
                columns: vec!["ref_id".into()],
                references: qn("s", &format!("t{}", i - 1)),
                referenced_columns: vec!["id".into()],
                on_update: FkAction::NoAction,
                on_delete: FkAction::NoAction,
                match_type: FkMatch::Simple,
            },
            format!("FOREIGN KEY (ref_id) REFERENCES s.t{}(id)", i - 1),
        ));
    }
    let mut created = column("created", "timestamp with time zone", true);
    created.default = Some("now()".into());
    Table {
        schema: "s".into(),
        name: name.clone(),
        unlogged: false,
        partition_key: None,
        partition_of: None,
        inherits: Vec::new(),
        columns: vec![
            column("id", "bigint", true),
            column("name", "text", false),
            column("ref_id", "bigint", false),
            created,
        ],
        constraints,
        indexes: vec![index(&name, &format!("{name}_ref"), "ref_id")],
        triggers: Vec::new(),
        rls_enabled: false,
        rls_forced: false,
        policies: Vec::new(),
        options: Vec::new(),
        comment: Some(format!("table {i}")),
        grants: Vec::new(),
        stats: None,
    }
}

fn view(i: usize) -> View {
    View {
        schema: "s".into(),
        name: format!("v{i}"),
        materialized: false,
        definition: format!(" SELECT id, name FROM s.t{i}"),
        columns: vec![
            ViewColumn {
                name: "id".into(),
                data_type: "bigint".into(),
                comment: None,
            },
            ViewColumn {
                name: "name".into(),
                data_type: "text".into(),
                comment: None,
            },
        ],
        options: Vec::new(),
        depends_on: vec![qn("s", &format!("t{i}"))],
        indexes: Vec::new(),
        comment: None,
        grants: Vec::new(),
    }
}

fn schema(tables: usize) -> Database {
    let mut db = Database {
        schemas: vec![Schema {
            name: "s".into(),
            comment: None,
            grants: Vec::new(),
        }],
        tables: (0..tables).map(table).collect(),
        views: (0..tables).step_by(10).map(view).collect(),
        ..Default::default()
    };
    db.normalize();
    db
}

#[test]
fn ten_thousand_tables() {
    const N: usize = 10_000;
    let from = schema(N);
    let mut to = from.clone();
    // The last ten tables go (they only reference each other and the one before).
    to.tables
        .retain(|t| t.name[1..].parse::<usize>().is_ok_and(|i| i < N - 10));
    to.views
        .retain(|v| v.name[1..].parse::<usize>().is_ok_and(|i| i < N - 10));
    for t in &mut to.tables {
        let i: usize = t.name[1..].parse().unwrap();
        if i.is_multiple_of(10) {
            t.columns.push(column("extra", "integer", false));
        }
        if i.is_multiple_of(100) {
            t.indexes[0].definition.push_str(" WHERE (ref_id > 0)");
        }
        if i.is_multiple_of(1000) {
            t.columns[1].data_type = "character varying(100)".into();
            t.comment = Some("changed".into());
        }
    }
    // Ten new tables in a chain of their own.
    to.tables.extend((N..N + 10).map(table));
    let first_new = to.tables.len() - 10;
    to.tables[first_new].constraints.truncate(1);
    to.normalize();

    let start = Instant::now();
    let opts = DiffOptions {
        allow_destructive: true,
        renames: Vec::new(),
    };
    let changes = diff(&from, &to, &opts).expect("diff");
    let diffed = start.elapsed();
    let p = plan(&changes, &PlanContext::default());
    let total = start.elapsed();
    eprintln!(
        "diff + plan of two {N}-table models: {} changes, {} steps; diff {diffed:?}, total {total:?}",
        changes.len(),
        p.steps.len()
    );

    let count = |kind: &str| {
        changes
            .iter()
            .filter(|c| serde_json::to_value(c).unwrap()["kind"] == kind)
            .count()
    };
    assert_eq!(count("drop_table"), 10);
    assert_eq!(count("create_table"), 10);
    let every = |k: usize| (0..N - 10).filter(|i| i.is_multiple_of(k)).count();
    assert_eq!(count("add_column"), every(10));
    assert_eq!(count("drop_index"), every(100));
    assert_eq!(count("create_index"), every(100));
    assert_eq!(count("alter_column_type"), N / 1000);
    // The views over the retyped tables are dropped and created again.
    assert_eq!(count("drop_view"), N / 1000 + 1);
    assert_eq!(count("create_view"), N / 1000);
    assert_eq!(count("set_comment"), N / 1000 + 10);
    // Drops of tables come before creations, and dependents before what they depend on.
    let pos = |pred: &dyn Fn(&Change) -> bool| changes.iter().position(pred).unwrap();
    let drop_9999 = pos(&|c| matches!(c, Change::DropTable { table } if table.name == "t9999"));
    let drop_9990 = pos(&|c| matches!(c, Change::DropTable { table } if table.name == "t9990"));
    assert!(drop_9999 < drop_9990, "referencing tables first");
    assert!(
        diff(&from, &from, &DiffOptions::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn destructive_changes_are_refused_with_advice() {
    let from = schema(3);
    let mut to = from.clone();
    to.tables.retain(|t| t.name != "t2");
    to.tables[0].columns.retain(|c| c.name != "name");
    let err = diff(&from, &to, &DiffOptions::default()).unwrap_err();
    let DiffError::Destructive { changes, help } = &err else {
        panic!("{err}")
    };
    assert_eq!(changes, &["drop table s.t2", "drop column s.t0.name"]);
    assert!(help.contains("expand/contract") && help.contains("--allow-destructive"));
    assert!(
        err.to_string()
            .starts_with("refusing 2 destructive change(s)")
    );
}

#[test]
fn renames_are_checked_and_never_guessed() {
    let from = schema(2);
    let mut to = from.clone();
    to.tables[1].name = "renamed".into();
    let i = &mut to.tables[1].indexes[0];
    i.definition = i.definition.replace(" ON s.t1 ", " ON s.renamed ");
    to.normalize();
    // Without the option: drop + create (refused as destructive).
    assert!(matches!(
        diff(&from, &to, &DiffOptions::default()),
        Err(DiffError::Destructive { .. })
    ));
    // With it: a rename, and the foreign key's definition follows.
    let opts = DiffOptions {
        allow_destructive: false,
        renames: vec!["s.t1=renamed".parse().unwrap()],
    };
    let changes = diff(&from, &to, &opts).unwrap();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert!(matches!(&changes[0], Change::RenameTable { to, .. } if to.name == "renamed"));

    // A rename of something that is not there is an error that names it.
    let opts = DiffOptions {
        allow_destructive: true,
        renames: vec!["s.nope=other".parse().unwrap()],
    };
    let err = diff(&from, &to, &opts).unwrap_err();
    assert!(err.to_string().contains("s.nope"), "{err}");
    assert!("a.b.c.d=e".parse::<Rename>().is_err());
    assert!("s.t=x.y".parse::<Rename>().is_err());
    assert_eq!(
        "s.t.c=d".parse::<Rename>().unwrap(),
        Rename::Column {
            table: qn("s", "t"),
            from: "c".into(),
            to: "d".into()
        }
    );
}
