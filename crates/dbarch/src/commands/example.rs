use crate::cli::{DbArgs, ExampleCommand, GlobalArgs};
use crate::output::emit;
use crate::target;
use anyhow::Result;
use dbarch_example::LoadOptions;

pub async fn run(global: &GlobalArgs, cmd: ExampleCommand) -> Result<u8> {
    match cmd {
        ExampleCommand::Load {
            db,
            rows,
            seed,
            replace,
        } => {
            let options = LoadOptions {
                rows,
                seed,
                replace,
            };
            load(global, &db, &options).await?;
            Ok(0)
        }
        ExampleCommand::Schema => {
            emit(dbarch_example::SCHEMA_SQL, None)?;
            Ok(0)
        }
    }
}

/// Loads the example and says so on stderr.
pub async fn load(global: &GlobalArgs, db: &DbArgs, options: &LoadOptions) -> Result<()> {
    let mut client = target::connect(global, db, true).await?;
    let started = std::time::Instant::now();
    let summary = dbarch_example::load(&mut client, options).await?;
    if !global.quiet {
        eprintln!(
            "dbarch: loaded the example in {:.1} s: {} users, {} documents, {} chunks, \
                     {} document embeddings, {} AI log rows",
            started.elapsed().as_secs_f64(),
            summary.users,
            summary.documents,
            summary.document_chunks,
            summary.document_embeddings,
            summary.ai_logs
        );
    }
    Ok(())
}
