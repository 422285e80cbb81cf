//! The OpenAI-compatible embedder against a real HTTP server on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::{Reply, serve};
use dbarch_embed::hash::HashEmbedder;
use dbarch_embed::openai::{OpenAiEmbedder, OpenAiOptions};
use dbarch_embed::{Embedder, EmbedderKind, EmbedderOptions};

fn options(url: &str) -> OpenAiOptions {
    let mut o = OpenAiOptions::new(url, "test-model");
    // A variable nobody sets: these tests send no key.
    o.api_key_env = Some("DBARCH_TEST_UNSET_KEY".into());
    o
}

fn texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("chunk number {i} about vectors"))
        .collect()
}

#[test]
fn batches_and_orders_by_index() {
    let server = serve(|_, _| Reply::Ok(64));
    let mut o = options(&server.url);
    o.dims = Some(64);
    o.batch_size = Some(4);
    let e = OpenAiEmbedder::new(&o).unwrap();
    assert_eq!(server.count(), 0, "configured dims: no probe");
    let owned = texts(10);
    let t: Vec<&str> = owned.iter().map(String::as_str).collect();
    let got = e.embed(&t).unwrap();
    assert_eq!(server.count(), 3, "10 texts in batches of 4");
    assert_eq!(got, HashEmbedder::new(64).embed(&t).unwrap());
    let reqs = server.requests.lock().unwrap();
    let sizes: Vec<usize> = reqs.iter().map(|r| r.inputs.len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 10);
    assert!(sizes.iter().all(|&s| s <= 4));
    assert!(reqs.iter().all(|r| r.model == "test-model"));
    assert!(reqs.iter().all(|r| r.header("authorization").is_none()));
}

#[test]
fn dims_come_from_a_probe_and_build_wires_options() {
    let server = serve(|_, _| Reply::Ok(48));
    let e = dbarch_embed::build(&EmbedderOptions {
        kind: EmbedderKind::OpenAi,
        url: Some(format!("{}/", server.url)),
        model: Some("nomic-embed-text".into()),
        api_key_env: Some("DBARCH_TEST_UNSET_KEY".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(server.count(), 1);
    assert_eq!(e.info().dims, 48);
    assert_eq!(e.info().name, "nomic-embed-text");
    assert!(e.info().normalized);
    assert_eq!(e.embed(&["a", "b"]).unwrap().len(), 2);
    assert_eq!(e.count_tokens("internationalization"), 5);
}

#[test]
fn honours_retry_after_on_429() {
    let server = serve(|n, _| {
        if n == 0 {
            Reply::Status(
                429,
                vec![("Retry-After", "1".into())],
                r#"{"error":{"message":"Rate limit reached"}}"#.into(),
            )
        } else {
            Reply::Ok(32)
        }
    });
    let mut o = options(&server.url);
    o.dims = Some(32);
    let e = OpenAiEmbedder::new(&o).unwrap();
    let start = Instant::now();
    let got = e.embed(&["hello world"]).unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "waited as asked"
    );
    assert_eq!(got.len(), 1);
    assert_eq!(server.count(), 2);
}

#[test]
fn retries_server_errors_then_gives_up_with_the_status() {
    let server = serve(|n, _| {
        if n < 2 {
            Reply::Status(500, vec![], "boom".into())
        } else {
            Reply::Ok(16)
        }
    });
    let mut o = options(&server.url);
    o.dims = Some(16);
    let e = OpenAiEmbedder::new(&o).unwrap();
    assert_eq!(e.embed(&["x"]).unwrap().len(), 1);
    assert_eq!(server.count(), 3);

    let server = serve(|_, _| Reply::Status(503, vec![("Retry-After", "0".into())], "down".into()));
    let mut o = options(&server.url);
    o.dims = Some(16);
    o.max_attempts = Some(2);
    let err = OpenAiEmbedder::new(&o).unwrap().embed(&["x"]).unwrap_err();
    assert!(!err.is_input());
    let msg = err.to_string();
    assert_eq!(server.count(), 2);
    assert!(msg.contains(&server.url), "{msg}");
    assert!(
        msg.contains("503") && msg.contains("2 attempts") && msg.contains("down"),
        "{msg}"
    );
}

#[test]
fn client_errors_are_not_retried() {
    let server = serve(|_, _| {
        Reply::Status(
            404,
            vec![],
            r#"{"error":{"message":"model \"nope\" not found"}}"#.into(),
        )
    });
    let mut o = options(&server.url);
    o.dims = Some(16);
    let err = OpenAiEmbedder::new(&o).unwrap().embed(&["x"]).unwrap_err();
    assert!(err.is_input());
    assert_eq!(server.count(), 1);
    assert!(
        err.to_string().contains(r#"model "nope" not found"#),
        "{err}"
    );
}

#[test]
fn a_slow_server_times_out_naming_endpoint_and_attempts() {
    let server = serve(|_, _| Reply::Sleep(Duration::from_secs(3)));
    let mut o = options(&server.url);
    o.dims = Some(8);
    o.timeout = Some(Duration::from_millis(200));
    o.max_attempts = Some(3);
    let err = OpenAiEmbedder::new(&o).unwrap().embed(&["x"]).unwrap_err();
    let msg = err.to_string();
    assert_eq!(
        msg,
        format!(
            "the embedding endpoint {}/embeddings timed out after 0.2 s (3 attempts)",
            server.url
        )
    );
    assert_eq!(server.count(), 3);
}

#[test]
fn unreachable_endpoint_is_retried_and_named() {
    // A port that was just free: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = options(&format!("http://127.0.0.1:{port}/v1"));
    o.dims = Some(8);
    o.max_attempts = Some(2);
    let err = OpenAiEmbedder::new(&o).unwrap().embed(&["x"]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot reach the embedding endpoint http://127.0.0.1:"),
        "{msg}"
    );
    assert!(msg.ends_with("(2 attempts)"), "{msg}");
}

#[test]
fn a_dimension_mismatch_is_an_error() {
    let server = serve(|_, _| Reply::Ok(256));
    let mut o = options(&server.url);
    o.dims = Some(384);
    let err = OpenAiEmbedder::new(&o).unwrap().embed(&["x"]).unwrap_err();
    let msg = err.to_string();
    assert!(err.is_input());
    assert!(
        msg.contains("256 dimensions") && msg.contains("expected 384"),
        "{msg}"
    );
    assert_eq!(server.count(), 1, "not retried");
}

#[test]
fn the_rate_limit_spaces_requests() {
    let server = serve(|_, _| Reply::Ok(8));
    let mut o = options(&server.url);
    o.dims = Some(8);
    o.batch_size = Some(1);
    o.requests_per_minute = Some(600); // one per 100 ms
    let e = OpenAiEmbedder::new(&o).unwrap();
    let start = Instant::now();
    e.embed(&["a", "b", "c", "d", "e"]).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(390));
    assert_eq!(server.count(), 5);
}

#[test]
fn bad_urls_are_input_errors() {
    let err = OpenAiEmbedder::new(&options("localhost:11434/v1")).unwrap_err();
    assert!(err.is_input());
    assert!(err.to_string().contains("localhost:11434/v1"), "{err}");
}
