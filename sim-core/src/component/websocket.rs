//! WebSocket server (Socket.io) and its pub/sub adapter (Redis).
//!
//! A connection is a request the server holds open: it never answers it while it lives,
//! so a client's "connect" stays in flight, and a closed-loop client reconnects after its
//! think time once the connection ends. Beyond `max_connections` new ones are refused.
//! Each connected user sends cursor updates at `update_rate` a second (Poisson); the
//! server publishes each to the adapter, which relays it to every server of the group;
//! each server delivers it to its own members of the update's room (`rooms` rooms, a user
//! in room `user mod rooms`).
//!
//! When a server dies, the operating system resets its connections: every client of it
//! hears so at once and reconnects, through the load balancer, to the others: the
//! reconnect storm shows as a burst of connects in the time series.

use crate::ctx::Ctx;
use crate::event::Input;
use crate::event::Outcome;
use crate::kernel::distribution::Delay;
use crate::kernel::ids::{ComponentId, RequestId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::Model;
use crate::model::websocket::{PubSubSpec, WebSocketSpec};
use crate::report::ComponentReport;
use crate::report::figures::{Figures, PubSubFigures, WebSocketFigures};
use std::collections::BTreeMap;

const UPDATE: u32 = u32::MAX;

#[derive(Clone)]
pub struct WebSocket {
    spec: WebSocketSpec,
    adapter: Option<ComponentId>,
    /// Open connections: user -> the request that holds it.
    connections: BTreeMap<u32, RequestId>,
    /// The connected users, for drawing whose update comes next.
    users: Vec<u32>,
    members: Vec<u32>,
    accepted: u64,
    refused: u64,
    published: u64,
    delivered: u64,
    peak: usize,
}

impl WebSocket {
    pub fn new(spec: &WebSocketSpec, model: &Model) -> WebSocket {
        WebSocket {
            adapter: model.services[spec.adapter.index()].instances.first().copied(),
            spec: spec.clone(),
            connections: BTreeMap::new(),
            users: Vec::new(),
            members: vec![0; spec.rooms as usize],
            accepted: 0,
            refused: 0,
            published: 0,
            delivered: 0,
            peak: 0,
        }
    }

    fn next_update(&self, ctx: &mut Ctx) {
        let rate = self.connections.len() as f64 * self.spec.update_rate;
        if rate > 0.0 {
            let d = Delay::exponential(SimDuration::from_secs_f64(1.0 / rate));
            let wait = ctx.draw(&d);
            ctx.set_timer(wait, UPDATE);
        }
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Request(req) => {
                if self.connections.len() >= self.spec.max_connections as usize {
                    self.refused += 1;
                    ctx.respond(req, Outcome::Rejected);
                    return;
                }
                let user = ctx.request(req).user;
                if let Some(old) = self.connections.insert(user, req) {
                    // The same user connecting twice: the old connection closes.
                    ctx.respond(old, Outcome::Ok);
                } else {
                    self.users.push(user);
                    self.members[(user % self.spec.rooms) as usize] += 1;
                }
                self.accepted += 1;
                self.peak = self.peak.max(self.connections.len());
                if self.connections.len() == 1 {
                    self.next_update(ctx);
                }
            }
            Input::Timer(UPDATE) => {
                // A random connected user's update, for its room.
                let user = self.users[ctx.below(self.users.len() as u64) as usize];
                self.published += 1;
                if let Some(adapter) = self.adapter {
                    ctx.message(adapter, user % self.spec.rooms);
                }
                self.next_update(ctx);
            }
            Input::Message { token: room, .. } => {
                self.delivered += u64::from(self.members[room as usize]);
            }
            Input::ChildDone(result) => ctx.resume(&result),
            Input::Start
            | Input::Restart
            | Input::Timer(_)
            | Input::Pong { .. }
            | Input::Slow(_)
            | Input::Drain
            | Input::Scale(_)
            | Input::Rate(_)
            | Input::Capacity(_) => {}
        }
    }

    pub fn on_crash(&mut self) {
        self.connections.clear();
        self.users.clear();
        self.members.iter_mut().for_each(|m| *m = 0);
    }

    pub fn report(&self) -> ComponentReport {
        let mut r = ComponentReport::new(Figures::WebSocket(WebSocketFigures {
            connections: self.connections.len() as u64,
            connections_peak: self.peak as u64,
            accepted: self.accepted,
            refused: self.refused,
            updates_published: self.published,
            deliveries: self.delivered,
        }));
        r.utilization = Some(self.connections.len() as f64 / f64::from(self.spec.max_connections));
        r
    }
}

/// The adapter: relays every publication to all subscriber instances.
#[derive(Clone)]
pub struct PubSub {
    spec: PubSubSpec,
    subscribers: Vec<ComponentId>,
    relayed: u64,
}

impl PubSub {
    pub fn new(spec: &PubSubSpec, model: &Model) -> PubSub {
        PubSub {
            subscribers: model.services[spec.subscribers.index()].instances.clone(),
            spec: spec.clone(),
            relayed: 0,
        }
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Message { token, .. } => {
                let d = ctx.draw(&self.spec.latency);
                for &s in &self.subscribers {
                    ctx.message_after(s, token, d);
                    self.relayed += 1;
                }
            }
            Input::Request(req) => ctx.respond(req, Outcome::Ok),
            Input::ChildDone(result) => ctx.resume(&result),
            Input::Start
            | Input::Restart
            | Input::Timer(_)
            | Input::Pong { .. }
            | Input::Slow(_)
            | Input::Drain
            | Input::Scale(_)
            | Input::Rate(_)
            | Input::Capacity(_) => {}
        }
    }

    pub fn report(&self, _now: SimTime) -> ComponentReport {
        ComponentReport::new(Figures::PubSub(PubSubFigures { relayed: self.relayed }))
    }
}
