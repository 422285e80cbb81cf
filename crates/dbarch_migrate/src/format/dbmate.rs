//! dbmate: one file, `-- migrate:up` and `-- migrate:down` sections; `transaction:false` on a
//! section line turns off its transaction.

pub(super) struct Sections {
    pub up: String,
    pub up_transactional: bool,
    /// The down text and whether it is transactional.
    pub down: Option<(String, bool)>,
}

/// The sections of a dbmate file, `None` when the file has no `-- migrate:up` line.
pub(super) fn sections(sql: &str) -> Option<Result<Sections, String>> {
    let mut up: Option<(String, bool)> = None;
    let mut down: Option<(String, bool)> = None;
    let mut current: Option<&mut (String, bool)> = None;
    let mut before = String::new();
    for line in sql.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("-- migrate:") {
            let mut words = rest.split_whitespace();
            let which = words.next().unwrap_or("");
            let transactional = !words.any(|w| w == "transaction:false");
            let slot = match which {
                "up" if up.is_none() => &mut up,
                "down" if down.is_none() => &mut down,
                "up" | "down" => {
                    return Some(Err(format!("more than one `-- migrate:{which}` section")));
                }
                other => {
                    return Some(Err(format!(
                        "unknown dbmate directive `-- migrate:{other}`"
                    )));
                }
            };
            *slot = Some((String::new(), transactional));
            current = slot.as_mut();
            continue;
        }
        match current.as_deref_mut() {
            Some((text, _)) => text.push_str(line),
            None => before.push_str(line),
        }
    }
    let (up_text, up_transactional) = up?;
    if before.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with("--")
    }) {
        return Some(Err("SQL before the `-- migrate:up` line".into()));
    }
    Some(Ok(Sections {
        up: up_text,
        up_transactional,
        down,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sections_and_reads_transaction_flags() {
        let s = sections(
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\nDROP INDEX i;\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.up.trim(), "CREATE INDEX CONCURRENTLY i ON t (a);");
        assert!(!s.up_transactional);
        let (down, tx) = s.down.unwrap();
        assert_eq!(down.trim(), "DROP INDEX i;");
        assert!(tx);
        assert!(sections("CREATE TABLE t ();").is_none());
        assert!(sections("-- migrate:up\n-- migrate:up\n").unwrap().is_err());
    }
}
