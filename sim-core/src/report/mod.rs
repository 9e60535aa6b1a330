//! The run report: what `scalelab run` prints as text and as JSON. Field names are part of
//! the public interface (documented in README.md): later versions add fields, never rename.

pub mod cost;
pub mod explain;
pub mod figures;

use figures::Figures;

use crate::world::metrics::{LatencySummary, SeriesPoint};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RequestCounts {
    pub generated: u64,
    pub completed: u64,
    pub failed: u64,
    pub in_flight: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassReport {
    pub requests: RequestCounts,
    /// Reads that returned data older than a write acknowledged before they began.
    pub stale_reads: u64,
    /// Reads older than the reading user's own last write.
    pub read_your_writes_violations: u64,
    pub latency_ms: LatencySummary,
    pub throughput_rps: f64,
    /// Failed / (completed + failed) after warm-up, 429s left out of both: the share of
    /// the requests the system took on that it failed.
    pub error_rate: f64,
    /// Requests a rate limiter answered 429, over the run and as a share of the finished
    /// requests after warm-up; present when the model has a rate limiter. They are among
    /// `requests.failed` (generated = completed + failed + in flight still holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited: Option<Limited>,
    pub failed_by_reason: BTreeMap<&'static str, u64>,
    /// The class opens long-lived connections (WebSockets): its requests are connection
    /// attempts, its failures refused connects, and the run's throughput, error rate and
    /// latency leave it out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub connections: bool,
    /// Requests of the class in the system, time-averaged over the window (Little's L).
    pub in_system_mean: f64,
    /// Where the time of successful requests went, by service and phase.
    pub time_split: TimeSplit,
    /// Every failure over the run by reason and by where it arose; the counts add up to
    /// `requests.failed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureCount>,
    /// The client's retries of this class's calls (absent without a retry policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryCounts>,
    /// What hedging this class's calls did, over its hedged hops (absent if none is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hedge: Option<HedgeCounts>,
    /// What propagating its deadline did (absent unless the class propagates it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DeadlineCounts>,
    /// What its callers' retries of each retried hop did, by callee (absent if no hop of
    /// the class retries).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub hop_retry: BTreeMap<String, HopRetryCounts>,
}

/// What the callers of one retried hop did, over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HopRetryCounts {
    /// Calls sent, first attempts and retries.
    pub attempts: u64,
    pub retries: u64,
    /// Retries a caller's budget refused: those calls failed their parent.
    pub refused_by_budget: u64,
    /// Retries not made because their backoff would end after the parent's propagated
    /// deadline.
    pub past_deadline: u64,
    /// Calls reaching the callee per first call (1 = retries added nothing).
    pub amplification: f64,
}

/// What a propagated deadline did, over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeadlineCounts {
    /// Calls not sent because the request they served had already run out of time
    /// (each counted among the timeouts where it would have gone).
    pub not_sent: u64,
}

/// What a class's hedged hops did, over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HedgeCounts {
    /// The callees whose calls are hedged.
    pub hops: Vec<String>,
    /// Calls made (not copies), copies sent, and copies whose answer came first.
    pub calls: u64,
    pub sent: u64,
    pub won: u64,
    /// Calls reaching the callees per call made (1.05: hedging added 5% load).
    pub extra_load: f64,
}

/// What a retry policy did, over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RetryCounts {
    /// Calls sent, first attempts and retries.
    pub attempts: u64,
    pub retries: u64,
    /// Retries the budget refused: those requests failed with their last outcome.
    pub refused_by_budget: u64,
    /// Calls reaching the callee per first attempt (1 = retries added nothing).
    pub amplification: f64,
}

/// A class's 429s.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Limited {
    pub count: u64,
    /// Limited / (completed + failed), after warm-up.
    pub rate: f64,
}

/// The latency of successful requests split along their critical path (a parallel
/// fan-out counts its slowest call): the mean's parts add up to the mean.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TimeSplit {
    /// Over every successful request of the window: the parts of `latency_ms.mean`.
    pub mean: Vec<HopTime>,
    /// The same over the requests at or above the class's p99.
    pub tail: TailSplit,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TailSplit {
    /// Requests in the tail, and the latency they start from (ms): the p99 rounded down
    /// to the tail histogram's bucket (a sixteenth of an octave).
    pub requests: u64,
    pub from_ms: f64,
    /// Their mean latency, and its parts.
    pub mean_ms: f64,
    pub hops: Vec<HopTime>,
}

/// One service's share of a request's time, in ms per request.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HopTime {
    pub service: String,
    /// On the wire to the service and back.
    pub network_ms: f64,
    /// Waiting in its queue for a worker or a connection.
    pub queue_ms: f64,
    /// Being served (its own work; waiting on its own calls is theirs).
    pub service_ms: f64,
    pub total_ms: f64,
}

/// Failures of one reason arising at one place.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailureCount {
    pub reason: &'static str,
    /// The service where it arose (`"admission"` for requests the client never sent).
    pub at: String,
    /// What the request was doing there, when it says more than the reason.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub detail: &'static str,
    pub count: u64,
}

/// One component's numbers: the common ones, then its kind's (`figures`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentReport {
    /// Time-average share of capacity in use, 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// Time-average number of requests waiting (not in service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_max: Option<u64>,
    /// Requests sent to each target instance (load balancers).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sent_to: BTreeMap<String, u64>,
    /// Its kind (`"kind"` in the report) and what that kind measures.
    #[serde(flatten)]
    pub figures: Figures,
    /// Times the instance crashed, and requests refused while it was down (if any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crashes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_while_down: Option<u64>,
    /// An instance with circuit breakers: times they opened, seconds they were open (summed
    /// over its breakers), calls they failed fast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_opened: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_open_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_failed_fast: Option<u64>,
    /// Seconds after the warm-up spent serving calls whose callers had already given up,
    /// and their share of the instance's busy time (present when some caller retries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasted_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasted_share: Option<f64>,
    /// Filled by the component; turned into `sent_to` with names by the report builder.
    #[serde(skip)]
    pub per_target: Vec<(crate::kernel::ids::ComponentId, u64)>,
}

impl ComponentReport {
    pub fn new(figures: Figures) -> ComponentReport {
        ComponentReport {
            utilization: None,
            queue_mean: None,
            queue_max: None,
            sent_to: BTreeMap::new(),
            figures,
            crashes: None,
            refused_while_down: None,
            breaker_opened: None,
            breaker_open_s: None,
            breaker_failed_fast: None,
            wasted_s: None,
            wasted_share: None,
            per_target: Vec::new(),
        }
    }

    pub fn kind(&self) -> &'static str {
        self.figures.kind()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub rng: &'static str,
    /// Simulated seconds covered (the run's duration, warm-up included).
    pub sim_seconds: f64,
    pub warmup_seconds: f64,
    /// Wall-clock seconds the run took; filled in by the caller (sim-core has no clock).
    pub wall_seconds: f64,
    pub events: u64,
    pub events_per_second: f64,
    pub trace_hash: String,
    /// True if the run hit its event limit before its end.
    pub truncated: bool,
    pub requests: RequestCounts,
    /// Latency of successful requests completed after warm-up, in milliseconds.
    pub latency_ms: LatencySummary,
    /// Successful completions per simulated second after warm-up.
    pub throughput_rps: f64,
    /// Failed / (completed + failed), after warm-up, 429s left out of both.
    pub error_rate: f64,
    pub classes: BTreeMap<String, ClassReport>,
    pub components: BTreeMap<String, ComponentReport>,
    /// Monthly cost by component, per million requests, and the revenue it needs.
    pub cost: crate::report::cost::CostReport,
    /// The checker's verdict per checked data class (keyspace).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub consistency: BTreeMap<String, ConsistencyReport>,
    /// What partitions and flaky links did, when the scenario has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_faults: Option<NetworkFaultReport>,
    /// Each caller instance's circuit breaker per service it calls, when any is declared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub breakers: Vec<BreakerReport>,
    /// 95% intervals of the headline rates, by batch means over the window.
    pub intervals: Intervals,
    /// Why the run went as it did: bottleneck, headroom, bounds, Little's law, sentences.
    pub explain: explain::Explanation,
    /// Per-interval series over simulated time; empty unless asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesPoint>,
    /// How soon the run was healthy again after its last fault or surge: only when asked
    /// for (`Simulation::track_recovery`) and the model has a trigger and a baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
}

/// The recovery figure (`view::recovery` defines it precisely): healthy seconds have a
/// failure share at most max(1%, 2x the baseline's) and a p99 at most 2x the baseline's
/// + 10 ms; recovered at the start of the healthy stretch that lasts to the run's end.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recovery {
    /// When the last fault or surge ended, simulated seconds from the start.
    pub trigger_end_s: f64,
    /// Failed / answered over the baseline seconds (the window before the first trigger).
    pub baseline_error_share: f64,
    /// The median of the baseline seconds' p99 latencies.
    pub baseline_p99_ms: f64,
    /// Seconds from the trigger's end to the healthy stretch lasting to the end; null
    /// ("never") when the run ends degraded.
    pub recovered_after_s: Option<f64>,
    /// Degraded seconds from the trigger's end on.
    pub degraded_s: f64,
}

/// Half-widths of 95% confidence intervals, from batch means: the window's per-second
/// series cut into equal batches (at most 20, at least 10 for an interval), each batch's
/// figure taken as one observation. The mean latency's is `latency_ms.mean_ci95`;
/// percentiles, hit ratios and utilizations get theirs over seeds (`run --seeds K`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Intervals {
    pub batches: u32,
    pub throughput_rps: Option<f64>,
    pub error_rate: Option<f64>,
}

/// One data class's history, checked: how it is replicated, and what the checker found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsistencyReport {
    pub mode: String,
    /// The component holding the data.
    pub store: String,
    #[serde(flatten)]
    pub verdict: crate::world::consistency::Verdict,
    /// Replicated stores: keys that disagreed when a partition healed, and how long after
    /// the heal they agreed again (null if they had not by the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divergent_keys: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convergence_ms: Option<f64>,
}

/// One caller instance's circuit breaker for one service: its timeline and what it saved.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakerReport {
    /// The calling instance (`web-1`) and the service it calls (`recommendations`).
    pub caller: String,
    pub callee: String,
    /// Its state at the end of the window: `closed`, `open` or `half_open`.
    pub state: &'static str,
    pub opened: u64,
    /// When it first opened, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_open_s: Option<f64>,
    pub closed_s: f64,
    pub open_s: f64,
    pub half_open_s: f64,
    /// Calls refused while open or half-open (never sent).
    pub failed_fast: u64,
    /// Every state change, in order (the first `world::breaker::TRANSITIONS_MAX`).
    pub transitions: Vec<BreakerTransition>,
    #[serde(skip_serializing_if = "is_zero")]
    pub transitions_dropped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakerTransition {
    pub at_s: f64,
    pub to: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkFaultReport {
    /// Requests, answers and probes lost crossing a cut.
    pub messages_lost: u64,
    /// Messages that waited at a cut for it to heal.
    pub messages_held: u64,
}

impl Report {
    /// Sets the wall-clock fields measured by the caller.
    pub fn set_wall_seconds(&mut self, wall_seconds: f64) {
        self.wall_seconds = wall_seconds;
        self.events_per_second = if wall_seconds > 0.0 { self.events as f64 / wall_seconds } else { 0.0 };
    }
}

pub(crate) fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 { count as f64 / seconds } else { 0.0 }
}

pub(crate) fn error_rate(completed: u64, failed: u64) -> f64 {
    let total = completed + failed;
    if total == 0 { 0.0 } else { failed as f64 / total as f64 }
}

/// Groups digits in threes, as reports and the TUI print counts: 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
