//! An API gateway's spec (Kong, Tyk, Nginx Plus in front of the services, as seeds 002 and
//! 004 draw it): a worker pool that authenticates each request, a rate limit, and routing
//! to the service each class's flow names next, balanced over its instances.

use crate::kernel::distribution::Delay;
use crate::model::admission::AdmissionSpec;
use crate::model::load_balancer::Policy;

#[derive(Clone, Debug)]
pub struct GatewaySpec {
    pub workers: u32,
    pub queue_capacity: u32,
    /// The time a worker spends authenticating a request (its station's service time);
    /// the worker is free once the request is routed.
    pub auth: Delay,
    /// The rate limit (a server's admission, with only `rate_limit` set); `None`: none.
    pub admission: Option<Box<AdmissionSpec>>,
    /// How it balances over the instances of the service a request is routed to (never
    /// weighted round robin: routes lead to services of different sizes).
    pub policy: Policy,
}
