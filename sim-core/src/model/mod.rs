//! The validated model the engine runs: what the `scenarios` crate lowers a scenario file
//! into. Every value here has been checked, so the engine only asserts invariants.

pub mod admission;
pub mod breaker;
pub mod cache;
pub mod cdn;
pub mod cost;
pub mod database;
pub mod fault_span;
pub mod gateway;
pub mod hedge;
pub mod hop;
pub mod load_balancer;
pub mod object_store;
pub mod queue;
pub mod rate_limit;
pub mod retry;
pub mod store;
pub mod websocket;

use crate::event::Op;
use crate::kernel::distribution::Delay;
use crate::kernel::ids::{ClassId, ComponentId, KeyspaceId, ServiceId};
use crate::kernel::time::SimDuration;

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    /// Every instance (network node), in id order. Instance 0 is the clients.
    pub components: Vec<ComponentSpec>,
    pub services: Vec<ServiceSpec>,
    pub links: Vec<LinkSpec>,
    pub classes: Vec<ClassSpec>,
    pub keyspaces: Vec<KeyspaceSpec>,
    pub faults: Vec<FaultSpec>,
    /// Partitions and flaky links that `FaultAction::Partition` starts.
    pub partitions: Vec<PartitionSpec>,
    /// Circuit breakers between calling and called services (none unless declared).
    pub breakers: Vec<breaker::BreakerSpec>,
    pub costs: cost::CostSpec,
    /// Simulated run length, warm-up included.
    pub duration: SimDuration,
    /// Initial stretch excluded from latency, throughput and time-average statistics.
    pub warmup: SimDuration,
    pub limits: Limits,
}

/// Hard limits that keep any run finite in time and memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The run stops (and says it was truncated) after this many events.
    pub events_max: u64,
    /// Clients shed new requests while this many calls are in flight.
    pub in_flight_max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { events_max: 2_000_000_000, in_flight_max: 5_000_000 }
    }
}

#[derive(Clone, Debug)]
pub struct ComponentSpec {
    /// Stable name (`web-3`): keys the random stream and the report.
    pub name: String,
    pub service: ServiceId,
    pub model: ComponentModel,
}

/// A named group of interchangeable instances, and how a caller picks one.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub name: String,
    pub instances: Vec<ComponentId>,
    pub routing: Routing,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Routing {
    /// Each caller takes the instances in turn (client-side round robin); a load balancer
    /// in front replaces this with its own policy.
    RoundRobin,
    /// By key: each instance is a shard.
    Sharded(Sharding),
    /// Instance 0 starts as the primary, the others are replicas. Writes go to the primary
    /// that DNS names; reads to the replicas in turn when `reads_from_replicas`, or with
    /// `nearest` to the member in service (primary included) closest to the caller, as
    /// MongoDB's readPreference nearest does for replicas in several regions.
    PrimaryReplica { reads_from_replicas: bool, nearest: bool },
    /// Every instance is equal: the caller's nearest live one (a leaderless store).
    Nearest,
}

#[derive(Clone, Debug)]
pub enum ComponentModel {
    Clients(ClientsSpec),
    Server(ServerSpec),
    LoadBalancer(crate::model::load_balancer::LoadBalancerSpec),
    Gateway(crate::model::gateway::GatewaySpec),
    Cache(crate::model::cache::CacheSpec),
    Database(crate::model::database::DatabaseSpec),
    Queue(crate::model::queue::QueueSpec),
    Cdn(crate::model::cdn::CdnSpec),
    ObjectStore(crate::model::object_store::ObjectStoreSpec),
    WebSocket(crate::model::websocket::WebSocketSpec),
    PubSub(crate::model::websocket::PubSubSpec),
    Store(crate::model::store::StoreSpec),
}

impl ComponentModel {
    /// Kinds that store versioned data, whose reads can be stale.
    pub fn stores_data(&self) -> bool {
        matches!(self, ComponentModel::Cache(_) | ComponentModel::Database(_) | ComponentModel::Store(_))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ComponentModel::Clients(_) => "clients",
            ComponentModel::Server(_) => "server",
            ComponentModel::LoadBalancer(_) => "load_balancer",
            ComponentModel::Gateway(_) => "gateway",
            ComponentModel::Cache(_) => "cache",
            ComponentModel::Database(_) => "database",
            ComponentModel::Queue(_) => "queue",
            ComponentModel::Cdn(_) => "cdn",
            ComponentModel::ObjectStore(_) => "object_store",
            ComponentModel::WebSocket(_) => "websocket",
            ComponentModel::PubSub(_) => "pubsub",
            ComponentModel::Store(_) => "store",
        }
    }
}

/// A population of users issuing requests.
#[derive(Clone, Debug)]
pub struct ClientsSpec {
    pub arrival: Arrival,
    /// The classes this population issues, with relative weights (all positive).
    pub class_weights: Vec<(ClassId, f64)>,
    /// Distinct users behind an open-loop workload (request i comes from a uniformly drawn
    /// user); a closed loop has exactly `users` users.
    pub users: u32,
    /// Stretches of an open-loop workload whose rate is multiplied (a morning peak, a
    /// launch); overlapping surges multiply.
    pub surges: Vec<Surge>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Surge {
    pub at: SimDuration,
    pub lasting: SimDuration,
    pub factor: f64,
}

impl ClientsSpec {
    /// The open-loop rate multiplier in force at `t` (surges start inclusive, end exclusive).
    pub fn rate_factor(&self, t: SimDuration) -> f64 {
        self.surges.iter().filter(|s| s.at <= t && t < s.at + s.lasting).map(|s| s.factor).product()
    }
}

impl Model {
    /// Whether class `class` opens long-lived connections (its path reaches a WebSocket
    /// tier, directly or through a balancer): its requests are connection attempts, held
    /// open while they last, so they stay out of the run's throughput, error rate and
    /// latency.
    pub fn is_connection_class(&self, class: crate::kernel::ids::ClassId) -> bool {
        self.classes[class.index()].flow.iter().any(|n| {
            let first = self.services[n.service.index()].instances[0];
            matches!(self.components[first.index()].model, ComponentModel::WebSocket(_))
        })
    }

    /// Whether any component stores versioned data, whose reads can be stale.
    pub fn has_versioned_data(&self) -> bool {
        self.components.iter().any(|c| c.model.stores_data())
    }

    /// Whether any instance answers 429s (a server's `rate_limit`).
    pub fn has_rate_limits(&self) -> bool {
        self.components.iter().any(|c| match &c.model {
            ComponentModel::Server(ServerSpec { admission, .. })
            | ComponentModel::Gateway(crate::model::gateway::GatewaySpec { admission, .. }) => {
                admission.as_ref().is_some_and(|a| a.rate_limit.is_some())
            }
            _ => false,
        })
    }

    /// Whether any caller retries: the report then counts attempts and wasted work.
    pub fn uses_retries(&self) -> bool {
        self.classes.iter().any(|c| c.retry.is_some())
    }

    /// Whether any hop is retried by its callers: the engine then keeps each call's
    /// attempt, and the report counts them and wasted work.
    pub fn uses_hop_retries(&self) -> bool {
        self.classes.iter().any(|c| c.hops.iter().any(|h| h.retry.is_some()))
    }

    /// Whether any class propagates its deadline or times a hop apart: the engine then
    /// keeps each call's deadline, and the report counts wasted work.
    pub fn uses_deadlines(&self) -> bool {
        self.classes.iter().any(|c| c.propagate_deadline || c.hops.iter().any(|h| h.timeout.is_some()))
    }

    /// Whether any hop is hedged: the report then counts hedges and wasted work.
    pub fn uses_hedges(&self) -> bool {
        self.classes.iter().any(|c| !c.hedges.is_empty())
    }

    /// Whether anything in the model tells users apart (client-hash balancing, local
    /// sessions, each user's own writes). If nothing does, clients skip drawing a user id.
    pub fn uses_user_ids(&self) -> bool {
        self.has_versioned_data()
            || self.components.iter().any(|c| match &c.model {
                ComponentModel::Clients(_) => false,
                ComponentModel::Server(s) => s.sessions == Sessions::Local || limits_per_user(&s.admission),
                ComponentModel::Gateway(g) => {
                    limits_per_user(&g.admission) || g.policy == crate::model::load_balancer::Policy::ClientHash
                }
                ComponentModel::LoadBalancer(lb) => lb.policy == crate::model::load_balancer::Policy::ClientHash,
                ComponentModel::Cdn(_) | ComponentModel::WebSocket(_) => true,
                ComponentModel::Cache(_)
                | ComponentModel::Database(_)
                | ComponentModel::Queue(_)
                | ComponentModel::ObjectStore(_)
                | ComponentModel::PubSub(_)
                | ComponentModel::Store(_) => false,
            })
    }
}

#[derive(Clone, Debug)]
pub enum Arrival {
    /// Open loop: requests arrive as a Poisson process whatever the system's state.
    Poisson { rate_per_sec: f64 },
    /// Closed loop: each of `users` sends a request, waits for the answer, thinks, repeats.
    Closed { users: u32, think: Delay },
}

/// Whether a server keeps its worker while it waits for the calls it makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallMode {
    /// Thread-per-request servers (Java, Rails, PHP): the worker waits for downstream calls.
    Blocking,
    /// Event-loop servers (Node/Express, nginx): the worker is free while calls are out.
    Async,
}

/// Where a server keeps user sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sessions {
    /// No sessions, or in a shared store that the class's flow calls explicitly.
    None,
    /// In the server's memory: lost on crash, and a user routed elsewhere has none.
    Local,
}

/// A pool of `workers` identical workers behind one FIFO queue of bounded capacity: the
/// M/M/c/K station of queueing theory when service is exponential.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub workers: u32,
    pub queue_capacity: u32,
    pub service: Delay,
    /// Service-time overrides for particular classes.
    pub service_by_class: Vec<(ClassId, Delay)>,
    pub call_mode: CallMode,
    /// Share of requests answered with an error after service (a failing job, a bug).
    pub error_rate: f64,
    pub sessions: Sessions,
    /// Rate limit, shedding and queue order; `None` is the plain FIFO station, whose hot
    /// path pays one branch for this.
    pub admission: Option<Box<crate::model::admission::AdmissionSpec>>,
}

/// Whether a server's or gateway's admission keeps a count per user.
fn limits_per_user(admission: &Option<Box<crate::model::admission::AdmissionSpec>>) -> bool {
    admission.as_ref().and_then(|a| a.rate_limit).is_some_and(|r| r.per == crate::model::rate_limit::Scope::User)
}

impl ServerSpec {
    /// A plain FIFO pool with the given service time, for tests and simple models.
    pub fn pool(workers: u32, queue_capacity: u32, service: Delay) -> ServerSpec {
        ServerSpec {
            workers,
            queue_capacity,
            service,
            service_by_class: Vec::new(),
            call_mode: CallMode::Blocking,
            error_rate: 0.0,
            sessions: Sessions::None,
            admission: None,
        }
    }
}

/// A request class: the tree of calls one user action makes, and its data.
#[derive(Clone, Debug)]
pub struct ClassSpec {
    pub name: String,
    pub origin: ComponentId,
    /// Flow nodes; node 0 is the call the client makes.
    pub flow: Vec<FlowNode>,
    pub keyspace: Option<KeyspaceId>,
    /// Every call of this class (the client's included) gives up after this long.
    pub timeout: Option<SimDuration>,
    /// The client re-sends a root call that failed so (`None`: it never does).
    pub retry: Option<retry::RetrySpec>,
    /// `priority = "low"`: shed before the other classes when a server sheds load.
    pub low_priority: bool,
    /// Hops whose calls are hedged (empty: none are).
    pub hedges: Vec<hedge::HedgeSpec>,
    /// Hops with a timeout or a retry policy of their own (empty: every call has the
    /// class's timeout, and a failed call fails its parent).
    pub hops: Vec<hop::HopSpec>,
    /// `deadline = "propagate"`: a call's timeout is at most what its caller has left,
    /// and a call whose deadline has passed is not sent.
    pub propagate_deadline: bool,
}

impl ClassSpec {
    /// Calls one request makes in all (its own included), each fan-out multiplying the
    /// calls below it: `front>agg*10>leaf*100` makes 1 + 10 + 1,000.
    pub fn calls_per_request(&self) -> u64 {
        let mut copies = vec![1u64; self.flow.len()];
        for (i, n) in self.flow.iter().enumerate() {
            for &c in &n.calls {
                copies[c as usize] = copies[i] * u64::from(self.flow[c as usize].fanout);
            }
        }
        copies.iter().sum()
    }
}

/// One call in a class's flow: the service it goes to, its operation, and the calls the
/// serving instance makes in turn, in order (or all at once when `parallel`).
#[derive(Clone, Debug)]
pub struct FlowNode {
    pub service: ServiceId,
    pub op: Op,
    pub calls: Vec<u16>,
    pub parallel: bool,
    /// How many copies of this call its caller makes at once (`leaf*100`; 1 for a plain
    /// call): one flow node stands for them all, and the caller waits for every one.
    pub fanout: u32,
    /// `leaf*all`: copy k goes to the service's instance k (`fanout` is the instance
    /// count), whatever its routing.
    pub to_each: bool,
}

impl FlowNode {
    /// A single call (no fan-out).
    pub fn call(service: ServiceId, op: Op, calls: Vec<u16>) -> FlowNode {
        FlowNode { service, op, calls, parallel: false, fanout: 1, to_each: false }
    }
}

/// A population of keys whose popularity follows Zipf's law with exponent `zipf_s`
/// (0 = uniform): rank 1 is the hottest key.
#[derive(Clone, Debug)]
pub struct KeyspaceSpec {
    pub name: String,
    pub count: u64,
    pub zipf_s: f64,
    /// Record the operations on this data for the consistency checker.
    pub check: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    pub at: SimDuration,
    pub target: ComponentId,
    pub action: FaultAction,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultAction {
    /// The process dies: its state is lost, messages to it are refused.
    Crash,
    /// The process starts again, empty.
    Restart,
    /// Service times are multiplied by the factor (1 restores normal speed).
    Slow(f64),
    /// Graceful shutdown: refuse new requests, finish the ones in hand, then stop.
    Drain,
    /// The instance's clock runs this far ahead (zero: back in sync).
    Skew(SimDuration),
    /// The network splits as `Model::partitions[i]` says (the target is unused).
    Partition(u16),
    /// That partition heals: held messages go on their way.
    Heal(u16),
    /// Every partition and flaky link in force heals (the target is unused).
    HealAll,
    /// A load balancer keeps this many of its backends in service (the lowest-numbered).
    Scale(u32),
    /// An open-loop population's base rate is now this many requests per second.
    Rate(f64),
    /// A cache's (or each CDN edge's) capacity is now this many entries.
    Capacity(u32),
}

/// A validated link between two components.
#[derive(Clone, Debug)]
pub struct LinkSpec {
    /// Stable name, such as `web1-db`: it keys the link's random stream.
    pub name: String,
    pub a: ComponentId,
    pub b: ComponentId,
    pub latency: Delay,
}

/// A partition or flaky link as the model states it.
#[derive(Clone, Debug, PartialEq)]
pub struct PartitionSpec {
    /// The sides (instances); an instance appears on at most one.
    pub sides: Vec<Vec<ComponentId>>,
    /// Only messages from side 1 to side 2 are cut.
    pub one_way: bool,
    /// Requests and answers wait for the heal instead of being lost.
    pub hold: bool,
    /// Probability that a crossing request, answer or probe is lost: 1 for a partition.
    pub loss: f64,
}

/// How a sharded service splits its keys (`world::sharding` builds the map).
#[derive(Clone, Debug, PartialEq)]
pub enum Sharding {
    HashMod,
    Consistent { vnodes: u32 },
    Range { key_count: u64 },
    Directory { buckets: u32 },
}

impl Sharding {
    pub fn name(&self) -> &'static str {
        match self {
            Sharding::HashMod => "hash_mod",
            Sharding::Consistent { .. } => "consistent",
            Sharding::Range { .. } => "range",
            Sharding::Directory { .. } => "directory",
        }
    }
}
