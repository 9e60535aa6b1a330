//! The engine: pops the earliest event by (time, seq), applies what the engine itself
//! owns (crashed instances refuse requests and drop everything else, stale ids and
//! restarted callers are recognized, timeouts fire), hands the rest to the target
//! component as an `Input`, and folds every event into the trace hash.

mod record;
mod stall;

pub use stall::{CHECK_EVERY, INSTANT_NS, STALL_EVENTS, Stall};

use crate::component::Component;
use crate::ctx::Ctx;
use crate::event::{Event, EventKind, Input};
use crate::event::{Op, Outcome};
use crate::kernel::ids::ComponentId;
use crate::kernel::ids::RequestId;
use crate::kernel::rng::{SimRng, stream};
use crate::kernel::time::SimTime;
use crate::kernel::trace::EventTag;
use crate::kernel::trace::{TraceEvent, TraceHash};
use crate::model::{FaultAction, Model};
use crate::world::World;
use crate::world::metrics::Metrics;
use crate::world::metrics::attribution::{CALLS, NETWORK, QUEUE, SERVICE};
use crate::world::metrics::failure;
use crate::world::notes::{Note, NoteKind};
use crate::world::request::{Holder, NO_NODE, Request, Requests};

/// One simulation run: the model's components, the queue, the network and the metrics.
#[derive(Clone)]
pub struct Simulation {
    pub(crate) model: Model,
    pub(crate) seed: u64,
    pub(crate) components: Vec<Component>,
    rngs: Vec<SimRng>,
    pub(crate) world: World,
    pub(crate) requests: Requests,
    pub(crate) metrics: Metrics,
    trace: TraceHash,
    pub(crate) events: u64,
    end: SimTime,
    pub(crate) truncated: bool,
    /// The next event count at which `must_stop` looks.
    next_check: u64,
    stall_watch: stall::StallWatch,
    stall: Option<Stall>,
    /// The analytic twin of the model, compiled when a report first needs it.
    pub(crate) twin: std::sync::OnceLock<crate::theory::Twin>,
    /// The report carries the recovery figure (`track_recovery`).
    pub(crate) recovery: bool,
}

/// Requests in flight up to which a timeout looks through them all for a parallel call's
/// oldest call still out (a scan per timeout); beyond it the parent itself is named, so a
/// partition over a huge fan-out cannot make timeouts quadratic.
const SCAN_FOR_STUCK: usize = 1 << 16;

/// Timeouts of ended calls the queue may hold beyond four per call in flight before the
/// checkpoint sweeps them out: every call sets one, and at 80,000 requests a second a 30 s
/// timeout would otherwise keep millions waiting to do nothing (most of scale-lab-100m's
/// memory). The sweep costs one pass over them, a few times less often than they arrive.
const ENDED_TIMEOUTS_KEPT: usize = 1 << 16;

/// Whether `event` is a timeout whose call has ended (its slot freed since): it would do
/// nothing, so it is no event.
#[inline(always)]
fn ended(requests: &Requests, event: Event) -> bool {
    event.tag() == EventTag::Timeout && matches!(event.kind(), EventKind::Timeout(id) if requests.get(id).is_none())
}

/// Closed-loop users and components: who may all act at one instant.
fn crowd(model: &Model) -> u64 {
    let users: u64 = model
        .components
        .iter()
        .filter_map(|c| match &c.model {
            crate::model::ComponentModel::Clients(s) => Some(u64::from(s.users)),
            _ => None,
        })
        .sum();
    users + model.components.len() as u64
}

impl Simulation {
    /// A run of `model` (validated: `scenarios` checks, among the rest, that every pair of
    /// instances a flow joins is connected) with `seed`.
    pub fn new(model: &Model, seed: u64) -> Simulation {
        let n = model.components.len();
        assert!(n < 1 << 24, "an event packs its target's id in 24 bits");
        let world = World::new(model, seed);
        Simulation {
            seed,
            components: model
                .components
                .iter()
                .enumerate()
                .map(|(i, c)| Component::new(ComponentId(i as u32), c, model))
                .collect(),
            rngs: model.components.iter().map(|c| stream(seed, &c.name)).collect(),
            world,
            requests: Requests::new(),
            metrics: Metrics::new(model),
            trace: TraceHash::default(),
            events: 0,
            end: SimTime::ZERO + model.duration,
            truncated: false,
            next_check: 0,
            stall_watch: stall::StallWatch::new(crowd(model)),
            stall: None,
            twin: std::sync::OnceLock::new(),
            recovery: false,
            model: model.clone(),
        }
    }

    /// Collects per-interval latency percentiles for the time series (for charts). Off by
    /// default: it costs time and changes nothing else about the run.
    pub fn collect_series_percentiles(&mut self) {
        self.metrics.series.with_percentiles();
    }

    /// Puts the recovery figure (`view::recovery`) in the report: it needs each second's
    /// p99, so the series' percentiles are collected too. Off by default; it changes
    /// nothing about the run itself.
    pub fn track_recovery(&mut self) {
        self.recovery = true;
        self.metrics.series.with_percentiles();
    }

    /// Adds the faults that `model` has beyond this run's, as if they had been in the
    /// scenario from the start: a run paused at any point and given a fault goes on
    /// exactly as the scenario file with that fault appended runs from the beginning.
    /// `model` must be this run's model with faults (and partitions) appended, each new
    /// fault in the future.
    pub fn add_faults(&mut self, model: &Model) -> Result<(), String> {
        let (old, old_partitions) = (self.model.faults.len(), self.model.partitions.len());
        let same = model.faults.len() >= old
            && model.faults[..old] == self.model.faults[..]
            && model.partitions.len() >= old_partitions
            && model.partitions[..old_partitions] == self.model.partitions[..]
            && model.components.len() == self.model.components.len();
        if model.components.len() != self.model.components.len() {
            return Err(format!(
                "the new model has {} instances and this run {}: a scale fault that adds instances changes the \
                 model's shape, so the run must be rebuilt from the new model and replayed from t = 0",
                model.components.len(),
                self.model.components.len()
            ));
        }
        if !same {
            return Err("the new model is not this run's model with faults appended".into());
        }
        if let Some(f) =
            model.faults[old..].iter().find(|f| match (f.action, &model.components[f.target.index()].model) {
                (FaultAction::Scale(n), crate::model::ComponentModel::LoadBalancer(lb)) => {
                    n as usize > model.services[lb.backends.index()].instances.len()
                }
                (FaultAction::Scale(_), _) => true,
                _ => false,
            })
        {
            return Err(format!(
                "a scale fault on `{}` asks for more backends than the model has: rebuild the run from a model \
                 lowered with them",
                model.components[f.target.index()].name
            ));
        }
        if let Some(f) = model.faults[old..].iter().find(|f| SimTime::ZERO + f.at <= self.now()) {
            return Err(format!("a fault at {} is not after the current time {}", SimTime::ZERO + f.at, self.now()));
        }
        let n = self.components.len() as u64;
        for (i, f) in model.faults.iter().enumerate().skip(old) {
            let at = SimTime::ZERO + f.at;
            let event = Event::new(f.target, EventKind::Fault(i as u32));
            self.world.queue.push_reserved(at, n + i as u64, event);
        }
        self.model.faults = model.faults.clone();
        self.model.partitions = model.partitions.clone();
        self.twin = std::sync::OnceLock::new();
        Ok(())
    }

    /// Notable events so far: crashes, health-check verdicts, failovers, partitions.
    pub fn notes(&self) -> &crate::world::notes::Notes {
        &self.world.notes
    }

    /// Current simulated time (that of the last processed event).
    pub fn now(&self) -> SimTime {
        self.world.queue.now()
    }

    /// The end of the run.
    pub fn end(&self) -> SimTime {
        self.end
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn component_name(&self, id: ComponentId) -> &str {
        &self.model.components[id.index()].name
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    /// Set when the run stopped because simulated time stood still (see `stall`).
    pub fn stall(&self) -> Option<&Stall> {
        self.stall.as_ref()
    }

    /// The stall in words, naming the busiest components, for an error message.
    pub fn describe_stall(&self, s: &Stall) -> String {
        let busiest: Vec<String> =
            s.busiest.iter().map(|&(c, n)| format!("{} ({n})", self.component_name(c))).collect();
        format!(
            "the run stopped at {}: {} events passed within {INSTANT_NS} ns of simulated time, so time no longer \
             advances; events still due then were for {}. A loop with no delay does this: a think time and a \
             service time of 0 with zero-latency links, or a timer that re-arms at once; give one of them a \
             positive time",
            s.at,
            s.events,
            busiest.join(", ")
        )
    }

    pub fn trace_hash(&self) -> String {
        self.trace.hex()
    }

    /// Processes the next event, if the run is not over, and returns it.
    #[inline]
    pub fn step(&mut self) -> Option<TraceEvent> {
        if self.events >= self.next_check && self.must_stop() {
            return None;
        }
        let s = loop {
            let s = self.world.queue.pop_until(self.end)?;
            if !ended(&self.requests, s.event) {
                break s;
            }
        };
        let e = s.event;
        let trace_event =
            TraceEvent { index: self.events, time: s.time, component: e.target(), tag: e.tag(), payload: e.payload() };
        self.trace.add(&trace_event);
        self.events += 1;
        if self.metrics.log.on() {
            self.handle_recorded(s.time, s.event);
        } else {
            self.handle(s.time, s.event);
        }
        self.drop_ended_timeouts();
        Some(trace_event)
    }

    /// A timeout whose call has ended does nothing: it is no event (neither counted nor
    /// hashed). Dropped as soon as it heads its lane or the heap, so that the queue's next
    /// event, which the TUI reads to play up to a time, is one that happens (`step` skips
    /// any other, a zero-delay timeout in the current instant's FIFO); `must_stop` sweeps
    /// the rest out of the lanes.
    #[inline(always)]
    fn drop_ended_timeouts(&mut self) {
        loop {
            let (lane, heap) = self.world.queue.lane_and_heap_heads();
            if lane.is_some_and(|e| ended(&self.requests, e)) {
                self.world.queue.drop_lane_head();
            } else if heap.is_some_and(|e| ended(&self.requests, e)) {
                self.world.queue.drop_heap_top();
            } else {
                break;
            }
        }
    }

    /// The engine's checkpoint every `CHECK_EVERY` events, and at the event limit: stops a
    /// run that reached its limit or whose clock stood still (see `stall`).
    #[cold]
    fn must_stop(&mut self) -> bool {
        if self.world.queue.in_lanes() > ENDED_TIMEOUTS_KEPT + 4 * self.requests.live() {
            let requests = &self.requests;
            self.world.queue.retain_in_lanes(|&e| !ended(requests, e));
        }
        let limit = self.model.limits.events_max;
        if self.events < limit && self.stall.is_none() && !self.stall_watch.stalled(self.now(), self.events) {
            self.next_check = limit.min(self.events + stall::CHECK_EVERY);
            return false;
        }
        if self.stall.is_none() && self.events < limit {
            let due = self.world.queue.due_now().iter().map(|s| s.event.target());
            self.stall = Some(self.stall_watch.stall(self.events, due));
        }
        self.truncated = self.world.queue.peek_time().is_some_and(|t| t <= self.end);
        true
    }

    /// Turns one event into what its target hears, after what the engine owns (a dead
    /// target, stale timers and answers, timeouts, probes, faults). One match, kept whole
    /// on purpose: it is the loop's hot path, inlined into `step`, and its arms return early.
    #[inline(always)]
    fn handle(&mut self, now: SimTime, event: Event) {
        let t = event.target();
        let i = t.index();
        let down = self.world.down[i];
        let input = match event.kind() {
            EventKind::Start => Input::Start,
            EventKind::Timer { token, epoch } => {
                if down || epoch != self.world.epoch[i] {
                    return;
                }
                Input::Timer(token)
            }
            EventKind::Request(id) => {
                let r = self.requests.get_mut(id).expect("a request on the wire is live");
                if down {
                    // Connection refused: the caller hears so after the way back.
                    r.outcome = Outcome::Refused;
                    (r.origin, r.detail) = (r.node, failure::CRASHED);
                    let caller = r.caller;
                    self.world.refused[i] += 1;
                    let delay = self.world.latency(t, caller);
                    self.world.queue.push(now + delay, Event::new(caller, EventKind::Response(id)));
                    return;
                }
                r.holder = Holder::At(t);
                crate::ctx::book(&mut self.metrics, id, r, now, SERVICE);
                Input::Request(id)
            }
            EventKind::Response(id) => {
                let Some(c) = self.requests.get_mut(id) else { return };
                if c.abandoned || down || c.caller_epoch != self.world.epoch[i] {
                    self.metrics.series.abandoned -= u64::from(c.abandoned);
                    self.requests.remove(id);
                    return;
                }
                crate::ctx::book(&mut self.metrics, id, c, now, NETWORK);
                if self.metrics.spans.live() {
                    self.metrics.spans.on_end(id, now, c.outcome.name());
                }
                let result = c.ended(id, c.outcome);
                self.trace.word(c.outcome as u64);
                let c = self.requests.remove(id);
                if self.world.breakers.any() {
                    self.on_breaker_result(now, t, &c, c.outcome);
                }
                if self.world.hedges.on {
                    self.on_hedged_answer(now, t, id, &c);
                }
                if let Some(parent) = c.parent {
                    self.on_call_answered(now, t, id, &c, parent);
                }
                self.judge(&c, now, c.outcome);
                if self.world.hop_retries.on && c.outcome != Outcome::Ok && self.retry_hop(now, t, id, &c, c.outcome) {
                    return;
                }
                Input::ChildDone(result)
            }
            EventKind::Timeout(id) => {
                let Some(c) = self.requests.get_mut(id) else { return };
                if c.abandoned || c.caller_epoch != self.world.epoch[i] || c.caller != t {
                    return;
                }
                let (origin, detail) = self.stuck_at(id);
                // Its time counts for its root up to now, when its caller moved on.
                let c = self.requests.get_mut(id).expect("live");
                let phase = c.phase;
                crate::ctx::book(&mut self.metrics, id, c, now, phase);
                c.ledger = crate::world::metrics::attribution::NO_LEDGER;
                if self.metrics.spans.live() {
                    self.metrics.spans.on_end(id, now, Outcome::TimedOut.name());
                }
                let timed_out = *c;
                if self.world.hedges.on {
                    let _ = self.abandon_copies(now, id, None);
                }
                let mut result = timed_out.ended(id, Outcome::TimedOut);
                (result.origin, result.detail) = (origin, detail);
                if timed_out.holder == Holder::Lost {
                    // The network lost it: nobody else will ever answer or free it.
                    self.requests.remove(id);
                } else {
                    // Someone still holds it (or it is on the wire): whoever answers frees it.
                    self.requests.get_mut(id).expect("live").abandoned = true;
                    self.metrics.series.abandoned += 1;
                }
                if let Some(p) = timed_out.parent.and_then(|p| self.requests.get_mut(p))
                    && p.origin == NO_NODE
                {
                    (p.origin, p.detail) = (origin, detail);
                }
                self.judge(&timed_out, now, Outcome::TimedOut);
                if self.world.breakers.any() {
                    self.on_breaker_result(now, t, &timed_out, Outcome::TimedOut);
                }
                if down {
                    return;
                }
                if self.world.hop_retries.on && self.retry_hop(now, t, id, &timed_out, Outcome::TimedOut) {
                    return;
                }
                Input::ChildDone(result)
            }
            EventKind::Hedge(id) => {
                let Some(c) = self.requests.get(id) else { return };
                let unanswered = c.outcome == Outcome::Pending && !c.abandoned;
                let waits = c.parent.and_then(|p| self.requests.get(p)).is_some_and(|p| p.holder == Holder::At(t));
                if down || !unanswered || !waits || c.caller != t || c.caller_epoch != self.world.epoch[i] {
                    return;
                }
                Ctx::new(now, t, &mut self.rngs[i], &mut self.requests, &mut self.metrics, &mut self.world).hedge(id);
                return;
            }
            EventKind::Retry(id) => {
                let Some(c) = self.requests.get(id) else { return };
                let waits = c.parent.and_then(|p| self.requests.get(p)).is_some_and(|p| p.holder == Holder::At(t));
                if down || !waits || c.caller_epoch != self.world.epoch[i] {
                    // Its caller crashed, or its parent was answered meanwhile: it never goes.
                    self.requests.remove(id);
                    return;
                }
                Ctx::new(now, t, &mut self.rngs[i], &mut self.requests, &mut self.metrics, &mut self.world)
                    .send_retry(id);
                return;
            }
            EventKind::Ping { from, token } => {
                // A crashed process's host refuses the connection: the probe fails at once.
                let healthy = !down && self.components[i].healthy();
                let pong = EventKind::Pong { token, healthy };
                if !self.world.partitions.is_empty() {
                    let rng = &mut self.rngs[i];
                    let verdict = self.world.partitions.judge(t, from, pong, false, |p| crate::ctx::chance(rng, p));
                    if verdict != crate::world::partition::Verdict::Deliver {
                        return;
                    }
                }
                let delay = self.world.latency(t, from);
                self.world.queue.push(now + delay, Event::new(from, pong));
                return;
            }
            EventKind::Pong { token, healthy } => {
                if down {
                    return;
                }
                Input::Pong { token, healthy }
            }
            EventKind::Message { from, token } => {
                if down {
                    return;
                }
                Input::Message { from, token }
            }
            EventKind::Fault(f) => {
                let action = self.model.faults[f as usize].action;
                if let Some(kind) = self.on_fault(now, t, action) {
                    self.world.notes.push(Note { time: now, component: t, kind });
                }
                match action {
                    FaultAction::Restart if down => Input::Restart,
                    FaultAction::Slow(factor) => Input::Slow(factor),
                    FaultAction::Drain => Input::Drain,
                    FaultAction::Scale(n) => Input::Scale(n),
                    FaultAction::Rate(r) => Input::Rate(r),
                    FaultAction::Capacity(n) => Input::Capacity(n),
                    _ => return,
                }
            }
        };
        let mut ctx = Ctx::new(now, t, &mut self.rngs[i], &mut self.requests, &mut self.metrics, &mut self.world);
        self.components[i].on_input(input, &mut ctx);
    }

    /// A call's answer reached `caller`, which made it for `parent`: a failure tells the
    /// parent where it arose; the parent's wait ends with its last outstanding call, and
    /// a parallel call answering last brings its ledger to the parent's (the critical path).
    #[inline]
    fn on_call_answered(&mut self, now: SimTime, caller: ComponentId, id: RequestId, c: &Request, parent: RequestId) {
        let Some(p) = self.requests.get_mut(parent) else { return };
        if p.holder != Holder::At(caller) {
            return;
        }
        if p.pending == 1 {
            if self.metrics.spans.live() {
                self.metrics.spans.on_phase(parent, p.phase, p.mark, now);
            }
            (p.mark, p.phase) = (now, SERVICE);
        }
        if c.outcome != Outcome::Ok {
            if p.origin == NO_NODE {
                (p.origin, p.detail) = (if c.origin == NO_NODE { c.node } else { c.origin }, c.detail);
            }
        } else if p.pending == 1 && c.ledger == id {
            let into = p.ledger;
            self.metrics.attribution.merge(id, into);
        }
    }

    /// `caller`'s call `id` (`c`) failed with `outcome` while some hop retries: if its hop
    /// does, and its policy, its caller's budget and its parent's propagated deadline
    /// allow, the caller makes the call again after a backoff instead of hearing the
    /// failure (true). The parent still waits, for the new attempt.
    #[cold]
    fn retry_hop(&mut self, now: SimTime, caller: ComponentId, id: RequestId, c: &Request, outcome: Outcome) -> bool {
        let Some(parent) = c.parent else { return false };
        let Some(hop) = self.world.hop_retries.hop(c.class.index(), c.node) else { return false };
        if self.requests.get(parent).is_none_or(|p| p.holder != Holder::At(caller)) {
            return false;
        }
        let Some((attempt, waited)) = self.world.hop_retries.retriable(hop, id, outcome) else { return false };
        let i = caller.index();
        let jitter = self.world.hop_retries.hops[hop].spec.jitter != crate::model::retry::Jitter::None;
        let u = if jitter { crate::ctx::uniform(&mut self.rngs[i]) } else { 0.0 };
        let deadline = self.world.deadlines.inherited(c.class.index(), parent);
        let Some(backoff) = self.world.hop_retries.admit(hop, caller, (attempt, waited), u, now, deadline) else {
            return false;
        };
        let first = self.world.hop_retries.first_of(id, c.created);
        let mut ctx = Ctx::new(now, caller, &mut self.rngs[i], &mut self.requests, &mut self.metrics, &mut self.world);
        ctx.retry_call(parent, c, backoff, attempt + 1, first);
        true
    }

    /// A call of `caller`'s ended with `outcome`: its breaker for the callee (if any) counts
    /// it (a call failed fast by the breaker itself does not count).
    #[inline(never)]
    fn on_breaker_result(&mut self, now: SimTime, caller: ComponentId, c: &Request, outcome: Outcome) {
        // Neither a call its breaker refused nor one never sent (its deadline had passed)
        // says anything about the callee.
        if outcome == Outcome::CircuitOpen || c.detail == failure::DEADLINE_PASSED {
            return;
        }
        let service = self.world.flows[c.class.index()][c.node as usize].service;
        let failed = outcome != Outcome::Ok;
        if let Some(state) = self.world.breakers.on_result(caller, service, now, c.created, failed) {
            self.world.notes.push(Note { time: now, component: caller, kind: NoteKind::Breaker(service, state) });
        }
    }

    /// `caller` heard the answer to call `id` while some hop is hedged: if its hop is, the
    /// caller abandons the call's other copies and measures the hop's latency from the
    /// first copy's send. When a copy won, that is less than the first copy's own latency,
    /// but more than `after`, so the percentile `after` is drawn from stays the hop's own,
    /// not the lower one hedging gives (which would hedge more and more calls).
    #[cold]
    fn on_hedged_answer(&mut self, now: SimTime, caller: ComponentId, id: RequestId, c: &Request) {
        let Some(hop) = self.world.hedges.hop(c.class.index(), c.node).filter(|_| c.parent.is_some()) else { return };
        let first = self.abandon_copies(now, id, Some(hop)).min(c.created);
        self.world.hedges.record(hop, caller, now - first);
    }

    /// Call `id` ended first among its copies (answered on `hop`, or timed out): the others
    /// are abandoned, and whoever answers them frees them (one the network lost, now).
    /// Their time no longer counts for the root. Returns when the earliest of them was
    /// sent (`now` if none is left).
    #[cold]
    fn abandon_copies(&mut self, now: SimTime, id: RequestId, answered_on: Option<usize>) -> SimTime {
        let (others, was_copy) = self.world.hedges.take(id);
        if let Some(hop) = answered_on {
            self.world.hedges.hops[hop].won += u64::from(was_copy);
        }
        let mut first = now;
        for other in others.into_iter().flatten() {
            let Some(r) = self.requests.get_mut(other) else { continue };
            first = first.min(r.created);
            if r.abandoned {
                continue;
            }
            r.ledger = crate::world::metrics::attribution::NO_LEDGER;
            if self.metrics.spans.live() {
                self.metrics.spans.on_end(other, now, "abandoned");
            }
            if r.holder == Holder::Lost {
                self.requests.remove(other);
            } else {
                self.requests.get_mut(other).expect("live").abandoned = true;
                self.metrics.series.abandoned += 1;
            }
        }
        first
    }

    /// Where a timed-out call `id` was stuck: following each waiting call to the call it
    /// made last, the deepest one still alive, as (flow node, `failure` detail).
    fn stuck_at(&self, id: RequestId) -> (u16, u8) {
        let (mut at, mut r) = (id, *self.requests.get(id).expect("a timed-out call is live"));
        for _ in 0..u16::MAX {
            match r.holder {
                Holder::Lost => return (r.node, failure::LOST),
                Holder::InTransit => return (r.node, failure::IN_TRANSIT),
                Holder::At(_) if r.phase == QUEUE => return (r.node, failure::QUEUED),
                Holder::At(_) if r.phase != CALLS => return (r.node, failure::SERVING),
                Holder::At(_) => {
                    // Its last call, or (a parallel call or a scan whose last call has
                    // answered) the oldest of its calls still out.
                    let next = Some(r.last_call).filter(|c| self.requests.get(*c).is_some()).or_else(|| {
                        (self.requests.live() <= SCAN_FOR_STUCK).then(|| self.requests.oldest_call_of(at))?
                    });
                    match next.and_then(|c| Some((c, *self.requests.get(c)?))) {
                        Some((c, next)) => (at, r) = (c, next),
                        None => return (r.node, failure::WAITING),
                    }
                }
            }
        }
        (r.node, failure::WAITING)
    }

    /// Feeds a finished call on versioned data to the consistency oracle, and to the
    /// checker's history when its data is checked. Inline, so that without versioned data
    /// the answer's removal copies out nothing the oracle would read.
    #[inline(always)]
    fn judge(&mut self, r: &crate::world::request::Request, now: SimTime, outcome: Outcome) {
        if !self.world.any_versioned {
            return;
        }
        let service = self.world.flows[r.class.index()][r.node as usize].service;
        if !self.world.versioned[service.index()] {
            return;
        }
        // What the caller saw of the data: a stale read or a lost write differs here even
        // when the events' times do not.
        self.trace.word(r.version ^ (r.op as u64) << 62 ^ (outcome as u64) << 56);
        let keyspace = usize::from(crate::world::sharding::keyspace_of(r.key));
        if self.world.checked.get(keyspace).copied().unwrap_or(false) && r.op != Op::Scan {
            use crate::world::consistency::{Op as HOp, OpKind};
            let kind = if r.op == Op::Write { OpKind::Write } else { OpKind::Read };
            let op = HOp {
                key: r.key,
                kind,
                invoke: r.created,
                complete: now,
                ok: outcome == Outcome::Ok,
                value: r.version,
            };
            self.metrics.history.entry((keyspace as u16, service.0)).or_default().push(op);
        }
        if outcome != Outcome::Ok {
            return;
        }
        match r.op {
            Op::Write if r.version > 0 => self.metrics.on_write_acked(r.key, r.version),
            Op::Read => self.metrics.on_read(service, r.class, r.version, r.expected_version),
            _ => {}
        }
    }

    /// Applies a fault's effect on the engine's side; what the component itself must do
    /// (restart, slow down, drain) it hears as an input. Returns the note to log, if any.
    fn on_fault(&mut self, now: SimTime, t: ComponentId, action: FaultAction) -> Option<NoteKind> {
        let i = t.index();
        match action {
            FaultAction::Crash if !self.world.down[i] => {
                self.crash(now, t);
                Some(NoteKind::Crash)
            }
            FaultAction::Crash => None,
            FaultAction::Restart if self.world.down[i] => {
                self.world.down[i] = false;
                Some(NoteKind::Restart)
            }
            FaultAction::Restart => None,
            FaultAction::Slow(factor) => Some(NoteKind::Slow(factor)),
            FaultAction::Drain => Some(NoteKind::Drain),
            // The balancer notes its new count itself.
            FaultAction::Scale(_) => None,
            FaultAction::Rate(r) => Some(NoteKind::Rate(r)),
            FaultAction::Capacity(n) => Some(NoteKind::Capacity(n)),
            FaultAction::Skew(by) => {
                self.world.clock_ahead[i] = by;
                Some(NoteKind::Skew(by.as_nanos() / 1_000_000))
            }
            FaultAction::Partition(p) => {
                let n = self.components.len();
                self.world.partitions.start(p, &self.model.partitions[usize::from(p)], n);
                Some(NoteKind::Partition(p))
            }
            FaultAction::Heal(p) => {
                self.heal(now, p);
                Some(NoteKind::Heal(p))
            }
            FaultAction::HealAll => {
                for p in self.world.partitions.active_ids() {
                    self.heal(now, p);
                    self.world.notes.push(Note { time: now, component: t, kind: NoteKind::Heal(p) });
                }
                None
            }
        }
    }

    fn heal(&mut self, now: SimTime, p: u16) {
        self.world.stores.iter_mut().flatten().for_each(|g| g.on_heal(now));
        for h in self.world.partitions.heal(p) {
            let delay = self.world.latency(h.from, h.to);
            self.world.queue.push(now + delay, Event::new(h.to, h.kind));
        }
    }

    /// The process dies: its state is lost, its timers and pending answers become stale,
    /// and the operating system resets its connections, so every caller waiting on a
    /// request it held hears `Refused` at once (a dead host would leave them to time out).
    fn crash(&mut self, now: SimTime, t: ComponentId) {
        let i = t.index();
        self.world.down[i] = true;
        self.world.epoch[i] += 1;
        self.world.crashes[i] += 1;
        for id in self.requests.held_by(t) {
            let r = self.requests.get_mut(id).expect("held requests are live");
            if r.abandoned {
                self.metrics.series.abandoned -= 1;
                self.requests.remove(id);
                continue;
            }
            r.outcome = Outcome::Refused;
            (r.origin, r.detail) = (r.node, failure::CRASHED);
            r.holder = Holder::InTransit;
            let caller = r.caller;
            let delay = self.world.latency(t, caller);
            self.world.queue.push(now + delay, Event::new(caller, EventKind::Response(id)));
        }
        self.components[i].on_crash(now, &mut self.world);
        if self.world.breakers.any() {
            for (callee, state) in self.world.breakers.on_crash(t, now) {
                self.world.notes.push(Note { time: now, component: t, kind: NoteKind::Breaker(callee, state) });
            }
        }
    }

    /// Runs to the end, calling `observe` after every event.
    pub fn run_observed(&mut self, mut observe: impl FnMut(&Simulation, &TraceEvent)) {
        while let Some(e) = self.step() {
            observe(self, &e);
        }
    }

    /// Runs to the end.
    pub fn run(&mut self) {
        while self.step().is_some() {}
    }

    /// The simulated instant the report's window closes: the run's end; the last event
    /// processed if the run was truncated; now, for a report of a run still under way (the
    /// TUI's), whose rates and time averages cover only the time simulated so far.
    pub(crate) fn window_end(&self) -> SimTime {
        let under_way = self.world.queue.peek_time().is_some_and(|t| t <= self.end) && self.stall.is_none();
        if self.truncated || under_way { self.world.queue.now().max(self.metrics.warmup_end()) } else { self.end }
    }
}
