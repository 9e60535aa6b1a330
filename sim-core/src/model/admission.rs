//! What a server does before and while a request waits: rate limits (`rate_limit`), load
//! shedding (`shed`) and the order it serves its queue in (`order`). Absent, a server is the
//! plain FIFO station.

use crate::kernel::time::SimDuration;
use crate::model::rate_limit::RateLimitSpec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shed {
    /// Refuse an arriving request when this many are already waiting (a low-priority one
    /// when half as many are).
    QueueLength(u32),
    /// CoDel as Facebook's RPC servers use it ("Fail at Scale", 2015): once the shortest
    /// wait over an `interval` stays above `target`, the queue is standing, and a request
    /// that waited longer than `target` (a low-priority one: half of it) is shed when a
    /// worker takes it, instead of being served late.
    QueueDelay { target: SimDuration, interval: SimDuration },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Fifo,
    /// Adaptive LIFO: serve the newest waiter first while the oldest has waited longer
    /// than `after` (those at the front will time out anyway; the newest can still make it).
    LifoWhenOld {
        after: SimDuration,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionSpec {
    pub rate_limit: Option<RateLimitSpec>,
    pub shed: Option<Shed>,
    pub order: Order,
}
