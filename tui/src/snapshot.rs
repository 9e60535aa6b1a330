//! What the UI draws: a read-only picture of a session, built on the simulation thread and
//! sent over the channel. Views read only this, so they are pure and snapshot-testable.

use crate::insight::Insight;
use crate::session::Session;
use scenarios::expect::Verdict;
use sim_core::Simulation;
use sim_core::kernel::ids::ComponentId;
use sim_core::kernel::time::{SimDuration, SimTime};
use sim_core::model::fault_span::FaultSpan;
use sim_core::model::{ComponentModel, Model};
use sim_core::report::figures::Figures;
use sim_core::report::thousands;
use sim_core::world::breaker::BreakerState;
use sim_core::world::notes::NoteKind;
use std::collections::BTreeMap;

/// Gauges read at a whole simulated second: what the series does not have.
#[derive(Clone, Debug, PartialEq)]
pub struct GaugeSample {
    pub t_s: u64,
    /// Per component: (utilization, mean waiting) as time averages since the warm-up ended.
    pub load: Vec<(Option<f64>, Option<f64>)>,
    /// Cache and CDN hits and misses so far.
    pub hits: f64,
    pub misses: f64,
    /// Writes the most-behind live replica lacks.
    pub lag: Option<u64>,
    /// Since the warm-up ended, in seconds (0 before).
    pub window_s: f64,
    /// Per class: root calls sent so far and the retries among them.
    pub attempts: Vec<(u64, u64)>,
}

impl GaugeSample {
    pub fn take(sim: &Simulation, reports: &[sim_core::report::ComponentReport]) -> GaugeSample {
        let caches = reports.iter().filter_map(|r| match &r.figures {
            Figures::Cache(c) => Some(c.since_start),
            _ => None,
        });
        let (hits, misses) = caches.fold((0, 0), |(h, m), (ch, cm)| (h + ch, m + cm));
        let warmup = sim.model().warmup;
        let window_s = SimDuration(sim.now().as_nanos().saturating_sub(warmup.as_nanos())).as_secs_f64();
        GaugeSample {
            t_s: 0,
            load: reports.iter().map(|r| (r.utilization, r.queue_mean)).collect(),
            hits: hits as f64,
            misses: misses as f64,
            lag: sim.replication_lag_writes(),
            window_s,
            attempts: sim.attempts_now(),
        }
    }
}

/// The average of a time-weighted mean over the interval between two samples.
fn interval_mean(a: &GaugeSample, b: &GaugeSample, pick: impl Fn(&GaugeSample) -> Option<f64>) -> Option<f64> {
    let (x, y) = (pick(a)?, pick(b)?);
    let dt = b.window_s - a.window_s;
    (a.window_s > 0.0 && dt > 0.0).then(|| ((y * b.window_s - x * a.window_s) / dt).max(0.0))
}

/// How an instance is doing, drawn as a symbol (readable without colour) and a colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Up,
    Busy,
    Saturated,
    Slow,
    /// Its load balancer's health checks took it out of service.
    MarkedDown,
    Down,
}

impl Health {
    pub fn symbol(self) -> &'static str {
        match self {
            Health::Up => "●",
            Health::Busy => "◐",
            Health::Saturated => "◉",
            Health::Slow => "~",
            Health::MarkedDown => "▽",
            Health::Down => "✖",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Busy => "busy",
            Health::Saturated => "saturated",
            Health::Slow => "slow",
            Health::MarkedDown => "marked down",
            Health::Down => "DOWN",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub name: String,
    pub health: Health,
    /// Utilization over the last simulated second.
    pub util: Option<f64>,
    pub waiting: Option<f64>,
    /// Its side of a partition in force (1 = A, 2 = B...), 0 if none.
    pub side: u8,
    /// Its own figure that says most (this instance's, never its service's), labelled.
    pub note: String,
    /// Every figure of its report, flattened (`name`, value), for the detail view.
    pub figures: Vec<(String, String)>,
    /// Utilization in each of the last simulated seconds (second, 0..1).
    pub util_history: Vec<(f64, f64)>,
    /// Its circuit breakers, one per service it calls through one.
    pub breakers: Vec<InstanceBreaker>,
}

/// One of an instance's circuit breakers, now.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceBreaker {
    pub to: String,
    pub state: BreakerState,
    pub opened: u64,
    pub failed_fast: u64,
}

/// A service's breakers for its calls to one service: how many of its instances have
/// theirs open or half-open.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeBreakers {
    pub to: String,
    pub open: usize,
    pub half_open: usize,
    pub of: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub name: String,
    pub kind: &'static str,
    /// `cp`/`ap` for replicated stores.
    pub mode: Option<&'static str>,
    pub instances: Vec<Instance>,
    /// Services this one calls.
    pub calls: Vec<String>,
    /// One figure that says most about the whole service, labelled with what it covers.
    pub detail: String,
    /// Per service it calls through circuit breakers: their states over its instances.
    pub breakers: Vec<EdgeBreakers>,
    /// Calls its callers' retries sent it per user request over the last simulated second
    /// (1: no retries), when a class that starts here retries.
    pub retry_load: Option<f64>,
}

/// One chart: a name, a unit and points (simulated second, value).
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub name: &'static str,
    pub unit: &'static str,
    pub points: Vec<(f64, f64)>,
}

impl Chart {
    pub fn last(&self) -> Option<f64> {
        self.points.last().map(|p| p.1)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    Fault,
    Alarm,
    Recovery,
    Info,
    Failed,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub t: SimTime,
    pub kind: LogKind,
    pub text: String,
}

/// One processed event, in words, for the inspector.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    pub seq: u64,
    pub t: SimTime,
    pub component: Option<String>,
    pub class: Option<String>,
    pub request: Option<u64>,
    pub text: String,
}

/// One span of a followed request's waterfall, in tree order: the engine's span and how
/// deep it sits under the root.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanRow {
    pub depth: usize,
    pub span: sim_core::world::metrics::spans::Span,
}

/// A followed request: live while it travels, complete when it ends.
#[derive(Clone, Debug, PartialEq)]
pub struct Waterfall {
    pub id: u64,
    pub class: String,
    pub start: SimTime,
    pub end: Option<SimTime>,
    pub outcome: Option<String>,
    pub spans: Vec<SpanRow>,
}

/// The guided step in force: the scenario's step `index` (from 1) of `of`.
#[derive(Clone, Debug, PartialEq)]
pub struct StepView {
    pub index: usize,
    pub of: usize,
    pub at: SimTime,
    pub text: String,
    pub watch: Vec<String>,
    pub key: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub name: String,
    pub title: String,
    pub lesson: String,
    pub watch: Vec<String>,
    pub seed: u64,
    pub now: SimTime,
    pub end: SimTime,
    /// Time averages (utilization, waiting) start when the warm-up ends.
    pub warmup_end: SimTime,
    pub events: u64,
    pub trace_hash: String,
    pub finished: bool,
    pub playing: bool,
    pub speed: f64,
    pub services: Vec<Service>,
    pub charts: Vec<Chart>,
    pub log: Vec<LogLine>,
    /// Instances that faults can hit, with whether each is down.
    pub instances: Vec<(String, bool)>,
    /// Replicated stores, for the CP/AP switch.
    pub stores: Vec<(String, &'static str)>,
    pub partitioned: bool,
    pub hand_faults: usize,
    /// Hand faults made since the session was last saved.
    pub unsaved: usize,
    pub checkpoints: usize,
    /// Faults, partitions and surges as marks and bands for the charts.
    pub marks: Vec<FaultSpan>,
    /// The explanation of the run so far, as of the last whole simulated second.
    pub insight: Option<Insight>,
    /// Whether the scenario checks any data class (the consistency panel has rows).
    pub checked_data: bool,
    /// The last events processed, oldest first.
    pub recent: Vec<EventLine>,
    /// The request followed, and what the session waits for when none is yet.
    pub followed: Option<Waterfall>,
    pub following: Option<String>,
    /// Classes a request can be followed of.
    pub classes: Vec<String>,
    /// The guided step shown, if the scenario has steps and one has come.
    pub step: Option<StepView>,
    /// The knobs the fault menu offers, at one step from their current settings.
    pub knobs: Vec<crate::session::FaultRequest>,
}

/// Lines kept in the snapshot's log.
const LOG_LINES: usize = 200;
/// Chart points kept (the most recent seconds).
const CHART_POINTS: usize = 600;
/// Seconds of each instance's utilization kept for its sparkline.
const HISTORY_POINTS: usize = 120;

impl Snapshot {
    pub fn build(
        session: &Session,
        gauges: &[GaugeSample],
        messages: &[(SimTime, String)],
        verdicts: Option<&[Verdict]>,
    ) -> Snapshot {
        let sim = session.sim();
        let model = sim.model();
        let scenario = session.scenario();
        let cuts = sim.cuts();
        let name = |id: ComponentId| model.components[id.index()].name.clone();

        // Health-check verdicts in force, from the balancers' own state (not the notes,
        // which are bounded and would go stale on a long run).
        let marked_down = sim.marked_down();
        let breakers = sim.breakers_now();
        let breakers_of = |id: ComponentId| -> Vec<InstanceBreaker> {
            let mine = breakers.iter().filter(|b| b.caller == id);
            mine.map(|b| InstanceBreaker {
                to: model.services[b.callee.index()].name.clone(),
                state: b.state,
                opened: b.opened,
                failed_fast: b.failed_fast,
            })
            .collect()
        };
        let (prev, last) = match gauges {
            [.., a, b] => (Some(a), Some(b)),
            _ => (None, None),
        };
        let load = |i: usize| -> (Option<f64>, Option<f64>) {
            match (prev, last) {
                (Some(a), Some(b)) => (
                    interval_mean(a, b, |g| g.load.get(i).and_then(|l| l.0)),
                    interval_mean(a, b, |g| g.load.get(i).and_then(|l| l.1)),
                ),
                _ => (None, None),
            }
        };
        let reports = sim.component_reports();
        let hfrom = gauges.len().saturating_sub(HISTORY_POINTS + 1);
        let history = |i: usize| -> Vec<(f64, f64)> {
            gauges[hfrom..]
                .windows(2)
                .filter_map(|w| {
                    interval_mean(&w[0], &w[1], |g| g.load.get(i).and_then(|l| l.0)).map(|u| (w[0].t_s as f64, u))
                })
                .collect()
        };
        let mut calls: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for class in &model.classes {
            let origin = model.components[class.origin.index()].service.index();
            calls.entry(origin).or_default().push(class.flow[0].service.index());
            for node in &class.flow {
                for &c in &node.calls {
                    calls.entry(node.service.index()).or_default().push(class.flow[c as usize].service.index());
                }
            }
        }
        let services = model
            .services
            .iter()
            .enumerate()
            .map(|(s, spec)| {
                let first = spec.instances[0].index();
                let kind = reports[first].kind();
                let mode = match &model.components[first].model {
                    ComponentModel::Store(st) => Some(st.mode),
                    _ => None,
                };
                let instances = spec
                    .instances
                    .iter()
                    .map(|&id| {
                        let i = id.index();
                        let (util, waiting) = load(i);
                        let health = if sim.is_down(id) {
                            Health::Down
                        } else if marked_down[i] {
                            Health::MarkedDown
                        } else if sim.is_slowed(id) {
                            Health::Slow
                        } else if util.is_some_and(|u| u >= 0.95) {
                            Health::Saturated
                        } else if util.is_some_and(|u| u >= 0.7) {
                            Health::Busy
                        } else {
                            Health::Up
                        };
                        let side = cuts.iter().map(|c| c[i]).find(|&s| s > 0).unwrap_or(0);
                        Instance {
                            name: name(id),
                            health,
                            util,
                            waiting,
                            side,
                            note: instance_note(&reports[i], sim.now() > SimTime::ZERO + model.warmup),
                            figures: flatten(&reports[i]),
                            util_history: history(i),
                            breakers: breakers_of(id),
                        }
                    })
                    .collect::<Vec<Instance>>();
                let mut edges: Vec<EdgeBreakers> = Vec::new();
                for b in instances.iter().flat_map(|i| &i.breakers) {
                    let e = match edges.iter().position(|e| e.to == b.to) {
                        Some(k) => &mut edges[k],
                        None => {
                            edges.push(EdgeBreakers { to: b.to.clone(), open: 0, half_open: 0, of: 0 });
                            edges.last_mut().expect("just pushed")
                        }
                    };
                    e.of += 1;
                    e.open += usize::from(b.state == BreakerState::Open);
                    e.half_open += usize::from(b.state == BreakerState::HalfOpen);
                }
                let mut targets: Vec<usize> = calls.get(&s).cloned().unwrap_or_default();
                targets.sort_unstable();
                targets.dedup();
                Service {
                    name: spec.name.clone(),
                    kind,
                    mode,
                    instances,
                    calls: targets.into_iter().filter(|&t| t != s).map(|t| model.services[t].name.clone()).collect(),
                    detail: detail(&spec.instances.iter().map(|c| &reports[c.index()]).collect::<Vec<_>>()),
                    breakers: edges,
                    retry_load: retry_load(model, s, prev, last),
                }
            })
            .collect();

        let mut log: Vec<LogLine> = sim
            .notes()
            .as_slice()
            .iter()
            .map(|n| {
                let (kind, text) = describe(n.kind, &name(n.component), &name, model);
                LogLine { t: n.time, kind, text }
            })
            .collect();
        log.extend(messages.iter().map(|(t, m)| LogLine { t: *t, kind: LogKind::Info, text: m.clone() }));
        // Faults injected by hand stay on the timeline, before and after their time.
        log.extend(session.hand_faults().iter().map(|h| LogLine {
            t: SimTime(h.at_ms * 1_000_000),
            kind: LogKind::Info,
            text: format!("you: {}", h.label),
        }));
        for v in verdicts.unwrap_or_default() {
            let actual = v.actual_text().unwrap_or_else(|| "no such figure".into());
            let (kind, word) = if v.passed { (LogKind::Info, "holds") } else { (LogKind::Failed, "FAILED") };
            log.push(LogLine { t: sim.now(), kind, text: format!("expectation {word}: {} (actual {actual})", v.expr) });
        }
        log.sort_by_key(|l| l.t);
        if log.len() > LOG_LINES {
            log.drain(..log.len() - LOG_LINES);
        }

        Snapshot {
            name: scenario.name.clone(),
            title: scenario.title.clone(),
            lesson: scenario.lesson.clone(),
            watch: scenario.watch.clone(),
            seed: session.seed(),
            now: sim.now(),
            end: sim.end(),
            warmup_end: SimTime::ZERO + model.warmup,
            events: sim.events(),
            trace_hash: sim.trace_hash(),
            finished: sim.finished(),
            playing: session.playing,
            speed: session.speed,
            services,
            charts: charts(sim, gauges),
            log,
            instances: session.instances(),
            stores: model
                .services
                .iter()
                .filter_map(|s| match &model.components[s.instances[0].index()].model {
                    ComponentModel::Store(st) => Some((s.name.clone(), st.mode)),
                    _ => None,
                })
                .collect(),
            partitioned: !cuts.is_empty(),
            hand_faults: session.hand_faults().len(),
            unsaved: session.unsaved(),
            checkpoints: session.checkpoint_count(),
            marks: model.fault_spans(),
            insight: session.insight().cloned(),
            checked_data: model.keyspaces.iter().any(|k| k.check),
            recent: session.recent_events(),
            followed: session.waterfall(),
            following: session.following(),
            classes: model.classes.iter().map(|c| c.name.clone()).collect(),
            step: session.step_view(),
            knobs: session.knobs(),
        }
    }
}

/// The figure that says most about a service, from its instances' reports, labelled
/// with the window it covers.
fn detail(reports: &[&sim_core::report::ComponentReport]) -> String {
    // A service's instances are all of one kind: add up that kind's figure.
    let sum = |f: fn(&Figures) -> Option<u64>| reports.iter().filter_map(|r| f(&r.figures)).sum::<u64>();
    match reports.first().map(|r| &r.figures) {
        Some(Figures::Cache(_)) => {
            let hits = sum(|f| if let Figures::Cache(c) = f { Some(c.hits) } else { None });
            let misses = sum(|f| if let Figures::Cache(c) = f { Some(c.misses) } else { None });
            if hits + misses > 0 {
                return format!("hit {:.0}% (window)", 100.0 * hits as f64 / (hits + misses) as f64);
            }
        }
        Some(Figures::WebSocket(_)) => {
            return format!(
                "{} conns now",
                thousands(sum(|f| if let Figures::WebSocket(w) = f { Some(w.connections) } else { None }))
            );
        }
        Some(Figures::Queue(_)) => {
            let done = sum(|f| if let Figures::Queue(q) = f { Some(q.processed) } else { None });
            let dead = sum(|f| if let Figures::Queue(q) = f { Some(q.dead_letters) } else { None });
            return format!("{} done, {dead} DLQ", thousands(done));
        }
        Some(Figures::Database(_)) => {
            let lost = sum(|f| match f {
                Figures::Database(d) => d.cluster.as_ref().map(|c| c.lost_writes),
                _ => None,
            });
            if lost > 0 {
                return format!("{lost} lost writes");
            }
        }
        _ => {}
    }
    String::new()
}

/// One instance's own figure that says most, labelled with its unit or window (a figure
/// over the window says so until the window starts).
fn instance_note(r: &sim_core::report::ComponentReport, in_window: bool) -> String {
    match &r.figures {
        Figures::Cache(_) | Figures::Cdn(_) if !in_window => "hit ratio: window from the warm-up's end".into(),
        Figures::Cache(c) if c.hits + c.misses > 0 => format!("hit {:.0}% (window)", 100.0 * c.hit_ratio),
        Figures::Cdn(c) => format!("hit {:.0}% (window)", 100.0 * c.hit_ratio),
        Figures::WebSocket(w) => format!("{} conns now", thousands(w.connections)),
        Figures::Queue(q) => format!("{} done, {} DLQ", thousands(q.processed), q.dead_letters),
        Figures::Database(d) => match (d.role_primary, d.replication_lag_ms_mean) {
            (Some(0), Some(lag)) => format!("replica, lag {lag:.1} ms"),
            (Some(1), _) => "primary".to_string(),
            _ => String::new(),
        },
        Figures::Server(s) if s.rejected > 0 => format!("{} rejected", thousands(s.rejected)),
        Figures::Server(s) => format!("{:.1}/{} busy", s.busy_mean, s.workers),
        Figures::LoadBalancer(b) => format!("{} backends up", b.backends_up),
        Figures::Gateway(g) => match g.admission.as_ref().and_then(|a| a.limited) {
            Some(limited) if limited > 0 => format!("{} limited (429)", thousands(limited)),
            _ => format!("{} routed", thousands(g.served)),
        },
        Figures::Store(s) if s.unavailable > 0 => format!("{} unavailable", thousands(s.unavailable)),
        _ => String::new(),
    }
}

/// Every figure of a report as (dotted name, value), in the report's own vocabulary (the
/// names carry their units: `replication_lag_ms_mean`).
fn flatten(r: &sim_core::report::ComponentReport) -> Vec<(String, String)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&name, x, out);
                }
            }
            serde_json::Value::Array(a) if a.len() > 8 => {
                out.push((prefix.to_string(), format!("[{} items]", a.len())))
            }
            serde_json::Value::Array(a) => {
                for (k, x) in a.iter().enumerate() {
                    walk(&format!("{prefix}[{k}]"), x, out);
                }
            }
            serde_json::Value::Number(n) => {
                let text = match (n.as_u64(), n.as_f64()) {
                    (Some(u), _) => thousands(u),
                    (None, Some(f)) if f.abs() >= 100.0 => format!("{f:.0}"),
                    (None, Some(f)) => format!("{f:.3}"),
                    _ => n.to_string(),
                };
                out.push((prefix.to_string(), text));
            }
            serde_json::Value::Null => {}
            other => out.push((prefix.to_string(), other.to_string().trim_matches('"').to_string())),
        }
    }
    let mut out = Vec::new();
    walk("", &serde_json::to_value(r).unwrap_or_default(), &mut out);
    // The report's hit ratio covers the window; the gauges' since-start counts say the rest.
    if let Figures::Cache(c) = &r.figures {
        let (h, m) = c.since_start;
        let ratio = if h + m > 0 { format!("{:.3}", h as f64 / (h + m) as f64) } else { "—".into() };
        out.push(("hit_ratio_since_start (warm-up too)".into(), ratio));
    }
    out
}

fn describe(
    kind: NoteKind,
    who: &str,
    name: &dyn Fn(ComponentId) -> String,
    model: &sim_core::Model,
) -> (LogKind, String) {
    match kind {
        NoteKind::Crash => (LogKind::Fault, format!("✖ {who} crashed")),
        NoteKind::Restart => (LogKind::Recovery, format!("● {who} restarted")),
        NoteKind::Slow(1.0) => (LogKind::Recovery, format!("● {who} back to normal speed")),
        NoteKind::Slow(f) => (LogKind::Fault, format!("~ {who} slowed ×{f}")),
        NoteKind::Drain => (LogKind::Fault, format!("{who} draining")),
        NoteKind::Rate(r) => (LogKind::Info, format!("{who}: rate set to {r}/s")),
        NoteKind::Capacity(n) => (LogKind::Info, format!("{who} resized to {n} entries")),
        NoteKind::Skew(0) => (LogKind::Recovery, format!("{who}'s clock back in sync")),
        NoteKind::Skew(ms) => (LogKind::Fault, format!("{who}'s clock jumps {ms} ms ahead")),
        NoteKind::Partition(p) => {
            let sides: Vec<String> = model.partitions[usize::from(p)]
                .sides
                .iter()
                .map(|s| {
                    let names: Vec<String> = s.iter().map(|&c| name(c)).collect();
                    if names.len() > 4 {
                        format!("{}, … ({})", names[..3].join(", "), names.len())
                    } else {
                        names.join(", ")
                    }
                })
                .collect();
            (LogKind::Fault, format!("✂ partition: {}", sides.join(" | ")))
        }
        NoteKind::Heal(_) => (LogKind::Recovery, "✚ partition healed".into()),
        NoteKind::MarkedDown(b) => (LogKind::Alarm, format!("▽ {who} marks {} down", name(b))),
        NoteKind::MarkedUp(b) => (LogKind::Recovery, format!("▲ {who} marks {} up", name(b))),
        NoteKind::Failover => (LogKind::Alarm, format!("⇄ failover: {who} promoted to primary")),
        NoteKind::DnsSwitched => (LogKind::Recovery, format!("DNS now names {who}'s new primary")),
        NoteKind::DeadLetters(n) => {
            (LogKind::Alarm, format!("☠ {who}: {n} dead letter{}", if n == 1 { "" } else { "s" }))
        }
        NoteKind::Scaled(n) => (LogKind::Info, format!("{who} has {n} backends in service")),
        NoteKind::Breaker(to, state) => {
            let to = &model.services[to.index()].name;
            match state {
                BreakerState::Open => (LogKind::Alarm, format!("⚡ {who}'s breaker to {to} opened: calls fail fast")),
                BreakerState::HalfOpen => (LogKind::Info, format!("{who}'s breaker to {to} half-open: probing")),
                BreakerState::Closed => (LogKind::Recovery, format!("● {who}'s breaker to {to} closed")),
            }
        }
    }
}

/// The retry amplification at service `s` over the last simulated second: root calls sent
/// to it per first attempt, over the classes with a retry policy whose flow starts there.
fn retry_load(model: &Model, s: usize, prev: Option<&GaugeSample>, last: Option<&GaugeSample>) -> Option<f64> {
    let mine = |ci: usize| {
        let c = &model.classes[ci];
        c.retry.is_some() && c.flow[0].service.index() == s
    };
    if !(0..model.classes.len()).any(mine) {
        return None;
    }
    let (Some(a), Some(b)) = (prev, last) else { return Some(1.0) };
    let (mut sent, mut retries) = (0, 0);
    for ci in (0..model.classes.len()).filter(|&ci| mine(ci)) {
        let (Some(x), Some(y)) = (a.attempts.get(ci), b.attempts.get(ci)) else { continue };
        sent += y.0.saturating_sub(x.0);
        retries += y.1.saturating_sub(x.1);
    }
    let first = sent.saturating_sub(retries);
    Some(if first == 0 { if sent == 0 { 1.0 } else { sent as f64 } } else { sent as f64 / first as f64 })
}

/// The charts: throughput, p50 and p99, error rate (from the series); hit ratio,
/// replication lag and waiting requests (from the gauges); and, where a rate limit stands,
/// the share answered 429, which the error rate leaves out as the report does.
fn charts(sim: &Simulation, gauges: &[GaugeSample]) -> Vec<Chart> {
    let series = sim.series_so_far();
    let from = series.len().saturating_sub(CHART_POINTS);
    let series = &series[from..];
    let bucket_s = if series.len() > 1 { series[1].t_s - series[0].t_s } else { 1.0 };
    let per_s = |x: u64| x as f64 / bucket_s;
    let chart = |name, unit, f: &dyn Fn(&sim_core::world::metrics::SeriesPoint) -> Option<f64>| Chart {
        name,
        unit,
        points: series.iter().filter_map(|p| f(p).map(|v| (p.t_s, v))).collect(),
    };
    let gfrom = gauges.len().saturating_sub(CHART_POINTS + 1);
    let pairs: Vec<(&GaugeSample, &GaugeSample)> = gauges[gfrom..].windows(2).map(|w| (&w[0], &w[1])).collect();
    let gchart = |name, unit, f: &dyn Fn(&GaugeSample, &GaugeSample) -> Option<f64>| Chart {
        name,
        unit,
        points: pairs.iter().filter_map(|(a, b)| f(a, b).map(|v| (a.t_s as f64, v))).collect(),
    };
    let queues: Vec<usize> = sim
        .model()
        .components
        .iter()
        .enumerate()
        .filter(|(_, c)| !matches!(c.model, ComponentModel::Clients(_)))
        .map(|(i, _)| i)
        .collect();
    let mut charts = vec![
        chart("throughput", "req/s", &|p| Some(per_s(p.completed))),
        chart("p50 latency", "ms", &|p| p.latency_p50_ms),
        chart("p99 latency", "ms", &|p| p.latency_p99_ms),
        chart("error rate", "%", &|p| {
            let errors = p.failed - p.limited;
            let n = p.completed + errors;
            (n > 0).then(|| 100.0 * errors as f64 / n as f64)
        }),
        gchart("cache hit ratio", "%", &|a, b| {
            let (h, m) = (b.hits - a.hits, b.misses - a.misses);
            (h + m > 0.0).then(|| 100.0 * h / (h + m))
        }),
        gchart("replica behind", "writes", &|_, b| b.lag.map(|l| l as f64)),
        gchart("waiting", "req", &|a, b| {
            let v: Vec<f64> = queues.iter().filter_map(|&i| interval_mean(a, b, |g| g.load.get(i)?.1)).collect();
            (!v.is_empty()).then(|| v.iter().sum())
        }),
    ];
    if sim.model().has_rate_limits() {
        charts.push(chart("limited (429)", "%", &|p| {
            let n = p.completed + p.failed;
            (n > 0).then(|| 100.0 * p.limited as f64 / n as f64)
        }));
    }
    charts
}
