//! Migration directories: dbarch's own layout and those of sqlx, golang-migrate, dbmate,
//! Flyway and diesel, recognized file by file (a directory needs no declaration).

mod dbmate;
mod diesel;
mod flyway;
mod golang;
pub mod native;
mod sqlx;

use crate::error::{Result, input};
use crate::split;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The tool whose layout a migration follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `<v>_<name>.sql` + `<v>_<name>.down.sql` (dbarch; also sqlx's simple migrations).
    Native,
    /// `<v>_<name>.up.sql` + `.down.sql` (golang-migrate, sqlx reversible migrations).
    UpDown,
    /// One file with `-- migrate:up` / `-- migrate:down` sections.
    Dbmate,
    /// `V<version>__<name>.sql`, undo in `U<version>__<name>.sql`.
    Flyway,
    /// `<version>_<name>/up.sql` + `down.sql` (+ `metadata.toml`).
    Diesel,
}

/// One migration script (up or down) and how to run it.
#[derive(Debug, Clone)]
pub struct Script {
    pub path: PathBuf,
    pub sql: String,
    /// False when the script must not be wrapped in a transaction (a directive, or its own
    /// `BEGIN`/`COMMIT`): it is then sent statement by statement.
    pub transactional: bool,
}

#[derive(Debug, Clone)]
pub struct Migration {
    /// The version as recorded in the history (Flyway's dotted form for Flyway).
    pub version: String,
    /// Numeric sort key: the version's digit groups.
    pub key: Vec<u128>,
    pub name: String,
    pub format: Format,
    pub up: Script,
    pub down: Option<Script>,
    /// Where the down script would be (for the error when it is missing).
    pub down_expected: PathBuf,
    /// SHA-256 of the up text, lower-case hex.
    pub checksum: String,
}

/// A parsed file name or diesel directory, before the pairing of up and down.
struct Part {
    version: String,
    key: Vec<u128>,
    name: String,
    format: Format,
    up: bool,
    path: PathBuf,
    /// For files holding both directions (dbmate, diesel): the down script.
    down: Option<Script>,
    sql: String,
    transactional: bool,
    down_expected: PathBuf,
}

/// Reads every migration of `dir`, sorted by version. A missing directory is an empty list.
pub fn load(dir: &Path) -> Result<Vec<Migration>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| input(dir, e.to_string()))?;
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()).map_err(|e| input(dir, e.to_string())))
        .collect::<Result<_>>()?;
    paths.sort();
    for path in paths {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file_name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if path.join("up.sql").exists() {
                parts.push(diesel::load(&path, &file_name)?);
            }
            continue;
        }
        if !file_name.ends_with(".sql") {
            continue;
        }
        parts.push(parse_file(&path, &file_name)?);
    }
    pair(parts)
}

fn parse_file(path: &Path, file_name: &str) -> Result<Part> {
    let sql = read(path)?;
    if let Some(f) = flyway::parse_name(file_name) {
        let f = f.map_err(|reason| input(path, reason))?;
        let transactional = !split::manages_transactions(&sql);
        return Ok(Part {
            down_expected: path.with_file_name(format!("U{}__{}.sql", f.raw_version, f.name)),
            version: f.version,
            key: f.key,
            name: f.name,
            format: Format::Flyway,
            up: f.up,
            path: path.to_path_buf(),
            down: None,
            sql,
            transactional,
        });
    }
    let (stem, up, format) = golang::strip_suffix(file_name).ok_or_else(|| {
        input(path, "not a migration file name (expected <version>_<name>.sql, <version>_<name>.up.sql, or V<version>__<name>.sql)")
    })?;
    let (version, name) = stem
        .split_once('_')
        .filter(|(v, n)| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty())
        .ok_or_else(|| {
            input(
                path,
                "not a migration file name: expected a numeric version, `_` and a name (e.g. 20250101120000_create_users.sql)",
            )
        })?;
    let key = vec![parse_number(version).map_err(|r| input(path, r))?];
    let down_expected = path.with_file_name(format!("{stem}.down.sql"));
    if up && let Some(sections) = dbmate::sections(&sql) {
        let sections = sections.map_err(|r| input(path, r))?;
        return Ok(Part {
            version: version.to_string(),
            key,
            name: name.to_string(),
            format: Format::Dbmate,
            up: true,
            path: path.to_path_buf(),
            down: sections.down.map(|(sql, transactional)| Script {
                path: path.to_path_buf(),
                transactional: transactional && !split::manages_transactions(&sql),
                sql,
            }),
            transactional: sections.up_transactional && !split::manages_transactions(&sections.up),
            sql: sections.up,
            down_expected: path.to_path_buf(),
        });
    }
    let transactional = transactional_plain(&sql);
    Ok(Part {
        version: version.to_string(),
        key,
        name: name.to_string(),
        format,
        up,
        path: path.to_path_buf(),
        down: None,
        sql,
        transactional,
        down_expected,
    })
}

/// Directives of dbarch and sqlx, and scripts that manage their own transactions.
fn transactional_plain(sql: &str) -> bool {
    !native::has_no_transaction_marker(sql)
        && !sqlx::has_no_transaction_marker(sql)
        && !split::manages_transactions(sql)
}

/// Pairs up and down parts by version; duplicates are errors naming both files.
fn pair(parts: Vec<Part>) -> Result<Vec<Migration>> {
    let mut ups: BTreeMap<Vec<u128>, Migration> = BTreeMap::new();
    let mut downs: BTreeMap<Vec<u128>, Script> = BTreeMap::new();
    for p in parts {
        if p.up {
            if let Some(other) = ups.get(&p.key) {
                return Err(input(
                    &p.path,
                    format!(
                        "duplicate migration version {} (also {})",
                        p.version,
                        other.up.path.display()
                    ),
                ));
            }
            let checksum = checksum(&p.sql);
            ups.insert(
                p.key.clone(),
                Migration {
                    version: p.version,
                    key: p.key,
                    name: p.name,
                    format: p.format,
                    up: Script {
                        path: p.path,
                        sql: p.sql,
                        transactional: p.transactional,
                    },
                    down: p.down,
                    down_expected: p.down_expected,
                    checksum,
                },
            );
        } else {
            let script = Script {
                path: p.path.clone(),
                sql: p.sql,
                transactional: p.transactional,
            };
            if let Some(other) = downs.insert(p.key, script) {
                return Err(input(
                    &p.path,
                    format!(
                        "duplicate down migration for version {} (also {})",
                        p.version,
                        other.path.display()
                    ),
                ));
            }
        }
    }
    for (key, down) in downs {
        match ups.get_mut(&key) {
            Some(m) => m.down = Some(down),
            None => {
                return Err(input(
                    &down.path,
                    "a down migration without its up migration",
                ));
            }
        }
    }
    Ok(ups.into_values().collect())
}

pub(crate) fn read(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| input(path, e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| input(path, "not UTF-8 text"))
}

pub(crate) fn parse_number(digits: &str) -> Result<u128, String> {
    digits
        .parse::<u128>()
        .map_err(|_| format!("version {digits} is not a number"))
}

/// SHA-256 of the text, lower-case hex.
pub fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
