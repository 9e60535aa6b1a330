//! A database cluster's shared state and control plane: the replication log, each
//! instance's data and applied position, and who the primary is. The database component
//! (`component::database`) is the only writer.

use crate::kernel::ids::{ComponentId, ServiceId};
use crate::kernel::keymap::KeyMap;
use crate::kernel::time::SimTime;
use std::collections::VecDeque;

/// The cluster's shared state: the replication log, each instance's data and applied
/// position, and who the primary is.
#[derive(Clone)]
pub struct DbGroup {
    pub service: ServiceId,
    pub instances: Vec<ComponentId>,
    /// Index (into `instances`) of the instance taking writes.
    pub primary: usize,
    pub(crate) next_lsn: u64,
    /// Key written at each LSN from `log_base` on (`None`: lost in a failover), and when
    /// the primary committed it (replication lag is measured from there).
    pub(crate) log: VecDeque<(Option<u64>, SimTime)>,
    pub(crate) log_base: u64,
    pub(crate) versions: Vec<KeyMap<u64>>,
    pub applied: Vec<u64>,
    /// Instances in the replica set (a failed-over primary leaves it until it restarts).
    pub(crate) members: Vec<bool>,
    /// Per replica, the LSNs shipped to it and not yet received, oldest first: a
    /// replication message means "apply up to the next of these".
    pub(crate) in_transit: Vec<VecDeque<u64>>,
    /// LSNs acknowledged to callers and not yet applied everywhere, oldest first.
    pub(crate) acked: VecDeque<u64>,
    pub lost_writes: u64,
    pub failovers: u64,
    /// A promotion is under way.
    pub(crate) promoting: bool,
    /// The last failover's timeline: primary declared dead, replica promoted, DNS switched.
    pub detected_at: Option<SimTime>,
    pub promoted_at: Option<SimTime>,
    pub dns_switched_at: Option<SimTime>,
}

impl DbGroup {
    /// The version of `key` the primary holds: the data's final state for the checker.
    pub fn primary_version(&self, key: u64) -> u64 {
        self.versions[self.primary].get_or(key)
    }

    pub fn new(service: ServiceId, instances: Vec<ComponentId>) -> DbGroup {
        let n = instances.len();
        DbGroup {
            service,
            instances,
            primary: 0,
            next_lsn: 1,
            log: VecDeque::new(),
            log_base: 1,
            versions: vec![KeyMap::new(0); n],
            applied: vec![0; n],
            members: vec![true; n],
            in_transit: vec![VecDeque::new(); n],
            acked: VecDeque::new(),
            lost_writes: 0,
            failovers: 0,
            promoting: false,
            detected_at: None,
            promoted_at: None,
            dns_switched_at: None,
        }
    }

    pub(crate) fn write(&mut self, at: usize, key: u64, now: SimTime) -> u64 {
        let lsn = self.next_lsn;
        self.next_lsn += 1;
        self.log.push_back((Some(key), now));
        self.versions[at].insert(key, lsn);
        self.applied[at] = lsn;
        lsn
    }

    /// Instance `at` applies the log up to `lsn`.
    pub(crate) fn apply_up_to(&mut self, at: usize, lsn: u64) {
        while self.applied[at] < lsn {
            let next = self.applied[at] + 1;
            if next >= self.log_base
                && let Some((Some(key), _)) = self.log.get((next - self.log_base) as usize)
            {
                self.versions[at].insert(*key, next);
            }
            self.applied[at] = next;
        }
    }

    /// Forgets what every instance has applied (log entries and acknowledgements).
    pub(crate) fn trim(&mut self, down: &[bool]) {
        let oldest = (0..self.instances.len())
            .filter(|&i| self.members[i] && !down[self.instances[i].index()])
            .map(|i| self.applied[i])
            .min()
            .unwrap_or(0);
        while self.acked.front().is_some_and(|&l| l <= oldest) {
            self.acked.pop_front();
        }
        while self.log_base <= oldest && !self.log.is_empty() {
            self.log.pop_front();
            self.log_base += 1;
        }
    }
}
