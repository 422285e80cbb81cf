//! A deterministic, realistic-looking schema of any size, as SQL batches.
//!
//! The shape follows what real application databases have (and what exercises every catalog
//! query dbarch runs): tables spread over a few schemas, identity keys, varied column types
//! with defaults, an enum, an occasional pgvector column, foreign keys to earlier tables,
//! check constraints, btree/partial/multi-column/GIN/HNSW indexes, comments and views.

use std::fmt::Write;

const SCHEMAS: [&str; 4] = ["core", "sales", "billing", "ops"];

/// Tables per batch. Each batch runs as one implicit transaction (a multi-statement simple
/// query), and every table takes ~10 locks (table, TOAST, sequence, indexes, its FK target):
/// 200 tables stay well under the shared lock table of a default `max_locks_per_transaction`.
const TABLES_PER_BATCH: usize = 200;

/// A view for every this many tables.
const VIEW_EVERY: usize = 20;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Varchar,
    Timestamptz,
    Jsonb,
    Numeric,
    Bool,
    Int,
    Enum,
    Date,
    Uuid,
}

/// The kinds filling the random part of a table, weighted by repetition.
const FILL: &[Kind] = &[
    Kind::Text,
    Kind::Text,
    Kind::Varchar,
    Kind::Varchar,
    Kind::Timestamptz,
    Kind::Jsonb,
    Kind::Numeric,
    Kind::Numeric,
    Kind::Bool,
    Kind::Int,
    Kind::Int,
    Kind::Enum,
    Kind::Date,
    Kind::Uuid,
];

/// The SQL creating a database of `tables` tables (plus extension, schemas, enums, views),
/// split into batches to send one `batch_execute` each, in order. Same seed, same SQL.
pub fn batches(tables: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::new();

    let mut sql = String::from("CREATE EXTENSION IF NOT EXISTS vector;\n");
    for s in SCHEMAS {
        let _ = writeln!(
            sql,
            "CREATE SCHEMA {s};\n\
             CREATE TYPE {s}.status AS ENUM ('draft', 'active', 'suspended', 'archived');\n\
             COMMENT ON SCHEMA {s} IS 'The {s} domain.';"
        );
    }
    out.push(sql);

    let mut sql = String::new();
    for i in 0..tables {
        table(&mut sql, &mut rng, i);
        if (i + 1).is_multiple_of(TABLES_PER_BATCH) {
            out.push(std::mem::take(&mut sql));
        }
    }
    if !sql.is_empty() {
        out.push(sql);
    }
    out
}

fn qualified(i: usize) -> String {
    format!("{}.t{i:05}", SCHEMAS[i % SCHEMAS.len()])
}

/// Appends table `i`: CREATE TABLE, its indexes, comments and maybe a view over it and its
/// parent.
fn table(sql: &mut String, rng: &mut fastrand::Rng, i: usize) {
    let schema = SCHEMAS[i % SCHEMAS.len()];
    let name = format!("t{i:05}");
    let qname = qualified(i);
    // FK targets are recent tables, like related tables created together in real schemas.
    let parent = (i > 0).then(|| rng.usize(i.saturating_sub(300)..i));

    let mut cols: Vec<String> = vec!["id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY".into()];
    let mut kinds: Vec<(String, Kind)> = Vec::new();
    if parent.is_some() {
        cols.push("parent_id bigint".into());
    }
    cols.push("name text NOT NULL".into());
    cols.push("created_at timestamptz NOT NULL DEFAULT now()".into());
    let has_vector = rng.usize(..25) == 0;
    if has_vector {
        cols.push("embedding vector(384)".into());
    }
    let total = rng.usize(5..=15).max(cols.len() + 1);
    for k in cols.len()..total {
        let kind = FILL[rng.usize(..FILL.len())];
        let (col, def) = column(rng, kind, k, schema);
        cols.push(def);
        kinds.push((col, kind));
    }

    let mut constraints = Vec::new();
    if let Some(p) = parent {
        let action = if rng.usize(..3) == 0 {
            "SET NULL"
        } else {
            "CASCADE"
        };
        constraints.push(format!(
            "CONSTRAINT {name}_parent_fk FOREIGN KEY (parent_id) REFERENCES {} (id) ON DELETE {action}",
            qualified(p)
        ));
    }
    if rng.usize(..3) == 0 {
        constraints.push(format!(
            "CONSTRAINT {name}_name_ck CHECK (char_length(name) BETWEEN 1 AND 200)"
        ));
    }
    let _ = writeln!(
        sql,
        "CREATE TABLE {qname} (\n  {}\n);",
        cols.iter()
            .chain(&constraints)
            .cloned()
            .collect::<Vec<_>>()
            .join(",\n  ")
    );

    // 1–3 secondary indexes; the FK column is indexed first when there is one, as advised.
    let of_kind = |k: Kind| kinds.iter().find(|(_, kind)| *kind == k).map(|(c, _)| c);
    for n in 0..rng.usize(1..=3) {
        let def = match (n, rng.usize(..5)) {
            (0, _) if parent.is_some() => "(parent_id)".to_string(),
            (_, 0) => "(name, created_at DESC)".to_string(),
            (_, 1) => match (of_kind(Kind::Bool), of_kind(Kind::Enum)) {
                (_, Some(e)) => format!("(created_at) WHERE {e} <> 'archived'"),
                (Some(b), None) => format!("(created_at) WHERE {b}"),
                (None, None) => "(lower(name)) WHERE name <> ''".to_string(),
            },
            (_, 2) if of_kind(Kind::Jsonb).is_some() => {
                format!(
                    "USING gin ({} jsonb_path_ops)",
                    of_kind(Kind::Jsonb).unwrap()
                )
            }
            (_, 3) if !kinds.is_empty() => {
                let (c, kind) = &kinds[rng.usize(..kinds.len())];
                if *kind == Kind::Jsonb {
                    format!("USING gin ({c})")
                } else {
                    format!("({c})")
                }
            }
            _ => "(created_at)".to_string(),
        };
        let _ = writeln!(sql, "CREATE INDEX {name}_ix{n} ON {qname} {def};");
    }
    if has_vector {
        let _ = writeln!(
            sql,
            "CREATE INDEX {name}_embedding_ix ON {qname} USING hnsw (embedding vector_cosine_ops);"
        );
    }

    if rng.bool() {
        let _ = writeln!(
            sql,
            "COMMENT ON TABLE {qname} IS 'Entity {i} of the {schema} domain.';\n\
             COMMENT ON COLUMN {qname}.name IS 'Display name.';"
        );
    }

    if let Some(p) = parent
        && (i + 1).is_multiple_of(VIEW_EVERY)
    {
        let _ = writeln!(
            sql,
            "CREATE VIEW {schema}.v{i:05} AS\n  \
             SELECT c.id, c.name, c.created_at, p.id AS parent_id, p.name AS parent_name\n  \
             FROM {qname} c JOIN {} p ON p.id = c.parent_id;",
            qualified(p)
        );
    }
}

/// A column of `kind` at position `k`: its name and definition.
fn column(rng: &mut fastrand::Rng, kind: Kind, k: usize, schema: &str) -> (String, String) {
    let (col, ty) = match kind {
        Kind::Text => (format!("note_{k}"), "text".to_string()),
        Kind::Varchar => (
            format!("code_{k}"),
            format!("varchar({})", [16, 32, 64, 255][rng.usize(..4)]),
        ),
        Kind::Timestamptz => (
            format!("updated_{k}"),
            "timestamptz NOT NULL DEFAULT now()".to_string(),
        ),
        Kind::Jsonb => (
            format!("attrs_{k}"),
            "jsonb NOT NULL DEFAULT '{}'::jsonb".to_string(),
        ),
        Kind::Numeric => (
            format!("amount_{k}"),
            format!("numeric(12,2) CHECK (amount_{k} >= 0)"),
        ),
        Kind::Bool => (
            format!("is_flag_{k}"),
            "boolean NOT NULL DEFAULT false".to_string(),
        ),
        Kind::Int => (format!("qty_{k}"), "integer".to_string()),
        Kind::Enum => (
            format!("status_{k}"),
            format!("{schema}.status NOT NULL DEFAULT 'draft'"),
        ),
        Kind::Date => (format!("day_{k}"), "date".to_string()),
        Kind::Uuid => (
            format!("ref_{k}"),
            "uuid NOT NULL DEFAULT gen_random_uuid()".to_string(),
        ),
    };
    let def = format!("{col} {ty}");
    (col, def)
}
