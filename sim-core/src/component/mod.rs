//! Component models. Each is a state machine: it receives one event at a time through
//! `on_event` and acts only through its `Ctx` (timers, sends along the network, request
//! table, metrics). Components never call each other.

mod clients;
mod server;

pub use clients::Clients;
pub use server::Server;

use crate::engine::Ctx;
use crate::model::{ComponentModel, Model};
use crate::report::ComponentReport;
use crate::time::SimTime;

/// What an event asks of its target component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Delivered once to every component at time zero.
    Start,
    /// A timer the component set for itself, with its token.
    Timer(u32),
    /// A request arrives to be processed here.
    Request(crate::ids::RequestId),
    /// A response comes back from the next component on the request's path.
    Response(crate::ids::RequestId),
}

/// The closed set of component models.
pub enum Component {
    Clients(Clients),
    Server(Server),
}

impl Component {
    pub fn new(model: &ComponentModel, m: &Model) -> Component {
        match model {
            ComponentModel::Clients(spec) => Component::Clients(Clients::new(spec)),
            ComponentModel::Server(spec) => Component::Server(Server::new(spec, m)),
        }
    }

    #[inline]
    pub fn on_event(&mut self, kind: EventKind, ctx: &mut Ctx) {
        match self {
            Component::Clients(c) => c.on_event(kind, ctx),
            Component::Server(s) => s.on_event(kind, ctx),
        }
    }

    pub fn report(&self, end: SimTime) -> ComponentReport {
        match self {
            Component::Clients(c) => c.report(),
            Component::Server(s) => s.report(end),
        }
    }
}
