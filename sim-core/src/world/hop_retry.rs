//! What retrying callers keep for `[classes.hops.SERVICE] retry`: which hops are retried,
//! each call's attempt (by request slot), a retry budget per calling instance and hop,
//! and the counts the report shows. Empty, and never consulted, unless some hop retries.
//! A pure state machine: the engine asks `retriable`, draws the jitter, then `admit`.

use crate::kernel::ids::{ComponentId, RequestId, ServiceId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::Model;
use crate::model::retry::RetrySpec;
use crate::world::retry_budget::RetryBudget;

/// `hop_of` for a flow node whose calls are not retried.
const NOT_RETRIED: u16 = u16::MAX;

/// A retried hop of one class, with what its callers did.
#[derive(Clone, Debug)]
pub struct RetriedHop {
    pub class: usize,
    pub service: ServiceId,
    pub spec: RetrySpec,
    /// First calls made, calls sent in all (first ones included), retries decided,
    /// retries a budget refused, retries not made because their backoff would end after
    /// the parent's propagated deadline.
    pub calls: u64,
    pub attempts: u64,
    pub retries: u64,
    pub refused_by_budget: u64,
    pub past_deadline: u64,
}

/// A call's attempt, the backoff waited before it (for decorrelated jitter), and when
/// its first attempt was sent.
#[derive(Clone, Copy)]
struct Attempt {
    generation: u32,
    attempt: u32,
    waited: SimDuration,
    first: SimTime,
}

#[derive(Clone, Default)]
pub struct HopRetries {
    pub on: bool,
    /// Per class, per flow node: its index in `hops`, or `NOT_RETRIED`.
    hop_of: Vec<Vec<u16>>,
    pub hops: Vec<RetriedHop>,
    /// Per (caller, hop): the caller's budget, if the hop's policy has one.
    budgets: Vec<Option<RetryBudget>>,
    /// By request slot: a retry's attempt (a call with none is a first attempt).
    attempts: Vec<Option<Attempt>>,
}

impl HopRetries {
    pub fn new(model: &Model) -> HopRetries {
        if !model.uses_hop_retries() {
            return HopRetries::default();
        }
        let mut hops = Vec::new();
        let hop_of = model
            .classes
            .iter()
            .enumerate()
            .map(|(ci, c)| {
                let mut of = vec![NOT_RETRIED; c.flow.len()];
                for h in &c.hops {
                    let Some(spec) = &h.retry else { continue };
                    let at = hops.len() as u16;
                    hops.push(RetriedHop {
                        class: ci,
                        service: h.service,
                        spec: spec.clone(),
                        calls: 0,
                        attempts: 0,
                        retries: 0,
                        refused_by_budget: 0,
                        past_deadline: 0,
                    });
                    for (n, node) in c.flow.iter().enumerate().skip(1) {
                        if node.service == h.service {
                            of[n] = at;
                        }
                    }
                }
                of
            })
            .collect();
        let budgets = (0..model.components.len())
            .flat_map(|_| hops.iter().map(|h: &RetriedHop| h.spec.budget.map(RetryBudget::new)))
            .collect();
        HopRetries { on: true, hop_of, hops, budgets, attempts: Vec::new() }
    }

    /// The retried hop a call of `class` to flow node `node` belongs to.
    #[inline]
    pub fn hop(&self, class: usize, node: u16) -> Option<usize> {
        let h = *self.hop_of.get(class)?.get(usize::from(node))?;
        (h != NOT_RETRIED).then_some(usize::from(h))
    }

    fn attempt(&self, id: RequestId) -> Option<Attempt> {
        self.attempts.get(id.slot as usize).copied().flatten().filter(|a| a.generation == id.generation)
    }

    /// `caller` sends call `id` on `hop` at `now`: counted, and a first attempt is
    /// deposited in the caller's budget.
    pub fn on_send(&mut self, hop: usize, caller: ComponentId, id: RequestId, now: SimTime) {
        let first = self.attempt(id).is_none();
        let h = &mut self.hops[hop];
        h.attempts += 1;
        if first {
            h.calls += 1;
            if let Some(b) = &mut self.budgets[caller.index() * self.hops.len() + hop] {
                b.on_call(now.as_nanos());
            }
        }
    }

    /// Call `id` on `hop` failed with a retriable `outcome`? Its attempt number and the
    /// backoff it waited, when another attempt is allowed by the policy (budget aside).
    pub fn retriable(&self, hop: usize, id: RequestId, outcome: crate::event::Outcome) -> Option<(u32, SimDuration)> {
        let spec = &self.hops[hop].spec;
        let (attempt, waited) = self.attempt(id).map_or((1, spec.base), |a| (a.attempt, a.waited));
        spec.retries(outcome, attempt).then_some((attempt, waited))
    }

    /// `caller` would retry at `now` after `(attempt, waited)` (as `retriable` gave them),
    /// with `u` a uniform draw in [0, 1), for a parent that gives up at `deadline`: the
    /// backoff, if the retry ends before the deadline and the budget allows it (counted
    /// either way).
    pub fn admit(
        &mut self,
        hop: usize,
        caller: ComponentId,
        (attempt, waited): (u32, SimDuration),
        u: f64,
        now: SimTime,
        deadline: SimTime,
    ) -> Option<SimDuration> {
        let n = self.hops.len();
        let h = &mut self.hops[hop];
        let backoff = h.spec.backoff(attempt, waited, u);
        if now + backoff >= deadline {
            h.past_deadline += 1;
            return None;
        }
        if let Some(b) = &mut self.budgets[caller.index() * n + hop]
            && !b.try_retry(now.as_nanos())
        {
            h.refused_by_budget += 1;
            return None;
        }
        h.retries += 1;
        Some(backoff)
    }

    /// When the first attempt of call `id` (created at `created`) was made.
    pub fn first_of(&self, id: RequestId, created: SimTime) -> SimTime {
        self.attempt(id).map_or(created, |a| a.first)
    }

    /// Call `id` is attempt `attempt` of a call first made at `first`, sent after
    /// waiting `waited`.
    pub fn mark(&mut self, id: RequestId, attempt: u32, waited: SimDuration, first: SimTime) {
        let slot = id.slot as usize;
        if slot >= self.attempts.len() {
            self.attempts.resize(slot + 1, None);
        }
        self.attempts[slot] = Some(Attempt { generation: id.generation, attempt, waited, first });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Outcome;
    use crate::model::retry::{Backoff, DEFAULT_ON, Jitter, outcome_bits};

    fn table(attempts: u32, budget: Option<f64>) -> HopRetries {
        let spec = RetrySpec {
            attempts,
            backoff: Backoff::Exponential,
            base: SimDuration::from_millis(10),
            cap: SimDuration::from_secs(1),
            jitter: Jitter::None,
            on: outcome_bits(&DEFAULT_ON),
            budget,
        };
        let hop = RetriedHop {
            class: 0,
            service: ServiceId(1),
            spec,
            calls: 0,
            attempts: 0,
            retries: 0,
            refused_by_budget: 0,
            past_deadline: 0,
        };
        HopRetries {
            on: true,
            hop_of: vec![vec![NOT_RETRIED, 0]],
            hops: vec![hop],
            budgets: vec![budget.map(RetryBudget::new)],
            attempts: Vec::new(),
        }
    }

    fn id(slot: u32) -> RequestId {
        RequestId { slot, generation: 0 }
    }

    const ME: ComponentId = ComponentId(0);

    fn at_ms(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn a_call_is_retried_until_its_attempts_run_out_with_doubling_backoff() {
        let mut r = table(3, None);
        assert_eq!(r.hop(0, 1), Some(0));
        assert_eq!(r.hop(0, 0), None);
        r.on_send(0, ME, id(0), at_ms(0));
        assert_eq!(r.retriable(0, id(0), Outcome::Error), None, "Error is not in the default `on`");
        let (a, w) = r.retriable(0, id(0), Outcome::TimedOut).expect("attempt 1 of 3");
        assert_eq!(r.admit(0, ME, (a, w), 0.5, at_ms(5), SimTime::MAX), Some(SimDuration::from_millis(10)));
        r.mark(id(1), a + 1, SimDuration::from_millis(10), at_ms(0));
        assert_eq!(r.first_of(id(1), at_ms(5)), at_ms(0), "a retry remembers its first attempt");
        assert_eq!(r.first_of(id(0), at_ms(0)), at_ms(0));
        r.on_send(0, ME, id(1), at_ms(15));
        let (a, w) = r.retriable(0, id(1), Outcome::Refused).expect("attempt 2 of 3");
        assert_eq!(a, 2);
        assert_eq!(r.admit(0, ME, (a, w), 0.5, at_ms(20), SimTime::MAX), Some(SimDuration::from_millis(20)));
        r.mark(id(2), a + 1, SimDuration::from_millis(20), at_ms(0));
        r.on_send(0, ME, id(2), at_ms(40));
        assert_eq!(r.retriable(0, id(2), Outcome::Refused), None, "the third attempt was the last");
        // A slot reused by another request (a new generation) is a first attempt again.
        assert!(r.retriable(0, RequestId { slot: 2, generation: 1 }, Outcome::Refused).is_some());
        let h = &r.hops[0];
        assert_eq!((h.calls, h.attempts, h.retries, h.refused_by_budget, h.past_deadline), (1, 3, 2, 0, 0));
    }

    #[test]
    fn no_retry_whose_backoff_ends_after_the_parents_deadline() {
        let mut r = table(3, None);
        r.on_send(0, ME, id(0), at_ms(0));
        let (a, w) = r.retriable(0, id(0), Outcome::TimedOut).unwrap();
        assert_eq!(r.admit(0, ME, (a, w), 0.5, at_ms(95), at_ms(105)), None);
        assert_eq!(r.admit(0, ME, (a, w), 0.5, at_ms(90), at_ms(105)), Some(SimDuration::from_millis(10)));
        assert_eq!((r.hops[0].retries, r.hops[0].past_deadline), (1, 1));
    }

    #[test]
    fn a_budget_caps_retries_at_its_share_of_first_calls() {
        let mut r = table(3, Some(0.2));
        for k in 0..10 {
            r.on_send(0, ME, id(k), at_ms(k as u64));
        }
        let allowed = (0..10)
            .filter(|k| {
                let (a, w) = r.retriable(0, id(*k), Outcome::TimedOut).unwrap();
                r.admit(0, ME, (a, w), 0.5, at_ms(20), SimTime::MAX).is_some()
            })
            .count();
        assert_eq!(allowed, 2);
        assert_eq!((r.hops[0].calls, r.hops[0].retries, r.hops[0].refused_by_budget), (10, 2, 8));
    }
}
