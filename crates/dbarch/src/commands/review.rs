use crate::cli::{GlobalArgs, ReviewArgs, ReviewFormat};
use crate::exit::usage;
use crate::output::emit;
use crate::target;
use anyhow::Result;
use dbarch_catalog::{Filter, Options, introspect_parallel};
use dbarch_review::{Report, Subject};

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
