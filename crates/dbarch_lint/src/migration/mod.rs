//! Static lint of migration scripts: parsed by PostgreSQL's own grammar (libpg_query), walked
//! statement by statement with what the file has done so far (objects it created, whether a
//! transaction is open, constraints added in it), and, when a catalog is given, what the
//! target holds (table sizes scale the severity of lock findings).

pub(crate) mod ast;
mod source;
mod state;

pub use state::State;

use crate::Context;
use crate::registry::{Check, diag};
use dbarch_model::Database;
use dbarch_report::{Diagnostic, Severity};
use pg_query::NodeEnum;
use pg_query::protobuf::Token;
use source::{Ignore, SourceMap};

/// Files larger than this are refused with a message rather than parsed.
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// One migration script to lint.
#[derive(Debug, Clone, Copy)]
pub struct MigrationFile<'a> {
    /// The name diagnostics carry (a path relative to where dbarch runs, or `-`).
    pub name: &'a str,
    pub sql: &'a str,
    /// Whether the runner wraps the script in one transaction; `None` decides from the text
    /// as dbarch's runner does (a `-- dbarch:no-transaction` or sqlx `-- no-transaction`
    /// line, or its own `BEGIN`/`COMMIT`, means no).
    pub transactional: Option<bool>,
}

/// A parsed statement and where it is.
pub struct Statement<'a> {
    pub node: &'a NodeEnum,
    /// Index among the file's statements.
    pub index: usize,
    /// Byte range in the file, without leading comments and whitespace.
    pub start: usize,
    pub end: usize,
    /// Added to the parser's node locations to make them file offsets (non-zero when the
    /// statement was parsed alone, after a syntax error elsewhere in the file).
    base: usize,
    source: &'a SourceMap<'a>,
    file: &'a str,
}

impl Statement<'_> {
    /// The statement's text.
    pub fn text(&self) -> &str {
        &self.source.text[self.start..self.end]
    }

    /// A diagnostic of rule `code` spanning the whole statement.
    pub fn diag(&self, code: &str, message: impl Into<String>) -> Diagnostic {
        self.diag_span(code, message, self.start, self.end)
    }

    /// A diagnostic of rule `code` pointing at a node's `location` (a byte offset in the
    /// file, as the parser gives it) up to the end of that line within the statement. A
    /// missing location (-1) spans the statement.
    pub fn diag_at(&self, code: &str, message: impl Into<String>, location: i32) -> Diagnostic {
        match usize::try_from(location).map(|l| l + self.base) {
            Ok(at) if (self.start..self.end).contains(&at) => {
                let end = self.source.line_end(at).min(self.end);
                self.diag_span(code, message, at, end)
            }
            _ => self.diag(code, message),
        }
    }

    fn diag_span(
        &self,
        code: &str,
        message: impl Into<String>,
        start: usize,
        end: usize,
    ) -> Diagnostic {
        let (line, column) = self.source.position(start);
        let (end_line, end_column) = self.source.position(end);
        diag(code, message)
            .with_location(self.file, line, column)
            .with_end(end_line, end_column)
    }
}

/// Lints a migration given as bytes: refuses, with one diagnostic, what is not a SQL text
/// (binary, not UTF-8, too large, empty), then lints it.
pub fn lint_migration_bytes(
    name: &str,
    bytes: &[u8],
    transactional: Option<bool>,
    ctx: &Context,
    catalog: Option<&Database>,
) -> Vec<Diagnostic> {
    let refuse = |message: String| {
        vec![
            diag("M001", message)
                .with_location(name, 1, 1)
                .with_help("dbarch lints SQL text files (UTF-8)."),
        ]
    };
    if bytes.len() > MAX_FILE_BYTES {
        return refuse(format!(
            "file is {} MiB; dbarch lints migration files up to {} MiB",
            bytes.len() >> 20,
            MAX_FILE_BYTES >> 20
        ));
    }
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return refuse(format!("binary file (NUL byte at offset {at}), not SQL"));
    }
    let sql = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let at = e.valid_up_to();
            let map = SourceMap::new(std::str::from_utf8(&bytes[..at]).unwrap_or_default());
            let (line, column) = map.position(at);
            return vec![
                diag(
                    "M001",
                    format!("file is not valid UTF-8 (invalid byte at offset {at})"),
                )
                .with_location(name, line, column)
                .with_help(
                    "Save migrations as UTF-8; PostgreSQL reads scripts in the client encoding.",
                ),
            ];
        }
    };
    lint_migration(
        &MigrationFile {
            name,
            sql,
            transactional,
        },
        ctx,
        catalog,
    )
}

/// Lints one migration script. Findings come out in file order; a syntax error is a finding
/// (`M001`) and the statements that parse are still linted.
pub fn lint_migration(
    file: &MigrationFile,
    ctx: &Context,
    catalog: Option<&Database>,
) -> Vec<Diagnostic> {
    let map = SourceMap::new(file.sql);
    if strip_space_and_comments(file.sql).is_empty() {
        return vec![
            diag("M001", "empty migration: no SQL statement")
                .with_location(file.name, 1, 1)
                .with_help("Delete the file, or write the change it was meant to hold."),
        ];
    }
    let mut out = Vec::new();
    let parsed = parse(file, &map, &mut out);
    let statements: Vec<Statement> = parsed
        .iter()
        .enumerate()
        .map(|(index, (node, start, end, base))| Statement {
            node,
            index,
            start: *start,
            end: *end,
            base: *base,
            source: &map,
            file: file.name,
        })
        .collect();

    let transactional = file.transactional.unwrap_or_else(|| {
        !has_no_transaction_marker(file.sql)
            && !statements
                .iter()
                .any(|s| matches!(s.node, NodeEnum::TransactionStmt(_)))
    });
    let mut state = State::new(ctx, catalog, transactional);
    let enabled: Vec<_> = crate::rules()
        .iter()
        .filter(|r| ctx.is_enabled(r.code))
        .collect();
    let mut found = Vec::new();
    for stmt in &statements {
        for rule in &enabled {
            if let Check::Statement(check) = rule.check {
                check(stmt, &state, &mut found);
            }
        }
        state.after(stmt);
    }
    for rule in &enabled {
        if let Check::File(check) = rule.check {
            check(&statements, &state, &mut found);
        }
    }
    out.extend(found);

    // Ignores: a directive covers the statement after it (or the one it trails on the same
    // line); unused directives are reported.
    let mut ignores = ignores(file.sql, &map, &statements);
    out.retain(|d| !is_ignored(d, &map, &statements, &mut ignores));
    if ctx.is_enabled("M042") {
        for ig in ignores.iter().filter(|i| !i.used) {
            let (line, column) = map.position(ig.start);
            let (end_line, end_column) = map.position(ig.end);
            let what = if ig.codes.is_empty() {
                "names no rule code".to_string()
            } else {
                format!("{} matched no finding", ig.codes.join(", "))
            };
            out.push(
                diag("M042", format!("ignore directive {what}"))
                    .with_location(file.name, line, column)
                    .with_end(end_line, end_column)
                    .with_help(
                        "Remove the directive: the finding it silenced is gone, or it names \
                         the wrong rule.",
                    ),
            );
        }
    }
    out.sort_by_key(|d| (d.line, d.column, d.code.clone()));
    out
}

/// The parsed statements with their trimmed byte ranges. On a syntax error the file is cut
/// by the scanner and each piece parsed alone: the faulty piece becomes an `M001` finding,
/// the others are linted.
fn parse(
    file: &MigrationFile,
    map: &SourceMap,
    out: &mut Vec<Diagnostic>,
) -> Vec<(NodeEnum, usize, usize, usize)> {
    // Statements are cut first (by the parser, or by the scanner when the file has a syntax
    // error) and parsed one by one: memory stays bounded by the largest statement, and the
    // bulk of data statements is dropped right after parsing.
    let pieces = match pg_query::split_with_parser(file.sql) {
        Ok(parts) => parts
            .into_iter()
            .map(|p| {
                let start = p.as_ptr() as usize - file.sql.as_ptr() as usize;
                (start, start + p.len())
            })
            .collect(),
        Err(_) => scanner_pieces(file.sql),
    };
    let mut stmts = Vec::with_capacity(pieces.len());
    for (start, end) in pieces {
        let (start, end) = trim_range(file.sql, start, end);
        if start >= end {
            continue;
        }
        let piece = &file.sql[start..end];
        match pg_query::parse(piece, pg_query::ParserOptions::DEFAULT) {
            Ok(p) => {
                if let Some(node) = p
                    .protobuf
                    .stmts
                    .into_iter()
                    .next()
                    .and_then(|r| r.stmt?.node)
                {
                    stmts.push((slim(node), start, end, start));
                }
            }
            Err(e) => out.push(syntax_error(file.name, map, piece, start, end, &e)),
        }
    }
    stmts
}

/// Data statements keep their kind and target but not their rows: no rule reads those, and
/// a data migration of a million rows would otherwise stay in memory as syntax trees.
fn slim(node: NodeEnum) -> NodeEnum {
    use pg_query::protobuf::{CopyStmt, InsertStmt};
    match node {
        NodeEnum::InsertStmt(i) => NodeEnum::InsertStmt(Box::new(InsertStmt {
            relation: i.relation,
            ..Default::default()
        })),
        NodeEnum::SelectStmt(_) => NodeEnum::SelectStmt(Box::default()),
        NodeEnum::CopyStmt(c) => NodeEnum::CopyStmt(Box::new(CopyStmt {
            relation: c.relation,
            is_from: c.is_from,
            ..Default::default()
        })),
        other => other,
    }
}

/// Statement ranges cut at top-level semicolons by the scanner (which knows quotes, dollar
/// quotes and comments).
fn scanner_pieces(sql: &str) -> Vec<(usize, usize)> {
    let Ok(scan) = pg_query::scan(sql) else {
        return vec![(0, sql.len())];
    };
    let mut pieces = Vec::new();
    let mut start = 0;
    for t in &scan.tokens {
        if t.token == Token::Ascii59 as i32 {
            let end = usize::try_from(t.start).unwrap_or(0);
            pieces.push((start, end));
            start = usize::try_from(t.end).unwrap_or(end);
        }
    }
    pieces.push((start, sql.len()));
    pieces
}

fn syntax_error(
    name: &str,
    map: &SourceMap,
    piece: &str,
    start: usize,
    end: usize,
    e: &pg_query::Error,
) -> Diagnostic {
    let message = match e {
        pg_query::Error::Parse(m) | pg_query::Error::Split(m) | pg_query::Error::Scan(m) => {
            m.clone()
        }
        other => other.to_string(),
    };
    // Point at the token the parser names ("at or near \"x\""), else the statement start.
    let near = message
        .split_once("at or near \"")
        .and_then(|(_, rest)| rest.rsplit_once('"'))
        .map(|(tok, _)| tok);
    let at = near
        .and_then(|tok| piece.find(tok))
        .map_or(start, |i| start + i);
    let (line, column) = map.position(at);
    let (end_line, end_column) = map.position(near.map_or(end, |t| at + t.len()));
    let meta = piece.trim_start().starts_with('\\');
    let (message, help) = if meta {
        let cmd = piece.split_whitespace().next().unwrap_or("\\");
        (
            format!("psql meta-command {cmd} is not SQL"),
            "dbarch runs and lints plain SQL: inline what the meta-command would do (for \\i, \
             the included file's statements; for \\set, the value)."
                .to_string(),
        )
    } else {
        (
            if message.starts_with("syntax error") {
                message
            } else {
                format!("syntax error: {message}")
            },
            "PostgreSQL would reject this statement; fix it before anything else.".to_string(),
        )
    };
    diag("M001", message)
        .with_location(name, line, column)
        .with_end(end_line, end_column)
        .with_help(help)
}

/// `start..end` without leading whitespace and comments, and without trailing whitespace.
fn trim_range(sql: &str, start: usize, end: usize) -> (usize, usize) {
    let piece = &sql[start..end];
    let body = strip_space_and_comments(piece);
    let new_start = end - body.len();
    let new_end = new_start + body.trim_end().len();
    (new_start, new_end.max(new_start))
}

/// The text after leading whitespace and `--` / `/* */` comments.
fn strip_space_and_comments(mut s: &str) -> &str {
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

/// The runner's directives for scripts that must not run in a transaction.
fn has_no_transaction_marker(sql: &str) -> bool {
    sql.lines().any(|l| {
        let l = l.trim();
        l.eq_ignore_ascii_case("-- dbarch:no-transaction")
            || l.eq_ignore_ascii_case("-- no-transaction")
            || (l.starts_with("-- migrate:up") && l.contains("transaction:false"))
    })
}

/// The ignore directives of the file, each bound to the statement it covers.
fn ignores(sql: &str, map: &SourceMap, statements: &[Statement]) -> Vec<Ignore> {
    // Scanning a whole file is costly for huge ones; most files have no directive.
    if !sql.contains("dbarch:ignore") {
        return Vec::new();
    }
    let Ok(scan) = pg_query::scan(sql) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in &scan.tokens {
        if t.token != Token::SqlComment as i32 && t.token != Token::CComment as i32 {
            continue;
        }
        let (Ok(start), Ok(end)) = (usize::try_from(t.start), usize::try_from(t.end)) else {
            continue;
        };
        let Some((whole_file, codes)) = sql.get(start..end).and_then(source::directive) else {
            continue;
        };
        // Trailing a statement on its line: that statement; otherwise the next one.
        let line = map.position(start).0;
        let statement = if whole_file {
            None
        } else {
            statements
                .iter()
                .rev()
                .find(|s| s.end <= start && map.position(s.end).0 == line)
                .or_else(|| statements.iter().find(|s| s.start >= end))
                .map(|s| s.index)
        };
        out.push(Ignore {
            codes,
            start,
            end,
            whole_file,
            statement,
            used: false,
        });
    }
    out
}

fn is_ignored(
    d: &Diagnostic,
    map: &SourceMap,
    statements: &[Statement],
    ignores: &mut [Ignore],
) -> bool {
    let Some(line) = d.line else { return false };
    // The statement the finding sits in: the last one starting at or before its line.
    let index = statements
        .iter()
        .rev()
        .find(|s| map.position(s.start).0 <= line)
        .map(|s| s.index);
    let mut hit = false;
    for ig in ignores.iter_mut() {
        let covers = ig.whole_file || (ig.statement.is_some() && ig.statement == index);
        if covers && ig.codes.iter().any(|c| c == &d.code) {
            ig.used = true;
            hit = true;
        }
    }
    hit
}

/// Severity after the catalog's view of a table: a lock on an empty or tiny table is a note,
/// on a very large one an error.
pub(crate) fn scaled(default: Severity, rows: i64, bytes: i64) -> Severity {
    if (0..10_000).contains(&rows) && bytes < 16 << 20 {
        Severity::Note
    } else if rows >= 1_000_000 || bytes >= 1 << 30 {
        Severity::Error
    } else {
        default
    }
}
