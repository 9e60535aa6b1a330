//! A server's admission control as pure state: its rate limiter, load shedding by queue
//! length or by queueing delay (CoDel), adaptive LIFO, and the low-priority classes shed
//! first. The server asks it two questions: may this arrival wait (`on_arrival`), and which
//! waiter goes next and is it still worth serving (`next`).

use crate::kernel::hash::mix64;
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::FlowNode;
use crate::model::admission::{AdmissionSpec, Order, Shed};
use crate::model::rate_limit::{Scope, SharedStore};
use crate::world::rate_limiter::RateLimiter;
use crate::world::sharding::{RANK_MASK, data_key};

/// The keyspace number of rate-limit counts in a shared store.
const COUNTS_KEYSPACE: u16 = u16::MAX;
use crate::report::figures::AdmissionFigures;
use std::collections::VecDeque;

/// CoDel's state, after Facebook's RPC queues: the shortest wait seen over each interval
/// says whether the queue is standing (never drained to below `target` for a whole
/// interval); while it stands, a waiter older than the target is dropped.
#[derive(Clone, Debug)]
pub struct Codel {
    target: SimDuration,
    interval: SimDuration,
    interval_end: SimTime,
    /// The shortest wait of the requests taken in the current interval (`None`: none yet).
    shortest: Option<SimDuration>,
    standing: bool,
}

impl Codel {
    pub fn new(target: SimDuration, interval: SimDuration) -> Codel {
        Codel { target, interval, interval_end: SimTime::ZERO + interval, shortest: None, standing: false }
    }

    /// A worker takes a request that waited `waited` (zero if it never queued): whether
    /// to shed it, judging a low-priority one against half the target.
    pub fn on_take(&mut self, now: SimTime, waited: SimDuration, low: bool) -> bool {
        if now >= self.interval_end {
            // An interval in which no request was taken at all stood still: standing.
            self.standing = self.shortest.is_none_or(|s| s > self.target);
            self.shortest = None;
            self.interval_end = now + self.interval;
        }
        self.shortest = Some(self.shortest.map_or(waited, |s| s.min(waited)));
        let target = if low { SimDuration::from_nanos(self.target.as_nanos() / 2) } else { self.target };
        self.standing && waited > target
    }

    pub fn standing(&self) -> bool {
        self.standing
    }
}

/// A rate limit whose count lives in a shared store: where each class's check goes, and
/// the server's own tally of the verdicts (the count itself is the world's).
#[derive(Clone, Debug)]
pub struct SharedCheck {
    store: SharedStore,
    per: Scope,
    /// Per class: the flow node of its check (lowering appends one to each class that
    /// visits the server), `u16::MAX` if the class never comes here.
    nodes: Vec<u16>,
    /// Per class: its population, whose user ids are its own (user 0 of the scrapers is
    /// not user 0 of the customers).
    origins: Vec<u32>,
    limited: u64,
    admitted: u64,
    failed_open: u64,
    failed_closed: u64,
}

/// A check node: a call to the store that no node of the flow makes (appended to it).
pub fn check_node(flow: &[FlowNode], store: &SharedStore) -> u16 {
    (1..flow.len())
        .find(|&i| flow[i].service == store.service && !flow.iter().any(|n| n.calls.contains(&(i as u16))))
        .map_or(u16::MAX, |i| i as u16)
}

impl SharedCheck {
    pub fn new(store: SharedStore, per: Scope, nodes: Vec<u16>, origins: Vec<u32>) -> SharedCheck {
        SharedCheck { store, per, nodes, origins, limited: 0, admitted: 0, failed_open: 0, failed_closed: 0 }
    }

    /// The call to make before admitting a request of `class`: its flow node, the key the
    /// store counts under (one per user, per data key, or one for the service), and how
    /// long to wait. `None` if the class has no check here.
    pub fn call(&self, class: usize, user: u32, key: u64) -> Option<(u16, u64, SimDuration)> {
        let node = *self.nodes.get(class)?;
        let name = match self.per {
            Scope::User => mix64(u64::from(self.origins[class]) << 32 | u64::from(user)),
            Scope::Key => mix64(key),
            Scope::Instance | Scope::Service => 0,
        };
        // In a keyspace of its own, which no scenario declares: the store's data and the
        // consistency checker never mistake a count for a data key.
        let counted = data_key(COUNTS_KEYSPACE, name & RANK_MASK);
        (node != u16::MAX).then_some((node, counted, self.store.timeout))
    }

    pub fn is_check(&self, class: usize, node: u16) -> bool {
        self.nodes.get(class) == Some(&node)
    }

    /// The store answered with the shared count's verdict (`Some(admit)`), or could not
    /// answer (`None`: then the configured side). Returns whether to admit.
    pub fn on_answer(&mut self, verdict: Option<bool>) -> bool {
        let admit = match verdict {
            Some(v) => v,
            None if self.store.fail_open => {
                self.failed_open += 1;
                true
            }
            None => {
                self.failed_closed += 1;
                false
            }
        };
        if admit {
            self.admitted += 1;
        } else {
            self.limited += 1;
        }
        admit
    }
}

/// What the server decides about its waiters, and the enqueue times it needs for that.
#[derive(Clone)]
pub struct Admission {
    limiter: Option<RateLimiter>,
    /// A limit kept in a shared store instead of `limiter`.
    shared: Option<SharedCheck>,
    shed_length: Option<u32>,
    codel: Option<Codel>,
    lifo_after: Option<SimDuration>,
    /// Per class (index = class id): shed first.
    low: Vec<bool>,
    /// When each waiter joined the queue, in the queue's order.
    queued_at: VecDeque<SimTime>,
    shed_queue_length: u64,
    shed_queue_delay: u64,
    lifo_taken: u64,
}

impl Admission {
    /// `checks`: per class, its check's flow node and its population, when the limit is
    /// kept in a store.
    pub fn new(spec: &AdmissionSpec, low: Vec<bool>, checks: Vec<(u16, u32)>) -> Admission {
        let (shed_length, codel) = match spec.shed {
            Some(Shed::QueueLength(n)) => (Some(n), None),
            Some(Shed::QueueDelay { target, interval }) => (None, Some(Codel::new(target, interval))),
            None => (None, None),
        };
        Admission {
            limiter: spec.rate_limit.filter(|r| r.store.is_none()).map(RateLimiter::new),
            shared: spec.rate_limit.and_then(|r| {
                let (nodes, origins) = checks.into_iter().unzip();
                Some(SharedCheck::new(r.store?, r.per, nodes, origins))
            }),
            shed_length,
            codel,
            lifo_after: match spec.order {
                Order::Fifo => None,
                Order::LifoWhenOld { after } => Some(after),
            },
            low,
            queued_at: VecDeque::new(),
            shed_queue_length: 0,
            shed_queue_delay: 0,
            lifo_taken: 0,
        }
    }

    /// Whether the rate limit lets a request of `user` for `key` through at `now`.
    pub fn within_limit(&mut self, user: u32, key: u64, now: SimTime) -> bool {
        self.limiter.as_mut().is_none_or(|l| l.admit(user, key, now))
    }

    /// The limit kept in a shared store, if that is how this server limits.
    pub fn shared(&mut self) -> Option<&mut SharedCheck> {
        self.shared.as_mut()
    }

    /// Whether a request of `class` that must wait behind `waiting` others is shed.
    pub fn sheds_arrival(&mut self, class: usize, waiting: usize) -> bool {
        let Some(n) = self.shed_length else { return false };
        let limit = if self.low[class] { n / 2 } else { n };
        let shed = waiting >= limit as usize;
        self.shed_queue_length += u64::from(shed);
        shed
    }

    /// A request joined the back of the queue at `now`.
    pub fn on_queued(&mut self, now: SimTime) {
        self.queued_at.push_back(now);
    }

    /// Which end of the queue a free worker takes from (true: the back, the newest), and
    /// when that waiter joined. The caller pops the same end of its queue.
    pub fn take(&mut self, now: SimTime) -> (bool, SimTime) {
        let oldest = *self.queued_at.front().expect("the server's queue is not empty");
        let newest_first = self.lifo_after.is_some_and(|after| now.since(oldest) > after);
        if newest_first {
            self.lifo_taken += 1;
            (true, self.queued_at.pop_back().expect("not empty"))
        } else {
            (false, self.queued_at.pop_front().expect("not empty"))
        }
    }

    /// A worker takes a request of `class` that waited `waited`: whether CoDel sheds it
    /// (its failure detail then says so).
    pub fn sheds_taken(&mut self, now: SimTime, waited: SimDuration, class: usize) -> bool {
        let Some(codel) = &mut self.codel else { return false };
        let shed = codel.on_take(now, waited, self.low[class]);
        self.shed_queue_delay += u64::from(shed);
        shed
    }

    pub fn on_crash(&mut self, now: SimTime) {
        self.queued_at.clear();
        if let Some(l) = &mut self.limiter {
            l.on_crash(now);
        }
    }

    pub fn figures(&self) -> AdmissionFigures {
        AdmissionFigures {
            limited: self.limiter.as_ref().map(RateLimiter::limited).or(self.shared.as_ref().map(|s| s.limited)),
            admitted: self.limiter.as_ref().map(RateLimiter::admitted).or(self.shared.as_ref().map(|s| s.admitted)),
            store_failed_open: self.shared.as_ref().map(|s| s.failed_open),
            store_failed_closed: self.shared.as_ref().map(|s| s.failed_closed),
            shed_queue_length: self.shed_length.map(|_| self.shed_queue_length),
            shed_queue_delay: self.codel.as_ref().map(|_| self.shed_queue_delay),
            lifo_taken: self.lifo_after.map(|_| self.lifo_taken),
        }
    }
}
