//! The report's answer to "why": which resource limited the run and which will next, how
//! much headroom each service has, the asymptotic bounds, Little's law checked, and a
//! few sentences in plain words built from those and from the latency split and the
//! failure reasons (`view/explain.rs` builds it).

use serde::Serialize;

/// Target utilization the headroom figures size services for: the guide's warning level.
pub const TARGET_UTILIZATION: f64 = 0.7;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Explanation {
    /// Three to six sentences: what limited the run, where the slow requests waited, what
    /// failed and why, what theory predicts, what to change.
    pub what_happened: Vec<String>,
    /// The saturated resource that limits throughput, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bottleneck: Option<Wall>,
    /// The resource that saturates next as load grows (after the bottleneck, if any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_wall: Option<Wall>,
    /// Every service with a measured utilization, busiest first.
    pub services: Vec<ServiceLoad>,
    pub bounds: Bounds,
    pub little: Little,
    /// The most requests in flight at once (at a series bucket's end), and when.
    pub in_flight_peak: u64,
    pub in_flight_peak_at_s: f64,
    /// What queueing theory predicts for the same scenario, beside the run.
    pub twin: TwinCheck,
}

/// A limiting resource and why it is named.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Wall {
    pub service: String,
    pub kind: &'static str,
    pub utilization: f64,
    /// What shows it: "100% busy, queue full, 42,647 rejected".
    pub evidence: String,
}

/// One service's load by the utilization law (U = X·S per instance) and its headroom.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceLoad {
    pub service: String,
    pub kind: &'static str,
    pub instances: u32,
    /// Mean over its instances of the share of capacity (workers, connections) in use.
    pub utilization: f64,
    pub utilization_max: f64,
    /// What reached it per second, served or not, over its capacity: above 1 it cannot
    /// keep up (only for kinds that measure their capacity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered_utilization: Option<f64>,
    /// Requests it turned away (full queue or connection limit).
    pub rejected: u64,
    /// The load, as a multiple of this run's, at which it reaches 100% (`1 / U`, by the
    /// utilization law); at most 1 when it is saturated already.
    pub saturates_at_load: f64,
    /// Instances that would bring it under `TARGET_UTILIZATION` at this run's load.
    pub instances_for_target: u32,
}

/// Asymptotic bounds from the measured demands (Denning and Buzen's operational laws).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Bounds {
    /// X ≤ 1 / D_max: the most root requests per second this architecture can complete,
    /// set by the service with the largest demand per server (`limited_by`).
    pub throughput_max_rps: f64,
    pub limited_by: String,
    /// Closed populations: N* = (D + Z) / D_max, the number of users beyond which the
    /// system is saturated and each added user only adds waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_saturating: Option<f64>,
}

/// Little's law, L = λ·W, with L measured on its own (the time-averaged number of
/// requests in the system) so a reader can check the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Little {
    /// Time-averaged root requests in the system over the window.
    pub in_system_mean: f64,
    /// Requests leaving the system per second over the window (answered or failed).
    pub departures_rps: f64,
    /// L / λ, in ms: the mean time in the system of every request, failed ones included.
    pub implied_response_ms: f64,
    /// The measured mean of successful requests, to compare (close when few fail).
    pub measured_mean_ms: f64,
}

/// A failure line in words: "rejected at web (full queue)".
pub fn describe_failure(reason: &str, at: &str, detail: &str) -> String {
    match (reason, detail) {
        ("rejected", "shed: queue too long") => format!("shed by {at} (its queue was at the shedding length)"),
        ("rejected", "shed: waited too long") => {
            format!("shed by {at} (waited past CoDel's target in a standing queue)")
        }
        ("rejected", _) => format!("rejected by {at} (its queue or connection limit was full)"),
        ("limited", _) => format!("answered 429 by {at}'s rate limiter"),
        ("shed", _) => "shed before sending (the run's in-flight limit)".to_string(),
        ("refused", _) => format!("refused by a crashed {at} instance"),
        ("timed_out", "lost in a partition") => format!("lost in a partition on the way to or from {at}"),
        ("timed_out", "") => format!("timed out waiting on {at}"),
        ("timed_out", d) => format!("timed out at {at} ({d})"),
        ("unavailable", _) => format!("refused as unavailable by {at} (no quorum or no healthy instance)"),
        ("error", _) => format!("answered with an error by {at}"),
        ("circuit_open", _) => format!("failed fast by an open circuit breaker to {at}"),
        (other, _) => format!("{other} at {at}"),
    }
}

/// The analytic twin (`theory`) beside the run: what queueing theory predicts for the
/// scenario without its faults, against what the run measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TwinCheck {
    pub method: String,
    pub stations: Vec<StationCheck>,
    pub classes: Vec<ClassCheck>,
    /// Parts theory does not cover, and why.
    pub refusals: Vec<crate::theory::Refusal>,
    pub caveats: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StationCheck {
    pub service: String,
    pub role: String,
    /// Offered load per server, as theory has it (1 or more: saturated).
    pub predicted_utilization: f64,
    /// The mean over the same instances, as the run measured it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_utilization: Option<f64>,
    /// True when theory is exact for the station (M/M/c, M/M/c/K, M/G/1).
    pub exact: bool,
    /// The two differ by more than 2 points (utilization has no interval of its own).
    pub differs: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassCheck {
    pub class: String,
    /// Theory's mean latency, or why there is none (`why_not`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_ms: Option<f64>,
    pub measured_ms: f64,
    /// Half-width of the measured mean's 95% interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci95_ms: Option<f64>,
    pub exact: bool,
    /// The prediction lies outside the measured mean's 95% interval (outside ±5% when
    /// the run has too few requests for an interval).
    pub differs: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}
