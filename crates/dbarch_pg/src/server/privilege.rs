//! initdb and postgres refuse to run as root. When dbarch runs as root it runs them as an
//! unprivileged user itself, so the user never has to work around it:
//!
//! 1. preferred: a user namespace, `unshare --user --map-user=1000 --map-group=1000 --`. No OS
//!    user is needed, inside the namespace the server is uid 1000 while its files stay owned
//!    by root on the host, and it works from 0700 directories;
//! 2. fallback (user namespaces disabled): `setpriv --reuid=nobody --regid=nogroup
//!    --clear-groups`, after handing the data and socket dirs to `nobody`. Every parent
//!    directory of those must then be traversable (`o+x`) by `nobody`.
//!
//! When not root, the binaries run directly. The choice is probed once per process;
//! `DBARCH_RUN_AS=unshare` or `DBARCH_RUN_AS=setpriv` forces one of the two (troubleshooting,
//! and testing the fallback).

use std::ffi::CString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// How server binaries are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Not root: run directly.
    Direct,
    /// Root: in a user namespace mapping us to uid/gid 1000.
    UserNamespace,
    /// Root without user namespaces: as `nobody` via setpriv.
    Setpriv { uid: u32, gid: u32 },
    /// Root and neither works; the reason says what failed.
    Unavailable(String),
}

/// The mode for this process (probed on first use).
pub fn mode() -> &'static Mode {
    static MODE: OnceLock<Mode> = OnceLock::new();
    MODE.get_or_init(probe)
}

fn probe() -> Mode {
    if unsafe { libc::geteuid() } != 0 {
        return Mode::Direct;
    }
    let forced = std::env::var("DBARCH_RUN_AS").unwrap_or_default();
    let unshare_err = if forced == "setpriv" {
        "not tried: DBARCH_RUN_AS=setpriv".to_string()
    } else {
        let unshare = Command::new("unshare")
            .args([
                "--user",
                "--map-user=1000",
                "--map-group=1000",
                "--",
                "true",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        match unshare {
            Ok(out) if out.status.success() => return Mode::UserNamespace,
            Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
            Err(e) => e.to_string(),
        }
    };
    let (Some(uid), Some(gid)) = (
        user_id("nobody"),
        group_id("nogroup").or_else(|| group_id("nobody")),
    ) else {
        return Mode::Unavailable(format!(
            "running as root; `unshare --user` failed ({unshare_err}) and there is no `nobody` user/group for setpriv"
        ));
    };
    let setpriv = Command::new("setpriv")
        .args(setpriv_args(uid, gid))
        .arg("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match setpriv {
        Ok(out) if out.status.success() => Mode::Setpriv { uid, gid },
        Ok(out) => Mode::Unavailable(format!(
            "running as root; `unshare --user` failed ({unshare_err}) and `setpriv` failed ({})",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Mode::Unavailable(format!(
            "running as root; `unshare --user` failed ({unshare_err}) and `setpriv` cannot run ({e})"
        )),
    }
}

fn setpriv_args(uid: u32, gid: u32) -> Vec<String> {
    vec![
        format!("--reuid={uid}"),
        format!("--regid={gid}"),
        "--clear-groups".into(),
        "--".into(),
    ]
}

/// A command running `program` as an unprivileged user when needed. For the user namespace
/// the child execs `program` (no fork), so its pid is the program's pid.
pub(crate) fn command(program: &Path, data_dir: &Path) -> Result<Command> {
    Ok(match mode() {
        Mode::Direct => Command::new(program),
        Mode::UserNamespace => {
            let mut c = Command::new("unshare");
            c.args(["--user", "--map-user=1000", "--map-group=1000", "--"]);
            c.arg(program);
            c
        }
        Mode::Setpriv { uid, gid } => {
            for path in [program, data_dir] {
                if let Some(dir) = unreachable_ancestor(path, *uid) {
                    return Err(Error::Server {
                        data_dir: data_dir.to_path_buf(),
                        reason: format!(
                            "PostgreSQL runs as `nobody` here (user namespaces are unavailable), and `nobody` cannot traverse {} to reach {}; make every parent directory traversable (chmod o+x) or enable unprivileged user namespaces",
                            dir.display(),
                            path.display()
                        ),
                    });
                }
            }
            let mut c = Command::new("setpriv");
            c.args(setpriv_args(*uid, *gid));
            c.arg(program);
            c
        }
        Mode::Unavailable(reason) => {
            return Err(Error::Server {
                data_dir: data_dir.to_path_buf(),
                reason: format!("cannot run PostgreSQL as an unprivileged user: {reason}"),
            });
        }
    })
}

/// Makes `dir` (recursively) usable by the user the server runs as. Only the setpriv
/// fallback needs it: in a user namespace, root-owned dirs appear owned by the mapped user.
pub(crate) fn hand_over(dir: &Path) -> Result<()> {
    let Mode::Setpriv { uid, gid } = mode() else {
        return Ok(());
    };
    chown_recursive(dir, *uid, *gid)
}

fn chown_recursive(path: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(|e| Error::io(path, e))?;
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            let entry = entry.map_err(|e| Error::io(path, e))?;
            chown_recursive(&entry.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// The first parent directory of `path` that `uid` (not its owner) cannot traverse.
fn unreachable_ancestor(path: &Path, uid: u32) -> Option<&Path> {
    use std::os::unix::fs::MetadataExt;
    path.ancestors()
        .skip(1)
        .find(|dir| std::fs::metadata(dir).is_ok_and(|m| m.uid() != uid && m.mode() & 0o001 == 0))
}

fn user_id(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // getpwnam's static buffer is fine here: called once, from the OnceLock initializer.
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    (!pw.is_null()).then(|| unsafe { (*pw).pw_uid })
}

fn group_id(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    let gr = unsafe { libc::getgrnam(c.as_ptr()) };
    (!gr.is_null()).then(|| unsafe { (*gr).gr_gid })
}
