//! Stop requests: Ctrl-C (SIGINT), SIGTERM (a scheduler's time limit or preemption) and SIGHUP
//! (a closed terminal). The first one asks every seed to stop cleanly at its next step (rows
//! written so far stay complete, a checkpoint is written, meta.json says `interrupted`); the
//! command then exits with 128 + the signal's number (130, 143, 129), as shells report it. A
//! second signal exits at once.

use std::sync::atomic::{AtomicI32, Ordering};

/// The first stop signal received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The signals besides Ctrl-C that ask a run to stop.
const TERMINATION_SIGNALS: [libc::c_int; 2] = [libc::SIGTERM, libc::SIGHUP];

/// The message of the first stop request.
const STOPPING: &str = "\nstopping: seeds finish their current step and write a checkpoint (signal again to quit at once)\n";

/// The error a session returns once a stop was requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by {}", signal_name(*.0))]
pub struct Interrupted(pub i32);

/// `Ctrl-C`, `SIGTERM` or `SIGHUP`.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "Ctrl-C",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// The handler of SIGTERM and SIGHUP: async-signal-safe (an atomic swap, `write` and `_exit`).
extern "C" fn on_termination_signal(signal: libc::c_int) {
    if SIGNAL.swap(signal, Ordering::SeqCst) != 0 {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(128 + signal) };
    }
    // SAFETY: `write` is async-signal-safe; the buffer outlives the call.
    unsafe { libc::write(2, STOPPING.as_ptr().cast(), STOPPING.len()) };
}

/// Installs the handlers of SIGINT (through `ctrlc`, on its own thread), SIGTERM and SIGHUP
/// (call once, from the main thread).
pub fn install() {
    let installed = ctrlc::set_handler(|| {
        if SIGNAL.swap(libc::SIGINT, Ordering::SeqCst) != 0 {
            std::process::exit(128 + libc::SIGINT);
        }
        eprint!("{STOPPING}");
    });
    if let Err(e) = installed {
        tracing::debug!("no Ctrl-C handler: {e}");
    }
    for signal in TERMINATION_SIGNALS {
        // SAFETY: the handler only does async-signal-safe work; `signal` is a valid signal.
        let previous = unsafe {
            libc::signal(
                signal,
                on_termination_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            )
        };
        if previous == libc::SIG_ERR {
            tracing::debug!(signal, "no stop handler");
        }
    }
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    SIGNAL.load(Ordering::SeqCst) != 0
}

/// The exit code of a stopped run: 128 + the first stop signal's number.
pub fn exit_code() -> i32 {
    128 + SIGNAL.load(Ordering::SeqCst)
}

/// `Err(Interrupted)` once a stop was requested.
pub fn check() -> Result<(), Interrupted> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => Ok(()),
        signal => Err(Interrupted(signal)),
    }
}
