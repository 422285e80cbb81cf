//! `dbarch doctor`: health checks of a live database, in a read-only session. Checks that
//! cannot run (privileges, missing views) are reported as notes, never as failures.

use crate::cli::{DoctorArgs, FindingsFormat, GlobalArgs};
use crate::output::emit;
use crate::target;
use anyhow::Result;
use dbarch_query::DoctorOptions;

pub async fn run(global: &GlobalArgs, args: DoctorArgs) -> Result<u8> {
    let client = target::connect(global, &args.db, false).await?;
    let diags = dbarch_query::doctor::run(&client, &DoctorOptions::default()).await?;
    let text = match args.format {
        FindingsFormat::Text => dbarch_report::text(&diags),
        FindingsFormat::Json => dbarch_report::json(&diags),
    };
    emit(&text, None)?;
    Ok(if dbarch_report::exceeds(&diags, args.fail_on.into()) {
        crate::exit::FINDINGS
    } else {
        0
    })
}
