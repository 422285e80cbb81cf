//! Flyway: `V<version>__<description>.sql` (version parts separated by `.` or `_`, compared
//! numerically: 1.10 comes after 1.9) and the undo `U<version>__<description>.sql`.

pub(super) struct Flyway {
    pub up: bool,
    /// The version as Flyway records it (`1.2`).
    pub version: String,
    /// The version as written in the file name (`1_2`).
    pub raw_version: String,
    pub key: Vec<u128>,
    pub name: String,
}

/// `None` when the name is not Flyway's; an error for Flyway names dbarch cannot run.
pub(super) fn parse_name(file_name: &str) -> Option<Result<Flyway, String>> {
    let stem = file_name.strip_suffix(".sql")?;
    let (head, name) = stem.split_once("__")?;
    let mut chars = head.chars();
    let prefix = chars.next()?;
    let raw_version = chars.as_str();
    match prefix {
        'R' if raw_version.is_empty() => {
            return Some(Err(
                "Flyway repeatable migrations (R__) are not supported".into()
            ));
        }
        'V' | 'U' => {}
        _ => return None,
    }
    if raw_version.is_empty() || !raw_version.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut key = Vec::new();
    for part in raw_version.split(['.', '_']) {
        match super::parse_number(part) {
            Ok(n) => key.push(n),
            Err(_) => return Some(Err(format!("Flyway version {raw_version} is not numeric"))),
        }
    }
    Some(Ok(Flyway {
        up: prefix == 'V',
        version: raw_version.replace('_', "."),
        raw_version: raw_version.to_string(),
        key,
        name: name.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numeric() {
        let f = parse_name("V1_10__add.sql").unwrap().unwrap();
        assert_eq!(
            (f.version.as_str(), f.key.clone(), f.up),
            ("1.10", vec![1, 10], true)
        );
        let g = parse_name("V1.9__x.sql").unwrap().unwrap();
        assert!(g.key < f.key);
        assert!(!parse_name("U2__x.sql").unwrap().unwrap().up);
        assert!(parse_name("R__views.sql").unwrap().is_err());
        assert!(parse_name("20240101_x.sql").is_none());
    }
}
