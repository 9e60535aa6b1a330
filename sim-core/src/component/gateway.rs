//! API gateway (Kong, Tyk, Nginx Plus; seeds 002 and 004): the one entry point that
//! authenticates each request, rate-limits it and routes it to the service its class's
//! flow names next, balancing over that service's instances.
//!
//! Model: a server station (`component::server`) whose service time is the
//! authentication: `workers` share a FIFO queue of `queue_capacity` (full: rejected, a
//! 503), the rate limit answers 429 (`Limited`) before a request queues, in the
//! instance's own count or, with `store`, in the shared store's (`component::admission`).
//! Once authenticated, the worker is free (an event loop, as Nginx's is) and the request
//! goes to an instance of the next service picked by `policy` (`component::picker`, the
//! load balancer's code); the gateway holds it until the answer comes back. It does not
//! health-check its upstreams: a dead instance refuses what it is sent.

use crate::component::picker::Picker;
use crate::component::server::Server;
use crate::ctx::Ctx;
use crate::event::{Input, Outcome};
use crate::kernel::ids::{ComponentId, RequestId, ServiceId};
use crate::kernel::time::SimTime;
use crate::model::gateway::GatewaySpec;
use crate::model::load_balancer::Policy;
use crate::model::{CallMode, Model, ServerSpec, Sessions};
use crate::report::ComponentReport;
use crate::report::figures::{Figures, GatewayFigures, ROUTED_PREFIX};

/// A flow node of this gateway that calls nothing.
const NO_ROUTE: u16 = u16::MAX;
/// A routed request's tag: `(route << INSTANCE_BITS | instance) + 1` (0: not routed).
const INSTANCE_BITS: u32 = 20;

/// The instances of one service the gateway routes to, and what its policy needs.
#[derive(Clone)]
struct Route {
    name: String,
    instances: Vec<ComponentId>,
    in_flight: Vec<u32>,
    sent: Vec<u64>,
    /// The candidates of a pick, kept to pick without allocating.
    candidates: Vec<usize>,
    picker: Picker,
}

#[derive(Clone)]
pub struct Gateway {
    station: Server,
    /// The routes and the policy, apart from the station so a pick can borrow them while
    /// the station holds the request.
    router: Router,
}

#[derive(Clone)]
struct Router {
    policy: Policy,
    /// Per class, per flow node: the route of its call if the node is this gateway's.
    node_route: Vec<Vec<u16>>,
    routes: Vec<Route>,
}

impl Gateway {
    pub fn new(spec: &GatewaySpec, me: ServiceId, model: &Model) -> Gateway {
        let mut routes: Vec<(ServiceId, Route)> = Vec::new();
        let mut node_route = Vec::with_capacity(model.classes.len());
        for class in &model.classes {
            let mut nodes = vec![NO_ROUTE; class.flow.len()];
            for (i, node) in class.flow.iter().enumerate() {
                let Some(&call) = node.calls.first().filter(|_| node.service == me) else { continue };
                debug_assert!(node.calls.len() == 1, "lowering lets a gateway's node call one service");
                let service = class.flow[call as usize].service;
                let at = routes.iter().position(|(s, _)| *s == service).unwrap_or_else(|| {
                    let spec = &model.services[service.index()];
                    let n = spec.instances.len();
                    let route = Route {
                        name: spec.name.clone(),
                        instances: spec.instances.clone(),
                        in_flight: vec![0; n],
                        sent: vec![0; n],
                        candidates: Vec::with_capacity(n),
                        picker: Picker::new(n),
                    };
                    routes.push((service, route));
                    routes.len() - 1
                });
                nodes[i] = at as u16;
            }
            node_route.push(nodes);
        }
        // The station: the authentication as its service time, asynchronous (a worker is
        // free once the request is routed), the rate limit as its admission.
        let station = ServerSpec {
            workers: spec.workers,
            queue_capacity: spec.queue_capacity,
            service: spec.auth.clone(),
            service_by_class: Vec::new(),
            call_mode: CallMode::Async,
            error_rate: 0.0,
            sessions: Sessions::None,
            admission: spec.admission.clone(),
        };
        Gateway {
            station: Server::new(&station, me, model),
            router: Router {
                policy: spec.policy.clone(),
                node_route,
                routes: routes.into_iter().map(|(_, r)| r).collect(),
            },
        }
    }

    pub fn slowdown(&self) -> f64 {
        self.station.slowdown()
    }

    pub fn healthy(&self) -> bool {
        self.station.healthy()
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        if let Input::ChildDone(result) = &input {
            let parent = result.parent.expect("a gateway's calls have a parent");
            self.router.on_answer(parent, ctx);
        }
        let router = &mut self.router;
        self.station.on_input_with(input, ctx, |ctx, req| router.route(req, ctx));
    }

    pub fn on_crash(&mut self, now: SimTime) {
        self.station.on_crash(now);
        for r in &mut self.router.routes {
            r.in_flight.fill(0);
        }
    }

    pub fn report(&self, end: SimTime) -> ComponentReport {
        let mut r = self.station.report(end);
        let Figures::Server(s) = &r.figures else { unreachable!("a gateway's station is a server") };
        let routes = &self.router.routes;
        r.figures = Figures::Gateway(GatewayFigures {
            workers: s.workers,
            busy_mean: s.busy_mean,
            served: s.served,
            rejected: s.rejected,
            auth_ms_mean: s.capacity.hold_ms,
            admission: s.admission.clone(),
            routed: routes.iter().map(|r| (format!("{ROUTED_PREFIX}{}", r.name), r.sent.iter().sum())).collect(),
            capacity: s.capacity.clone(),
        });
        r.per_target = routes.iter().flat_map(|r| r.instances.iter().copied().zip(r.sent.iter().copied())).collect();
        r
    }
}

impl Router {
    /// An authenticated request: to an instance of its next service, or answered if its
    /// flow ends here. Returns whether it was answered.
    fn route(&mut self, req: RequestId, ctx: &mut Ctx) -> bool {
        let r = *ctx.request(req);
        let Some(node) = ctx.next_call_node(req) else {
            ctx.respond(req, Outcome::Ok);
            return true;
        };
        let at = self.node_route[r.class.index()][r.node as usize];
        debug_assert!(at != NO_ROUTE, "a node that calls has a route");
        let route = &mut self.routes[at as usize];
        route.candidates.clear();
        route.candidates.extend(0..route.instances.len());
        let in_flight = &route.in_flight;
        let b = route.picker.choose(&self.policy, &mut route.candidates, |i| in_flight[i], r.user, ctx);
        route.in_flight[b] += 1;
        route.sent[b] += 1;
        ctx.set_tag(req, (u32::from(at) << INSTANCE_BITS | b as u32) + 1);
        ctx.call_to(req, node, route.instances[b]);
        false
    }

    /// A routed call answered: one fewer in flight at its instance.
    fn on_answer(&mut self, parent: RequestId, ctx: &mut Ctx) {
        let Some(tag) = ctx.try_request(parent).map(|p| p.tag).filter(|&t| t != 0) else { return };
        let (at, b) = ((tag - 1) >> INSTANCE_BITS, (tag - 1) & ((1 << INSTANCE_BITS) - 1));
        let route = &mut self.routes[at as usize];
        route.in_flight[b as usize] = route.in_flight[b as usize].saturating_sub(1);
        ctx.set_tag(parent, 0);
    }
}
