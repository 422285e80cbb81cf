//! Model directories that cannot work are refused with one input error that names what is
//! missing and how to get it.

use dbarch_embed::local::LocalMiniLm;
use dbarch_embed::{EmbedderKind, EmbedderOptions};

#[test]
fn missing_files_are_named() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("config.json"), "{}").unwrap();
    std::fs::write(t.path().join("tokenizer.json"), "{}").unwrap();
    let err = LocalMiniLm::load(Some(t.path()), None).err().unwrap();
    assert!(err.is_input());
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(msg.contains(&t.path().display().to_string()), "{msg}");
    for f in [
        "model.safetensors",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    ] {
        assert!(msg.contains(f), "{f} not named: {msg}");
    }
    assert!(msg.contains("pip install"), "{msg}");
}

#[test]
fn a_nonexistent_dir_is_an_input_error_and_is_not_provisioned() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("nope");
    let err = dbarch_embed::build(&EmbedderOptions {
        kind: EmbedderKind::Local,
        model_dir: Some(dir.clone()),
        ..Default::default()
    })
    .err()
    .unwrap();
    assert!(err.is_input());
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!dir.exists());
}

#[test]
fn a_broken_config_is_an_input_error_naming_the_file() {
    let t = tempfile::tempdir().unwrap();
    for f in dbarch_embed::model_dir::REQUIRED_FILES {
        let p = t.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "not json").unwrap();
    }
    let err = LocalMiniLm::load(Some(t.path()), None).err().unwrap();
    assert!(err.is_input());
    assert!(err.to_string().contains("config.json"), "{err}");
}
