//! A hedged hop: a caller that has waited `after` for a call sends a copy of it, and the
//! first answer wins (Dean and Barroso, "The Tail at Scale"). Plain data: the caller's
//! measured latency lives in `world::hedge`.

use crate::kernel::ids::ServiceId;
use crate::kernel::time::SimDuration;

/// When a copy goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HedgeAfter {
    /// A fixed wait.
    Fixed(SimDuration),
    /// This percentile (50, 90, 95 or 99) of the hop's latency as the calling instance has
    /// measured it; no copy goes out before it has `hedge::SAMPLES_MIN` answers.
    Percentile(u8),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HedgeSpec {
    /// The callee: every call of the class to this service is hedged.
    pub service: ServiceId,
    pub after: HedgeAfter,
    /// Copies at most, each `after` after the one before (1 to 3).
    pub max: u8,
}
