/// Errors of running EXPLAIN. `is_input` tells the user's mistakes (exit 2) from the
/// database's (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the query is empty")]
    Empty,
    #[error("the query has {expected} parameter(s) but --params gave {given} value(s)")]
    ParamCount { expected: usize, given: usize },
    #[error(
        "--analyze executes the query, so its {0} parameter(s) need values: pass --params \
         (or drop --analyze for a generic plan)"
    )]
    AnalyzeNeedsParams(usize),
    /// PostgreSQL refused the statement (syntax, unknown object, bad value): the user's input.
    #[error("PostgreSQL rejected the query: {message}{}", at_line(*.line, *.column))]
    Rejected {
        message: String,
        sqlstate: String,
        line: Option<u32>,
        column: Option<u32>,
    },
    #[error("the query ran longer than statement_timeout (see --statement-timeout)")]
    Timeout(#[source] tokio_postgres::Error),
    #[error("EXPLAIN failed")]
    Database(#[source] tokio_postgres::Error),
    #[error("cannot read PostgreSQL's EXPLAIN output")]
    Parse(#[source] serde_json::Error),
}

fn at_line(line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (at line {l}, column {c})"),
        _ => String::new(),
    }
}

impl Error {
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            Error::Database(_) | Error::Timeout(_) | Error::Parse(_)
        )
    }

    /// Classifies a server error: SQLSTATE classes that mean "this statement is wrong"
    /// (syntax and access 42, data 22, cardinality 21, unsupported 0A, integrity 23) are the
    /// user's; anything else (timeouts, connection loss, resources) is the database's.
    /// `sql` is the text positions refer to (`None`: they refer to dbarch's own wrapper).
    pub(crate) fn from_db(err: tokio_postgres::Error, sql: Option<&str>) -> Error {
        let Some(db) = err.as_db_error() else {
            return Error::Database(err);
        };
        let code = db.code().code();
        if code == "57014" {
            return Error::Timeout(err);
        }
        if !["42", "22", "21", "0A", "23"]
            .iter()
            .any(|c| code.starts_with(c))
        {
            return Error::Database(err);
        }
        let (line, column) = match (db.position(), sql) {
            (Some(tokio_postgres::error::ErrorPosition::Original(pos)), Some(sql)) => {
                let (l, c) = line_column(sql, *pos as usize);
                (Some(l), Some(c))
            }
            _ => (None, None),
        };
        Error::Rejected {
            message: db.message().to_owned(),
            sqlstate: code.to_owned(),
            line,
            column,
        }
    }
}

/// 1-based line and column of PostgreSQL's 1-based character position.
fn line_column(sql: &str, pos: usize) -> (u32, u32) {
    let (mut line, mut col) = (1u32, 1u32);
    for ch in sql.chars().take(pos.saturating_sub(1)) {
        if ch == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

#[cfg(test)]
mod tests {
    #[test]
    fn positions() {
        assert_eq!(super::line_column("select\n  fromm x", 10), (2, 3));
        assert_eq!(super::line_column("x", 1), (1, 1));
    }
}
