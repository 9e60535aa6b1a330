//! The event vocabulary: what travels through the queue (`Event`, packed; `EventKind`,
//! unpacked), what the engine hands a component (`Input`), what a caller learns when a
//! call ends (`ChildResult`), and what a call does and how it ended (`Op`, `Outcome`).
//! Plain data only: every layer above speaks it, and it knows nothing of them.

use crate::kernel::ids::{ClassId, ComponentId, RequestId};
use crate::kernel::time::SimTime;
use crate::kernel::trace::EventTag;
use serde::Serialize;

/// What a call asks of the data it touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Read,
    Write,
    /// A query that every shard must answer (scatter-gather).
    Scan,
}

/// How a request ended, or `Pending` while it is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    Ok,
    /// A bounded queue or a connection limit was full (an HTTP 503).
    Rejected,
    /// The run's in-flight limit was reached, so the client did not send it.
    Shed,
    /// The instance was down: connection refused.
    Refused,
    /// No answer within the caller's timeout.
    TimedOut,
    /// The component answered with an error (a failing job, a refused write).
    Error,
    /// No healthy instance was available to serve it.
    Unavailable,
    /// The caller's circuit breaker to that service was open: failed fast, never sent.
    CircuitOpen,
    /// A rate limiter refused it (an HTTP 429): the caller asked too often. Counted among
    /// the failures (requests stay conserved) but apart from errors (`error_rate` leaves
    /// it out: the system refused on purpose, it did not break).
    Limited,
}

impl Outcome {
    pub const FAILURES: [Outcome; 9] = [
        Outcome::Rejected,
        Outcome::Shed,
        Outcome::Refused,
        Outcome::TimedOut,
        Outcome::Error,
        Outcome::Unavailable,
        Outcome::Pending,
        Outcome::CircuitOpen,
        Outcome::Limited,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::Shed => "shed",
            Outcome::Refused => "refused",
            Outcome::TimedOut => "timed_out",
            Outcome::Error => "error",
            Outcome::Unavailable => "unavailable",
            Outcome::CircuitOpen => "circuit_open",
            Outcome::Limited => "limited",
        }
    }

    /// Index into `FAILURES`, for per-reason counters.
    pub fn failure_index(self) -> usize {
        Outcome::FAILURES.iter().position(|f| *f == self).expect("a failure outcome")
    }
}

/// An event as it travels: small plain data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Delivered once to every component at time zero.
    Start,
    /// A timer the component set for itself; `epoch` drops timers from before a crash.
    Timer {
        token: u32,
        epoch: u32,
    },
    /// A request arrives to be served.
    Request(RequestId),
    /// An answer comes back to the caller.
    Response(RequestId),
    /// The caller's patience for this call ran out.
    Timeout(RequestId),
    /// A hedged call has waited its hop's `after`: the caller may send a copy.
    Hedge(RequestId),
    /// A retried call has waited its backoff: its caller sends it.
    Retry(RequestId),
    /// A health probe; the engine answers it for a live target.
    Ping {
        from: ComponentId,
        token: u32,
    },
    Pong {
        token: u32,
        healthy: bool,
    },
    /// A protocol message between instances (replication, job hand-off).
    Message {
        from: ComponentId,
        token: u32,
    },
    /// The scenario's fault number `n` happens to the target.
    Fault(u32),
}

/// What the engine hands a component.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    Start,
    Timer(u32),
    Request(RequestId),
    /// One of this component's calls ended (answered, refused or timed out).
    ChildDone(ChildResult),
    Pong {
        token: u32,
        healthy: bool,
    },
    Message {
        from: ComponentId,
        token: u32,
    },
    /// Back up after a crash, with empty state.
    Restart,
    /// Service times are now multiplied by this factor.
    Slow(f64),
    /// Finish what is in hand, accept nothing new.
    Drain,
    /// A load balancer: keep this many backends in service.
    Scale(u32),
    /// A population: this many requests per second, before surges.
    Rate(f64),
    /// A cache or CDN: hold at most this many entries (per edge).
    Capacity(u32),
}

/// An event as it sits in the queue, packed into two integers (16 bytes): `id` is the
/// trace's identity word (target << 40 | tag << 32 | payload), `extra` the rest of the kind
/// (a timer's epoch, a request's generation, a sender, health). Why packed: a struct of two
/// scalars is built and passed in registers. An `EventKind` enum was assembled on the stack
/// field by field and then copied into the queue 16 bytes at once, which stalled on
/// store-to-load forwarding at every schedule (a tenth of the run time on M/M/1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    id: u64,
    extra: u32,
}

impl Event {
    #[inline(always)]
    pub fn new(target: ComponentId, kind: EventKind) -> Event {
        debug_assert!(target.0 < 1 << 24, "checked in Simulation::new");
        let (tag, payload, extra) = match kind {
            EventKind::Start => (EventTag::Start, 0, 0),
            EventKind::Timer { token, epoch } => (EventTag::Timer, token, epoch),
            EventKind::Request(r) => (EventTag::Request, r.slot, r.generation),
            EventKind::Response(r) => (EventTag::Response, r.slot, r.generation),
            EventKind::Timeout(r) => (EventTag::Timeout, r.slot, r.generation),
            EventKind::Hedge(r) => (EventTag::Hedge, r.slot, r.generation),
            EventKind::Retry(r) => (EventTag::Retry, r.slot, r.generation),
            EventKind::Ping { from, token } => (EventTag::Ping, token, from.0),
            EventKind::Pong { token, healthy } => (EventTag::Pong, token, u32::from(healthy)),
            EventKind::Message { from, token } => (EventTag::Message, token, from.0),
            EventKind::Fault(f) => (EventTag::Fault, f, 0),
        };
        Event { id: u64::from(target.0) << 40 | (tag as u64) << 32 | u64::from(payload), extra }
    }

    #[inline(always)]
    pub fn target(self) -> ComponentId {
        ComponentId((self.id >> 40) as u32)
    }

    /// The trace's view: the kind and its one identifying number (token, request slot).
    #[inline(always)]
    pub fn tag(self) -> EventTag {
        EventTag::from_index((self.id >> 32) as u8)
    }

    #[inline(always)]
    pub fn payload(self) -> u32 {
        self.id as u32
    }

    #[inline(always)]
    pub fn kind(self) -> EventKind {
        let (payload, extra) = (self.payload(), self.extra);
        let request = RequestId { slot: payload, generation: extra };
        match self.tag() {
            EventTag::Start => EventKind::Start,
            EventTag::Timer => EventKind::Timer { token: payload, epoch: extra },
            EventTag::Request => EventKind::Request(request),
            EventTag::Response => EventKind::Response(request),
            EventTag::Timeout => EventKind::Timeout(request),
            EventTag::Ping => EventKind::Ping { from: ComponentId(extra), token: payload },
            EventTag::Pong => EventKind::Pong { token: payload, healthy: extra != 0 },
            EventTag::Message => EventKind::Message { from: ComponentId(extra), token: payload },
            EventTag::Fault => EventKind::Fault(payload),
            EventTag::Hedge => EventKind::Hedge(request),
            EventTag::Retry => EventKind::Retry(request),
        }
    }
}

/// What a caller learns when one of its calls ends (answered or timed out). The child
/// request itself is gone by then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildResult {
    pub child: RequestId,
    pub parent: Option<RequestId>,
    pub class: ClassId,
    pub node: u16,
    pub op: Op,
    pub key: u64,
    pub user: u32,
    pub created: SimTime,
    pub outcome: Outcome,
    pub version: u64,
    /// Where a failure arose (a flow node, `u16::MAX` if at no service) and what the
    /// request was doing there (`world::metrics::failure`).
    pub origin: u16,
    pub detail: u8,
}
