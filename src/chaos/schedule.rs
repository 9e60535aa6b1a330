//! Fault schedules drawn from a seed: crashes with restarts, partitions with heals, slow
//! instances, flaky links, load spikes and clocks jumping ahead on replicated stores
//! (whose last-writer-wins timestamps they feed), written as the scenario file's own `[[faults]]` tables so
//! that a run, its seed file and its replay all go through one parser.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scenarios::ChaosLimits;
use sim_core::Model;
use sim_core::model::ComponentModel;

/// One fault of a schedule: a `[[faults]]` table, with when it starts and ends.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub start_ms: u64,
    pub end_ms: u64,
    /// The TOML of its `[[faults]]` table or tables (a crash and its restart are one fault).
    pub toml: String,
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
    let open_loop = matches!(&model.components[0].model, ComponentModel::Clients(c) if matches!(c.arrival, sim_core::model::Arrival::Poisson { .. }));
    let name = |i: usize| model.components[i].name.clone();
    let count = rng.random_range(1..=limits.max_faults as usize);
    let mut faults = Vec::new();
    for _ in 0..count {
        let start = rng.random_range(earliest..latest - 1000);
        let end = (start + rng.random_range(5_000..=60_000)).min(latest);
        let lasting = end - start;
        let toml = match rng.random_range(0..6u8) {
            4 if open_loop && allowed("surge") => {
                let factor = f64::from(rng.random_range(15..=30u32)) / 10.0;
                format!(
                    "[[faults]]\nat = \"{start}ms\"\nsurge = \"clients\"\nfactor = {factor}\nfor = \"{lasting}ms\"\n"
                )
            }
            5 if !clocks.is_empty() && allowed("skew") => {
                let t = name(clocks[rng.random_range(0..clocks.len())]);
                let by = rng.random_range(100..=10_000u64);
                format!("[[faults]]\nat = \"{start}ms\"\nskew = \"{t}\"\nby = \"{by}ms\"\nfor = \"{lasting}ms\"\n")
            }
            0 if allowed("crash") => {
                let t = name(targets[rng.random_range(0..targets.len())]);
                format!(
                    "[[faults]]\nat = \"{start}ms\"\ncrash = \"{t}\"\n[[faults]]\nat = \"{end}ms\"\nrestart = \"{t}\"\n"
                )
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
                let list = |v: &[String]| v.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
                format!(
                    "[[faults]]\nat = \"{start}ms\"\npartition = [[{}], [{}]]\nfor = \"{lasting}ms\"\n",
                    list(&sides.0),
                    list(&sides.1)
                )
            }
            2 if allowed("slow") => {
                let t = name(targets[rng.random_range(0..targets.len())]);
                let factor = rng.random_range(2..=10);
                format!("[[faults]]\nat = \"{start}ms\"\nslow = \"{t}\"\nfactor = {factor}\nfor = \"{lasting}ms\"\n")
            }
            3 if allowed("flaky") => {
                let (a, b) = (targets[rng.random_range(0..targets.len())], targets[rng.random_range(0..targets.len())]);
                if a == b {
                    continue;
                }
                let loss = f64::from(rng.random_range(1..=20u32)) / 100.0;
                format!(
                    "[[faults]]\nat = \"{start}ms\"\nflaky = [\"{}\", \"{}\"]\nloss = {loss}\nfor = \"{lasting}ms\"\n",
                    name(a),
                    name(b)
                )
            }
            // A kind not allowed, or with nothing to act on: this draw adds no fault.
            _ => continue,
        };
        faults.push(Fault { start_ms: start, end_ms: end, toml });
    }
    faults
}

/// The scenario text with a schedule appended.
pub fn with_faults(text: &str, faults: &[Fault]) -> String {
    scenarios::seed_file::with_faults(text, faults.iter().map(|f| f.toml.as_str()))
}
