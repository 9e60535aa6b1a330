//! Writing a failing chaos run as a seed file, and `scalelab replay` (the format is
//! `scenarios::seed_file`, shared with the TUI's saved sessions).

use super::invariants::Violation;
use super::{Outcome, judge, last_end_s};
use scenarios::seed_file::{FaultEntry, SESSION, SeedFile, fnv, with_faults};
use scenarios::{Overrides, Source};

/// The seed file of a failing chaos run.
pub fn for_failure(
    source: &Source,
    name: &str,
    duration: Option<sim_core::SimDuration>,
    o: &Outcome,
    v: &Violation,
) -> SeedFile {
    SeedFile {
        scalelab_version: env!("CARGO_PKG_VERSION").into(),
        scenario: name.into(),
        scenario_origin: source.origin.clone(),
        scenario_hash: fnv(&source.text),
        seed: o.seed,
        duration: duration.map(|d| format!("{}ms", d.as_nanos() / 1_000_000)),
        invariant: v.invariant.into(),
        detail: v.detail.clone(),
        trace_hash: o.trace_hash.clone(),
        events: None,
        faults: o
            .faults
            .iter()
            .map(|f| FaultEntry { start_ms: f.start_ms, end_ms: f.end_ms, toml: f.toml() })
            .collect(),
        scenario_text: source.text.clone(),
    }
}

/// `scalelab replay FILE`: runs the file's scenario, seed and schedule again and says
/// whether the failure and the trace hash are the same. Exit 0 if reproduced, 5 if not.
pub fn replay(path: &str) -> anyhow::Result<i32> {
    let text = match scenarios::read_capped(path, "seed file") {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(crate::EXIT_INPUT);
        }
    };
    let file = match SeedFile::parse(path, &text) {
        Ok(f) => f,
        Err(d) => {
            eprint!("{d}");
            return Ok(crate::EXIT_INPUT);
        }
    };
    if file.scalelab_version != env!("CARGO_PKG_VERSION") {
        eprintln!(
            "note: written by scalelab {}, replayed by {}: a difference may come from the version",
            file.scalelab_version,
            env!("CARGO_PKG_VERSION")
        );
    }
    if fnv(&file.scenario_text) != file.scenario_hash {
        eprintln!("error: {path}: the embedded scenario does not match its hash: the file was edited");
        return Ok(crate::EXIT_INPUT);
    }
    if let Ok(current) = scenarios::resolve(&file.scenario_origin)
        && fnv(&current.text) != file.scenario_hash
    {
        eprintln!(
            "note: {} has changed since this run; replaying the copy embedded in the seed file",
            file.scenario_origin
        );
    }
    let duration = match file.duration.as_deref().map(scenarios::parse_duration).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {path}: duration: {e}");
            return Ok(crate::EXIT_INPUT);
        }
    };
    let source = Source { origin: file.scenario_origin.clone(), text: file.scenario_text.clone() };
    let overrides = Overrides { duration, ..Overrides::default() };
    // The embedded scenario with the file's `[[faults]]` tables appended, as written (and
    // perhaps edited by hand): parsed like any scenario file.
    let text = with_faults(&source.text, file.faults.iter().map(|f| f.toml.as_str()));
    // Errors point into this text, which is the seed file's scenario and schedule, not
    // the original file: the origin says so.
    let origin = format!("{path} (its scenario_text with its faults appended)");
    let faulted = match scenarios::parse(&Source { origin, text }, &overrides) {
        Ok(s) => s,
        Err(d) => {
            eprint!("{d}");
            return Ok(crate::EXIT_INPUT);
        }
    };
    if file.invariant == SESSION {
        return replay_session(&file, &faulted);
    }
    let base = match scenarios::parse(&source, &overrides) {
        Ok(s) => s,
        Err(d) => {
            eprint!("{d}");
            return Ok(crate::EXIT_INPUT);
        }
    };
    let (violation, trace_hash) = judge(&base, &faulted, file.seed, last_end_s(file.faults.iter().map(|f| f.end_ms)));
    let same_failure = violation.as_ref().is_some_and(|v| v.invariant == file.invariant);
    match &violation {
        Some(v) => println!("{} seed {}: {} failed: {}", file.scenario, file.seed, v.invariant, v.detail),
        None => println!("{} seed {}: every invariant held", file.scenario, file.seed),
    }
    println!("trace hash {trace_hash} (recorded {})", file.trace_hash);
    if same_failure && trace_hash == file.trace_hash {
        println!("reproduced: the same failure and the same trace hash");
        Ok(0)
    } else {
        println!("NOT reproduced: the run differs from the recorded one");
        Ok(5)
    }
}

/// A session saved from the TUI: the scenario with the faults injected by hand, run to
/// the event the session was saved at. Reproduced if the trace hash is the same.
fn replay_session(file: &SeedFile, scenario: &scenarios::Scenario) -> anyhow::Result<i32> {
    let faults = &file.faults;
    let mut sim = sim_core::Simulation::new(&scenario.model, file.seed);
    let events = file.events.unwrap_or(u64::MAX);
    while sim.events() < events && sim.step().is_some() {}
    let trace_hash = sim.trace_hash();
    println!(
        "{} seed {}: session with {} fault{} by hand, {} events to {}",
        file.scenario,
        file.seed,
        faults.len(),
        if faults.len() == 1 { "" } else { "s" },
        sim.events(),
        sim.now()
    );
    println!("trace hash {trace_hash} (recorded {})", file.trace_hash);
    if trace_hash == file.trace_hash {
        println!("reproduced: the same trace hash");
        Ok(0)
    } else {
        println!("NOT reproduced: the run differs from the recorded one");
        Ok(5)
    }
}
