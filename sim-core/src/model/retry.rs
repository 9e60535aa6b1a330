//! A caller's retry policy: how many attempts, how long to wait between them (backoff and
//! jitter), which outcomes are worth another try, and a budget capping retries at a share
//! of the calls made (Finagle's `RetryBudget`, gRPC's retry throttling). Plain data and
//! pure functions: the jitter's randomness comes in as a uniform draw, so each bound can be
//! tested with no engine.

use crate::event::Outcome;
use crate::kernel::time::SimDuration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backoff {
    /// Every wait is `base`.
    Constant,
    /// The n-th retry waits base·2^(n−1), never more than `cap`.
    Exponential,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// The backoff as computed: every caller retries in lockstep.
    None,
    /// U(0, d): the AWS "full jitter".
    Full,
    /// d/2 + U(0, d/2).
    Equal,
    /// min(cap, U(base, 3·previous wait)): the AWS "decorrelated jitter".
    Decorrelated,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RetrySpec {
    /// Attempts in all, the first included (1 = no retry).
    pub attempts: u32,
    pub backoff: Backoff,
    pub base: SimDuration,
    pub cap: SimDuration,
    pub jitter: Jitter,
    /// Which outcomes are retried: bit `Outcome as u8`.
    pub on: u16,
    /// At most this share of the caller's calls (first attempts) may be retries, over the
    /// last `world::retry_budget::WINDOW`; `None`: no budget.
    pub budget: Option<f64>,
}

/// The default `on`: failures that say nothing about the request itself.
pub const DEFAULT_ON: [Outcome; 4] = [Outcome::TimedOut, Outcome::Refused, Outcome::Rejected, Outcome::Unavailable];

/// The outcomes a scenario may name in `on`.
pub const RETRIABLE: [Outcome; 5] =
    [Outcome::TimedOut, Outcome::Rejected, Outcome::Refused, Outcome::Error, Outcome::Unavailable];

/// The bit set of `outcomes`, as `RetrySpec::on` holds it.
pub fn outcome_bits(outcomes: &[Outcome]) -> u16 {
    outcomes.iter().fold(0, |bits, o| bits | 1 << (*o as u8))
}

impl RetrySpec {
    /// Whether a call that ended with `outcome` after `attempt` attempts may be tried again
    /// (the budget aside).
    #[inline]
    pub fn retries(&self, outcome: Outcome, attempt: u32) -> bool {
        attempt < self.attempts && self.on & (1 << (outcome as u8)) != 0
    }

    /// The wait before retry number `retry` (1 for the first retry), given the previous
    /// wait (`base` before the first) and `u`, a uniform draw in [0, 1).
    pub fn backoff(&self, retry: u32, previous: SimDuration, u: f64) -> SimDuration {
        debug_assert!(retry >= 1 && (0.0..1.0).contains(&u));
        let d = match self.backoff {
            Backoff::Constant => self.base,
            Backoff::Exponential => {
                let doublings = (retry - 1).min(63);
                SimDuration::from_nanos(self.base.as_nanos().saturating_mul(1 << doublings).min(self.cap.as_nanos()))
            }
        };
        let ns = d.as_nanos() as f64;
        match self.jitter {
            Jitter::None => d,
            Jitter::Full => SimDuration::from_nanos_f64(ns * u),
            Jitter::Equal => SimDuration::from_nanos_f64(ns / 2.0 + ns / 2.0 * u),
            Jitter::Decorrelated => {
                let lo = self.base.as_nanos() as f64;
                let hi = (3.0 * previous.as_nanos() as f64).max(lo);
                SimDuration::from_nanos_f64(lo + (hi - lo) * u).min(self.cap)
            }
        }
    }
}
