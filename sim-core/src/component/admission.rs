//! A server's admission control as pure state: its rate limiter, load shedding by queue
//! length or by queueing delay (CoDel), adaptive LIFO, and the low-priority classes shed
//! first. The server asks it two questions: may this arrival wait (`on_arrival`), and which
//! waiter goes next and is it still worth serving (`next`).

use crate::component::rate_limiter::RateLimiter;
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::admission::{AdmissionSpec, Order, Shed};
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

/// What the server decides about its waiters, and the enqueue times it needs for that.
#[derive(Clone)]
pub struct Admission {
    limiter: Option<RateLimiter>,
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
    pub fn new(spec: &AdmissionSpec, low: Vec<bool>) -> Admission {
        let (shed_length, codel) = match spec.shed {
            Some(Shed::QueueLength(n)) => (Some(n), None),
            Some(Shed::QueueDelay { target, interval }) => (None, Some(Codel::new(target, interval))),
            None => (None, None),
        };
        Admission {
            limiter: spec.rate_limit.map(RateLimiter::new),
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
            limited: self.limiter.as_ref().map(RateLimiter::limited),
            admitted: self.limiter.as_ref().map(RateLimiter::admitted),
            shed_queue_length: self.shed_length.map(|_| self.shed_queue_length),
            shed_queue_delay: self.codel.as_ref().map(|_| self.shed_queue_delay),
            lifo_taken: self.lifo_after.map(|_| self.lifo_taken),
        }
    }
}
