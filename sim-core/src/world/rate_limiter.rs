//! Rate limiters as pure state machines, in integers: a token bucket and a two-window
//! sliding window, and `RateLimiter`, which keeps one count per scope (the instance, or each
//! active user or key). Only keys touched within the count's memory (`Algorithm::memory`)
//! are held, in two generations: an idle user costs nothing, and a key dropped with its
//! generation had a full bucket (an empty window) anyway, so forgetting it changes nothing.

use crate::kernel::keymap::KeyMap;
use crate::kernel::time::SimTime;
use crate::model::rate_limit::{Algorithm, RateLimitSpec, Scope};

/// One token in the bucket's units: a rate in milli-tokens a second then adds exactly
/// `rate_milli` units a nanosecond, so refills never round.
const UNITS_PER_TOKEN: u64 = 1_000_000_000_000;

/// A token bucket: `burst` tokens at most, refilled continuously.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    units: u64,
    last: SimTime,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn full(burst: u64, now: SimTime) -> TokenBucket {
        TokenBucket { units: burst * UNITS_PER_TOKEN, last: now }
    }

    /// Refills to `now`, then takes a token if there is one.
    pub fn admit(&mut self, rate_milli: u64, burst: u64, now: SimTime) -> bool {
        let cap = burst * UNITS_PER_TOKEN;
        let dt = now.since(self.last).as_nanos();
        // The time to fill from empty bounds the product below, which cannot overflow.
        let fill = dt.min(cap / rate_milli + 1) * rate_milli;
        self.units = self.units.saturating_add(fill).min(cap);
        self.last = now;
        if self.units >= UNITS_PER_TOKEN {
            self.units -= UNITS_PER_TOKEN;
            true
        } else {
            false
        }
    }
}

/// A sliding window by the two-window approximation: the counts of the current fixed
/// window and of the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlidingWindow {
    /// Which fixed window `current` counts (time / window).
    index: u64,
    current: u64,
    previous: u64,
}

impl SlidingWindow {
    pub fn empty(window_ns: u64, now: SimTime) -> SlidingWindow {
        SlidingWindow { index: now.as_nanos() / window_ns, current: 0, previous: 0 }
    }

    /// Admits if `previous * (share of it still in the window) + current < limit`.
    pub fn admit(&mut self, limit: u64, window_ns: u64, now: SimTime) -> bool {
        let index = now.as_nanos() / window_ns;
        if index != self.index {
            self.previous = if index == self.index + 1 { self.current } else { 0 };
            self.current = 0;
            self.index = index;
        }
        let into = now.as_nanos() % window_ns;
        // In units of 1/window_ns requests, exactly: no float decides an admission.
        let estimate =
            u128::from(self.previous) * u128::from(window_ns - into) + u128::from(self.current) * u128::from(window_ns);
        if estimate < u128::from(limit) * u128::from(window_ns) {
            self.current += 1;
            true
        } else {
            false
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Count {
    Bucket(TokenBucket),
    Window(SlidingWindow),
}

impl Count {
    fn fresh(algorithm: Algorithm, now: SimTime) -> Count {
        match algorithm {
            Algorithm::TokenBucket { burst, .. } => Count::Bucket(TokenBucket::full(burst, now)),
            Algorithm::SlidingWindow { window, .. } => Count::Window(SlidingWindow::empty(window.as_nanos(), now)),
        }
    }

    fn admit(&mut self, algorithm: Algorithm, now: SimTime) -> bool {
        match (self, algorithm) {
            (Count::Bucket(b), Algorithm::TokenBucket { rate_milli, burst }) => b.admit(rate_milli, burst, now),
            (Count::Window(w), Algorithm::SlidingWindow { limit, window }) => w.admit(limit, window.as_nanos(), now),
            _ => unreachable!("a count is made for its algorithm"),
        }
    }
}

/// One limiter: a single count (per instance or service) or one per active user or key.
#[derive(Clone)]
pub struct RateLimiter {
    spec: RateLimitSpec,
    single: Count,
    /// Per user or key: the counts touched in this generation and in the one before.
    recent: KeyMap<Count>,
    older: KeyMap<Count>,
    generation_end: SimTime,
    limited: u64,
    admitted: u64,
}

impl RateLimiter {
    pub fn new(spec: RateLimitSpec) -> RateLimiter {
        let single = Count::fresh(spec.algorithm, SimTime::ZERO);
        RateLimiter {
            spec,
            single,
            recent: KeyMap::new(single),
            older: KeyMap::new(single),
            generation_end: SimTime::ZERO + spec.algorithm.memory(),
            limited: 0,
            admitted: 0,
        }
    }

    /// Whether a request from `user` for `key` may pass at `now`; counts the decision.
    pub fn admit(&mut self, user: u32, key: u64, now: SimTime) -> bool {
        let counted = if self.spec.per == Scope::User { u64::from(user) } else { key };
        self.admit_counted(counted, now)
    }

    /// `admit` by the name of the count (`key`: the user or data key, as a shared store
    /// keys it; ignored by an instance or service-wide count).
    pub fn admit_counted(&mut self, key: u64, now: SimTime) -> bool {
        let ok = match self.spec.per {
            Scope::Instance | Scope::Service => self.single.admit(self.spec.algorithm, now),
            Scope::User | Scope::Key => self.admit_keyed(key, now),
        };
        if ok {
            self.admitted += 1;
        } else {
            self.limited += 1;
        }
        ok
    }

    fn admit_keyed(&mut self, key: u64, now: SimTime) -> bool {
        let algorithm = self.spec.algorithm;
        if now >= self.generation_end {
            // Keys untouched for a whole generation (at least the memory long) are
            // forgotten with `older`: an idle count equals a fresh one.
            std::mem::swap(&mut self.recent, &mut self.older);
            self.recent.clear();
            self.generation_end = now + algorithm.memory();
        }
        let mut count = match self.recent.get(key) {
            Some(c) => c,
            None => self.older.remove(key).unwrap_or_else(|| Count::fresh(algorithm, now)),
        };
        let ok = count.admit(algorithm, now);
        self.recent.insert(key, count);
        ok
    }

    /// Users or keys whose counts are held now.
    pub fn keys_held(&self) -> usize {
        self.recent.len() + self.older.len()
    }

    pub fn limited(&self) -> u64 {
        self.limited
    }

    pub fn admitted(&self) -> u64 {
        self.admitted
    }

    /// A crash loses the counts (an in-memory limiter restarts full).
    pub fn on_crash(&mut self, now: SimTime) {
        self.single = Count::fresh(self.spec.algorithm, now);
        self.recent.clear();
        self.older.clear();
    }
}
