//! The postmaster as a process: its pid file, liveness and signals.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Line 1 of `postmaster.pid`, whether or not that process still exists.
pub(crate) fn pid_file_pid(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// The pid of the live postmaster of `data_dir`, if there is one.
pub(crate) fn running_pid(data_dir: &Path) -> Option<u32> {
    pid_file_pid(data_dir).filter(|pid| is_postgres_alive(*pid))
}

/// True if `pid` is a live (not zombie) postgres process. Reaps it first when it is a dead
/// child of ours, so that our own servers don't linger as zombies.
pub(crate) fn is_postgres_alive(pid: u32) -> bool {
    let Ok(pid_t) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid_t <= 0 {
        return false;
    }
    unsafe {
        // Not our child → ECHILD, harmless.
        libc::waitpid(pid_t, std::ptr::null_mut(), libc::WNOHANG);
        if libc::kill(pid_t, 0) != 0
            && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM)
        {
            return false;
        }
    }
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !proc_dir.exists() {
        // No procfs: trust kill(2).
        return true;
    }
    let zombie = std::fs::read_to_string(proc_dir.join("stat"))
        .ok()
        .and_then(|s| {
            // The state follows the parenthesized command name, which may hold spaces.
            let rest = &s[s.rfind(')')? + 1..];
            rest.split_whitespace()
                .next()
                .map(|st| st == "Z" || st == "X")
        })
        .unwrap_or(false);
    if zombie {
        return false;
    }
    // A reused pid belongs to some other program: then the pid file is stale.
    std::fs::read_to_string(proc_dir.join("comm")).is_ok_and(|c| c.trim() == "postgres")
}

/// Pids of processes whose working directory is `data_dir`: every postgres process chdirs to
/// its data dir, so these are the server's processes, including backends orphaned by a
/// postmaster that was killed.
pub(crate) fn processes_in(data_dir: &Path) -> Vec<u32> {
    let Ok(target) = data_dir.canonicalize() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == target)
                && is_postgres_alive(*pid)
        })
        .collect()
}

pub(crate) fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(p) = libc::pid_t::try_from(pid) {
        unsafe {
            libc::kill(p, sig);
        }
    }
}

/// Waits until `pid` is gone; false on timeout.
pub(crate) fn wait_exit(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !is_postgres_alive(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
