//! A worker's stderr: its last bytes are kept for error messages (the traceback of a crash), and
//! the warnings the worker forwards (gymnasium's env checker's, the env's own; one line each,
//! prefixed [`WARNING_PREFIX`]) are shown once per run, however many workers and seeds raise
//! them.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::sync::Mutex;

/// The last bytes of the worker's stderr kept for error messages.
pub const STDERR_TAIL: usize = 16 * 1024;

/// The prefix `python/rl_bridge.py` writes before each warning.
const WARNING_PREFIX: &str = "rl-bridge-warning: ";

/// The warnings this process has shown, keyed by env id and text.
static SHOWN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Reads the worker's stderr to its end: warnings are shown once, the rest is kept in `tail`.
pub fn read_stderr(pipe: impl Read, env_id: &str, tail: &Mutex<String>) {
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let text = String::from_utf8_lossy(&line);
        match text.strip_prefix(WARNING_PREFIX) {
            Some(warning) => warn_once(env_id, warning.trim_end()),
            None => {
                let Ok(mut t) = tail.lock() else { break };
                keep_tail(&mut t, &text);
            }
        }
        line.clear();
    }
}

/// Shows `warning` unless this process has shown it for `env_id` already.
fn warn_once(env_id: &str, warning: &str) {
    let first = SHOWN
        .lock()
        .is_ok_and(|mut shown| shown.insert(format!("{env_id}\n{warning}")));
    if first {
        tracing::warn!("gymnasium env {env_id}: {warning}");
    }
}

/// Appends `text` to `tail`, dropping the oldest bytes beyond [`STDERR_TAIL`].
fn keep_tail(tail: &mut String, text: &str) {
    tail.push_str(text);
    if tail.len() > 2 * STDERR_TAIL {
        let mut cut = tail.len() - STDERR_TAIL;
        while !tail.is_char_boundary(cut) {
            cut += 1;
        }
        tail.drain(..cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_taken_out_of_the_tail_and_the_rest_is_kept() {
        let stderr = "Traceback (most recent call last):\n\
                      rl-bridge-warning: UserWarning: obs is not float32\n  File \"x.py\"\n";
        let tail = Mutex::new(String::new());
        read_stderr(stderr.as_bytes(), "Test-v0", &tail);
        assert_eq!(
            *tail.lock().unwrap(),
            "Traceback (most recent call last):\n  File \"x.py\"\n"
        );
        assert!(
            SHOWN
                .lock()
                .unwrap()
                .contains("Test-v0\nUserWarning: obs is not float32")
        );
    }

    #[test]
    fn the_tail_keeps_the_last_bytes_on_a_char_boundary() {
        let mut tail = String::new();
        for _ in 0..3 * STDERR_TAIL {
            keep_tail(&mut tail, "é");
        }
        assert!(tail.len() <= 2 * STDERR_TAIL && tail.len() >= STDERR_TAIL);
        assert!(tail.chars().all(|c| c == 'é'));
    }
}
