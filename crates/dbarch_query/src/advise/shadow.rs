//! The shadow copy for real candidate builds: the target's schema (from its introspected
//! model, through dbarch_ddl) and a sample of the workload's tables (all rows up to
//! `sample_rows`, else a repeatable TABLESAMPLE), copied with COPY. Foreign keys and triggers
//! do not fire during the load (`session_replication_role = replica`, the shadow is ours).

use super::AdviseError;
use super::catalog::TableInfo;
use futures_util::{SinkExt, StreamExt, pin_mut};
use tokio_postgres::Client;

/// Loads the schema and the sample; returns the rows copied per table.
pub async fn load(
    target: &Client,
    shadow: &Client,
    tables: &[TableInfo],
    sample_rows: i64,
) -> Result<Vec<(String, u64)>, AdviseError> {
    let intro = dbarch_catalog::introspect(target, &dbarch_catalog::Options::default())
        .await
        .map_err(|e| AdviseError::Input(format!("cannot read the target's schema: {e}")))?;
    // Secondary indexes are built after the load (a bulk build is much faster than inserting
    // into them row by row, HNSW above all).
    let (indexes, rest): (Vec<String>, Vec<String>) = dbarch_ddl::statements(&intro.database)
        .into_iter()
        .partition(|s| s.starts_with("CREATE INDEX") || s.starts_with("CREATE UNIQUE INDEX"));
    let script = |stmts: &[String]| {
        let mut sql = String::from("SET check_function_bodies = false;\n");
        for s in stmts {
            sql.push_str(s);
            sql.push_str(";\n");
        }
        sql
    };
    shadow
        .batch_execute(&script(&rest))
        .await
        .map_err(|e| AdviseError::db("creating the target's schema on the shadow server", e))?;
    shadow
        .batch_execute("SET session_replication_role = replica")
        .await
        .map_err(|e| AdviseError::db("preparing the shadow load", e))?;
    let mut copied = Vec::new();
    for t in tables {
        let cols: Vec<String> = t
            .columns
            .iter()
            .filter(|c| c.copyable)
            .map(|c| super::ast::quote(&c.name))
            .collect();
        if cols.is_empty() {
            continue;
        }
        let list = cols.join(", ");
        let from = if t.rows > sample_rows as f64 {
            let pct = (100.0 * sample_rows as f64 / t.rows * 1.2).min(100.0);
            format!(
                "SELECT {list} FROM {} TABLESAMPLE SYSTEM ({pct:.4}) REPEATABLE (42) LIMIT {sample_rows}",
                t.qualified()
            )
        } else {
            format!("SELECT {list} FROM {} LIMIT {sample_rows}", t.qualified())
        };
        let out = target
            .copy_out(&format!("COPY ({from}) TO STDOUT"))
            .await
            .map_err(|e| AdviseError::db("reading the sample from the target", e))?;
        let sink = shadow
            .copy_in(&format!("COPY {} ({list}) FROM STDIN", t.qualified()))
            .await
            .map_err(|e| AdviseError::db("writing the sample to the shadow server", e))?;
        pin_mut!(out);
        pin_mut!(sink);
        while let Some(chunk) = out.next().await {
            let chunk =
                chunk.map_err(|e| AdviseError::db("reading the sample from the target", e))?;
            sink.send(chunk)
                .await
                .map_err(|e| AdviseError::db("writing the sample to the shadow server", e))?;
        }
        let n = sink
            .finish()
            .await
            .map_err(|e| AdviseError::db("writing the sample to the shadow server", e))?;
        copied.push((t.qualified(), n));
    }
    shadow
        .batch_execute(&script(&indexes))
        .await
        .map_err(|e| AdviseError::db("building the target's indexes on the shadow server", e))?;
    shadow
        .batch_execute("RESET session_replication_role")
        .await
        .map_err(|e| AdviseError::db("finishing the shadow load", e))?;
    let names: Vec<String> = tables.iter().map(TableInfo::qualified).collect();
    if !names.is_empty() {
        shadow
            .batch_execute(&format!("VACUUM ANALYZE {}", names.join(", ")))
            .await
            .map_err(|e| AdviseError::db("analyzing the shadow's tables", e))?;
    }
    Ok(copied)
}
