//! The event inspector's raw material: the last events processed, each as a small record
//! of what it was about (read before the engine handled it) and what its handler did
//! (captured through `Ctx` while recording is on). The words are made from these only
//! when someone reads them (`view::event_text`). Off by default: then each `Ctx` verb
//! that could add an effect tests one flag, and the engine one flag per event.

use crate::event::{EventKind, Outcome};
use crate::kernel::ids::{ClassId, ComponentId};
use crate::kernel::time::{SimDuration, SimTime};

/// The request an event is about, as it was when the event came out of the queue.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    pub serial: u64,
    pub class: ClassId,
    pub node: u16,
    pub caller: ComponentId,
    pub created: SimTime,
    pub outcome: Outcome,
    pub root: bool,
}

/// What the engine made of an event before any component heard it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Handled,
    /// Its target is down (a request is refused, the rest is dropped).
    TargetDown,
    /// About a request already freed, or a timer or answer from before a restart.
    Stale,
    /// An answer to a call whose caller had given up (freed now).
    Abandoned,
    /// A timeout that fired: (flow node, `failure` detail) where the call was stuck.
    TimedOut {
        node: u16,
        detail: u8,
    },
}

/// One thing a handler did.
#[derive(Clone, Copy, Debug)]
pub enum Effect {
    /// A call (a root when `root`) sent to `to`.
    Sent {
        serial: u32,
        class: ClassId,
        node: u16,
        to: ComponentId,
        root: bool,
    },
    Answered {
        serial: u32,
        class: ClassId,
        outcome: Outcome,
        to: ComponentId,
    },
    Redirected {
        serial: u32,
        to: ComponentId,
    },
    Queued {
        serial: u32,
    },
    Began {
        serial: u32,
    },
    /// The answer to the event's root request was recorded by its client.
    Finished {
        class: ClassId,
        outcome: Outcome,
        latency: SimDuration,
    },
    Ping {
        to: ComponentId,
    },
    Message {
        to: ComponentId,
    },
    Datagram {
        to: ComponentId,
    },
}

/// One processed event, as recorded.
#[derive(Clone, Debug)]
pub struct Raw {
    /// The event's number: the run's event count after it.
    pub seq: u64,
    pub t: SimTime,
    pub target: ComponentId,
    pub kind: EventKind,
    pub facts: Option<Facts>,
    pub fate: Fate,
    /// Requests a crash fault found its target holding.
    pub held: u32,
    pub effects: Vec<Effect>,
}

/// A ring of the last `capacity` events' records.
#[derive(Clone, Default)]
pub struct EventLog {
    on: bool,
    ring: Vec<Raw>,
    /// Where the next record goes, once the ring is full.
    next: usize,
    capacity: usize,
}

impl EventLog {
    #[inline(always)]
    pub fn on(&self) -> bool {
        self.on
    }

    /// Keeps the last `capacity` events from now on (0 turns recording off).
    pub fn record(&mut self, capacity: usize) {
        (self.on, self.capacity, self.next) = (capacity > 0, capacity, 0);
        self.ring.clear();
    }

    /// Opens the record of an event about to be handled; effects join it until the next.
    #[cold]
    pub fn begin(&mut self, raw: Raw) {
        if self.ring.len() < self.capacity {
            self.ring.push(raw);
        } else {
            let slot = &mut self.ring[self.next];
            let mut effects = std::mem::take(&mut slot.effects);
            effects.clear();
            *slot = Raw { effects, ..raw };
            self.next = (self.next + 1) % self.capacity;
        }
    }

    /// Adds what the handler of the event being recorded did.
    #[cold]
    pub fn effect(&mut self, e: Effect) {
        let last = if self.ring.len() < self.capacity || self.next == 0 { self.ring.len() - 1 } else { self.next - 1 };
        if let Some(r) = self.ring.get_mut(last)
            && r.effects.len() < 64
        {
            r.effects.push(e);
        }
    }

    /// The records, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Raw> {
        let split = if self.ring.len() < self.capacity { 0 } else { self.next };
        self.ring[split..].iter().chain(&self.ring[..split])
    }
}
