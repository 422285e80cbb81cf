//! A script as the tracer runs it: statements with their place in the file.

use serde::{Deserialize, Serialize};

/// One statement and where it starts in its script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub sql: String,
    /// Byte offset of the statement's first character in the script.
    pub offset: usize,
    /// 1-based line of that character.
    pub line: usize,
}

/// A migration script, already split into statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub statements: Vec<Statement>,
    /// True: run in one transaction (committed at the end). False: statement by statement in
    /// autocommit, as the runner runs non-transactional scripts (`CREATE INDEX
    /// CONCURRENTLY`, the script's own `BEGIN`/`COMMIT`).
    pub transactional: bool,
}

impl Script {
    /// The script `text` cut into `statements` (as `dbarch_migrate::split::statements` cuts
    /// it: trimmed pieces of `text`, in order), each located in `text`. A statement that is
    /// not found verbatim is placed at the end of the previous one.
    pub fn new(text: &str, statements: Vec<String>, transactional: bool) -> Script {
        let mut cursor = 0;
        let statements = statements
            .into_iter()
            .map(|sql| {
                let offset = text
                    .get(cursor..)
                    .and_then(|rest| rest.find(sql.as_str()))
                    .map_or(cursor, |i| cursor + i);
                cursor = (offset + sql.len()).min(text.len());
                // The statement proper, after comments the split kept in front of it.
                let offset = (offset + sql.len() - strip_comments(&sql).len()).min(text.len());
                let line = 1 + text[..offset].matches('\n').count();
                Statement { sql, offset, line }
            })
            .collect();
        Script {
            statements,
            transactional,
        }
    }

    /// Statements without a source text (offsets 0, each on its own line).
    pub fn from_statements(statements: Vec<String>, transactional: bool) -> Script {
        Script {
            statements: statements
                .into_iter()
                .enumerate()
                .map(|(i, sql)| Statement {
                    sql,
                    offset: 0,
                    line: i + 1,
                })
                .collect(),
            transactional,
        }
    }
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
    fn statements_are_located() {
        let text = "-- head\nCREATE TABLE a (x int);\n\n  ALTER TABLE a ADD y int;\nSELECT 1;";
        let s = Script::new(
            text,
            vec![
                "-- head\nCREATE TABLE a (x int);".into(),
                "ALTER TABLE a ADD y int;".into(),
                "SELECT 1;".into(),
            ],
            true,
        );
        let at: Vec<(usize, usize)> = s.statements.iter().map(|s| (s.offset, s.line)).collect();
        assert_eq!(at, [(8, 2), (35, 4), (60, 5)]);
        assert_eq!(&text[35..35 + 24], "ALTER TABLE a ADD y int;");
    }
}
