//! diesel: a directory `<version>_<name>/` with `up.sql`, `down.sql` and an optional
//! `metadata.toml` (`run_in_transaction = false`). The version is the part before the first
//! `_` without its dashes (`2024-01-01-120000` → `20240101120000`), as diesel records it.

use super::{Format, Part, Script, read};
use crate::error::{Result, input};
use crate::split;
use std::path::Path;

#[derive(serde::Deserialize)]
struct Metadata {
    #[serde(default = "yes")]
    run_in_transaction: bool,
}

fn yes() -> bool {
    true
}

pub(super) fn load(dir: &Path, dir_name: &str) -> Result<Part> {
    let (raw, name) = dir_name
        .split_once('_')
        .filter(|(v, n)| {
            !n.is_empty()
                && v.bytes().any(|b| b.is_ascii_digit())
                && v.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        })
        .ok_or_else(|| {
            input(
                dir,
                "not a diesel migration directory name (expected <version>_<name>)",
            )
        })?;
    let version = raw.replace('-', "");
    let key = vec![super::parse_number(&version).map_err(|r| input(dir, r))?];
    let in_transaction = match dir.join("metadata.toml") {
        p if p.exists() => {
            let text = read(&p)?;
            toml::from_str::<Metadata>(&text)
                .map_err(|e| input(&p, e.to_string()))?
                .run_in_transaction
        }
        _ => true,
    };
    let up_path = dir.join("up.sql");
    let sql = read(&up_path)?;
    let down_path = dir.join("down.sql");
    let down = if down_path.exists() {
        let sql = read(&down_path)?;
        Some(Script {
            transactional: in_transaction && !split::manages_transactions(&sql),
            path: down_path.clone(),
            sql,
        })
    } else {
        None
    };
    Ok(Part {
        version,
        key,
        name: name.to_string(),
        format: Format::Diesel,
        up: true,
        transactional: in_transaction && !split::manages_transactions(&sql),
        path: up_path,
        down,
        sql,
        down_expected: down_path,
    })
}
