//! Runner directives: comment lines of a migration that the runner executes itself.
//!
//! `-- dbarch:backfill table=T set=S [where=W] [batch=N] [sleep=MS]` fills a column of an
//! existing table with the backfill engine ([`crate::backfill`]: keyset batches by the primary
//! key, one short transaction each, resumable, throttled) instead of one long `UPDATE`:
//!
//! ```sql
//! -- dbarch:no-transaction
//! -- dbarch:backfill table=public.t set="n_new = n::bigint" where="n_new IS DISTINCT FROM n::bigint"
//! ```
//!
//! Values are bare words or double-quoted with `\"` and `\\` escapes. A directive makes the
//! script non-transactional (as `-- dbarch:no-transaction` does). It counts as one statement
//! of the script: the runner records it as done when the backfill has finished; its batches'
//! progress is in `_dbarch.backfills` under the name `migration <version> statement <n>` (in a
//! down script, `migration <version> down statement <n>`), so that a run interrupted part-way
//! (Ctrl-C, kill -9, a lost connection) continues from the last committed batch on the next
//! `up`. A finished record whose statement is not recorded (a crash right after the last batch,
//! or the migration applied again after its down) is started over; the `where` condition
//! should make that a no-op (`target IS DISTINCT FROM expression`). `dbarch migrate down`
//! forgets the records of the migrations it reverts.
//!
//! With `psql -f` the directive is only a comment: run `dbarch migrate backfill` with the same
//! table, set and where instead.

use crate::split;
use std::time::Duration;

pub const BACKFILL: &str = "-- dbarch:backfill";

/// A parsed `-- dbarch:backfill` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    pub table: String,
    pub set: String,
    pub where_: Option<String>,
    pub batch: Option<i64>,
    pub sleep: Option<Duration>,
}

/// True when `line` (one line of a script) is a directive.
pub fn is_directive(line: &str) -> bool {
    let l = line.trim();
    l.len() >= BACKFILL.len()
        && l[..BACKFILL.len()].eq_ignore_ascii_case(BACKFILL)
        && l[BACKFILL.len()..]
            .chars()
            .next()
            .is_none_or(char::is_whitespace)
}

/// The statements of a script with each directive line as a statement of its own, in order.
/// A directive line inside a statement (a dollar-quoted body) is left alone: a line counts
/// only where the text before it has no open quote, dollar quote or comment (the scanner cuts it).
pub fn statements(sql: &str) -> Vec<String> {
    if !sql.lines().any(is_directive) {
        return split::statements(sql);
    }
    let mut out = Vec::new();
    let mut chunk = String::new();
    for line in sql.split_inclusive('\n') {
        if is_directive(line) && pg_query::split_with_scanner(&chunk).is_ok() {
            out.extend(split::statements(&chunk));
            out.push(line.trim().to_string());
            chunk.clear();
        } else {
            chunk.push_str(line);
        }
    }
    out.extend(split::statements(&chunk));
    out
}

/// The directive of a statement from [`statements`], or `None` for SQL. A malformed directive
/// is an error naming what is wrong.
pub fn parse(stmt: &str) -> Option<Result<Backfill, String>> {
    if stmt.contains('\n') || !is_directive(stmt) {
        return None;
    }
    Some(parse_backfill(stmt.trim()[BACKFILL.len()..].trim()))
}

fn parse_backfill(args: &str) -> Result<Backfill, String> {
    let mut b = Backfill {
        table: String::new(),
        set: String::new(),
        where_: None,
        batch: None,
        sleep: None,
    };
    let mut rest = args.trim_start();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("expected key=value at {rest:?}"))?;
        let key = key.trim();
        let (value, after) = value(after)?;
        match key {
            "table" => b.table = value,
            "set" => b.set = value,
            "where" => b.where_ = Some(value),
            "batch" => {
                b.batch = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or("batch must be a positive number of rows")?,
                )
            }
            "sleep" => {
                let ms: u64 = value
                    .trim_end_matches("ms")
                    .parse()
                    .map_err(|_| "sleep must be milliseconds (e.g. 50ms)")?;
                b.sleep = Some(Duration::from_millis(ms));
            }
            other => {
                return Err(format!(
                    "unknown key {other:?} (table, set, where, batch, sleep)"
                ));
            }
        }
        rest = after.trim_start();
    }
    if b.table.is_empty() || b.set.is_empty() {
        return Err("table= and set= are required".into());
    }
    Ok(b)
}

/// A bare or double-quoted value, and the text after it.
fn value(s: &str) -> Result<(String, &str), String> {
    let Some(quoted) = s.strip_prefix('"') else {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        return Ok((s[..end].to_string(), &s[end..]));
    };
    let mut out = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => break,
            },
            '"' => return Ok((out, &quoted[i + 1..])),
            c => out.push(c),
        }
    }
    Err("unterminated quoted value".into())
}

/// Runs a backfill directive on the runner's session under the progress record `name`:
/// `Ok(true)` when every row is done, `Ok(false)` when stopped (progress saved). The session's
/// `lock_timeout` (which the backfill sets for its batches) is put back to `lock_timeout`.
pub(crate) async fn run_backfill(
    client: &tokio_postgres::Client,
    b: &Backfill,
    name: &str,
    lock_timeout: Duration,
    lock_retries: u32,
    stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
) -> crate::Result<bool> {
    use crate::backfill::{self, BackfillOptions, Outcome};
    // A finished record whose statement was not recorded as done: started over.
    if records_exist(client).await? {
        client
            .execute(
                "DELETE FROM _dbarch.backfills WHERE name = $1 AND finished_at IS NOT NULL",
                &[&name],
            )
            .await?;
    }
    let defaults = BackfillOptions::new(&b.table, &b.set);
    let opts = BackfillOptions {
        where_: b.where_.clone(),
        batch: b.batch.unwrap_or(defaults.batch),
        sleep: b.sleep.unwrap_or(defaults.sleep),
        name: Some(name.to_string()),
        lock_timeout: lock_timeout.min(defaults.lock_timeout),
        lock_retries: lock_retries.max(defaults.lock_retries),
        stop,
        ..defaults
    };
    tracing::info!("{name}: backfill {} SET {}", b.table, b.set);
    let result = backfill::run(client, &opts, &mut |p| {
        tracing::debug!("{name}: {} of about {} rows", p.rows_done, p.total);
    })
    .await;
    client
        .batch_execute(&format!(
            "SET lock_timeout = '{}ms'",
            lock_timeout.as_millis().max(1)
        ))
        .await?;
    let r = result?;
    tracing::info!(
        "{name}: {} rows updated in {} batches ({} rows in all)",
        r.rows_this_run,
        r.batches,
        r.rows_done
    );
    Ok(r.outcome != Outcome::Stopped)
}

async fn records_exist(client: &tokio_postgres::Client) -> crate::Result<bool> {
    Ok(client
        .query_one("SELECT to_regclass('_dbarch.backfills') IS NOT NULL", &[])
        .await?
        .get(0))
}

/// Forgets the backfill records of a migration's directives (after its down).
pub(crate) async fn forget(client: &tokio_postgres::Client, version: &str) -> crate::Result<()> {
    if records_exist(client).await? {
        client
            .execute(
                "DELETE FROM _dbarch.backfills WHERE name LIKE 'migration ' || $1 || ' %'",
                &[&version],
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_statements_of_their_own() {
        let sql = "-- dbarch:no-transaction\nBEGIN;\nALTER TABLE t ADD COLUMN b bigint;\n\
                   CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n\
                   -- dbarch:backfill table=x set=y\nRETURN 1; END $$;\nCOMMIT;\n\n\
                   -- step 2: backfill\n\
                   -- dbarch:backfill table=public.t set=\"b = a::bigint\" where=\"b IS DISTINCT FROM \\\"a\\\"::bigint\" batch=100\n\
                   \n-- dbarch:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (b);\n";
        let s = statements(sql);
        assert_eq!(s.len(), 6, "{s:#?}");
        assert!(s[2].contains("-- dbarch:backfill table=x"), "{}", s[2]);
        assert_eq!(parse(&s[2]), None);
        let b = parse(&s[4]).unwrap().unwrap();
        assert_eq!(
            b,
            Backfill {
                table: "public.t".into(),
                set: "b = a::bigint".into(),
                where_: Some("b IS DISTINCT FROM \"a\"::bigint".into()),
                batch: Some(100),
                sleep: None,
            }
        );
        assert!(s[5].ends_with("CREATE INDEX CONCURRENTLY i ON t (b)"));
        assert!(parse(&s[5]).is_none());
        assert!(parse("-- dbarch:backfill table=t").unwrap().is_err());
        assert!(
            parse("-- dbarch:backfill table=t set=\"x")
                .unwrap()
                .is_err()
        );
        assert!(!is_directive("-- dbarch:backfills"));
    }
}
