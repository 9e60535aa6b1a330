//! Notable events: what a student watching the run wants pointed out (a crash, a backend
//! marked down, a failover, a partition, a dead letter). Components and the engine write
//! them as they happen; the TUI's log and tests read them. They are simulation data, so
//! they are as deterministic as the run, and bounded so no run can grow them without end.

use crate::kernel::ids::ComponentId;
use crate::kernel::time::SimTime;

/// At most this many notes are kept; later ones are only counted.
pub const NOTES_MAX: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NoteKind {
    Crash,
    Restart,
    Slow(f64),
    Drain,
    /// A population's base rate set to this many requests per second.
    Rate(f64),
    /// A cache's capacity set to this many entries.
    Capacity(u32),
    /// A clock set ahead by this many milliseconds (0: back in sync).
    Skew(u64),
    Partition(u16),
    Heal(u16),
    /// A load balancer's health checks took this backend out of service.
    MarkedDown(ComponentId),
    MarkedUp(ComponentId),
    /// A replica was promoted to primary (the component is the new primary).
    Failover,
    /// DNS names the new primary: writes reach it again.
    DnsSwitched,
    /// A queue's dead letters reached this count (noted at 1, 10, 100, ...).
    DeadLetters(u64),
    /// Autoscaling changed the backends in service to this many.
    Scaled(u32),
    /// The instance's circuit breaker for its calls to this service changed state.
    Breaker(crate::kernel::ids::ServiceId, crate::world::breaker::BreakerState),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Note {
    pub time: SimTime,
    pub component: ComponentId,
    pub kind: NoteKind,
}

#[derive(Clone, Debug, Default)]
pub struct Notes {
    list: Vec<Note>,
    pub dropped: u64,
}

impl Notes {
    pub fn push(&mut self, note: Note) {
        if self.list.len() < NOTES_MAX {
            self.list.push(note);
        } else {
            self.dropped += 1;
        }
    }

    pub fn as_slice(&self) -> &[Note] {
        &self.list
    }
}

/// Whether `count` is one of 1, 10, 100, ...: dead letters are noted at each power of ten.
pub fn is_power_of_ten(count: u64) -> bool {
    let mut p = 1;
    while p < count {
        p *= 10;
    }
    p == count
}
