//! The validated model the engine runs: what the `scenarios` crate lowers a scenario file
//! into. Every value here has been checked, so the engine only asserts invariants.

use crate::distribution::Delay;
use crate::ids::{ClassId, ComponentId};
use crate::network::LinkSpec;
use crate::time::SimDuration;

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub components: Vec<ComponentSpec>,
    pub links: Vec<LinkSpec>,
    pub classes: Vec<ClassSpec>,
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
    /// Clients shed new requests while this many are in flight.
    pub in_flight_max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { events_max: 2_000_000_000, in_flight_max: 5_000_000 }
    }
}

#[derive(Clone, Debug)]
pub struct ComponentSpec {
    /// Stable name from the scenario (`web1`): keys the random stream and the report.
    pub name: String,
    pub model: ComponentModel,
}

#[derive(Clone, Debug)]
pub enum ComponentModel {
    Clients(ClientsSpec),
    Server(ServerSpec),
}

impl ComponentModel {
    pub fn kind(&self) -> &'static str {
        match self {
            ComponentModel::Clients(_) => "clients",
            ComponentModel::Server(_) => "server",
        }
    }
}

/// A population of users issuing requests.
#[derive(Clone, Debug)]
pub struct ClientsSpec {
    pub arrival: Arrival,
    /// The classes this population issues, with relative weights (all positive).
    pub class_weights: Vec<(ClassId, f64)>,
}

#[derive(Clone, Debug)]
pub enum Arrival {
    /// Open loop: requests arrive as a Poisson process whatever the system's state.
    Poisson { rate_per_sec: f64 },
    /// Closed loop: each of `users` sends a request, waits for the answer, thinks, repeats.
    Closed { users: u32, think: Delay },
}

/// A pool of `workers` identical workers behind one FIFO queue of bounded capacity: the
/// M/M/c station of queueing theory when service is exponential.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub workers: u32,
    pub queue_capacity: u32,
    pub service: Delay,
    /// Service-time overrides for particular classes.
    pub service_by_class: Vec<(ClassId, Delay)>,
}

/// A request class: the components a request visits in order, starting from `origin`;
/// the response travels the same path back.
#[derive(Clone, Debug)]
pub struct ClassSpec {
    pub name: String,
    pub origin: ComponentId,
    pub path: Vec<ComponentId>,
}
