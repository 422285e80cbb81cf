//! The password file (`~/.pgpass`): `hostname:port:database:username:password` lines, `*`
//! wildcards, `\:` and `\\` escapes, ignored when group- or world-accessible (like libpq).

use std::path::Path;

/// One parsed field: its unescaped text and whether it was the bare wildcard `*`.
struct Field {
    text: String,
    wildcard: bool,
}

fn split_fields(line: &str) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut text = String::new();
    let mut raw = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                raw.push(c);
                if let Some(next) = chars.next() {
                    raw.push(next);
                    text.push(next);
                }
            }
            ':' => {
                fields.push(Field {
                    wildcard: raw == "*",
                    text: std::mem::take(&mut text),
                });
                raw.clear();
            }
            _ => {
                raw.push(c);
                text.push(c);
            }
        }
    }
    fields.push(Field {
        wildcard: raw == "*",
        text,
    });
    fields
}

/// The password of the first line matching `host:port:db:user` in `text`.
pub(crate) fn find(text: &str, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let fields = split_fields(line);
            if fields.len() < 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip([host, port, db, user])
                .all(|(f, want)| f.wildcard || f.text == want);
            // libpq: the password ends at the next unescaped ':'.
            matches.then(|| fields[4].text.clone())
        })
}

/// Reads the file and looks the password up; a missing file is silently ignored, an unsafe one
/// is ignored with a warning.
pub(crate) fn lookup(path: &Path, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        tracing::warn!("password file {} is not a plain file", path.display());
        return None;
    }
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            "password file {} has group or world access; permissions should be u=rw (0600) or less",
            path.display()
        );
        return None;
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("cannot read password file {}: {e}", path.display());
            return None;
        }
    };
    find(&text, host, port, db, user)
}
