//! Stage one of parsing: a serde mirror of the TOML file, with source spans on everything
//! a later error may need to point at. Unknown keys are refused here, except inside a
//! component table, whose allowed keys depend on its `kind` (checked in stage two).

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::{Spanned, Value};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Spanned<String>,
    pub title: Spanned<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub lesson: String,
    #[serde(default)]
    pub watch: Vec<String>,
    /// What the lesson predicts, checked after the run: `p99_ms < 200`.
    #[serde(default)]
    pub expect: Vec<Spanned<String>>,
    /// Guided steps, shown as the run reaches them.
    #[serde(default)]
    pub steps: Vec<StepFile>,
    #[serde(default)]
    pub params: BTreeMap<Spanned<String>, ParamFile>,
    pub run: RunFile,
    pub workload: WorkloadFile,
    /// More user populations besides `[workload]`, each its own endpoint (a component
    /// named after it): WebSocket users in a closed loop beside open-loop page views.
    #[serde(default)]
    pub workloads: BTreeMap<Spanned<String>, WorkloadFile>,
    #[serde(default)]
    pub components: Vec<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
    #[serde(default)]
    pub links: Vec<LinkFile>,
    pub classes: Vec<ClassFile>,
    #[serde(default)]
    pub keyspaces: BTreeMap<Spanned<String>, KeyspaceFile>,
    #[serde(default)]
    pub faults: Vec<FaultFile>,
    /// Circuit breakers: `[[breakers]] from = "web"  to = "db"`.
    #[serde(default)]
    pub breakers: Vec<Spanned<BreakerFile>>,
    #[serde(default)]
    pub cost: Option<CostFile>,
    #[serde(default)]
    pub chaos: Option<ChaosFile>,
}

/// One `[[steps]]` table: exactly one of `at` and `when` (checked in stage two).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    /// A simulated time: `"10s"`.
    #[serde(default)]
    pub at: Option<Spanned<Value>>,
    /// A condition on one instance's figures: `"component.db-1.failovers >= 1"`.
    #[serde(default)]
    pub when: Option<Spanned<String>>,
    pub text: Spanned<String>,
    #[serde(default)]
    pub watch: Vec<Spanned<String>>,
    /// A TUI key to suggest: `"f"`.
    #[serde(default)]
    pub key: Option<Spanned<String>>,
}

/// Limits on what `scalelab chaos` may do to the scenario.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ChaosFile {
    #[serde(default)]
    pub max_faults: Option<Spanned<Value>>,
    /// Shares of the run: `["15%", "60%"]` or `[0.15, 0.6]`.
    #[serde(default)]
    pub window: Option<Spanned<Vec<Spanned<Value>>>>,
    #[serde(default)]
    pub kinds: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub converge_within: Option<Spanned<Value>>,
    /// How long a backlog the faults leave may take to drain.
    #[serde(default)]
    pub drain_within: Option<Spanned<Value>>,
    /// How soon after the last fault the run must be healthy again (the `recovers` invariant).
    #[serde(default)]
    pub recover_within: Option<Spanned<Value>>,
}

/// Prices for the monthly cost report (defaults: the seeds' tables).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct CostFile {
    /// Per component kind, USD per instance per month: `{ server = 25 }`.
    #[serde(default)]
    pub prices: BTreeMap<Spanned<String>, Spanned<Value>>,
    #[serde(default)]
    pub storage_usd_per_tb: Option<Spanned<Value>>,
    #[serde(default)]
    pub transfer_usd_per_gb: Option<Spanned<Value>>,
    /// Fixed monthly lines: `{ dns = 15, sentry = 26 }`.
    #[serde(default)]
    pub extra: BTreeMap<Spanned<String>, Spanned<Value>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct KeyspaceFile {
    pub count: Spanned<Value>,
    /// Zipf exponent; 0 (the default) is uniform.
    #[serde(default)]
    pub zipf: Option<Spanned<Value>>,
    /// Record every operation on this data and check the history after the run.
    #[serde(default)]
    pub check: bool,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FaultFile {
    pub at: Spanned<Value>,
    #[serde(default)]
    pub crash: Option<Spanned<String>>,
    #[serde(default)]
    pub restart: Option<Spanned<String>>,
    #[serde(default)]
    pub slow: Option<Spanned<String>>,
    #[serde(default)]
    pub drain: Option<Spanned<String>>,
    /// A population's open-loop rate is multiplied by `factor` (a load spike).
    #[serde(default)]
    pub surge: Option<Spanned<String>>,
    /// `heal = "all"`: every partition and flaky link in force heals.
    #[serde(default)]
    pub heal: Option<Spanned<String>>,
    /// An instance's clock jumps ahead `by` a duration (timestamps, last writer wins).
    #[serde(default)]
    pub skew: Option<Spanned<String>>,
    #[serde(default)]
    pub by: Option<Spanned<Value>>,
    /// `slow`: service times are multiplied by this.
    #[serde(default)]
    pub factor: Option<Spanned<Value>>,
    /// `slow`, `partition`, `flaky`: for how long (forever if absent).
    #[serde(default, rename = "for")]
    pub lasting: Option<Spanned<Value>>,
    /// Sides of a network partition: `[["db-1", "web-1"], ["db-2", "db-3"]]`.
    #[serde(default)]
    pub partition: Option<Spanned<Vec<Side>>>,
    /// A partition that cuts only side 1 → side 2.
    #[serde(default)]
    pub one_way: Option<bool>,
    /// Requests and answers across the cut wait for the heal instead of being lost.
    #[serde(default)]
    pub hold: Option<bool>,
    /// The two ends of a lossy link: `["web", "db"]`.
    #[serde(default)]
    pub flaky: Option<Spanned<Vec<Spanned<String>>>>,
    /// `flaky`: the share of requests, answers and probes lost.
    #[serde(default)]
    pub loss: Option<Spanned<Value>>,
    /// A service behind a load balancer runs `instances` from then on.
    #[serde(default)]
    pub scale: Option<Spanned<String>>,
    #[serde(default)]
    pub instances: Option<Spanned<Value>>,
    /// An open-loop population's rate is `to` from then on (until the next).
    #[serde(default)]
    pub rate: Option<Spanned<String>>,
    #[serde(default)]
    pub to: Option<Spanned<Value>>,
    /// A cache's or CDN's capacity is `capacity` entries from then on.
    #[serde(default)]
    pub resize: Option<Spanned<String>>,
    #[serde(default)]
    pub capacity: Option<Spanned<Value>>,
}

/// One side of a partition: service or instance names.
pub type Side = Spanned<Vec<Spanned<String>>>;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ParamFile {
    pub default: Spanned<Value>,
    #[serde(default)]
    pub unit: Option<Spanned<String>>,
    #[serde(default)]
    pub description: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RunFile {
    pub duration: Spanned<Value>,
    #[serde(default)]
    pub warmup: Option<Spanned<Value>>,
    #[serde(default)]
    pub seed: Option<u64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    pub arrival: Spanned<String>,
    #[serde(default)]
    pub rate: Option<Spanned<Value>>,
    /// Closed loop: the users sending requests. Open loop: how many distinct users the
    /// requests come from (default 1000).
    #[serde(default)]
    pub users: Option<Spanned<Value>>,
    #[serde(default)]
    pub think: Option<Spanned<Value>>,
    /// Open loop: stretches at a multiple of the rate.
    #[serde(default)]
    pub surges: Vec<SurgeFile>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SurgeFile {
    pub at: Spanned<Value>,
    #[serde(rename = "for")]
    pub lasting: Spanned<Value>,
    /// The rate is multiplied by this (3 = the guide's "+200%" morning spike).
    pub factor: Spanned<Value>,
}

/// One `[[breakers]]` table (units and limits checked in stage two, `breaker.rs`).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct BreakerFile {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    #[serde(default)]
    pub failure_rate: Option<Spanned<Value>>,
    #[serde(default)]
    pub slow_call: Option<Spanned<Value>>,
    #[serde(default)]
    pub slow_rate: Option<Spanned<Value>>,
    #[serde(default)]
    pub window: Option<Spanned<Value>>,
    #[serde(default)]
    pub window_calls: Option<Spanned<Value>>,
    #[serde(default)]
    pub min_calls: Option<Spanned<Value>>,
    #[serde(default)]
    pub open_for: Option<Spanned<Value>>,
    #[serde(default)]
    pub probes: Option<Spanned<Value>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct LinkFile {
    pub between: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub latency: Option<Spanned<Value>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ClassFile {
    pub name: Spanned<String>,
    /// The population that issues this class (default: `clients`, the `[workload]`).
    #[serde(default)]
    pub from: Option<Spanned<String>>,
    #[serde(default)]
    pub weight: Option<Spanned<Value>>,
    pub path: Spanned<Vec<Spanned<String>>>,
    /// What the last service of the path calls in turn: `["db:write", "s3", "jobs"]`.
    #[serde(default)]
    pub calls: Option<Spanned<Vec<Spanned<String>>>>,
    /// Make the `calls` all at once and wait for the slowest, instead of one after another.
    #[serde(default)]
    pub parallel: bool,
    /// `read` (default), `write` or `scan`.
    #[serde(default)]
    pub op: Option<Spanned<String>>,
    #[serde(default)]
    pub keyspace: Option<Spanned<String>>,
    /// Every call of the class gives up after this long (default 30s; "none" never).
    #[serde(default)]
    pub timeout: Option<Spanned<Value>>,
    /// `high` (default) or `low`: a shedding server sheds low-priority requests first.
    #[serde(default)]
    pub priority: Option<Spanned<String>>,
    /// Per-component service-time overrides for this class: `{ web = "exp(30ms)" }`.
    #[serde(default)]
    pub service: BTreeMap<Spanned<String>, Spanned<Value>>,
    /// The client re-sends a failed request: `{ attempts = 3, backoff = "exponential" }`.
    #[serde(default)]
    pub retry: Option<Spanned<RetryFile>>,
    /// Per callee, how this class's calls to it behave: `[classes.hops.leaf] hedge = {...}`.
    #[serde(default)]
    pub hops: BTreeMap<Spanned<String>, Spanned<HopFile>>,
    /// `"propagate"`: a call waits at most what its caller has left (default `"none"`).
    #[serde(default)]
    pub deadline: Option<Spanned<String>>,
}

/// A class's calls to one service (`scenarios::hedge` lowers its `hedge`, `scenarios::hop`
/// its `timeout` and `retry`).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct HopFile {
    #[serde(default)]
    pub hedge: Option<Spanned<HedgeFile>>,
    /// This hop's calls give up after this long instead of the class's timeout.
    #[serde(default)]
    pub timeout: Option<Spanned<Value>>,
    /// A failed call is made again by its caller, with the class `retry`'s keys.
    #[serde(default)]
    pub retry: Option<Spanned<RetryFile>>,
}

/// A hedging policy as written: `{ after = "p95", max = 1 }`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct HedgeFile {
    pub after: Spanned<Value>,
    #[serde(default)]
    pub max: Option<Spanned<Value>>,
}

/// A retry policy as written (`scenarios::retry` lowers it).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RetryFile {
    pub attempts: Spanned<Value>,
    #[serde(default)]
    pub backoff: Option<Spanned<String>>,
    #[serde(default)]
    pub base: Option<Spanned<Value>>,
    #[serde(default)]
    pub cap: Option<Spanned<Value>>,
    #[serde(default)]
    pub jitter: Option<Spanned<String>>,
    #[serde(default)]
    pub on: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub budget: Option<Spanned<Value>>,
}
