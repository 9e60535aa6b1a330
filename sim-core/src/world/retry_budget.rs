//! A retry budget: the state a caller keeps per hop so that retries stay a bounded share of
//! its calls (Finagle's `RetryBudget`, gRPC's retry throttling). Without one, a slow callee
//! sees every caller retry at once and its load multiplies exactly when it can least cope.

use crate::kernel::time::SimDuration;

/// How far back a retry budget looks: Finagle's default TTL.
pub const WINDOW: SimDuration = SimDuration::from_secs(10);
/// The window's buckets: counts older than the window fall out a second at a time.
const BUCKETS: usize = 10;

/// One caller's budget on one hop: first attempts deposit, retries withdraw, over a sliding
/// window of `WINDOW` in one-second buckets. A retry is allowed while the retries in
/// the window stay within `ratio` times the first attempts in it.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    ratio: f64,
    /// Per bucket: (the second it counts, first attempts, retries).
    buckets: [(u64, u64, u64); BUCKETS],
}

impl RetryBudget {
    pub fn new(ratio: f64) -> RetryBudget {
        RetryBudget { ratio, buckets: [(u64::MAX, 0, 0); BUCKETS] }
    }

    fn bucket(&mut self, now_ns: u64) -> &mut (u64, u64, u64) {
        let second = now_ns / 1_000_000_000;
        let b = &mut self.buckets[(second % BUCKETS as u64) as usize];
        if b.0 != second {
            *b = (second, 0, 0);
        }
        b
    }

    /// A first attempt was made at `now_ns`.
    pub fn on_call(&mut self, now_ns: u64) {
        self.bucket(now_ns).1 += 1;
    }

    /// Asks for one retry at `now_ns`: true (and counted) if the window's retries stay within
    /// the budget's share of its first attempts.
    pub fn try_retry(&mut self, now_ns: u64) -> bool {
        let second = now_ns / 1_000_000_000;
        let oldest = second.saturating_sub(BUCKETS as u64 - 1);
        let (calls, retries) = self
            .buckets
            .iter()
            .filter(|b| b.0 != u64::MAX && (oldest..=second).contains(&b.0))
            .fold((0, 0), |(c, r), b| (c + b.1, r + b.2));
        if (retries + 1) as f64 > self.ratio * calls as f64 {
            return false;
        }
        self.bucket(now_ns).2 += 1;
        true
    }
}
