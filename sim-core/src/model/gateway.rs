//! An API gateway's spec (Kong, Tyk, Nginx Plus in front of the services, as seeds 002 and
//! 004 draw it): a worker pool that authenticates each request, a rate limit, and routing
//! to the service each class's flow names next, balanced over its instances.

use crate::model::ServerSpec;
use crate::model::load_balancer::Policy;

#[derive(Clone, Debug)]
pub struct GatewaySpec {
    /// The gateway's own station: `workers`, `queue_capacity`, the authentication as its
    /// service time, asynchronous calls (a worker is free once a request is routed), and
    /// the rate limit as its admission.
    pub station: ServerSpec,
    /// How it balances over the instances of the service a request is routed to (never
    /// weighted round robin: routes lead to services of different sizes).
    pub policy: Policy,
}
