//! `dbarch doctor`: health checks of a live database, in a read-only session. Checks that
//! cannot run (privileges, missing views) are reported as notes, never as failures. With
//! pg_stat_statements, the common queries are executed (rolled back) for their P50/P95/P99
//! (H022) and N+1 patterns are reported (H023).

use crate::cli::{DoctorArgs, FindingsFormat, GlobalArgs};
use crate::output::emit;
use crate::target;
use anyhow::Result;
use dbarch_query::DoctorOptions;

pub async fn run(global: &GlobalArgs, args: DoctorArgs) -> Result<u8> {
    let client = target::connect(global, &args.db, false).await?;
    let secs = |s: Option<f64>, flag: &str| -> Result<Option<std::time::Duration>> {
        s.map(|v| {
            std::time::Duration::try_from_secs_f64(v)
                .map_err(|_| crate::exit::usage(format!("{flag} {v}: expected seconds >= 0")))
        })
        .transpose()
    };
    let options = DoctorOptions {
        min_table_bytes: args.min_table_size,
        min_table_reads: args.min_table_reads,
        long_running: secs(args.long_running, "--long-running")?,
        idle_in_transaction: secs(args.idle_in_transaction, "--idle-in-transaction")?,
    };
    let mut diags = dbarch_query::doctor::run(&client, &options).await?;
    // The common queries' measured latency and N+1 patterns (from pg_stat_statements).
    diags.extend(
        dbarch_query::advise::doctor_findings(&client, args.top, args.runs, args.target_ms).await?,
    );
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
