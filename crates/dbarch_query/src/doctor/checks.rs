//! The checks: one catalog query each (`src/sql/doctor/`) and the function turning its rows
//! into diagnostics.

use super::{Check, DoctorOptions};
use crate::exprs::quote_ident;
use dbarch_report::{Diagnostic, Severity};
use tokio_postgres::Row;

pub(super) const CHECKS: &[Check] = &[
    Check {
        code: "H001",
        name: "unused-index",
        summary: "An index never scanned since the statistics were reset, on a table large \
                  enough to matter, that enforces nothing.",
        sql: include_str!("../sql/doctor/unused_indexes.sql"),
        eval: unused_indexes,
    },
    Check {
        code: "H002",
        name: "duplicate-index",
        summary: "An index identical to another one (H002), or a btree index whose keys are a \
                  prefix of another's (H003, covered-index).",
        sql: include_str!("../sql/doctor/duplicate_indexes.sql"),
        eval: duplicate_indexes,
    },
    Check {
        code: "H004",
        name: "foreign-key-without-index",
        summary: "A foreign key whose columns lead no index on the referencing table.",
        sql: include_str!("../sql/doctor/foreign_keys_without_index.sql"),
        eval: foreign_keys_without_index,
    },
    Check {
        code: "H005",
        name: "invalid-index",
        summary: "An index left invalid by a failed CREATE INDEX CONCURRENTLY or REINDEX.",
        sql: include_str!("../sql/doctor/invalid_indexes.sql"),
        eval: invalid_indexes,
    },
    Check {
        code: "H006",
        name: "not-valid-constraint",
        summary: "A constraint added NOT VALID and never validated.",
        sql: include_str!("../sql/doctor/not_valid_constraints.sql"),
        eval: not_valid_constraints,
    },
    Check {
        code: "H007",
        name: "table-bloat",
        summary: "A table estimated to be more than half empty space.",
        sql: include_str!("../sql/doctor/table_bloat.sql"),
        eval: table_bloat,
    },
    Check {
        code: "H008",
        name: "index-bloat",
        summary: "A btree index estimated to be more than half empty space.",
        sql: include_str!("../sql/doctor/index_bloat.sql"),
        eval: index_bloat,
    },
    Check {
        code: "H009",
        name: "sequence-near-overflow",
        summary: "A sequence past half of its range (H009), or past half of the range of the \
                  narrower column it feeds (H010, int4-key-near-overflow).",
        sql: include_str!("../sql/doctor/sequences.sql"),
        eval: sequences,
    },
    Check {
        code: "H010",
        name: "int4-key-near-overflow",
        summary: "A smallint or integer key column (primary key, unique, foreign key) whose \
                  largest value is past half of its type's range.",
        sql: include_str!("../sql/doctor/int_keys.sql"),
        eval: int_keys,
    },
    Check {
        code: "H011",
        name: "transaction-id-wraparound",
        summary: "A database whose oldest unfrozen transaction ID is old (500M warning, 1.5B \
                  error).",
        sql: include_str!("../sql/doctor/xid_age.sql"),
        eval: xid_age,
    },
    Check {
        code: "H012",
        name: "low-cache-hit-ratio",
        summary: "Less than 99% of block reads served from shared buffers.",
        sql: include_str!("../sql/doctor/cache_hit.sql"),
        eval: cache_hit,
    },
    Check {
        code: "H013",
        name: "table-never-analyzed",
        summary: "A modified table never analyzed (H013) or with dead rows never vacuumed \
                  (H014, table-never-vacuumed).",
        sql: include_str!("../sql/doctor/maintenance.sql"),
        eval: maintenance,
    },
    Check {
        code: "H015",
        name: "long-running-query",
        summary: "Queries running long (H015), sessions idle in a transaction (H016, \
                  idle-in-transaction) and queries waiting on a lock (H017, blocked-query).",
        sql: include_str!("../sql/doctor/sessions.sql"),
        eval: sessions,
    },
    Check {
        code: "H018",
        name: "connection-headroom",
        summary: "More than 80% of max_connections in use.",
        sql: include_str!("../sql/doctor/connections.sql"),
        eval: connections,
    },
    Check {
        code: "H019",
        name: "pg-stat-statements-missing",
        summary: "pg_stat_statements not preloaded or not created: no query statistics.",
        sql: include_str!("../sql/doctor/pg_stat_statements.sql"),
        eval: pg_stat_statements,
    },
    Check {
        code: "H020",
        name: "ivfflat-lists-mismatch",
        summary: "An IVFFlat index whose lists no longer suit the table's rows (H020), or an \
                  HNSW index larger than shared_buffers (H021, hnsw-index-exceeds-shared-buffers).",
        sql: include_str!("../sql/doctor/vector_indexes.sql"),
        eval: vector_indexes,
    },
];

fn qname(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// Bytes, human-readable (binary units, one decimal above KiB).
pub(crate) fn size(bytes: i64) -> String {
    let b = bytes as f64;
    let units = [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, scale) in units {
        if b >= scale as f64 {
            return format!("{:.1} {unit}", b / scale as f64);
        }
    }
    format!("{bytes} B")
}

fn unused_indexes(rows: &[Row], o: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .filter(|r| r.get::<_, i64>(4) >= o.min_table_bytes())
        .filter(|r| r.get::<_, i64>(6) >= o.min_table_reads())
        .map(|r| {
            let (s, t, i): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            let since: Option<String> = r.get(5);
            let since = since.map_or_else(
                || "since the statistics were last reset".to_owned(),
                |s| format!("since {s}"),
            );
            Diagnostic::new(
                "H001",
                "unused-index",
                Severity::Warning,
                format!(
                    "index {i} on {t} ({}) has never been scanned {since}",
                    size(r.get(3))
                ),
            )
            .with_object(format!("{s}.{i}"))
            .with_help(
                "every write maintains it and it takes cache space; check replicas (their scans \
                 are counted there) and rare jobs before dropping it",
            )
            .with_fix(format!("DROP INDEX CONCURRENTLY {};", qname(&s, &i)))
        })
        .collect()
}

fn duplicate_indexes(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .map(|r| {
            let (s, t, a, b): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let (adef, bdef): (String, String) = (r.get(4), r.get(5));
            let bytes: i64 = r.get(6);
            let exact: bool = r.get(7);
            let d = if exact {
                Diagnostic::new(
                    "H002",
                    "duplicate-index",
                    Severity::Warning,
                    format!(
                        "index {a} on {t} is an exact duplicate of {b} ({} wasted)",
                        size(bytes)
                    ),
                )
                .with_help(format!(
                    "{adef} duplicates {bdef}: it costs every write and cache space for \
                     nothing"
                ))
            } else {
                Diagnostic::new(
                    "H003",
                    "covered-index",
                    Severity::Note,
                    format!(
                        "index {a} on {t} is covered by {b}, whose leading columns are the \
                         same ({})",
                        size(bytes)
                    ),
                )
                .with_help(format!(
                    "{bdef} serves the queries of {adef}, a little less compactly; keep it \
                     only if measurements show those queries need the smaller index"
                ))
            };
            d.with_object(format!("{s}.{a}"))
                .with_fix(format!("DROP INDEX CONCURRENTLY {};", qname(&s, &a)))
        })
        .collect()
}

fn foreign_keys_without_index(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .map(|r| {
            let (s, t, c, parent): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let cols: Vec<String> = r.get(4);
            let list = cols
                .iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ");
            Diagnostic::new(
                "H004",
                "foreign-key-without-index",
                Severity::Warning,
                format!(
                    "foreign key {c} on {t} ({list}) references {parent} but no index starts \
                     with its columns"
                ),
            )
            .with_object(format!("{s}.{t}.{c}"))
            .with_help(
                "deleting or updating a referenced row scans the whole referencing table, and \
                 joins on the key cannot use an index",
            )
            .with_fix(format!(
                "CREATE INDEX CONCURRENTLY ON {} ({list});",
                qname(&s, &t)
            ))
        })
        .collect()
}

fn invalid_indexes(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .map(|r| {
            let (s, t, i): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            let unique: bool = r.get(3);
            let def: String = r.get(4);
            let q = qname(&s, &i);
            let help = if unique {
                "a failed CREATE UNIQUE INDEX CONCURRENTLY leaves it behind (often duplicate \
                 values): the planner ignores it but every write still maintains it; remove \
                 the duplicates before rebuilding"
            } else {
                "a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY leaves it behind: \
                 the planner ignores it but every write still maintains it"
            };
            Diagnostic::new(
                "H005",
                "invalid-index",
                Severity::Warning,
                format!("index {i} on {t} is invalid ({})", size(r.get(5))),
            )
            .with_object(format!("{s}.{i}"))
            .with_help(format!("{help}: {def}"))
            .with_fix(format!(
                "REINDEX INDEX CONCURRENTLY {q};\n-- or, if it is not needed:\nDROP INDEX \
                 CONCURRENTLY {q};"
            ))
        })
        .collect()
}

fn not_valid_constraints(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .map(|r| {
            let (s, t, c, kind, def): (String, String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            let kind = match kind.as_str() {
                "f" => "foreign key",
                "c" => "check constraint",
                "n" => "not-null constraint",
                _ => "constraint",
            };
            Diagnostic::new(
                "H006",
                "not-valid-constraint",
                Severity::Warning,
                format!("{kind} {c} on {t} is NOT VALID: existing rows were never checked"),
            )
            .with_object(format!("{s}.{t}.{c}"))
            .with_help(format!(
                "{def}; new rows are checked, old ones may violate it and the planner cannot \
                 rely on it. VALIDATE takes only a SHARE UPDATE EXCLUSIVE lock"
            ))
            .with_fix(format!(
                "ALTER TABLE {} VALIDATE CONSTRAINT {};",
                qname(&s, &t),
                quote_ident(&c)
            ))
        })
        .collect()
}

/// Waste worth reporting: over half of the relation, and at least the size threshold and 8
/// pages.
fn bloated(actual: i64, expected: i64, o: &DoctorOptions) -> bool {
    let waste = actual - expected;
    waste * 2 > actual && waste >= o.min_table_bytes() && waste >= 8 * 8192
}

fn table_bloat(rows: &[Row], o: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .filter(|r| bloated(r.get(2), r.get(3), o))
        .map(|r| {
            let (s, t): (String, String) = (r.get(0), r.get(1));
            let (actual, expected): (i64, i64) = (r.get(2), r.get(3));
            Diagnostic::new(
                "H007",
                "table-bloat",
                Severity::Warning,
                format!(
                    "table {t} takes {} where its live rows need about {} (estimated {}% bloat)",
                    size(actual),
                    size(expected),
                    (actual - expected) * 100 / actual.max(1)
                ),
            )
            .with_object(format!("{s}.{t}"))
            .with_help(
                "dead space from updates and deletes that VACUUM made reusable but did not \
                 return; scans read it all. The estimate comes from pg_stats widths: ANALYZE \
                 first for a fresh one",
            )
            .with_fix(format!(
                "VACUUM (FULL, ANALYZE) {};  -- ACCESS EXCLUSIVE lock for the rewrite; \
                 pg_repack rebuilds online",
                qname(&s, &t)
            ))
        })
        .collect()
}

fn index_bloat(rows: &[Row], o: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .filter(|r| bloated(r.get(3), r.get(4), o))
        .map(|r| {
            let (s, t, i): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            let (actual, expected): (i64, i64) = (r.get(3), r.get(4));
            Diagnostic::new(
                "H008",
                "index-bloat",
                Severity::Warning,
                format!(
                    "index {i} on {t} takes {} where its entries need about {} (estimated {}% \
                     bloat)",
                    size(actual),
                    size(expected),
                    (actual - expected) * 100 / actual.max(1)
                ),
            )
            .with_object(format!("{s}.{i}"))
            .with_help("a rebuilt index is smaller and faster to scan and to cache")
            .with_fix(format!("REINDEX INDEX CONCURRENTLY {};", qname(&s, &i)))
        })
        .collect()
}

fn type_max(column_type: &str) -> Option<i64> {
    match column_type {
        "smallint" => Some(i64::from(i16::MAX)),
        "integer" => Some(i64::from(i32::MAX)),
        "bigint" => Some(i64::MAX),
        _ => None,
    }
}

fn sequences(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in rows {
        let (s, seq, seq_type): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let (last, seq_max): (i64, i64) = (r.get(3), r.get(4));
        let column: Option<(String, String, String, String)> =
            match (r.get(5), r.get(6), r.get(7), r.get(8)) {
                (Some(a), Some(b), Some(c), Some(d)) => Some((a, b, c, d)),
                _ => None,
            };
        let col_max = column.as_ref().and_then(|c| type_max(&c.3));
        let limit = col_max.map_or(seq_max, |m| m.min(seq_max));
        let share = last as f64 / limit.max(1) as f64;
        if share <= 0.5 {
            continue;
        }
        let severity = if share > 0.8 {
            Severity::Error
        } else {
            Severity::Warning
        };
        let pct = (share * 100.0).floor();
        let column_is_limit = col_max.is_some_and(|m| m < seq_max);
        let alter_column = column
            .as_ref()
            .filter(|c| c.3 != "bigint")
            .map(|(cs, ct, cc, _)| {
                format!(
                    "ALTER TABLE {} ALTER COLUMN {} TYPE bigint;  -- rewrites the table under \
                     an ACCESS EXCLUSIVE lock: plan it (or migrate through a new column)",
                    qname(cs, ct),
                    quote_ident(cc)
                )
            });
        let alter_seq = format!("ALTER SEQUENCE {} AS bigint;", qname(&s, &seq));
        let d = if column_is_limit {
            let (cs, ct, cc, ty) = column.as_ref().expect("column_is_limit has a column");
            Diagnostic::new(
                "H010",
                "int4-key-near-overflow",
                severity,
                format!(
                    "column {ct}.{cc} ({ty}) is fed by sequence {seq}, now at {last}: {pct}% of \
                     the column type's maximum {limit}"
                ),
            )
            .with_object(format!("{cs}.{ct}.{cc}"))
            .with_fix(alter_column.unwrap_or_default())
        } else {
            let fix = match alter_column {
                Some(c) => format!("{alter_seq}\n{c}"),
                None => alter_seq,
            };
            Diagnostic::new(
                "H009",
                "sequence-near-overflow",
                severity,
                format!("sequence {seq} ({seq_type}) is at {last}: {pct}% of its maximum {limit}"),
            )
            .with_object(format!("{s}.{seq}"))
            .with_fix(fix)
        };
        out.push(d.with_help(
            "when it reaches the maximum every insert fails; widening a key takes time to plan",
        ));
    }
    out
}

fn int_keys(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .filter_map(|r| {
            let (s, t, c, ty): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let largest: Option<i64> = r.get(4);
            let limit = type_max(&ty)?;
            let largest = largest?;
            let share = largest as f64 / limit as f64;
            let severity = if share > 0.8 {
                Severity::Error
            } else if share > 0.5 {
                Severity::Warning
            } else {
                return None;
            };
            Some(
                Diagnostic::new(
                    "H010",
                    "int4-key-near-overflow",
                    severity,
                    format!(
                        "key column {t}.{c} ({ty}) holds values up to about {largest}: {}% of \
                         its type's maximum {limit}",
                        (share * 100.0).floor()
                    ),
                )
                .with_object(format!("{s}.{t}.{c}"))
                .with_help(
                    "when it reaches the maximum every insert fails; widen the key (and the \
                     columns referencing it) before then. The value comes from ANALYZE's sample",
                )
                .with_fix(format!(
                    "ALTER TABLE {} ALTER COLUMN {} TYPE bigint;  -- rewrites the table under an \
                     ACCESS EXCLUSIVE lock: plan it (or migrate through a new column)",
                    qname(&s, &t),
                    quote_ident(&c)
                )),
            )
        })
        .collect()
}

fn xid_age(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .filter_map(|r| {
            let (db, age): (String, i64) = (r.get(0), r.get(1));
            let severity = if age > 1_500_000_000 {
                Severity::Error
            } else if age > 500_000_000 {
                Severity::Warning
            } else {
                return None;
            };
            Some(
                Diagnostic::new(
                    "H011",
                    "transaction-id-wraparound",
                    severity,
                    format!(
                        "database {db}: the oldest unfrozen transaction ID is {age} transactions \
                         old ({}% of the way to wraparound)",
                        age * 100 / (1 << 31)
                    ),
                )
                .with_object(db.clone())
                .with_help(
                    "PostgreSQL stops accepting writes before 2^31 to avoid wraparound; look \
                     for long transactions, abandoned replication slots or prepared \
                     transactions holding back the freeze, and vacuum the oldest tables",
                )
                .with_fix(format!(
                    "-- in database {db}:\nVACUUM (FREEZE, VERBOSE);  -- or the oldest tables \
                     first: ORDER BY age(relfrozenxid) DESC in pg_class"
                )),
            )
        })
        .collect()
}

/// Reads below this many blocks say nothing about the cache.
const MIN_CACHE_READS: i64 = 100_000;

fn cache_hit(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .filter_map(|r| {
            let (db, hit, read): (String, i64, i64) = (r.get(0), r.get(1), r.get(2));
            let total = hit + read;
            if total < MIN_CACHE_READS {
                return None;
            }
            let ratio = hit as f64 / total as f64;
            (ratio < 0.99).then(|| {
                Diagnostic::new(
                    "H012",
                    "low-cache-hit-ratio",
                    Severity::Warning,
                    format!(
                        "database {db}: {:.1}% of {total} block reads were served from shared \
                         buffers (below 99%)",
                        ratio * 100.0
                    ),
                )
                .with_object(db)
                .with_help(
                    "the working set does not fit in memory: reads go to the OS cache or disk. \
                     Look for sequential scans of large tables first, then memory",
                )
                .with_fix(
                    "ALTER SYSTEM SET shared_buffers = '<about 25% of RAM>';  -- needs a \
                     restart; or add RAM, or index the scans that read the most",
                )
            })
        })
        .collect()
}

fn maintenance(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in rows {
        let (s, t, modified, dead): (String, String, i64, i64) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let (never_analyzed, never_vacuumed): (bool, bool) = (r.get(4), r.get(5));
        let q = qname(&s, &t);
        if never_analyzed && modified > 0 {
            out.push(
                Diagnostic::new(
                    "H013",
                    "table-never-analyzed",
                    Severity::Warning,
                    format!("table {t} was never analyzed ({modified} rows modified)"),
                )
                .with_object(format!("{s}.{t}"))
                .with_help(
                    "without statistics the planner guesses row counts; autovacuum analyzes \
                     only after its threshold, and never for tables loaded and queried at once",
                )
                .with_fix(format!("ANALYZE {q};")),
            );
        }
        if never_vacuumed && dead > 0 {
            out.push(
                Diagnostic::new(
                    "H014",
                    "table-never-vacuumed",
                    Severity::Note,
                    format!("table {t} was never vacuumed ({dead} dead rows)"),
                )
                .with_object(format!("{s}.{t}"))
                .with_help(
                    "dead rows stay until VACUUM; check that autovacuum is on for this table",
                )
                .with_fix(format!("VACUUM (ANALYZE) {q};")),
            );
        }
    }
    out
}

fn sessions(rows: &[Row], o: &DoctorOptions) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in rows {
        let pid: i32 = r.get(0);
        let (user, state): (String, String) = (r.get(1), r.get(2));
        let (query_secs, state_secs): (f64, f64) = (r.get(3), r.get(4));
        let query: String = r.get(5);
        let blockers: Vec<i32> = r.get(6);
        if !blockers.is_empty() {
            let list = blockers
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            out.push(
                Diagnostic::new(
                    "H017",
                    "blocked-query",
                    Severity::Warning,
                    format!(
                        "session {pid} ({user}) has waited {:.0} s on a lock held by session(s) \
                         {list}: {query}",
                        query_secs
                    ),
                )
                .with_object(format!("pid {pid}"))
                .with_help(
                    "a lock queue stalls every later query on the same table; find what the \
                     blockers are doing (pg_stat_activity) and keep transactions short; DDL \
                     should run with a lock_timeout",
                )
                .with_fix(format!(
                    "SELECT pg_cancel_backend(pid) FROM unnest(ARRAY[{list}]) pid;  -- or \
                     pg_terminate_backend"
                )),
            );
        }
        if state == "active" && query_secs > o.long_running_secs() {
            out.push(
                Diagnostic::new(
                    "H015",
                    "long-running-query",
                    Severity::Warning,
                    format!(
                        "session {pid} ({user}) has been running a query for {:.0} s: {query}",
                        query_secs
                    ),
                )
                .with_object(format!("pid {pid}"))
                .with_help(
                    "long queries hold snapshots (vacuum cannot remove dead rows) and locks; \
                     `dbarch explain` shows where the time goes",
                )
                .with_fix(format!(
                    "SELECT pg_cancel_backend({pid});  -- and bound them: ALTER ROLE {} SET \
                     statement_timeout = '5min';",
                    quote_ident(&user)
                )),
            );
        }
        if state.starts_with("idle in transaction") && state_secs > o.idle_in_transaction_secs() {
            out.push(
                Diagnostic::new(
                    "H016",
                    "idle-in-transaction",
                    Severity::Warning,
                    format!(
                        "session {pid} ({user}) has been idle in a transaction for {:.0} s; \
                         last query: {query}",
                        state_secs
                    ),
                )
                .with_object(format!("pid {pid}"))
                .with_help(
                    "an open transaction holds its locks and keeps vacuum from removing dead \
                     rows; usually an application that forgot to commit or a paused client",
                )
                .with_fix(format!(
                    "SELECT pg_terminate_backend({pid});  -- and bound them: ALTER ROLE {} SET \
                     idle_in_transaction_session_timeout = '1min';",
                    quote_ident(&user)
                )),
            );
        }
    }
    out
}

fn connections(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    rows.iter()
        .filter_map(|r| {
            let (used, max, reserved): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
            let available = (max - reserved).max(1);
            let share = used as f64 / available as f64;
            let severity = if share > 0.95 {
                Severity::Error
            } else if share > 0.8 {
                Severity::Warning
            } else {
                return None;
            };
            Some(
                Diagnostic::new(
                    "H018",
                    "connection-headroom",
                    severity,
                    format!(
                        "{used} of {available} connections in use ({:.0}%; max_connections = \
                         {max}, {reserved} reserved for superusers)",
                        share * 100.0
                    ),
                )
                .with_help(
                    "when they run out new clients are refused; each connection also costs \
                     memory. A pooler serves many clients with few connections",
                )
                .with_fix(
                    "put PgBouncer (transaction pooling) in front, or shrink the applications' \
                     pools; raise max_connections only with the memory for it",
                ),
            )
        })
        .collect()
}

fn pg_stat_statements(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    let Some(r) = rows.first() else {
        return Vec::new();
    };
    let (preload, created, available): (String, bool, bool) = (r.get(0), r.get(1), r.get(2));
    let preloaded = preload
        .split(',')
        .any(|l| l.trim().trim_matches('"') == "pg_stat_statements");
    if preloaded && created {
        return Vec::new();
    }
    let mut steps = Vec::new();
    if !preloaded {
        let list = if preload.trim().is_empty() {
            "pg_stat_statements".to_owned()
        } else {
            format!("{}, pg_stat_statements", preload.trim())
        };
        steps.push(format!(
            "ALTER SYSTEM SET shared_preload_libraries = '{list}';  -- then restart the server"
        ));
    }
    if !created {
        steps.push("CREATE EXTENSION pg_stat_statements;".to_owned());
    }
    let what = match (preloaded, created) {
        (false, false) => "is neither preloaded nor created in this database",
        (false, true) => "is created but not in shared_preload_libraries",
        _ => "is preloaded but the extension is not created in this database",
    };
    let help = if available {
        "without it there are no per-query statistics: `dbarch advise` and the slowest \
         queries need them"
    } else {
        "without it there are no per-query statistics; this server does not ship it (install \
         the contrib package)"
    };
    vec![
        Diagnostic::new(
            "H019",
            "pg-stat-statements-missing",
            Severity::Note,
            format!("pg_stat_statements {what}"),
        )
        .with_help(help)
        .with_fix(steps.join("\n")),
    ]
}

/// pgvector's rule of thumb for the number of IVFFlat lists.
fn recommended_lists(rows: i64) -> i64 {
    if rows <= 1_000_000 {
        (rows / 1000).max(1)
    } else {
        (rows as f64).sqrt().round() as i64
    }
}

fn vector_indexes(rows: &[Row], _: &DoctorOptions) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in rows {
        let (s, t, i, method): (String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let (lists, tuples, bytes, shared, def): (i64, f64, i64, i64, String) =
            (r.get(4), r.get(5), r.get(6), r.get(7), r.get(8));
        if method == "ivfflat" && tuples >= 0.0 {
            let rows = tuples as i64;
            let want = recommended_lists(rows);
            if lists > rows.max(1) || lists > want * 4 || lists * 4 < want {
                let new_name = format!("{i}_rebuilt");
                let create = def
                    .replacen(
                        &format!("CREATE INDEX {} ON", quote_ident(&i)),
                        &format!("CREATE INDEX CONCURRENTLY {} ON", quote_ident(&new_name)),
                        1,
                    )
                    .replace(&format!("lists='{lists}'"), &format!("lists='{want}'"));
                out.push(
                    Diagnostic::new(
                        "H020",
                        "ivfflat-lists-mismatch",
                        Severity::Warning,
                        format!(
                            "IVFFlat index {i} on {t} has lists = {lists} for about {rows} rows \
                             now (about {want} suits this size)"
                        ),
                    )
                    .with_object(format!("{s}.{i}"))
                    .with_help(
                        "IVFFlat centroids are trained on the rows present at build time: \
                         rebuild after the table grew or shrank, with lists ≈ rows / 1000 (√rows \
                         above 1M), or use HNSW",
                    )
                    .with_fix(format!(
                        "{create};\nDROP INDEX CONCURRENTLY {};\nALTER INDEX {} RENAME TO {};",
                        qname(&s, &i),
                        qname(&s, &new_name),
                        quote_ident(&i)
                    )),
                );
            }
        }
        if method == "hnsw" && bytes > shared {
            out.push(
                Diagnostic::new(
                    "H021",
                    "hnsw-index-exceeds-shared-buffers",
                    Severity::Warning,
                    format!(
                        "HNSW index {i} on {t} ({}) is larger than shared_buffers ({})",
                        size(bytes),
                        size(shared)
                    ),
                )
                .with_object(format!("{s}.{i}"))
                .with_help(
                    "HNSW search jumps between random pages of the graph: once it no longer \
                     fits in memory every hop can be a disk read and latency climbs",
                )
                .with_fix(format!(
                    "ALTER SYSTEM SET shared_buffers = '<at least {}>';  -- restart; or shrink \
                     it: halfvec, fewer dimensions, or a smaller m",
                    size(bytes + bytes / 4)
                )),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_and_lists() {
        assert_eq!(super::size(512), "512 B");
        assert_eq!(super::size(3 << 20), "3.0 MiB");
        assert_eq!(super::recommended_lists(4_000), 4);
        assert_eq!(super::type_max("integer"), Some(2_147_483_647));
    }

    #[test]
    fn codes_are_unique() {
        let mut codes: Vec<&str> = super::CHECKS.iter().map(|c| c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), super::CHECKS.len());
    }
}
