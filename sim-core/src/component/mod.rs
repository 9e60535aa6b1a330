//! Component models. Each is a state machine: the engine hands it one `Input` at a time
//! and it acts only through its `Ctx` (timers, calls along the request's flow, answers,
//! pings and messages). Components never call each other. Each file states its model and
//! its assumptions in its doc comment.

pub mod admission;
pub mod cache;
pub mod cdn;
pub mod clients;
pub mod database;
pub mod gateway;
pub mod load_balancer;
mod lru;
pub mod object_store;
pub mod picker;
pub mod queue;
pub mod server;
pub mod store;
mod token_slab;
pub mod websocket;

use crate::ctx::Ctx;
use crate::event::Input;
use crate::kernel::ids::ComponentId;
use crate::kernel::time::SimTime;
use crate::model::{ComponentModel, ComponentSpec, Model};
use crate::report::ComponentReport;

/// The closed set of component models.
#[derive(Clone)]
pub enum Component {
    Clients(clients::Clients),
    Server(server::Server),
    LoadBalancer(load_balancer::LoadBalancer),
    Gateway(Box<gateway::Gateway>),
    /// Boxed: its tables are large and the component table stays compact.
    Cache(Box<cache::Cache>),
    Database(Box<database::Database>),
    Queue(Box<queue::Queue>),
    Cdn(Box<cdn::Cdn>),
    ObjectStore(Box<object_store::ObjectStore>),
    WebSocket(Box<websocket::WebSocket>),
    PubSub(websocket::PubSub),
    Store(Box<store::Store>),
}

impl Component {
    pub fn new(id: ComponentId, spec: &ComponentSpec, model: &Model) -> Component {
        match &spec.model {
            ComponentModel::Clients(s) => Component::Clients(clients::Clients::new(s, model)),
            ComponentModel::Server(s) => Component::Server(server::Server::new(s, spec.service, model)),
            ComponentModel::LoadBalancer(s) => Component::LoadBalancer(load_balancer::LoadBalancer::new(s, model)),
            ComponentModel::Gateway(s) => Component::Gateway(Box::new(gateway::Gateway::new(s, spec.service, model))),
            ComponentModel::Cache(s) => Component::Cache(Box::new(cache::Cache::new(s, model))),
            ComponentModel::Database(s) => Component::Database(Box::new(database::Database::new(id, s, model))),
            ComponentModel::Queue(s) => Component::Queue(Box::new(queue::Queue::new(s, model))),
            ComponentModel::Cdn(s) => Component::Cdn(Box::new(cdn::Cdn::new(s, model))),
            ComponentModel::ObjectStore(s) => Component::ObjectStore(Box::new(object_store::ObjectStore::new(s))),
            ComponentModel::WebSocket(s) => Component::WebSocket(Box::new(websocket::WebSocket::new(s, model))),
            ComponentModel::PubSub(s) => Component::PubSub(websocket::PubSub::new(s, model)),
            ComponentModel::Store(s) => Component::Store(Box::new(store::Store::new(s, model, id))),
        }
    }

    #[inline]
    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match self {
            Component::Clients(c) => c.on_input(input, ctx),
            Component::Server(c) => c.on_input(input, ctx),
            Component::LoadBalancer(c) => c.on_input(input, ctx),
            Component::Gateway(c) => c.on_input(input, ctx),
            Component::Cache(c) => c.on_input(input, ctx),
            Component::Database(c) => c.on_input(input, ctx),
            Component::Queue(c) => c.on_input(input, ctx),
            Component::Cdn(c) => c.on_input(input, ctx),
            Component::ObjectStore(c) => c.on_input(input, ctx),
            Component::WebSocket(c) => c.on_input(input, ctx),
            Component::PubSub(c) => c.on_input(input, ctx),
            Component::Store(c) => c.on_input(input, ctx),
        }
    }

    /// The process died at `now`: forget everything that lived in memory. (`world` lets a
    /// database hand its share of a failover in progress to the control plane.)
    pub fn on_crash(&mut self, now: SimTime, world: &mut crate::world::World) {
        match self {
            Component::Clients(_) => {}
            Component::Server(c) => c.on_crash(now),
            Component::LoadBalancer(c) => c.on_crash(),
            Component::Gateway(c) => c.on_crash(now),
            Component::Cache(c) => c.on_crash(),
            Component::Database(c) => c.on_crash(now, world),
            Component::Queue(c) => c.on_crash(now),
            Component::Cdn(c) => c.on_crash(),
            Component::ObjectStore(c) => c.on_crash(),
            Component::WebSocket(c) => c.on_crash(),
            Component::PubSub(_) => {}
            Component::Store(c) => c.on_crash(),
        }
    }

    /// What a health probe sees (the engine answers probes only for live instances).
    pub fn healthy(&self) -> bool {
        match self {
            Component::Server(c) => c.healthy(),
            Component::Gateway(c) => c.healthy(),
            _ => true,
        }
    }

    /// The factor its service times are multiplied by (a slow fault), 1 when none is.
    pub fn slowdown(&self) -> f64 {
        match self {
            Component::Server(c) => c.slowdown(),
            Component::Gateway(c) => c.slowdown(),
            _ => 1.0,
        }
    }

    /// The instances this component's health checks hold down (load balancers).
    pub fn marked_down(&self) -> Vec<ComponentId> {
        match self {
            Component::LoadBalancer(c) => c.marked_down().collect(),
            _ => Vec::new(),
        }
    }

    pub fn report(&self, end: SimTime, world: &crate::world::World) -> ComponentReport {
        match self {
            Component::Clients(c) => c.report(),
            Component::Server(c) => c.report(end),
            Component::LoadBalancer(c) => c.report(end),
            Component::Gateway(c) => c.report(end),
            Component::Cache(c) => c.report(),
            Component::Database(c) => {
                let service = c.service().index();
                c.report(end, world.db[service].as_ref(), world.services[service].shard_map.as_ref())
            }
            Component::Queue(c) => c.report(end),
            Component::Cdn(c) => c.report(),
            Component::ObjectStore(c) => c.report(),
            Component::WebSocket(c) => c.report(),
            Component::PubSub(c) => c.report(end),
            Component::Store(c) => c.report(world.stores[c.service().index()].as_ref()),
        }
    }
}
