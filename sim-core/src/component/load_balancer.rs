//! Load balancer: spreads the requests that reach it over the instances of its backend
//! service, by one of five policies, and stops sending to a backend only once its health
//! checks say it is down. That delay is the lesson: with the ALB defaults (a probe every
//! 30 s, 3 failures to mark down) a crashed server keeps getting traffic, which fails, for
//! 60 to 90 s.
//!
//! Model: forwarding adds no time of its own (link latencies apply). A probe that gets no
//! answer within `timeout` counts as a failure; `unhealthy_threshold` failures in a row
//! mark a backend down, `healthy_threshold` successes mark it up again. With no backend
//! up, requests fail as unavailable. Beyond `max_connections` requests in flight through
//! it, new ones are rejected.

use super::Input;
use crate::ctx::Ctx;
use crate::ids::{ComponentId, ServiceId};
use crate::model::Model;
use crate::report::ComponentReport;
use crate::request::{Outcome, Request};
use crate::sharding::key_hash;
use crate::time::{SimDuration, SimTime};

#[derive(Clone, Debug, PartialEq)]
pub enum Policy {
    RoundRobin,
    LeastConnections,
    /// The same user always lands on the same backend while the set of healthy backends
    /// does not change (sticky sessions without a cookie).
    ClientHash,
    /// Smooth weighted round robin (nginx's algorithm), one weight per backend.
    WeightedRoundRobin(Vec<u32>),
    /// Two backends drawn at random; the one with fewer requests in flight wins.
    PowerOfTwo,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HealthCheck {
    pub interval: SimDuration,
    pub timeout: SimDuration,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    /// AWS ALB's defaults, as in the seeds: every 30 s, 5 s timeout, 2 up, 3 down.
    fn default() -> Self {
        HealthCheck {
            interval: SimDuration::from_secs(30),
            timeout: SimDuration::from_secs(5),
            healthy_threshold: 2,
            unhealthy_threshold: 3,
        }
    }
}

#[derive(Clone, Debug)]
pub struct LoadBalancerSpec {
    pub backends: ServiceId,
    pub policy: Policy,
    pub health: Option<HealthCheck>,
    pub max_connections: u32,
}

/// Timer tokens: probe timeouts set this bit; the rest is the backend index, and a probe
/// carries its sequence number above bit 20 so a late answer is recognized.
const TIMEOUT_BIT: u32 = 1 << 31;
const BACKEND_BITS: u32 = 20;
const BACKEND_MASK: u32 = (1 << BACKEND_BITS) - 1;

struct Backend {
    id: ComponentId,
    up: bool,
    in_flight: u32,
    successes: u32,
    failures: u32,
    /// Sequence number of the probe awaiting an answer, if any.
    awaiting: Option<u32>,
    probe_seq: u32,
    sent: u64,
    /// Weighted round robin's running score.
    current_weight: i64,
}

pub struct LoadBalancer {
    spec: LoadBalancerSpec,
    backends: Vec<Backend>,
    in_flight: u32,
    next: usize,
    rejected: u64,
    unavailable: u64,
    marked_down: u64,
    marked_up: u64,
}

impl LoadBalancer {
    pub fn new(spec: &LoadBalancerSpec, model: &Model) -> LoadBalancer {
        let backends = model.services[spec.backends.index()]
            .instances
            .iter()
            .map(|&id| Backend {
                id,
                up: true,
                in_flight: 0,
                successes: 0,
                failures: 0,
                awaiting: None,
                probe_seq: 0,
                sent: 0,
                current_weight: 0,
            })
            .collect();
        LoadBalancer {
            spec: spec.clone(),
            backends,
            in_flight: 0,
            next: 0,
            rejected: 0,
            unavailable: 0,
            marked_down: 0,
            marked_up: 0,
        }
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Start | Input::Restart => self.start_probes(ctx),
            Input::Request(req) => self.on_request(req, ctx),
            Input::ChildDone(result) => {
                let parent = result.parent.expect("a balancer's calls have a parent");
                if let Some(p) = ctx.requests.get(parent) {
                    let b = &mut self.backends[p.tag as usize];
                    b.in_flight -= 1;
                }
                ctx.resume(&result);
                if !ctx.holds(parent) {
                    self.in_flight -= 1;
                }
            }
            Input::Timer(token) if token & TIMEOUT_BIT != 0 => {
                let b = (token & BACKEND_MASK) as usize;
                if self.backends[b].awaiting == Some(token >> BACKEND_BITS & 0x7ff) {
                    self.backends[b].awaiting = None;
                    self.probe_result(b, false);
                }
            }
            Input::Timer(token) => self.probe(token as usize, ctx),
            Input::Pong { token, healthy } => {
                let b = (token & BACKEND_MASK) as usize;
                if self.backends[b].awaiting == Some(token >> BACKEND_BITS) {
                    self.backends[b].awaiting = None;
                    self.probe_result(b, healthy);
                }
            }
            Input::Message { .. } | Input::Slow(_) | Input::Drain => {}
        }
    }

    fn start_probes(&mut self, ctx: &mut Ctx) {
        let Some(h) = &self.spec.health else { return };
        let interval = h.interval;
        // Spread the first probes over one interval, as independent checkers would be.
        for b in 0..self.backends.len() {
            let offset = SimDuration(ctx.below(interval.as_nanos().max(1)));
            ctx.set_timer(offset, b as u32);
        }
    }

    fn probe(&mut self, b: usize, ctx: &mut Ctx) {
        let h = self.spec.health.clone().expect("probes only with health checks");
        let backend = &mut self.backends[b];
        if backend.awaiting.is_some() {
            // The previous probe is still out (its timeout is longer than the interval).
            ctx.set_timer(h.interval, b as u32);
            return;
        }
        backend.probe_seq = (backend.probe_seq + 1) & 0x7ff;
        let seq = backend.probe_seq;
        backend.awaiting = Some(seq);
        let token = seq << BACKEND_BITS | b as u32;
        let target = backend.id;
        ctx.ping(target, token);
        ctx.set_timer(h.timeout, TIMEOUT_BIT | token);
        ctx.set_timer(h.interval, b as u32);
    }

    fn probe_result(&mut self, b: usize, ok: bool) {
        let h = self.spec.health.as_ref().expect("probes only with health checks");
        let backend = &mut self.backends[b];
        if ok {
            backend.failures = 0;
            backend.successes += 1;
            if !backend.up && backend.successes >= h.healthy_threshold {
                backend.up = true;
                self.marked_up += 1;
            }
        } else {
            backend.successes = 0;
            backend.failures += 1;
            if backend.up && backend.failures >= h.unhealthy_threshold {
                backend.up = false;
                self.marked_down += 1;
            }
        }
    }

    fn on_request(&mut self, req: crate::ids::RequestId, ctx: &mut Ctx) {
        if self.in_flight >= self.spec.max_connections {
            self.rejected += 1;
            ctx.respond(req, Outcome::Rejected);
            return;
        }
        let r = *ctx.requests.get(req).expect("held");
        let Some(b) = self.choose(&r, ctx) else {
            self.unavailable += 1;
            ctx.respond(req, Outcome::Unavailable);
            return;
        };
        self.in_flight += 1;
        let backend = &mut self.backends[b];
        backend.in_flight += 1;
        backend.sent += 1;
        let target = backend.id;
        ctx.requests.get_mut(req).expect("held").tag = b as u32;
        let node = ctx.next_call_node(req).expect("a balancer's flow node calls its backends");
        ctx.call_to(req, node, target);
    }

    /// The backend for a request, among those marked up.
    fn choose(&mut self, r: &Request, ctx: &mut Ctx) -> Option<usize> {
        let up: Vec<usize> = (0..self.backends.len()).filter(|&i| self.backends[i].up).collect();
        if up.is_empty() {
            return None;
        }
        let pick = match &self.spec.policy {
            Policy::RoundRobin => {
                let i = up[self.next % up.len()];
                self.next += 1;
                i
            }
            Policy::LeastConnections => {
                // Ties go round robin, so an idle pool still spreads evenly.
                let start = self.next % up.len();
                self.next += 1;
                let order = up[start..].iter().chain(&up[..start]);
                *order.min_by_key(|&&i| self.backends[i].in_flight).expect("non-empty")
            }
            Policy::ClientHash => up[(key_hash(u64::from(r.user)) % up.len() as u64) as usize],
            Policy::WeightedRoundRobin(weights) => {
                let total: i64 = up.iter().map(|&i| i64::from(weights[i])).sum();
                for &i in &up {
                    self.backends[i].current_weight += i64::from(weights[i]);
                }
                let best = *up
                    .iter()
                    .max_by_key(|&&i| (self.backends[i].current_weight, std::cmp::Reverse(i)))
                    .expect("non-empty");
                self.backends[best].current_weight -= total;
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
                    if self.backends[b].in_flight < self.backends[a].in_flight { b } else { a }
                }
            }
        };
        Some(pick)
    }

    pub fn on_crash(&mut self) {
        self.in_flight = 0;
        for b in &mut self.backends {
            b.in_flight = 0;
            b.awaiting = None;
        }
    }

    pub fn report(&self, _end: SimTime) -> ComponentReport {
        let mut r = ComponentReport::new("load_balancer");
        r.extra.insert("rejected".into(), self.rejected as f64);
        r.extra.insert("unavailable".into(), self.unavailable as f64);
        r.extra.insert("marked_down".into(), self.marked_down as f64);
        r.extra.insert("marked_up".into(), self.marked_up as f64);
        r.extra.insert("backends_up".into(), self.backends.iter().filter(|b| b.up).count() as f64);
        r.per_target = self.backends.iter().map(|b| (b.id, b.sent)).collect();
        r
    }
}
