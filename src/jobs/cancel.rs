//! Ctrl-C for headless jobs: the first press asks the job to stop after the current unit of
//! work (everything finished is already on disk), the second exits at once.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Installs the SIGINT handler (Unix). Safe to call more than once.
pub fn install() {
    #[cfg(unix)]
    {
        extern "C" fn on_sigint(_: libc::c_int) {
            if REQUESTED.swap(true, Ordering::Relaxed) {
                // Second Ctrl-C: leave now.
                // SAFETY: _exit is async-signal-safe.
                unsafe { libc::_exit(130) };
            }
        }
        // SAFETY: installing a handler that only touches an atomic and calls _exit.
        unsafe {
            libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
        }
    }
}
