//! Server: a web or application server, or any worker pool. `workers` identical workers
//! share one FIFO accept queue of `queue_capacity`; a request that finds the queue full is
//! rejected at once (a 503). A worker serves a request for a service time drawn from the
//! class's distribution (multiplied by the slow-down factor, if a fault set one), then the
//! request makes its flow's calls. A *blocking* server keeps the worker until the calls
//! are answered (thread per request); an *async* one frees it at once (an event loop).
//! With exponential service and no calls this is the M/M/c/K station of queueing theory.
//!
//! Failure modes: `error_rate` answers a share of requests with an error; a crash loses
//! the queue, the requests in service and local sessions; a drain refuses new requests
//! and reports unhealthy to probes while the ones in hand finish.
//!
//! Admission control, when the spec asks for it (`component::admission`): a rate limit
//! answers 429 (`Limited`) before a request queues; shedding answers 503 (`Rejected`, its
//! detail saying "shed") to an arrival that finds the queue at the shedding length, or to
//! a waiter CoDel judges too old when a worker takes it; adaptive LIFO takes the newest
//! waiter while the oldest has waited too long.

use crate::component::admission::Admission;
use crate::ctx::Ctx;
use crate::event::Input;
use crate::event::Outcome;
use crate::kernel::distribution::Delay;
use crate::kernel::ids::{RequestId, ServiceId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::{CallMode, Model, ServerSpec, Sessions};
use crate::report::ComponentReport;
use crate::report::figures::{Capacity, Figures, ServerFigures};
use crate::world::metrics::{TimeWeighted, failure};
use std::collections::VecDeque;

#[derive(Clone)]
pub struct Server {
    workers: u32,
    queue_capacity: u32,
    /// Service time per class (index = class id).
    service: Vec<Delay>,
    call_mode: CallMode,
    error_rate: f64,
    sessions: Sessions,
    /// Users with a session in this server's memory (local sessions only).
    session_users: Vec<bool>,
    slowdown: f64,
    draining: bool,
    busy: u32,
    queue: VecDeque<RequestId>,
    busy_avg: TimeWeighted,
    queue_avg: TimeWeighted,
    served: u64,
    /// Requests served after the warm-up, for throughput and measured capacity.
    measured: u64,
    warmup_end: SimTime,
    rejected: u64,
    errors: u64,
    session_misses: u64,
    admission: Option<Box<Admission>>,
    /// Its own service, whose shared rate-limit count (if any) it consults.
    own_service: ServiceId,
}

impl Server {
    pub fn new(spec: &ServerSpec, me: ServiceId, model: &Model) -> Server {
        let mut service = vec![spec.service.clone(); model.classes.len()];
        for (class, d) in &spec.service_by_class {
            service[class.index()] = d.clone();
        }
        let warmup_end = SimTime::ZERO + model.warmup;
        Server {
            workers: spec.workers,
            queue_capacity: spec.queue_capacity,
            service,
            call_mode: spec.call_mode,
            error_rate: spec.error_rate,
            sessions: spec.sessions,
            session_users: Vec::new(),
            slowdown: 1.0,
            draining: false,
            busy: 0,
            queue: VecDeque::new(),
            busy_avg: TimeWeighted::new(warmup_end),
            queue_avg: TimeWeighted::new(warmup_end),
            served: 0,
            measured: 0,
            warmup_end,
            rejected: 0,
            errors: 0,
            session_misses: 0,
            admission: spec.admission.as_ref().map(|a| {
                let low = model.classes.iter().map(|c| c.low_priority).collect();
                let checks = a.rate_limit.and_then(|r| r.store).map_or(Vec::new(), |s| {
                    let check = |c: &crate::model::ClassSpec| crate::component::admission::check_node(&c.flow, &s);
                    model.classes.iter().map(|c| (check(c), c.origin.index() as u32)).collect()
                });
                Box::new(Admission::new(a, low, checks))
            }),
            own_service: me,
        }
    }

    /// The factor a slow fault multiplies service times by (1: normal speed).
    pub fn slowdown(&self) -> f64 {
        self.slowdown
    }

    pub fn healthy(&self) -> bool {
        !self.draining
    }

    #[inline]
    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        self.on_input_with(input, ctx, Ctx::proceed);
    }

    /// `on_input`, moving a served request on with `proceed`, which makes its flow's calls
    /// or answers it and says whether it answered (an API gateway routes instead).
    #[inline]
    pub fn on_input_with<'c>(
        &mut self,
        input: Input,
        ctx: &mut Ctx<'c>,
        proceed: impl FnOnce(&mut Ctx<'c>, RequestId) -> bool,
    ) {
        match input {
            Input::Request(req) => self.on_request(req, ctx),
            // The timer token is the slot of the request whose service ended.
            Input::Timer(slot) => self.on_service_done(ctx.request_in_slot(slot), ctx, proceed),
            Input::ChildDone(result) if self.is_check(&result) => self.on_checked(&result, ctx),
            Input::ChildDone(result) => {
                let parent = result.parent.expect("a server's calls have a parent");
                let waiting = ctx.holds(parent);
                ctx.resume(&result);
                if self.call_mode == CallMode::Blocking && waiting && !ctx.holds(parent) {
                    self.release(ctx);
                }
            }
            Input::Slow(factor) => self.slowdown = factor,
            Input::Drain => self.draining = true,
            Input::Start
            | Input::Restart
            | Input::Pong { .. }
            | Input::Message { .. }
            | Input::Scale(_)
            | Input::Rate(_)
            | Input::Capacity(_) => {}
        }
    }

    #[inline]
    fn on_request(&mut self, req: RequestId, ctx: &mut Ctx) {
        if self.draining {
            self.rejected += 1;
            ctx.respond(req, Outcome::Rejected);
        } else if self.admission.is_some() {
            self.on_request_admitting(req, ctx);
        } else if self.busy < self.workers {
            self.busy += 1;
            self.busy_avg.set(ctx.now(), u64::from(self.busy));
            self.start(req, ctx);
        } else if self.queue.len() < self.queue_capacity as usize {
            self.queue.push_back(req);
            ctx.queued(req);
            self.queue_avg.set(ctx.now(), self.queue.len() as u64);
        } else {
            self.rejected += 1;
            ctx.respond(req, Outcome::Rejected);
        }
    }

    /// `on_request` past the rate limit and the shedding rule.
    #[inline(never)]
    fn on_request_admitting(&mut self, req: RequestId, ctx: &mut Ctx) {
        let now = ctx.now();
        let r = ctx.request(req);
        let (class, user, key) = (r.class.index(), r.user, r.key);
        let a = self.admission.as_mut().expect("admitting");
        if let Some((node, counted, timeout)) = a.shared().and_then(|s| s.call(class, user, key)) {
            // The verdict waits for the store's answer (`on_checked`).
            ctx.call_aside(req, node, counted, timeout);
        } else if !a.within_limit(user, key, now) {
            ctx.respond(req, Outcome::Limited);
        } else {
            self.admit(req, class, ctx);
        }
    }

    /// Whether `result` answers a rate-limit check made to the shared store.
    #[inline]
    fn is_check(&mut self, result: &crate::event::ChildResult) -> bool {
        self.admission.as_mut().and_then(|a| a.shared()).is_some_and(|s| s.is_check(result.class.index(), result.node))
    }

    /// The store answered a check (or could not): the shared count decides, or, with the
    /// store unreachable, the limiter's side (open: admit; closed: 429).
    fn on_checked(&mut self, result: &crate::event::ChildResult, ctx: &mut Ctx) {
        let parent = result.parent.expect("a check has a parent");
        if !ctx.settle(result) {
            return;
        }
        let now = ctx.now();
        let verdict = (result.outcome == Outcome::Ok)
            .then(|| ctx.shared_limiter(self.own_service).admit_counted(result.key, now));
        let a = self.admission.as_mut().expect("admitting");
        let shared = a.shared().expect("checks are shared limits");
        match (verdict, shared.on_answer(verdict)) {
            (_, true) => self.admit(parent, result.class.index(), ctx),
            (Some(_), false) => ctx.respond(parent, Outcome::Limited),
            (None, false) => ctx.respond_because(parent, Outcome::Limited, failure::STORE_DOWN),
        }
    }

    /// A request past the rate limit: served at once, shed, queued or rejected.
    fn admit(&mut self, req: RequestId, class: usize, ctx: &mut Ctx) {
        let now = ctx.now();
        let a = self.admission.as_mut().expect("admitting");
        if self.busy < self.workers {
            // Taken at once: a wait of zero, which tells CoDel the queue drained.
            a.sheds_taken(now, SimDuration::ZERO, class);
            self.busy += 1;
            self.busy_avg.set(now, u64::from(self.busy));
            self.start(req, ctx);
        } else if a.sheds_arrival(class, self.queue.len()) {
            self.rejected += 1;
            ctx.respond_because(req, Outcome::Rejected, failure::SHED_LENGTH);
        } else if self.queue.len() < self.queue_capacity as usize {
            a.on_queued(now);
            self.queue.push_back(req);
            ctx.queued(req);
            self.queue_avg.set(now, self.queue.len() as u64);
        } else {
            self.rejected += 1;
            ctx.respond(req, Outcome::Rejected);
        }
    }

    #[inline]
    fn start(&mut self, req: RequestId, ctx: &mut Ctx) {
        ctx.begin_service(req);
        let class = ctx.request(req).class;
        let mut d = ctx.draw(&self.service[class.index()]);
        if self.slowdown != 1.0 {
            d = SimDuration::from_nanos_f64(d.as_nanos() as f64 * self.slowdown);
        }
        ctx.set_timer(d, req.slot);
    }

    #[inline]
    fn on_service_done<'c>(
        &mut self,
        req: RequestId,
        ctx: &mut Ctx<'c>,
        proceed: impl FnOnce(&mut Ctx<'c>, RequestId) -> bool,
    ) {
        self.served += 1;
        self.measured += u64::from(ctx.now() >= self.warmup_end);
        ctx.count_if_wasted(req);
        let answered = if self.error_rate > 0.0 && ctx.chance(self.error_rate) {
            self.errors += 1;
            ctx.respond(req, Outcome::Error);
            true
        } else {
            if self.sessions == Sessions::Local {
                self.touch_session(req, ctx);
            }
            proceed(ctx, req)
        };
        if answered || self.call_mode == CallMode::Async {
            self.release(ctx);
        }
    }

    /// Frees a worker and gives it the next waiting request.
    #[inline]
    fn release(&mut self, ctx: &mut Ctx) {
        if self.admission.is_some() {
            return self.release_admitting(ctx);
        }
        if let Some(next) = self.queue.pop_front() {
            self.queue_avg.set(ctx.now(), self.queue.len() as u64);
            self.start(next, ctx);
        } else {
            self.busy -= 1;
            self.busy_avg.set(ctx.now(), u64::from(self.busy));
        }
        debug_assert!(self.busy <= self.workers);
    }

    /// `release` in the admission's order, shedding the waiters CoDel judges too old.
    #[inline(never)]
    fn release_admitting(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        while !self.queue.is_empty() {
            let a = self.admission.as_mut().expect("admitting");
            let (newest, at) = a.take(now);
            let next = if newest { self.queue.pop_back() } else { self.queue.pop_front() }.expect("not empty");
            self.queue_avg.set(now, self.queue.len() as u64);
            if a.sheds_taken(now, now.since(at), ctx.request(next).class.index()) {
                self.rejected += 1;
                ctx.respond_because(next, Outcome::Rejected, failure::SHED_DELAY);
            } else {
                self.start(next, ctx);
                return;
            }
        }
        self.busy -= 1;
        self.busy_avg.set(now, u64::from(self.busy));
    }

    /// A user without a session here has to log in again: counted, then remembered.
    fn touch_session(&mut self, req: RequestId, ctx: &mut Ctx) {
        let user = ctx.request(req).user as usize;
        if self.session_users.len() <= user {
            self.session_users.resize(user + 1, false);
        }
        if !self.session_users[user] {
            self.session_misses += 1;
            self.session_users[user] = true;
        }
    }

    pub fn on_crash(&mut self, now: SimTime) {
        self.busy = 0;
        self.queue.clear();
        self.session_users.clear();
        self.draining = false;
        self.slowdown = 1.0;
        self.busy_avg.set(now, 0);
        self.queue_avg.set(now, 0);
        if let Some(a) = &mut self.admission {
            a.on_crash(now);
        }
    }

    pub fn report(&self, end: SimTime) -> ComponentReport {
        let busy = self.busy_avg.mean(end);
        let utilization = busy / f64::from(self.workers);
        let mut r = ComponentReport::new(Figures::Server(ServerFigures {
            workers: self.workers,
            busy_mean: busy,
            served: self.served,
            rejected: self.rejected,
            errors: (self.error_rate > 0.0).then_some(self.errors),
            session_misses: (self.sessions == Sessions::Local).then_some(self.session_misses),
            admission: self.admission.as_ref().map(|a| a.figures()),
            capacity: Capacity::measured(self.measured, end.since(self.warmup_end).as_secs_f64(), utilization, busy),
        }));
        r.utilization = Some(utilization);
        r.queue_mean = Some(self.queue_avg.mean(end));
        r.queue_max = Some(self.queue_avg.max());
        r
    }
}
