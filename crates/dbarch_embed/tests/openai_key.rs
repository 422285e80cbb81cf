//! The API key is sent as a Bearer header and appears in no error, even when the server echoes
//! it back. Alone in its own test binary: it sets an environment variable, which is only sound
//! while no other thread runs.

mod common;

use std::time::Duration;

use common::{Reply, serve};
use dbarch_embed::Embedder;
use dbarch_embed::openai::{OpenAiEmbedder, OpenAiOptions};

const KEY: &str = "sk-test-0123456789abcdefSECRET";

#[test]
fn the_key_is_sent_but_never_shown() {
    // SAFETY: the first statement of the only test in this binary: no other thread exists yet.
    unsafe { std::env::set_var("DBARCH_TEST_EMBED_KEY", KEY) };

    let echo = serve(|_, req| {
        let auth = req.header("authorization").unwrap_or_default().to_string();
        Reply::Status(
            401,
            vec![],
            format!(r#"{{"error":{{"message":"Incorrect API key provided: {auth}"}}}}"#),
        )
    });
    let mut o = OpenAiOptions::new(&echo.url, "m");
    o.api_key_env = Some("DBARCH_TEST_EMBED_KEY".into());
    o.dims = Some(8);
    let e = OpenAiEmbedder::new(&o).unwrap();
    let err = e.embed(&["x"]).unwrap_err();
    assert_eq!(
        echo.requests.lock().unwrap()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let mut texts = vec![err.to_string(), format!("{err:?}"), format!("{e:?}")];
    assert!(
        texts[0].contains("Incorrect API key provided"),
        "{}",
        texts[0]
    );
    assert!(texts[0].contains("$DBARCH_TEST_EMBED_KEY"), "{}", texts[0]);

    // Probe failures, retried statuses, timeouts.
    let slow = serve(|_, _| Reply::Sleep(Duration::from_secs(2)));
    o.base_url = slow.url.clone();
    o.dims = None;
    o.timeout = Some(Duration::from_millis(100));
    o.max_attempts = Some(2);
    texts.push(OpenAiEmbedder::new(&o).unwrap_err().to_string());
    let flaky = serve(|_, req| {
        let auth = req.header("authorization").unwrap_or_default().to_string();
        Reply::Status(502, vec![("Retry-After", "0".into())], auth)
    });
    o.base_url = flaky.url.clone();
    texts.push(OpenAiEmbedder::new(&o).unwrap_err().to_string());

    for t in &texts {
        assert!(!t.contains(KEY), "key leaked: {t}");
        assert!(!t.contains("SECRET"), "key leaked: {t}");
    }
}
