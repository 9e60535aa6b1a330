//! Where a request's time goes. Every call books the time it spends into phases of its
//! flow node (on the wire, waiting in a queue, in service); time a call spends waiting on
//! its own calls is not booked, because those calls book it themselves. So a successful
//! root's bookings add up to its latency exactly, following the critical path: the calls
//! of a parallel node each book into a ledger of their own, and only the one answering
//! last, whose span is the parent's whole wait, is merged into the parent's.
//!
//! A ledger belongs to a root or to a parallel call (its owner) and lives in the owner's
//! request slot, tagged with the owner's generation, so a stale call booking into a
//! finished owner's ledger is ignored. Committed ledgers are summed per class for the mean
//! split, and per class and latency bucket for the tail split (the requests slower than
//! the class's p99).

use crate::kernel::ids::{ClassId, RequestId};
use crate::kernel::time::SimDuration;

/// Phases a call's time is booked in (index into a node's three counters).
pub const NETWORK: u8 = 0;
pub const QUEUE: u8 = 1;
pub const SERVICE: u8 = 2;
/// Waiting on its own calls: booked by them, not by the waiting call.
pub const CALLS: u8 = 3;
pub const PHASES: usize = 3;

/// A ledger id that is nobody's: calls made on a component's own account (a cache's
/// write-back, a queue's job) belong to no request, so they book nothing.
pub const NO_LEDGER: RequestId = RequestId { slot: u32::MAX, generation: 0 };

/// Sub-buckets per octave of the tail histogram (a power of two, `1 << SHIFT`): each
/// bucket spans 1/16 of an octave (4.4%).
const SHIFT: u32 = 4;
const SUB: u32 = 1 << SHIFT;
const BUCKETS: usize = 64 * SUB as usize;

/// The tail bucket of a latency in ns: octave and sixteenth of it, exact below 16 ns.
fn bucket(ns: u64) -> usize {
    if ns < u64::from(SUB) {
        return ns as usize;
    }
    let octave = 63 - ns.leading_zeros();
    let sub = (ns >> (octave - SHIFT)) & u64::from(SUB - 1);
    ((octave - SHIFT + 1) * SUB) as usize + sub as usize
}

/// The smallest latency (ns) of bucket `b`.
fn bucket_floor(b: usize) -> u64 {
    if b < SUB as usize {
        return b as u64;
    }
    let octave = (b / SUB as usize) as u32 + SHIFT - 1;
    let sub = (b % SUB as usize) as u64;
    (u64::from(SUB) + sub) << (octave - SHIFT)
}

#[derive(Clone, Default)]
struct Ledger {
    generation: u32,
    ns: Vec<u64>,
}

/// Committed bookings of one class.
#[derive(Clone, Default)]
struct ClassSums {
    /// Per node × phase: ns summed over committed requests.
    total: Vec<u128>,
    /// Per tail bucket: how many requests, and their bookings (allocated when first used).
    tail_count: Vec<u64>,
    tail: Vec<Option<Box<[u128]>>>,
}

#[derive(Clone)]
pub struct Attribution {
    /// Per class: counters of one ledger (flow nodes × phases).
    widths: Vec<usize>,
    /// Per request slot: the ledger of the owner that last lived there.
    ledgers: Vec<Ledger>,
    sums: Vec<ClassSums>,
}

/// What a class's committed requests booked, per flow node, in ns (means or tail sums).
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Requests the split covers.
    pub count: u64,
    /// Their smallest possible latency (the floor of the first bucket counted), in ns.
    pub from_ns: u64,
    /// Per flow node: [network, queue, service] mean ns over `count` requests.
    pub nodes: Vec<[f64; PHASES]>,
}

impl Attribution {
    pub fn new(nodes_per_class: impl Iterator<Item = usize>) -> Attribution {
        let widths: Vec<usize> = nodes_per_class.map(|n| n * PHASES).collect();
        let sums = widths
            .iter()
            .map(|&w| ClassSums { total: vec![0; w], tail_count: vec![0; BUCKETS], tail: vec![None; BUCKETS] })
            .collect();
        Attribution { widths, ledgers: Vec::new(), sums }
    }

    /// Opens a fresh ledger owned by `owner`, a call of `class`.
    #[inline]
    pub fn open(&mut self, owner: RequestId, class: ClassId) {
        let width = self.widths[class.index()];
        match self.ledgers.get_mut(owner.slot as usize) {
            Some(l) if l.ns.len() == width => {
                l.generation = owner.generation;
                l.ns.fill(0);
            }
            _ => self.open_resized(owner, width),
        }
    }

    /// `open` for a slot seen for the first time, or last owned by another class.
    #[cold]
    fn open_resized(&mut self, owner: RequestId, width: usize) {
        let slot = owner.slot as usize;
        if slot >= self.ledgers.len() {
            self.ledgers.resize_with(slot + 1, Ledger::default);
        }
        let l = &mut self.ledgers[slot];
        l.generation = owner.generation;
        l.ns.clear();
        l.ns.resize(width, 0);
    }

    /// Books `dt` of `phase` at flow node `node` into `owner`'s ledger, if it is still open.
    #[inline(always)]
    pub fn book(&mut self, owner: RequestId, node: u16, phase: u8, dt: SimDuration) {
        if dt.0 == 0 || phase >= CALLS {
            return;
        }
        if let Some(l) = self.ledgers.get_mut(owner.slot as usize)
            && l.generation == owner.generation
            && let Some(c) = l.ns.get_mut(usize::from(node) * PHASES + usize::from(phase))
        {
            *c += dt.0;
        }
    }

    /// Adds the ledger of `from` (a parallel call that answered last) to `into`'s.
    pub fn merge(&mut self, from: RequestId, into: RequestId) {
        let (f, t) = (from.slot as usize, into.slot as usize);
        if f == t || f >= self.ledgers.len() || t >= self.ledgers.len() {
            return;
        }
        if self.ledgers[f].generation != from.generation || self.ledgers[t].generation != into.generation {
            return;
        }
        let source = std::mem::take(&mut self.ledgers[f].ns);
        for (a, b) in self.ledgers[t].ns.iter_mut().zip(&source) {
            *a += b;
        }
        self.ledgers[f].ns = source;
    }

    /// A successful root of `class` finished inside the window after `latency`: its
    /// ledger joins the class's sums.
    pub fn commit(&mut self, owner: RequestId, class: ClassId, latency: SimDuration) {
        let Some(l) = self.ledgers.get(owner.slot as usize) else { return };
        if l.generation != owner.generation {
            return;
        }
        let s = &mut self.sums[class.index()];
        let b = bucket(latency.0);
        s.tail_count[b] += 1;
        let tail = s.tail[b].get_or_insert_with(|| vec![0u128; l.ns.len()].into_boxed_slice());
        for ((t, a), v) in s.total.iter_mut().zip(tail.iter_mut()).zip(&l.ns) {
            *t += u128::from(*v);
            *a += u128::from(*v);
        }
    }

    /// The mean split over every committed request of `class` (`count` of them).
    pub fn mean(&self, class: ClassId, count: u64) -> Split {
        let s = &self.sums[class.index()];
        Split { count, from_ns: 0, nodes: per_node(&s.total, count) }
    }

    /// The split over the requests of `class` at or above the bucket holding `p_ns` (its p99).
    pub fn tail(&self, class: ClassId, p_ns: u64) -> Split {
        let s = &self.sums[class.index()];
        let from = bucket(p_ns);
        let mut sum = vec![0u128; s.total.len()];
        let mut count = 0;
        for b in from..BUCKETS {
            count += s.tail_count[b];
            if let Some(t) = &s.tail[b] {
                sum.iter_mut().zip(t.iter()).for_each(|(a, v)| *a += v);
            }
        }
        Split { count, from_ns: bucket_floor(from), nodes: per_node(&sum, count) }
    }
}

fn per_node(sum: &[u128], count: u64) -> Vec<[f64; PHASES]> {
    let n = count.max(1) as f64;
    sum.chunks(PHASES).map(|c| [c[0] as f64 / n, c[1] as f64 / n, c[2] as f64 / n]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotone_and_their_floors_belong_to_them() {
        let mut last = 0;
        for ns in [0u64, 1, 7, 8, 9, 15, 16, 100, 1_000, 123_456, 10_000_000_000, u64::MAX] {
            let b = bucket(ns);
            assert!(b >= last, "{ns}");
            assert!(b < BUCKETS);
            assert!(bucket_floor(b) <= ns && bucket(bucket_floor(b)) == b, "{ns}: floor {}", bucket_floor(b));
            last = b;
        }
        // A sixteenth of an octave: 1 ms and 1.03 ms fall in neighbouring buckets.
        assert_eq!(bucket(1_030_000), bucket(1_000_000) + 1);
    }

    #[test]
    fn a_parallel_call_counts_only_when_merged_and_stale_owners_book_nothing() {
        let class = ClassId(0);
        let mut a = Attribution::new([2usize].into_iter());
        let root = RequestId { slot: 0, generation: 3 };
        let fast = RequestId { slot: 1, generation: 0 };
        let slow = RequestId { slot: 2, generation: 0 };
        a.open(root, class);
        a.open(fast, class);
        a.open(slow, class);
        a.book(root, 0, NETWORK, SimDuration(10));
        a.book(fast, 1, SERVICE, SimDuration(5));
        a.book(slow, 1, SERVICE, SimDuration(40));
        a.book(RequestId { slot: 0, generation: 2 }, 0, SERVICE, SimDuration(1_000));
        a.book(root, 0, CALLS, SimDuration(1_000));
        a.merge(slow, root);
        a.commit(root, class, SimDuration(50));
        let m = a.mean(class, 1);
        assert_eq!(m.nodes, vec![[10.0, 0.0, 0.0], [0.0, 0.0, 40.0]]);
        let t = a.tail(class, 50);
        assert_eq!((t.count, t.nodes[1][2]), (1, 40.0));
        assert_eq!(a.tail(class, 1_000).count, 0);
    }
}
