//! The replicated store's spec: CP/AP quorums, data type, anti-entropy and clock skew.

use crate::kernel::distribution::Delay;
use crate::kernel::time::SimDuration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data {
    Register,
    Counter,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoreSpec {
    /// "cp" or "ap": how the scenario describes it (the quorums decide the behaviour).
    pub mode: &'static str,
    pub data: Data,
    pub w: u32,
    pub r: u32,
    pub quorum_timeout: SimDuration,
    pub stale_reads: bool,
    pub anti_entropy: SimDuration,
    /// A replica's own work per operation.
    pub latency: Delay,
    /// Each replica's clock is off by a fixed amount drawn within +- this.
    pub clock_skew: SimDuration,
}
