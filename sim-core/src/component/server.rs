//! Server: `workers` identical workers share one FIFO queue of bounded capacity. A request
//! that finds a free worker starts service at once; otherwise it waits; if the queue is
//! full it is rejected (a 503). With exponential service this is the M/M/c/K station whose
//! numbers queueing theory predicts, which is how the engine is validated.

use super::EventKind;
use crate::distribution::Delay;
use crate::engine::Ctx;
use crate::ids::RequestId;
use crate::metrics::TimeWeighted;
use crate::model::{Model, ServerSpec};
use crate::report::ComponentReport;
use crate::request::Outcome;
use crate::time::SimTime;
use std::collections::VecDeque;

pub struct Server {
    workers: u32,
    queue_capacity: u32,
    /// Service time per class (index = class id).
    service: Vec<Delay>,
    busy: u32,
    queue: VecDeque<RequestId>,
    busy_avg: TimeWeighted,
    queue_avg: TimeWeighted,
    served: u64,
    rejected: u64,
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
            busy: 0,
            queue: VecDeque::new(),
            busy_avg: TimeWeighted::new(warmup_end),
            queue_avg: TimeWeighted::new(warmup_end),
            served: 0,
            rejected: 0,
        }
    }

    pub fn on_event(&mut self, kind: EventKind, ctx: &mut Ctx) {
        match kind {
            EventKind::Start => {}
            EventKind::Request(req) => self.on_request(req, ctx),
            // The timer token is the request whose service just ended.
            EventKind::Timer(slot) => self.on_service_done(RequestId(slot), ctx),
            EventKind::Response(req) => ctx.relay(req),
        }
    }

    #[inline]
    fn on_request(&mut self, req: RequestId, ctx: &mut Ctx) {
        if self.busy < self.workers {
            self.busy += 1;
            self.busy_avg.set(ctx.now, u64::from(self.busy));
            self.start(req, ctx);
        } else if self.queue.len() < self.queue_capacity as usize {
            self.queue.push_back(req);
            self.queue_avg.set(ctx.now, self.queue.len() as u64);
        } else {
            self.rejected += 1;
            ctx.fail(req, Outcome::Rejected);
        }
    }

    #[inline]
    fn start(&mut self, req: RequestId, ctx: &mut Ctx) {
        let class = ctx.requests.get(req).class;
        let d = ctx.draw(&self.service[class.index()]);
        ctx.set_timer(d, req.0);
    }

    #[inline]
    fn on_service_done(&mut self, req: RequestId, ctx: &mut Ctx) {
        self.served += 1;
        ctx.forward(req);
        if let Some(next) = self.queue.pop_front() {
            self.queue_avg.set(ctx.now, self.queue.len() as u64);
            self.start(next, ctx);
        } else {
            self.busy -= 1;
            self.busy_avg.set(ctx.now, u64::from(self.busy));
        }
        debug_assert!(self.busy <= self.workers);
        debug_assert!(self.queue.is_empty() || self.busy == self.workers, "work-conserving");
    }

    pub fn report(&self, end: SimTime) -> ComponentReport {
        let mut r = ComponentReport::new("server");
        r.utilization = Some(self.busy_avg.mean(end) / f64::from(self.workers));
        r.queue_mean = Some(self.queue_avg.mean(end));
        r.queue_max = Some(self.queue_avg.max());
        r.extra.insert("workers", f64::from(self.workers));
        r.extra.insert("busy_mean", self.busy_avg.mean(end));
        r.extra.insert("served", self.served as f64);
        r.extra.insert("rejected", self.rejected as f64);
        r
    }
}
