//! The event queue: a total order on (time, insertion sequence). Ties at the same instant
//! run in the order they were scheduled, which is what makes a run reproducible.
//!
//! Events scheduled for the current instant (zero-delay messages, the common case between
//! co-located components) skip the heap and go through a FIFO: they are already in order,
//! since they all share the current time and get increasing sequence numbers. Popping
//! merges the two by (time, seq), so the order is exactly the one a single heap would give.

use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// One scheduled entry: its position in the total order and its payload.
#[derive(Clone, Copy, Debug)]
pub struct Scheduled<E> {
    pub time: SimTime,
    pub seq: u64,
    pub event: E,
}

struct HeapEntry<E>(Scheduled<E>);

impl<E> PartialEq for HeapEntry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0.seq == other.0.seq
    }
}
impl<E> Eq for HeapEntry<E> {}
impl<E> PartialOrd for HeapEntry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for HeapEntry<E> {
    /// Reversed, so that std's max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.0.time, other.0.seq).cmp(&(self.0.time, self.0.seq))
    }
}

/// A priority queue of events ordered by (time, seq).
pub struct EventQueue<E> {
    heap: BinaryHeap<HeapEntry<E>>,
    now_fifo: VecDeque<Scheduled<E>>,
    now: SimTime,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { heap: BinaryHeap::new(), now_fifo: VecDeque::new(), now: SimTime::ZERO, next_seq: 0 }
    }

    /// The time of the last popped event.
    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.now_fifo.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.now_fifo.is_empty()
    }

    /// Schedules `event` at `time`, which must not be in the past.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        assert!(time >= self.now, "event scheduled in the past: {time} < {}", self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Scheduled { time, seq, event };
        if time == self.now {
            self.now_fifo.push_back(entry);
        } else {
            self.heap.push(HeapEntry(entry));
        }
    }

    /// The (time, seq) of the next event, without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        match (self.now_fifo.front(), self.heap.peek()) {
            (Some(f), Some(h)) => Some(f.time.min(h.0.time)),
            (Some(f), None) => Some(f.time),
            (None, Some(h)) => Some(h.0.time),
            (None, None) => None,
        }
    }

    /// Removes and returns the earliest event if it is due at or before `limit`.
    #[inline]
    pub fn pop_until(&mut self, limit: SimTime) -> Option<Scheduled<E>> {
        let take_fifo = match (self.now_fifo.front(), self.heap.peek()) {
            (Some(f), Some(h)) => (f.time, f.seq) < (h.0.time, h.0.seq),
            (Some(_), None) => true,
            (None, Some(h)) if h.0.time <= limit => false,
            (None, _) => return None,
        };
        let entry = if take_fifo {
            // FIFO entries are at `now`, never past a limit that `now` has not passed.
            self.now_fifo.pop_front()
        } else {
            if self.heap.peek().is_some_and(|h| h.0.time > limit) {
                return None;
            }
            self.heap.pop().map(|e| e.0)
        }?;
        if entry.time > limit {
            // Only reachable if the caller lowered the limit below `now`: put it back.
            self.now_fifo.push_front(entry);
            return None;
        }
        self.now = entry.time;
        Some(entry)
    }

    /// Removes and returns the earliest event by (time, seq).
    #[inline]
    pub fn pop(&mut self) -> Option<Scheduled<E>> {
        let take_fifo = match (self.now_fifo.front(), self.heap.peek()) {
            (Some(f), Some(h)) => (f.time, f.seq) < (h.0.time, h.0.seq),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let entry = if take_fifo { self.now_fifo.pop_front() } else { self.heap.pop().map(|e| e.0) }?;
        debug_assert!(entry.time >= self.now);
        self.now = entry.time;
        Some(entry)
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
        /// FIFO path) and pops give exactly the order of a BTreeMap keyed by (time, seq).
        #[test]
        fn pops_match_a_btreemap_shadow(ops in prop::collection::vec((0u8..4, 0u64..5), 1..400)) {
            let mut q = EventQueue::new();
            let mut shadow = BTreeMap::new();
            let mut seq = 0u64;
            for (op, delay) in ops {
                if op == 0 {
                    let got = q.pop().map(|e| (e.time, e.seq, e.event));
                    let want = shadow.pop_first().map(|((t, s), v)| (t, s, v));
                    prop_assert_eq!(got, want);
                } else {
                    let t = SimTime(q.now().0 + delay);
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
