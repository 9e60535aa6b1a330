//! Message queue with a worker pool (BullMQ, SQS): the producer's request is answered as
//! soon as the job is stored (the 202 of an upload), and the job is then handed to the
//! instances of the next service of the flow, the workers, as they have room: each worker
//! instance holds at most as many jobs as it has workers (prefetch).
//!
//! A job a worker fails (an error, a refusal, a reset) is retried after an exponential
//! backoff (`backoff`, doubled at each receive); a job not acknowledged within the
//! `visibility_timeout` becomes visible again at once. After `max_receives` receives it
//! goes to the dead-letter queue. Depth (jobs waiting) and the age of the oldest job when
//! taken are reported; with `autoscale`, the number of workers in use follows the depth,
//! new ones joining after a start-up delay.

use super::token_slab::TokenSlab;
use crate::ctx::Ctx;
use crate::event::ChildResult;
use crate::event::Input;
use crate::event::Outcome;
use crate::kernel::ids::{ClassId, ComponentId, RequestId};
use crate::kernel::keymap::KeyMap;
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::queue::QueueSpec;
use crate::model::{ComponentModel, Model};
use crate::report::ComponentReport;
use crate::report::figures::{Figures, QueueFigures};
use crate::world::metrics::{LatencyStats, TimeWeighted};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug)]
struct Job {
    class: ClassId,
    node: u16,
    key: u64,
    user: u32,
    enqueued: SimTime,
    receives: u32,
}

const SCALE: u32 = u32::MAX;
const SCALE_UP: u32 = u32::MAX - 1;
/// Timer tokens with this bit: a job's backoff is over (the rest is its token).
const RETRY: u32 = 1 << 30;

#[derive(Clone)]
pub struct Queue {
    spec: QueueSpec,
    consumers: Vec<ComponentId>,
    /// Jobs each consumer instance may hold at once (its workers).
    prefetch: Vec<u32>,
    held: Vec<u32>,
    /// Consumer instances in use (autoscaling grows and shrinks this prefix).
    active: usize,
    scaling_up: bool,
    jobs: TokenSlab<Job>,
    ready: VecDeque<u32>,
    /// Job hand-offs in flight: child request -> (job token, consumer index).
    out: KeyMap<u64>,
    /// The same hand-offs as (child key, job token), to requeue them after a crash.
    out_list: Vec<(u64, u32)>,
    /// Jobs waiting out a retry backoff.
    backing_off: std::collections::BTreeSet<u32>,
    /// Producers waiting out the enqueue latency, by timer token.
    storing: TokenSlab<RequestId>,
    next: usize,
    warmup_end: SimTime,
    depth: TimeWeighted,
    active_avg: TimeWeighted,
    job_latency: LatencyStats,
    /// From enqueue to the dead-letter queue.
    dead_letter_age: LatencyStats,
    oldest_wait_max: SimDuration,
    enqueued: u64,
    processed: u64,
    window_processed: u64,
    retries: u64,
    redelivered: u64,
    dead_letters: u64,
    rejected: u64,
}

fn child_key(id: RequestId) -> u64 {
    u64::from(id.slot) << 32 | u64::from(id.generation)
}

impl Queue {
    pub fn new(spec: &QueueSpec, model: &Model) -> Queue {
        let consumers = model.services[spec.consumers.index()].instances.clone();
        let prefetch: Vec<u32> = consumers
            .iter()
            .map(|c| match &model.components[c.index()].model {
                ComponentModel::Server(s) => s.workers,
                _ => 1,
            })
            .collect();
        let active = spec.autoscale.as_ref().map_or(consumers.len(), |a| (a.min as usize).min(consumers.len()));
        let warmup_end = SimTime::ZERO + model.warmup;
        Queue {
            spec: spec.clone(),
            held: vec![0; consumers.len()],
            consumers,
            prefetch,
            active,
            scaling_up: false,
            jobs: TokenSlab::default(),
            ready: VecDeque::new(),
            out: KeyMap::new(u64::MAX),
            out_list: Vec::new(),
            backing_off: std::collections::BTreeSet::new(),
            storing: TokenSlab::default(),
            next: 0,
            warmup_end,
            depth: TimeWeighted::new(warmup_end),
            active_avg: TimeWeighted::new(warmup_end),
            job_latency: LatencyStats::default(),
            dead_letter_age: LatencyStats::default(),
            oldest_wait_max: SimDuration::ZERO,
            enqueued: 0,
            processed: 0,
            window_processed: 0,
            retries: 0,
            redelivered: 0,
            dead_letters: 0,
            rejected: 0,
        }
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Start | Input::Restart => {
                self.active_avg.set(ctx.now(), self.active as u64);
                if let Some(a) = &self.spec.autoscale {
                    ctx.set_timer(a.interval, SCALE);
                }
                self.dispatch(ctx);
            }
            Input::Request(req) => {
                let d = ctx.draw(&self.spec.latency);
                let token = self.storing.insert(req);
                ctx.set_timer(d, token);
            }
            Input::Timer(SCALE) => self.autoscale(ctx),
            Input::Timer(SCALE_UP) => {
                let max = self.spec.autoscale.as_ref().map_or(self.consumers.len(), |a| a.max as usize);
                self.active = (self.active + 1).min(max).min(self.consumers.len());
                self.scaling_up = false;
                self.active_avg.set(ctx.now(), self.active as u64);
                self.dispatch(ctx);
            }
            Input::Timer(t) if t & RETRY != 0 => {
                self.backing_off.remove(&(t & !RETRY));
                self.ready.push_back(t & !RETRY);
                self.depth.set(ctx.now(), self.ready.len() as u64);
                self.dispatch(ctx);
            }
            Input::Timer(t) => {
                let req = self.storing.take(t).expect("a store timer has its producer");
                self.store(req, ctx);
            }
            Input::ChildDone(result) => self.on_job_done(&result, ctx),
            Input::Pong { .. }
            | Input::Message { .. }
            | Input::Slow(_)
            | Input::Drain
            | Input::Scale(_)
            | Input::Rate(_)
            | Input::Capacity(_) => {}
        }
    }

    fn store(&mut self, req: RequestId, ctx: &mut Ctx) {
        if (self.jobs.len() as u64) >= self.spec.capacity {
            self.rejected += 1;
            ctx.respond(req, Outcome::Rejected);
            return;
        }
        let r = *ctx.request(req);
        let Some(node) = ctx.next_call_node(req) else {
            ctx.respond(req, Outcome::Ok);
            return;
        };
        let job = Job { class: r.class, node, key: r.key, user: r.user, enqueued: ctx.now(), receives: 0 };
        self.enqueued += 1;
        let token = self.jobs.insert(job);
        self.ready.push_back(token);
        self.depth.set(ctx.now(), self.ready.len() as u64);
        // The producer's answer: accepted (202); the work happens later.
        ctx.respond(req, Outcome::Ok);
        self.dispatch(ctx);
    }

    /// Hands ready jobs to consumer instances with room, in turn.
    fn dispatch(&mut self, ctx: &mut Ctx) {
        while !self.ready.is_empty() {
            let Some(c) = (0..self.active)
                .map(|k| (self.next + k) % self.active.max(1))
                .find(|&c| self.held[c] < self.prefetch[c])
            else {
                break;
            };
            self.next = (c + 1) % self.active.max(1);
            let token = self.ready.pop_front().expect("non-empty");
            self.depth.set(ctx.now(), self.ready.len() as u64);
            let job = self.jobs.get_mut(token).expect("ready jobs exist");
            job.receives += 1;
            let job = *job;
            self.oldest_wait_max = self.oldest_wait_max.max(ctx.now().since(job.enqueued));
            self.held[c] += 1;
            let child = ctx.detached_call(
                job.class,
                job.node,
                job.key,
                job.user,
                Some(self.consumers[c]),
                Some(self.spec.visibility_timeout),
            );
            self.out.insert(child_key(child), u64::from(token) << 32 | c as u64);
            self.out_list.push((child_key(child), token));
        }
    }

    fn on_job_done(&mut self, result: &ChildResult, ctx: &mut Ctx) {
        let Some(v) = self.out.remove(child_key(result.child)) else { return };
        let k = child_key(result.child);
        if let Some(p) = self.out_list.iter().position(|e| e.0 == k) {
            self.out_list.swap_remove(p);
        }
        let (token, c) = ((v >> 32) as u32, (v & 0xffff_ffff) as usize);
        self.held[c] -= 1;
        let job = *self.jobs.get(token).expect("jobs out exist");
        if result.outcome == Outcome::Ok {
            self.jobs.take(token);
            self.processed += 1;
            if ctx.now() >= self.warmup_end {
                self.window_processed += 1;
                self.job_latency.record(ctx.now().since(job.enqueued));
            }
        } else if job.receives >= self.spec.max_receives {
            self.jobs.take(token);
            self.dead_letters += 1;
            self.dead_letter_age.record(ctx.now().since(job.enqueued));
            if crate::world::notes::is_power_of_ten(self.dead_letters) {
                ctx.note(crate::world::notes::NoteKind::DeadLetters(self.dead_letters));
            }
        } else if result.outcome == Outcome::TimedOut {
            // Not acknowledged in time: visible again at once (another worker may take it).
            self.redelivered += 1;
            self.ready.push_back(token);
            self.depth.set(ctx.now(), self.ready.len() as u64);
        } else {
            self.retries += 1;
            let backoff = SimDuration(self.spec.backoff.as_nanos().saturating_mul(1 << (job.receives - 1).min(20)));
            self.backing_off.insert(token);
            ctx.set_timer(backoff, RETRY | token);
        }
        self.dispatch(ctx);
    }

    fn autoscale(&mut self, ctx: &mut Ctx) {
        let a = self.spec.autoscale.clone().expect("autoscale timer only with autoscale");
        ctx.set_timer(a.interval, SCALE);
        let want = (self.ready.len() as u32).div_ceil(a.jobs_per_instance.max(1)).clamp(a.min, a.max) as usize;
        let want = want.min(self.consumers.len());
        if want > self.active && !self.scaling_up {
            self.scaling_up = true;
            ctx.set_timer(a.startup, SCALE_UP);
        } else if want < self.active {
            self.active -= 1;
            self.next = 0;
            self.active_avg.set(ctx.now(), self.active as u64);
        }
    }

    pub fn on_crash(&mut self, now: SimTime) {
        // A broker keeps its jobs on disk (BullMQ on Redis with persistence, SQS): jobs
        // handed out or backing off are visible again when it comes back (answers to the
        // old hand-offs are dropped, so a job may run twice); producers waiting for their
        // store are lost.
        for (_, token) in self.out_list.drain(..) {
            self.ready.push_back(token);
        }
        self.ready.extend(std::mem::take(&mut self.backing_off));
        self.out.clear();
        self.held.iter_mut().for_each(|h| *h = 0);
        self.storing.clear();
        self.scaling_up = false;
        self.depth.set(now, self.ready.len() as u64);
    }

    pub fn report(&self, end: SimTime) -> ComponentReport {
        let window = end.since(self.warmup_end).as_secs_f64();
        let lat = self.job_latency.summary();
        let mut r = ComponentReport::new(Figures::Queue(QueueFigures {
            enqueued: self.enqueued,
            processed: self.processed,
            throughput_jobs_per_s: if window > 0.0 { self.window_processed as f64 / window } else { 0.0 },
            retries: self.retries,
            redelivered: self.redelivered,
            dead_letters: self.dead_letters,
            rejected: self.rejected,
            oldest_wait_max_s: self.oldest_wait_max.as_secs_f64(),
            job_latency_p50_ms: lat.p50,
            job_latency_p99_ms: lat.p99,
            active_consumers_mean: self.active_avg.mean(end),
            dead_letter_age_p50_ms: self.dead_letter_age.summary().p50,
        }));
        r.queue_mean = Some(self.depth.mean(end));
        r.queue_max = Some(self.depth.max());
        r
    }
}
