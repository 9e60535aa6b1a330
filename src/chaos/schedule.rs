//! Fault schedules drawn from a seed: crashes with restarts, partitions with heals, slow
//! instances, flaky links, load spikes and clocks jumping ahead on replicated stores
//! (whose last-writer-wins timestamps they feed), as the scenario's own fault type: a run
//! lowers them onto the parsed scenario, and its seed file embeds their `[[faults]]` tables.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scenarios::ChaosLimits;
use scenarios::fault::{Fault as ScenarioFault, FaultKind};
use sim_core::Model;
use sim_core::SimDuration;
use sim_core::model::ComponentModel;

/// One fault of a schedule, with when it starts and ends: one or two of the scenario's
/// faults (a crash and its restart are one fault of a schedule).
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub start_ms: u64,
    pub end_ms: u64,
    pub faults: Vec<ScenarioFault>,
}

impl Fault {
    /// Its `[[faults]]` tables, as a seed file embeds them.
    pub fn toml(&self) -> String {
        self.faults.iter().map(ScenarioFault::to_toml).collect()
    }

    /// The same fault ending at `end_ms` instead (after its start): what lasts is cut
    /// short, and a crash's restart comes then.
    pub fn ending_at(&self, end_ms: u64) -> Fault {
        assert!(end_ms > self.start_ms, "a fault ends after it starts");
        let lasting = SimDuration::from_millis(end_ms - self.start_ms);
        let faults = self
            .faults
            .iter()
            .map(|f| match &f.kind {
                FaultKind::Restart(_) => ScenarioFault { at: SimDuration::from_millis(end_ms), ..f.clone() },
                _ => ScenarioFault { lasting: f.lasting.map(|_| lasting), ..f.clone() },
            })
            .collect();
        Fault { start_ms: self.start_ms, end_ms, faults }
    }

    /// The same fault at half its strength, if it has one to halve: a surge's or a
    /// slowdown's factor halfway to 1 (to a tenth), while it is at least 1.2.
    pub fn milder(&self) -> Option<Fault> {
        let halve = |factor: f64| (factor >= 1.2).then(|| (10.0 * (1.0 + factor) / 2.0).floor() / 10.0);
        let mut changed = false;
        let faults = self
            .faults
            .iter()
            .map(|f| {
                let kind = match &f.kind {
                    FaultKind::Surge { population, factor } => {
                        halve(*factor).map(|factor| FaultKind::Surge { population: population.clone(), factor })
                    }
                    FaultKind::Slow { instance, factor } => {
                        halve(*factor).map(|factor| FaultKind::Slow { instance: instance.clone(), factor })
                    }
                    _ => None,
                };
                changed |= kind.is_some();
                ScenarioFault { kind: kind.unwrap_or_else(|| f.kind.clone()), ..f.clone() }
            })
            .collect();
        changed.then_some(Fault { faults, ..self.clone() })
    }
}

/// Every scenario fault of a schedule, in order.
pub fn scenario_faults(schedule: &[Fault]) -> Vec<ScenarioFault> {
    schedule.iter().flat_map(|f| f.faults.iter().cloned()).collect()
}

/// Draws a schedule for `model` from `seed`.
pub fn draw(model: &Model, seed: u64, limits: &ChaosLimits) -> Vec<Fault> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let run_ms = model.duration.as_nanos() / 1_000_000;
    let (earliest, latest) = ((run_ms as f64 * limits.start) as u64, (run_ms as f64 * limits.end) as u64);
    let allowed = |kind: &str| limits.kinds.iter().any(|k| k == kind);
    let targets: Vec<usize> = (0..model.components.len())
        .filter(|&i| !matches!(model.components[i].model, ComponentModel::Clients(_)))
        .collect();
    if targets.is_empty() || latest <= earliest + 1000 {
        return Vec::new();
    }
    let replicated: Vec<usize> = (0..model.services.len()).filter(|&s| model.services[s].instances.len() > 1).collect();
    let clocks: Vec<usize> =
        targets.iter().copied().filter(|&i| matches!(model.components[i].model, ComponentModel::Store(_))).collect();
    // Surges hit an open-loop population (one drawn only when there are several, so a
    // scenario with one draws what it always drew).
    let open_loop: Vec<usize> = (0..model.components.len())
        .filter(|&i| matches!(&model.components[i].model, ComponentModel::Clients(c) if matches!(c.arrival, sim_core::model::Arrival::Poisson { .. })))
        .collect();
    let name = |i: usize| model.components[i].name.clone();
    let count = rng.random_range(1..=limits.max_faults as usize);
    let mut faults = Vec::new();
    for _ in 0..count {
        let start = rng.random_range(earliest..latest - 1000);
        let end = (start + rng.random_range(5_000..=60_000)).min(latest);
        let lasting = end - start;
        let (at, lasting) = (SimDuration::from_millis(start), Some(SimDuration::from_millis(lasting)));
        let one = |kind: FaultKind| vec![ScenarioFault { at, kind, lasting }];
        let tables = match rng.random_range(0..6u8) {
            4 if !open_loop.is_empty() && allowed("surge") => {
                let factor = f64::from(rng.random_range(15..=30u32)) / 10.0;
                let population = match open_loop.as_slice() {
                    [only] => name(*only),
                    many => name(many[rng.random_range(0..many.len())]),
                };
                one(FaultKind::Surge { population, factor })
            }
            5 if !clocks.is_empty() && allowed("skew") => {
                let instance = name(clocks[rng.random_range(0..clocks.len())]);
                let by = SimDuration::from_millis(rng.random_range(100..=10_000u64));
                one(FaultKind::Skew { instance, by })
            }
            0 if allowed("crash") => {
                let t = name(targets[rng.random_range(0..targets.len())]);
                let restart_at = SimDuration::from_millis(end);
                vec![
                    ScenarioFault { at, kind: FaultKind::Crash(t.clone()), lasting: None },
                    ScenarioFault { at: restart_at, kind: FaultKind::Restart(t), lasting: None },
                ]
            }
            1 if !replicated.is_empty() && allowed("partition") => {
                let s = &model.services[replicated[rng.random_range(0..replicated.len())]];
                let mut sides = (Vec::new(), Vec::new());
                for &i in &s.instances {
                    if rng.random_bool(0.5) { sides.0.push(name(i.index())) } else { sides.1.push(name(i.index())) }
                }
                if sides.0.is_empty() {
                    sides.0.push(sides.1.pop().expect("two or more instances"));
                } else if sides.1.is_empty() {
                    sides.1.push(sides.0.pop().expect("two or more instances"));
                }
                one(FaultKind::Partition { sides: vec![sides.0, sides.1], one_way: false, hold: false })
            }
            2 if allowed("slow") => {
                let instance = name(targets[rng.random_range(0..targets.len())]);
                let factor = f64::from(rng.random_range(2..=10i32));
                one(FaultKind::Slow { instance, factor })
            }
            3 if allowed("flaky") => {
                let (a, b) = (targets[rng.random_range(0..targets.len())], targets[rng.random_range(0..targets.len())]);
                if a == b {
                    continue;
                }
                let loss = f64::from(rng.random_range(1..=20u32)) / 100.0;
                one(FaultKind::Flaky { ends: [name(a), name(b)], loss, one_way: false, hold: false })
            }
            // A kind not allowed, or with nothing to act on: this draw adds no fault.
            _ => continue,
        };
        faults.push(Fault { start_ms: start, end_ms: end, faults: tables });
    }
    faults
}
