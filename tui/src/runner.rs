//! The simulation thread: it owns the session, applies the UI's controls, plays in real
//! time at the chosen speed, and sends snapshots. The snapshot channel holds one: a new
//! snapshot is built only when the UI has taken the last, so the latest always wins, the
//! UI never blocks the simulation and the simulation never floods the UI.

use crate::session::{FaultRequest, SPEEDS, Session};
use crate::snapshot::Snapshot;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use sim_core::SimTime;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What the UI asks of the simulation thread.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    Open {
        name: String,
        seed: Option<u64>,
    },
    SetPlaying(bool),
    /// Play if paused, pause if playing: decided here, against the session's own state,
    /// so presses typed faster than snapshots arrive are none of them lost.
    TogglePlaying,
    StepEvent,
    StepSecond,
    BackEvent,
    BackSecond,
    /// Steps through `SPEEDS` by this many (also against the session's own speed).
    SpeedStep(i8),
    Restart,
    NewSeed,
    Fault(FaultRequest),
    /// Follow the next request issued, of this class or of any.
    Follow(Option<String>),
    ToggleMode(String),
    Save,
    Quit,
}

/// Applies a control to the session (opening one if asked). Errors are for the user.
pub fn apply(session: &mut Option<Session>, control: Control, save_dir: &std::path::Path) -> Result<(), String> {
    if let Control::Open { name, seed } = control {
        *session = Some(Session::open(&name, seed)?);
        return Ok(());
    }
    let Some(s) = session.as_mut() else { return Ok(()) };
    match control {
        Control::Open { .. } | Control::Quit => {}
        Control::SetPlaying(p) => s.playing = p && !s.sim().finished(),
        Control::TogglePlaying => s.playing = !s.playing && !s.sim().finished(),
        Control::StepEvent => {
            s.playing = false;
            s.step();
        }
        Control::StepSecond => {
            s.playing = false;
            s.step_second();
        }
        Control::BackEvent => {
            s.playing = false;
            s.back_event();
        }
        Control::BackSecond => {
            s.playing = false;
            s.back_second();
        }
        Control::SpeedStep(by) => {
            let i = SPEEDS.iter().position(|&x| x == s.speed).unwrap_or(4) as isize;
            s.speed = SPEEDS[(i + isize::from(by)).clamp(0, SPEEDS.len() as isize - 1) as usize];
        }
        Control::Restart => s.restart(s.seed())?,
        Control::NewSeed => s.restart(next_seed(s.seed()))?,
        Control::Fault(f) => s.inject(&f)?,
        Control::Follow(class) => s.follow(class)?,
        Control::ToggleMode(service) => {
            s.toggle_mode(&service)?;
        }
        Control::Save => {
            s.save(save_dir)?;
        }
    }
    Ok(())
}

/// The seed `n` moves to: a fixed mix of the current one, so sessions stay replayable.
pub fn next_seed(seed: u64) -> u64 {
    sim_core::kernel::hash::splitmix64(seed) % 1_000_000
}

pub struct Channels {
    pub controls: Sender<Control>,
    pub snapshots: Receiver<Box<Snapshot>>,
    /// Errors and notices (a file that does not parse, a fault refused).
    pub messages: Receiver<String>,
}

/// Starts the simulation thread, opening `initial` first if given.
pub fn spawn(initial: Option<(String, Option<u64>)>, save_dir: PathBuf) -> (Channels, std::thread::JoinHandle<()>) {
    let (control_tx, control_rx) = crossbeam_channel::unbounded();
    let (snap_tx, snap_rx) = crossbeam_channel::bounded(1);
    let (msg_tx, msg_rx) = crossbeam_channel::unbounded();
    if let Some((name, seed)) = initial {
        control_tx.send(Control::Open { name, seed }).expect("the receiver is alive");
    }
    let handle = std::thread::Builder::new()
        .name("simulation".into())
        .spawn(move || run_loop(&control_rx, &snap_tx, &msg_tx, &save_dir))
        .expect("can start the simulation thread");
    (Channels { controls: control_tx, snapshots: snap_rx, messages: msg_rx }, handle)
}

/// Wall time a play slice may take before the thread looks at controls again.
const SLICE: Duration = Duration::from_millis(15);
/// Least time between two snapshots.
const FRAME: Duration = Duration::from_millis(30);

fn run_loop(
    controls: &Receiver<Control>,
    snaps: &Sender<Box<Snapshot>>,
    msgs: &Sender<String>,
    save_dir: &std::path::Path,
) {
    let mut session: Option<Session> = None;
    let mut dirty = false;
    let mut last_sent = Instant::now() - FRAME;
    // Real-time anchor: simulated time `anchor_sim` at wall instant `anchor_wall`.
    let mut anchor: Option<(Instant, SimTime, f64)> = None;
    loop {
        let playing = session.as_ref().is_some_and(|s| s.playing);
        let control = if playing || dirty {
            match controls.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return,
            }
        } else {
            match controls.recv_timeout(Duration::from_millis(100)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        if let Some(c) = control {
            if c == Control::Quit {
                return;
            }
            let started = matches!(c, Control::Open { .. } | Control::Restart | Control::NewSeed);
            if let Err(e) = apply(&mut session, c, save_dir) {
                let _ = msgs.send(e);
            } else if started {
                let _ = msgs.send(String::new());
            }
            anchor = None;
            dirty = true;
            continue;
        }
        if let Some(s) = session.as_mut().filter(|s| s.playing) {
            let now = Instant::now();
            let (wall0, sim0, speed) = *anchor.get_or_insert((now, s.sim().now(), s.speed));
            if speed != s.speed {
                anchor = None;
                continue;
            }
            let deadline = now + SLICE;
            if speed == 0.0 {
                while Instant::now() < deadline && s.playing && !s.sim().finished() {
                    s.play_until(SimTime::MAX, 4096);
                }
            } else {
                let behind = now.duration_since(wall0).as_secs_f64() * speed;
                let target = sim0 + sim_core::SimDuration::from_secs_f64(behind);
                let mut reached = false;
                while !reached && Instant::now() < deadline {
                    reached = s.play_until(target, 4096);
                }
                if !reached && now.duration_since(wall0) > Duration::from_secs(1) {
                    // Cannot keep this speed: go on from here rather than run to catch up.
                    anchor = None;
                }
                if reached {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            dirty = true;
        }
        if dirty && snaps.is_empty() && last_sent.elapsed() >= FRAME {
            if let Some(s) = &session {
                if snaps.try_send(Box::new(s.snapshot())).is_err() {
                    return;
                }
                last_sent = Instant::now();
            }
            dirty = false;
        } else if dirty && !session.as_ref().is_some_and(|s| s.playing) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
