//! The event queue: a total order on (time, insertion sequence). Ties at the same instant
//! run in the order they were scheduled, which is what makes a run reproducible.
//!
//! Events scheduled for the current instant (zero-delay messages, the common case between
//! co-located components) skip the heap and go through a FIFO: they are already in order,
//! since they all share the current time and get increasing sequence numbers. Popping
//! merges the two by (time, seq), so the order is exactly the one a single heap would give.
//!
//! Events at one of a few fixed delays (a class's timeout: every call sets one, and most
//! are stale when they fire) go into a FIFO lane per delay instead of the heap: pushed at
//! a clock that never goes back, with one delay and increasing sequence numbers, a lane is
//! sorted by construction. Without lanes the heap held a call rate times 30 s of waiting
//! timeouts (millions at 80,000 requests a second), and every pop sank through all of it.

use crate::kernel::quad_heap::QuadHeap;
use crate::kernel::time::SimTime;
use std::collections::VecDeque;

/// One scheduled entry: its position in the total order and its payload.
#[derive(Clone, Copy, Debug)]
pub struct Scheduled<E> {
    pub time: SimTime,
    pub seq: u64,
    pub event: E,
}

/// The packed order key: `time << 64 | seq`, one u128 comparison instead of a tuple's two.
#[inline]
fn key(time: SimTime, seq: u64) -> u128 {
    u128::from(time.0) << 64 | u128::from(seq)
}

/// Lanes kept at most: a class's timeout is one of a handful of values in a scenario;
/// an event at a delay with no lane left goes to the heap.
const MAX_LANES: usize = 8;

/// Events at one fixed delay, in (time, seq) order.
#[derive(Clone)]
struct Lane<E> {
    delay: u64,
    fifo: VecDeque<(u128, E)>,
}

/// A priority queue of events ordered by (time, seq).
#[derive(Clone)]
pub struct EventQueue<E> {
    heap: QuadHeap<E>,
    lanes: Vec<Lane<E>>,
    /// The lane with the smallest head key, if any lane holds an event.
    first_lane: Option<usize>,
    /// Some timeout went to the heap (no lane for its delay, or a deadline's): only then
    /// may the heap's top be one that will do nothing.
    timeouts_in_heap: bool,
    /// Events due at `now`, in order from `fifo_head` on (reset when drained).
    now_fifo: Vec<Scheduled<E>>,
    fifo_head: usize,
    now: SimTime,
    next_seq: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: QuadHeap::default(),
            lanes: Vec::new(),
            first_lane: None,
            timeouts_in_heap: false,
            now_fifo: Vec::new(),
            fifo_head: 0,
            now: SimTime::ZERO,
            next_seq: 0,
        }
    }

    /// The time of the last popped event.
    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.now_fifo.len() - self.fifo_head + self.in_lanes()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Schedules `event` at `time`, which must not be in the past.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        assert!(time >= self.now, "event scheduled in the past: {time} < {}", self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        if time == self.now {
            self.now_fifo.push(Scheduled { time, seq, event });
        } else {
            self.heap.push(key(time, seq), event);
        }
    }

    /// Schedules `event` at `time`, one of a few fixed delays after now (a class's
    /// timeout): it waits in that delay's lane, not in the heap. The order is the same as
    /// `push`'s; only the cost differs.
    #[inline]
    pub fn push_fixed_delay(&mut self, time: SimTime, event: E) {
        assert!(time >= self.now, "event scheduled in the past: {time} < {}", self.now);
        let delay = time.0 - self.now.0;
        let lane = match self.lanes.iter().position(|l| l.delay == delay) {
            Some(i) => i,
            None if delay > 0 && self.lanes.len() < MAX_LANES => {
                self.lanes.push(Lane { delay, fifo: VecDeque::new() });
                self.lanes.len() - 1
            }
            None => return self.push_timeout_at(time, event),
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let k = key(time, seq);
        let fifo = &mut self.lanes[lane].fifo;
        debug_assert!(fifo.back().is_none_or(|&(last, _)| last < k), "the clock never goes back");
        fifo.push_back((k, event));
        if fifo.len() == 1 && self.first_lane.is_none_or(|f| self.lanes[f].fifo[0].0 > k) {
            self.first_lane = Some(lane);
        }
    }

    /// Schedules a timeout at a time of its own (a deadline), in the heap.
    pub fn push_timeout_at(&mut self, time: SimTime, event: E) {
        self.timeouts_in_heap = true;
        self.push(time, event);
    }

    /// The event that the lanes and the heap each hold first (either may come after
    /// the current instant's FIFO), so the engine can drop one that will do nothing; the
    /// heap's only if a timeout ever went there.
    #[inline]
    pub fn lane_and_heap_heads(&self) -> (Option<E>, Option<E>) {
        let heap = if self.timeouts_in_heap { self.heap.peek().map(|(_, e)| e) } else { None };
        (self.first_lane.map(|f| self.lanes[f].fifo[0].1), heap)
    }

    /// Removes the first lane's head without moving the clock: it turned out to do
    /// nothing (a timeout of a call that has ended), so time must not jump to it.
    pub fn drop_lane_head(&mut self) {
        self.pop_lane();
    }

    /// Removes the heap's top without moving the clock (as `drop_lane_head`).
    pub fn drop_heap_top(&mut self) {
        self.heap.pop();
    }

    /// Events waiting in the lanes.
    pub fn in_lanes(&self) -> usize {
        self.lanes.iter().map(|l| l.fifo.len()).sum()
    }

    /// Drops the lanes' events that `keep` refuses (timeouts of calls that have ended),
    /// keeping the rest in order: the lanes then hold about what is still pending, not a
    /// call rate times the timeout.
    #[cold]
    pub fn retain_in_lanes(&mut self, mut keep: impl FnMut(&E) -> bool) {
        for lane in &mut self.lanes {
            lane.fifo.retain(|(_, e)| keep(e));
            if lane.fifo.capacity() > 4 * lane.fifo.len().max(1024) {
                lane.fifo.shrink_to(2 * lane.fifo.len());
            }
        }
        self.first_lane = self.first_of_lanes();
    }

    /// The lane whose head has the smallest key, if any lane holds an event.
    fn first_of_lanes(&self) -> Option<usize> {
        (0..self.lanes.len()).filter_map(|i| self.lanes[i].fifo.front().map(|&(k, _)| (k, i))).min().map(|(_, i)| i)
    }

    /// The smallest key among the lanes' heads.
    #[inline]
    fn lane_key(&self) -> Option<u128> {
        self.first_lane.map(|f| self.lanes[f].fifo[0].0)
    }

    /// The smallest key outside the current instant's FIFO: the heap's top or a lane's head.
    #[inline]
    fn later_key(&self) -> Option<u128> {
        match (self.heap.peek_key(), self.lane_key()) {
            (Some(h), Some(l)) => Some(h.min(l)),
            (h, l) => h.or(l),
        }
    }

    /// Removes the first lane's head and finds the next first lane.
    fn pop_lane(&mut self) -> (u128, E) {
        let f = self.first_lane.expect("a lane holds an event");
        let head = self.lanes[f].fifo.pop_front().expect("the first lane is not empty");
        self.first_lane = self.first_of_lanes();
        head
    }

    /// Sequence numbers below this are kept for events scheduled before the run starts
    /// (`push_reserved`); events scheduled during the run get numbers from here up.
    pub const RUN_SEQ_START: u64 = 1 << 40;

    /// Starts numbering run-time events at `RUN_SEQ_START`. Called once, when every
    /// start-of-run event is in.
    pub fn start_run_numbering(&mut self) {
        assert!(self.next_seq < Self::RUN_SEQ_START, "too many start-of-run events, or numbering started twice");
        self.next_seq = Self::RUN_SEQ_START;
    }

    /// Schedules `event` with a chosen start-of-run sequence number, so that it orders
    /// among events exactly as if it had been scheduled before the run began: a fault
    /// added while the run is paused then replays identically from a scenario file.
    pub fn push_reserved(&mut self, time: SimTime, seq: u64, event: E) {
        assert!(time > self.now, "a reserved event must lie in the future: {time} <= {}", self.now);
        assert!(seq < Self::RUN_SEQ_START, "reserved sequence numbers are below RUN_SEQ_START");
        self.heap.push(key(time, seq), event);
    }

    /// The time of the next event, without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        let heap = self.later_key().map(|k| SimTime((k >> 64) as u64));
        match (self.now_fifo.get(self.fifo_head), heap) {
            (Some(f), Some(h)) => Some(f.time.min(h)),
            (Some(f), None) => Some(f.time),
            (None, h) => h,
        }
    }

    /// The events due at `now` not yet popped, in order (for a stalled run's message).
    pub fn due_now(&self) -> &[Scheduled<E>] {
        &self.now_fifo[self.fifo_head..]
    }

    /// Removes and returns the earliest event if it is due at or before `limit` (which
    /// must not be before `now`).
    #[inline]
    pub fn pop_until(&mut self, limit: SimTime) -> Option<Scheduled<E>> {
        debug_assert!(limit >= self.now);
        if let Some(f) = self.now_fifo.get(self.fifo_head) {
            // FIFO entries are due now; the heap goes first only with an earlier (time, seq).
            if self.later_key().is_none_or(|k| k > key(f.time, f.seq)) {
                let entry = *f;
                self.fifo_head += 1;
                if self.fifo_head == self.now_fifo.len() {
                    self.now_fifo.clear();
                    self.fifo_head = 0;
                }
                return Some(entry);
            }
        }
        let (k, event) = match (self.heap.peek_key(), self.lane_key()) {
            (Some(h), Some(l)) if l < h => self.lane_pop_until(l, limit)?,
            (None, Some(l)) => self.lane_pop_until(l, limit)?,
            (Some(h), _) if (h >> 64) as u64 <= limit.0 => self.heap.pop().expect("peeked"),
            _ => return None,
        };
        let entry = Scheduled { time: SimTime((k >> 64) as u64), seq: k as u64, event };
        self.now = entry.time;
        Some(entry)
    }

    #[inline]
    fn lane_pop_until(&mut self, head: u128, limit: SimTime) -> Option<(u128, E)> {
        ((head >> 64) as u64 <= limit.0).then(|| self.pop_lane())
    }

    /// Takes every queued event, in order, leaving the clock where it was: a model's test
    /// harness reads what the model asked for and then moves time itself.
    pub fn drain(&mut self) -> Vec<Scheduled<E>> {
        let now = self.now;
        let all = std::iter::from_fn(|| self.pop()).collect();
        self.now = now;
        all
    }

    /// Removes and returns the earliest event by (time, seq).
    #[inline]
    pub fn pop(&mut self) -> Option<Scheduled<E>> {
        self.pop_until(SimTime::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn ties_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), 'a');
        q.push(SimTime(5), 'b');
        q.push(SimTime(1), 'c');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|e| e.event)).collect();
        assert_eq!(order, ['c', 'a', 'b']);
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn scheduling_in_the_past_is_a_programmer_error() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), ());
        q.pop();
        q.push(SimTime(9), ());
    }

    proptest! {
        /// Differential test: interleaved pushes (including zero-delay ones that take the
        /// FIFO path, and fixed delays, more of them than there are lanes) and pops give
        /// exactly the order of a BTreeMap keyed by (time, seq).
        #[test]
        fn pops_match_a_btreemap_shadow(ops in prop::collection::vec((0u8..6, 0u64..12), 1..400)) {
            let mut q = EventQueue::new();
            let mut shadow = BTreeMap::new();
            let mut seq = 0u64;
            for (op, delay) in ops {
                if op == 0 {
                    let got = q.pop().map(|e| (e.time, e.seq, e.event));
                    let want = shadow.pop_first().map(|((t, s), v)| (t, s, v));
                    prop_assert_eq!(got, want);
                } else if op >= 4 {
                    let t = SimTime(q.now().0 + delay);
                    q.push_fixed_delay(t, seq);
                    shadow.insert((t, seq), seq);
                    seq += 1;
                } else {
                    let t = SimTime(q.now().0 + delay % 5);
                    q.push(t, seq);
                    shadow.insert((t, seq), seq);
                    seq += 1;
                }
            }
            // A limit stops the queue exactly at the first later event.
            let limit = SimTime(q.now().0 + 2);
            while shadow.first_key_value().is_some_and(|((t, _), _)| *t <= limit) {
                let ((t, s), v) = shadow.pop_first().unwrap();
                let e = q.pop_until(limit).unwrap();
                prop_assert_eq!((e.time, e.seq, e.event), (t, s, v));
            }
            prop_assert!(q.pop_until(limit).is_none());
            while let Some((k, v)) = shadow.pop_first() {
                let e = q.pop().unwrap();
                prop_assert_eq!((e.time, e.seq, e.event), (k.0, k.1, v));
            }
            prop_assert!(q.pop().is_none());
        }
    }
}
