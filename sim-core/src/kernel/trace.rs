//! The trace hash: a rolling 64-bit digest of every processed event, in processing order,
//! and of what the run decided at each: the outcome of every answer a caller hears, and
//! the version every read or write of versioned data saw. Two runs are the same run
//! exactly when their trace hashes agree: the same events at the same instants, and the
//! same data read and written (two runs whose events coincide but whose readers saw
//! different versions, as clock skews can make happen, differ). The algorithm is fixed
//! here (not std's `DefaultHasher`, whose output may change between Rust releases): each
//! event is folded in as one word, w = time_ns * K2 ^ (component << 40 | tag << 32 |
//! payload), and each decision as one more word, by h = rotl((h ^ w) * K, 31); the report
//! shows the SplitMix64 finalizer of h in hex. (Component ids stay below 2^24: scenarios
//! cap components far lower. Multiplying the time by the odd K2 keeps it from cancelling
//! against the identity bits.)

use super::ids::ComponentId;
use super::time::SimTime;
use serde::Serialize;

const K: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// What kind of event a component processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventTag {
    Start,
    Timer,
    Request,
    Response,
    Timeout,
    Ping,
    Pong,
    Message,
    Fault,
    Hedge,
    Retry,
}

impl EventTag {
    /// The tag whose `as u8` is `i` (events keep their tag as a number).
    #[inline(always)]
    pub fn from_index(i: u8) -> EventTag {
        match i {
            0 => EventTag::Start,
            1 => EventTag::Timer,
            2 => EventTag::Request,
            3 => EventTag::Response,
            4 => EventTag::Timeout,
            5 => EventTag::Ping,
            6 => EventTag::Pong,
            7 => EventTag::Message,
            8 => EventTag::Fault,
            9 => EventTag::Hedge,
            10 => EventTag::Retry,
            _ => unreachable!("event tag {i} out of range"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            EventTag::Start => "start",
            EventTag::Timer => "timer",
            EventTag::Request => "request",
            EventTag::Response => "response",
            EventTag::Timeout => "timeout",
            EventTag::Ping => "ping",
            EventTag::Pong => "pong",
            EventTag::Message => "message",
            EventTag::Fault => "fault",
            EventTag::Hedge => "hedge",
            EventTag::Retry => "retry",
        }
    }
}

/// A processed event as the trace sees it: plain data, cheap to copy and compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// Position in the run's processing order, from 0.
    pub index: u64,
    pub time: SimTime,
    pub component: ComponentId,
    pub tag: EventTag,
    /// The timer token or request slot the event carries.
    pub payload: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct TraceHash(u64);

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash(0x5ca1_ab1e_0000_0001)
    }
}

impl TraceHash {
    /// Folds in one word of what the run decided (an outcome, a version).
    #[inline]
    pub fn word(&mut self, w: u64) {
        self.0 = (self.0 ^ w).wrapping_mul(K).rotate_left(31);
    }

    #[inline]
    pub fn add(&mut self, e: &TraceEvent) {
        debug_assert!(e.component.0 < 1 << 24);
        let id = u64::from(e.component.0) << 40 | (e.tag as u64) << 32 | u64::from(e.payload);
        self.word(e.time.0.wrapping_mul(K2) ^ id);
    }

    /// The digest as a 16-digit hex string.
    pub fn hex(&self) -> String {
        format!("{:016x}", super::hash::mix64(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(index: u64, t: u64, payload: u32) -> TraceEvent {
        TraceEvent { index, time: SimTime(t), component: ComponentId(1), tag: EventTag::Request, payload }
    }

    #[test]
    fn order_and_content_change_the_hash() {
        let hash = |evs: &[TraceEvent]| {
            let mut h = TraceHash::default();
            evs.iter().for_each(|e| h.add(e));
            h.hex()
        };
        let a = hash(&[ev(0, 1, 1), ev(1, 2, 2)]);
        assert_eq!(a, hash(&[ev(0, 1, 1), ev(1, 2, 2)]));
        assert_ne!(a, hash(&[ev(0, 2, 2), ev(1, 1, 1)]));
        assert_ne!(a, hash(&[ev(0, 1, 1), ev(1, 2, 3)]));
        assert_eq!(a.len(), 16);
    }
}
