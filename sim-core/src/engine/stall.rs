//! Stall detection: a run that processes many events while simulated time does not move
//! (a closed loop with zero think and service time, a zero-latency ping-pong) would spin
//! forever at one instant, growing memory. The engine stops it and names who was busy.

use crate::kernel::ids::ComponentId;
use crate::kernel::time::SimTime;

/// A window of simulated time this short counts as one instant.
pub const INSTANT_NS: u64 = 1_000;
/// Events within one instant before the run is stopped, at least. A legitimate run at the
/// largest rate scenarios accept (1e8 arrivals a second, a few events each) has a few
/// thousand; users with a constant think time may all act at once, so the limit is also
/// 100 events for each closed-loop user and component (`StallWatch::new`).
pub const STALL_EVENTS: u64 = 10_000_000;
/// The engine looks at the clock once every this many events (on the path it already
/// takes for the event limit), so watching costs the event loop nothing.
pub const CHECK_EVERY: u64 = 1 << 16;

/// Where the clock stood at the last look that found it moved.
#[derive(Clone, Debug)]
pub(crate) struct StallWatch {
    since: SimTime,
    since_events: u64,
    limit: u64,
}

impl Default for StallWatch {
    fn default() -> Self {
        StallWatch { since: SimTime::ZERO, since_events: 0, limit: STALL_EVENTS }
    }
}

/// Why a run stopped at one instant: when, after how many events, and who was busy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    pub at: SimTime,
    pub events: u64,
    /// Components with events due at that instant, most first, with their counts.
    pub busiest: Vec<(ComponentId, u64)>,
}

impl StallWatch {
    /// A watch for a model whose `crowd` (closed-loop users and components) may all act
    /// at one instant, as users with a constant think time do: the limit grows with it.
    pub(crate) fn new(crowd: u64) -> StallWatch {
        StallWatch { limit: STALL_EVENTS.max(crowd.saturating_mul(100)), ..StallWatch::default() }
    }

    /// A look at the clock after `events` events at `now`: whether too many have passed
    /// without it moving by an instant.
    pub(crate) fn stalled(&mut self, now: SimTime, events: u64) -> bool {
        if now.0 - self.since.0 >= INSTANT_NS {
            self.since = now;
            self.since_events = events;
            return false;
        }
        events - self.since_events >= self.limit
    }

    /// The stall, with the components of the events still due (`due`: their targets).
    pub(crate) fn stall(&self, events: u64, due: impl Iterator<Item = ComponentId>) -> Stall {
        let mut counts = std::collections::BTreeMap::new();
        due.for_each(|c| *counts.entry(c).or_insert(0u64) += 1);
        let mut busiest: Vec<(ComponentId, u64)> = counts.into_iter().collect();
        busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        busiest.truncate(5);
        Stall { at: self.since, events: events - self.since_events, busiest }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_at_one_instant_stall_and_moving_time_resets() {
        let mut w = StallWatch::default();
        let mut events = 0;
        while events < STALL_EVENTS - CHECK_EVERY {
            events += CHECK_EVERY;
            assert!(!w.stalled(SimTime(500), events), "{events} events");
        }
        events += CHECK_EVERY;
        assert!(w.stalled(SimTime(999), events), "ten million events within a microsecond stall");
        let s = w.stall(events, [ComponentId(0), ComponentId(1), ComponentId(1)].into_iter());
        assert_eq!((s.at, s.events), (SimTime(0), events));
        assert_eq!(s.busiest, vec![(ComponentId(1), 2), (ComponentId(0), 1)]);
        // A crowd of ten million users may act at one instant.
        let mut w = StallWatch::new(10_000_000);
        assert!(!w.stalled(SimTime(0), 0));
        assert!(!w.stalled(SimTime(5), 500_000_000));
        assert!(w.stalled(SimTime(5), 1_000_000_000));
        // Time moving by a microsecond a look never stalls, however many events.
        let mut w = StallWatch::default();
        for i in 1..1_000 {
            assert!(!w.stalled(SimTime(i * INSTANT_NS), i * STALL_EVENTS));
        }
    }
}
