//! The engine: pops the earliest event by (time, seq), hands it to its target component
//! with a `Ctx`, and folds it into the trace hash. It knows the component enum only to
//! dispatch; what a component does is the component's business.

use crate::component::{Component, EventKind};
use crate::event_queue::EventQueue;
use crate::ids::{ClassId, ComponentId, RequestId};
use crate::metrics::Metrics;
use crate::model::Model;
use crate::network::{Network, Route};
use crate::request::{Outcome, Request, Requests};
use crate::rng::{SimRng, stream};
use crate::time::{SimDuration, SimTime};
use crate::trace::{EventTag, TraceEvent, TraceHash};

/// An event as it sits in the queue: small plain data (16 bytes).
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub target: ComponentId,
    pub kind: EventKind,
}

/// A class's path with the route for each hop: `routes[i]` joins hop `i` and hop `i + 1`,
/// where hop 0 is the issuing client and hop `i + 1` is `path[i]`.
struct ClassRoute {
    path: Vec<ComponentId>,
    routes: Vec<Route>,
}

/// Why a model cannot be simulated. The scenario validator reports these with file
/// positions before the engine ever sees the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelError {
    NoRoute { class: String, from: String, to: String },
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelError::NoRoute { class, from, to } => {
                write!(f, "class `{class}`: no link path from `{from}` to `{to}`")
            }
        }
    }
}

/// What a component may do while it handles one event.
pub struct Ctx<'a> {
    pub now: SimTime,
    pub me: ComponentId,
    pub rng: &'a mut SimRng,
    pub requests: &'a mut Requests,
    pub metrics: &'a mut Metrics,
    queue: &'a mut EventQueue<Event>,
    network: &'a mut Network,
    classes: &'a [ClassRoute],
    in_flight_max: u32,
}

impl Ctx<'_> {
    /// Draws from `delay` with this component's random stream.
    #[inline]
    pub fn draw(&mut self, delay: &crate::distribution::Delay) -> SimDuration {
        delay.sample(self.rng)
    }

    /// Wakes this component with `Timer(token)` after `after`.
    #[inline]
    pub fn set_timer(&mut self, after: SimDuration, token: u32) {
        self.queue.push(self.now + after, Event { target: self.me, kind: EventKind::Timer(token) });
    }

    #[inline]
    fn send(&mut self, class: ClassId, hop_route: usize, to: ComponentId, kind: EventKind) {
        let route = &self.classes[class.index()].routes[hop_route];
        let delay = self.network.sample(route);
        self.queue.push(self.now + delay, Event { target: to, kind });
    }

    /// Issues a new request of `class` for closed-loop `user` and sends it to the first
    /// component of its path. Returns false (and records a shed failure) when the run's
    /// in-flight limit is reached.
    #[inline]
    pub fn issue(&mut self, class: ClassId, user: u32) -> bool {
        self.metrics.on_generated(self.now, class);
        if self.requests.live() >= self.in_flight_max as usize {
            self.metrics.on_finished(self.now, class, self.now, Outcome::Shed);
            return false;
        }
        let req = self.requests.insert(Request {
            class,
            hop: 0,
            origin: self.me,
            user,
            created: self.now,
            outcome: Outcome::Pending,
        });
        self.forward(req);
        true
    }

    /// This hop is done with `req`: send it to the next component of its path, or, at the
    /// last one, answer successfully back along the path.
    #[inline]
    pub fn forward(&mut self, req: RequestId) {
        let r = self.requests.get_mut(req);
        let class = r.class;
        let hop = r.hop as usize;
        let path = &self.classes[class.index()].path;
        if hop < path.len() {
            r.hop += 1;
            let to = path[hop];
            self.send(class, hop, to, EventKind::Request(req));
        } else {
            r.outcome = Outcome::Ok;
            self.relay(req);
        }
    }

    /// Ends `req` here with a failure, answered back along its path.
    #[inline]
    pub fn fail(&mut self, req: RequestId, outcome: Outcome) {
        self.requests.get_mut(req).outcome = outcome;
        self.relay(req);
    }

    /// Passes `req`'s response one hop back towards its client.
    #[inline]
    pub fn relay(&mut self, req: RequestId) {
        let r = self.requests.get_mut(req);
        debug_assert!(r.hop > 0, "a response at the client cannot be relayed");
        r.hop -= 1;
        let (class, hop, origin) = (r.class, r.hop as usize, r.origin);
        let to = if hop == 0 { origin } else { self.classes[class.index()].path[hop - 1] };
        self.send(class, hop, to, EventKind::Response(req));
    }

    /// The client received `req`'s response: record it and free the request.
    #[inline]
    pub fn finish(&mut self, req: RequestId) -> Request {
        let r = self.requests.remove(req);
        self.metrics.on_finished(self.now, r.class, r.created, r.outcome);
        r
    }
}

/// One simulation run: the model's components, the queue, the network and the metrics.
pub struct Simulation {
    pub(crate) model: Model,
    pub(crate) seed: u64,
    queue: EventQueue<Event>,
    pub(crate) components: Vec<Component>,
    rngs: Vec<SimRng>,
    network: Network,
    classes: Vec<ClassRoute>,
    pub(crate) requests: Requests,
    pub(crate) metrics: Metrics,
    trace: TraceHash,
    pub(crate) events: u64,
    end: SimTime,
    pub(crate) truncated: bool,
}

impl Simulation {
    pub fn new(model: &Model, seed: u64) -> Result<Simulation, ModelError> {
        let network = Network::new(model.components.len(), model.links.clone(), seed);
        let mut classes = Vec::with_capacity(model.classes.len());
        for c in &model.classes {
            let mut routes = Vec::with_capacity(c.path.len());
            let mut at = c.origin;
            for &next in &c.path {
                let route = network.route(at, next).ok_or_else(|| ModelError::NoRoute {
                    class: c.name.clone(),
                    from: model.components[at.index()].name.clone(),
                    to: model.components[next.index()].name.clone(),
                })?;
                routes.push(route);
                at = next;
            }
            classes.push(ClassRoute { path: c.path.clone(), routes });
        }
        let mut queue = EventQueue::new();
        for i in 0..model.components.len() {
            queue.push(SimTime::ZERO, Event { target: ComponentId(i as u32), kind: EventKind::Start });
        }
        Ok(Simulation {
            seed,
            queue,
            components: model.components.iter().map(|c| Component::new(&c.model, model)).collect(),
            rngs: model.components.iter().map(|c| stream(seed, &c.name)).collect(),
            network,
            classes,
            requests: Requests::new(),
            metrics: Metrics::new(model.classes.len(), model.warmup, model.duration),
            trace: TraceHash::default(),
            events: 0,
            end: SimTime::ZERO + model.duration,
            truncated: false,
            model: model.clone(),
        })
    }

    /// Collects per-interval latency percentiles for the time series (for charts). Off by
    /// default: it costs time and changes nothing else about the run.
    pub fn collect_series_percentiles(&mut self) {
        self.metrics.series.with_percentiles();
    }

    /// Current simulated time (that of the last processed event).
    pub fn now(&self) -> SimTime {
        self.queue.now()
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

    /// True once the run is over: past its end, out of events, or at the event limit.
    pub fn is_done(&self) -> bool {
        self.truncated || self.queue.peek_time().is_none_or(|t| t > self.end)
    }

    /// Processes the next event, if the run is not over, and returns it.
    #[inline]
    pub fn step(&mut self) -> Option<TraceEvent> {
        if self.events >= self.model.limits.events_max {
            self.truncated = self.queue.peek_time().is_some_and(|t| t <= self.end);
            return None;
        }
        let s = self.queue.pop_until(self.end)?;
        let (tag, payload) = match s.event.kind {
            EventKind::Start => (EventTag::Start, 0),
            EventKind::Timer(t) => (EventTag::Timer, t),
            EventKind::Request(r) => (EventTag::Request, r.0),
            EventKind::Response(r) => (EventTag::Response, r.0),
        };
        let trace_event = TraceEvent { index: self.events, time: s.time, component: s.event.target, tag, payload };
        self.trace.add(&trace_event);
        self.events += 1;
        let i = s.event.target.index();
        let mut ctx = Ctx {
            now: s.time,
            me: s.event.target,
            rng: &mut self.rngs[i],
            requests: &mut self.requests,
            metrics: &mut self.metrics,
            queue: &mut self.queue,
            network: &mut self.network,
            classes: &self.classes,
            in_flight_max: self.model.limits.in_flight_max,
        };
        self.components[i].on_event(s.event.kind, &mut ctx);
        Some(trace_event)
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
        if self.truncated { self.queue.now() } else { self.end }
    }
}
