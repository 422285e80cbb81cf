//! Introspection against real servers: every object kind on PostgreSQL 15 and 18, the round
//! trip through canonical DDL, determinism, filters, and the locks inspect takes.

use dbarch_catalog::{Filter, Introspection, Options, introspect};
use dbarch_model::*;
use dbarch_testing::{TestDb, TestServer};
use std::time::Duration;

const COMMON: &str = include_str!("fixtures/common.sql");
const PG18: &str = include_str!("fixtures/pg18.sql");

async fn load(server: &TestServer, scripts: &[&str]) -> TestDb {
    let db = server.create_db().await;
    let client = db.client().await;
    // Roles are cluster-wide and tests run in parallel: a concurrent creation is fine.
    let _ = client.batch_execute("CREATE ROLE dbarch_reader").await;
    for script in scripts {
        client.batch_execute(script).await.expect("fixture loads");
    }
    db
}

async fn inspect(db: &TestDb, options: &Options) -> Introspection {
    let client = db.client().await;
    introspect(&client, options).await.expect("introspection")
}

fn table<'a>(db: &'a Database, schema: &str, name: &str) -> &'a Table {
    db.table(&QualifiedName::new(schema, name))
        .unwrap_or_else(|| panic!("table {schema}.{name} in model"))
}

fn constraint<'a>(t: &'a Table, name: &str) -> &'a Constraint {
    t.constraints
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("constraint {name} on {}", t.name))
}

fn index<'a>(t: &'a Table, name: &str) -> &'a Index {
    t.indexes
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("index {name} on {}", t.name))
}

/// Assertions that hold on every supported version.
fn check_common(db: &Database) {
    // Schemas: user schemas only, with comments and grants; bookkeeping left out.
    let names: Vec<&str> = db.schemas.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["app", "public"]);
    let app = &db.schemas[0];
    assert_eq!(app.comment.as_deref(), Some("Application objects"));
    assert!(
        app.grants
            .iter()
            .any(|g| g.grantee == "dbarch_reader" && g.privilege == "USAGE")
    );
    assert!(db.tables.iter().all(|t| t.schema != "_dbarch"));

    // Types.
    let mood = db.types.iter().find(|t| t.name == "mood").expect("enum");
    assert_eq!(
        mood.kind,
        TypeKind::Enum {
            labels: vec!["sad".into(), "ok".into(), "happy".into()]
        }
    );
    assert_eq!(mood.comment.as_deref(), Some("How a user feels"));
    let email = db.types.iter().find(|t| t.name == "email").expect("domain");
    match &email.kind {
        TypeKind::Domain {
            base_type,
            not_null,
            collation,
            checks,
            ..
        } => {
            assert_eq!(base_type, "text");
            assert!(*not_null);
            assert_eq!(collation.as_deref(), Some("\"C\""));
            assert_eq!(checks[0].name, "email_has_at");
            assert!(checks[0].definition.contains("~~ '%@%'"), "{checks:?}");
        }
        other => panic!("domain expected, got {other:?}"),
    }
    let money = db
        .types
        .iter()
        .find(|t| t.name == "money_amount")
        .expect("composite");
    match &money.kind {
        TypeKind::Composite { attributes } => {
            assert_eq!(attributes[0].name, "currency");
            assert_eq!(attributes[0].data_type, "character(3)");
            assert_eq!(attributes[1].data_type, "numeric(12,2)");
        }
        other => panic!("composite expected, got {other:?}"),
    }

    // Sequences: the free-standing one with its options and owner; serial's with its owner;
    // identity sequences belong to their columns.
    let seq = db
        .sequences
        .iter()
        .find(|s| s.name == "invoice_no")
        .expect("sequence");
    assert_eq!(seq.data_type, "bigint");
    assert_eq!(
        seq.options,
        SequenceOptions {
            start: 1000,
            increment: 5,
            min_value: 1000,
            max_value: 999999,
            cache: 10,
            cycle: true
        }
    );
    assert_eq!(
        seq.owned_by.as_ref().map(|o| o.column.as_str()),
        Some("number")
    );
    assert!(db.sequences.iter().any(|s| s.name == "invoices_id_seq"));
    assert!(!db.sequences.iter().any(|s| s.name == "accounts_id_seq"));

    // Functions and procedures.
    let slug = db
        .functions
        .iter()
        .find(|f| f.name == "slugify")
        .expect("function");
    assert_eq!(slug.arguments, "t text");
    assert_eq!(slug.returns.as_deref(), Some("text"));
    assert_eq!(slug.volatility, Volatility::Immutable);
    assert_eq!(slug.language, "sql");
    let noop = db
        .functions
        .iter()
        .find(|f| f.name == "noop")
        .expect("procedure");
    assert_eq!(noop.kind, FunctionKind::Procedure);
    assert!(noop.returns.is_none());

    // Columns: identity with options, quoted names, domains, enums, arrays, bit(n), composite,
    // stored generated, collation, defaults, options, comments.
    let accounts = table(db, "app", "accounts");
    assert_eq!(accounts.options, ["fillfactor=80"]);
    assert_eq!(accounts.comment.as_deref(), Some("Customer accounts"));
    let id = accounts.column("id").unwrap();
    let identity = id.identity.as_ref().expect("identity");
    assert!(identity.always);
    assert_eq!(
        identity.sequence.as_ref().map(|o| (o.start, o.increment)),
        Some((100, 10))
    );
    let display = accounts.column("Display Name").unwrap();
    assert_eq!(display.data_type, "character varying(80)");
    assert!(display.not_null);
    assert_eq!(display.comment.as_deref(), Some("Shown in the UI"));
    assert_eq!(accounts.column("email").unwrap().data_type, "app.email");
    assert_eq!(
        accounts.column("mood").unwrap().default.as_deref(),
        Some("'ok'::app.mood")
    );
    assert_eq!(accounts.column("tags").unwrap().data_type, "text[]");
    assert_eq!(accounts.column("flags").unwrap().data_type, "bit(8)");
    assert_eq!(
        accounts.column("balance").unwrap().data_type,
        "app.money_amount"
    );
    let slug_col = accounts.column("slug").unwrap();
    let generated = slug_col.generated.as_ref().expect("generated");
    assert!(generated.stored);
    assert!(
        generated.expression.contains("app.slugify"),
        "{generated:?}"
    );
    assert!(slug_col.default.is_none());
    assert_eq!(
        accounts.column("code").unwrap().collation.as_deref(),
        Some("\"C\"")
    );
    assert!(accounts.column("updated_at").unwrap().not_null);

    // Constraints: PK, UNIQUE NULLS NOT DISTINCT, CHECK with comment.
    assert_eq!(accounts.primary_key_columns(), ["id"]);
    match &constraint(accounts, "accounts_email_key").kind {
        ConstraintKind::Unique {
            columns,
            nulls_not_distinct,
        } => {
            assert_eq!(columns, &["email"]);
            assert!(*nulls_not_distinct);
        }
        other => panic!("unique expected, got {other:?}"),
    }
    let check = constraint(accounts, "accounts_name_not_blank");
    assert_eq!(check.comment.as_deref(), Some("No blank names"));
    assert!(matches!(check.kind, ConstraintKind::Check { .. }));

    // Triggers, enabled and disabled.
    assert_eq!(accounts.triggers.len(), 2);
    assert!(
        accounts.triggers[0]
            .definition
            .contains("EXECUTE FUNCTION app.touch_updated_at()")
    );
    assert!(accounts.triggers[0].enabled);
    assert!(!accounts.triggers[1].enabled);

    // Foreign keys with actions, match type and deferrability; self-reference; NOT VALID.
    let invoices = table(db, "app", "invoices");
    let fk = constraint(invoices, "invoices_account_fk");
    assert!(fk.deferrable && fk.initially_deferred);
    match &fk.kind {
        ConstraintKind::ForeignKey {
            columns,
            references,
            referenced_columns,
            on_update,
            on_delete,
            match_type,
        } => {
            assert_eq!(columns, &["account_id"]);
            assert_eq!(references, &QualifiedName::new("app", "accounts"));
            assert_eq!(referenced_columns, &["id"]);
            assert_eq!(*on_update, FkAction::Cascade);
            assert_eq!(*on_delete, FkAction::Restrict);
            assert_eq!(*match_type, FkMatch::Full);
        }
        other => panic!("foreign key expected, got {other:?}"),
    }
    let self_fk = constraint(invoices, "invoices_parent_id_fkey");
    assert!(matches!(&self_fk.kind,
        ConstraintKind::ForeignKey { references, on_delete: FkAction::SetNull, .. }
        if references.name == "invoices"));
    assert!(!constraint(invoices, "invoices_amount_positive").validated);
    assert!(matches!(
        constraint(invoices, "invoices_no_overlap").kind,
        ConstraintKind::Exclusion {}
    ));
    assert_eq!(
        invoices.column("number").unwrap().default.as_deref(),
        Some("nextval('app.invoice_no'::regclass)")
    );

    // Indexes: INCLUDE, DESC NULLS LAST, partial, expression, NULLS FIRST, comment, the
    // constraint an index implements.
    let recent = index(invoices, "invoices_account_recent");
    assert_eq!(recent.method, "btree");
    assert_eq!(recent.keys.len(), 2);
    assert_eq!(
        recent.keys[1].target,
        IndexTarget::Column("issued_on".into())
    );
    assert!(recent.keys[1].descending);
    assert_eq!(recent.keys[1].nulls_first, Some(false));
    assert_eq!(recent.include, ["amount"]);
    let big = index(invoices, "invoices_big");
    assert_eq!(big.predicate.as_deref(), Some("(amount > (1000)::numeric)"));
    assert_eq!(big.comment.as_deref(), Some("Large invoices"));
    assert!(matches!(
        index(invoices, "invoices_year").keys[0].target,
        IndexTarget::Expression(_)
    ));
    assert_eq!(
        index(invoices, "invoices_nulls_first").keys[0].nulls_first,
        Some(true)
    );
    assert_eq!(
        index(invoices, "invoices_pkey").constraint.as_deref(),
        Some("invoices_pkey")
    );
    assert_eq!(index(invoices, "invoices_no_overlap").method, "gist");

    assert!(table(db, "app", "sessions").unlogged);

    // Partitioning: parent key, partitions with bounds (default too), attached indexes.
    let events = table(db, "app", "events");
    assert_eq!(events.partition_key.as_deref(), Some("RANGE (occurred_at)"));
    let p2025 = table(db, "app", "events_2025");
    let of = p2025.partition_of.as_ref().expect("partition");
    assert_eq!(of.parent, QualifiedName::new("app", "events"));
    assert!(
        of.bound.starts_with("FOR VALUES FROM ('2025-01-01"),
        "{}",
        of.bound
    );
    assert_eq!(
        table(db, "app", "events_other")
            .partition_of
            .as_ref()
            .unwrap()
            .bound,
        "DEFAULT"
    );
    assert!(p2025.columns.iter().all(|c| !c.is_local));
    assert!(p2025.indexes.iter().any(|i| {
        i.parent_index
            .as_ref()
            .is_some_and(|p| p.name == "events_payload")
    }));
    assert!(
        p2025.primary_key().is_none(),
        "the partition's PK clone follows the parent"
    );

    // Classic inheritance.
    let special = table(db, "app", "special_items");
    assert_eq!(special.inherits, [QualifiedName::new("app", "base_items")]);
    assert!(!special.column("label").unwrap().is_local);
    assert!(special.column("extra").unwrap().is_local);

    // RLS, policies and grants.
    let notes = table(db, "public", "notes");
    assert!(notes.rls_enabled && notes.rls_forced);
    assert_eq!(notes.policies.len(), 2);
    let insert = &notes.policies[0];
    assert_eq!(
        (insert.name.as_str(), insert.command.as_str()),
        ("notes_insert", "INSERT")
    );
    assert!(!insert.permissive);
    assert_eq!(insert.roles, ["public"]);
    assert!(insert.with_check.is_some());
    let owner = &notes.policies[1];
    assert_eq!(owner.roles, ["dbarch_reader"]);
    assert!(owner.using.as_deref().unwrap().contains("CURRENT_USER"));
    let grants: Vec<(&str, &str)> = notes
        .grants
        .iter()
        .map(|g| (g.grantee.as_str(), g.privilege.as_str()))
        .collect();
    assert_eq!(
        grants,
        [
            ("PUBLIC", "SELECT"),
            ("dbarch_reader", "INSERT"),
            ("dbarch_reader", "SELECT")
        ]
    );

    // Views, their dependencies and options; materialized views and their indexes.
    let totals = db
        .view(&QualifiedName::new("app", "account_totals"))
        .expect("view");
    assert!(!totals.materialized);
    assert_eq!(totals.comment.as_deref(), Some("Invoice totals"));
    assert_eq!(
        totals.depends_on,
        [
            QualifiedName::new("app", "accounts"),
            QualifiedName::new("app", "invoices")
        ]
    );
    assert_eq!(totals.columns[2].name, "total");
    assert_eq!(totals.columns[2].data_type, "numeric");
    let big_accounts = db.view(&QualifiedName::new("app", "big_accounts")).unwrap();
    assert_eq!(big_accounts.options, ["security_barrier=true"]);
    assert_eq!(
        big_accounts.depends_on,
        [QualifiedName::new("app", "account_totals")]
    );
    assert_eq!(big_accounts.grants[0].grantee, "dbarch_reader");
    let monthly = db.view(&QualifiedName::new("app", "monthly")).unwrap();
    assert!(monthly.materialized);
    assert_eq!(monthly.indexes[0].name, "monthly_month");
    assert!(monthly.indexes[0].unique);

    // Identifiers that need quoting survive as they are.
    let user = table(db, "public", "user");
    assert_eq!(user.columns[0].name, "select");
}

#[tokio::test]
async fn every_object_kind_on_pg15() {
    let db = load(TestServer::pg15(), &[COMMON]).await;
    let intro = inspect(&db, &Options::default()).await;
    assert_eq!(intro.server.major(), 15);
    check_common(&intro.database);
}

#[tokio::test]
async fn every_object_kind_on_pg18_with_pgvector() {
    let db = load(TestServer::pg18(), &[COMMON, PG18]).await;
    let intro = inspect(&db, &Options::default()).await;
    assert_eq!(intro.server.major(), 18);
    let model = &intro.database;
    check_common(model);

    // Extensions with versions; their objects (pg_trgm's functions, vector's types) left out.
    let exts: Vec<&str> = model.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exts, ["pg_trgm", "vector"]);
    assert!(model.functions.iter().all(|f| f.schema != "public"));
    assert!(model.types.iter().all(|t| t.name != "vector"));

    let chunks = table(model, "public", "chunks");
    let embedding = chunks.column("embedding").unwrap();
    assert_eq!(embedding.data_type, "public.vector(3)");
    assert_eq!(embedding.vector_type().and_then(|v| v.dims), Some(3));
    assert_eq!(
        chunks.column("half").unwrap().data_type,
        "public.halfvec(4)"
    );
    assert_eq!(
        chunks.column("sparse").unwrap().data_type,
        "public.sparsevec(5)"
    );
    assert_eq!(chunks.column("bits").unwrap().data_type, "bit(16)");
    let id = chunks.column("id").unwrap();
    assert!(!id.identity.as_ref().unwrap().always);
    assert!(id.identity.as_ref().unwrap().sequence.is_none());

    // PostgreSQL 18: virtual generated columns, named and NOT VALID NOT NULL constraints.
    let length = chunks.column("body_length").unwrap();
    assert!(!length.generated.as_ref().unwrap().stored);
    let named = constraint(chunks, "chunk_body_required");
    assert!(matches!(&named.kind, ConstraintKind::NotNull { column, .. } if column == "body"));
    let not_valid = constraint(chunks, "chunk_category_set");
    assert!(!not_valid.validated);
    assert!(
        !chunks
            .constraints
            .iter()
            .any(|c| c.name == "chunks_id_not_null"),
        "plain NOT NULLs stay in Column::not_null"
    );

    // ANN indexes with opclasses and options.
    let hnsw = index(chunks, "chunks_hnsw");
    assert_eq!(hnsw.method, "hnsw");
    assert_eq!(hnsw.keys[0].opclass.as_deref(), Some("vector_cosine_ops"));
    assert_eq!(hnsw.options, ["m=24", "ef_construction=100"]);
    let ivf = index(chunks, "chunks_ivf");
    assert_eq!(ivf.method, "ivfflat");
    assert_eq!(ivf.keys[0].opclass.as_deref(), Some("halfvec_l2_ops"));
    assert_eq!(ivf.options, ["lists=10"]);
    assert_eq!(
        index(chunks, "chunks_trgm").keys[0].opclass.as_deref(),
        Some("gin_trgm_ops")
    );
}

/// `inspect --format sql` of a database, loaded into a fresh database and inspected again,
/// gives an identical model.
async fn round_trip(server: &TestServer, scripts: &[&str]) {
    let original = load(server, scripts).await;
    let first = inspect(&original, &Options::default()).await.database;
    let sql = dbarch_ddl::schema_sql(&first);

    let copy = server.create_db().await;
    let client = copy.client().await;
    client
        .batch_execute(&sql)
        .await
        .unwrap_or_else(|e| panic!("canonical DDL loads: {e:?}\n{sql}"));
    let second = inspect(&copy, &Options::default()).await.database;
    let a = serde_json::to_string_pretty(&first).unwrap();
    let b = serde_json::to_string_pretty(&second).unwrap();
    if a != b {
        let diff: Vec<String> = a
            .lines()
            .zip(b.lines())
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .take(10)
            .map(|(i, (x, y))| format!("line {i}:\n  - {x}\n  + {y}"))
            .collect();
        panic!("models differ after the round trip:\n{}", diff.join("\n"));
    }
    // And the DDL of the copy is the DDL of the original: a fixpoint.
    assert_eq!(sql, dbarch_ddl::schema_sql(&second));
}

#[tokio::test]
async fn round_trip_on_pg15() {
    round_trip(TestServer::pg15(), &[COMMON]).await;
}

#[tokio::test]
async fn round_trip_on_pg18() {
    round_trip(TestServer::pg18(), &[COMMON, PG18]).await;
}

#[tokio::test]
async fn round_trip_of_the_bundled_example() {
    let server = TestServer::pg18();
    let db = server.create_db().await;
    let mut client = db.client().await;
    dbarch_example::load(
        &mut client,
        &dbarch_example::LoadOptions {
            rows: 20,
            ..Default::default()
        },
    )
    .await
    .expect("example loads");
    drop(client);
    let first = inspect(&db, &Options::default()).await.database;
    let copy = server.create_db().await;
    copy.client()
        .await
        .batch_execute(&dbarch_ddl::schema_sql(&first))
        .await
        .expect("DDL loads");
    assert_eq!(first, inspect(&copy, &Options::default()).await.database);
}

#[tokio::test]
async fn equal_schemas_give_identical_json() {
    let server = TestServer::pg18();
    let a = load(server, &[COMMON, PG18]).await;
    let b = load(server, &[COMMON, PG18]).await;
    let ja = serde_json::to_string(&inspect(&a, &Options::default()).await.database).unwrap();
    let jb = serde_json::to_string(&inspect(&b, &Options::default()).await.database).unwrap();
    assert_eq!(ja, jb);
    assert!(!ja.contains("oid"), "no OIDs in the model");
}

#[tokio::test]
async fn stats_are_added_only_when_asked() {
    let db = load(TestServer::pg18(), &[COMMON]).await;
    let plain = inspect(&db, &Options::default()).await.database;
    assert!(plain.tables.iter().all(|t| t.stats.is_none()));
    let with = inspect(
        &db,
        &Options {
            stats: true,
            ..Default::default()
        },
    )
    .await
    .database;
    let accounts = table(&with, "app", "accounts");
    let stats = accounts.stats.as_ref().expect("stats");
    assert!(stats.total_bytes >= stats.table_bytes);
}

#[tokio::test]
async fn filters_keep_and_leave_out_objects() {
    let db = load(TestServer::pg15(), &[COMMON]).await;
    let only_app = inspect(
        &db,
        &Options {
            filter: Filter::new(vec!["app".into()], &[], &["app.sessions".into()]).unwrap(),
            ..Default::default()
        },
    )
    .await
    .database;
    assert!(only_app.tables.iter().all(|t| t.schema == "app"));
    assert!(!only_app.tables.iter().any(|t| t.name == "sessions"));
    assert!(only_app.tables.iter().any(|t| t.name == "accounts"));

    let invoices_only = inspect(
        &db,
        &Options {
            filter: Filter::new(vec![], &["invoice*".into()], &[]).unwrap(),
            ..Default::default()
        },
    )
    .await
    .database;
    let names: Vec<&str> = invoices_only
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["invoices"]);
    assert!(invoices_only.views.is_empty());
    assert!(Filter::new(vec![], &["[".into()], &[]).is_err());
}

/// Another session holds EXCLUSIVE locks on every table: that mode conflicts with every lock
/// but ACCESS SHARE, so introspection succeeds under a short lock_timeout only if ACCESS SHARE
/// is all it takes.
#[tokio::test]
async fn inspect_takes_nothing_stronger_than_access_share() {
    let db = load(TestServer::pg18(), &[COMMON, PG18]).await;
    let mut holder = db.client().await;
    let tx = holder.transaction().await.unwrap();
    tx.batch_execute(
        "LOCK TABLE app.accounts, app.invoices, app.sessions, app.events, app.base_items, \
         public.notes, public.chunks, app.account_totals IN EXCLUSIVE MODE",
    )
    .await
    .unwrap();

    let client = db.client().await;
    client
        .batch_execute("SET lock_timeout = '1s'")
        .await
        .unwrap();
    let result = tokio::time::timeout(
        Duration::from_secs(20),
        introspect(&client, &Options::default()),
    )
    .await
    .expect("introspection does not wait for locks");
    let intro = result.expect("introspection succeeds while tables are locked EXCLUSIVE");
    assert!(intro.database.tables.len() > 5);
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn an_empty_database_gives_an_empty_model() {
    let db = TestServer::pg15().create_db().await;
    let intro = inspect(&db, &Options::default()).await;
    let model = intro.database;
    assert!(model.tables.is_empty() && model.views.is_empty() && model.functions.is_empty());
    assert_eq!(model.schemas.len(), 1, "just public");
}

/// The `sql` and `json` renderings of `inspect` are contracts: snapshot them on fixed schemas.
#[tokio::test]
async fn sql_and_json_renderings_are_stable() {
    let db = load(TestServer::pg15(), &[COMMON]).await;
    let model = inspect(&db, &Options::default()).await.database;
    insta::assert_snapshot!("common_schema_sql_pg15", dbarch_ddl::schema_sql(&model));

    let server = TestServer::pg18();
    let example = server.create_db().await;
    let mut client = example.client().await;
    dbarch_example::load(
        &mut client,
        &dbarch_example::LoadOptions {
            rows: 10,
            ..Default::default()
        },
    )
    .await
    .expect("example loads");
    let model = inspect(&example, &Options::default()).await.database;
    insta::assert_json_snapshot!("example_model_pg18", model);
}

/// Spreading the queries over three connections that share one snapshot gives the same model.
#[tokio::test]
async fn parallel_introspection_equals_single_connection() {
    let db = load(TestServer::pg18(), &[COMMON, PG18]).await;
    let single = inspect(&db, &Options::default()).await.database;
    let (a, b, c) = (db.client().await, db.client().await, db.client().await);
    let parallel = dbarch_catalog::introspect_parallel(&[&a, &b, &c], &Options::default())
        .await
        .expect("parallel introspection")
        .database;
    assert_eq!(single, parallel);
    // The helpers' transactions are closed: they can write again.
    b.batch_execute("CREATE TABLE after_inspect (id int)")
        .await
        .unwrap();
    assert!(
        dbarch_catalog::introspect_parallel(&[], &Options::default())
            .await
            .is_err()
    );
}
