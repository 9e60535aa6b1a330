//! The load balancer's spec: policy, health checks, connection limit and autoscaling.

use crate::kernel::ids::ServiceId;
use crate::kernel::time::SimDuration;

#[derive(Clone, Debug, PartialEq)]
pub enum Policy {
    RoundRobin,
    LeastConnections,
    /// The same user always lands on the same backend while the set of healthy backends
    /// does not change (sticky sessions without a cookie).
    ClientHash,
    /// Smooth weighted round robin (nginx's algorithm), one weight per backend.
    WeightedRoundRobin(Vec<u32>),
    /// Two backends drawn at random; the one with fewer requests in flight wins.
    PowerOfTwo,
    /// One backend drawn uniformly at random for each request.
    Random,
    /// `d` distinct backends drawn at random (d ≥ 1, at most the backends); the one with
    /// the fewest requests in flight wins, the first drawn on a tie. d = 1 is `Random`,
    /// d = all is least connections with random tie-breaks (Mitzenmacher's power of d).
    PowerOfD(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct HealthCheck {
    pub interval: SimDuration,
    pub timeout: SimDuration,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    /// AWS ALB's defaults, as in the seeds: every 30 s, 5 s timeout, 2 up, 3 down.
    fn default() -> Self {
        HealthCheck {
            interval: SimDuration::from_secs(30),
            timeout: SimDuration::from_secs(5),
            healthy_threshold: 2,
            unhealthy_threshold: 3,
        }
    }
}

#[derive(Clone, Debug)]
pub struct LoadBalancerSpec {
    pub backends: ServiceId,
    pub policy: Policy,
    pub health: Option<HealthCheck>,
    pub max_connections: u32,
    pub autoscale: Option<Autoscale>,
    /// Backends in service at the start when scale faults later add the rest (`None`:
    /// all of them, or autoscale's `min`).
    pub start_in_service: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Autoscale {
    /// Instances in service at the start and at least; the most is the service's count.
    pub min: u32,
    /// Wanted load: requests in flight per backend worker (the guide's 70% CPU = 0.7).
    pub target: f64,
    pub interval: SimDuration,
    pub startup: SimDuration,
    pub cooldown: SimDuration,
    pub scale_in_cooldown: SimDuration,
}
