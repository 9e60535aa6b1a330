//! `scalelab chaos`: many runs of one scenario, each under a fault schedule drawn from its
//! own seed, checked against invariants; every failing run saved as a seed file that
//! `scalelab replay` reproduces exactly, and optionally shrunk to a smallest schedule.

mod invariants;
pub mod schedule;
pub mod seed_file;

use crate::cli::ChaosArgs;
use crate::signals::{self, Stop};
use anyhow::Context;
use invariants::{Bounds, Violation};
use scenarios::{Overrides, Scenario};
use schedule::Fault;
use serde::Serialize;
use sim_core::{Report, Simulation};
use std::collections::BTreeMap;
use std::time::Instant;

/// One run's seed: the sweep's seed and the run's index, mixed (splitmix64).
pub fn run_seed(seed: u64, index: u64) -> u64 {
    sim_core::kernel::hash::mix64(seed ^ sim_core::kernel::hash::spread(index))
}

/// What one run did.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub index: u64,
    pub seed: u64,
    pub faults: Vec<Fault>,
    pub violation: Option<Violation>,
    pub trace_hash: String,
}

/// Runs `base` under the schedule `faults` at `seed` and checks the invariants against
/// the same run without them. The scenario is parsed once, by the caller: the schedule is
/// lowered onto it.
pub fn run_once(base: &Scenario, seed: u64, faults: &[Fault]) -> (Option<Violation>, String) {
    match base.with_faults(&schedule::scenario_faults(faults)) {
        Ok(faulted) => judge(base, &faulted, seed, last_end_s(faults.iter().map(|f| f.end_ms))),
        Err(e) => (Some(Violation { invariant: "invalid", detail: e.to_string() }), String::new()),
    }
}

/// When the last fault of a schedule ends, in seconds.
pub fn last_end_s(ends_ms: impl Iterator<Item = u64>) -> f64 {
    ends_ms.max().unwrap_or(0) as f64 / 1e3
}

/// Runs `faulted` and `base` at `seed` and checks the invariants, the faults' last ending
/// `last_end_s` into the run. A panic is caught and reported as a failure of the run.
pub fn judge(base: &Scenario, faulted: &Scenario, seed: u64, last_end_s: f64) -> (Option<Violation>, String) {
    let attempt = std::panic::catch_unwind(|| -> Result<(Option<Violation>, String), String> {
        // A run the engine stopped because its clock stood still has no end to judge.
        let recover_s = faulted.chaos.recover_within.map(|d| d.as_secs_f64());
        let simulate = |scenario: &Scenario| -> (Report, Option<String>) {
            let mut sim = Simulation::new(&scenario.model, seed);
            sim.collect_series_percentiles();
            if recover_s.is_some() {
                sim.track_recovery();
            }
            sim.run();
            let stall = sim.stall().map(|s| sim.describe_stall(s));
            (sim.report(true), stall)
        };
        let ((report, stall), (baseline, base_stall)) = (simulate(faulted), simulate(base));
        if let Some(detail) = base_stall {
            return Err(format!("without faults: {detail}"));
        }
        if let Some(detail) = stall {
            return Ok((Some(Violation { invariant: "progress", detail }), report.trace_hash));
        }
        let bounds = Bounds {
            converge_ms: faulted.chaos.converge_within.as_secs_f64() * 1e3,
            drain_s: faulted.chaos.drain_within.as_secs_f64(),
            recover_s,
            ..Bounds::default()
        };
        Ok((invariants::check(&report, &baseline, last_end_s, &bounds), report.trace_hash))
    });
    match attempt {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => (Some(Violation { invariant: "invalid", detail: e }), String::new()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            (Some(Violation { invariant: "no_panic", detail: what }), String::new())
        }
    }
}

/// The sweep's summary: identical for any number of jobs, and for merged slices. The rate
/// of runs a second, which depends on the machine, goes to stderr, never in here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub runs: u64,
    pub failures: u64,
    pub by_invariant: BTreeMap<String, u64>,
    /// Failing runs: (index, run seed, invariant).
    pub failing: Vec<(u64, u64, String)>,
    pub seed_files: Vec<String>,
}

/// What the summary needs of one run, as a `--shard` slice writes it (the unit is the run
/// index).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChaosRun {
    pub seed: u64,
    /// The invariant it failed, if it failed one.
    pub invariant: Option<String>,
    /// The seed files it wrote (with `--out`), sorted.
    pub seed_files: Vec<String>,
}

impl Summary {
    fn new(scenario: &str, seed: u64) -> Summary {
        Summary { scenario: scenario.to_string(), seed, ..Summary::default() }
    }

    /// Adds run `index`; runs are added in index order.
    fn add(&mut self, index: u64, run: ChaosRun) {
        self.runs += 1;
        if let Some(inv) = run.invariant {
            self.failures += 1;
            *self.by_invariant.entry(inv.clone()).or_default() += 1;
            self.failing.push((index, run.seed, inv));
        }
        self.seed_files.extend(run.seed_files);
    }
}

/// The scenario `args` name, parsed once for every run.
fn prepare(args: &ChaosArgs) -> Result<(scenarios::Source, Scenario), i32> {
    let source = scenarios::resolve(&args.scenario).map_err(|e| {
        eprintln!("error: {e}");
        crate::EXIT_INPUT
    })?;
    let overrides = Overrides { duration: args.duration, ..Overrides::default() };
    match scenarios::parse(&source, &overrides) {
        Ok(s) => Ok((source, s)),
        Err(d) => {
            eprint!("{d}");
            Err(crate::EXIT_INPUT)
        }
    }
}

fn print(summary: &Summary, json: bool) -> anyhow::Result<i32> {
    if json {
        println!("{}", serde_json::to_string_pretty(summary)?);
    } else {
        print_summary(summary);
    }
    Ok(if summary.failures > 0 { 5 } else { 0 })
}

/// `scalelab merge` of chaos slices: the summary one machine running the whole range prints.
pub fn merged(args: &ChaosArgs, slices: &crate::merge::Slices) -> anyhow::Result<i32> {
    let (source, base) = match prepare(args) {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    slices.check_sources(&[crate::merge::source_hash(&source.text)])?;
    if slices.header.units != args.runs {
        anyhow::bail!("the slices cover {} runs, their command line {}", slices.header.units, args.runs);
    }
    let mut summary = Summary::new(&base.name, args.seed);
    slices.for_each(|index, run: ChaosRun| summary.add(index, run))?;
    print(&summary, args.json)
}

pub fn chaos(args: &ChaosArgs) -> anyhow::Result<i32> {
    if args.scenario == "merge" {
        return crate::merge::merge(&args.files, args.json, false);
    }
    if !args.files.is_empty() {
        anyhow::bail!("unexpected arguments after the scenario: {:?} (only `chaos merge` takes files)", args.files);
    }
    let shard = match args.shard.resolve() {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let (source, base) = match prepare(args) {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let limits = base.chaos.clone();
    let range = shard.map_or(0..args.runs, |s| s.range(args.runs));
    let (first, end) = (range.start, range.end);
    let started = Instant::now();
    let bar = indicatif::ProgressBar::new(end - first);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} runs, {msg} ({per_sec})")
            .expect("a valid template"),
    );
    let stop = Stop::install();
    let (work_tx, work_rx) = crossbeam_channel::unbounded::<u64>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Outcome>();
    (first..end).for_each(|i| work_tx.send(i).expect("open"));
    drop(work_tx);
    let mut outcomes: Vec<Outcome> = Vec::with_capacity((end - first) as usize);
    // Seed files by run index, each written as soon as its run fails.
    let mut seed_files: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let saver = Saver { source: &source, base: &base, args };
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..args.jobs {
            let (rx, tx) = (work_rx.clone(), done_tx.clone());
            let (base, limits, stop) = (&base, &limits, &stop);
            scope.spawn(move || {
                for index in rx {
                    if stop.signal().is_some() {
                        break;
                    }
                    let seed = run_seed(args.seed, index);
                    let faults = schedule::draw(&base.model, seed, limits);
                    let (violation, trace_hash) = run_once(base, seed, &faults);
                    tx.send(Outcome { index, seed, faults, violation, trace_hash }).expect("open");
                }
            });
        }
        drop(done_tx);
        let mut failures = 0;
        for o in &done_rx {
            if let Some(v) = &o.violation {
                failures += 1;
                let mut files = bar.suspend(|| saver.save(&o, v))?;
                files.sort();
                seed_files.insert(o.index, files);
            }
            bar.set_message(format!("{failures} failing"));
            bar.inc(1);
            outcomes.push(o);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    outcomes.sort_by_key(|o| o.index);
    let runs: Vec<ChaosRun> = outcomes
        .iter()
        .map(|o| ChaosRun {
            seed: o.seed,
            invariant: o.violation.as_ref().map(|v| v.invariant.to_string()),
            seed_files: seed_files.remove(&o.index).unwrap_or_default(),
        })
        .collect();
    let mut summary = Summary::new(&base.name, args.seed);
    for (o, run) in outcomes.iter().zip(&runs) {
        summary.add(o.index, run.clone());
    }
    // The rate depends on the machine: stderr, so that stdout is the same on any machine
    // and for merged slices.
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("{} runs in {seconds:.1} s ({:.1} runs/s)", outcomes.len(), outcomes.len() as f64 / seconds.max(1e-9));
    if let Some(signal) = stop.signal() {
        eprintln!(
            "stopped by {} after {} of {} runs; the summary covers those",
            signals::name(signal),
            outcomes.len(),
            end - first
        );
    }
    let code = match shard {
        Some(shard) => {
            if stop.signal().is_none() {
                crate::merge::write("chaos", vec![crate::merge::source_hash(&source.text)], shard, args.runs, &runs)?;
            } else {
                // An interrupted slice prints nothing: merge then names it as empty.
                eprintln!("slice {}/{} not written: it was interrupted; run it again", shard.k, shard.n);
            }
            // Standard output holds the slice; its summary goes to stderr.
            eprintln!("slice {}/{}: {} runs, {} failing", shard.k, shard.n, summary.runs, summary.failures);
            if summary.failures > 0 { 5 } else { 0 }
        }
        None => print(&summary, args.json)?,
    };
    if let Some(signal) = stop.signal() {
        return Ok(signals::exit_code(signal));
    }
    Ok(code)
}

/// Writes a failing run's seed file (and its shrunk one) the moment the run fails, so an
/// interrupted sweep keeps every failure it found.
struct Saver<'a> {
    source: &'a scenarios::Source,
    base: &'a Scenario,
    args: &'a ChaosArgs,
}

impl Saver<'_> {
    /// Reports the failure; returns the seed files written.
    fn save(&self, o: &Outcome, v: &Violation) -> anyhow::Result<Vec<String>> {
        let (base, args) = (self.base, self.args);
        let Some(dir) = &args.out else {
            eprintln!(
                "run {} failed {}: {} (seed {}; --out DIR saves a seed file)",
                o.index, v.invariant, v.detail, o.seed
            );
            return Ok(Vec::new());
        };
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let file = seed_file::for_failure(self.source, &base.name, args.duration, o, v);
        let path = dir.join(format!("{}-{}.toml", base.name, o.seed));
        std::fs::write(&path, file.to_toml()).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("run {} failed {}: {}\n  replay: scalelab replay {}", o.index, v.invariant, v.detail, path.display());
        let mut written = vec![path.display().to_string()];
        if args.shrink {
            let smaller = shrink(base, o.seed, &o.faults, v.invariant);
            let (v2, hash) = run_once(base, o.seed, &smaller);
            let v2 = v2.expect("a shrunk schedule still fails");
            let shrunk = Outcome { faults: smaller, trace_hash: hash, ..o.clone() };
            let small = dir.join(format!("{}-{}-shrunk.toml", base.name, o.seed));
            let file = seed_file::for_failure(self.source, &base.name, args.duration, &shrunk, &v2);
            std::fs::write(&small, file.to_toml()).with_context(|| format!("writing {}", small.display()))?;
            if shrunk.faults.is_empty() {
                eprintln!(
                    "  it fails with no faults at all: the scenario itself breaks `{}`: scalelab replay {}",
                    v.invariant,
                    small.display()
                );
            } else {
                let faults = |n: usize| if n == 1 { "1 fault".to_string() } else { format!("{n} faults") };
                let how = match (o.faults.len(), shrunk.faults.len()) {
                    _ if shrunk.faults == o.faults => {
                        format!("no further: {} is the least that fails", faults(o.faults.len()))
                    }
                    (a, b) if a == b => format!("to the same {}, shorter or milder", faults(b)),
                    (a, b) => format!("from {} to {}", faults(a), b),
                };
                eprintln!("  shrunk {how}: scalelab replay {}", small.display());
            }
            written.insert(0, small.display().to_string());
        }
        Ok(written)
    }
}

pub fn print_summary(s: &Summary) {
    println!("chaos {}: {} runs from seed {}, {} failing", s.scenario, s.runs, s.seed, s.failures);
    for (invariant, n) in &s.by_invariant {
        println!("  {invariant}: {n}");
    }
    for f in &s.seed_files {
        println!("  seed file: {f}");
    }
}

/// Delta debugging over the faults: the smallest subset found that still fails the same
/// invariant (each removal is kept only if the run still fails it), starting with none at
/// all (a run that fails without faults is the scenario's own failure). A single fault
/// left is then made as short and as mild as still fails (`weakest`): the trigger alone.
pub fn shrink(base: &Scenario, seed: u64, faults: &[Fault], invariant: &str) -> Vec<Fault> {
    let fails = |fs: &[Fault]| run_once(base, seed, fs).0.is_some_and(|v| v.invariant == invariant);
    if !faults.is_empty() && fails(&[]) {
        return Vec::new();
    }
    let mut current = faults.to_vec();
    let mut chunk = current.len().div_ceil(2).max(1);
    while chunk >= 1 && current.len() > 1 {
        let mut reduced = false;
        let mut start = 0;
        while start < current.len() {
            let candidate: Vec<Fault> = current
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < start || *i >= start + chunk)
                .map(|(_, f)| f.clone())
                .collect();
            if !candidate.is_empty() && candidate.len() < current.len() && fails(&candidate) {
                current = candidate;
                reduced = true;
            } else {
                start += chunk;
            }
        }
        if !reduced {
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }
    match current.as_slice() {
        [one] => vec![weakest(one, |f| fails(std::slice::from_ref(f)))],
        _ => current,
    }
}

/// The shortest and mildest version of `fault` that still `fails`: its length halved
/// while it fails (down to a second), then its factor halved towards 1 while it fails.
/// At most a few dozen runs: each step halves a length under a run's or a factor's excess.
fn weakest(fault: &Fault, fails: impl Fn(&Fault) -> bool) -> Fault {
    let mut current = fault.clone();
    loop {
        let length_ms = current.end_ms - current.start_ms;
        let shorter = (length_ms >= 2_000).then(|| current.ending_at(current.start_ms + length_ms / 2));
        if let Some(f) = shorter.filter(&fails) {
            current = f;
            continue;
        }
        match current.milder().filter(&fails) {
            Some(f) => current = f,
            None => return current,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that fails with no faults at all shrinks to the empty schedule: the failure is
    /// the scenario's own (cap-weak-quorum's w + r <= n reads stale data under its own
    /// partition, whatever chaos adds).
    #[test]
    fn a_failure_without_faults_shrinks_to_none() {
        let base = scenarios::load("cap-weak-quorum", &Overrides::default()).unwrap();
        let seed = run_seed(1, 0);
        let faults = schedule::draw(&base.model, seed, &base.chaos);
        assert!(!faults.is_empty());
        let (violation, _) = run_once(&base, seed, &faults);
        let invariant = violation.expect("the scenario fails on its own").invariant;
        assert_eq!(run_once(&base, seed, &[]).0.map(|v| v.invariant), Some(invariant));
        assert!(shrink(&base, seed, &faults, invariant).is_empty());
    }

    fn surge(start_ms: u64, end_ms: u64, factor: f64) -> Fault {
        let at = sim_core::SimDuration::from_millis(start_ms);
        let lasting = Some(sim_core::SimDuration::from_millis(end_ms - start_ms));
        let kind = scenarios::fault::FaultKind::Surge { population: "clients".into(), factor };
        Fault { start_ms, end_ms, faults: vec![scenarios::fault::Fault { at, kind, lasting }] }
    }

    /// A lone trigger is halved in length while it fails, then in strength, then in
    /// length again: here it fails from 10 s at a factor of 2 or more.
    #[test]
    fn a_lone_trigger_is_made_as_short_and_mild_as_still_fails() {
        let factor = |f: &Fault| match &f.faults[0].kind {
            scenarios::fault::FaultKind::Surge { factor, .. } => *factor,
            other => panic!("{other:?}"),
        };
        let fails = |f: &Fault| f.end_ms - f.start_ms >= 10_000 && factor(f) >= 2.0;
        let weak = weakest(&surge(20_000, 80_000, 3.0), fails);
        assert_eq!((weak.start_ms, weak.end_ms), (20_000, 35_000), "60 s, 30 s, 15 s; not 7.5 s");
        assert_eq!(factor(&weak), 2.0, "3.0, 2.0; not 1.5");
        assert_eq!(weak.faults[0].lasting, Some(sim_core::SimDuration::from_secs(15)), "the table says the same");
        // A factor of 1.1 has nothing left to halve; a crash is cut short by its restart.
        assert!(surge(0, 1_000, 1.1).milder().is_none());
        let crash = Fault {
            start_ms: 1_000,
            end_ms: 9_000,
            faults: ["crash", "restart"]
                .iter()
                .map(|verb| scenarios::fault::Fault {
                    at: sim_core::SimDuration::from_millis(if *verb == "crash" { 1_000 } else { 9_000 }),
                    kind: if *verb == "crash" {
                        scenarios::fault::FaultKind::Crash("web".into())
                    } else {
                        scenarios::fault::FaultKind::Restart("web".into())
                    },
                    lasting: None,
                })
                .collect(),
        };
        let short = crash.ending_at(5_000);
        assert_eq!(short.faults[1].at, sim_core::SimDuration::from_millis(5_000));
        assert_eq!((short.faults[0].at, short.faults[0].lasting), (crash.faults[0].at, None));
        assert!(crash.milder().is_none());
    }
}
