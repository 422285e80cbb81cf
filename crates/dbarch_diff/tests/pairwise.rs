//! Pairwise cases, one per kind of change: `before` is loaded into database A and `after` into
//! database B; the online plan of diff(A, B) applied to A must give B's model, and its reverse
//! (when every step is reversible) A's model again.

mod common;

use common::*;
use dbarch_diff::{Change, DiffError, DiffOptions, PlanContext, Rename, diff, plan};
use dbarch_model::QualifiedName;
use dbarch_testing::TestServer;

struct Case<'a> {
    before: &'a str,
    after: &'a str,
    renames: Vec<Rename>,
    /// Every step must be reversible, and the reverse must give A's model back.
    reversible: bool,
}

impl<'a> Case<'a> {
    fn new(before: &'a str, after: &'a str) -> Self {
        Case {
            before,
            after,
            renames: Vec::new(),
            reversible: true,
        }
    }

    fn irreversible(mut self) -> Self {
        self.reversible = false;
        self
    }

    fn rename(mut self, r: &str) -> Self {
        self.renames.push(r.parse().expect("rename parses"));
        self
    }
}

/// Runs a case on a server and returns the changes, for further assertions.
async fn check(server: &TestServer, case: Case<'_>) -> Vec<Change> {
    let a = load(server, &[case.before]).await;
    let b = load(server, &[case.after]).await;
    let (model_a, model_b) = (model(&a).await, model(&b).await);
    let opts = DiffOptions {
        allow_destructive: true,
        renames: case.renames.clone(),
    };
    let changes = diff(&model_a, &model_b, &opts).expect("diff");
    assert!(!changes.is_empty(), "the case changes something");
    let ctx = PlanContext {
        server_major: major(&a).await,
        online: true,
    };
    let plan = plan(&changes, &ctx);
    let client = a.client().await;
    apply(&client, &plan).await;
    let migrated = model(&a).await;
    assert_same(&model_b, &migrated, &format!("forward\n{}", plan.to_sql()));
    let again = diff(&model_b, &migrated, &DiffOptions::default()).expect("diff");
    assert!(again.is_empty(), "nothing left to do: {again:#?}");
    assert_eq!(reversible(&plan), case.reversible, "{}", plan.reverse_sql());
    if case.reversible {
        apply_reverse(&client, &plan).await;
        let back = model(&a).await;
        assert_same(&model_a, &back, &format!("reverse\n{}", plan.reverse_sql()));
    }
    changes
}

fn kinds(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| {
            serde_json::to_value(c).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn has(changes: &[Change], kind: &str) -> bool {
    kinds(changes).iter().any(|k| k == kind)
}

#[tokio::test]
async fn columns_added_dropped_and_defaults() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, a text, b int, d int DEFAULT 1,
                            e text NOT NULL DEFAULT 'x');
        INSERT INTO app.t (id, a, b) SELECT g, 'a' || g, g FROM generate_series(1, 100) g;";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, a text, d int DEFAULT 2, e text,
                            c int NOT NULL DEFAULT 5, f timestamptz DEFAULT now(),
                            g uuid DEFAULT gen_random_uuid());";
    let changes = check(TestServer::pg18(), Case::new(before, after).irreversible()).await;
    for k in [
        "add_column",
        "drop_column",
        "set_default",
        "drop_default",
        "drop_not_null",
    ] {
        assert!(has(&changes, k), "{k}: {:?}", kinds(&changes));
    }
}

#[tokio::test]
async fn column_types_widened() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, name varchar(50), n int, amount numeric(10,2),
                            label varchar(20), body varchar(100), ts timestamp);
        INSERT INTO app.t SELECT g, 'n' || g, g, g * 1.5, 'l', 'b', '2025-01-01'
        FROM generate_series(1, 50) g;";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, name varchar(100), n bigint, amount numeric,
                            label text, body text COLLATE \"C\", ts timestamptz);";
    let changes = check(TestServer::pg18(), Case::new(before, after)).await;
    assert_eq!(
        kinds(&changes),
        vec!["alter_column_type"; 6],
        "{changes:#?}"
    );
}

#[tokio::test]
async fn column_types_narrowed_are_destructive() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.t (id bigint PRIMARY KEY, name varchar(100), amount numeric(10,2));
        INSERT INTO app.t SELECT g, 'n' || g, g FROM generate_series(1, 50) g;";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, name varchar(50), amount numeric(8,2));";
    check(TestServer::pg18(), Case::new(before, after)).await;
    // Without allow_destructive: refused, with the deprecate-first advice.
    let server = TestServer::pg18();
    let (a, b) = (load(server, &[before]).await, load(server, &[after]).await);
    let err = diff(&model(&a).await, &model(&b).await, &DiffOptions::default()).unwrap_err();
    match &err {
        DiffError::Destructive { changes, help } => {
            assert_eq!(changes.len(), 3, "{changes:?}");
            assert!(changes[0].contains("from bigint to integer"), "{changes:?}");
            assert!(help.contains("Deprecate first"), "{help}");
        }
        other => panic!("{other:?}"),
    }
}

const NOT_NULL_BEFORE: &str = "CREATE SCHEMA app;
    CREATE TABLE app.t (id int PRIMARY KEY, a int, b int NOT NULL);
    INSERT INTO app.t SELECT g, g, g FROM generate_series(1, 100) g;";
const NOT_NULL_AFTER: &str = "CREATE SCHEMA app;
    CREATE TABLE app.t (id int PRIMARY KEY, a int NOT NULL, b int);";

#[tokio::test]
async fn not_null_both_ways_on_pg15() {
    check(
        TestServer::pg15(),
        Case::new(NOT_NULL_BEFORE, NOT_NULL_AFTER),
    )
    .await;
}

#[tokio::test]
async fn not_null_both_ways_on_pg18() {
    check(
        TestServer::pg18(),
        Case::new(NOT_NULL_BEFORE, NOT_NULL_AFTER),
    )
    .await;
}

const FK_BEFORE: &str = "CREATE SCHEMA app;
        CREATE TABLE app.parent (id int PRIMARY KEY);
        CREATE TABLE app.child (id int PRIMARY KEY, parent_id int,
                                other_id int REFERENCES app.parent (id),
                                third_id int CONSTRAINT child_third_fk REFERENCES app.parent (id));
        INSERT INTO app.parent SELECT generate_series(1, 10);
        INSERT INTO app.child SELECT g, g, g, g FROM generate_series(1, 10) g;";
const FK_AFTER: &str = "CREATE SCHEMA app;
        CREATE TABLE app.parent (id int PRIMARY KEY);
        CREATE TABLE app.child (id int PRIMARY KEY, parent_id int REFERENCES app.parent (id),
                                other_id int,
                                third_id int CONSTRAINT child_third_fk REFERENCES app.parent (id)
                                  ON DELETE CASCADE);";

#[tokio::test]
async fn foreign_keys_added_dropped_and_changed() {
    let changes = check(TestServer::pg18(), Case::new(FK_BEFORE, FK_AFTER)).await;
    assert!(has(&changes, "add_constraint") && has(&changes, "drop_constraint"));
}

#[tokio::test]
async fn foreign_keys_on_pg15() {
    check(TestServer::pg15(), Case::new(FK_BEFORE, FK_AFTER)).await;
}

#[tokio::test]
async fn checks_added_dropped_changed_and_validated() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, n int,
                            CONSTRAINT n_pos CHECK (n > 0), CONSTRAINT old_chk CHECK (n < 1000));
        ALTER TABLE app.t ADD CONSTRAINT v CHECK (n > -1) NOT VALID;
        INSERT INTO app.t SELECT g, g FROM generate_series(1, 100) g;";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, n int,
                            CONSTRAINT n_pos CHECK (n >= 0), CONSTRAINT new_chk CHECK (n <> 500),
                            CONSTRAINT v CHECK (n > -1));
        ALTER TABLE app.t ADD CONSTRAINT nv CHECK (n < 100000) NOT VALID;
        ALTER TABLE app.t ADD CONSTRAINT t_no_overlap EXCLUDE USING gist (int4range(n, n, '[]') WITH &&);";
    let changes = check(TestServer::pg18(), Case::new(before, after)).await;
    assert!(
        has(&changes, "validate_constraint"),
        "{:?}",
        kinds(&changes)
    );
}

#[tokio::test]
async fn named_and_not_valid_not_null_constraints_on_pg18() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, body text, category text, label text NOT NULL,
                            note text CONSTRAINT note_set NOT NULL);
        INSERT INTO app.t SELECT g, 'b', 'c', 'l', 'n' FROM generate_series(1, 10) g;";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, body text CONSTRAINT body_required NOT NULL,
                            category text, label text CONSTRAINT label_set NOT NULL, note text NOT NULL);
        ALTER TABLE app.t ADD CONSTRAINT category_set NOT NULL category NOT VALID;";
    check(TestServer::pg18(), Case::new(before, after)).await;
}

const UNIQUE_BEFORE: &str = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int NOT NULL, email text, code text);
        INSERT INTO app.t SELECT g, 'e' || g, 'c' || g FROM generate_series(1, 100) g;";
const UNIQUE_AFTER: &str = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, email text UNIQUE, code text,
                            CONSTRAINT code_uq UNIQUE NULLS NOT DISTINCT (code));";

#[tokio::test]
async fn unique_and_primary_keys_on_pg15() {
    check(TestServer::pg15(), Case::new(UNIQUE_BEFORE, UNIQUE_AFTER)).await;
}

#[tokio::test]
async fn unique_and_primary_keys_through_concurrent_indexes() {
    let server = TestServer::pg18();
    let changes = check(server, Case::new(UNIQUE_BEFORE, UNIQUE_AFTER)).await;
    let ctx = PlanContext::default();
    let p = plan(&changes, &ctx);
    let concurrent = p
        .steps
        .iter()
        .filter(|s| s.sql.starts_with("CREATE UNIQUE INDEX CONCURRENTLY"))
        .count();
    assert_eq!(concurrent, 3, "{}", p.to_sql());
    insta::assert_snapshot!("unique_and_primary_keys_online", p.to_sql());
}

#[tokio::test]
async fn indexes_partial_expression_and_pgvector() {
    let before = "CREATE EXTENSION vector; CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, a int, b text, emb vector(3));
        CREATE INDEX idx_a ON app.t (a);
        CREATE INDEX idx_old ON app.t (b);
        INSERT INTO app.t SELECT g, g, 'b' || g, ARRAY[g, 1, 2]::vector FROM generate_series(1, 100) g;";
    let after = "CREATE EXTENSION vector; CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, a int, b text, emb vector(3));
        CREATE INDEX idx_a ON app.t (a) WHERE a > 0;
        CREATE INDEX idx_expr ON app.t (lower(b));
        CREATE INDEX idx_hnsw ON app.t USING hnsw (emb vector_cosine_ops) WITH (m = 8);
        CREATE INDEX idx_ivf ON app.t USING ivfflat (emb vector_l2_ops) WITH (lists = 1);";
    let changes = check(TestServer::pg18(), Case::new(before, after)).await;
    let p = plan(&changes, &PlanContext::default());
    let hnsw = p
        .steps
        .iter()
        .find(|s| s.sql.contains("hnsw"))
        .expect("hnsw step");
    assert!(!hnsw.transactional);
    assert!(hnsw.sql.starts_with("CREATE INDEX CONCURRENTLY idx_hnsw"));
    assert!(
        hnsw.notes
            .iter()
            .any(|n| n.contains("maintenance_work_mem"))
    );
}

#[tokio::test]
async fn partitioned_table_indexes_and_partitions() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.events (id bigint, at date NOT NULL, payload jsonb) PARTITION BY RANGE (at);
        CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE INDEX events_id ON app.events (id);
        INSERT INTO app.events SELECT g, '2025-06-01'::date + g, '{}' FROM generate_series(1, 300) g;";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.events (id bigint, at date NOT NULL, payload jsonb) PARTITION BY RANGE (at);
        CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE TABLE app.events_2027 PARTITION OF app.events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
        CREATE INDEX events_payload ON app.events USING gin (payload);
        CREATE INDEX events_at ON app.events (at);";
    let changes = check(TestServer::pg18(), Case::new(before, after)).await;
    let p = plan(&changes, &PlanContext::default());
    let sql = p.to_sql();
    assert!(
        sql.contains("CREATE INDEX events_payload ON ONLY app.events"),
        "{sql}"
    );
    assert!(
        sql.contains("CREATE INDEX CONCURRENTLY events_2025_payload_idx"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER INDEX app.events_payload ATTACH PARTITION app.events_2027_payload_idx"),
        "{sql}"
    );
}

#[tokio::test]
async fn enum_values_added() {
    let before = "CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('sad', 'ok');
        CREATE TABLE app.t (id int PRIMARY KEY, m app.mood DEFAULT 'ok');";
    let after = "CREATE SCHEMA app;
        CREATE TYPE app.mood AS ENUM ('meh', 'sad', 'ok', 'great', 'happy');
        CREATE TABLE app.t (id int PRIMARY KEY, m app.mood DEFAULT 'great');";
    let changes = check(TestServer::pg18(), Case::new(before, after).irreversible()).await;
    assert_eq!(
        kinds(&changes),
        [
            "add_enum_value",
            "add_enum_value",
            "add_enum_value",
            "set_default"
        ]
    );
    let p = plan(&changes, &PlanContext::default());
    assert!(
        p.steps[3].commit_before,
        "the new value is used after a commit"
    );
}

#[tokio::test]
async fn enum_values_removed_and_reordered() {
    let before = "CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('a', 'b', 'c');
        CREATE TABLE app.t (id int PRIMARY KEY, m app.mood DEFAULT 'a', ms app.mood[]);
        INSERT INTO app.t VALUES (1, 'a', '{a,c}'), (2, 'c', NULL);";
    let after = "CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('c', 'a');
        CREATE TABLE app.t (id int PRIMARY KEY, m app.mood DEFAULT 'a', ms app.mood[]);";
    let changes = check(TestServer::pg18(), Case::new(before, after)).await;
    assert_eq!(kinds(&changes), ["recreate_type"]);
    assert!(changes[0].is_destructive());
}

#[tokio::test]
async fn views_over_a_changed_column_are_recreated() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, amount int, note varchar(10));
        CREATE VIEW app.v1 AS SELECT id, amount FROM app.t;
        CREATE VIEW app.v2 AS SELECT id FROM app.v1 WHERE amount > 0;
        CREATE VIEW app.v3 AS SELECT id FROM app.t;
        CREATE TABLE app.u (id int PRIMARY KEY, name text);
        CREATE VIEW app.v4 AS SELECT id FROM app.u;";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, amount bigint, note varchar(10));
        CREATE VIEW app.v1 AS SELECT id, amount FROM app.t;
        CREATE VIEW app.v2 AS SELECT id FROM app.v1 WHERE amount > 0;
        CREATE VIEW app.v3 AS SELECT id, note FROM app.t;
        CREATE TABLE app.u (id int PRIMARY KEY, name text);
        CREATE VIEW app.v4 AS SELECT id, name FROM app.u;";
    let changes = check(TestServer::pg18(), Case::new(before, after)).await;
    let k = kinds(&changes);
    // v1, v2 (which reads v1) and v3 read the altered table: dropped (dependents first) and
    // created again. v4 reads an unchanged table: replaced in place (a column appended).
    assert_eq!(
        k,
        [
            "drop_view",
            "drop_view",
            "drop_view",
            "alter_column_type",
            "create_view",
            "create_view",
            "create_view",
            "replace_view"
        ],
        "{changes:#?}"
    );
}

#[tokio::test]
async fn materialized_views_and_their_indexes() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, n int);
        INSERT INTO app.t SELECT g, g % 5 FROM generate_series(1, 100) g;
        CREATE MATERIALIZED VIEW app.mv1 AS SELECT n, count(*) AS c FROM app.t GROUP BY n;
        CREATE MATERIALIZED VIEW app.mv3 AS SELECT n FROM app.t;
        CREATE INDEX mv3_n ON app.mv3 (n);";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, n int);
        CREATE MATERIALIZED VIEW app.mv1 AS SELECT n, count(*) AS c, max(id) AS m FROM app.t GROUP BY n;
        CREATE UNIQUE INDEX mv1_n ON app.mv1 (n);
        CREATE MATERIALIZED VIEW app.mv2 AS SELECT id FROM app.t WHERE n = 1;
        CREATE MATERIALIZED VIEW app.mv3 AS SELECT n FROM app.t;
        CREATE INDEX mv3_n2 ON app.mv3 (n DESC);
        COMMENT ON MATERIALIZED VIEW app.mv2 IS 'ones';";
    check(TestServer::pg18(), Case::new(before, after)).await;
}

const TRIGGER_FN: &str = "CREATE FUNCTION app.noop() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RETURN NEW; END $$;";

#[tokio::test]
async fn triggers_created_dropped_changed_and_disabled() {
    let before = format!(
        "CREATE SCHEMA app; {TRIGGER_FN}
        CREATE TABLE app.t (id int PRIMARY KEY, a int);
        CREATE TRIGGER tr_a BEFORE UPDATE ON app.t FOR EACH ROW EXECUTE FUNCTION app.noop();
        CREATE TRIGGER tr_b BEFORE INSERT ON app.t FOR EACH ROW EXECUTE FUNCTION app.noop();
        CREATE TRIGGER tr_d BEFORE INSERT ON app.t FOR EACH ROW EXECUTE FUNCTION app.noop();"
    );
    let after = format!(
        "CREATE SCHEMA app; {TRIGGER_FN}
        CREATE TABLE app.t (id int PRIMARY KEY, a int);
        CREATE TRIGGER tr_a BEFORE UPDATE ON app.t FOR EACH ROW EXECUTE FUNCTION app.noop();
        ALTER TABLE app.t DISABLE TRIGGER tr_a;
        CREATE TRIGGER tr_c AFTER INSERT ON app.t FOR EACH STATEMENT EXECUTE FUNCTION app.noop();
        CREATE TRIGGER tr_d BEFORE UPDATE OF a ON app.t FOR EACH ROW EXECUTE FUNCTION app.noop();"
    );
    let changes = check(TestServer::pg18(), Case::new(&before, &after)).await;
    for k in ["set_trigger_enabled", "drop_trigger", "create_trigger"] {
        assert!(has(&changes, k), "{k}");
    }
}

#[tokio::test]
async fn row_level_security_and_policies() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, owner text);
        CREATE TABLE app.u (id int PRIMARY KEY, owner text);
        ALTER TABLE app.u ENABLE ROW LEVEL SECURITY;
        CREATE POLICY u_owner ON app.u FOR SELECT USING (owner = current_user);
        CREATE POLICY u_gone ON app.u FOR DELETE USING (false);";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, owner text);
        ALTER TABLE app.t ENABLE ROW LEVEL SECURITY;
        ALTER TABLE app.t FORCE ROW LEVEL SECURITY;
        CREATE POLICY t_owner ON app.t AS RESTRICTIVE FOR ALL TO dbarch_reader
          USING (owner = current_user) WITH CHECK (owner = current_user);
        CREATE TABLE app.u (id int PRIMARY KEY, owner text);
        CREATE POLICY u_owner ON app.u FOR SELECT USING (owner = session_user);";
    let changes = check(TestServer::pg18(), Case::new(before, after)).await;
    for k in [
        "set_row_level_security",
        "set_force_row_level_security",
        "create_policy",
        "drop_policy",
    ] {
        assert!(has(&changes, k), "{k}");
    }
}

#[tokio::test]
async fn comments_and_grants() {
    let before = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, a int);
        CREATE INDEX t_a ON app.t (a);
        COMMENT ON TABLE app.t IS 'old';
        COMMENT ON COLUMN app.t.a IS 'the a';
        GRANT SELECT ON app.t TO dbarch_reader;";
    let after = "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, a int);
        CREATE INDEX t_a ON app.t (a);
        COMMENT ON TABLE app.t IS 'new';
        COMMENT ON INDEX app.t_a IS 'by a';
        COMMENT ON SCHEMA app IS 'the app';
        GRANT INSERT, UPDATE ON app.t TO dbarch_reader;
        GRANT USAGE ON SCHEMA app TO dbarch_reader;";
    let changes = check(TestServer::pg18(), Case::new(before, after)).await;
    for k in ["set_comment", "grant", "revoke"] {
        assert!(has(&changes, k), "{k}");
    }
}

const RENAME_BEFORE: &str = "CREATE SCHEMA app;
    CREATE TABLE app.users (id int PRIMARY KEY, email text UNIQUE,
                            name text CHECK (length(name) > 0));
    CREATE INDEX users_lower_email ON app.users (lower(email));
    CREATE TABLE app.orders (id int PRIMARY KEY,
                             user_id int CONSTRAINT orders_user_fk REFERENCES app.users (id));
    INSERT INTO app.users VALUES (1, 'a@x', 'A');
    INSERT INTO app.orders VALUES (1, 1);";
const RENAME_AFTER: &str = "CREATE SCHEMA app;
    CREATE TABLE app.customers (id int CONSTRAINT users_pkey PRIMARY KEY,
                                mail text CONSTRAINT users_email_key UNIQUE,
                                name text CONSTRAINT users_name_check CHECK (length(name) > 0));
    CREATE INDEX users_lower_email ON app.customers (lower(mail));
    CREATE TABLE app.orders (id int PRIMARY KEY,
                             user_id int CONSTRAINT orders_user_fk REFERENCES app.customers (id));";

#[tokio::test]
async fn renames_from_the_options_only() {
    let case = Case::new(RENAME_BEFORE, RENAME_AFTER)
        .rename("app.users=customers")
        .rename("app.customers.email=mail");
    let changes = check(TestServer::pg18(), case).await;
    // The renames are all there is: definitions follow the new names.
    assert_eq!(
        changes,
        [
            Change::RenameTable {
                from: QualifiedName::new("app", "users"),
                to: QualifiedName::new("app", "customers"),
                not_null_columns: vec!["id".into()],
            },
            Change::RenameColumn {
                table: QualifiedName::new("app", "customers"),
                from: "email".into(),
                to: "mail".into(),
                not_null: false,
            },
        ]
    );

    // Without the options: never inferred. A drop and a create, refused as destructive.
    let server = TestServer::pg18();
    let (a, b) = (
        load(server, &[RENAME_BEFORE]).await,
        load(server, &[RENAME_AFTER]).await,
    );
    let (ma, mb) = (model(&a).await, model(&b).await);
    let err = diff(&ma, &mb, &DiffOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DiffError::Destructive { changes, .. }
            if changes.iter().any(|c| c == "drop table app.users")),
        "{err}"
    );
    let opts = DiffOptions {
        allow_destructive: true,
        renames: Vec::new(),
    };
    let changes = diff(&ma, &mb, &opts).unwrap();
    assert!(has(&changes, "drop_table") && has(&changes, "create_table"));
    assert!(!has(&changes, "rename_table") && !has(&changes, "rename_column"));
}

#[tokio::test]
async fn renames_on_pg15() {
    let case = Case::new(RENAME_BEFORE, RENAME_AFTER)
        .rename("app.users=customers")
        .rename("app.customers.email=mail");
    assert_eq!(check(TestServer::pg15(), case).await.len(), 2);
}

#[tokio::test]
async fn schemas_extensions_sequences_functions_and_types() {
    let before = "CREATE SCHEMA app; CREATE SCHEMA old; CREATE EXTENSION pg_trgm;
        CREATE DOMAIN app.pos AS int CHECK (VALUE > 0);
        CREATE SEQUENCE app.s1 INCREMENT BY 1;
        CREATE SEQUENCE app.gone;
        CREATE FUNCTION app.f1(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$;
        CREATE FUNCTION app.f2() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
        CREATE FUNCTION app.f3() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
        CREATE TABLE app.t (id int PRIMARY KEY, p app.pos, n int NOT NULL) WITH (fillfactor = 90);
        INSERT INTO app.t VALUES (1, 5, 1);";
    let after = "CREATE SCHEMA app; CREATE SCHEMA new; CREATE EXTENSION citext;
        CREATE DOMAIN app.pos AS int CHECK (VALUE > 0) CHECK (VALUE < 1000000);
        CREATE TYPE app.pair AS (a int, b text);
        CREATE SEQUENCE app.s1 INCREMENT BY 5 CACHE 10;
        CREATE SEQUENCE app.s2;
        CREATE FUNCTION app.f1(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 2 $$;
        CREATE FUNCTION app.f2() RETURNS bigint LANGUAGE sql AS $$ SELECT 1::bigint $$;
        CREATE TABLE app.t (id int PRIMARY KEY, p app.pos, n int NOT NULL GENERATED BY DEFAULT AS IDENTITY,
                            s bigint DEFAULT nextval('app.s2')) WITH (fillfactor = 70, autovacuum_enabled = false);
        CREATE FUNCTION app.f4(t app.t) RETURNS int LANGUAGE sql RETURN t.id;
        ALTER SEQUENCE app.s2 OWNED BY app.t.s;";
    let changes = check(TestServer::pg18(), Case::new(before, after)).await;
    for k in [
        "create_schema",
        "drop_schema",
        "create_extension",
        "drop_extension",
        "recreate_type",
        "create_type",
        "alter_sequence",
        "create_sequence",
        "drop_sequence",
        "set_sequence_owner",
        "replace_function",
        "drop_function",
        "create_function",
        "set_identity",
        "set_storage_parameters",
    ] {
        assert!(has(&changes, k), "{k}: {:?}", kinds(&changes));
    }
}
