//! Clients: the workload. Open loop (Poisson arrivals, independent of how the system
//! copes, as real users on the internet behave) or closed loop (a fixed population that
//! waits for each answer and thinks before the next request, as a load test does).
//!
//! Each request comes from a user (drawn uniformly from `users` in an open loop) and, if
//! its class has a keyspace, touches a key drawn from that keyspace's Zipf popularity.
//! When the model stores versioned data, each user's requests carry the version of its
//! own last write: a database with read-your-writes routing sends a read that a replica
//! cannot yet serve to the primary, and the run counts reads older than their user's write.
//!
//! A class with a retry policy is re-sent when it fails so: after a backoff drawn from
//! this population's stream, as the same user request (counted once, with its final
//! outcome and its latency from the first attempt), within the class's retry budget.

use crate::component::token_slab::TokenSlab;
use crate::ctx::Ctx;
use crate::event::Input;
use crate::event::{ChildResult, Op, Outcome};
use crate::kernel::distribution::Delay;
use crate::kernel::ids::ClassId;
use crate::kernel::keymap::KeyMap;
use crate::kernel::time::SimDuration;
use crate::kernel::time::SimTime;
use crate::model::retry::{Jitter, RetrySpec};
use crate::model::{Arrival, ClientsSpec, Model};
use crate::report::ComponentReport;
use crate::report::figures::{ClientsFigures, Figures};
use crate::world::retry_budget::RetryBudget;
use crate::world::sharding::{data_key, keyspace_of};
use rand_distr::Zipf;

fn request_key(id: crate::kernel::ids::RequestId) -> u64 {
    u64::from(id.slot) << 32 | u64::from(id.generation)
}

/// Draws keys of one keyspace: rank 0 is the most popular.
#[derive(Clone, Debug)]
pub struct KeySampler {
    keyspace: u16,
    count: u64,
    zipf: Option<Zipf<f64>>,
}

impl KeySampler {
    pub fn new(keyspace: u16, count: u64, zipf_s: f64) -> KeySampler {
        let zipf = (zipf_s > 0.0).then(|| Zipf::new(count as f64, zipf_s).expect("validated: count >= 1, s > 0"));
        KeySampler { keyspace, count, zipf }
    }

    #[inline]
    pub fn sample(&self, ctx: &mut Ctx) -> u64 {
        let rank = match &self.zipf {
            Some(z) => (ctx.sample(z) as u64).saturating_sub(1).min(self.count - 1),
            None => ctx.below(self.count),
        };
        data_key(self.keyspace, rank)
    }
}

/// Each user's last acknowledged write (key, version): reads carry the version so a
/// read-your-writes router can honour it, and a read of that key that returns an older
/// version counts as reading behind one's own write. Reads are judged against the write
/// acknowledged before they began (`in_flight`, by request id).
#[derive(Clone)]
pub struct OwnWrites {
    /// By user, for the users who have written (most of a large crowd never does).
    last: KeyMap<(u64, u64)>,
    in_flight: KeyMap<u64>,
}

/// Timer token of a surge's start or end; arrival timers carry the rate epoch instead.
const RATE_CHANGE: u32 = u32::MAX;
/// This bit marks a retry's timer (the rest is its `TokenSlab` token); rate epochs and
/// users stay below it.
const RETRY_TIMER: u32 = 1 << 31;

/// A class's retry policy at this population, and its budget's state.
#[derive(Clone)]
struct ClassRetry {
    spec: RetrySpec,
    budget: Option<RetryBudget>,
}

/// A user request whose attempt failed: what the next attempt re-sends, and when the
/// first was issued.
#[derive(Clone, Copy)]
struct Attempt {
    class: ClassId,
    user: u32,
    key: u64,
    first: SimTime,
    /// Attempts made so far, and the last backoff (decorrelated jitter grows from it).
    made: u32,
    waited: SimDuration,
    /// The user's own write the request is judged against (`OwnWrites::in_flight`).
    own_version: u64,
}

/// The retries of one population: per class its policy, the retried requests in flight
/// (by request id: attempts made, first issue, last backoff) and those waiting to re-send.
#[derive(Clone)]
struct Retries {
    classes: Vec<Option<ClassRetry>>,
    in_flight: KeyMap<(u32, SimTime, SimDuration)>,
    waiting: TokenSlab<Attempt>,
}

#[derive(Clone)]
pub struct Clients {
    spec: ClientsSpec,
    /// Open loop: bumped at every rate change, so the arrival drawn at the old rate is
    /// dropped and one at the new rate drawn (exact, as Poisson arrivals are memoryless).
    epoch: u32,
    factor: f64,
    /// A surge fault's multiplier, on top of the workload's own surges.
    fault_factor: f64,
    /// A rate fault's new base rate over the workload's, under every surge.
    base_factor: f64,
    interarrival: Delay,
    /// Cumulative class weights, for picking a class per request.
    classes: Vec<(ClassId, f64)>,
    keys: Vec<Option<KeySampler>>,
    users: u32,
    /// Users' own writes, tracked only when the model stores versioned data.
    own: Option<Box<OwnWrites>>,
    /// Present when some class this population sends retries.
    retries: Option<Box<Retries>>,
    issued: u64,
}

impl Clients {
    pub fn new(spec: &ClientsSpec, model: &Model) -> Clients {
        let mut total = 0.0;
        let classes = spec
            .class_weights
            .iter()
            .map(|&(c, w)| {
                total += w;
                (c, total)
            })
            .collect();
        let interarrival = match spec.arrival {
            Arrival::Poisson { rate_per_sec } => Delay::exponential(SimDuration::from_secs_f64(1.0 / rate_per_sec)),
            Arrival::Closed { .. } => Delay::constant(SimDuration::ZERO),
        };
        let keys = model
            .classes
            .iter()
            .map(|c| {
                c.keyspace.map(|k| {
                    let ks = &model.keyspaces[k.index()];
                    KeySampler::new(k.0, ks.count, ks.zipf_s)
                })
            })
            .collect();
        let users = match spec.arrival {
            Arrival::Closed { users, .. } => users,
            Arrival::Poisson { .. } if model.uses_user_ids() => spec.users,
            Arrival::Poisson { .. } => 1,
        };
        Clients {
            spec: spec.clone(),
            epoch: 0,
            factor: 1.0,
            fault_factor: 1.0,
            base_factor: 1.0,
            interarrival,
            classes,
            keys,
            users,
            own: model
                .has_versioned_data()
                .then(|| Box::new(OwnWrites { last: KeyMap::new((0, 0)), in_flight: KeyMap::new(0) })),
            retries: spec.class_weights.iter().any(|&(c, _)| model.classes[c.index()].retry.is_some()).then(|| {
                let classes = model
                    .classes
                    .iter()
                    .map(|c| {
                        let spec = c.retry.clone()?;
                        Some(ClassRetry { budget: spec.budget.map(RetryBudget::new), spec })
                    })
                    .collect();
                Box::new(Retries {
                    classes,
                    in_flight: KeyMap::new((0, SimTime::ZERO, SimDuration::ZERO)),
                    waiting: TokenSlab::default(),
                })
            }),
            issued: 0,
        }
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Start => self.on_start(ctx),
            Input::Slow(f) if matches!(self.spec.arrival, Arrival::Poisson { .. }) => {
                // A surge fault: the rate changes now, as at a scheduled surge.
                self.fault_factor = f;
                self.rate_change(ctx);
            }
            Input::Rate(per_sec) => {
                // A rate fault: a new base rate from now, until the next (validated open loop).
                let Arrival::Poisson { rate_per_sec } = self.spec.arrival else {
                    unreachable!("rate faults are lowered onto open-loop populations only")
                };
                self.base_factor = per_sec / rate_per_sec;
                self.rate_change(ctx);
            }
            Input::Timer(RATE_CHANGE) => self.rate_change(ctx),
            Input::Timer(token) if token & RETRY_TIMER != 0 => self.resend(token & !RETRY_TIMER, ctx),
            Input::Timer(token) => {
                let user = match self.spec.arrival {
                    Arrival::Poisson { .. } if token != self.epoch => return,
                    Arrival::Poisson { .. } => {
                        let d = self.next_arrival(ctx);
                        ctx.set_timer(d, self.epoch);
                        if self.users > 1 { ctx.below(u64::from(self.users)) as u32 } else { 0 }
                    }
                    Arrival::Closed { .. } => token,
                };
                self.send(user, ctx);
            }
            Input::ChildDone(result) => self.on_answer(&result, ctx),
            Input::Request(_) => unreachable!("clients are never called"),
            Input::Pong { .. }
            | Input::Message { .. }
            | Input::Restart
            | Input::Slow(_)
            | Input::Drain
            | Input::Scale(_)
            | Input::Capacity(_) => {}
        }
    }

    /// The first arrival (open loop, and the surges' rate changes) or every user's first
    /// request after one think time, so they do not all fire at t=0 (closed loop).
    fn on_start(&mut self, ctx: &mut Ctx) {
        match &self.spec.arrival {
            Arrival::Poisson { .. } => {
                for s in &self.spec.surges {
                    ctx.set_timer(s.at, RATE_CHANGE);
                    ctx.set_timer(s.at + s.lasting, RATE_CHANGE);
                }
                let d = ctx.draw(&self.interarrival);
                ctx.set_timer(d, 0);
            }
            Arrival::Closed { users, think } => {
                for user in 0..*users {
                    let d = ctx.draw(think);
                    ctx.set_timer(d, user);
                }
            }
        }
    }

    /// `user` sends a request of a class drawn by weight, for a key drawn by popularity.
    #[inline]
    fn send(&mut self, user: u32, ctx: &mut Ctx) {
        let class = self.pick_class(ctx);
        let key = match &self.keys[class.index()] {
            Some(k) => k.sample(ctx),
            None => 0,
        };
        // A user's last write matters to reads of the same data (keyspace): LSNs of
        // different databases are not comparable.
        self.issued += 1;
        if self.retries.is_some() {
            self.first_attempt(class, ctx);
        }
        let Some(own) = &mut self.own else {
            if ctx.issue(class, user, key, 0).is_none() {
                self.after_answer(user, ctx);
            }
            return;
        };
        let (written, version) = own.last.get_or(u64::from(user));
        // Versions of different databases (keyspaces) are not comparable.
        let same_data = keyspace_of(written) == keyspace_of(key);
        let min_version = if version > 0 && same_data { version } else { 0 };
        match ctx.issue(class, user, key, min_version) {
            None => self.after_answer(user, ctx),
            Some(req) if version > 0 && written == key => {
                own.in_flight.insert(request_key(req), version);
            }
            Some(_) => {}
        }
    }

    /// The answer to one of its requests: recorded, and a closed-loop user thinks again.
    #[inline]
    fn on_answer(&mut self, result: &ChildResult, ctx: &mut Ctx) {
        if self.retries.is_some() && self.retried(result, ctx) {
            return;
        }
        ctx.finish_root(result);
        if let Some(own) = &mut self.own {
            let before = own.in_flight.remove(request_key(result.child)).unwrap_or(0);
            let last = own.last.get_or(u64::from(result.user));
            match result.op {
                _ if result.outcome != Outcome::Ok => {}
                Op::Write if result.version > last.1 => {
                    own.last.insert(u64::from(result.user), (result.key, result.version));
                }
                Op::Read if result.version < before => {
                    ctx.count_read_your_writes_violation(result.class);
                }
                _ => {}
            }
        }
        self.after_answer(result.user, ctx);
    }

    /// A first attempt of `class` is about to be sent: its budget earns a deposit.
    #[cold]
    fn first_attempt(&mut self, class: ClassId, ctx: &mut Ctx) {
        let retries = self.retries.as_mut().expect("called with retries");
        if let Some(r) = &mut retries.classes[class.index()] {
            ctx.count_attempt(class, false);
            if let Some(b) = &mut r.budget {
                b.on_call(ctx.now().since(SimTime::ZERO).as_nanos());
            }
        }
    }

    /// Whether the answer `result` is a failure to try again: then its next attempt waits
    /// for its backoff and the request is not finished. Forgets a retried request that ends.
    #[cold]
    fn retried(&mut self, result: &ChildResult, ctx: &mut Ctx) -> bool {
        let retries = self.retries.as_mut().expect("called with retries");
        let Some(policy) = &mut retries.classes[result.class.index()] else { return false };
        let (made, first, waited) =
            retries.in_flight.remove(request_key(result.child)).unwrap_or((1, result.created, policy.spec.base));
        if !policy.spec.retries(result.outcome, made) {
            return false;
        }
        let now_ns = ctx.now().since(SimTime::ZERO).as_nanos();
        if let Some(b) = &mut policy.budget
            && !b.try_retry(now_ns)
        {
            ctx.count_retry_refused(result.class);
            return false;
        }
        let u = if policy.spec.jitter == Jitter::None { 0.0 } else { ctx.below(1 << 53) as f64 / (1u64 << 53) as f64 };
        let wait = policy.spec.backoff(made, waited, u);
        let own_version = match &mut self.own {
            Some(own) => own.in_flight.remove(request_key(result.child)).unwrap_or(0),
            None => 0,
        };
        let attempt =
            Attempt { class: result.class, user: result.user, key: result.key, first, made, waited: wait, own_version };
        let token = retries.waiting.insert(attempt);
        assert!(token < RETRY_TIMER, "retry tokens stay below the timer bit");
        ctx.set_timer(wait, RETRY_TIMER | token);
        true
    }

    /// A retry's backoff is over: the request is sent again.
    fn resend(&mut self, token: u32, ctx: &mut Ctx) {
        let retries = self.retries.as_mut().expect("retry timers come with retries");
        let a = retries.waiting.take(token).expect("a retry timer has its attempt");
        // The user's newest write as of now, as a real client's session token would carry.
        let min_version = match &self.own {
            Some(own) => {
                let (written, version) = own.last.get_or(u64::from(a.user));
                if version > 0 && keyspace_of(written) == keyspace_of(a.key) { version } else { 0 }
            }
            None => 0,
        };
        let Some(req) = ctx.reissue(a.class, a.user, a.key, min_version, a.first) else {
            self.after_answer(a.user, ctx);
            return;
        };
        ctx.count_attempt(a.class, true);
        retries.in_flight.insert(request_key(req), (a.made + 1, a.first, a.waited));
        if let Some(own) = &mut self.own
            && a.own_version > 0
        {
            own.in_flight.insert(request_key(req), a.own_version);
        }
    }

    /// The open-loop rate changed: drop the arrival drawn at the old rate, draw one at the
    /// new (exact, as Poisson arrivals are memoryless).
    fn rate_change(&mut self, ctx: &mut Ctx) {
        self.factor = self.spec.rate_factor(ctx.now().since(crate::kernel::time::SimTime::ZERO))
            * self.fault_factor
            * self.base_factor;
        self.epoch = self.epoch.wrapping_add(1) % RETRY_TIMER;
        let d = self.next_arrival(ctx);
        ctx.set_timer(d, self.epoch);
    }

    /// Time to the next open-loop arrival at the current rate.
    #[inline]
    fn next_arrival(&mut self, ctx: &mut Ctx) -> SimDuration {
        let d = ctx.draw(&self.interarrival);
        if self.factor == 1.0 { d } else { SimDuration::from_nanos_f64(d.as_nanos() as f64 / self.factor) }
    }

    /// A closed-loop user thinks before its next request.
    fn after_answer(&mut self, user: u32, ctx: &mut Ctx) {
        if let Arrival::Closed { think, .. } = &self.spec.arrival {
            let d = ctx.draw(think);
            ctx.set_timer(d, user);
        }
    }

    #[inline]
    fn pick_class(&self, ctx: &mut Ctx) -> ClassId {
        if self.classes.len() == 1 {
            return self.classes[0].0;
        }
        let total = self.classes.last().expect("at least one class").1;
        let u = (ctx.below(1 << 53) as f64 / (1u64 << 53) as f64) * total;
        self.classes.iter().find(|(_, cum)| u < *cum).unwrap_or(&self.classes[self.classes.len() - 1]).0
    }

    pub fn report(&self) -> ComponentReport {
        ComponentReport::new(Figures::Clients(ClientsFigures { issued: self.issued, users: self.users }))
    }
}
