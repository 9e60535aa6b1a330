//! Picking one instance of a service for a request, by a balancing policy: the code a load
//! balancer and an API gateway share, so both spread load (and draw random numbers) the
//! same way. The caller says which instances are candidates and how many requests each
//! has in flight; the picker keeps what a policy remembers between picks.

use crate::ctx::Ctx;
use crate::kernel::hash::splitmix64;
use crate::model::load_balancer::Policy;

/// A policy's memory: the round-robin position and smooth weighted round robin's scores.
#[derive(Clone, Debug)]
pub struct Picker {
    next: usize,
    /// Weighted round robin's running score per instance (index = instance position).
    scores: Vec<i64>,
}

impl Picker {
    /// For a service of `instances` instances.
    pub fn new(instances: usize) -> Picker {
        Picker { next: 0, scores: vec![0; instances] }
    }

    /// One of `up` (positions of the candidate instances, not empty; power of d reorders
    /// it) for a request of `user`, given each position's requests in flight.
    pub fn choose(
        &mut self,
        policy: &Policy,
        up: &mut [usize],
        in_flight: impl Fn(usize) -> u32,
        user: u32,
        ctx: &mut Ctx,
    ) -> usize {
        debug_assert!(!up.is_empty(), "a pick needs a candidate");
        match policy {
            Policy::RoundRobin => {
                let i = up[self.next % up.len()];
                self.next += 1;
                i
            }
            Policy::LeastConnections => {
                // Ties go round robin, so an idle pool still spreads evenly.
                let start = self.next % up.len();
                self.next += 1;
                // The first least loaded from `start` on, wrapping: two plain scans.
                let (mut best, mut least) = (up[start], in_flight(up[start]));
                for &i in up[start + 1..].iter().chain(&up[..start]) {
                    let n = in_flight(i);
                    if n < least {
                        (best, least) = (i, n);
                    }
                }
                best
            }
            Policy::ClientHash => up[(splitmix64(u64::from(user)) % up.len() as u64) as usize],
            Policy::WeightedRoundRobin(weights) => {
                let total: i64 = up.iter().map(|&i| i64::from(weights[i])).sum();
                for &i in up.iter() {
                    self.scores[i] += i64::from(weights[i]);
                }
                let best = *up.iter().max_by_key(|&&i| (self.scores[i], std::cmp::Reverse(i))).expect("non-empty");
                self.scores[best] -= total;
                best
            }
            Policy::PowerOfTwo => {
                if up.len() == 1 {
                    up[0]
                } else {
                    let a = ctx.below(up.len() as u64) as usize;
                    let mut b = ctx.below(up.len() as u64 - 1) as usize;
                    if b >= a {
                        b += 1;
                    }
                    let (a, b) = (up[a], up[b]);
                    if in_flight(b) < in_flight(a) { b } else { a }
                }
            }
            Policy::Random => up[ctx.below(up.len() as u64) as usize],
            Policy::PowerOfD(d) => {
                // A partial Fisher-Yates shuffle of `up` draws d distinct instances.
                let d = (*d as usize).min(up.len());
                let mut best = None::<usize>;
                for k in 0..d {
                    let j = k + ctx.below((up.len() - k) as u64) as usize;
                    up.swap(k, j);
                    let i = up[k];
                    if best.is_none_or(|b| in_flight(i) < in_flight(b)) {
                        best = Some(i);
                    }
                }
                best.expect("d >= 1")
            }
        }
    }
}
