//! The history table `_dbarch.migrations` (schema `_dbarch` is hidden from the model), and the
//! import of the histories other tools recorded.

use crate::error::Result;
use crate::format::Migration;
use tokio_postgres::Client;

/// One row of the history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Applied {
    pub version: String,
    pub name: String,
    pub checksum: String,
    pub success: bool,
    pub statements_done: i32,
    pub duration_ms: i64,
    pub applied_by: String,
    pub applied_at: String,
    pub note: Option<String>,
}

const CREATE: &str = "CREATE SCHEMA IF NOT EXISTS _dbarch;
CREATE TABLE _dbarch.migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    success boolean NOT NULL,
    statements_done integer NOT NULL DEFAULT 0,
    duration_ms bigint NOT NULL DEFAULT 0,
    applied_by text NOT NULL DEFAULT current_user,
    applied_at timestamptz NOT NULL DEFAULT now(),
    note text
)";

pub async fn exists(client: &Client) -> Result<bool> {
    let row = client
        .query_one("SELECT to_regclass('_dbarch.migrations') IS NOT NULL", &[])
        .await?;
    Ok(row.get(0))
}

/// Creates the history on first use (under the advisory lock: concurrent `CREATE ... IF NOT
/// EXISTS` can still collide), importing what other tools recorded as applied. Returns the
/// number of imported versions.
pub async fn ensure(client: &Client, migrations: &[Migration]) -> Result<usize> {
    if exists(client).await? {
        return Ok(0);
    }
    let foreign = foreign_applied(client, migrations).await?;
    client.batch_execute("BEGIN").await?;
    let result = async {
        client.batch_execute(CREATE).await?;
        for (m, source) in &foreign {
            client
                .execute(
                    "INSERT INTO _dbarch.migrations (version, name, checksum, success, note) \
                     VALUES ($1, $2, $3, true, $4)",
                    &[
                        &m.version,
                        &m.name,
                        &m.checksum,
                        &format!("imported from {source}"),
                    ],
                )
                .await?;
        }
        client.batch_execute("COMMIT").await
    }
    .await;
    if let Err(e) = result {
        client.batch_execute("ROLLBACK").await.ok();
        return Err(e.into());
    }
    for (m, source) in &foreign {
        tracing::info!("{} {}: applied according to {source}", m.version, m.name);
    }
    Ok(foreign.len())
}

/// The history, oldest version first. Before dbarch's table exists, the versions another
/// tool recorded (as `up` would import them).
pub async fn read(client: &Client, migrations: &[Migration]) -> Result<Vec<Applied>> {
    if !exists(client).await? {
        return Ok(foreign_applied(client, migrations)
            .await?
            .into_iter()
            .map(|(m, source)| Applied {
                version: m.version.clone(),
                name: m.name.clone(),
                checksum: m.checksum.clone(),
                success: true,
                statements_done: 0,
                duration_ms: 0,
                applied_by: String::new(),
                applied_at: String::new(),
                note: Some(format!("recorded by {source}, imported on the next up")),
            })
            .collect());
    }
    let rows = client
        .query(
            "SELECT version, name, checksum, success, statements_done, duration_ms, applied_by, \
                    to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), note \
             FROM _dbarch.migrations",
            &[],
        )
        .await?;
    let mut out: Vec<Applied> = rows
        .iter()
        .map(|r| Applied {
            version: r.get(0),
            name: r.get(1),
            checksum: r.get(2),
            success: r.get(3),
            statements_done: r.get(4),
            duration_ms: r.get(5),
            applied_by: r.get(6),
            applied_at: r.get(7),
            note: r.get(8),
        })
        .collect();
    out.sort_by_key(|a| crate::runner::version_key(&a.version));
    Ok(out)
}

/// The migrations of the directory that another tool's history records as applied.
async fn foreign_applied<'m>(
    client: &Client,
    migrations: &'m [Migration],
) -> Result<Vec<(&'m Migration, &'static str)>> {
    let present = client
        .query_one(
            "SELECT to_regclass('_sqlx_migrations') IS NOT NULL, \
                    to_regclass('__diesel_schema_migrations') IS NOT NULL, \
                    to_regclass('flyway_schema_history') IS NOT NULL, \
                    to_regclass('schema_migrations') IS NOT NULL, \
                    EXISTS (SELECT FROM pg_attribute \
                            WHERE attrelid = to_regclass('schema_migrations') \
                              AND attname = 'dirty' AND NOT attisdropped)",
            &[],
        )
        .await?;
    let mut versions: Vec<(Vec<u128>, &'static str)> = Vec::new();
    let mut golang_max: Option<Vec<u128>> = None;
    let mut collect = |rows: Vec<tokio_postgres::Row>, source: &'static str| {
        for r in rows {
            let v: String = r.get(0);
            versions.push((crate::runner::version_key(&v), source));
        }
    };
    if present.get::<_, bool>(0) {
        let q = "SELECT version::text FROM _sqlx_migrations WHERE success";
        collect(client.query(q, &[]).await?, "_sqlx_migrations");
    }
    if present.get::<_, bool>(1) {
        let q = "SELECT version::text FROM __diesel_schema_migrations";
        collect(client.query(q, &[]).await?, "__diesel_schema_migrations");
    }
    if present.get::<_, bool>(2) {
        let q = "SELECT version::text FROM flyway_schema_history \
                 WHERE success AND version IS NOT NULL AND type NOT LIKE 'UNDO%'";
        collect(client.query(q, &[]).await?, "flyway_schema_history");
    }
    if present.get::<_, bool>(3) {
        if present.get::<_, bool>(4) {
            // golang-migrate keeps one row: the current version (dirty = a failed run).
            let q = "SELECT version::text FROM schema_migrations WHERE NOT dirty";
            for r in client.query(q, &[]).await? {
                golang_max = Some(crate::runner::version_key(&r.get::<_, String>(0)));
            }
        } else {
            let q = "SELECT version::text FROM schema_migrations";
            collect(client.query(q, &[]).await?, "schema_migrations (dbmate)");
        }
    }
    Ok(migrations
        .iter()
        .filter_map(|m| {
            if let Some((_, source)) = versions.iter().find(|(k, _)| *k == m.key) {
                return Some((m, *source));
            }
            match &golang_max {
                Some(max) if m.key <= *max => Some((m, "schema_migrations (golang-migrate)")),
                _ => None,
            }
        })
        .collect())
}
