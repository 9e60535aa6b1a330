//! A circuit breaker between a calling service and a service it calls, as resilience4j
//! defines one: each instance of `from` keeps its own breaker for its calls to `to`.

use crate::kernel::ids::ServiceId;
use crate::kernel::time::SimDuration;

/// What the breaker judges: the last calls in a sliding window of time or of a count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BreakerWindow {
    /// The calls answered in the last this long (kept in ten buckets, as resilience4j
    /// keeps one a second: a call leaves the window within a tenth of it of its age).
    Time(SimDuration),
    /// The last this many calls answered.
    Calls(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct BreakerSpec {
    pub from: ServiceId,
    pub to: ServiceId,
    /// Open when at least this share (0..1] of the window's calls failed.
    pub failure_rate: f64,
    /// A successful call slower than this counts as slow (`None`: no slow-call rule).
    pub slow_call: Option<SimDuration>,
    /// Open when at least this share of the window's calls were slow.
    pub slow_rate: f64,
    pub window: BreakerWindow,
    /// No verdict while the window holds fewer calls than this.
    pub min_calls: u32,
    /// How long it stays open before letting probes through (half-open).
    pub open_for: SimDuration,
    /// Calls let through half-open: all succeed -> closed, any fails -> open again.
    pub probes: u32,
}
