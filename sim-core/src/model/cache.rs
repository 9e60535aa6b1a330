//! The cache's spec: capacity, TTL, what it caches in front of, and how writes reach the database.

use crate::kernel::distribution::Delay;
use crate::kernel::time::SimDuration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritePolicy {
    CacheAside,
    WriteThrough,
    WriteBehind,
}

#[derive(Clone, Debug)]
pub struct CacheSpec {
    pub capacity: u32,
    pub ttl: Option<SimDuration>,
    pub latency: Delay,
    pub write_policy: WritePolicy,
    pub single_flight: bool,
    pub flush_interval: SimDuration,
}
