//! Building the report's explanation from a finished report and the run's own state: the
//! utilization law per service names the bottleneck and the next wall, the operational
//! bounds come from the measured demands, and the sentences quote the latency split and
//! the failure reasons.

use crate::engine::Simulation;
use crate::model::{Arrival, ComponentModel, FaultAction};
use crate::report::explain::{
    Bounds, ClassCheck, Explanation, Little, ServiceLoad, StationCheck, TARGET_UTILIZATION, TwinCheck, Wall,
    describe_failure,
};
use crate::report::figures::Figures;
use crate::report::{ClassReport, Report, thousands};
use crate::theory::Twin;

/// A service is saturated when it is this busy, or is offered more than it can serve.
const SATURATED: f64 = 0.95;
/// At most this many sentences.
const SENTENCES: usize = 6;

impl Simulation {
    /// What limited the run and why, from its report `r`.
    pub(crate) fn explain(&self, r: &Report) -> Explanation {
        let mut services = self.service_loads(r);
        services.sort_by(|a, b| pressure(b).total_cmp(&pressure(a)).then_with(|| a.service.cmp(&b.service)));
        let saturated = |s: &ServiceLoad| pressure(s) >= SATURATED || (s.rejected > 0 && s.utilization >= 0.8);
        let bottleneck = services.first().filter(|s| saturated(s)).map(|s| wall(s, r));
        let next_wall = services.get(usize::from(bottleneck.is_some())).map(|s| wall(s, r));
        let bounds = self.bounds(r, &services);
        let end = self.window_end();
        let window_s = end.since(self.metrics.warmup_end()).as_secs_f64().max(1e-9);
        // Connections held open (WebSockets) are not requests waiting for an answer.
        let requests = self
            .metrics
            .classes
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.model.is_connection_class(crate::kernel::ids::ClassId(*i as u16)));
        let in_system = self.in_system(end);
        let (mut departed, mut in_system_mean) = (0, 0.0);
        for (i, c) in requests {
            departed += c.window_completed + c.window_failed;
            in_system_mean += in_system[i];
        }
        let departures_rps = departed as f64 / window_s;
        let little = Little {
            in_system_mean,
            departures_rps,
            implied_response_ms: if departures_rps > 0.0 { in_system_mean / departures_rps * 1e3 } else { 0.0 },
            measured_mean_ms: r.latency_ms.mean,
        };
        let points = self.metrics.series.points(end);
        let peak = points.iter().max_by_key(|p| (p.in_flight, std::cmp::Reverse(p.t_s.to_bits())));
        let mut e = Explanation {
            what_happened: Vec::new(),
            bottleneck,
            next_wall,
            services,
            bounds,
            little,
            in_flight_peak: peak.map_or(0, |p| p.in_flight),
            in_flight_peak_at_s: peak.map_or(0.0, |p| p.t_s),
            twin: self.twin_check(r),
        };
        e.what_happened = self.sentences(r, &e);
        e
    }

    /// Each non-client service with a measured utilization: mean and max over its
    /// instances, what it turned away, and what it was offered against its capacity.
    fn service_loads(&self, r: &Report) -> Vec<ServiceLoad> {
        let run_s = r.sim_seconds.max(1e-9);
        let mut out = Vec::new();
        for (si, svc) in self.model.services.iter().enumerate() {
            let reports: Vec<_> =
                svc.instances.iter().map(|i| &r.components[&self.model.components[i.index()].name]).collect();
            let us: Vec<f64> = reports.iter().filter_map(|c| c.utilization).collect();
            if us.is_empty() {
                continue;
            }
            // Instances out of service are not idle capacity: the mean is over those in service.
            let scaled = self.scaled_in_service(r, si).map(|m| m.max(1e-9));
            let share = scaled.map_or(1.0, |m| m / us.len() as f64);
            let utilization = us.iter().sum::<f64>() / scaled.unwrap_or(us.len() as f64);
            let utilization_max = us.iter().copied().fold(0.0, f64::max);
            let (mut rejected, mut arrivals, mut capacity) = (0u64, 0u64, 0.0);
            for c in &reports {
                match &c.figures {
                    Figures::Server(f) => {
                        rejected += f.rejected;
                        arrivals += f.served + f.rejected;
                        capacity += f.capacity.capacity_rps.unwrap_or(0.0);
                    }
                    Figures::Gateway(f) => {
                        rejected += f.rejected;
                        arrivals += f.served + f.rejected;
                        capacity += f.capacity.capacity_rps.unwrap_or(0.0);
                    }
                    Figures::Database(f) => {
                        rejected += f.rejected;
                        arrivals += f.reads + f.writes + f.rejected;
                        capacity += f.capacity.capacity_rps.unwrap_or(0.0);
                    }
                    Figures::WebSocket(f) => rejected += f.refused,
                    _ => {}
                }
            }
            let capacity = capacity * share;
            let offered_utilization = (capacity > 0.0).then(|| arrivals as f64 / run_s / capacity);
            // The first instance to fill is the wall (a hot shard, an unlucky server);
            // the instances a target needs follow the service's total load.
            let total = offered_utilization.map_or(utilization, |o| o.max(utilization));
            let hottest = offered_utilization.map_or(utilization_max, |o| o.max(utilization_max));
            let instances = svc.instances.len() as u32;
            out.push(ServiceLoad {
                service: svc.name.clone(),
                kind: self.model.components[svc.instances[0].index()].model.kind(),
                instances,
                utilization,
                utilization_max,
                offered_utilization,
                rejected,
                saturates_at_load: if hottest > 0.0 { 1.0 / hottest } else { 0.0 },
                instances_for_target: ((scaled.unwrap_or(f64::from(instances)) * total / TARGET_UTILIZATION).ceil()
                    as u32)
                    .max(1),
            });
        }
        out
    }

    /// The mean number of service `si`'s instances in service, when scale faults size it
    /// (autoscaled services keep their explanation over every instance, as before).
    fn scaled_in_service(&self, r: &Report, si: usize) -> Option<f64> {
        self.model.faults.iter().filter(|f| matches!(f.action, FaultAction::Scale(_))).find_map(|f| {
            let lb = &self.model.components[f.target.index()];
            match (&lb.model, &r.components[&lb.name].figures) {
                (ComponentModel::LoadBalancer(spec), Figures::LoadBalancer(fig)) if spec.backends.index() == si => {
                    fig.autoscaling.as_ref().map(|a| a.backends_in_service_mean)
                }
                _ => None,
            }
        })
    }

    /// X ≤ X_run / U_max (that is, 1 / D_max with D = U / X per server), and for closed
    /// populations N* = (D + Z) / D_max, D + Z being a request's time with no queueing
    /// (its service and network time) plus the think time.
    fn bounds(&self, r: &Report, services: &[ServiceLoad]) -> Bounds {
        // A WebSocket tier's utilization is its share of connections held, not of work.
        let working = services.iter().filter(|s| s.kind != "websocket");
        let Some(top) = working.max_by(|a, b| a.utilization_max.total_cmp(&b.utilization_max)) else {
            return Bounds::default();
        };
        let x = r.throughput_rps;
        let u = top.utilization_max.max(1e-12);
        // N* is a closed network's figure: only when every population is closed, with one
        // think time.
        let thinks: Vec<Option<f64>> = self
            .model
            .components
            .iter()
            .filter_map(|c| match &c.model {
                ComponentModel::Clients(s) => Some(match &s.arrival {
                    Arrival::Closed { think, .. } => Some(think.mean().as_secs_f64()),
                    Arrival::Poisson { .. } => None,
                }),
                _ => None,
            })
            .collect();
        let think = match thinks.as_slice() {
            [Some(z)] => Some(*z),
            _ => None,
        };
        let users_saturating = think.map(|z| {
            let (mut d, mut n) = (0.0, 0u64);
            for c in r.classes.values().filter(|c| !c.connections) {
                let count = c.requests.completed;
                d += count as f64 * c.time_split.mean.iter().map(|h| h.service_ms + h.network_ms).sum::<f64>() / 1e3;
                n += count;
            }
            let d = if n > 0 { d / n as f64 } else { 0.0 };
            (d + z) * x / u
        });
        Bounds { throughput_max_rps: x / u, limited_by: top.service.clone(), users_saturating }
    }

    /// The plain-words summary, most important first.
    fn sentences(&self, r: &Report, e: &Explanation) -> Vec<String> {
        let mut out = Vec::new();
        // A saturated service comes first; headroom is told after what went wrong.
        let capacity = self.capacity_sentence(r, e);
        if e.bottleneck.is_some() {
            out.push(capacity.clone());
        }
        if let Some(s) = failure_sentence(r) {
            out.push(s);
        }
        if let Some(s) = self.breaker_sentence(r) {
            out.push(s);
        }
        if let Some(s) = self.retry_sentence(r) {
            out.push(s);
        }
        if let Some(s) = self.hop_retry_sentence(r) {
            out.push(s);
        }
        if let Some(s) = hedge_sentence(r) {
            out.push(s);
        }
        if let Some(s) = deadline_sentence(r) {
            out.push(s);
        }
        if let Some(s) = self.limiter_sentence(r, e) {
            out.push(s);
        }
        if let Some(s) = self.partition_sentence(r, e) {
            out.push(s);
        }
        if let Some(s) = consistency_sentence(r) {
            out.push(s);
        }
        if let Some(s) = time_sentence(r) {
            out.push(s);
        }
        if e.bottleneck.is_none() {
            out.insert(out.len().min(3), capacity);
        }
        if let Some(s) = twin_sentence(&e.twin, r) {
            out.push(s);
        }
        if let Some(s) = little_sentence(&e.little, r) {
            out.push(s);
        }
        out.truncate(SENTENCES);
        out
    }

    /// Each (calling service, called service) whose breakers opened: how long they were
    /// open on average over its instances, and the calls failed fast instead of waiting.
    fn breaker_sentence(&self, r: &Report) -> Option<String> {
        let mut pairs: Vec<(usize, usize, f64, u64, u32)> = Vec::new();
        // The report lists the breakers in the world's order.
        for (b, (caller, breaker)) in r.breakers.iter().zip(self.world.breakers.all()) {
            let (from, to) = (self.model.components[caller.index()].service.index(), breaker.spec().to.index());
            match pairs.iter_mut().find(|p| (p.0, p.1) == (from, to)) {
                Some(p) => (p.2, p.3, p.4) = (p.2 + b.open_s, p.3 + b.failed_fast, p.4 + 1),
                None => pairs.push((from, to, b.open_s, b.failed_fast, 1)),
            }
        }
        let run_s = r.sim_seconds.max(1e-9);
        let parts: Vec<String> = pairs
            .iter()
            .filter(|p| p.3 > 0)
            .map(|&(from, to, open_s, failed_fast, n)| {
                let callee = &self.model.services[to].name;
                let wait = self.model.classes.iter().filter(|c| c.flow.iter().any(|f| f.service.index() == to));
                let wait = wait.filter_map(|c| c.timeout).max();
                format!(
                    "{}'s breakers to {callee} were open {:.0}% of the run; {} calls failed fast{}",
                    self.model.services[from].name,
                    open_s / f64::from(n) / run_s * 100.0,
                    thousands(failed_fast),
                    wait.map_or(String::new(), |t| format!(
                        " instead of waiting up to {} each",
                        seconds(t.as_secs_f64())
                    )),
                )
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join("; ") + ".")
    }

    /// The service whose rate limiters refused the most, what share of its requests they
    /// refused, and how busy the busiest other service stayed behind them.
    fn limiter_sentence(&self, r: &Report, e: &Explanation) -> Option<String> {
        let mut by_service: Vec<(&str, u64, u64)> = Vec::new();
        for c in &self.model.components {
            let admission = match r.components.get(&c.name).map(|x| &x.figures) {
                Some(Figures::Server(f)) => f.admission.as_ref(),
                Some(Figures::Gateway(f)) => f.admission.as_ref(),
                _ => continue,
            };
            let Some((limited, admitted)) = admission.and_then(|a| a.limited.zip(a.admitted)) else {
                continue;
            };
            let service = self.model.services[c.service.index()].name.as_str();
            match by_service.iter_mut().find(|(s, _, _)| *s == service) {
                Some((_, l, a)) => (*l, *a) = (*l + limited, *a + admitted),
                None => by_service.push((service, limited, admitted)),
            }
        }
        let &(service, limited, admitted) = by_service.iter().filter(|x| x.1 > 0).max_by_key(|x| x.1)?;
        let share = limited as f64 / (limited + admitted) as f64 * 100.0;
        let mut s = format!(
            "{service}'s rate limiter answered 429 to {share:.0}% of the requests it saw ({} of {}), counted apart from errors",
            thousands(limited),
            thousands(limited + admitted)
        );
        let behind =
            e.services.iter().filter(|x| x.service != service).max_by(|a, b| a.utilization.total_cmp(&b.utilization));
        if let Some(b) = behind {
            s += &format!("; {} stayed at {:.0}% utilization", b.service, b.utilization * 100.0);
        }
        Some(s + ".")
    }

    /// The bottleneck and what to change, or the headroom and the next wall.
    fn capacity_sentence(&self, r: &Report, e: &Explanation) -> String {
        let by_name = |w: &Wall| e.services.iter().find(|s| s.service == w.service);
        match (&e.bottleneck, &e.next_wall) {
            (Some(b), next) => {
                let s = by_name(b).expect("a wall is a service");
                let mut t = format!(
                    "{} ({}) is the bottleneck: {}. Give it {} instances instead of {} to bring it under {:.0}% busy",
                    b.service,
                    b.kind,
                    b.evidence,
                    s.instances_for_target,
                    s.instances,
                    TARGET_UTILIZATION * 100.0
                );
                if let Some(n) = next {
                    let after = by_name(n).expect("a wall is a service");
                    t += &format!(
                        "; the next wall after it is {} ({}, {:.0}% busy now)",
                        n.service,
                        n.kind,
                        after.utilization * 100.0
                    );
                }
                t + "."
            }
            (None, Some(n)) if by_name(n).is_some_and(|s| s.utilization < 0.3) => format!(
                "Nothing is near saturation: the busiest service, {} ({}), is {:.1}% busy.",
                n.service,
                n.kind,
                n.utilization * 100.0
            ),
            (None, Some(n)) => {
                let s = by_name(n).expect("a wall is a service");
                format!(
                    "Nothing saturated. The next wall is {} ({}): {:.0}% busy, so by the utilization law it saturates \
                     at {:.2}x this load (about {} requests a second in all){}.",
                    n.service,
                    n.kind,
                    s.utilization * 100.0,
                    s.saturates_at_load,
                    thousands((r.throughput_rps * s.saturates_at_load).round() as u64),
                    match (s.kind, s.instances_for_target > s.instances) {
                        ("database", true) => format!(
                            "; to keep it under {:.0}%, take reads off it (replicas, a cache)",
                            TARGET_UTILIZATION * 100.0
                        ),
                        (_, true) => format!(
                            "; {} instances would bring it under {:.0}%",
                            s.instances_for_target,
                            TARGET_UTILIZATION * 100.0
                        ),
                        (_, false) => String::new(),
                    }
                )
            }
            (None, None) => "No service measures its utilization here, so no bottleneck can be named.".to_string(),
        }
    }

    /// The twin's predictions beside the measured figures. A class whose services a fault
    /// or partition touches gets no number: the twin predicts the run without them.
    fn twin_check(&self, r: &Report) -> TwinCheck {
        let twin = self.twin.get_or_init(|| Twin::compile(&self.model));
        let stations = twin
            .stations
            .iter()
            .filter(|s| s.kind == "queue")
            .map(|s| {
                let measured: Vec<f64> =
                    s.members.iter().filter_map(|m| r.components.get(m).and_then(|c| c.utilization)).collect();
                let measured_utilization =
                    (!measured.is_empty()).then(|| measured.iter().sum::<f64>() / measured.len() as f64);
                StationCheck {
                    service: s.service.clone(),
                    role: s.role.clone(),
                    predicted_utilization: s.utilization,
                    measured_utilization,
                    exact: s.exact,
                    differs: measured_utilization.is_some_and(|m| (m - s.utilization.min(1.0)).abs() > 0.02),
                }
            })
            .collect();
        let classes = twin
            .classes
            .iter()
            .map(|p| {
                let c = r.classes.get(&p.class);
                let (measured_ms, ci95_ms) = c.map_or((0.0, None), |c| (c.latency_ms.mean, c.latency_ms.mean_ci95));
                let served = c.is_some_and(|c| c.throughput_rps > 0.0);
                let faulted = self.fault_on_path(&p.class);
                let predicted_ms = p.mean_latency_ms.filter(|_| faulted.is_none() && served);
                let why_not = faulted.or_else(|| p.why_not.clone()).or_else(|| {
                    (!served)
                        .then(|| "no request of it completed after the warm-up, so there is nothing to compare".into())
                });
                let differs = predicted_ms.is_some_and(|t| {
                    let tolerance = ci95_ms.unwrap_or(0.05 * measured_ms);
                    (t - measured_ms).abs() > tolerance
                });
                ClassCheck {
                    class: p.class.clone(),
                    predicted_ms,
                    measured_ms,
                    ci95_ms,
                    exact: p.exact,
                    differs,
                    why_not,
                }
            })
            .collect();
        TwinCheck {
            method: twin.method.clone(),
            stations,
            classes,
            refusals: twin.refusals.clone(),
            caveats: twin.caveats.clone(),
        }
    }

    /// What retries cost, for the class that retried most: calls per request at its first
    /// service, retries refused by a budget, and that service's work for callers who had
    /// given up. Silent when retries added under 5% to the load.
    fn retry_sentence(&self, r: &Report) -> Option<String> {
        let (name, c) = r
            .classes
            .iter()
            .filter_map(|(n, c)| Some((n, c.retry.as_ref()?)))
            .max_by(|a, b| a.1.amplification.total_cmp(&b.1.amplification))?;
        if c.amplification < 1.05 && c.refused_by_budget == 0 {
            return None;
        }
        let spec = self.model.classes.iter().find(|s| &s.name == name)?;
        let first = &self.model.services[spec.flow[0].service.index()].name;
        let refused = match c.refused_by_budget {
            0 => String::new(),
            n => format!(", and its budget refused {} more", thousands(n)),
        };
        let mut out = format!(
            "Retries made {:.2} calls to {first} per {name} request ({} retries{refused})",
            c.amplification,
            thousands(c.retries)
        );
        let service = spec.flow[0].service;
        let shares: Vec<f64> = (self.model.components.iter())
            .filter(|m| m.service == service)
            .filter_map(|m| r.components.get(&m.name)?.wasted_share)
            .collect();
        let share = shares.iter().sum::<f64>() / shares.len().max(1) as f64;
        if share > 0.0 {
            out += &format!("; {:.0}% of {first}'s work was for callers that had given up", 100.0 * share);
            out += &wasted_usd(r, first);
        }
        out.push('.');
        if c.amplification >= 1.5 && c.refused_by_budget == 0 {
            // A storm: more instances only raise the level it saturates at; capping retries
            // is what lets the queue drain (the lesson of metastable failures).
            out += &format!(
                " Most of that load is retries, not users: without them {first} would be offered {:.0}% of it. \
                 A retry budget (`budget = 0.1` in the class's `retry`) or fewer attempts lets it drain.",
                100.0 / c.amplification
            );
        }
        Some(out)
    }

    /// What hop retries cost, for the retried hop that retried most: calls reaching its
    /// callee per first call, retries refused by a budget or cut by the deadline, and the
    /// callee's work for callers that had given up. Silent when they added under 5%.
    fn hop_retry_sentence(&self, r: &Report) -> Option<String> {
        let (name, callee, c) = (r.classes.iter())
            .flat_map(|(n, c)| c.hop_retry.iter().map(move |(s, h)| (n, s, h)))
            .max_by(|a, b| a.2.amplification.total_cmp(&b.2.amplification))?;
        if c.amplification < 1.05 && c.refused_by_budget == 0 && c.past_deadline == 0 {
            return None;
        }
        let mut refused = Vec::new();
        if c.refused_by_budget > 0 {
            refused.push(format!("its callers' budgets refused {} more", thousands(c.refused_by_budget)));
        }
        if c.past_deadline > 0 {
            refused.push(format!("{} would have ended after the deadline", thousands(c.past_deadline)));
        }
        let refused = if refused.is_empty() { String::new() } else { format!(", and {}", refused.join(" and ")) };
        let mut out = format!(
            "Hop retries made {:.2} calls to {callee} per first call of {name} ({} retries{refused})",
            c.amplification,
            thousands(c.retries)
        );
        let service = self.model.services.iter().position(|s| &s.name == callee)?;
        let shares: Vec<f64> = (self.model.components.iter())
            .filter(|m| m.service.index() == service)
            .filter_map(|m| r.components.get(&m.name)?.wasted_share)
            .collect();
        let share = shares.iter().sum::<f64>() / shares.len().max(1) as f64;
        if share > 0.0 {
            out += &format!("; {:.0}% of {callee}'s work was for callers that had given up", 100.0 * share);
            out += &wasted_usd(r, callee);
        }
        out.push('.');
        Some(out)
    }

    /// The first fault that touches `class`, in words, if any: one on a service of its
    /// path, or on a service that a class sharing one of its services goes through (a
    /// slow dependency holds the workers both classes share).
    fn fault_on_path(&self, class: &str) -> Option<String> {
        let spec = self.model.classes.iter().find(|c| c.name == class)?;
        let touches =
            |c: &crate::model::ClassSpec, s: crate::kernel::ids::ServiceId| c.flow.iter().any(|n| n.service == s);
        let affects =
            |target: crate::kernel::ids::ComponentId| {
                let faulted = self.model.components[target.index()].service;
                touches(spec, faulted)
                    || self.model.classes.iter().filter(|other| touches(other, faulted)).any(|other| {
                        other.flow.iter().any(|n| touches(spec, n.service) && self.holds_workers(n.service))
                    })
            };
        let f = self.model.faults.iter().find(|f| match f.action {
            FaultAction::Partition(_) | FaultAction::Heal(_) | FaultAction::HealAll => true,
            _ => affects(f.target),
        })?;
        let what = match f.action {
            FaultAction::Partition(_) | FaultAction::Heal(_) | FaultAction::HealAll => "a partition".to_string(),
            _ => format!("a fault on {}", self.model.components[f.target.index()].name),
        };
        Some(format!(
            "{what} at {:.0} s changes this class's service mid-run; the twin predicts the run without faults",
            f.at.as_secs_f64()
        ))
    }

    /// A blocking server: its workers wait on its calls, so a slow call slows every class
    /// it serves.
    fn holds_workers(&self, service: crate::kernel::ids::ServiceId) -> bool {
        let first = self.model.services[service.index()].instances[0];
        matches!(&self.model.components[first.index()].model,
            ComponentModel::Server(s) if s.call_mode == crate::model::CallMode::Blocking)
    }

    /// A partition in force: when, what it cut off, and how many requests waited on it.
    fn partition_sentence(&self, r: &Report, e: &Explanation) -> Option<String> {
        let nf = r.network_faults.as_ref()?;
        let starts: Vec<f64> = self
            .model
            .faults
            .iter()
            .filter(|f| matches!(f.action, FaultAction::Partition(_)))
            .map(|f| f.at.as_secs_f64())
            .collect();
        let heals: Vec<f64> = self
            .model
            .faults
            .iter()
            .filter(|f| matches!(f.action, FaultAction::Heal(_) | FaultAction::HealAll))
            .map(|f| f.at.as_secs_f64())
            .collect();
        let from = starts.first()?;
        let until = heals.iter().find(|h| *h > from).map_or("the end".to_string(), |h| format!("{h:.0} s"));
        let timeouts: Vec<f64> = self.model.classes.iter().filter_map(|c| c.timeout.map(|t| t.as_secs_f64())).collect();
        let wait = match timeouts.iter().copied().reduce(f64::max) {
            Some(t) => format!("waiting for their {} timeouts, so errors show only when those fire", seconds(t)),
            None => "and with no timeout set they wait for the heal".to_string(),
        };
        Some(format!(
            "A partition cut the network from {from:.0} s to {until}: {} messages were lost and up to {} requests were \
             in flight at once (at {:.0} s), {wait}.",
            thousands(nf.messages_lost),
            thousands(e.in_flight_peak),
            e.in_flight_peak_at_s
        ))
    }
}

/// How hard a service is pressed: its busiest instance's utilization, or what the service
/// is offered if more.
fn pressure(s: &ServiceLoad) -> f64 {
    s.offered_utilization.map_or(s.utilization_max, |o| o.max(s.utilization_max))
}

fn wall(s: &ServiceLoad, r: &Report) -> Wall {
    let mut evidence = format!("{:.0}% busy", s.utilization * 100.0);
    if let Some(o) = s.offered_utilization.filter(|o| *o > 1.0) {
        evidence += &format!(", offered {o:.1}x what it can serve");
    }
    if s.rejected > 0 {
        let generated: u64 = r.classes.values().filter(|c| !c.connections).map(|c| c.requests.generated).sum();
        let generated = generated.max(1);
        evidence += &format!(
            ", {} requests rejected ({:.0}% of all sent)",
            thousands(s.rejected),
            s.rejected as f64 * 100.0 / generated as f64
        );
    }
    Wall { service: s.service.clone(), kind: s.kind, utilization: s.utilization, evidence }
}

/// The main failure reasons over every class, and the survivorship caveat.
fn failure_sentence(r: &Report) -> Option<String> {
    let requests = r.classes.values().filter(|c| !c.connections);
    let (failed, completed) =
        requests.clone().fold((0, 0), |(f, d), c| (f + c.requests.failed, d + c.requests.completed));
    let refused_connects: u64 = r.classes.values().filter(|c| c.connections).map(|c| c.requests.failed).sum();
    if failed == 0 && refused_connects == 0 {
        return None;
    }
    let mut by_where: Vec<(String, u64)> = Vec::new();
    for c in requests {
        for f in &c.failures {
            let what = describe_failure(f.reason, &f.at, f.detail);
            match by_where.iter_mut().find(|(w, _)| *w == what) {
                Some((_, n)) => *n += f.count,
                None => by_where.push((what, f.count)),
            }
        }
    }
    by_where.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let parts: Vec<String> = by_where.iter().take(3).map(|(w, n)| format!("{} {w}", thousands(*n))).collect();
    let share = failed as f64 / (completed + failed).max(1) as f64;
    let mut s = if failed > 0 {
        format!(
            "{} requests failed over the run ({:.1}% of those answered, warm-up included): {}",
            thousands(failed),
            share * 100.0,
            parts.join(", ")
        )
    } else {
        "No request failed".to_string()
    };
    if by_where.len() > 3 {
        s += &format!(" and {} other kinds", by_where.len() - 3);
    }
    if refused_connects > 0 {
        s += &format!(
            "; besides, {} WebSocket connection attempts were refused (counted apart: clients retry them)",
            thousands(refused_connects)
        );
    }
    if r.error_rate >= 0.05 {
        s += &format!(
            ". The latency figures count only the {:.0}% that succeeded: the failed ones are not in them \
             (survivorship), so a lower p99 here is no sign of health",
            (1.0 - r.error_rate) * 100.0
        );
    }
    Some(s + ".")
}

/// What the consistency checker found: CP data refused, AP data stale or lost.
fn consistency_sentence(r: &Report) -> Option<String> {
    let mut parts = Vec::new();
    for (name, c) in &r.consistency {
        let v = &c.verdict;
        if v.failed > 0 && c.mode.starts_with("CP") {
            parts.push(format!(
                "CP data {name} ({}) refused {} operations rather than answer inconsistently (availability {:.1}%)",
                c.store,
                thousands(v.failed),
                v.availability * 100.0
            ));
        }
        if v.stale_reads > 0 {
            parts.push(format!(
                "{name} ({}) served {} stale reads",
                c.mode.split(':').next().unwrap_or(""),
                thousands(v.stale_reads)
            ));
        }
        if v.lost_writes > 0 {
            parts.push(format!("{name} lost {} acknowledged writes", thousands(v.lost_writes)));
        }
    }
    (!parts.is_empty()).then(|| {
        let mut s = parts.join("; ");
        s[..1].make_ascii_uppercase();
        s + "."
    })
}

/// Where the busiest class's time goes, on average and in its tail.
fn time_sentence(r: &Report) -> Option<String> {
    let (name, c) = r
        .classes
        .iter()
        .filter(|(_, c)| !c.connections)
        .max_by_key(|(n, c)| (c.requests.completed, std::cmp::Reverse(n.as_str())))?;
    if c.requests.completed == 0 || c.latency_ms.mean <= 0.0 {
        return None;
    }
    let parts = |c: &ClassReport, tail: bool| -> Vec<(String, f64)> {
        let hops = if tail { &c.time_split.tail.hops } else { &c.time_split.mean };
        let mut v: Vec<(String, f64)> = hops
            .iter()
            .flat_map(|h| {
                [
                    (format!("waiting in {}'s queue", h.service), h.queue_ms),
                    (format!("in {}'s service", h.service), h.service_ms),
                    (format!("on the wire to {}", h.service), h.network_ms),
                ]
            })
            .filter(|(_, ms)| *ms > 0.0)
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    };
    let top =
        |v: &[(String, f64)]| v.iter().take(2).map(|(w, ms)| format!("{} ms {w}", ms_fmt(*ms))).collect::<Vec<_>>();
    let mean = parts(c, false);
    let mut s =
        format!("Each {name} request took {} ms on average: {}", ms_fmt(c.latency_ms.mean), top(&mean).join(" and "));
    let tail = &c.time_split.tail;
    if tail.requests > 0 {
        s += &format!(
            "; its slowest {} (from {} ms, p99 {} ms) spent {} of their {} ms",
            thousands(tail.requests),
            ms_fmt(tail.from_ms),
            ms_fmt(c.latency_ms.p99),
            top(&parts(c, true)).join(" and "),
            ms_fmt(tail.mean_ms)
        );
    }
    Some(s + ".")
}

/// The twin against the busiest class it predicts, or why it predicts none.
fn twin_sentence(t: &TwinCheck, r: &Report) -> Option<String> {
    let busiest = |c: &&ClassCheck| r.classes.get(&c.class).map_or(0, |c| c.requests.completed);
    let main = t.classes.iter().filter(|c| c.predicted_ms.is_some()).max_by_key(busiest);
    let uncovered: Vec<&ClassCheck> = t.classes.iter().filter(|c| c.predicted_ms.is_none()).collect();
    let Some(c) = main else {
        let first = uncovered.first()?;
        return Some(format!(
            "Queueing theory does not cover this run: {}{}.",
            first.why_not.as_deref().unwrap_or("no class has a steady state"),
            t.refusals.first().map_or(String::new(), |r| format!(" ({}: {})", r.part, r.why))
        ));
    };
    let predicted = c.predicted_ms.expect("filtered");
    let off = (predicted - c.measured_ms) / c.measured_ms.max(1e-12) * 100.0;
    let verdict = if c.differs {
        format!(
            "{off:+.1}%, beyond the run's interval{}",
            if c.exact { "" } else { " (the twin approximates this network)" }
        )
    } else {
        "within the run's 95% interval".to_string()
    };
    let mut s = format!(
        "Queueing theory ({}) predicts {} ms for {}; the run measured {} ms{}: {verdict}",
        t.method,
        ms_fmt(predicted),
        c.class,
        ms_fmt(c.measured_ms),
        c.ci95_ms.map_or(String::new(), |ci| format!(" ± {}", ms_fmt(ci)))
    );
    if !uncovered.is_empty() {
        let names: Vec<&str> = uncovered.iter().map(|c| c.class.as_str()).take(3).collect();
        s += &format!(
            "; it does not predict {}{} ({})",
            names.join(", "),
            if uncovered.len() > 3 { " and others" } else { "" },
            uncovered[0].why_not.as_deref().unwrap_or("no steady state")
        );
    }
    Some(s + ".")
}

/// Little's law checked, when the run gives it something to check.
fn little_sentence(l: &Little, r: &Report) -> Option<String> {
    if l.departures_rps <= 0.0 || l.in_system_mean <= 0.0 {
        return None;
    }
    let close = r.error_rate < 0.01 && (l.implied_response_ms - l.measured_mean_ms).abs() <= 0.05 * l.measured_mean_ms;
    Some(format!(
        "Little's law: {:.1} requests in the system on average at {} per second means {} ms each{}.",
        l.in_system_mean,
        thousands(l.departures_rps.round() as u64),
        ms_fmt(l.implied_response_ms),
        if close {
            format!(", as measured ({} ms)", ms_fmt(l.measured_mean_ms))
        } else {
            format!(" counting the failed ones, against {} ms measured for the successful", ms_fmt(l.measured_mean_ms))
        }
    ))
}

/// Seconds as a person writes them: "30 s", "0.5 s", "250 ms".
fn seconds(t: f64) -> String {
    if t >= 1.0 { format!("{t:.0} s") } else { format!("{} ms", ms_fmt(t * 1e3)) }
}

/// Milliseconds with three significant digits or so.
fn ms_fmt(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

/// " (about $X of its $Y a month)": the part of `service`'s line that paid for wasted work.
fn wasted_usd(r: &Report, service: &str) -> String {
    match (r.cost.wasted_by_component.get(service), r.cost.by_component.get(service)) {
        (Some(&wasted), Some(&line)) if wasted >= 0.5 => format!(" (about ${wasted:.0} of its ${line:.0} a month)"),
        _ => String::new(),
    }
}

/// What hedging cost, for the class that hedged most: copies sent and won, the extra load,
/// and the callees' work on losing copies. Silent when no class hedges.
fn hedge_sentence(r: &Report) -> Option<String> {
    let (name, h) = (r.classes.iter())
        .filter_map(|(n, c)| Some((n, c.hedge.as_ref()?)))
        .max_by(|a, b| a.1.extra_load.total_cmp(&b.1.extra_load))?;
    let hops = h.hops.join(", ");
    let mut out = format!(
        "Hedging sent {} copies of {} {name} calls to {hops} ({:.3}x the calls); {} answered first",
        thousands(h.sent),
        thousands(h.calls),
        h.extra_load,
        thousands(h.won)
    );
    if let [hop] = h.hops.as_slice()
        && let (Some(&wasted), Some(&line)) = (r.cost.wasted_by_component.get(hop), r.cost.by_component.get(hop))
        && wasted >= 0.5
    {
        out += &format!("; the losing copies' work costs about ${wasted:.0} of {hop}'s ${line:.0} a month");
    }
    out.push('.');
    Some(out)
}

/// What propagated deadlines spared the callees: the calls not sent because the request
/// they served had already run out of time. Silent when none was held back.
fn deadline_sentence(r: &Report) -> Option<String> {
    let not_sent: u64 = r.classes.values().filter_map(|c| c.deadline.as_ref()).map(|d| d.not_sent).sum();
    (not_sent > 0).then(|| {
        format!(
            "{} calls were not sent: the deadline of the request they served had passed (`deadline = \"propagate\"`): their callees were spared that work.",
            thousands(not_sent)
        )
    })
}
