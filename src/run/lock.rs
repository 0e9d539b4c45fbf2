//! One writer per seed folder: an OS advisory lock (`flock`) on `rl.lock` in the folder, held
//! while the seed runs. The kernel releases it when the process ends, however it ends, so a
//! killed run never leaves a stale lock. The file names the holder (pid and host) for the
//! message a refused run prints. On NFS, Linux maps `flock` to a POSIX byte-range lock on the
//! server (NFSv4, or v3 with lockd), so two hosts exclude each other as far as the server's
//! locking works.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

use anyhow::Context;

/// The lock file of a seed folder.
pub const FILE: &str = "rl.lock";

/// The held lock of one seed folder; dropping it releases the lock.
#[derive(Debug)]
pub struct SeedLock {
    _file: File,
}

impl SeedLock {
    /// Takes the lock of `dir` (created if missing), or fails naming the process that holds
    /// it. A refused caller changes nothing in the folder.
    pub fn acquire(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: flock on a file descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(error).with_context(|| format!("cannot lock {}", path.display()));
            }
            // The holder writes its name just after taking the lock: a refusal that comes in
            // between waits briefly for it rather than naming no one.
            let mut holder = String::new();
            for _ in 0..50 {
                holder.clear();
                let _ = file.rewind();
                let _ = file.read_to_string(&mut holder);
                if !holder.trim().is_empty() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another process".to_string()
            } else {
                holder.to_string()
            };
            anyhow::bail!(
                "{} is in use by {holder}: another run is writing this seed; wait for it to end \
                 (or stop it) and rerun, or write elsewhere with --out",
                dir.display()
            );
        }
        file.set_len(0)?;
        file.rewind()?;
        write!(file, "rl pid {} on host {}", std::process::id(), hostname())?;
        file.flush()?;
        Ok(Self { _file: file })
    }
}

/// Whether a running process holds the lock of `dir` (a `running` meta.json without a holder
/// was killed). Reads only.
pub fn held(dir: &Path) -> bool {
    let Ok(file) = File::open(dir.join(FILE)) else {
        return false;
    };
    // SAFETY: flock on a file descriptor this function owns; closing it releases the lock.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) != 0 }
}

/// This machine's host name (`?` if the OS will not say).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return "?".to_string();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = SeedLock::acquire(dir.path()).unwrap();
        // flock locks belong to the open file description: a second open is a second holder.
        let error = SeedLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("is in use by rl pid")
                && error.contains(&std::process::id().to_string()),
            "{error}"
        );
        assert!(held(dir.path()));
        drop(first);
        assert!(!held(dir.path()));
        SeedLock::acquire(dir.path()).unwrap();
    }
}
