//! The storage design of an embedding store, as migrations.
//!
//! Type choice (pgvector 0.8 limits, README "Indexing"): `vector` indexes up to 2,000
//! dimensions, `halfvec` up to 4,000 (and halves the bytes at any size); above 4,000 the
//! embeddings are stored as `vector` and indexed through binary quantization, an expression
//! index `((binary_quantize(embedding))::bit(D)) bit_hamming_ops`, with the exact distance
//! re-ranking the candidates it returns. The operator class follows the metric; normalized
//! embeddings under cosine use inner product, which ranks identically and costs less.
//!
//! The design is two migrations: the tables, their B-tree/GIN indexes and the generated
//! `tsvector` (`GENERATED ALWAYS AS (...) STORED`: PostgreSQL 18's generated columns are
//! virtual by default and a virtual column cannot be indexed) in one transaction; then the ANN
//! index, `CREATE INDEX CONCURRENTLY` in a `-- dbarch:no-transaction` file with
//! `maintenance_work_mem` and parallel workers set from the estimate.

use crate::estimate::{self, Storage, human};
use crate::{Error, Metric, Result, ident, qualified};
use serde::Serialize;

/// Embedding models whose dimensions and normalization are known.
const MODELS: &[(&str, u32, bool)] = &[
    ("all-MiniLM-L6-v2", 384, true),
    ("all-mpnet-base-v2", 768, true),
    ("bge-small-en-v1.5", 384, true),
    ("bge-base-en-v1.5", 768, true),
    ("bge-large-en-v1.5", 1024, true),
    ("nomic-embed-text", 768, false),
    ("mxbai-embed-large", 1024, true),
    ("text-embedding-ada-002", 1536, true),
    ("text-embedding-3-small", 1536, true),
    ("text-embedding-3-large", 3072, true),
];

/// What `dims`/`normalized` a known model implies.
pub fn known_model(name: &str) -> Option<(u32, bool)> {
    let base = name.rsplit('/').next().unwrap_or(name);
    MODELS
        .iter()
        .find(|(m, _, _)| m.eq_ignore_ascii_case(base))
        .map(|&(_, d, n)| (d, n))
}

/// How the user wants the embeddings stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageChoice {
    /// By dimensions: vector ≤ 2,000, halfvec ≤ 4,000, binary quantization above.
    #[default]
    Auto,
    Vector,
    Halfvec,
    Binary,
}

/// A metadata column that searches filter on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterColumn {
    pub name: String,
    pub data_type: String,
}

impl FilterColumn {
    /// `COL:TYPE` (`lang:text`, `tags:text[]`, `meta:jsonb`, `published:date`).
    pub fn parse(spec: &str) -> Result<FilterColumn> {
        let (name, ty) = spec
            .split_once(':')
            .ok_or_else(|| Error::input(format!("--filter {spec:?}: expected COL:TYPE")))?;
        let (name, ty) = (name.trim(), ty.trim().to_ascii_lowercase());
        let ok_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        let ok_type = !ty.is_empty()
            && ty
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " _[](),".contains(c));
        if !ok_name || !ok_type {
            return Err(Error::input(format!(
                "--filter {spec:?}: COL must be a plain identifier and TYPE a type name"
            )));
        }
        let data_type = match ty.as_str() {
            "int" | "int4" => "integer".to_owned(),
            "int8" => "bigint".to_owned(),
            "bool" => "boolean".to_owned(),
            "timestamp" => "timestamptz".to_owned(),
            "string" | "str" => "text".to_owned(),
            "json" => "jsonb".to_owned(),
            _ => ty,
        };
        Ok(FilterColumn {
            name: name.to_owned(),
            data_type,
        })
    }

    /// GIN for `jsonb` (containment, `jsonb_path_ops`) and arrays (`&&`, `@>`), else B-tree.
    pub fn index_using(&self) -> &'static str {
        if self.data_type == "jsonb" {
            "gin (COL jsonb_path_ops)"
        } else if self.data_type.ends_with("[]") {
            "gin (COL)"
        } else {
            "btree (COL)"
        }
    }
}

/// The inputs of a design.
#[derive(Debug, Clone)]
pub struct DesignInput {
    pub dims: u32,
    pub rows: u64,
    pub model: Option<String>,
    pub model_version: Option<String>,
    pub metric: Metric,
    pub normalized: bool,
    pub storage: StorageChoice,
    pub filters: Vec<FilterColumn>,
    pub schema: String,
    /// The chunk table (holding the embeddings).
    pub table: String,
    pub documents_table: String,
    pub column: String,
    pub m: u32,
    pub ef_construction: u32,
    /// Average bytes of a chunk's text, for the estimate.
    pub avg_chunk_bytes: u64,
    /// Parallel maintenance workers the server can give a build.
    pub available_workers: u32,
}

impl Default for DesignInput {
    fn default() -> Self {
        DesignInput {
            dims: 384,
            rows: 100_000,
            model: None,
            model_version: None,
            metric: Metric::Cosine,
            normalized: false,
            storage: StorageChoice::Auto,
            filters: Vec::new(),
            schema: "public".into(),
            table: "chunks".into(),
            documents_table: "documents".into(),
            column: "embedding".into(),
            m: 16,
            ef_construction: 64,
            avg_chunk_bytes: 1000,
            available_workers: 2,
        }
    }
}

/// How the embeddings are stored and indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VectorPlan {
    /// `vector`, `halfvec`.
    pub storage: Storage,
    /// Indexed through `binary_quantize(...)::bit(D)` with an exact re-rank.
    pub binary_quantized: bool,
    /// `vector(384)`.
    pub column_type: String,
    /// The index key: the column, or the binary-quantization expression.
    pub index_key: String,
    pub opclass: String,
    /// The distance operator queries order by (for the re-rank with binary quantization).
    pub operator: String,
    pub reason: String,
}

/// Chooses the type and operator class.
pub fn plan_vector(input: &DesignInput) -> Result<VectorPlan> {
    let d = input.dims;
    if d == 0 || d > 16_000 {
        return Err(Error::input(format!(
            "--dims {d}: pgvector's vector and halfvec hold 1 to 16,000 dimensions"
        )));
    }
    // Normalized embeddings: inner product ranks like cosine, without the norms.
    let metric = if input.normalized && input.metric == Metric::Cosine {
        Metric::Ip
    } else {
        input.metric
    };
    let col = ident(&input.column);
    let (storage, binary, reason) = match input.storage {
        StorageChoice::Vector if d > 2000 => {
            return Err(Error::input(format!(
                "--storage vector: pgvector indexes vector up to 2,000 dimensions, not {d}; use halfvec (up to 4,000) or binary"
            )));
        }
        StorageChoice::Halfvec if d > 4000 => {
            return Err(Error::input(format!(
                "--storage halfvec: pgvector indexes halfvec up to 4,000 dimensions, not {d}; use binary"
            )));
        }
        StorageChoice::Vector => (Storage::Vector, false, "vector, as asked".to_owned()),
        StorageChoice::Halfvec => (
            Storage::Halfvec,
            false,
            "halfvec, as asked: half the bytes of vector, recall barely changes for embeddings"
                .to_owned(),
        ),
        StorageChoice::Binary => (
            Storage::Vector,
            true,
            "binary quantization, as asked: a 32x smaller index, exact re-rank".to_owned(),
        ),
        StorageChoice::Auto if d <= 2000 => (
            Storage::Vector,
            false,
            format!("vector: {d} dimensions are within HNSW's 2,000 for vector"),
        ),
        StorageChoice::Auto if d <= 4000 => (
            Storage::Halfvec,
            false,
            format!(
                "halfvec: {d} dimensions exceed vector's 2,000 indexable, within halfvec's 4,000"
            ),
        ),
        StorageChoice::Auto => (
            Storage::Vector,
            true,
            format!(
                "binary quantization: {d} dimensions exceed halfvec's 4,000 indexable; the bit index finds candidates, the exact distance re-ranks them"
            ),
        ),
    };
    let column_type = format!("{}({d})", storage.type_name());
    Ok(if binary {
        VectorPlan {
            storage,
            binary_quantized: true,
            column_type,
            index_key: format!("((binary_quantize({col}))::bit({d}))"),
            opclass: "bit_hamming_ops".into(),
            operator: metric.operator().into(),
            reason,
        }
    } else {
        VectorPlan {
            storage,
            binary_quantized: false,
            column_type,
            index_key: col,
            opclass: format!("{}_{}", storage.type_name(), metric.ops_suffix()),
            operator: metric.operator().into(),
            reason,
        }
    })
}

/// The size and memory estimate of a design.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub rows: u64,
    pub vector_bytes: u64,
    pub vectors_total_bytes: u64,
    pub table_bytes: u64,
    pub ann_index_bytes: u64,
    pub other_index_bytes: u64,
    pub build_memory_bytes: u64,
    pub maintenance_work_mem: String,
    pub max_parallel_maintenance_workers: u32,
    pub formulas: Vec<String>,
}

/// Estimates sizes for the design (see [`crate::estimate`] for the formulas).
pub fn estimate(input: &DesignInput, plan: &VectorPlan, with_text: bool) -> Estimate {
    let rows = input.rows;
    let vb = plan.storage.value_bytes(input.dims);
    let key_bytes = if plan.binary_quantized {
        estimate::bit_bytes(input.dims)
    } else {
        vb
    };
    // Header + line pointer, id, document_id, chunk_index, hash, model, created_at.
    let fixed = 28 + 8 + 8 + 4 + 33 + 24 + 8;
    let text = if with_text {
        // The content and its tsvector (about as large as the text).
        2 * input.avg_chunk_bytes
    } else {
        0
    };
    let filters = 12 * input.filters.len() as u64;
    let table_bytes = rows * (fixed + vb + text + filters) * 21 / 20;
    let ann = estimate::hnsw_index_bytes(rows, key_bytes, input.m);
    let btrees = if with_text { 2 } else { 0 } + input.filters.len() as u64;
    let other = rows * 32 * btrees
        + if with_text {
            rows * input.avg_chunk_bytes / 2
        } else {
            0
        };
    let build = estimate::hnsw_build_memory(rows, key_bytes, input.m);
    Estimate {
        rows,
        vector_bytes: vb,
        vectors_total_bytes: rows * vb,
        table_bytes,
        ann_index_bytes: ann,
        other_index_bytes: other,
        build_memory_bytes: build,
        maintenance_work_mem: estimate::maintenance_work_mem_for(build),
        max_parallel_maintenance_workers: estimate::parallel_workers_for(
            rows,
            input.available_workers,
        ),
        formulas: vec![
            format!(
                "vector value: {} bytes ({}; pgvector README, \"Storage\")",
                vb,
                match plan.storage {
                    Storage::Vector => "4 * d + 8",
                    Storage::Halfvec => "2 * d + 8",
                }
            ),
            format!(
                "HNSW index: rows * (align8(72 + key) + align8(4 + 6 * (2m + 1)) + 8), key = {key_bytes} bytes, m = {}",
                input.m
            ),
            format!(
                "HNSW build graph: rows * (key + 112 + 2m * 16) = {} (pgvector hnsw.h: HnswElementData, HnswCandidate); maintenance_work_mem = 1.25x that",
                human(build)
            ),
        ],
    }
}

/// A design: its migrations, its choices and its estimate.
#[derive(Debug, Clone, Serialize)]
pub struct Design {
    pub plan: VectorPlan,
    pub estimate: Estimate,
    /// Tables, B-tree/GIN indexes (one transaction).
    pub tables_up: String,
    pub tables_down: String,
    /// The ANN index (`-- dbarch:no-transaction`).
    pub index_up: String,
    pub index_down: String,
    /// The search query the index serves.
    pub query: String,
    pub notes: Vec<String>,
}

/// The full design: documents table, chunk table, indexes, the ANN index.
pub fn design(input: &DesignInput) -> Result<Design> {
    let plan = plan_vector(input)?;
    for f in &input.filters {
        if RESERVED.contains(&f.name.as_str()) || f.name == input.column {
            return Err(Error::input(format!(
                "--filter {}: the design already has a column of that name",
                f.name
            )));
        }
    }
    let est = estimate(input, &plan, true);
    let s = &input.schema;
    let docs = qualified(s, &input.documents_table);
    let chunks = qualified(s, &input.table);
    let col = ident(&input.column);
    let mut up = String::new();
    up.push_str(&format!(
        "-- Vector storage design: {} rows of {} ({}), {}.\n",
        input.rows,
        plan.column_type,
        input
            .model
            .as_deref()
            .unwrap_or("embedding model not named"),
        plan.reason
    ));
    up.push_str("CREATE EXTENSION IF NOT EXISTS vector;\n\n");
    up.push_str(&format!(
        "CREATE TABLE {docs} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    source text NOT NULL UNIQUE,\n    title text,\n    content_hash bytea NOT NULL,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\n\n"
    ));
    let model_default = match &input.model {
        Some(m) => format!(" DEFAULT {}", literal(m)),
        None => String::new(),
    };
    let version_default = match &input.model_version {
        Some(v) => format!(" DEFAULT {}", literal(v)),
        None => String::new(),
    };
    let mut cols = vec![
        "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY".to_owned(),
        format!("document_id bigint NOT NULL REFERENCES {docs} (id) ON DELETE CASCADE"),
        "chunk_index integer NOT NULL CHECK (chunk_index >= 0)".to_owned(),
        "content text NOT NULL".to_owned(),
        "content_hash bytea NOT NULL".to_owned(),
        format!("model_name text NOT NULL{model_default}"),
        format!("model_version text NOT NULL{version_default}"),
        format!("{col} {} NOT NULL", plan.column_type),
    ];
    for f in &input.filters {
        cols.push(format!("{} {}", ident(&f.name), f.data_type));
    }
    cols.push(
        "content_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED"
            .to_owned(),
    );
    cols.push("created_at timestamptz NOT NULL DEFAULT now()".to_owned());
    // The unique key doubles as the foreign key's index (document_id leads).
    cols.push(format!(
        "CONSTRAINT {} UNIQUE (document_id, chunk_index)",
        ident(&format!("{}_document_id_chunk_index_key", input.table))
    ));
    up.push_str(&format!(
        "CREATE TABLE {chunks} (\n    {}\n);\n\n",
        cols.join(",\n    ")
    ));
    up.push_str(&format!(
        "CREATE INDEX {} ON {chunks} USING gin (content_tsv);\n",
        ident(&format!("{}_content_tsv_idx", input.table))
    ));
    for f in &input.filters {
        let using = f.index_using().replace("COL", &ident(&f.name));
        up.push_str(&format!(
            "CREATE INDEX {} ON {chunks} USING {using};\n",
            ident(&format!("{}_{}_idx", input.table, f.name))
        ));
    }
    let tables_down = format!("DROP TABLE {chunks};\nDROP TABLE {docs};\n");
    let index_name = format!("{}_{}_idx", input.table, input.column);
    let (index_up, index_down) = index_migration(
        &chunks,
        &index_name,
        s,
        &plan,
        input.m,
        input.ef_construction,
        &est,
    );
    let query = search_query(&chunks, &col, &plan, input.dims);
    let mut notes = vec![format!(
        "filters live on {chunks} itself, so a filtered search stays one index scan (pgvector 0.8: SET hnsw.iterative_scan = relaxed_order keeps LIMIT full)"
    )];
    if input.dims > 0 && plan.storage.value_bytes(input.dims) > 2032 {
        notes.push(format!(
            "{} values are over 2 kB: they are stored in the TOAST table, and sequential re-reads cost more",
            plan.column_type
        ));
    }
    Ok(Design {
        plan,
        estimate: est,
        tables_up: up,
        tables_down,
        index_up,
        index_down,
        query,
        notes,
    })
}

const RESERVED: &[&str] = &[
    "id",
    "document_id",
    "chunk_index",
    "content",
    "content_hash",
    "model_name",
    "model_version",
    "content_tsv",
    "created_at",
];

/// The non-transactional ANN index migration and its down.
pub fn index_migration(
    table: &str,
    index_name: &str,
    schema: &str,
    plan: &VectorPlan,
    m: u32,
    ef_construction: u32,
    est: &Estimate,
) -> (String, String) {
    let up = format!(
        "-- dbarch:no-transaction\n-- The HNSW graph of {} rows needs about {} while building: it fits in maintenance_work_mem.\nSET maintenance_work_mem = '{}';\nSET max_parallel_maintenance_workers = {};\nCREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {table} USING hnsw ({} {}) WITH (m = {m}, ef_construction = {ef_construction});\n",
        est.rows,
        human(est.build_memory_bytes),
        est.maintenance_work_mem,
        est.max_parallel_maintenance_workers,
        ident(index_name),
        plan.index_key,
        plan.opclass,
    );
    let down = format!(
        "-- dbarch:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS {};\n",
        qualified(schema, index_name)
    );
    (up, down)
}

/// The k-nearest query the design serves.
pub fn search_query(table: &str, col: &str, plan: &VectorPlan, dims: u32) -> String {
    if plan.binary_quantized {
        format!(
            "SELECT id FROM (\n    SELECT id, {col} FROM {table}\n    ORDER BY (binary_quantize({col}))::bit({dims}) <~> binary_quantize($1::vector({dims}))\n    LIMIT 40  -- 4x k candidates from the bit index\n) candidates\nORDER BY {col} {} $1::vector({dims})  -- exact re-rank\nLIMIT 10;",
            plan.operator
        )
    } else {
        format!(
            "SELECT id FROM {table} ORDER BY {col} {} $1::{} LIMIT 10;",
            plan.operator, plan.column_type
        )
    }
}

/// A SQL string literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The design as text: the choices, the estimate, the migrations.
pub fn render_text(d: &Design) -> String {
    let e = &d.estimate;
    let mut s = String::new();
    s.push_str(&format!(
        "Storage: {} — {}\n",
        d.plan.column_type, d.plan.reason
    ));
    s.push_str(&format!(
        "Index: hnsw ({} {}), queries order by {}\n",
        d.plan.index_key, d.plan.opclass, d.plan.operator
    ));
    s.push_str(&format!("\nEstimate for {} rows:\n", e.rows));
    s.push_str(&format!(
        "  vectors            {} ({} bytes each)\n",
        human(e.vectors_total_bytes),
        e.vector_bytes
    ));
    s.push_str(&format!("  table              {}\n", human(e.table_bytes)));
    s.push_str(&format!(
        "  HNSW index         {}\n",
        human(e.ann_index_bytes)
    ));
    s.push_str(&format!(
        "  other indexes      {} (rough)\n",
        human(e.other_index_bytes)
    ));
    s.push_str(&format!(
        "  HNSW build graph   {} → maintenance_work_mem = '{}', max_parallel_maintenance_workers = {}\n",
        human(e.build_memory_bytes),
        e.maintenance_work_mem,
        e.max_parallel_maintenance_workers
    ));
    s.push_str("  formulas:\n");
    for f in &e.formulas {
        s.push_str(&format!("    - {f}\n"));
    }
    for n in &d.notes {
        s.push_str(&format!("Note: {n}\n"));
    }
    s.push_str("\n-- Migration 1 (one transaction)\n");
    s.push_str(&d.tables_up);
    s.push_str("\n-- Migration 2\n");
    s.push_str(&d.index_up);
    s.push_str("\n-- The search it serves\n");
    s.push_str(&d.query);
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(dims: u32) -> DesignInput {
        DesignInput {
            dims,
            ..Default::default()
        }
    }

    #[test]
    fn type_follows_dimensions() {
        let p = plan_vector(&input(384)).unwrap();
        assert_eq!(
            (p.column_type.as_str(), p.opclass.as_str()),
            ("vector(384)", "vector_cosine_ops")
        );
        let p = plan_vector(&input(3072)).unwrap();
        assert_eq!(
            (p.column_type.as_str(), p.opclass.as_str()),
            ("halfvec(3072)", "halfvec_cosine_ops")
        );
        let p = plan_vector(&input(8192)).unwrap();
        assert!(p.binary_quantized);
        assert_eq!(p.index_key, "((binary_quantize(embedding))::bit(8192))");
        assert_eq!(p.opclass, "bit_hamming_ops");
        assert!(plan_vector(&input(20_000)).is_err());
        let err = plan_vector(&DesignInput {
            storage: StorageChoice::Vector,
            ..input(3000)
        })
        .unwrap_err();
        assert!(err.is_input());
    }

    #[test]
    fn opclass_follows_metric_and_normalization() {
        let p = plan_vector(&DesignInput {
            normalized: true,
            ..input(384)
        })
        .unwrap();
        assert_eq!(
            (p.opclass.as_str(), p.operator.as_str()),
            ("vector_ip_ops", "<#>")
        );
        let p = plan_vector(&DesignInput {
            metric: Metric::L2,
            storage: StorageChoice::Halfvec,
            ..input(384)
        })
        .unwrap();
        assert_eq!(p.opclass, "halfvec_l2_ops");
    }

    #[test]
    fn filters_parse_and_pick_their_index() {
        let f = FilterColumn::parse("tags:text[]").unwrap();
        assert_eq!(f.index_using(), "gin (COL)");
        assert_eq!(FilterColumn::parse("meta:json").unwrap().data_type, "jsonb");
        assert_eq!(
            FilterColumn::parse("n:int").unwrap().index_using(),
            "btree (COL)"
        );
        assert!(FilterColumn::parse("bad").is_err());
        assert!(FilterColumn::parse("x:text; drop table").is_err());
    }

    #[test]
    fn the_design_has_every_part() {
        let d = design(&DesignInput {
            filters: vec![FilterColumn::parse("lang:text").unwrap()],
            model: Some("all-MiniLM-L6-v2".into()),
            ..input(384)
        })
        .unwrap();
        for part in [
            "REFERENCES public.documents (id)",
            "UNIQUE (document_id, chunk_index)",
            "content_hash bytea NOT NULL",
            "model_name text NOT NULL DEFAULT 'all-MiniLM-L6-v2'",
            "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED",
            "USING gin (content_tsv)",
            "chunks_lang_idx ON public.chunks USING btree (lang)",
        ] {
            assert!(
                d.tables_up.contains(part),
                "{part} missing from\n{}",
                d.tables_up
            );
        }
        assert!(d.index_up.starts_with("-- dbarch:no-transaction\n"));
        assert!(d.index_up.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS chunks_embedding_idx ON public.chunks USING hnsw (embedding vector_cosine_ops)"));
        assert_eq!(
            known_model("sentence-transformers/all-MiniLM-L6-v2"),
            Some((384, true))
        );
    }
}

/// `dbarch vector setup`: a vector column and its ANN index on an existing table.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub plan: VectorPlan,
    pub estimate: Estimate,
    /// Adds the column (None when it exists with the right type).
    pub column_up: Option<(String, String)>,
    pub index_up: String,
    pub index_down: String,
    pub query: String,
}

/// The column (when `existing_type` is None) and index migrations for `schema.table`.
/// `existing_type` is the column's `format_type` when it exists.
pub fn setup(input: &DesignInput, existing_type: Option<&str>) -> Result<Setup> {
    let plan = plan_vector(input)?;
    let table = qualified(&input.schema, &input.table);
    let col = ident(&input.column);
    let column_up = match existing_type {
        None => Some((
            format!(
                "-- {}\nCREATE EXTENSION IF NOT EXISTS vector;\nALTER TABLE {table} ADD COLUMN {col} {};\n",
                plan.reason, plan.column_type
            ),
            format!("ALTER TABLE {table} DROP COLUMN {col};\n"),
        )),
        Some(t) => {
            let have = dbarch_model::parse_vector_type(t);
            let want = dbarch_model::parse_vector_type(&plan.column_type);
            if have != want {
                return Err(Error::input(format!(
                    "{table}.{col} is {t}, the design needs {}: change it with a migration first (or pass --storage/--dims to match)",
                    plan.column_type
                )));
            }
            None
        }
    };
    let est = estimate(input, &plan, false);
    let index_name = format!("{}_{}_idx", input.table, input.column);
    let (index_up, index_down) = index_migration(
        &table,
        &index_name,
        &input.schema,
        &plan,
        input.m,
        input.ef_construction,
        &est,
    );
    let query = search_query(&table, &col, &plan, input.dims);
    Ok(Setup {
        plan,
        estimate: est,
        column_up,
        index_up,
        index_down,
        query,
    })
}
