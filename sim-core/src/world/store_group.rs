//! A replicated store's shared state: every replica's data and the replication datagrams
//! in flight. Shared, because a datagram names data its receiver reads; the store
//! component (`component::store`) is the only writer.

use crate::kernel::ids::ComponentId;
use crate::kernel::keymap::KeyMap;
use crate::kernel::time::SimTime;
use crate::model::store::{Data, StoreSpec};

/// A replication datagram's content, kept in the group until it arrives.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Payload {
    /// Apply a register value, or a counter's count for `origin`; ack to `pending` if set.
    Update {
        key: u64,
        stamp: (u64, u64),
        origin: u32,
        pending: u32,
    },
    Ack {
        pending: u32,
    },
    Query {
        key: u64,
        pending: u32,
    },
    Reply {
        pending: u32,
        stamp: (u64, u64),
        counts: u64,
    },
    /// Merge the keys `from` changed in `lo..hi` of its change log.
    Sync {
        from: u32,
        lo: u32,
        hi: u32,
    },
    SyncAck {
        hi: u32,
    },
}

pub(crate) const NO_PENDING: u32 = u32::MAX;

/// The replicas' data and the replication messages in flight: shared, because a message
/// names data the receiver reads.
#[derive(Clone)]
pub struct StoreGroup {
    pub(crate) spec: StoreSpec,
    pub instances: Vec<ComponentId>,
    /// Register: per replica, key -> (timestamp, write id).
    pub(crate) regs: Vec<KeyMap<(u64, u64)>>,
    /// Counter: per replica, per origin replica, key -> increments counted.
    pub(crate) counts: Vec<Vec<KeyMap<u64>>>,
    pub(crate) payloads: Vec<Payload>,
    pub(crate) next_write: u64,
    /// Per replica, the keys it changed, in order: what anti-entropy sends.
    pub(crate) changes: Vec<Vec<u64>>,
    /// Per (replica, peer), how much of the replica's change log the peer confirmed.
    pub(crate) confirmed: Vec<Vec<u32>>,
    /// Keys changed since the last heal's divergence was measured.
    pub(crate) touched: std::collections::BTreeSet<u64>,
    /// The heal being waited on: when, and the keys that disagreed then.
    pub(crate) healing: Option<(SimTime, Vec<u64>)>,
    pub divergent_keys: u64,
    pub convergence_ms: Option<f64>,
}

impl StoreGroup {
    pub fn new(spec: &StoreSpec, instances: Vec<ComponentId>) -> StoreGroup {
        let n = instances.len();
        StoreGroup {
            spec: spec.clone(),
            regs: vec![KeyMap::new((0, 0)); n],
            counts: vec![vec![KeyMap::new(0); n]; n],
            payloads: Vec::new(),
            next_write: 1,
            changes: vec![Vec::new(); n],
            confirmed: vec![vec![0; n]; n],
            touched: std::collections::BTreeSet::new(),
            healing: None,
            divergent_keys: 0,
            convergence_ms: None,
            instances,
        }
    }

    /// The value replica `i` reads: register stamp, or counter total.
    pub(crate) fn local(&self, i: usize, key: u64) -> ((u64, u64), u64) {
        match self.spec.data {
            Data::Register => (self.regs[i].get_or(key), 0),
            Data::Counter => ((0, 0), self.counts[i].iter().map(|c| c.get_or(key)).sum()),
        }
    }

    /// Merges `key` as replica `from` holds it into replica `to`.
    pub(crate) fn merge_from(&mut self, to: usize, from: usize, key: u64) {
        match self.spec.data {
            Data::Register => {
                let theirs = self.regs[from].get_or(key);
                self.apply_register(to, key, theirs);
            }
            Data::Counter => {
                for origin in 0..self.instances.len() {
                    let theirs = self.counts[from][origin].get_or(key);
                    self.apply_count(to, origin, key, theirs);
                }
            }
        }
    }

    pub(crate) fn apply_register(&mut self, at: usize, key: u64, stamp: (u64, u64)) {
        if stamp > self.regs[at].get_or(key) {
            self.regs[at].insert(key, stamp);
            self.changes[at].push(key);
        }
    }

    pub(crate) fn apply_count(&mut self, at: usize, origin: usize, key: u64, count: u64) {
        if count > self.counts[at][origin].get_or(key) {
            self.counts[at][origin].insert(key, count);
            self.changes[at].push(key);
        }
    }

    /// Whether every replica holds the same data for `key`.
    pub(crate) fn agrees(&self, key: u64) -> bool {
        let n = self.instances.len();
        match self.spec.data {
            Data::Register => (1..n).all(|i| self.regs[i].get_or(key) == self.regs[0].get_or(key)),
            Data::Counter => {
                (0..n).all(|o| (1..n).all(|i| self.counts[i][o].get_or(key) == self.counts[0][o].get_or(key)))
            }
        }
    }

    /// A partition healed at `now`: measure how far the replicas drifted apart.
    pub fn on_heal(&mut self, now: SimTime) {
        let keys: Vec<u64> = std::mem::take(&mut self.touched).into_iter().filter(|k| !self.agrees(*k)).collect();
        self.divergent_keys = self.divergent_keys.max(keys.len() as u64);
        self.healing = Some((now, keys));
    }

    pub(crate) fn check_converged(&mut self, now: SimTime) {
        let Some((healed, keys)) = self.healing.take() else { return };
        let left: Vec<u64> = keys.into_iter().filter(|k| !self.agrees(*k)).collect();
        if left.is_empty() {
            self.convergence_ms = Some(self.convergence_ms.unwrap_or(0.0).max(now.since(healed).as_secs_f64() * 1e3));
        } else {
            self.healing = Some((healed, left));
        }
    }

    /// The data's final state for the checker: per key, the id of the surviving write
    /// (register) or the count the replicas converge to (counter), merged over replicas.
    pub fn final_value(&self, key: u64) -> u64 {
        let n = self.instances.len();
        match self.spec.data {
            Data::Register => (0..n).map(|i| self.regs[i].get_or(key)).max().map_or(0, |s| s.1),
            Data::Counter => (0..n).map(|o| (0..n).map(|i| self.counts[i][o].get_or(key)).max().unwrap_or(0)).sum(),
        }
    }

    pub fn data(&self) -> Data {
        self.spec.data
    }
}
