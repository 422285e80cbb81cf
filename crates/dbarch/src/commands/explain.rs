//! `dbarch explain SQL|@FILE`: the plan and its findings. The statement runs in a transaction
//! that is always rolled back; the session is read-only unless `--analyze` executes it.

use crate::cli::{ExplainArgs, FindingsFormat, GlobalArgs};
use crate::exit::usage;
use crate::output::emit;
use crate::target;
use anyhow::Result;
use dbarch_query::{Explain, Request};
use dbarch_report::{Diagnostic, Summary};

pub async fn run(global: &GlobalArgs, args: ExplainArgs) -> Result<u8> {
    let (sql, file) = read_query(&args.query)?;
    let client = target::connect(global, &args.db, args.analyze).await?;
    let request = Request {
        sql: &sql,
        params: &args.params,
        analyze: args.analyze,
    };
    let outcome = dbarch_query::explain(&client, &request)
        .await
        .map_err(|e| {
            if e.is_input() {
                let at = file
                    .as_deref()
                    .map(|f| format!("{f}: "))
                    .unwrap_or_default();
                usage(format!("{at}{e}"))
            } else {
                e.into()
            }
        })?;
    let mut diags = dbarch_query::analyze(&outcome);
    if let Some(f) = &file {
        for d in &mut diags {
            d.file = Some(f.clone());
        }
    }
    let text = match args.format {
        FindingsFormat::Text => {
            let mut t = dbarch_query::render::text(&outcome.explain);
            t.push('\n');
            t.push_str(&dbarch_report::text(&diags));
            t
        }
        FindingsFormat::Json => document(&outcome.explain, &diags)?,
    };
    emit(&text, None)?;
    Ok(if dbarch_report::exceeds(&diags, args.fail_on.into()) {
        crate::exit::FINDINGS
    } else {
        0
    })
}

/// The query text and, for `@FILE`, the file's name.
fn read_query(arg: &str) -> Result<(String, Option<String>)> {
    match arg.strip_prefix('@') {
        Some(path) => {
            let sql = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read {path}: {e}")))?;
            Ok((sql, Some(path.to_owned())))
        }
        None => Ok((arg.to_owned(), None)),
    }
}

/// `{"version": 1, "plan": ..., "diagnostics": [...], "summary": {...}}`.
fn document(explain: &Explain, diags: &[Diagnostic]) -> Result<String> {
    #[derive(serde::Serialize)]
    struct Document<'a> {
        version: u32,
        plan: &'a Explain,
        diagnostics: &'a [Diagnostic],
        summary: Summary,
    }
    let doc = Document {
        version: dbarch_report::REPORT_FORMAT_VERSION,
        plan: explain,
        diagnostics: diags,
        summary: Summary::of(diags),
    };
    let mut s = serde_json::to_string_pretty(&doc)?;
    s.push('\n');
    Ok(s)
}
