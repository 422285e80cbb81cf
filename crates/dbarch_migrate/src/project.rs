//! A migration project: an optional `dbarch.toml` (`schema_dir`, `migrations_dir`), the
//! desired state in `schema/` and the history in `migrations/`.

use crate::error::{Result, input};
use std::path::{Path, PathBuf};

#[derive(Debug, Default, serde::Deserialize)]
struct Config {
    schema_dir: Option<PathBuf>,
    migrations_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub schema_dir: PathBuf,
    pub migrations_dir: PathBuf,
}

impl Project {
    /// The project rooted at `root`. Flags (`schema_dir`, `migrations_dir`) win over the
    /// config file, which wins over the defaults; config paths are relative to `root`.
    pub fn open(
        root: &Path,
        schema_dir: Option<PathBuf>,
        migrations_dir: Option<PathBuf>,
    ) -> Result<Project> {
        let path = root.join("dbarch.toml");
        let config = if path.exists() {
            let text = crate::format::read(&path)?;
            toml::from_str::<Config>(&text).map_err(|e| input(&path, e.to_string()))?
        } else {
            Config::default()
        };
        Ok(Project {
            schema_dir: schema_dir
                .unwrap_or_else(|| root.join(config.schema_dir.unwrap_or_else(|| "schema".into()))),
            migrations_dir: migrations_dir.unwrap_or_else(|| {
                root.join(config.migrations_dir.unwrap_or_else(|| "migrations".into()))
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let p = Project::open(dir.path(), None, None).unwrap();
        assert_eq!(p.migrations_dir, dir.path().join("migrations"));
        std::fs::write(
            dir.path().join("dbarch.toml"),
            "schema_dir = \"db/schema\"\nmigrations_dir = \"db/migrations\"\n",
        )
        .unwrap();
        let p = Project::open(dir.path(), None, None).unwrap();
        assert_eq!(p.schema_dir, dir.path().join("db/schema"));
        assert_eq!(p.migrations_dir, dir.path().join("db/migrations"));
        let p = Project::open(dir.path(), None, Some("m".into())).unwrap();
        assert_eq!(p.migrations_dir, PathBuf::from("m"));
        std::fs::write(dir.path().join("dbarch.toml"), "schema_dir = 3").unwrap();
        let e = Project::open(dir.path(), None, None).unwrap_err();
        assert!(e.to_string().contains("dbarch.toml"), "{e}");
    }
}
