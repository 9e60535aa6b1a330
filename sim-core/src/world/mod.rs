//! The world: everything shared between components that models a real shared thing, and
//! the machinery every effect passes through: the event queue, the network and its cuts,
//! the requests in flight, services' routing state, database clusters' and replicated
//! stores' shared data, instances' life (down, epoch), the metrics and the notes log.
//! Components reach it only through `Ctx` verbs.

pub mod breaker;
pub mod consistency;
pub mod db_group;
pub mod deadline;
pub mod hedge;
pub mod hop_retry;
pub mod metrics;
pub mod network;
pub mod notes;
pub mod partition;
pub mod rate_limiter;
pub mod request;
pub mod retry_budget;
pub mod sharding;
pub mod store_group;

use crate::event::{Event, EventKind};
use crate::kernel::event_queue::EventQueue;
use crate::kernel::ids::{ComponentId, ServiceId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::{ComponentModel, FlowNode, Model, Routing, ServiceSpec};
use db_group::DbGroup;
use network::{Network, Route, RouteTree};
use rate_limiter::RateLimiter;
use sharding::ShardMap;

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
    pub(crate) network: Network,
    /// Per source instance, (destination, index in `routes`) for the destinations it has
    /// sent to, sorted: only the pairs in use take memory.
    route_of: Vec<Vec<(u32, u32)>>,
    /// Per source instance, the last destination it sent to in each of `RECENT` slots
    /// (by destination id) and that route's index in `routes`: most instances talk to a
    /// few others (an adapter to each of three servers in turn), so this usually hits.
    last_route: Vec<[(u32, u32); RECENT]>,
    /// The routes in use.
    routes: Vec<Route>,
    /// The route trees of the senders that found a route last (`TREES_KEPT` at most,
    /// replaced in turn): a balancer or a web tier reaching hundreds of instances searches
    /// the network once, not once a destination, and a run of a thousand instances does
    /// not keep a tree of every node for each. A dropped tree is searched again if needed
    /// (the same tree: the search is a pure function of the topology).
    trees: Vec<RouteTree>,
    next_tree: usize,
    /// True when no link has any latency (queueing models): every send is instant.
    no_latency: bool,
    pub services: Vec<ServiceState>,
    pub(crate) flows: Vec<Vec<FlowNode>>,
    pub(crate) timeouts: Vec<Option<SimDuration>>,
    /// Each call's deadline (off unless a class propagates it or times a hop apart).
    pub(crate) deadlines: deadline::Deadlines,
    /// Hedged hops and their callers' state (off unless a hop is hedged).
    pub(crate) hedges: hedge::Hedges,
    /// Retried hops and their callers' state (off unless a hop retries).
    pub(crate) hop_retries: hop_retry::HopRetries,
    /// Services that store versioned data (databases, caches): reads from them are judged
    /// for staleness, writes acknowledged by them update the oracle.
    pub versioned: Vec<bool>,
    /// Whether any service is versioned (if none, the oracle has nothing to do).
    pub(crate) any_versioned: bool,
    /// Per keyspace: record operations on it for the consistency checker.
    pub(crate) checked: Vec<bool>,
    pub down: Vec<bool>,
    /// Incremented at every crash: timers and answers from before it are dropped.
    pub epoch: Vec<u32>,
    pub(crate) in_flight_max: u32,
    /// Requests refused because their target was down, per instance.
    pub refused: Vec<u64>,
    pub crashes: Vec<u64>,
    /// Per service: the shared state of a database cluster.
    pub db: Vec<Option<DbGroup>>,
    /// Per service: the one count of a rate limit kept in a shared store (`store = ...`),
    /// which every instance of that service consults.
    pub(crate) limits: Vec<Option<RateLimiter>>,
    /// Network partitions and flaky links in force.
    pub partitions: crate::world::partition::Partitions,
    /// Per service: the replicas' shared data of a replicated store.
    pub stores: Vec<Option<crate::world::store_group::StoreGroup>>,
    /// Per instance: how far a skew fault has set its clock ahead.
    pub clock_ahead: Vec<SimDuration>,
    /// Notable events so far (crashes, failovers, partitions...), for people watching.
    pub notes: crate::world::notes::Notes,
    /// Circuit breakers per (caller instance, callee service); empty unless declared.
    pub breakers: breaker::Breakers,
}

impl ServiceState {
    fn new(s: &ServiceSpec) -> ServiceState {
        ServiceState {
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
        }
    }
}

/// The queue at time zero: every instance's `Start`, then fault i with sequence number
/// n + i (n instances), below every event the run schedules (`add_faults` relies on it).
fn start_of_run(model: &Model) -> EventQueue<Event> {
    let mut queue = EventQueue::new();
    for i in 0..model.components.len() {
        queue.push(SimTime::ZERO, Event::new(ComponentId(i as u32), EventKind::Start));
    }
    for (i, f) in model.faults.iter().enumerate() {
        queue.push(SimTime::ZERO + f.at, Event::new(f.target, EventKind::Fault(i as u32)));
    }
    queue.start_run_numbering();
    queue
}

/// The shared state of a database cluster, for a service of databases.
/// The shared count of a service whose servers keep their rate limit in a store.
fn shared_limit(model: &Model, service: &ServiceSpec) -> Option<RateLimiter> {
    let first = service.instances.first()?;
    match &model.components[first.index()].model {
        ComponentModel::Server(crate::model::ServerSpec { admission, .. })
        | ComponentModel::Gateway(crate::model::gateway::GatewaySpec { admission, .. }) => {
            admission.as_ref().and_then(|a| a.rate_limit).filter(|r| r.store.is_some()).map(RateLimiter::new)
        }
        _ => None,
    }
}

fn db_group(model: &Model, service: ServiceId) -> Option<DbGroup> {
    let s = &model.services[service.index()];
    matches!(model.components[s.instances[0].index()].model, ComponentModel::Database(_))
        .then(|| DbGroup::new(service, s.instances.clone()))
}

/// The replicas' shared data, for a service of replicated stores.
fn store_group(model: &Model, s: &ServiceSpec) -> Option<store_group::StoreGroup> {
    match &model.components[s.instances[0].index()].model {
        ComponentModel::Store(spec) => Some(store_group::StoreGroup::new(spec, s.instances.clone())),
        _ => None,
    }
}

/// Destinations a sender remembers the route of without a search (`World::last_route`).
const RECENT: usize = 4;

/// Route trees kept at once (`World::trees`).
const TREES_KEPT: usize = 64;

impl World {
    /// The world at time zero: every instance gets `Start`, and fault i is queued with
    /// sequence number n + i (n instances), below every event the run schedules.
    pub fn new(model: &Model, seed: u64) -> World {
        let n = model.components.len();
        assert!(n < 1 << 24, "an event packs its target's id in 24 bits");
        let endpoints: Vec<ComponentId> = (0..n)
            .filter(|&i| matches!(model.components[i].model, ComponentModel::Clients(_)))
            .map(|i| ComponentId(i as u32))
            .collect();
        let network = Network::new(n, model.links.clone(), seed, &endpoints);
        World {
            queue: start_of_run(model),
            network,
            route_of: vec![Vec::new(); n],
            last_route: vec![[(u32::MAX, 0); RECENT]; n],
            routes: Vec::new(),
            trees: Vec::new(),
            next_tree: 0,
            no_latency: model.links.iter().all(|l| l.latency.is_zero()),
            services: model.services.iter().map(ServiceState::new).collect(),
            flows: model.classes.iter().map(|c| c.flow.clone()).collect(),
            timeouts: model.classes.iter().map(|c| c.timeout).collect(),
            deadlines: deadline::Deadlines::new(model),
            hedges: hedge::Hedges::new(model),
            hop_retries: hop_retry::HopRetries::new(model),
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
            db: (0..model.services.len()).map(|s| db_group(model, ServiceId(s as u32))).collect(),
            partitions: Default::default(),
            clock_ahead: vec![SimDuration::ZERO; n],
            notes: Default::default(),
            breakers: breaker::Breakers::new(model),
            stores: model.services.iter().map(|s| store_group(model, s)).collect(),
            limits: model.services.iter().map(|s| shared_limit(model, s)).collect(),
        }
    }

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

    /// The shared state of database cluster `service`.
    pub(crate) fn db_group(&mut self, service: ServiceId) -> &mut DbGroup {
        self.db[service.index()].as_mut().expect("databases have a group")
    }

    /// DNS names instance `new` (an index into the service's instances) as `service`'s
    /// primary from `now` on, and the reader endpoint lists the new primary's live replicas.
    pub(crate) fn switch_primary(&mut self, service: ServiceId, new: usize, now: SimTime) {
        let state = &mut self.services[service.index()];
        state.dns_primary = new;
        let down = &self.down;
        state.readers = (0..state.instances.len()).filter(|&i| i != new && !down[state.instances[i].index()]).collect();
        state.next = 0;
        self.db_group(service).dns_switched_at = Some(now);
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
        let slot = to.index() % RECENT;
        let (last, at) = self.last_route[from.index()][slot];
        let i = if last == to.0 {
            at
        } else {
            let i = match self.route_of[from.index()].binary_search_by_key(&to.0, |&(d, _)| d) {
                Ok(k) => self.route_of[from.index()][k].1,
                Err(k) => self.find_route(from, to, k),
            };
            self.last_route[from.index()][slot] = (to.0, i);
            i
        };
        let route = &self.routes[i as usize];
        if route.instant { SimDuration::ZERO } else { self.network.sample(route) }
    }

    /// A pair's first message: its route, from the sender's tree (searched now unless
    /// kept), filed at position `k` of the sender's list.
    #[cold]
    fn find_route(&mut self, from: ComponentId, to: ComponentId, k: usize) -> u32 {
        let t = match self.trees.iter().position(|t| t.from() == from.index()) {
            Some(t) => t,
            None if self.trees.len() < TREES_KEPT => {
                self.trees.push(self.network.tree(from));
                self.trees.len() - 1
            }
            None => {
                let t = self.next_tree;
                self.next_tree = (t + 1) % TREES_KEPT;
                self.trees[t] = self.network.tree(from);
                t
            }
        };
        let route = self.network.route_in(&self.trees[t], to).expect("validated: every used pair is connected");
        let i = u32::try_from(self.routes.len()).expect("fewer routes than 2^32");
        self.routes.push(route);
        self.route_of[from.index()].insert(k, (to.0, i));
        i
    }
}
