//! Measured latency: each query executed N times with its representative parameters, each
//! run inside a transaction that is rolled back (a DML statement is never committed), timed
//! by the client (round trip included). P50/P95/P99 by nearest rank.

use super::whatif::Prepared;
use std::time::Instant;
use tokio_postgres::Client;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Latency {
    pub runs: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    pub fn of(mut samples: Vec<f64>) -> Option<Latency> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let i = ((p / 100.0) * samples.len() as f64).ceil() as usize;
            samples[i.clamp(1, samples.len()) - 1]
        };
        Some(Latency {
            runs: samples.len(),
            p50_ms: round(rank(50.0)),
            p95_ms: round(rank(95.0)),
            p99_ms: round(rank(99.0)),
            mean_ms: round(samples.iter().sum::<f64>() / samples.len() as f64),
        })
    }
}

fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Runs the query `runs` times after one warm-up run. `Err` says why it could not be measured
/// (a timeout, a read-only session for a DML statement, an error).
pub async fn measure(client: &Client, q: &Prepared, runs: usize) -> Result<Latency, String> {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..=runs {
        client
            .batch_execute("BEGIN")
            .await
            .map_err(|e| describe(&e))?;
        let start = Instant::now();
        let result = client.simple_query(&q.command(i)).await;
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        let _ = client.batch_execute("ROLLBACK").await;
        result.map_err(|e| describe(&e))?;
        if i > 0 {
            samples.push(elapsed);
        }
    }
    Latency::of(samples).ok_or_else(|| "no runs".to_owned())
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) if db.code().code() == "57014" => {
            "not measured: it ran longer than statement_timeout (see --statement-timeout)".into()
        }
        Some(db) if db.code().code() == "25006" => {
            "not measured on the target: it writes and the session is read-only".into()
        }
        Some(db) => format!("not measured: {}", db.message()),
        None => format!("not measured: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nearest_rank() {
        let l = super::Latency::of((1..=100).map(f64::from).collect()).unwrap();
        assert_eq!((l.p50_ms, l.p95_ms, l.p99_ms), (50.0, 95.0, 99.0));
        let l = super::Latency::of(vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!((l.p50_ms, l.p95_ms), (2.0, 3.0));
        assert!(super::Latency::of(vec![]).is_none());
    }
}
