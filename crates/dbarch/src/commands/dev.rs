use crate::cli::{DevCommand, GlobalArgs, StatusFormat};
use crate::exit::{self, usage};
use crate::output::emit;
use crate::target::{dev_server, discover_options};
use anyhow::{Context, Result};
use dbarch_pg::DevStatus;
use std::io::{BufRead, IsTerminal, Write};

pub async fn run(global: &GlobalArgs, cmd: DevCommand) -> Result<u8> {
    let dev = dev_server()?;
    match cmd {
        DevCommand::Start { format } => {
            let was_running = dev.status().running;
            let status = dev.start(&discover_options(global))?;
            if format == StatusFormat::Text && !global.quiet {
                let verb = if was_running {
                    "already running"
                } else {
                    "started"
                };
                eprintln!("dbarch: dev server {verb}");
            }
            print_status(&status, format)?;
            Ok(0)
        }
        DevCommand::Stop => {
            let was_running = dev.stop()?;
            if !global.quiet {
                eprintln!(
                    "dbarch: dev server {}",
                    if was_running {
                        "stopped"
                    } else {
                        "was not running"
                    }
                );
            }
            Ok(0)
        }
        DevCommand::Status { format } => {
            let status = dev.status();
            print_status(&status, format)?;
            Ok(if status.running { 0 } else { exit::FINDINGS })
        }
        DevCommand::Url => match dev.url() {
            Some(url) if dev.status().running => {
                emit(&format!("{url}\n"), None)?;
                Ok(0)
            }
            _ => {
                eprintln!(
                    "dbarch: the dev server is not running (start it with `dbarch dev start`)"
                );
                Ok(exit::FINDINGS)
            }
        },
        DevCommand::Psql { args } => {
            if !dev.status().running {
                dev.start(&discover_options(global))?;
            }
            let mut cmd = dev.psql_command()?;
            cmd.args(&args);
            let status = cmd.status().context("cannot run psql")?;
            Ok(status
                .code()
                .map(|c| c.clamp(0, 255) as u8)
                .unwrap_or(exit::DATABASE))
        }
        DevCommand::Reset { yes } => {
            if !yes {
                confirm_reset(&dev.data_dir())?;
            }
            let status = dev.reset(&discover_options(global))?;
            if !global.quiet {
                eprintln!("dbarch: dev server reset; it runs with an empty cluster");
            }
            print_status(&status, StatusFormat::Text)?;
            Ok(0)
        }
    }
}

fn confirm_reset(data_dir: &std::path::Path) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(usage(format!(
            "`dbarch dev reset` deletes every database in {}; pass --yes to confirm",
            data_dir.display()
        )));
    }
    eprint!(
        "This deletes every database of the dev server in {}. Continue? [y/N] ",
        data_dir.display()
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(usage("reset cancelled"))
    }
}

fn print_status(status: &DevStatus, format: StatusFormat) -> Result<()> {
    let text = match format {
        StatusFormat::Json => {
            let mut s = serde_json::to_string_pretty(&serde_json::json!({
                "version": 1,
                "status": status,
            }))?;
            s.push('\n');
            s
        }
        StatusFormat::Text if status.running => format!(
            "running: PostgreSQL {} (pid {}) at {}\n",
            status.version.as_deref().unwrap_or("?"),
            status
                .pid
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into()),
            status.url.as_deref().unwrap_or("?"),
        ),
        StatusFormat::Text => format!("stopped (data in {})\n", status.data_dir.display()),
    };
    emit(&text, None)
}
