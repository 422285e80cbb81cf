//! Statements of a script, cut by PostgreSQL's own grammar (libpg_query), so that dollar
//! quotes, `BEGIN ATOMIC` bodies and nested comments never split a statement.

/// The statements of `sql`, trimmed, without empty ones. The parser's split is used when the
/// script parses; a script that does not parse is cut by the scanner (the server will then
/// report the error on the faulty statement, with the ones before it already run).
pub fn statements(sql: &str) -> Vec<String> {
    let parts = pg_query::split_with_parser(sql).or_else(|_| pg_query::split_with_scanner(sql));
    match parts {
        Ok(parts) => parts
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !strip_comments(s).is_empty())
            .collect(),
        // Not even the scanner could cut it (an unterminated quote): one statement, which the
        // server rejects with its own message.
        Err(_) => vec![sql.trim().to_string()],
    }
}

/// True when the script has top-level transaction control (`BEGIN`, `START TRANSACTION`,
/// `COMMIT`, `ROLLBACK`, `END`): it is run as written, never wrapped in another transaction.
pub fn manages_transactions(sql: &str) -> bool {
    statements(sql).iter().any(|s| {
        let first = strip_comments(s)
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        matches!(
            first.as_str(),
            "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "END"
        )
    })
}

/// The index a `CREATE INDEX CONCURRENTLY <name> ON [schema.]table` statement builds.
#[derive(Debug, PartialEq, Eq)]
pub struct ConcurrentIndex {
    pub name: String,
    pub schema: Option<String>,
    pub table: String,
}

/// The named index of a `CREATE INDEX CONCURRENTLY` statement (names as the parser folded
/// them), `None` for any other statement.
pub fn concurrent_index(stmt: &str) -> Option<ConcurrentIndex> {
    let parsed = pg_query::parse(stmt, pg_query::ParserOptions::DEFAULT).ok()?;
    let node = parsed
        .protobuf
        .stmts
        .first()?
        .stmt
        .as_ref()?
        .node
        .as_ref()?;
    let pg_query::NodeEnum::IndexStmt(ix) = node else {
        return None;
    };
    let rel = ix.relation.as_ref()?;
    (ix.concurrent && !ix.idxname.is_empty()).then(|| ConcurrentIndex {
        name: ix.idxname.clone(),
        schema: (!rel.schemaname.is_empty()).then(|| rel.schemaname.clone()),
        table: rel.relname.clone(),
    })
}

/// The text after leading `--` and `/* */` comments and whitespace.
fn strip_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.split_once("*/").map_or("", |(_, r)| r);
        } else {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_by_the_grammar() {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n\
                   -- a comment; with a semicolon\n\
                   CREATE INDEX CONCURRENTLY i ON t (a);\n-- trailing comment\n";
        let s = statements(sql);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].contains("SELECT 1;"));
        assert!(!manages_transactions(sql));
        assert!(manages_transactions("BEGIN;\nCREATE TABLE t ();\nCOMMIT;"));
        assert!(!manages_transactions(
            "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;"
        ));
    }

    #[test]
    fn concurrent_index_builds_are_recognized() {
        assert_eq!(
            concurrent_index("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS Ix ON app.\"T\" (a)"),
            Some(ConcurrentIndex {
                name: "ix".into(),
                schema: Some("app".into()),
                table: "T".into()
            })
        );
        assert_eq!(concurrent_index("CREATE INDEX ix ON t (a)"), None);
        assert_eq!(concurrent_index("CREATE INDEX CONCURRENTLY ON t (a)"), None);
        assert_eq!(concurrent_index("SELECT 1"), None);
    }

    #[test]
    fn invalid_sql_is_still_cut() {
        let s = statements("CREATE TABLE a (x int);\nCREAT TABLE b ();\nSELECT 1;");
        assert_eq!(s.len(), 3, "{s:?}");
    }
}
