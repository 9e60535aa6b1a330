//! What hedging callers keep: which hops are hedged, each calling instance's measured
//! latency of each hedged hop (a fixed-bucket histogram, for `after = "p95"`), the copies
//! of one call linked in a ring (the first answer abandons the rest), and the counts the
//! report shows. Empty, and never consulted, unless some hop is hedged.

use crate::kernel::ids::{ComponentId, RequestId};
use crate::kernel::time::SimDuration;
use crate::model::Model;
use crate::model::hedge::HedgeAfter;

/// Answers a caller measures before it trusts its percentile (no copy goes out before).
pub const SAMPLES_MIN: u32 = 100;
/// How often (in answers) a caller recomputes its percentile.
const RECOMPUTE_EVERY: u32 = 32;
/// Sub-buckets per power of two: the percentile is known within 1/8 of itself.
const SUB: u32 = 8;
const BUCKETS: usize = 64 * SUB as usize;
/// `hop_of` for a flow node that is not hedged.
pub const NOT_HEDGED: u16 = u16::MAX;

/// One caller's latencies of one hop, in buckets of 1/8 of a power of two of ns.
#[derive(Clone)]
pub struct LatencyHistogram {
    counts: Box<[u32; BUCKETS]>,
    total: u32,
    /// The percentile last computed, once `SAMPLES_MIN` answers are in.
    cached: Option<SimDuration>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram { counts: Box::new([0; BUCKETS]), total: 0, cached: None }
    }
}

fn bucket(ns: u64) -> usize {
    let ns = ns.max(1);
    let top = 63 - ns.leading_zeros();
    let sub = if top >= 3 { (ns >> (top - 3)) as u32 & (SUB - 1) } else { (ns << (3 - top)) as u32 & (SUB - 1) };
    (top * SUB + sub) as usize
}

/// The largest ns in bucket `b`.
fn bucket_top(b: usize) -> u64 {
    let (top, sub) = (b as u32 / SUB, u64::from(b as u32 % SUB));
    if top >= 3 { ((SUB as u64 + sub + 1) << (top - 3)) - 1 } else { (SUB as u64 + sub + 1) >> (3 - top) }
}

impl LatencyHistogram {
    /// Records one answer's latency; every `RECOMPUTE_EVERY` answers past `SAMPLES_MIN`,
    /// recomputes percentile `p` (in percent).
    pub fn record(&mut self, latency: SimDuration, p: u8) {
        self.counts[bucket(latency.as_nanos())] += 1;
        self.total = self.total.saturating_add(1);
        if self.total >= SAMPLES_MIN && (self.total - SAMPLES_MIN).is_multiple_of(RECOMPUTE_EVERY) {
            self.cached = Some(self.percentile(p));
        }
    }

    /// Percentile `p` (in percent) of what was recorded: the top of the bucket where the
    /// count reaches p% (an overestimate by less than 1/8).
    pub fn percentile(&self, p: u8) -> SimDuration {
        let want = (u64::from(self.total) * u64::from(p)).div_ceil(100).max(1);
        let mut seen = 0u64;
        for (b, n) in self.counts.iter().enumerate() {
            seen += u64::from(*n);
            if seen >= want {
                return SimDuration::from_nanos(bucket_top(b));
            }
        }
        SimDuration::from_nanos(bucket_top(BUCKETS - 1))
    }

    /// The wait before a copy: `None` until enough answers are in.
    pub fn after(&self) -> Option<SimDuration> {
        self.cached
    }
}

/// A hedged hop of one class, with what its callers did.
#[derive(Clone, Debug)]
pub struct HedgedHop {
    pub after: HedgeAfter,
    pub max: u8,
    /// Original calls made (not copies), copies sent, and copies whose answer won.
    pub calls: u64,
    pub sent: u64,
    pub won: u64,
}

/// A call's place among its copies: the next in the ring, its rank (0: the original).
#[derive(Clone, Copy)]
struct Link {
    generation: u32,
    next: RequestId,
    rank: u8,
}

#[derive(Clone, Default)]
pub struct Hedges {
    pub on: bool,
    /// Per class, per flow node: its index in `hops`, or `NOT_HEDGED`.
    hop_of: Vec<Vec<u16>>,
    pub hops: Vec<HedgedHop>,
    /// Per (caller, hop): the hop's latency as that caller measured it.
    latency: Vec<LatencyHistogram>,
    /// By request slot: the ring of a hedged call's copies.
    links: Vec<Option<Link>>,
}

impl Hedges {
    pub fn new(model: &Model) -> Hedges {
        if !model.uses_hedges() {
            return Hedges::default();
        }
        let mut hops = Vec::new();
        let hop_of = model
            .classes
            .iter()
            .map(|c| {
                let mut of = vec![NOT_HEDGED; c.flow.len()];
                for h in &c.hedges {
                    let at = hops.len() as u16;
                    hops.push(HedgedHop { after: h.after, max: h.max, calls: 0, sent: 0, won: 0 });
                    for (n, node) in c.flow.iter().enumerate() {
                        if node.service == h.service {
                            of[n] = at;
                        }
                    }
                }
                of
            })
            .collect();
        let latency = vec![LatencyHistogram::default(); model.components.len() * hops.len()];
        Hedges { on: true, hop_of, hops, latency, links: Vec::new() }
    }

    /// The hedged hop a call of `class` to flow node `node` belongs to.
    #[inline]
    pub fn hop(&self, class: usize, node: u16) -> Option<usize> {
        let h = *self.hop_of.get(class)?.get(usize::from(node))?;
        (h != NOT_HEDGED).then_some(usize::from(h))
    }

    /// The wait before `caller` sends a copy on `hop`, if it may send one yet.
    pub fn after(&self, hop: usize, caller: ComponentId) -> Option<SimDuration> {
        match self.hops[hop].after {
            HedgeAfter::Fixed(d) => Some(d),
            HedgeAfter::Percentile(_) => self.latency[caller.index() * self.hops.len() + hop].after(),
        }
    }

    /// `caller` heard the answer to a call on `hop` after `latency`.
    pub fn record(&mut self, hop: usize, caller: ComponentId, latency: SimDuration) {
        if let HedgeAfter::Percentile(p) = self.hops[hop].after {
            self.latency[caller.index() * self.hops.len() + hop].record(latency, p);
        }
    }

    /// `id`'s rank among its copies, 0 if it has none.
    pub fn rank(&self, id: RequestId) -> u8 {
        self.link(id).map_or(0, |l| l.rank)
    }

    fn link(&self, id: RequestId) -> Option<Link> {
        self.links.get(id.slot as usize).copied().flatten().filter(|l| l.generation == id.generation)
    }

    fn set(&mut self, id: RequestId, next: RequestId, rank: u8) {
        let slot = id.slot as usize;
        if slot >= self.links.len() {
            self.links.resize(slot + 1, None);
        }
        self.links[slot] = Some(Link { generation: id.generation, next, rank });
    }

    /// Links `copy` into the ring of `of`, the newest copy so far, with the next rank.
    pub fn pair(&mut self, of: RequestId, copy: RequestId) {
        let (next, rank) = match self.link(of) {
            Some(l) => (l.next, l.rank),
            None => (of, 0),
        };
        self.set(of, copy, rank);
        self.set(copy, next, rank + 1);
    }

    /// `id` answered (or timed out) first: unlinks its ring and returns the other copies
    /// (at most 3), which its caller abandons, and whether `id` was a copy.
    pub fn take(&mut self, id: RequestId) -> ([Option<RequestId>; 3], bool) {
        let mut others = [None; 3];
        let Some(first) = self.link(id) else { return (others, false) };
        self.links[id.slot as usize] = None;
        let mut at = first.next;
        for o in &mut others {
            let Some(l) = self.link(at) else { break };
            self.links[at.slot as usize] = None;
            *o = Some(at);
            at = l.next;
        }
        (others, first.rank > 0)
    }
}
