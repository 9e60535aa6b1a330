//! A test harness for one component model, with no engine: it builds the world of a
//! model, lets a test hand the component inputs one at a time at times it chooses, and
//! returns what the component asked for (timers, calls, answers, probes, messages) in the
//! order the engine would deliver them. Nothing is delivered by itself: the test plays
//! the rest of the system. Unit tests of the models (`sim-core/tests/models.rs`) use it.

use crate::component::Component;
use crate::ctx::Ctx;
use crate::event::{EventKind, Input, Op, Outcome};
use crate::kernel::ids::{ComponentId, RequestId};
use crate::kernel::rng::{SimRng, stream};
use crate::kernel::time::SimTime;
use crate::model::Model;
use crate::report::ComponentReport;
use crate::world::World;
use crate::world::metrics::Metrics;
use crate::world::notes::NoteKind;
use crate::world::request::{Holder, Request, Requests};

/// One thing the component asked for, due at `at`, addressed to instance `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct Asked {
    pub at: SimTime,
    pub to: String,
    pub what: Ask,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ask {
    /// A timer for the component itself.
    Timer(u32),
    /// A call sent to `to`: flow node `node` of `class`, for the service `service`.
    Call {
        req: RequestId,
        class: String,
        service: String,
        op: Op,
        key: u64,
    },
    /// An answer sent back to the caller.
    Answer {
        req: RequestId,
        outcome: Outcome,
    },
    /// The caller's patience for its call `req` runs out then.
    Timeout(RequestId),
    Ping {
        token: u32,
    },
    Message {
        token: u32,
    },
    Pong {
        token: u32,
        healthy: bool,
    },
}

/// One component and the world around it, driven by hand.
pub struct Harness {
    model: Model,
    world: World,
    requests: Requests,
    metrics: Metrics,
    rng: SimRng,
    component: Component,
    me: ComponentId,
    now: SimTime,
}

impl Harness {
    /// The instance named `instance` of `model`, with the run's streams for `seed`.
    pub fn new(model: &Model, seed: u64, instance: &str) -> Harness {
        let i = model.components.iter().position(|c| c.name == instance).unwrap_or_else(|| panic!("no `{instance}`"));
        let me = ComponentId(i as u32);
        let mut world = World::new(model, seed);
        // The start-of-run events (every instance's Start, the faults) are the test's to give.
        world.queue.drain();
        Harness {
            component: Component::new(me, &model.components[i], model),
            rng: stream(seed, instance),
            world,
            requests: Requests::new(),
            metrics: Metrics::new(model),
            model: model.clone(),
            me,
            now: SimTime::ZERO,
        }
    }

    /// Moves the clock to `t` (never backwards).
    pub fn at(&mut self, t: SimTime) -> &mut Harness {
        assert!(t >= self.now, "time moves forward");
        self.now = t;
        self
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Hands the component `input` now; returns what it asked for.
    pub fn input(&mut self, input: Input) -> Vec<Asked> {
        let mut ctx =
            Ctx::new(self.now, self.me, &mut self.rng, &mut self.requests, &mut self.metrics, &mut self.world);
        self.component.on_input(input, &mut ctx);
        self.asked()
    }

    /// A call of `class` for this instance's service arrives from the class's origin, as
    /// its flow's caller would send it; returns its id and what the component asked for.
    pub fn arrive(&mut self, class: &str, op: Op, key: u64, user: u32) -> (RequestId, Vec<Asked>) {
        let c = self.model.classes.iter().position(|c| c.name == class).unwrap_or_else(|| panic!("no class `{class}`"));
        let spec = &self.model.classes[c];
        let node = spec
            .flow
            .iter()
            .position(|n| self.model.services[n.service.index()].instances.contains(&self.me))
            .expect("the class's flow reaches this instance");
        let req = self.requests.insert(Request {
            class: crate::kernel::ids::ClassId(c as u16),
            node: node as u16,
            next_call: 0,
            pending: 0,
            op,
            outcome: Outcome::Pending,
            abandoned: false,
            holder: Holder::At(self.me),
            key,
            user,
            parent: None,
            caller: spec.origin,
            caller_epoch: 0,
            created: self.now,
            version: 0,
            min_version: 0,
            expected_version: 0,
            tag: 0,
            mark: self.now,
            phase: crate::world::metrics::attribution::SERVICE,
            ledger: crate::world::metrics::attribution::NO_LEDGER,
            last_call: crate::world::metrics::attribution::NO_LEDGER,
            origin: crate::world::request::NO_NODE,
            detail: 0,
            serial: 0,
        });
        (req, self.input(Input::Request(req)))
    }

    /// The callee of the component's call `req` answers with `outcome` (carrying data
    /// version `version`): the component hears `ChildDone`, as the engine would hand it.
    pub fn answer(&mut self, req: RequestId, outcome: Outcome, version: u64) -> Vec<Asked> {
        let r = self.requests.get_mut(req).expect("the call is live");
        r.version = version;
        let result = r.ended(req, outcome);
        self.requests.remove(req);
        self.input(Input::ChildDone(result))
    }

    /// The timer `token` the component set fires.
    pub fn fire(&mut self, token: u32) -> Vec<Asked> {
        self.input(Input::Timer(token))
    }

    /// What became of a request the component answered (`None` once freed).
    pub fn outcome(&self, req: RequestId) -> Option<Outcome> {
        self.requests.get(req).map(|r| r.outcome)
    }

    /// The data version a request carries back.
    pub fn version(&self, req: RequestId) -> u64 {
        self.requests.get(req).expect("live").version
    }

    /// Marks instance `name` down or up (as the engine does on a crash or restart).
    pub fn set_down(&mut self, name: &str, down: bool) {
        let i = self.id(name).index();
        self.world.down[i] = down;
    }

    /// The component's report, with its window closing now.
    pub fn report(&self) -> ComponentReport {
        self.component.report(self.now, &self.world)
    }

    /// The notes written so far: (instance, what).
    pub fn notes(&self) -> Vec<(String, NoteKind)> {
        self.world.notes.as_slice().iter().map(|n| (self.name(n.component).to_string(), n.kind)).collect()
    }

    /// The instance DNS names primary of service `service`.
    pub fn dns_primary(&self, service: &str) -> String {
        let s = self.model.services.iter().position(|s| s.name == service).expect("a service");
        let state = &self.world.services[s];
        self.name(state.instances[state.dns_primary]).to_string()
    }

    pub fn id(&self, name: &str) -> ComponentId {
        let i = self.model.components.iter().position(|c| c.name == name).unwrap_or_else(|| panic!("no `{name}`"));
        ComponentId(i as u32)
    }

    fn name(&self, id: ComponentId) -> &str {
        &self.model.components[id.index()].name
    }

    /// Everything queued since the last input, as the test reads it.
    fn asked(&mut self) -> Vec<Asked> {
        let events = self.world.queue.drain();
        events
            .into_iter()
            .map(|s| {
                let what = match s.event.kind() {
                    EventKind::Timer { token, .. } => Ask::Timer(token),
                    EventKind::Request(req) => {
                        let r = self.requests.get(req).expect("a call in flight is live");
                        let node = &self.model.classes[r.class.index()].flow[r.node as usize];
                        Ask::Call {
                            req,
                            class: self.model.classes[r.class.index()].name.clone(),
                            service: self.model.services[node.service.index()].name.clone(),
                            op: r.op,
                            key: r.key,
                        }
                    }
                    EventKind::Response(req) => {
                        Ask::Answer { req, outcome: self.requests.get(req).expect("answered calls are live").outcome }
                    }
                    EventKind::Timeout(req) => Ask::Timeout(req),
                    EventKind::Ping { token, .. } => Ask::Ping { token },
                    EventKind::Pong { token, healthy } => Ask::Pong { token, healthy },
                    EventKind::Message { token, .. } => Ask::Message { token },
                    // A harness drives models whose hops are not hedged or retried.
                    EventKind::Start | EventKind::Fault(_) | EventKind::Hedge(_) | EventKind::Retry(_) => {
                        unreachable!("only the engine schedules these")
                    }
                };
                Asked { at: s.time, to: self.name(s.event.target()).to_string(), what }
            })
            .collect()
    }
}
