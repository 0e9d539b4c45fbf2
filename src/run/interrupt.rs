//! Ctrl-C (SIGINT): the first one asks every seed to stop cleanly at its next step (rows
//! written so far stay complete, meta.json says `interrupted`); a second one exits at once.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The error a session returns once a stop was requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by Ctrl-C")]
pub struct Interrupted;

/// Installs the SIGINT handler (once per process; later calls do nothing).
pub fn install() {
    let installed = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_CODE);
        }
        eprintln!("\nstopping: seeds finish their current step (Ctrl-C again to quit at once)");
    });
    if let Err(e) = installed {
        tracing::debug!("no Ctrl-C handler: {e}");
    }
}

/// Exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_CODE: i32 = 130;

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// `Err(Interrupted)` once a stop was requested.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}
