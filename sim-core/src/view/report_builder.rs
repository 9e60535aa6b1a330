//! Building a run's report from the simulation's state: classes, components, the bill,
//! the consistency checker's verdicts, network faults and the series.

use crate::engine::Simulation;
use crate::event::Outcome;
use crate::kernel::ids::{ClassId, ComponentId};
use crate::kernel::rng::RNG_ALGORITHM;
use crate::kernel::time::SimTime;
use crate::model::cost::MONTH_SECONDS;
use crate::report::cost::CostReport;
use crate::report::figures::Figures;
use crate::report::{
    ClassReport, ComponentReport, ConsistencyReport, FailureCount, HopTime, NetworkFaultReport, Report, RequestCounts,
    TailSplit, TimeSplit, error_rate, rate,
};
use crate::world::breaker::BreakerState;
use crate::world::metrics::LatencyStats;
use std::collections::BTreeMap;

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
                        let Figures::ObjectStore(o) = &components[&self.model.components[i.index()].name].figures
                        else {
                            unreachable!("an object_store service's instances are object stores")
                        };
                        let stored_tb = o.bytes_stored as f64 / 1e12;
                        let out_per_s = o.bytes_transferred_out as f64 / run_s.max(1e-9);
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
        // Each instance's wasted share of its busy time, averaged over the service's
        // instances (an instance that wasted nothing counts as 0).
        let wasted: Vec<(String, f64)> = (self.model.services.iter())
            .filter_map(|service| {
                let shares: Vec<Option<f64>> = (service.instances.iter())
                    .map(|i| components.get(&self.model.components[i.index()].name)?.wasted_share)
                    .collect();
                shares.iter().any(Option::is_some).then(|| {
                    let mean = shares.iter().flatten().sum::<f64>() / shares.len() as f64;
                    (service.name.clone(), lines.get(&service.name).copied().unwrap_or(0.0) * mean)
                })
            })
            .collect();
        let mut report = CostReport::from_lines(lines, requests_per_second);
        for (service, usd) in wasted {
            report.add_wasted(&service, usd);
        }
        report
    }

    /// Instances of service `si` to bill: its count, or the mean number in service when a
    /// load balancer autoscales it or scale faults set its size.
    fn billed_instances(&self, si: usize, components: &BTreeMap<String, ComponentReport>) -> f64 {
        let scaled = self.model.components.iter().find_map(|c| match &c.model {
            crate::model::ComponentModel::LoadBalancer(lb) if lb.backends.index() == si => {
                match &components[&c.name].figures {
                    Figures::LoadBalancer(f) => f.autoscaling.as_ref().map(|a| a.backends_in_service_mean),
                    _ => None,
                }
            }
            _ => None,
        });
        scaled.unwrap_or(self.model.services[si].instances.len() as f64)
    }

    /// How a service holds its data, in words, for the consistency table.
    fn replication_mode(&self, svc: &crate::model::ServiceSpec) -> String {
        use crate::model::database::Replication;
        use crate::model::store::Data;
        match &self.model.components[svc.instances[0].index()].model {
            crate::model::ComponentModel::Database(d) => match (&d.replication, svc.instances.len()) {
                (_, 1) => "single database".to_string(),
                (Replication::Sync, _) => "primary + replicas, synchronous".to_string(),
                (Replication::Async { .. }, _) => "primary + replicas, asynchronous".to_string(),
            },
            crate::model::ComponentModel::Store(st) => format!(
                "{}: w={} r={} of n={}, {}",
                st.mode.to_uppercase(),
                st.w,
                st.r,
                svc.instances.len(),
                match st.data {
                    Data::Register => "last-writer-wins register",
                    Data::Counter => "grow-only counter",
                }
            ),
            other => other.kind().to_string(),
        }
    }

    /// Checks each checked data class's history against the data's final state.
    fn consistency(&self) -> BTreeMap<String, ConsistencyReport> {
        let mut out = BTreeMap::new();
        // Writes still in flight at the end: their outcome is unknown, but what they wrote
        // may be in the final state, so the checker must know them (as not acknowledged).
        let mut histories = self.metrics.history.clone();
        for r in self.requests.all_live() {
            let node = &self.world.flows[r.class.index()][r.node as usize];
            let keyspace = crate::world::sharding::keyspace_of(r.key);
            if let Some(h) = histories.get_mut(&(keyspace, node.service.0))
                && r.op == crate::event::Op::Write
                && r.version != 0
            {
                use crate::world::consistency::{Op as HOp, OpKind};
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
            let mode = self.replication_mode(svc);
            let name = if histories.keys().filter(|(k, _)| k == keyspace).count() > 1 {
                format!("{}.{}", ks.name, svc.name)
            } else {
                ks.name.clone()
            };
            let counter = store.is_some_and(|s| s.data() == crate::model::store::Data::Counter);
            let verdict = if counter {
                crate::world::consistency::check_counter(history, &last)
            } else {
                crate::world::consistency::check(history, &last)
            };
            let mut verdict = verdict;
            // Keys as the scenario numbers them: their rank within the keyspace.
            verdict.examples.iter_mut().for_each(|e| e.key = crate::world::sharding::rank_of(e.key));
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

    /// Every component's report by name, with what the engine saw of it (crashes, refusals).
    fn named_component_reports(&self, end: SimTime) -> BTreeMap<String, ComponentReport> {
        let named = self.model.components.iter().zip(&self.components).enumerate();
        named
            .map(|(i, (spec, c))| {
                let mut r = c.report(end, &self.world);
                for (target, n) in std::mem::take(&mut r.per_target) {
                    r.sent_to.insert(self.model.components[target.index()].name.clone(), n);
                }
                r.crashes = Some(self.world.crashes[i]).filter(|&n| n > 0);
                r.refused_while_down = Some(self.world.refused[i]).filter(|&n| n > 0);
                if self.world.breakers.any() {
                    self.breaker_figures(ComponentId(i as u32), end, &mut r);
                }
                if let Some(&ns) = self.metrics.wasted_ns.get(i) {
                    self.wasted(&mut r, ns, end);
                }
                (spec.name.clone(), r)
            })
            .collect()
    }

    /// An instance's circuit breakers summed (none: no figures).
    fn breaker_figures(&self, caller: ComponentId, end: SimTime, r: &mut ComponentReport) {
        let mine = self.world.breakers.all().iter().filter(|(c, _)| *c == caller).map(|(_, b)| b);
        for b in mine {
            *r.breaker_opened.get_or_insert(0) += b.opened() as u64;
            *r.breaker_open_s.get_or_insert(0.0) += b.time_in(BreakerState::Open, end).as_secs_f64();
            *r.breaker_failed_fast.get_or_insert(0) += b.failed_fast;
        }
    }

    /// Every breaker's timeline, per caller instance, up to `end`.
    fn breakers(&self, end: SimTime) -> Vec<crate::report::BreakerReport> {
        let secs = |t: SimTime| t.since(SimTime::ZERO).as_secs_f64();
        let all = self.world.breakers.all().iter();
        all.map(|(caller, b)| {
            let transitions: Vec<_> = b.transitions().iter().filter(|t| t.at <= end).collect();
            crate::report::BreakerReport {
                caller: self.model.components[caller.index()].name.clone(),
                callee: self.model.services[b.spec().to.index()].name.clone(),
                state: b.state().name(),
                opened: b.opened() as u64,
                first_open_s: transitions.iter().find(|t| t.to == BreakerState::Open).map(|t| secs(t.at)),
                closed_s: b.time_in(BreakerState::Closed, end).as_secs_f64(),
                open_s: b.time_in(BreakerState::Open, end).as_secs_f64(),
                half_open_s: b.time_in(BreakerState::HalfOpen, end).as_secs_f64(),
                failed_fast: b.failed_fast,
                transitions: transitions
                    .iter()
                    .map(|t| crate::report::BreakerTransition { at_s: secs(t.at), to: t.to.name() })
                    .collect(),
                transitions_dropped: b.transitions_dropped,
            }
        })
        .collect()
    }

    /// A server's wasted work: seconds, and their share of its busy workers' time.
    fn wasted(&self, r: &mut ComponentReport, ns: u64, end: SimTime) {
        let busy_mean = match &r.figures {
            Figures::Server(f) => Some(f.busy_mean),
            Figures::Gateway(f) => Some(f.busy_mean),
            _ => None,
        };
        if let Some(busy_mean) = busy_mean {
            let wasted_s = ns as f64 / 1e9;
            let busy_s = busy_mean * end.since(self.metrics.warmup_end()).as_secs_f64();
            r.wasted_s = Some(wasted_s);
            r.wasted_share = Some(if busy_s > 0.0 { (wasted_s / busy_s).min(1.0) } else { 0.0 });
        }
    }

    /// A class's latency split by service and phase, for the mean and for the tail.
    /// Class `ci`'s hedged hops summed: calls, copies, copies that won, the extra load.
    fn hedge_counts(&self, ci: usize, spec: &crate::model::ClassSpec) -> Option<crate::report::HedgeCounts> {
        if spec.hedges.is_empty() {
            return None;
        }
        let h = &self.world.hedges;
        let mut seen = Vec::new();
        let mut counts = crate::report::HedgeCounts::default();
        for (n, node) in spec.flow.iter().enumerate() {
            if let Some(hop) = h.hop(ci, n as u16).filter(|hop| !seen.contains(hop)) {
                seen.push(hop);
                counts.hops.push(self.model.services[node.service.index()].name.clone());
                counts.calls += h.hops[hop].calls;
                counts.sent += h.hops[hop].sent;
                counts.won += h.hops[hop].won;
            }
        }
        counts.extra_load =
            if counts.calls > 0 { (counts.calls + counts.sent) as f64 / counts.calls as f64 } else { 0.0 };
        Some(counts)
    }

    /// Class `ci`'s retried hops, by callee.
    fn hop_retry_counts(&self, ci: usize) -> BTreeMap<String, crate::report::HopRetryCounts> {
        let r = &self.world.hop_retries;
        r.hops
            .iter()
            .filter(|h| h.class == ci)
            .map(|h| {
                let counts = crate::report::HopRetryCounts {
                    attempts: h.attempts,
                    retries: h.retries,
                    refused_by_budget: h.refused_by_budget,
                    past_deadline: h.past_deadline,
                    amplification: if h.calls > 0 { h.attempts as f64 / h.calls as f64 } else { 0.0 },
                };
                (self.model.services[h.service.index()].name.clone(), counts)
            })
            .collect()
    }

    fn time_split(&self, class: ClassId, m: &crate::world::metrics::ClassMetrics) -> TimeSplit {
        let flow = &self.model.classes[class.index()].flow;
        let by_service = |split: &crate::world::metrics::attribution::Split| -> Vec<HopTime> {
            let mut hops: Vec<HopTime> = Vec::new();
            for (node, t) in flow.iter().zip(&split.nodes) {
                let name = &self.model.services[node.service.index()].name;
                let i = match hops.iter().position(|h| &h.service == name) {
                    Some(i) => i,
                    None => {
                        hops.push(HopTime { service: name.clone(), ..HopTime::default() });
                        hops.len() - 1
                    }
                };
                let h = &mut hops[i];
                h.network_ms += t[0] / 1e6;
                h.queue_ms += t[1] / 1e6;
                h.service_ms += t[2] / 1e6;
                h.total_ms += (t[0] + t[1] + t[2]) / 1e6;
            }
            hops
        };
        let count = m.latency.count();
        let mean = by_service(&self.metrics.attribution.mean(class, count));
        let p99_ns = (m.latency.summary().p99 * 1e6) as u64;
        let tail = self.metrics.attribution.tail(class, p99_ns);
        let hops = by_service(&tail);
        TimeSplit {
            mean,
            tail: TailSplit {
                requests: tail.count,
                from_ms: tail.from_ns as f64 / 1e6,
                mean_ms: hops.iter().map(|h| h.total_ms).sum(),
                hops,
            },
        }
    }

    /// A class's failures by reason and where they arose, most frequent first.
    fn failures(&self, spec: &crate::model::ClassSpec, m: &crate::world::metrics::ClassMetrics) -> Vec<FailureCount> {
        let mut out: Vec<FailureCount> = m
            .failures
            .iter()
            .map(|(&(reason, origin, detail), &count)| FailureCount {
                reason: Outcome::FAILURES[usize::from(reason)].name(),
                at: match spec.flow.get(usize::from(origin)) {
                    Some(node) => self.model.services[node.service.index()].name.clone(),
                    None => "admission".to_string(),
                },
                detail: crate::world::metrics::failure::detail_name(detail),
                count,
            })
            .collect();
        // One line per (reason, service, detail): a service visited at two nodes adds up.
        out.sort_by(|a, b| (a.reason, &a.at, a.detail).cmp(&(b.reason, &b.at, b.detail)));
        out.dedup_by(|b, a| {
            let same = (a.reason, &a.at, a.detail) == (b.reason, &b.at, b.detail);
            if same {
                a.count += b.count;
            }
            same
        });
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (a.reason, &a.at).cmp(&(b.reason, &b.at))));
        out
    }

    /// Per class, the time-averaged number of its requests in the system over the window:
    /// the finished ones' time inside it, and the unfinished ones' so far.
    pub(crate) fn in_system(&self, end: SimTime) -> Vec<f64> {
        let start = self.metrics.warmup_end();
        let mut area: Vec<u128> = self.metrics.classes.iter().map(|c| c.in_system_ns).collect();
        for r in self.requests.unfinished_roots() {
            if end > start {
                area[r.class.index()] += u128::from(end.since(r.created.max(start)).as_nanos());
            }
        }
        let span = end.since(start).as_nanos().max(1) as f64;
        area.iter().map(|a| *a as f64 / span).collect()
    }

    /// Batch means over the window's series buckets (see `Intervals`).
    fn intervals(&self, end: SimTime) -> crate::report::Intervals {
        let bucket_s = self.metrics.series.bucket().as_secs_f64();
        let warmup_s = self.metrics.warmup_end().since(SimTime::ZERO).as_secs_f64();
        // Whole buckets inside the window: a partly filled last one would bias its batch low.
        let end_s = end.since(SimTime::ZERO).as_secs_f64();
        let points: Vec<_> = self
            .metrics
            .series
            .points(end)
            .into_iter()
            .filter(|p| p.t_s + 1e-9 >= warmup_s && p.t_s + bucket_s <= end_s + 1e-9)
            .collect();
        let k = points.len().min(20);
        if k < 10 {
            return crate::report::Intervals::default();
        }
        let per = points.len() / k;
        let (mut rates, mut errors) = (Vec::new(), Vec::new());
        for batch in points.chunks_exact(per).take(k) {
            let (done, failed): (u64, u64) =
                batch.iter().fold((0, 0), |(d, f), p| (d + p.completed, f + p.failed - p.limited));
            rates.push(done as f64 / (per as f64 * bucket_s));
            errors.push(error_rate(done, failed));
        }
        crate::report::Intervals {
            batches: k as u32,
            throughput_rps: crate::world::metrics::ci95_of(&rates),
            error_rate: crate::world::metrics::ci95_of(&errors),
        }
    }

    /// Builds the report of the run so far.
    pub fn report(&self, with_series: bool) -> Report {
        let end = self.window_end();
        let window_s = end.since(self.metrics.warmup_end()).as_secs_f64();
        let mut all_latency = LatencyStats::default();
        let mut totals = RequestCounts::default();
        let (mut window_completed, mut window_failed) = (0, 0);
        let limiting = self.model.has_rate_limits();
        let in_system = self.in_system(end);
        let mut classes = BTreeMap::new();
        for (ci, (spec, m)) in self.model.classes.iter().zip(&self.metrics.classes).enumerate() {
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
            let connections = self.model.is_connection_class(ClassId(ci as u16));
            if !connections {
                all_latency.merge(&m.latency);
                window_completed += m.window_completed;
                window_failed += m.window_failed - m.window_limited;
            }
            // A reason of a mechanism the model may lack (a breaker, a rate limiter) is listed only
            // if it happened, or (429s) if the model limits at all.
            let failed_by_reason = Outcome::FAILURES
                .iter()
                .zip(m.failed_by_reason)
                .filter(|(o, n)| (**o != Outcome::CircuitOpen || *n > 0) && (limiting || **o != Outcome::Limited))
                .map(|(o, n)| (o.name(), n))
                .collect();
            let limited = limiting.then(|| crate::report::Limited {
                count: m.failed_by_reason[Outcome::Limited.failure_index()],
                rate: error_rate(m.window_completed + m.window_failed - m.window_limited, m.window_limited),
            });
            classes.insert(
                spec.name.clone(),
                ClassReport {
                    requests: counts,
                    stale_reads: m.stale_reads,
                    read_your_writes_violations: m.read_your_writes_violations,
                    latency_ms: m.latency.summary(),
                    throughput_rps: rate(m.window_completed, window_s),
                    error_rate: error_rate(m.window_completed, m.window_failed - m.window_limited),
                    limited,
                    failed_by_reason,
                    connections,
                    in_system_mean: in_system[ci],
                    time_split: self.time_split(ClassId(ci as u16), m),
                    failures: self.failures(spec, m),
                    retry: spec.retry.as_ref().map(|_| crate::report::RetryCounts {
                        attempts: m.attempts,
                        retries: m.retries,
                        refused_by_budget: m.retries_refused,
                        amplification: if m.attempts > m.retries {
                            m.attempts as f64 / (m.attempts - m.retries) as f64
                        } else {
                            0.0
                        },
                    }),
                    hedge: self.hedge_counts(ci, spec),
                    hop_retry: self.hop_retry_counts(ci),
                    deadline: spec
                        .propagate_deadline
                        .then(|| crate::report::DeadlineCounts { not_sent: self.world.deadlines.not_sent[ci] }),
                },
            );
        }
        let latency_ms = all_latency.summary_with_ci(self.metrics.overall_ci95_ns());
        let components = self.named_component_reports(end);
        let run_s = (end - SimTime::ZERO).as_secs_f64().max(1e-9);
        // The bill per request counts requests, not WebSocket connection attempts.
        let requests: u64 =
            classes.values().filter(|c: &&ClassReport| !c.connections).map(|c| c.requests.generated).sum();
        let cost = self.cost(&components, run_s, requests as f64 / run_s);
        let mut report = Report {
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
            breakers: self.breakers(end),
            intervals: self.intervals(end),
            explain: Default::default(),
            series: if with_series { self.metrics.series.points(end) } else { Vec::new() },
            recovery: None,
        };
        if self.recovery
            && let Some(triggers) = crate::view::recovery::triggers(&self.model)
        {
            let bucket_s = self.metrics.series.bucket().as_secs_f64();
            let warmup_s = self.metrics.warmup_end().since(SimTime::ZERO).as_secs_f64();
            let points = self.metrics.series.points(end);
            report.recovery = crate::view::recovery::recovery(&points, bucket_s, warmup_s, triggers);
        }
        report.explain = self.explain(&report);
        report
    }
}
