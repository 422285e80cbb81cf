use crate::cli::{GlobalArgs, InspectArgs, InspectFormat};
use crate::exit::usage;
use crate::output::emit;
use crate::target;
use anyhow::Result;
use dbarch_catalog::{Filter, Options, introspect_parallel};

pub async fn run(global: &GlobalArgs, args: InspectArgs) -> Result<u8> {
    let filter = Filter::new(args.schemas.clone(), &args.tables, &args.exclude).map_err(usage)?;
    let clients = target::connect_for_introspection(global, &args.db).await?;
    let clients: Vec<_> = clients.iter().collect();
    let intro = introspect_parallel(
        &clients,
        &Options {
            stats: args.stats,
            filter,
        },
    )
    .await?;
    let db = &intro.database;
    let text = match args.format {
        InspectFormat::Sql => dbarch_ddl::schema_sql(db),
        InspectFormat::Json => model_json(&intro)?,
        InspectFormat::Mermaid => dbarch_docs::mermaid(db, &Default::default()),
        InspectFormat::Dot => dbarch_docs::dot(db, &Default::default()),
        InspectFormat::Svg => dbarch_docs::svg(db, &Default::default()),
        InspectFormat::Markdown => dbarch_docs::markdown(
            db,
            &dbarch_docs::DocsOptions {
                title: Some(format!("Database {}", intro.server.database)),
                ..Default::default()
            },
        ),
    };
    emit(&text, args.out.as_deref())?;
    Ok(0)
}

/// The model as one JSON document, with a format version. Server facts are kept out of the
/// model itself so that equal schemas on different servers give identical `model` objects.
fn model_json(intro: &dbarch_catalog::Introspection) -> Result<String> {
    #[derive(serde::Serialize)]
    struct Document<'a> {
        version: u32,
        server: &'a dbarch_catalog::ServerInfo,
        model: &'a dbarch_model::Database,
    }
    let doc = Document {
        version: dbarch_model::MODEL_FORMAT_VERSION,
        server: &intro.server,
        model: &intro.database,
    };
    let mut s = serde_json::to_string_pretty(&doc)?;
    s.push('\n');
    Ok(s)
}
