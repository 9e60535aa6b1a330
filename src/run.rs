//! `scalelab run`: load a scenario, simulate it, report; optionally write the event trace
//! or check determinism by running twice in lockstep.

use crate::cli::RunArgs;
use crate::text_report;
use crate::{EXIT_DETERMINISM, EXIT_EXPECTATION, charts, expectations, load, svg};
use anyhow::Context;
use scenarios::builtin::DEFAULT_SCENARIO;
use scenarios::{Overrides, Scenario};
use sim_core::kernel::trace::TraceEvent;
use sim_core::view::lockstep::first_divergence;
use sim_core::{Report, Simulation};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let name = args.scenario.as_deref().unwrap_or(DEFAULT_SCENARIO);
    let overrides = Overrides { set: args.set.clone(), duration: args.duration, warmup: args.warmup };
    let scenario = match load(name, &overrides) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let seed = args.seed.unwrap_or(scenario.seed);
    if args.check_determinism {
        return check_determinism(&scenario, seed);
    }
    let mut sim = Simulation::new(&scenario.model, seed);
    if args.series || args.svg.is_some() {
        sim.collect_series_percentiles();
    }
    let started = Instant::now();
    match &args.trace {
        Some(path) => write_trace(&mut sim, path)?,
        None => sim.run(),
    }
    let mut report = sim.report(args.series || args.svg.is_some());
    report.set_wall_seconds(started.elapsed().as_secs_f64());
    if let Some(path) = &args.svg {
        let heading = format!("scalelab run {}, seed {seed}", scenario.name);
        svg::write(path, &svg::page(&heading, &charts::over_time(&[(scenario.name.as_str(), &report)])))?;
        if !args.series {
            report.series.clear();
        }
    }
    let mut json = serde_json::to_value(&report)?;
    let verdicts = expectations::evaluate(&scenario.expectations, &json);
    if args.json {
        json.as_object_mut()
            .expect("the report is an object")
            .insert("expectations".into(), serde_json::to_value(&verdicts)?);
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", text_report::render(&scenario, &report));
        if !verdicts.is_empty() {
            print!("{}", expectations::render(&verdicts, &scenario.expectations));
        }
    }
    let failed = verdicts.iter().filter(|v| !v.passed).count();
    if failed > 0 && !args.no_check {
        eprintln!("{failed} expectation{} failed (exit 3; --no-check to ignore)", if failed == 1 { "" } else { "s" });
        return Ok(EXIT_EXPECTATION);
    }
    Ok(0)
}

/// One JSON object a line: `{"i":0,"t_ns":0,"component":"clients","event":"start","payload":0}`.
fn write_trace(sim: &mut Simulation, path: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create trace file `{}`", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut result = Ok(());
    sim.run_observed(|sim, e| {
        if result.is_ok() {
            result = write_event(&mut out, sim, e);
        }
    });
    result.and_then(|_| out.flush()).with_context(|| format!("cannot write trace file `{}`", path.display()))
}

fn write_event(out: &mut impl Write, sim: &Simulation, e: &TraceEvent) -> std::io::Result<()> {
    // Component names are restricted to [A-Za-z0-9_-], so they need no JSON escaping.
    writeln!(
        out,
        r#"{{"i":{},"t_ns":{},"component":"{}","event":"{}","payload":{}}}"#,
        e.index,
        e.time.as_nanos(),
        sim.component_name(e.component),
        e.tag.name(),
        e.payload
    )
}

fn describe(sim: &Simulation, e: Option<&TraceEvent>) -> String {
    match e {
        Some(e) => {
            format!("{} at {} on `{}` (payload {})", e.tag.name(), e.time, sim.component_name(e.component), e.payload)
        }
        None => "end of run".to_string(),
    }
}

/// Runs the scenario twice side by side, comparing every event; reports the first one
/// that differs, which points straight at the nondeterministic code.
fn check_determinism(scenario: &Scenario, seed: u64) -> anyhow::Result<i32> {
    let mut a = Simulation::new(&scenario.model, seed);
    let mut b = Simulation::new(&scenario.model, seed);
    let started = Instant::now();
    if let Some(d) = first_divergence(&mut a, &mut b) {
        println!("determinism check FAILED: the runs diverge at event #{}", d.index);
        println!("  run 1: {}", describe(&a, d.a.as_ref()));
        println!("  run 2: {}", describe(&b, d.b.as_ref()));
        println!("  replay: scalelab run {} --seed {seed} --check-determinism", scenario.name);
        return Ok(EXIT_DETERMINISM);
    }
    let (ra, rb): (Report, Report) = (a.report(true), b.report(true));
    if ra != rb {
        println!("determinism check FAILED: identical event streams but different reports");
        return Ok(EXIT_DETERMINISM);
    }
    println!(
        "determinism check passed: {} events identical in two runs, trace hash {} ({:.2}s)",
        text_report::thousands(ra.events),
        ra.trace_hash,
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}
