use crate::cli::{GlobalArgs, ReviewArgs, ReviewFormat};
use crate::exit::usage;
use crate::output::emit;
use crate::target;
use anyhow::Result;
use dbarch_catalog::{Filter, Options, introspect_parallel};
use dbarch_review::{Report, Section, Subject, group_thousands, human_bytes};
use dbarch_vector::inventory::{self, Inventory, InventoryOptions, Level, VectorColumn};
use std::fmt::Write;

pub async fn run(global: &GlobalArgs, args: ReviewArgs) -> Result<u8> {
    let filter = Filter::new(args.schemas.clone(), &[], &args.exclude).map_err(usage)?;
    if args.example {
        let options = dbarch_example::LoadOptions {
            replace: true,
            ..Default::default()
        };
        super::example::load(global, &args.db, &options).await?;
    }
    let clients = target::connect_for_introspection(global, &args.db).await?;
    let clients: Vec<_> = clients.iter().collect();
    let intro = introspect_parallel(
        &clients,
        &Options {
            stats: true,
            filter,
        },
    )
    .await?;
    let mut report = Report::new(
        Subject {
            database: intro.server.database.clone(),
            server_version: intro.server.version.clone(),
        },
        &intro.database,
    );
    let design = dbarch_lint::lint_schema(
        &intro.database,
        &dbarch_lint::Context {
            server_major: u32::try_from(intro.server.major()).ok(),
            // With the bundled example its common queries are the workload (rules such as
            // an opclass that does not match the distance the queries use need one).
            workload: if args.example {
                dbarch_lint::workload::split_workload(dbarch_example::QUERIES_SQL)
            } else {
                Vec::new()
            },
            ..Default::default()
        },
    );
    report.push(dbarch_review::findings_section(
        "design",
        "Design findings",
        "Schema design and pgvector rules (`dbarch lint`) on the live schema.",
        &design,
    ));
    // Read-only health checks on the same (read-only) session. A finding the design section
    // already gives for the same object is not repeated.
    let health: Vec<_> =
        dbarch_query::doctor::run(clients[0], &dbarch_query::DoctorOptions::default())
            .await?
            .into_iter()
            .filter(|h| !already_reported(h, &design))
            .collect();
    report.push(dbarch_review::findings_section(
        "health",
        "Health",
        "Operational health checks (`dbarch doctor`): unused, duplicate and invalid indexes, \
         bloat, overflow and wraparound risks, sessions, locks and configuration.",
        &health,
    ));
    report.push(super::advise::review_section(global, &args.db, clients[0], args.example).await?);
    report.push(vector_section(clients[0], &intro.database, args.example).await?);
    let text = match args.format {
        ReviewFormat::Markdown => report.to_markdown(),
        ReviewFormat::Json => report.to_json(),
    };
    emit(&text, args.out.as_deref())?;
    if let Some(out) = args.out.as_ref().filter(|_| !global.quiet) {
        eprintln!("dbarch: wrote the review to {}", out.display());
    }
    Ok(0)
}

/// Doctor checks that restate a lint rule, by code: (doctor, lint).
const SAME_FINDING: &[(&str, &str)] = &[("H002", "S003"), ("H004", "S001"), ("H020", "V002")];

fn already_reported(h: &dbarch_report::Diagnostic, design: &[dbarch_report::Diagnostic]) -> bool {
    SAME_FINDING.iter().any(|(health, lint)| {
        h.code == *health
            && design
                .iter()
                .any(|d| d.code == *lint && d.object.is_some() && d.object == h.object)
    })
}

/// The "Vector storage" section: each pgvector column of the (filtered) model's tables, its
/// ANN indexes, recall@k measured at the session's settings, and the advice. Read-only.
async fn vector_section(
    client: &dbarch_pg::tokio_postgres::Client,
    db: &dbarch_model::Database,
    example: bool,
) -> Result<Section> {
    let opts = InventoryOptions {
        workload: if example {
            dbarch_lint::workload::split_workload(dbarch_example::QUERIES_SQL)
        } else {
            Vec::new()
        },
        tables: Some(
            db.tables
                .iter()
                .map(|t| (t.schema.clone(), t.name.clone()))
                .collect(),
        ),
        ..Default::default()
    };
    let inv = inventory::inventory(client, &opts).await?;
    Ok(Section {
        id: "vector-storage".into(),
        title: "Vector storage".into(),
        markdown: vector_markdown(&inv, &opts),
        data: serde_json::to_value(&inv)?,
    })
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn vector_markdown(inv: &Inventory, opts: &InventoryOptions) -> String {
    if inv.extension.is_none() {
        return "The `vector` extension (pgvector) is not installed in this database: no vector \
                columns.\n"
            .into();
    }
    if inv.columns.is_empty() {
        return "No pgvector columns.\n".into();
    }
    let st = &inv.settings;
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "unset".into());
    let mut md = format!(
        "Each pgvector column with its HNSW/IVFFlat indexes, and recall@{k} measured at this \
         session's settings (`hnsw.ef_search` = {}, `ivfflat.probes` = {}, \
         `hnsw.iterative_scan` = {}): the exact top {k} by a sequential scan against the \
         index's, for up to {} query vectors sampled from the column, in a read-only \
         transaction that is rolled back. P50 is the index search's latency, the exact \
         search's in brackets.\n\n\
         | Column | Type | Rows (est.) | Index | Recall@{k} | P50 ms |\n|---|---|---:|---|---:|---:|\n",
        show(&st.hnsw_ef_search),
        show(&st.ivfflat_probes),
        show(&st.hnsw_iterative_scan),
        opts.queries,
        k = inv.k,
    );
    for c in &inv.columns {
        let rows = c
            .estimated_rows
            .map(group_thousands)
            .unwrap_or_else(|| "?".into());
        let head = format!(
            "| `{}` | {} | {rows} |",
            cell(&c.label()),
            cell(&c.data_type)
        );
        if c.indexes.is_empty() {
            let _ = writeln!(md, "{head} none | | |");
            continue;
        }
        for i in &c.indexes {
            let mut desc = format!("`{}` {}", cell(&i.name), i.method);
            let params = match i.method.as_str() {
                "hnsw" => format!(
                    " m={} ef_construction={}",
                    i.m.unwrap_or(16),
                    i.ef_construction.unwrap_or(64)
                ),
                _ => format!(" lists={}", i.lists.unwrap_or(100)),
            };
            desc.push_str(&params);
            let _ = write!(desc, ", {}", i.opclass);
            if let Some(e) = &i.expression {
                let _ = write!(desc, " on `{}`", cell(e));
            }
            if let Some(p) = &i.predicate {
                let _ = write!(desc, " WHERE `{}`", cell(p));
            }
            let _ = write!(desc, ", {}", human_bytes(i.bytes));
            if !i.valid {
                desc.push_str(", **invalid**");
            }
            let (recall, p50) = match c.measurements.iter().find(|m| m.index == i.name) {
                Some(m) => (
                    format!(
                        "{:.2} at {} = {} ({} queries)",
                        m.recall,
                        m.setting.split('.').nth(1).unwrap_or(&m.setting),
                        m.value.as_deref().unwrap_or("default"),
                        m.queries
                    ),
                    format!("{:.2} ({:.2})", m.p50_ms, m.exact_p50_ms),
                ),
                None => ("not measured".into(), String::new()),
            };
            let _ = writeln!(md, "{head} {desc} | {recall} | {p50} |");
        }
    }
    let notes: Vec<String> = inv
        .columns
        .iter()
        .flat_map(|c| c.notes.iter().map(move |n| format!("`{}`: {n}", c.label())))
        .collect();
    if !notes.is_empty() {
        md.push('\n');
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    let advice: Vec<(&VectorColumn, &inventory::Advice)> = inv
        .columns
        .iter()
        .flat_map(|c| c.advice.iter().map(move |a| (c, a)))
        .collect();
    if advice.is_empty() {
        md.push_str(
            "\nNo advice: every column is indexed and measures at or above the recall threshold.\n",
        );
        return md;
    }
    let _ = writeln!(md, "\n| | Column | Advice |\n|---|---|---|");
    for (c, a) in &advice {
        let icon = match a.level {
            Level::Warning => "🟠",
            Level::Note => "🔵",
        };
        let _ = writeln!(
            md,
            "| {icon} | `{}` | `{}` {} |",
            cell(&c.label()),
            a.kind,
            cell(&a.message)
        );
    }
    let fixes: Vec<&str> = advice
        .iter()
        .filter_map(|(_, a)| a.fix.as_deref())
        .collect();
    if !fixes.is_empty() {
        md.push_str("\nSuggested fixes (review each before running it):\n\n```sql\n");
        for f in fixes {
            md.push_str(f);
            md.push('\n');
        }
        md.push_str("```\n");
    }
    md
}
