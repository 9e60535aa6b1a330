//! Load balancer: spreads the requests that reach it over the instances of its backend
//! service, by one of seven policies, and stops sending to a backend only once its health
//! checks say it is down. That delay is the lesson: with the ALB defaults (a probe every
//! 30 s, 3 failures to mark down) a crashed server keeps getting traffic, which fails, for
//! 60 to 90 s.
//!
//! Model: forwarding adds no time of its own (link latencies apply). A probe that gets no
//! answer within `timeout` counts as a failure; `unhealthy_threshold` failures in a row
//! mark a backend down, `healthy_threshold` successes mark it up again. With no backend
//! up, requests fail as unavailable. Beyond `max_connections` requests in flight through
//! it, new ones are rejected.
//!
//! Autoscaling (an AWS Auto Scaling group behind the balancer, target tracking): every
//! `interval` the balancer compares its backends' load (mean requests in flight per
//! worker, at most 1, as CPU utilization is) with `target` and asks for `ceil(in service * load / target)` instances, within
//! `min` and the service's `count`. New instances take `startup` (boot and warm-up) to
//! join; after a scale-out it waits `cooldown` before scaling out again, and scales in only
//! `scale_in_cooldown` after the last change. The instances out of service cost nothing:
//! the bill counts the mean number in service.
//!
//! Scale faults (a person setting the group's size by hand) set the number in service
//! at once: added instances join with no startup, removed ones (the highest-numbered)
//! leave rotation and finish what they hold. The bill and the in-service figures then
//! count the mean number in service, as with autoscaling.

use crate::component::picker::Picker;
use crate::ctx::Ctx;
use crate::event::Input;
use crate::event::Outcome;
use crate::kernel::ids::ComponentId;
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::Model;
use crate::model::load_balancer::{Autoscale, LoadBalancerSpec, Policy};
use crate::report::ComponentReport;
use crate::report::figures::{AutoscaleFigures, Figures, LoadBalancerFigures};
use crate::world::metrics::TimeWeighted;
use crate::world::notes::NoteKind;
use crate::world::request::Request;

/// The scaler's state, kept only when autoscaling.
#[derive(Clone)]
struct Scaler {
    spec: Autoscale,
    /// Workers per backend instance, for load per worker.
    workers: f64,
    /// Instances starting up.
    booting: usize,
    /// Integral of requests in flight since the last evaluation (request-nanoseconds).
    area: f64,
    since: SimTime,
    last_out: Option<SimTime>,
    last_change: Option<SimTime>,
    in_service: TimeWeighted,
    scale_outs: u64,
    scale_ins: u64,
}

/// The in-service count set by scale faults, kept from the first scale fault (or from
/// the start when the model holds backends back for them).
#[derive(Clone)]
struct Manual {
    in_service: TimeWeighted,
    scale_outs: u64,
    scale_ins: u64,
}

impl Manual {
    fn new(window_start: SimTime, active: usize) -> Box<Manual> {
        let mut in_service = TimeWeighted::new(window_start);
        in_service.set(SimTime::ZERO, active as u64);
        Box::new(Manual { in_service, scale_outs: 0, scale_ins: 0 })
    }
}

/// Timer tokens: probe timeouts set this bit; the rest is the backend index, and a probe
/// carries its sequence number above bit 20 so a late answer is recognized.
const TIMEOUT_BIT: u32 = 1 << 31;
/// The scaler's evaluation timer; `BOOT_BIT | n`: n instances finished starting.
const SCALE: u32 = 1 << 30;
const BOOT_BIT: u32 = 1 << 29;
const BACKEND_BITS: u32 = 20;
const BACKEND_MASK: u32 = (1 << BACKEND_BITS) - 1;

#[derive(Clone)]
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
}

#[derive(Clone)]
pub struct LoadBalancer {
    spec: LoadBalancerSpec,
    backends: Vec<Backend>,
    /// Backends `0..active` are in service (all of them without autoscaling).
    active: usize,
    scaler: Option<Box<Scaler>>,
    manual: Option<Box<Manual>>,
    window_start: SimTime,
    in_flight: u32,
    picker: Picker,
    /// Positions of the backends in service and marked up, in order: the picker's
    /// candidates, rebuilt only when `active` or a mark changes (`None` then), not per request.
    candidates: Option<Vec<usize>>,
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
            })
            .collect();
        let workers = |id: ComponentId| match &model.components[id.index()].model {
            crate::model::ComponentModel::Server(s) => f64::from(s.workers),
            _ => 1.0,
        };
        let instances = &model.services[spec.backends.index()].instances;
        let scaler = spec.autoscale.as_ref().map(|a| {
            Box::new(Scaler {
                spec: a.clone(),
                workers: workers(instances[0]),
                booting: 0,
                area: 0.0,
                since: SimTime::ZERO,
                last_out: None,
                last_change: None,
                in_service: TimeWeighted::new(SimTime::ZERO + model.warmup),
                scale_outs: 0,
                scale_ins: 0,
            })
        });
        let all = spec.start_in_service.map_or(instances.len(), |n| (n as usize).min(instances.len()));
        let active = spec.autoscale.as_ref().map_or(all, |a| (a.min as usize).min(instances.len()));
        let window_start = SimTime::ZERO + model.warmup;
        LoadBalancer {
            spec: spec.clone(),
            backends,
            active,
            scaler,
            manual: spec.start_in_service.map(|_| Manual::new(window_start, active)),
            window_start,
            in_flight: 0,
            picker: Picker::new(instances.len()),
            candidates: None,
            rejected: 0,
            unavailable: 0,
            marked_down: 0,
            marked_up: 0,
        }
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Start | Input::Restart => {
                self.start_probes(ctx);
                if let Some(s) = &mut self.scaler {
                    s.in_service.set(ctx.now(), self.active as u64);
                    s.since = ctx.now();
                    ctx.set_timer(s.spec.interval, SCALE);
                }
            }
            Input::Request(req) => self.on_request(req, ctx),
            Input::ChildDone(result) => {
                let parent = result.parent.expect("a balancer's calls have a parent");
                self.account(ctx.now());
                if let Some(p) = ctx.try_request(parent) {
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
                    self.probe_result(b, false, ctx);
                }
            }
            Input::Timer(SCALE) => self.scale(ctx),
            Input::Timer(token) if token & BOOT_BIT != 0 => {
                let n = (token & !BOOT_BIT) as usize;
                let s = self.scaler.as_mut().expect("boots only with autoscaling");
                s.booting -= n;
                self.active = (self.active + n).min(self.backends.len());
                self.candidates = None;
                s.in_service.set(ctx.now(), self.active as u64);
                ctx.note(NoteKind::Scaled(self.active as u32));
            }
            Input::Timer(token) => self.probe(token as usize, ctx),
            Input::Pong { token, healthy } => {
                let b = (token & BACKEND_MASK) as usize;
                if self.backends[b].awaiting == Some(token >> BACKEND_BITS) {
                    self.backends[b].awaiting = None;
                    self.probe_result(b, healthy, ctx);
                }
            }
            Input::Scale(n) => self.set_in_service(n as usize, ctx),
            Input::Message { .. } | Input::Slow(_) | Input::Drain | Input::Rate(_) | Input::Capacity(_) => {}
        }
    }

    /// A scale fault: `n` backends in service from now (the lowest-numbered), the ones
    /// taken out finishing what they hold as the scaler's scale-in does.
    fn set_in_service(&mut self, n: usize, ctx: &mut Ctx) {
        let n = n.clamp(1, self.backends.len());
        let m = self.manual.get_or_insert_with(|| Manual::new(self.window_start, self.active));
        match n.cmp(&self.active) {
            std::cmp::Ordering::Greater => m.scale_outs += 1,
            std::cmp::Ordering::Less => m.scale_ins += 1,
            std::cmp::Ordering::Equal => return,
        }
        self.active = n;
        self.candidates = None;
        m.in_service.set(ctx.now(), n as u64);
        ctx.note(NoteKind::Scaled(n as u32));
    }

    /// Adds the requests in flight since the last change to the scaler's integral.
    #[inline]
    fn account(&mut self, now: SimTime) {
        if let Some(s) = &mut self.scaler {
            s.area += f64::from(self.in_flight) * now.since(s.since).as_nanos() as f64;
            s.since = now;
        }
    }

    /// Target tracking: compare the interval's load per worker in service with the target.
    fn scale(&mut self, ctx: &mut Ctx) {
        self.account(ctx.now());
        let (active, max) = (self.active, self.backends.len());
        let s = self.scaler.as_mut().expect("scaling only with autoscaling");
        // Like CPU utilization, the load tops out at 100%: queued requests do not count,
        // so an overloaded tier grows by at most 1/target per step, as with CPU tracking.
        let load = (s.area / s.spec.interval.as_nanos() as f64 / (active as f64 * s.workers)).min(1.0);
        s.area = 0.0;
        ctx.set_timer(s.spec.interval, SCALE);
        let wanted = ((active as f64 * load / s.spec.target).ceil() as usize).clamp(s.spec.min as usize, max);
        let since = |t: Option<SimTime>, d: SimDuration| t.is_none_or(|t| ctx.now().since(t) >= d);
        if wanted > active + s.booting && since(s.last_out, s.spec.cooldown) {
            let n = wanted - active - s.booting;
            s.booting += n;
            s.scale_outs += 1;
            s.last_out = Some(ctx.now());
            s.last_change = Some(ctx.now());
            ctx.set_timer(s.spec.startup, BOOT_BIT | n as u32);
        } else if wanted < active && s.booting == 0 && since(s.last_change, s.spec.scale_in_cooldown) {
            // Out of rotation: the requests they hold finish, new ones go elsewhere.
            self.active = wanted;
            self.candidates = None;
            s.scale_ins += 1;
            ctx.note(NoteKind::Scaled(wanted as u32));
            s.last_change = Some(ctx.now());
            s.in_service.set(ctx.now(), wanted as u64);
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

    fn probe_result(&mut self, b: usize, ok: bool, ctx: &mut Ctx) {
        let h = self.spec.health.as_ref().expect("probes only with health checks");
        let backend = &mut self.backends[b];
        if ok {
            backend.failures = 0;
            backend.successes += 1;
            if !backend.up && backend.successes >= h.healthy_threshold {
                backend.up = true;
                self.candidates = None;
                self.marked_up += 1;
                ctx.note(NoteKind::MarkedUp(backend.id));
            }
        } else {
            backend.successes = 0;
            backend.failures += 1;
            if backend.up && backend.failures >= h.unhealthy_threshold {
                backend.up = false;
                self.candidates = None;
                self.marked_down += 1;
                ctx.note(NoteKind::MarkedDown(backend.id));
            }
        }
    }

    fn on_request(&mut self, req: crate::kernel::ids::RequestId, ctx: &mut Ctx) {
        if self.in_flight >= self.spec.max_connections {
            self.rejected += 1;
            ctx.respond(req, Outcome::Rejected);
            return;
        }
        let r = *ctx.request(req);
        let Some(b) = self.choose(&r, ctx) else {
            self.unavailable += 1;
            ctx.respond(req, Outcome::Unavailable);
            return;
        };
        self.account(ctx.now());
        self.in_flight += 1;
        let backend = &mut self.backends[b];
        backend.in_flight += 1;
        backend.sent += 1;
        let target = backend.id;
        ctx.set_tag(req, b as u32);
        let node = ctx.next_call_node(req).expect("a balancer's flow node calls its backends");
        ctx.call_to(req, node, target);
    }

    /// The backend for a request, among those marked up.
    fn choose(&mut self, r: &Request, ctx: &mut Ctx) -> Option<usize> {
        let (active, backends) = (self.active, &self.backends);
        let up = self.candidates.get_or_insert_with(|| (0..active).filter(|&i| backends[i].up).collect());
        if up.is_empty() {
            return None;
        }
        let pick = self.picker.choose(&self.spec.policy, up, |i| backends[i].in_flight, r.user, ctx);
        if matches!(self.spec.policy, Policy::PowerOfD(_)) {
            // Its draw reorders the candidates; the next pick starts from them in order.
            self.candidates = None;
        }
        Some(pick)
    }

    /// The backends its health checks currently hold down.
    pub fn marked_down(&self) -> impl Iterator<Item = ComponentId> + '_ {
        self.backends.iter().filter(|b| !b.up).map(|b| b.id)
    }

    pub fn on_crash(&mut self) {
        self.in_flight = 0;
        if let Some(s) = &mut self.scaler {
            s.booting = 0;
            s.area = 0.0;
        }
        for b in &mut self.backends {
            b.in_flight = 0;
            b.awaiting = None;
        }
    }

    pub fn report(&self, end: SimTime) -> ComponentReport {
        let auto = self.scaler.as_ref().map(|s| (&s.in_service, s.scale_outs, s.scale_ins));
        let manual = self.manual.as_ref().map(|m| (&m.in_service, m.scale_outs, m.scale_ins));
        let autoscaling = auto.or(manual).map(|(in_service, scale_outs, scale_ins)| AutoscaleFigures {
            backends_in_service_mean: in_service.mean(end),
            backends_in_service: self.active as u64,
            scale_outs,
            scale_ins,
        });
        let mut r = ComponentReport::new(Figures::LoadBalancer(LoadBalancerFigures {
            rejected: self.rejected,
            unavailable: self.unavailable,
            marked_down: self.marked_down,
            marked_up: self.marked_up,
            backends_up: self.backends.iter().filter(|b| b.up).count() as u64,
            autoscaling,
        }));
        r.per_target = self.backends.iter().map(|b| (b.id, b.sent)).collect();
        r
    }
}
