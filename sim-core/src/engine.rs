//! The engine: pops the earliest event by (time, seq), applies what the engine itself
//! owns (crashed instances refuse requests and drop everything else, stale ids and
//! restarted callers are recognized, timeouts fire), hands the rest to the target
//! component as an `Input`, and folds every event into the trace hash.

use crate::component::database::DbGroup;
use crate::component::{Component, EventKind, Input};
use crate::ctx::{ChildResult, Ctx};
use crate::event_queue::EventQueue;
use crate::ids::{ComponentId, RequestId, ServiceId};
use crate::metrics::Metrics;
use crate::model::{ComponentModel, FaultAction, FlowNode, Model, Routing};
use crate::network::{Network, Route};
use crate::notes::{Note, NoteKind};
use crate::request::{Holder, Op, Outcome, Requests};
use crate::rng::{SimRng, stream};
use crate::sharding::ShardMap;
use crate::time::{SimDuration, SimTime};
use crate::trace::{EventTag, TraceEvent, TraceHash};

/// An event as it sits in the queue, packed into two integers (16 bytes): `id` is the
/// trace's identity word (target << 40 | tag << 32 | payload), `extra` the rest of the kind
/// (a timer's epoch, a request's generation, a sender, health). Why packed: a struct of two
/// scalars is built and passed in registers. An `EventKind` enum was assembled on the stack
/// field by field and then copied into the queue 16 bytes at once, which stalled on
/// store-to-load forwarding at every schedule (a tenth of the run time on M/M/1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    id: u64,
    extra: u32,
}

impl Event {
    #[inline(always)]
    pub fn new(target: ComponentId, kind: EventKind) -> Event {
        debug_assert!(target.0 < 1 << 24, "checked in Simulation::new");
        let (tag, payload, extra) = match kind {
            EventKind::Start => (EventTag::Start, 0, 0),
            EventKind::Timer { token, epoch } => (EventTag::Timer, token, epoch),
            EventKind::Request(r) => (EventTag::Request, r.slot, r.generation),
            EventKind::Response(r) => (EventTag::Response, r.slot, r.generation),
            EventKind::Timeout(r) => (EventTag::Timeout, r.slot, r.generation),
            EventKind::Ping { from, token } => (EventTag::Ping, token, from.0),
            EventKind::Pong { token, healthy } => (EventTag::Pong, token, u32::from(healthy)),
            EventKind::Message { from, token } => (EventTag::Message, token, from.0),
            EventKind::Fault(f) => (EventTag::Fault, f, 0),
        };
        Event { id: u64::from(target.0) << 40 | (tag as u64) << 32 | u64::from(payload), extra }
    }

    #[inline(always)]
    pub fn target(self) -> ComponentId {
        ComponentId((self.id >> 40) as u32)
    }

    /// The trace's view: the kind and its one identifying number (token, request slot).
    #[inline(always)]
    pub fn tag(self) -> EventTag {
        EventTag::from_index((self.id >> 32) as u8)
    }

    #[inline(always)]
    pub fn payload(self) -> u32 {
        self.id as u32
    }

    #[inline(always)]
    pub fn kind(self) -> EventKind {
        let (payload, extra) = (self.payload(), self.extra);
        let request = RequestId { slot: payload, generation: extra };
        match self.tag() {
            EventTag::Start => EventKind::Start,
            EventTag::Timer => EventKind::Timer { token: payload, epoch: extra },
            EventTag::Request => EventKind::Request(request),
            EventTag::Response => EventKind::Response(request),
            EventTag::Timeout => EventKind::Timeout(request),
            EventTag::Ping => EventKind::Ping { from: ComponentId(extra), token: payload },
            EventTag::Pong => EventKind::Pong { token: payload, healthy: extra != 0 },
            EventTag::Message => EventKind::Message { from: ComponentId(extra), token: payload },
            EventTag::Fault => EventKind::Fault(payload),
        }
    }
}

/// Why a model cannot be simulated. The scenario validator reports these with file
/// positions before the engine ever sees the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelError {
    NoRoute { from: String, to: String },
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelError::NoRoute { from, to } => write!(f, "no link path from `{from}` to `{to}`"),
        }
    }
}

/// Run-time state of a service: its routing and what DNS says about it.
#[derive(Clone)]
pub struct ServiceState {
    pub instances: Vec<ComponentId>,
    pub routing: Routing,
    /// Round-robin position of client-side routing.
    pub next: u64,
    /// Index (into `instances`) of the primary that DNS names.
    pub dns_primary: usize,
    /// Indices of the instances behind the reader endpoint (replicas in service).
    pub readers: Vec<usize>,
    pub shard_map: Option<ShardMap>,
    /// Nearest reads: per caller instance, the members ordered by mean latency from it.
    pub by_distance: std::collections::BTreeMap<u32, Vec<usize>>,
}

/// Everything the engine owns besides the components: the queue, the network, services,
/// flows and the life state of every instance.
#[derive(Clone)]
pub struct World {
    pub(crate) queue: EventQueue<Event>,
    network: Network,
    /// Routes found so far, per source instance: (destination, route), sorted.
    routes: Vec<Vec<(u32, Route)>>,
    /// True when no link has any latency (queueing models): every send is instant.
    no_latency: bool,
    /// Per source instance, the destination it sent to last and that route's index in
    /// `routes`: most instances talk to one or two others, so this usually hits.
    last_route: Vec<(u32, u32)>,
    pub services: Vec<ServiceState>,
    pub(crate) flows: Vec<Vec<FlowNode>>,
    pub(crate) timeouts: Vec<Option<SimDuration>>,
    /// Services that store versioned data (databases, caches): reads from them are judged
    /// for staleness, writes acknowledged by them update the oracle.
    pub versioned: Vec<bool>,
    /// Whether any service is versioned (if none, the oracle has nothing to do).
    any_versioned: bool,
    /// Per keyspace: record operations on it for the consistency checker.
    checked: Vec<bool>,
    pub down: Vec<bool>,
    /// Incremented at every crash: timers and answers from before it are dropped.
    pub epoch: Vec<u32>,
    pub(crate) in_flight_max: u32,
    /// Requests refused because their target was down, per instance.
    pub refused: Vec<u64>,
    pub crashes: Vec<u64>,
    /// Per service: the shared state of a database cluster.
    pub db: Vec<Option<DbGroup>>,
    /// Network partitions and flaky links in force.
    pub partitions: crate::partition::Partitions,
    /// Per service: the replicas' shared data of a replicated store.
    pub stores: Vec<Option<crate::component::store::StoreGroup>>,
    /// Per instance: how far a skew fault has set its clock ahead.
    pub clock_ahead: Vec<SimDuration>,
    /// Notable events so far (crashes, failovers, partitions...), for people watching.
    pub notes: crate::notes::Notes,
}

impl World {
    /// The live member of a replicated `service` in service (the primary DNS names, or a
    /// replica behind the reader endpoint) with the lowest mean latency from `caller`.
    pub(crate) fn nearest_member(&mut self, service: ServiceId, caller: ComponentId) -> ComponentId {
        let state = &mut self.services[service.index()];
        let network = &self.network;
        let instances = &state.instances;
        let order = state.by_distance.entry(caller.0).or_insert_with(|| {
            let far = |i: &usize| network.mean_latency(caller, instances[*i]).unwrap_or(SimDuration(u64::MAX));
            let mut order: Vec<usize> = (0..instances.len()).collect();
            order.sort_by_key(|i| (far(i), *i));
            order
        });
        // The driver's monitoring skips members that are down.
        let (primary, readers, down) = (state.dns_primary, &state.readers, &self.down);
        let any = state.routing == Routing::Nearest;
        let serving = |i: usize| (any || i == primary || readers.contains(&i)) && !down[instances[i].index()];
        let pick = order.iter().find(|&&i| serving(i)).copied();
        instances[pick.unwrap_or(primary)]
    }

    /// Samples the one-way latency from `from` to `to`. Scenario validation guarantees
    /// that every pair a flow, probe or protocol uses is connected. Inline: with no link
    /// latency anywhere (queueing models) a send costs one flag test, not a call.
    #[inline(always)]
    pub(crate) fn latency(&mut self, from: ComponentId, to: ComponentId) -> SimDuration {
        if self.no_latency { SimDuration::ZERO } else { self.route_latency(from, to) }
    }

    #[inline(never)]
    fn route_latency(&mut self, from: ComponentId, to: ComponentId) -> SimDuration {
        let (last, at) = self.last_route[from.index()];
        let i = if last == to.0 {
            at as usize
        } else {
            let list = &mut self.routes[from.index()];
            let i = match list.binary_search_by_key(&to.0, |(d, _)| *d) {
                Ok(i) => i,
                Err(i) => {
                    let route = self.network.route(from, to).expect("validated: every used pair is connected");
                    list.insert(i, (to.0, route));
                    i
                }
            };
            self.last_route[from.index()] = (to.0, i as u32);
            i
        };
        let route = &self.routes[from.index()][i].1;
        if route.instant { SimDuration::ZERO } else { self.network.sample(route) }
    }
}

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
}

impl Simulation {
    pub fn new(model: &Model, seed: u64) -> Result<Simulation, ModelError> {
        let n = model.components.len();
        assert!(n < 1 << 24, "an event packs its target's id in 24 bits");
        let endpoints: Vec<ComponentId> = (0..n)
            .filter(|&i| matches!(model.components[i].model, ComponentModel::Clients(_)))
            .map(|i| ComponentId(i as u32))
            .collect();
        let network = Network::new(n, model.links.clone(), seed, &endpoints);
        let services = model
            .services
            .iter()
            .map(|s| ServiceState {
                instances: s.instances.clone(),
                routing: s.routing.clone(),
                next: 0,
                dns_primary: 0,
                readers: (1..s.instances.len()).collect(),
                shard_map: match &s.routing {
                    Routing::Sharded(scheme) => Some(ShardMap::new(scheme.clone(), s.instances.len() as u32)),
                    _ => None,
                },
                by_distance: std::collections::BTreeMap::new(),
            })
            .collect();
        let mut queue = EventQueue::new();
        for i in 0..n {
            queue.push(SimTime::ZERO, Event::new(ComponentId(i as u32), EventKind::Start));
        }
        for (i, f) in model.faults.iter().enumerate() {
            // Fault i gets sequence number n + i: `add_faults` relies on it.
            queue.push(SimTime::ZERO + f.at, Event::new(f.target, EventKind::Fault(i as u32)));
        }
        queue.start_run_numbering();
        queue.start_run_numbering();
        let world = World {
            queue,
            network,
            routes: vec![Vec::new(); n],
            last_route: vec![(u32::MAX, 0); n],
            no_latency: model.links.iter().all(|l| l.latency.is_zero()),
            services,
            flows: model.classes.iter().map(|c| c.flow.clone()).collect(),
            timeouts: model.classes.iter().map(|c| c.timeout).collect(),
            versioned: model
                .services
                .iter()
                .map(|s| s.instances.iter().any(|c| model.components[c.index()].model.stores_data()))
                .collect(),
            any_versioned: model.components.iter().any(|c| c.model.stores_data()),
            checked: model.keyspaces.iter().map(|k| k.check).collect(),
            down: vec![false; n],
            epoch: vec![0; n],
            in_flight_max: model.limits.in_flight_max,
            refused: vec![0; n],
            crashes: vec![0; n],
            db: model
                .services
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    matches!(model.components[s.instances[0].index()].model, ComponentModel::Database(_))
                        .then(|| DbGroup::new(ServiceId(i as u32), s.instances.clone()))
                })
                .collect(),
            partitions: Default::default(),
            clock_ahead: vec![SimDuration::ZERO; n],
            notes: Default::default(),
            stores: model
                .services
                .iter()
                .map(|s| match &model.components[s.instances[0].index()].model {
                    ComponentModel::Store(spec) => {
                        Some(crate::component::store::StoreGroup::new(spec, s.instances.clone()))
                    }
                    _ => None,
                })
                .collect(),
        };
        let sim = Simulation {
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
            model: model.clone(),
        };
        sim.check_routes()?;
        Ok(sim)
    }

    /// Every pair of instances that a flow can join must be connected by links.
    fn check_routes(&self) -> Result<(), ModelError> {
        for (class, flow) in self.model.classes.iter().zip(&self.world.flows) {
            let mut edges = vec![(vec![class.origin], flow[0].service)];
            for node in flow {
                for &c in &node.calls {
                    edges.push((self.world.services[node.service.index()].instances.clone(), flow[c as usize].service));
                }
            }
            for (callers, service) in edges {
                for &a in &callers {
                    for &b in &self.world.services[service.index()].instances {
                        if self.world.network.route(a, b).is_none() {
                            return Err(ModelError::NoRoute {
                                from: self.model.components[a.index()].name.clone(),
                                to: self.model.components[b.index()].name.clone(),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Collects per-interval latency percentiles for the time series (for charts). Off by
    /// default: it costs time and changes nothing else about the run.
    pub fn collect_series_percentiles(&mut self) {
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
        if !same {
            return Err("the new model is not this run's model with faults appended".into());
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
        Ok(())
    }

    /// Notable events so far: crashes, health-check verdicts, failovers, partitions.
    pub fn notes(&self) -> &crate::notes::Notes {
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

    pub fn trace_hash(&self) -> String {
        self.trace.hex()
    }

    /// Processes the next event, if the run is not over, and returns it.
    #[inline]
    pub fn step(&mut self) -> Option<TraceEvent> {
        if self.events >= self.model.limits.events_max {
            self.truncated = self.world.queue.peek_time().is_some_and(|t| t <= self.end);
            return None;
        }
        let s = self.world.queue.pop_until(self.end)?;
        let e = s.event;
        let trace_event =
            TraceEvent { index: self.events, time: s.time, component: e.target(), tag: e.tag(), payload: e.payload() };
        self.trace.add(&trace_event);
        self.events += 1;
        self.handle(s.time, s.event);
        Some(trace_event)
    }

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
                    let caller = r.caller;
                    self.world.refused[i] += 1;
                    let delay = self.world.latency(t, caller);
                    self.world.queue.push(now + delay, Event::new(caller, EventKind::Response(id)));
                    return;
                }
                r.holder = Holder::At(t);
                Input::Request(id)
            }
            EventKind::Response(id) => {
                let Some(c) = self.requests.get(id) else { return };
                if c.abandoned || down || c.caller_epoch != self.world.epoch[i] {
                    self.requests.remove(id);
                    return;
                }
                let result = ChildResult::of(id, c, c.outcome);
                let c = self.requests.remove(id);
                self.judge(&c, now, c.outcome);
                Input::ChildDone(result)
            }
            EventKind::Timeout(id) => {
                let Some(c) = self.requests.get_mut(id) else { return };
                if c.abandoned || c.caller_epoch != self.world.epoch[i] || c.caller != t {
                    return;
                }
                let result = ChildResult::of(id, c, Outcome::TimedOut);
                let timed_out = *c;
                if c.holder == Holder::Lost {
                    // The network lost it: nobody else will ever answer or free it.
                    self.requests.remove(id);
                } else {
                    // Someone still holds it (or it is on the wire): whoever answers frees it.
                    c.abandoned = true;
                }
                self.judge(&timed_out, now, Outcome::TimedOut);
                if down {
                    return;
                }
                Input::ChildDone(result)
            }
            EventKind::Ping { from, token } => {
                // A crashed process's host refuses the connection: the probe fails at once.
                let healthy = !down && self.components[i].healthy();
                let pong = EventKind::Pong { token, healthy };
                if !self.world.partitions.is_empty() {
                    let rng = &mut self.rngs[i];
                    let verdict = self.world.partitions.judge(t, from, pong, false, |p| crate::ctx::chance(rng, p));
                    if verdict != crate::partition::Verdict::Deliver {
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
                    _ => return,
                }
            }
        };
        let mut ctx = Ctx {
            now,
            me: t,
            rng: &mut self.rngs[i],
            requests: &mut self.requests,
            metrics: &mut self.metrics,
            world: &mut self.world,
        };
        self.components[i].on_input(input, &mut ctx);
    }

    /// Feeds a finished call on versioned data to the consistency oracle, and to the
    /// checker's history when its data is checked. Inline, so that without versioned data
    /// the answer's removal copies out nothing the oracle would read.
    #[inline(always)]
    fn judge(&mut self, r: &crate::request::Request, now: SimTime, outcome: Outcome) {
        if !self.world.any_versioned {
            return;
        }
        let service = self.world.flows[r.class.index()][r.node as usize].service;
        if !self.world.versioned[service.index()] {
            return;
        }
        let keyspace = (r.key >> 48) as usize;
        if self.world.checked.get(keyspace).copied().unwrap_or(false) && r.op != Op::Scan {
            use crate::consistency::{Op as HOp, OpKind};
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
                self.requests.remove(id);
                continue;
            }
            r.outcome = Outcome::Refused;
            r.holder = Holder::InTransit;
            let caller = r.caller;
            let delay = self.world.latency(t, caller);
            self.world.queue.push(now + delay, Event::new(caller, EventKind::Response(id)));
        }
        self.components[i].on_crash(now, &mut self.world);
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

    /// The simulated instant the report's window closes: the run's end, or the last event
    /// processed if the run was truncated.
    pub(crate) fn window_end(&self) -> SimTime {
        if self.truncated { self.world.queue.now() } else { self.end }
    }
}
