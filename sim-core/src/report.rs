//! The run report: what `scalelab run` prints as text and as JSON. Field names are part of
//! the public interface (documented in README.md): later versions add fields, never rename.

use crate::cost::{CostReport, MONTH_SECONDS};
use crate::engine::Simulation;
use crate::metrics::{LatencyStats, LatencySummary, SeriesPoint};
use crate::request::Outcome;
use crate::rng::RNG_ALGORITHM;
use crate::time::SimTime;
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
    pub error_rate: f64,
    pub failed_by_reason: BTreeMap<&'static str, u64>,
}

/// One component's numbers. Common fields first; the rest depend on the kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentReport {
    pub kind: &'static str,
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
    #[serde(flatten)]
    pub extra: BTreeMap<String, f64>,
    /// Filled by the component; turned into `sent_to` with names by the report builder.
    #[serde(skip)]
    pub per_target: Vec<(crate::ids::ComponentId, u64)>,
}

impl ComponentReport {
    pub fn new(kind: &'static str) -> ComponentReport {
        ComponentReport {
            kind,
            utilization: None,
            queue_mean: None,
            queue_max: None,
            sent_to: BTreeMap::new(),
            extra: BTreeMap::new(),
            per_target: Vec::new(),
        }
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
    /// Failed / (completed + failed), after warm-up.
    pub error_rate: f64,
    pub classes: BTreeMap<String, ClassReport>,
    pub components: BTreeMap<String, ComponentReport>,
    /// Monthly cost by component, per million requests, and the revenue it needs.
    pub cost: crate::cost::CostReport,
    /// The checker's verdict per checked data class (keyspace).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub consistency: BTreeMap<String, ConsistencyReport>,
    /// What partitions and flaky links did, when the scenario has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_faults: Option<NetworkFaultReport>,
    /// Per-interval series over simulated time; empty unless asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesPoint>,
}

/// One data class's history, checked: how it is replicated, and what the checker found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsistencyReport {
    pub mode: String,
    /// The component holding the data.
    pub store: String,
    #[serde(flatten)]
    pub verdict: crate::consistency::Verdict,
    /// Replicated stores: keys that disagreed when a partition healed, and how long after
    /// the heal they agreed again (null if they had not by the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divergent_keys: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convergence_ms: Option<f64>,
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

fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 { count as f64 / seconds } else { 0.0 }
}

fn error_rate(completed: u64, failed: u64) -> f64 {
    let total = completed + failed;
    if total == 0 { 0.0 } else { failed as f64 / total as f64 }
}

impl Simulation {
    /// The monthly bill: each service at its override or its kind's price per instance,
    /// object storage by volume, plus the fixed lines.
    fn cost(&self, components: &BTreeMap<String, ComponentReport>, run_s: f64, requests_per_second: f64) -> CostReport {
        let c = &self.model.costs;
        let mut lines = BTreeMap::new();
        for (si, service) in self.model.services.iter().enumerate() {
            let kind = self.model.components[service.instances[0].index()].model.kind();
            if kind == "clients" {
                continue;
            }
            let usd = c.service_override[si].unwrap_or_else(|| {
                let unit = c.unit_prices.get(kind).copied().unwrap_or(0.0);
                let mut usd = unit * self.billed_instances(si, components);
                if kind == "object_store" {
                    for i in &service.instances {
                        let r = &components[&self.model.components[i.index()].name];
                        let stored_tb = r.extra.get("bytes_stored").copied().unwrap_or(0.0) / 1e12;
                        let out_per_s = r.extra.get("bytes_transferred_out").copied().unwrap_or(0.0) / run_s.max(1e-9);
                        usd += stored_tb * c.storage_usd_per_tb_month
                            + out_per_s * MONTH_SECONDS / 1e9 * c.transfer_usd_per_gb;
                    }
                }
                usd
            });
            lines.insert(service.name.clone(), usd);
        }
        for (name, usd) in &c.extras {
            lines.insert(name.clone(), *usd);
        }
        CostReport::from_lines(lines, requests_per_second)
    }

    /// Instances of service `si` to bill: its count, or the mean number in service when a
    /// load balancer autoscales it.
    fn billed_instances(&self, si: usize, components: &BTreeMap<String, ComponentReport>) -> f64 {
        let scaled = self.model.components.iter().find_map(|c| match &c.model {
            crate::model::ComponentModel::LoadBalancer(lb) if lb.backends.index() == si && lb.autoscale.is_some() => {
                components[&c.name].extra.get("backends_in_service_mean").copied()
            }
            _ => None,
        });
        scaled.unwrap_or(self.model.services[si].instances.len() as f64)
    }

    /// Checks each checked data class's history against the data's final state.
    fn consistency(&self) -> BTreeMap<String, ConsistencyReport> {
        let mut out = BTreeMap::new();
        // Writes still in flight at the end: their outcome is unknown, but what they wrote
        // may be in the final state, so the checker must know them (as not acknowledged).
        let mut histories = self.metrics.history.clone();
        for r in self.requests.all_live() {
            let node = &self.world.flows[r.class.index()][r.node as usize];
            let keyspace = (r.key >> 48) as u16;
            if let Some(h) = histories.get_mut(&(keyspace, node.service.0))
                && r.op == crate::request::Op::Write
                && r.version != 0
            {
                use crate::consistency::{Op as HOp, OpKind};
                h.push(HOp {
                    key: r.key,
                    kind: OpKind::Write,
                    invoke: r.created,
                    complete: SimTime::MAX,
                    ok: false,
                    value: r.version,
                });
            }
        }
        for ((keyspace, service), history) in &histories {
            let (ks, svc) = (&self.model.keyspaces[usize::from(*keyspace)], &self.model.services[*service as usize]);
            let (group, store) =
                (self.world.db[*service as usize].as_ref(), self.world.stores[*service as usize].as_ref());
            let last: BTreeMap<u64, u64> = history
                .iter()
                .map(|o| match (group, store) {
                    (Some(g), _) => (o.key, g.primary_version(o.key)),
                    (None, Some(s)) => (o.key, s.final_value(o.key)),
                    (None, None) => (o.key, 0),
                })
                .filter(|(_, v)| *v != 0)
                .collect();
            let mode = match &self.model.components[svc.instances[0].index()].model {
                crate::model::ComponentModel::Database(d) => match (&d.replication, svc.instances.len()) {
                    (_, 1) => "single database".to_string(),
                    (crate::component::database::Replication::Sync, _) => "primary + replicas, synchronous".to_string(),
                    (crate::component::database::Replication::Async { .. }, _) => {
                        "primary + replicas, asynchronous".to_string()
                    }
                },
                crate::model::ComponentModel::Store(st) => format!(
                    "{}: w={} r={} of n={}, {}",
                    st.mode.to_uppercase(),
                    st.w,
                    st.r,
                    svc.instances.len(),
                    match st.data {
                        crate::component::store::Data::Register => "last-writer-wins register",
                        crate::component::store::Data::Counter => "grow-only counter",
                    }
                ),
                other => other.kind().to_string(),
            };
            let name = if histories.keys().filter(|(k, _)| k == keyspace).count() > 1 {
                format!("{}.{}", ks.name, svc.name)
            } else {
                ks.name.clone()
            };
            let counter = store.is_some_and(|s| s.data() == crate::component::store::Data::Counter);
            let verdict = if counter {
                crate::consistency::check_counter(history, &last)
            } else {
                crate::consistency::check(history, &last)
            };
            let mut verdict = verdict;
            // Keys as the scenario numbers them: their rank within the keyspace.
            verdict.examples.iter_mut().for_each(|e| e.key &= (1 << 48) - 1);
            let healed = store.filter(|_| {
                self.model.faults.iter().any(|f| {
                    matches!(f.action, crate::model::FaultAction::Heal(_) | crate::model::FaultAction::HealAll)
                })
            });
            out.insert(
                name,
                ConsistencyReport {
                    mode,
                    store: svc.name.clone(),
                    verdict,
                    divergent_keys: healed.map(|s| s.divergent_keys),
                    convergence_ms: healed.and_then(|s| s.convergence_ms),
                },
            );
        }
        out
    }

    /// Builds the report of the run so far.
    pub fn report(&self, with_series: bool) -> Report {
        let end = self.window_end();
        let window_s = end.since(self.metrics.warmup_end()).as_secs_f64();
        let mut all_latency = LatencyStats::default();
        let mut totals = RequestCounts::default();
        let (mut window_completed, mut window_failed) = (0, 0);
        let mut classes = BTreeMap::new();
        for (spec, m) in self.model.classes.iter().zip(&self.metrics.classes) {
            all_latency.merge(&m.latency);
            let failed = m.failed();
            let counts = RequestCounts {
                generated: m.generated,
                completed: m.completed,
                failed,
                in_flight: m.generated - m.completed - failed,
            };
            totals.generated += counts.generated;
            totals.completed += counts.completed;
            totals.failed += counts.failed;
            totals.in_flight += counts.in_flight;
            window_completed += m.window_completed;
            window_failed += m.window_failed;
            let failed_by_reason =
                Outcome::FAILURES.iter().zip(m.failed_by_reason).map(|(o, n)| (o.name(), n)).collect();
            classes.insert(
                spec.name.clone(),
                ClassReport {
                    requests: counts,
                    stale_reads: m.stale_reads,
                    read_your_writes_violations: m.read_your_writes_violations,
                    latency_ms: m.latency.summary(),
                    throughput_rps: rate(m.window_completed, window_s),
                    error_rate: error_rate(m.window_completed, m.window_failed),
                    failed_by_reason,
                },
            );
        }
        let latency_ms = all_latency.summary_with_ci(self.metrics.overall_ci95_ns());
        let components = self
            .model
            .components
            .iter()
            .zip(&self.components)
            .enumerate()
            .map(|(i, (spec, c))| {
                let mut r = c.report(end, &self.world);
                for (target, n) in std::mem::take(&mut r.per_target) {
                    r.sent_to.insert(self.model.components[target.index()].name.clone(), n);
                }
                if self.world.crashes[i] > 0 {
                    r.extra.insert("crashes".into(), self.world.crashes[i] as f64);
                }
                if self.world.refused[i] > 0 {
                    r.extra.insert("refused_while_down".into(), self.world.refused[i] as f64);
                }
                (spec.name.clone(), r)
            })
            .collect();
        let run_s = (end - SimTime::ZERO).as_secs_f64().max(1e-9);
        let cost = self.cost(&components, run_s, totals.generated as f64 / run_s);
        Report {
            scenario: self.model.name.clone(),
            seed: self.seed,
            rng: RNG_ALGORITHM,
            sim_seconds: (end - SimTime::ZERO).as_secs_f64(),
            warmup_seconds: self.model.warmup.as_secs_f64(),
            wall_seconds: 0.0,
            events: self.events,
            events_per_second: 0.0,
            trace_hash: self.trace_hash(),
            truncated: self.truncated,
            requests: totals,
            latency_ms,
            throughput_rps: rate(window_completed, window_s),
            error_rate: error_rate(window_completed, window_failed),
            classes,
            components,
            cost,
            consistency: self.consistency(),
            network_faults: (!self.model.partitions.is_empty()).then_some(NetworkFaultReport {
                messages_lost: self.world.partitions.dropped,
                messages_held: self.world.partitions.held_total,
            }),
            series: if with_series { self.metrics.series.points(end) } else { Vec::new() },
        }
    }
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
