//! Connection service files (`pg_service.conf`): INI-style sections of libpq keywords.

use std::path::{Path, PathBuf};

use super::params::{Origin, Params, check_keyword};
use crate::{Error, Result};

/// The files searched for a service, in libpq's order: the user's file, then the system one.
pub(crate) fn candidate_files(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let user = env("PGSERVICEFILE")
        .map(PathBuf::from)
        .or_else(|| super::home_dir(env).map(|h| h.join(".pg_service.conf")));
    let system = env("PGSYSCONFDIR")
        .map(|d| PathBuf::from(d).join("pg_service.conf"))
        .unwrap_or_else(|| PathBuf::from("/etc/postgresql-common/pg_service.conf"));
    user.into_iter().chain([system]).collect()
}

/// Fills unset keys of `params` from the first file that defines `name`.
pub(crate) fn apply(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
    params: &mut Params,
) -> Result<()> {
    let files = candidate_files(env);
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(file, e)),
        };
        if let Some(entries) = lookup(&text, name, file)? {
            let origin = Origin::Service {
                name: name.to_owned(),
                file: file.display().to_string(),
            };
            for (key, value) in entries {
                params.fill(key, value, origin.clone());
            }
            return Ok(());
        }
    }
    let searched: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Err(Error::ConnSettings {
        origin: format!("service \"{name}\""),
        reason: format!("definition not found (searched {})", searched.join(", ")),
    })
}

/// The entries of section `[name]`, or `None` when the file does not define it.
pub(crate) fn lookup(
    text: &str,
    name: &str,
    file: &Path,
) -> Result<Option<Vec<(&'static str, String)>>> {
    let mut in_section = false;
    let mut found = None::<Vec<(&'static str, String)>>;
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: String| Error::ConnSettings {
            origin: format!("service file {} line {}", file.display(), lineno + 1),
            reason,
        };
        if let Some(section) = line.strip_prefix('[') {
            if found.is_some() {
                break;
            }
            let section = section
                .strip_suffix(']')
                .ok_or_else(|| bad("missing \"]\" in section header".into()))?;
            in_section = section == name;
            if in_section {
                found = Some(Vec::new());
            }
            continue;
        }
        if !in_section {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| bad("syntax error: expected key=value".into()))?;
        let key = key.trim();
        if key == "service" {
            return Err(bad("nested service specifications are not supported".into()));
        }
        let key = check_keyword(key).map_err(bad)?;
        if let Some(entries) = found.as_mut() {
            entries.push((key, value.trim().to_owned()));
        }
    }
    Ok(found)
}
