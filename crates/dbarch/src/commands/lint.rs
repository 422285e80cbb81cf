use crate::cli::{FindingsFormat, GlobalArgs, LintArgs};
use crate::exit::{self, usage};
use crate::output::emit;
use crate::target;
use anyhow::Result;
use dbarch_catalog::{Filter, Options, introspect_parallel};

pub async fn run(global: &GlobalArgs, args: LintArgs) -> Result<u8> {
    let filter = Filter::new(args.schemas.clone(), &[], &args.exclude).map_err(usage)?;
    let clients = target::connect_for_introspection(global, &args.db).await?;
    let clients: Vec<_> = clients.iter().collect();
    // Statistics let size-dependent rules speak (e.g. IVFFlat lists against row counts).
    let intro = introspect_parallel(
        &clients,
        &Options {
            stats: true,
            filter,
        },
    )
    .await?;
    let diags = dbarch_lint::lint_schema(
        &intro.database,
        &dbarch_lint::Context {
            server_major: u32::try_from(intro.server.major()).ok(),
        },
    );
    let text = match args.format {
        FindingsFormat::Text => dbarch_report::text(&diags),
        FindingsFormat::Json => dbarch_report::json(&diags),
    };
    emit(&text, None)?;
    Ok(if dbarch_report::exceeds(&diags, args.fail_on.into()) {
        exit::FINDINGS
    } else {
        0
    })
}

/// `dbarch rules`: the list, or one rule's documentation.
pub fn rules(rule: Option<&str>) -> Result<u8> {
    let text = match rule {
        Some(code) => {
            let r = dbarch_lint::rule(code)
                .ok_or_else(|| usage(format!("no rule {code:?} (`dbarch rules` lists them)")))?;
            format!(
                "{} {} ({}, default severity {})\n\n{}",
                r.code,
                r.name,
                r.family.title(),
                r.severity,
                r.doc()
            )
        }
        None => {
            let mut s = String::new();
            for r in dbarch_lint::rules() {
                s.push_str(&format!(
                    "{:<5} {:<38} {:<8} {}\n",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    r.summary()
                ));
            }
            s
        }
    };
    emit(&text, None)?;
    Ok(0)
}
