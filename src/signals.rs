//! SIGINT, SIGTERM and SIGHUP ask a long command to stop where it stands rather than die
//! mid-write: `run` ends its trace file on a whole line, `chaos` prints the summary of the
//! runs done so far (their seed files are already written), the TUI restores the terminal.
//! The command then exits 128 + the signal's number (130 for SIGINT), as shells do.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Set to the number of the first signal received (0 until then).
#[derive(Clone)]
pub struct Stop(Arc<AtomicUsize>);

impl Stop {
    /// Catches the three signals from now on: the first asks the command to stop; a
    /// second one, of any of the three, takes its default action (the command dies at
    /// once, for a user who will not wait). If a handler cannot be installed, that signal
    /// keeps its default action, which is reported.
    pub fn install() -> Stop {
        let flag = Arc::new(AtomicUsize::new(0));
        let caught = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            // Registered first, so that it sees `caught` as the signals before this one left it.
            let installed = signal_hook::flag::register_conditional_default(signal, Arc::clone(&caught))
                .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&caught)))
                .and_then(|_| signal_hook::flag::register_usize(signal, Arc::clone(&flag), signal as usize));
            if let Err(e) = installed {
                eprintln!("note: cannot catch signal {signal}: {e}");
            }
        }
        Stop(flag)
    }

    /// The signal received, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            s => Some(s as i32),
        }
    }

    /// The flag itself, for the TUI's loop.
    pub fn flag(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.0)
    }
}

/// For commands with nothing to finish (`sweep`, `compare`: their output is printed at the
/// end, from runs that are pure functions of their seeds): from now on the first of the three
/// signals stops the process at once with 128 + its number, as `run` and `chaos` exit, rather
/// than the signal's default death (which a parent sees as no exit status at all).
pub fn exit_on_signal() {
    match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    eprintln!("scalelab: stopped by {}", name(signal));
                    std::process::exit(exit_code(signal));
                }
            });
        }
        Err(e) => eprintln!("note: cannot catch signals: {e}"),
    }
}

/// The exit status after `signal`: 128 + its number.
pub fn exit_code(signal: i32) -> i32 {
    128 + signal
}

/// The signal's name for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}
