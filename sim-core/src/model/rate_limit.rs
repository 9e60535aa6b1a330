//! A rate limiter's spec: which algorithm counts requests and whose requests share a count.
//! A request over the limit is answered `Outcome::Limited` (an HTTP 429) before it queues.

use crate::kernel::ids::ServiceId;
use crate::kernel::time::SimDuration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// A bucket of `burst` tokens refilled at `rate_milli / 1000` tokens a second; a request
    /// takes one token or is limited. Passes `rate` a second in the long run and at most
    /// `burst + rate * t` in any window of length t.
    TokenBucket { rate_milli: u64, burst: u64 },
    /// At most `limit` requests in any `window`, by the two-window weighted approximation
    /// (Cloudflare's, Kong's and Redis-cell's "sliding window"): the previous fixed
    /// window's count, weighted by the share of it still inside the sliding window, plus
    /// the current window's count.
    SlidingWindow { limit: u64, window: SimDuration },
}

/// Whose requests share one count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One count per instance.
    Instance,
    /// One count for the whole service, modelled without a shared store as each of its N
    /// instances enforcing 1/N of the limit (the way Kong's `local` policy and Envoy's
    /// local rate limit are sized): exact when the caller spreads requests evenly.
    Service,
    /// One count per user, in each instance.
    User,
    /// One count per data key, in each instance.
    Key,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitSpec {
    /// The limit one count enforces (for `Scope::Service`, already this instance's share).
    pub algorithm: Algorithm,
    pub per: Scope,
    /// `store = "redis"`: the count lives in one place shared by every instance of the
    /// service, checked by a call to that store before each admission.
    pub store: Option<SharedStore>,
}

/// A limiter whose count is kept in a shared store (Redis `INCR` or a Lua script, as Kong's
/// `redis` policy and Envoy's global rate limit service do): each admission first calls
/// the store, so it pays the store's latency and load and fails with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedStore {
    /// The cache or store service that holds the counts.
    pub service: ServiceId,
    /// How long the limiter waits for the store before judging it down.
    pub timeout: SimDuration,
    /// When the store cannot answer: admit (true) or answer 429 (false).
    pub fail_open: bool,
}

impl Algorithm {
    /// How long an untouched count takes to forget everything (a bucket to fill, a window
    /// to slide past): a count idle for longer equals a fresh one, so it need not be kept.
    pub fn memory(self) -> SimDuration {
        match self {
            Algorithm::TokenBucket { rate_milli, burst } => {
                SimDuration::from_nanos((burst as u128 * 1_000_000_000_000 / rate_milli as u128) as u64 + 1)
            }
            Algorithm::SlidingWindow { window, .. } => window + window,
        }
    }
}
