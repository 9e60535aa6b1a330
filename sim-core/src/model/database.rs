//! The database's spec: replication mode, failover timings, sharding and pool size.

use crate::kernel::distribution::Delay;
use crate::kernel::time::SimDuration;

#[derive(Clone, Debug, PartialEq)]
pub enum Replication {
    Async { lag: Delay },
    Sync,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Failover {
    pub heartbeat: SimDuration,
    pub detection: Delay,
    pub promotion: Delay,
    pub dns: Delay,
}

#[derive(Clone, Debug)]
pub struct DatabaseSpec {
    pub max_connections: u32,
    pub pool_queue: u32,
    pub read_time: Delay,
    pub write_time: Delay,
    pub replication: Replication,
    pub failover: Option<Failover>,
    /// A replica that has not applied the reading user's last write sends the read to
    /// the primary.
    pub read_your_writes: bool,
    /// Each instance is a shard owning part of the keys (no replicas): every instance
    /// takes writes for its keys.
    pub sharded: bool,
}
