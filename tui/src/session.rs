//! A session: one scenario being watched. It owns the run, the faults injected by hand,
//! the checkpoints that make stepping back possible, and the per-second gauges behind the
//! charts. Synchronous and deterministic: the runner thread drives it in real time, tests
//! drive it directly, and both see the same states.

use crate::insight::Insight;
use crate::snapshot::{GaugeSample, Snapshot};
use scenarios::expect::Verdict;
use scenarios::fault::{Fault, FaultKind, Scaling};
use scenarios::seed_file::{FaultEntry, SESSION, SeedFile, fnv};
use scenarios::steps::Guide;
use scenarios::{Overrides, Scenario, Source};
use sim_core::{SimDuration, SimTime, Simulation};

/// A checkpoint is kept every this many events at least (more for a large run, whose
/// copies cost more): stepping back replays at most this many.
const CHECKPOINT_EVENTS: u64 = 250_000;
/// A run's state size per `CHECKPOINT_EVENTS` between checkpoints: copying 500 MB every
/// 250,000 events would take most of the time.
const CHECKPOINT_BYTES_PER_INTERVAL: f64 = 5e7;
/// At most this many checkpoints are kept; older ones are thinned to make room.
const CHECKPOINTS_MAX: usize = 64;
/// The memory all checkpoints together may take, by the scenario's own estimate of a
/// run's size: a huge crowd of users keeps fewer copies rather than exhaust the machine.
const CHECKPOINT_BYTES_MAX: f64 = 1.5e9;

/// What a person can do to the run from the fault menu.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultRequest {
    Crash(String),
    Restart(String),
    /// Service times ×`factor` for `for_s` seconds.
    Slow {
        instance: String,
        factor: u32,
        for_s: u32,
    },
    /// Cut one instance off from every other instance (users still reach every side).
    Isolate(String),
    /// Cut the network between the sides chosen in the partition builder; instances on
    /// neither side reach both.
    Partition {
        sides: Vec<Vec<String>>,
    },
    /// Every partition in force heals.
    HealAll,
    /// Knobs: a balanced service's instances in service, an open population's rate, a
    /// cache's capacity in entries, from now on.
    Scale {
        service: String,
        instances: u32,
    },
    Rate {
        population: String,
        per_sec: f64,
    },
    Resize {
        cache: String,
        capacity: u32,
    },
}

impl FaultRequest {
    /// The scenario's fault this request adds at `at_ms` (`others`: every instance a fault
    /// can hit, the users aside).
    fn fault(&self, at_ms: u64, others: &[String]) -> Fault {
        let (kind, lasting) = match self {
            FaultRequest::Crash(i) => (FaultKind::Crash(i.clone()), None),
            FaultRequest::Restart(i) => (FaultKind::Restart(i.clone()), None),
            FaultRequest::Slow { instance, factor, for_s } => (
                FaultKind::Slow { instance: instance.clone(), factor: f64::from(*factor) },
                Some(SimDuration::from_secs(u64::from(*for_s))),
            ),
            FaultRequest::Isolate(i) => {
                let rest: Vec<String> = others.iter().filter(|o| *o != i).cloned().collect();
                (FaultKind::Partition { sides: vec![vec![i.clone()], rest], one_way: false, hold: false }, None)
            }
            FaultRequest::Partition { sides } => {
                (FaultKind::Partition { sides: sides.clone(), one_way: false, hold: false }, None)
            }
            FaultRequest::HealAll => (FaultKind::HealAll, None),
            FaultRequest::Scale { service, instances } => {
                (FaultKind::Scale { service: service.clone(), instances: *instances }, None)
            }
            FaultRequest::Rate { population, per_sec } => {
                (FaultKind::Rate { population: population.clone(), per_sec: *per_sec }, None)
            }
            FaultRequest::Resize { cache, capacity } => {
                (FaultKind::Resize { cache: cache.clone(), capacity: *capacity }, None)
            }
        };
        Fault { at: SimDuration::from_millis(at_ms), kind, lasting }
    }

    pub fn label(&self) -> String {
        match self {
            FaultRequest::Crash(i) => format!("crash {i}"),
            FaultRequest::Restart(i) => format!("restart {i}"),
            FaultRequest::Slow { instance, factor, for_s } => format!("slow {instance} ×{factor} for {for_s} s"),
            FaultRequest::Isolate(i) => format!("partition {i} from the rest"),
            FaultRequest::Partition { sides } => {
                let side = |s: &[String]| {
                    if s.len() > 4 { format!("{}, … ({} in all)", s[..3].join(", "), s.len()) } else { s.join(", ") }
                };
                format!("partition {}", sides.iter().map(|s| side(s)).collect::<Vec<_>>().join(" | "))
            }
            FaultRequest::HealAll => "heal every partition".to_string(),
            FaultRequest::Scale { service, instances } => format!("knob: `{service}` to {instances} instances"),
            FaultRequest::Rate { population, per_sec } => format!("knob: `{population}` rate to {per_sec} req/s"),
            FaultRequest::Resize { cache, capacity } => format!("knob: `{cache}` capacity to {capacity} entries"),
        }
    }

    /// How long the fault lasts, for the seed file's schedule.
    fn lasting_ms(&self) -> u64 {
        match self {
            FaultRequest::Slow { for_s, .. } => u64::from(*for_s) * 1000,
            _ => 0,
        }
    }
}

/// A fault injected by hand: when, what, and the scenario's fault it is.
#[derive(Clone, Debug, PartialEq)]
pub struct HandFault {
    pub at_ms: u64,
    pub end_ms: u64,
    pub label: String,
    pub fault: Fault,
}

#[derive(Clone, Debug, PartialEq)]
struct Follow {
    at_events: u64,
    class: Option<String>,
    pending: bool,
}

/// Events the inspector keeps.
const EVENTS_KEPT: usize = 200;

pub struct Session {
    /// The scenario as opened (or as switched between CP and AP), without hand faults.
    source: Source,
    overrides: Overrides,
    /// The scenario with the hand faults appended, lowered.
    scenario: Scenario,
    seed: u64,
    hand: Vec<HandFault>,
    sim: Simulation,
    checkpoints: Vec<Simulation>,
    /// How many checkpoints this scenario's size allows (2 to `CHECKPOINTS_MAX`), and
    /// how many events apart they are taken.
    checkpoints_max: usize,
    checkpoint_every: u64,
    /// One sample at each whole simulated second crossed.
    gauges: Vec<GaugeSample>,
    /// Expectation verdicts, once the run has finished.
    verdicts: Option<Vec<Verdict>>,
    /// Messages for the log that are not simulation events (saved, restarted...).
    messages: Vec<(SimTime, String)>,
    /// The explanation as of the last whole simulated second crossed (or the last seek).
    insight: Option<Insight>,
    /// Hand faults already in the last saved seed file.
    saved_hand: usize,
    /// The request asked to be followed: from which event, of which class, and whether
    /// the run (restored from a checkpoint older than that) still has to be told.
    follow: Option<Follow>,
    /// The scenario's guided steps: which have come.
    guide: Guide,
    /// Whether playing, and how many simulated seconds a wall second (0: as fast as it goes).
    pub playing: bool,
    pub speed: f64,
}

/// The speeds `+` and `-` step through; 0 means as fast as the machine goes.
pub const SPEEDS: [f64; 11] = [0.01, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 0.0];

impl Session {
    /// Opens a built-in scenario by name, or a file by path.
    pub fn open(name_or_path: &str, seed: Option<u64>) -> Result<Session, String> {
        let source = scenarios::resolve(name_or_path)?;
        // A saved session opens on its own seed, with its faults (now the scenario's).
        let seed = seed.or_else(|| scenarios::seed_file::saved(name_or_path).map(|f| f.seed));
        Session::from_source(source, Overrides::default(), seed)
    }

    pub fn from_source(source: Source, overrides: Overrides, seed: Option<u64>) -> Result<Session, String> {
        let scenario = scenarios::parse(&source, &overrides).map_err(|d| d.to_string())?;
        let seed = seed.unwrap_or(scenario.seed);
        let sim = new_sim(&scenario, seed);
        let (checkpoints_max, checkpoint_every) = checkpoint_plan(&scenario);
        let guide = Guide::new(scenario.steps.clone());
        Ok(Session {
            source,
            overrides,
            scenario,
            seed,
            hand: Vec::new(),
            sim,
            checkpoints: Vec::new(),
            checkpoints_max,
            checkpoint_every,
            gauges: Vec::new(),
            verdicts: None,
            messages: Vec::new(),
            insight: None,
            saved_hand: 0,
            follow: None,
            guide,
            playing: false,
            speed: 1.0,
        })
    }

    pub fn sim(&self) -> &Simulation {
        &self.sim
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn hand_faults(&self) -> &[HandFault] {
        &self.hand
    }

    /// Hand faults made since the last save: quitting would lose them.
    pub fn unsaved(&self) -> usize {
        self.hand.len().saturating_sub(self.saved_hand)
    }

    pub fn insight(&self) -> Option<&Insight> {
        self.insight.as_ref()
    }

    /// The explanation engine's view of the run as it stands.
    /// None during the warm-up: the report's window (and with it every rate, utilization
    /// and the bottleneck) starts when the warm-up ends.
    fn refresh_insight(&mut self) {
        let now = self.sim.now();
        let warmed = now.as_nanos() > self.sim.model().warmup.as_nanos();
        self.insight = warmed.then(|| Insight::of(&self.sim.report(false), now));
    }

    /// Processes one event; false if the run is over.
    pub fn step(&mut self) -> bool {
        if let Some(t) = self.sim.next_event_time() {
            self.sample_up_to(t);
        }
        self.arm_follow();
        if self.sim.step().is_none() {
            self.on_finished();
            return false;
        }
        if self.sim.events() >= self.checkpoints.last().map_or(0, Simulation::events) + self.checkpoint_every {
            self.checkpoint();
        }
        true
    }

    /// Runs every event up to and including `t`, at most `budget` of them; true if it got there.
    pub fn run_until(&mut self, t: SimTime, budget: u64) -> bool {
        self.advance(t, budget, false)
    }

    /// As `run_until` while playing: stops early when the run pauses (a guided step came).
    pub fn play_until(&mut self, t: SimTime, budget: u64) -> bool {
        self.advance(t, budget, true)
    }

    /// Events up to `t`, at most `budget`; true if it got there (or paused, if `while_playing`).
    fn advance(&mut self, t: SimTime, budget: u64, while_playing: bool) -> bool {
        for _ in 0..budget {
            if while_playing && !self.playing {
                return true;
            }
            match self.sim.next_event_time() {
                Some(next) if next <= t => {
                    if !self.step() {
                        return true;
                    }
                }
                Some(_) => return true,
                None => {
                    self.on_finished();
                    return true;
                }
            }
        }
        false
    }

    /// One simulated second forward: every event up to a second after the last one.
    pub fn step_second(&mut self) {
        let t = self.sim.now() + SimDuration::from_secs(1);
        self.run_until(t, u64::MAX);
    }

    /// Back one event: the state just before the last event processed.
    pub fn back_event(&mut self) {
        let target = self.sim.events().saturating_sub(1);
        self.seek_event(target);
    }

    /// Back one simulated second (to the very start from within the first second: the
    /// events at t = 0 are then undone too, rather than replayed).
    pub fn back_second(&mut self) {
        match self.sim.now().as_nanos().checked_sub(1_000_000_000) {
            Some(target) => self.seek_time(SimTime(target)),
            None => self.seek_event(0),
        }
    }

    /// Back `seconds` simulated seconds.
    pub fn back_seconds(&mut self, seconds: u64) {
        let target = self.sim.now().as_nanos().saturating_sub(seconds * 1_000_000_000);
        self.seek_time(SimTime(target));
    }

    /// Replays to the state after `events` events, from the nearest checkpoint before.
    pub fn seek_event(&mut self, events: u64) {
        self.sim = self.restore(|c| c.events() <= events);
        while self.sim.events() < events {
            self.arm_follow();
            if self.sim.step().is_none() {
                break;
            }
        }
        self.arm_follow();
        self.after_seek();
    }

    /// Replays to the state after every event at or before `t`.
    pub fn seek_time(&mut self, t: SimTime) {
        let sim = self.restore(|c| c.now() <= t);
        self.sim = sim;
        self.after_seek();
        self.run_until(t, u64::MAX);
    }

    /// A copy of the latest checkpoint that `fits` (or a fresh run), with the hand faults
    /// it predates added.
    fn restore(&mut self, fits: impl Fn(&Simulation) -> bool) -> Simulation {
        let mut sim = match self.checkpoints.iter().rposition(fits) {
            Some(i) => {
                self.checkpoints.truncate(i + 1);
                self.checkpoints[i].clone()
            }
            None => {
                self.checkpoints.clear();
                new_sim(&self.scenario, self.seed)
            }
        };
        if sim.model().faults.len() < self.scenario.model.faults.len() {
            sim.add_faults(&self.scenario.model).expect("checkpoints predate the hand faults they lack");
        }
        if let Some(f) = &mut self.follow {
            // At the very event it was asked at, the run may not have been told yet.
            f.pending = sim.events() <= f.at_events;
        }
        sim
    }

    /// Tells the run which request to follow when it reaches the event it was asked at.
    fn arm_follow(&mut self) {
        if let Some(f) = &mut self.follow
            && f.pending
            && self.sim.events() == f.at_events
        {
            f.pending = false;
            self.sim.follow_next(f.class.as_deref()).expect("the class was checked when asked");
        }
    }

    /// Follows the next request issued (of `class`, or of any class) hop by hop.
    pub fn follow(&mut self, class: Option<String>) -> Result<(), String> {
        self.sim.follow_next(class.as_deref())?;
        self.follow = Some(Follow { at_events: self.sim.events(), class, pending: false });
        Ok(())
    }

    /// What the session waits for while the request to follow has not been issued yet.
    pub fn following(&self) -> Option<String> {
        let f = self.follow.as_ref()?;
        if self.sim.followed().is_some() {
            return None;
        }
        Some(match &f.class {
            Some(c) => format!("the next `{c}` request"),
            None => "the next request".to_string(),
        })
    }

    /// The followed request as waterfall rows: each span under the call that made it.
    pub fn waterfall(&self) -> Option<crate::snapshot::Waterfall> {
        let t = self.sim.followed()?;
        // Spans are numbered in the order they were sent, parents first: drawn depth first,
        // each under the call that made it, children in the order they were sent.
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); t.spans.len()];
        for (k, sp) in t.spans.iter().enumerate() {
            if let Some(p) = sp.parent.map(|p| p as usize).filter(|&p| p < k) {
                children[p].push(k);
            }
        }
        let mut order: Vec<(usize, usize)> = Vec::with_capacity(t.spans.len());
        let mut stack: Vec<(usize, usize)> = (0..t.spans.len())
            .filter(|&k| t.spans[k].parent.is_none_or(|p| p as usize >= k))
            .rev()
            .map(|k| (k, 0))
            .collect();
        while let Some((k, d)) = stack.pop() {
            order.push((k, d));
            stack.extend(children[k].iter().rev().map(|&c| (c, d + 1)));
        }
        let spans =
            order.into_iter().map(|(k, d)| crate::snapshot::SpanRow { depth: d, span: t.spans[k].clone() }).collect();
        Some(crate::snapshot::Waterfall {
            id: t.id,
            class: t.class.clone(),
            start: t.start,
            end: t.end,
            outcome: t.outcome.clone(),
            spans,
        })
    }

    /// The last events processed, in words, oldest first.
    pub fn recent_events(&self) -> Vec<crate::snapshot::EventLine> {
        self.sim
            .recent_events()
            .map(|e| crate::snapshot::EventLine {
                seq: e.seq,
                t: e.t,
                component: e.component,
                class: e.class,
                request: e.request,
                text: e.text,
            })
            .collect()
    }

    /// The guided step that came last, if any has.
    pub fn step_view(&self) -> Option<crate::snapshot::StepView> {
        let i = self.guide.current()?;
        let step = &self.guide.steps()[i];
        Some(crate::snapshot::StepView {
            index: i + 1,
            of: self.guide.steps().len(),
            at: self.guide.fired_at(i).unwrap_or(SimTime::ZERO),
            text: step.text.clone(),
            watch: step.watch.clone(),
            key: step.key.map(String::from),
        })
    }

    /// The knobs the menu offers: one step up and one down from each current setting.
    pub fn knobs(&self) -> Vec<FaultRequest> {
        let names = &self.scenario.names;
        let model = &self.scenario.model;
        let last = |pick: &dyn Fn(&FaultKind) -> Option<f64>| self.hand.iter().rev().find_map(|h| pick(&h.fault.kind));
        let mut knobs = Vec::new();
        for (s, service) in names.services.iter().enumerate() {
            let Some(Scaling::Balanced(lbs)) = names.scaling.get(s) else { continue };
            let from_model = lbs.first().and_then(|lb| match &model.components[lb.index()].model {
                sim_core::model::ComponentModel::LoadBalancer(b) => b.start_in_service,
                _ => None,
            });
            let n = last(&|k| match k {
                FaultKind::Scale { service: x, instances } if x == service => Some(f64::from(*instances)),
                _ => None,
            })
            .map_or_else(|| from_model.unwrap_or(names.service_instances[s].len() as u32), |n| n as u32);
            knobs.push(FaultRequest::Scale { service: service.clone(), instances: (n + 1).min(1000) });
            if n > 1 {
                knobs.push(FaultRequest::Scale { service: service.clone(), instances: n - 1 });
            }
        }
        for (s, closed) in names.closed.iter().enumerate() {
            let service = &names.services[s];
            let first = names.service_instances[s][0];
            let sim_core::model::ComponentModel::Clients(spec) = &model.components[first.index()].model else {
                continue;
            };
            let (false, sim_core::model::Arrival::Poisson { rate_per_sec }) = (*closed, &spec.arrival) else {
                continue;
            };
            let rate = last(&|k| match k {
                FaultKind::Rate { population, per_sec } if population == service => Some(*per_sec),
                _ => None,
            })
            .unwrap_or(*rate_per_sec);
            knobs.push(FaultRequest::Rate { population: service.clone(), per_sec: (rate * 2.0).round().max(1.0) });
            knobs.push(FaultRequest::Rate { population: service.clone(), per_sec: (rate / 2.0).round().max(1.0) });
        }
        for (s, service) in names.services.iter().enumerate() {
            let Some(first) = names.service_instances[s].first() else { continue };
            let Some(Some(cap)) = names.capacities.get(first.index()) else { continue };
            let cap = last(&|k| match k {
                FaultKind::Resize { cache, capacity } if cache == service => Some(f64::from(*capacity)),
                _ => None,
            })
            .map_or(*cap, |c| c as u32);
            knobs.push(FaultRequest::Resize { cache: service.clone(), capacity: cap.saturating_mul(2) });
            knobs.push(FaultRequest::Resize { cache: service.clone(), capacity: (cap / 2).max(1) });
        }
        knobs
    }

    fn after_seek(&mut self) {
        self.refresh_insight();
        self.guide.rewind(self.sim.now());
        let now_s = self.sim.now().as_nanos() / 1_000_000_000;
        self.gauges.retain(|g| g.t_s <= now_s && (g.t_s > 0 || self.sim.events() > 0));
        let now = self.sim.now();
        self.messages.retain(|(t, _)| *t <= now);
        if !self.sim.finished() {
            self.verdicts = None;
        }
    }

    fn checkpoint(&mut self) {
        if self.checkpoints.len() >= self.checkpoints_max {
            // Keep the recent half dense; drop every other one of the older half.
            let half = self.checkpoints_max / 2;
            let mut i = 0;
            self.checkpoints.retain(|_| {
                i += 1;
                i > half || i % 2 == 0
            });
        }
        self.checkpoints.push(self.sim.clone());
    }

    /// Samples the gauges at every whole second up to `t`.
    fn sample_up_to(&mut self, t: SimTime) {
        let next_s = self.gauges.last().map_or(0, |g| g.t_s + 1);
        if t.as_nanos() >= next_s * 1_000_000_000 {
            let upto = t.as_nanos() / 1_000_000_000;
            let reports = self.sim.component_reports();
            let sample = GaugeSample::take(&self.sim, &reports);
            for s in next_s..=upto {
                self.gauges.push(GaugeSample { t_s: s, ..sample.clone() });
            }
            self.refresh_insight();
            // A guided step that comes pauses the run, for the student to read it.
            if !self.guide.observe(self.sim.now(), &reports).is_empty() {
                self.playing = false;
            }
        }
    }

    fn on_finished(&mut self) {
        self.playing = false;
        if let Some(stall) = self.sim.stall()
            && !self.messages.iter().any(|(_, m)| m.starts_with("the run stopped"))
        {
            let message = self.sim.describe_stall(stall);
            self.messages.push((self.sim.now(), message));
        }
        if self.verdicts.is_none() {
            let report = self.sim.report(false);
            let json = serde_json::to_value(&report).expect("a report serializes");
            self.verdicts = Some(scenarios::expect::evaluate(&self.scenario.expectations, &json));
            self.insight = Some(Insight::of(&report, self.sim.now()));
        }
    }

    /// Injects a fault at the next whole millisecond, exactly as if the scenario file had
    /// listed it: the session saved as a seed file replays to the same trace.
    pub fn inject(&mut self, request: &FaultRequest) -> Result<(), String> {
        let at_ms = self.sim.now().as_nanos() / 1_000_000 + 1;
        if SimTime(at_ms * 1_000_000) > self.sim.end() {
            return Err("the run is over: restart (r) or step back to inject a fault".into());
        }
        let others: Vec<String> = self.instances().into_iter().map(|(n, _)| n).collect();
        let fault = request.fault(at_ms, &others);
        let label = request.label();
        if self.scenario.reshapes(&fault) {
            return self.reshape(fault, label, at_ms + request.lasting_ms());
        }
        let scenario = self.scenario.with_faults(std::slice::from_ref(&fault)).map_err(|e| e.to_string())?;
        self.sim.add_faults(&scenario.model)?;
        let at = SimTime(at_ms * 1_000_000);
        self.checkpoints.retain(|c| c.now() < at);
        self.scenario = scenario;
        self.hand.push(HandFault { at_ms, end_ms: at_ms + request.lasting_ms(), label, fault });
        Ok(())
    }

    /// A fault that needs a model of another shape (more instances than lowered): the
    /// scenario is parsed again with every hand fault and the run replayed to now from
    /// t = 0 with the same seed, so it is the run the saved seed file gives.
    fn reshape(&mut self, fault: Fault, label: String, end_ms: u64) -> Result<(), String> {
        let mut faults: Vec<Fault> = self.hand.iter().map(|h| h.fault.clone()).collect();
        faults.push(fault.clone());
        let scenario =
            scenarios::parse_with_faults(&self.source, &self.overrides, &faults).map_err(|d| d.to_string())?;
        let (now, playing) = (self.sim.now(), self.playing);
        let at_ms = fault.at.as_nanos() / 1_000_000;
        (self.checkpoints_max, self.checkpoint_every) = checkpoint_plan(&scenario);
        self.sim = new_sim(&scenario, self.seed);
        self.scenario = scenario;
        self.checkpoints.clear();
        self.gauges.clear();
        // The steps name instances by their place in the model, which the knob moved.
        self.guide = Guide::new(self.scenario.steps.clone());
        if let Some(f) = &mut self.follow {
            f.pending = true;
        }
        self.hand.push(HandFault { at_ms, end_ms, label, fault });
        self.run_until(now, u64::MAX);
        self.playing = playing;
        Ok(())
    }

    /// Instances that faults can hit (users cannot fail), with whether each is down.
    pub fn instances(&self) -> Vec<(String, bool)> {
        let model = self.sim.model();
        model
            .components
            .iter()
            .enumerate()
            .filter(|(_, c)| !matches!(c.model, sim_core::model::ComponentModel::Clients(_)))
            .map(|(i, c)| (c.name.clone(), self.sim.is_down(sim_core::kernel::ids::ComponentId(i as u32))))
            .collect()
    }

    /// Starts the run again from the beginning with `seed`, without the hand faults.
    pub fn restart(&mut self, seed: u64) -> Result<(), String> {
        let mut fresh = Session::from_source(self.source.clone(), self.overrides.clone(), Some(seed))?;
        fresh.speed = self.speed;
        fresh.messages.push((SimTime::ZERO, format!("restarted with seed {seed}")));
        *self = fresh;
        Ok(())
    }

    /// Switches a replicated store between CP and AP (default quorums for the mode), runs
    /// the changed scenario with the same seed and hand faults back to the current time.
    pub fn toggle_mode(&mut self, service: &str) -> Result<String, String> {
        let mut table: toml::Table = self.source.text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        let components = table.get_mut("components").and_then(|c| c.as_array_mut()).ok_or("no components")?;
        let spec = components
            .iter_mut()
            .filter_map(|c| c.as_table_mut())
            .find(|c| c.get("id").and_then(|i| i.as_str()) == Some(service))
            .ok_or_else(|| format!("no component `{service}`"))?;
        let mode = if spec.get("mode").and_then(|m| m.as_str()) == Some("ap") { "cp" } else { "ap" };
        spec.insert("mode".into(), toml::Value::String(mode.into()));
        spec.remove("w");
        spec.remove("r");
        let text = toml::to_string(&table).map_err(|e| e.to_string())?;
        let origin = format!("{} (`{service}` switched to {})", self.source.origin, mode.to_uppercase());
        let now = self.sim.now();
        let source = Source { origin, text };
        let mut next = Session::from_source(source.clone(), self.overrides.clone(), Some(self.seed))?;
        let hand: Vec<Fault> = self.hand.iter().map(|h| h.fault.clone()).collect();
        // Parsed with the hand faults, as the seed file will be: a knob may have grown it.
        next.scenario = scenarios::parse_with_faults(&source, &self.overrides, &hand).map_err(|d| d.to_string())?;
        next.guide = Guide::new(next.scenario.steps.clone());
        (next.checkpoints_max, next.checkpoint_every) = checkpoint_plan(&next.scenario);
        next.hand = self.hand.clone();
        next.saved_hand = self.saved_hand;
        // The followed request is followed again from the same event of the replay.
        next.follow = self.follow.clone().map(|f| Follow { pending: true, ..f });
        next.sim = new_sim(&next.scenario, next.seed);
        next.speed = self.speed;
        next.messages = self.messages.clone();
        next.run_until(now, u64::MAX);
        let line = format!("`{service}` is now {}: replayed to {now} with the same seed", mode.to_uppercase());
        next.messages.push((next.sim.now(), line.clone()));
        *self = next;
        Ok(line)
    }

    /// The session as a seed file: `scalelab replay FILE` reruns it to this event and
    /// checks the trace hash.
    pub fn seed_file(&self) -> SeedFile {
        SeedFile {
            scalelab_version: env!("CARGO_PKG_VERSION").into(),
            scenario: self.scenario.name.clone(),
            scenario_origin: self.source.origin.clone(),
            scenario_hash: fnv(&self.source.text),
            seed: self.seed,
            duration: self.overrides.duration.map(|d| format!("{}ms", d.as_nanos() / 1_000_000)),
            invariant: SESSION.into(),
            detail: format!("saved from the TUI at {} after {} events", self.sim.now(), self.sim.events()),
            trace_hash: self.sim.trace_hash(),
            events: Some(self.sim.events()),
            faults: self
                .hand
                .iter()
                .map(|h| FaultEntry { start_ms: h.at_ms, end_ms: h.end_ms, toml: h.fault.to_toml() })
                .collect(),
            scenario_text: self.source.text.clone(),
        }
    }

    /// Writes the seed file into `dir`; returns its path.
    pub fn save(&mut self, dir: &std::path::Path) -> Result<std::path::PathBuf, String> {
        let name = format!("session-{}-seed{}-{}ev.toml", self.scenario.name, self.seed, self.sim.events());
        let path = dir.join(name);
        std::fs::write(&path, self.seed_file().to_toml())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.saved_hand = self.hand.len();
        self.messages.push((self.sim.now(), format!("saved {}: scalelab replay {}", path.display(), path.display())));
        Ok(path)
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot::build(self, &self.gauges, &self.messages, self.verdicts.as_deref())
    }

    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }
}

/// How many checkpoints a scenario's run may keep within `CHECKPOINT_BYTES_MAX`, and how
/// many events apart, by the scenario's own estimate of its size.
fn checkpoint_plan(scenario: &Scenario) -> (usize, u64) {
    // A run's state beyond what the estimate counts (components, routes, metrics).
    const BASE_BYTES: f64 = 4e6;
    let bytes = scenarios::budget::Estimate::of(&scenario.model).bytes().0 + BASE_BYTES;
    let max = ((CHECKPOINT_BYTES_MAX / bytes) as usize).clamp(2, CHECKPOINTS_MAX);
    let every = (CHECKPOINT_EVENTS as f64 * (bytes / CHECKPOINT_BYTES_PER_INTERVAL).max(1.0)) as u64;
    (max, every)
}

fn new_sim(scenario: &Scenario, seed: u64) -> Simulation {
    let mut sim = Simulation::new(&scenario.model, seed);
    sim.collect_series_percentiles();
    sim.record_events(EVENTS_KEPT);
    sim
}
