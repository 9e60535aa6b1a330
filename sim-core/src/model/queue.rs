//! The queue's spec: workers, visibility timeout, retries, dead letters and autoscaling.

use crate::kernel::distribution::Delay;
use crate::kernel::ids::ServiceId;
use crate::kernel::time::SimDuration;

#[derive(Clone, Debug, PartialEq)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    /// Target jobs waiting per worker instance.
    pub jobs_per_instance: u32,
    pub interval: SimDuration,
    pub startup: SimDuration,
}

#[derive(Clone, Debug)]
pub struct QueueSpec {
    pub consumers: ServiceId,
    pub capacity: u64,
    /// Time to store a job and answer the producer.
    pub latency: Delay,
    pub visibility_timeout: SimDuration,
    pub max_receives: u32,
    pub backoff: SimDuration,
    pub autoscale: Option<Autoscale>,
}
