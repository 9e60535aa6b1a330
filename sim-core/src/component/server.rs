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

use crate::ctx::Ctx;
use crate::event::Input;
use crate::event::Outcome;
use crate::kernel::distribution::Delay;
use crate::kernel::ids::RequestId;
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::{CallMode, Model, ServerSpec, Sessions};
use crate::report::ComponentReport;
use crate::report::figures::{Capacity, Figures, ServerFigures};
use crate::world::metrics::TimeWeighted;
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
}

impl Server {
    pub fn new(spec: &ServerSpec, model: &Model) -> Server {
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
        }
    }

    /// The factor a slow fault multiplies service times by (1: normal speed).
    pub fn slowdown(&self) -> f64 {
        self.slowdown
    }

    pub fn healthy(&self) -> bool {
        !self.draining
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Request(req) => self.on_request(req, ctx),
            // The timer token is the slot of the request whose service ended.
            Input::Timer(slot) => self.on_service_done(ctx.request_in_slot(slot), ctx),
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
    fn on_service_done(&mut self, req: RequestId, ctx: &mut Ctx) {
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
            ctx.proceed(req)
        };
        if answered || self.call_mode == CallMode::Async {
            self.release(ctx);
        }
    }

    /// Frees a worker and gives it the next waiting request.
    #[inline]
    fn release(&mut self, ctx: &mut Ctx) {
        if let Some(next) = self.queue.pop_front() {
            self.queue_avg.set(ctx.now(), self.queue.len() as u64);
            self.start(next, ctx);
        } else {
            self.busy -= 1;
            self.busy_avg.set(ctx.now(), u64::from(self.busy));
        }
        debug_assert!(self.busy <= self.workers);
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
            capacity: Capacity::measured(self.measured, end.since(self.warmup_end).as_secs_f64(), utilization, busy),
        }));
        r.utilization = Some(utilization);
        r.queue_mean = Some(self.queue_avg.mean(end));
        r.queue_max = Some(self.queue_avg.max());
        r
    }
}
