//! `scalelab run`: load a scenario, simulate it, report; optionally write the event trace
//! or check determinism by running twice in lockstep.

use crate::cli::RunArgs;
use crate::signals::{self, Stop};
use crate::text_report;
use crate::{
    EXIT_DETERMINISM, EXIT_EXPECTATION, EXIT_INPUT, charts, expectations, load, over_seeds, request_trace, svg,
};
use anyhow::Context;
use scenarios::builtin::DEFAULT_SCENARIO;
use scenarios::{Overrides, Scenario};
use sim_core::kernel::trace::TraceEvent;
use sim_core::view::lockstep::first_divergence;
use sim_core::{Report, Simulation};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let name = args.scenario.as_deref().unwrap_or(DEFAULT_SCENARIO);
    // A seed file (a session saved from the TUI, a failing chaos run) runs the run it
    // records: its scenario and faults (`resolve` reads them), its seed and run length.
    let saved = scenarios::seed_file::saved(name);
    let saved_duration = match saved.as_ref().and_then(|f| f.duration.as_deref()).map(scenarios::parse_duration) {
        Some(Ok(d)) => Some(d),
        _ => None,
    };
    let overrides =
        Overrides { set: args.set.clone(), duration: args.duration.or(saved_duration), warmup: args.warmup };
    let scenario = match load(name, &overrides) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let seed = args.seed.or(saved.as_ref().map(|f| f.seed)).unwrap_or(scenario.seed);
    if let Some(file) = &saved {
        eprintln!(
            "note: {name} is a seed file: running {} at seed {} with its {} fault{} to the end of the run; \
             `scalelab replay {name}` checks it against its recorded trace hash",
            file.scenario,
            file.seed,
            file.faults.len(),
            if file.faults.len() == 1 { "" } else { "s" }
        );
    }
    if args.check_determinism {
        return check_determinism(&scenario, seed);
    }
    if args.seeds > 1 {
        return run_seeds(args, &scenario, seed);
    }
    let mut sim = Simulation::new(&scenario.model, seed);
    if args.series || args.svg.is_some() {
        sim.collect_series_percentiles();
    }
    if scenarios::expect::needs_recovery(&scenario.expectations) {
        sim.track_recovery();
    }
    // Opened before the run, so that an unwritable path fails at once.
    let requests_out = match args.trace_requests {
        Some(n) => {
            sim.follow_sample(n);
            let path = args.trace_out.clone().unwrap_or_else(|| request_trace::default_path(&scenario.name));
            Some(request_trace::Out::create(path, n)?)
        }
        None => None,
    };
    let stop = Stop::install();
    let started = Instant::now();
    let mut trace = match &args.trace {
        Some(path) => Some(Trace::create(path)?),
        None => None,
    };
    let interrupted = drive(&mut sim, trace.as_mut(), &stop)?;
    if let Some(t) = trace {
        t.finish()?;
    }
    if let Some(signal) = stop.signal().filter(|_| interrupted) {
        eprintln!(
            "stopped by {} at {} of {} ({} events); no report",
            signals::name(signal),
            sim.now(),
            sim.end(),
            text_report::thousands(sim.events())
        );
        return Ok(signals::exit_code(signal));
    }
    if let Some(stall) = sim.stall() {
        eprintln!("error: {}", sim.describe_stall(stall));
        return Ok(EXIT_INPUT);
    }
    let mut report = sim.report(args.series || args.svg.is_some());
    report.set_wall_seconds(started.elapsed().as_secs_f64());
    if let Some(out) = requests_out {
        out.write(&sim, &scenario.name, seed)?;
    }
    if let Some(path) = &args.svg {
        let heading = format!("scalelab run {}, seed {seed}", scenario.name);
        svg::write(
            path,
            &svg::page(
                &heading,
                &charts::over_time(&[(scenario.name.as_str(), &report)], &charts::fault_markers(&scenario.model)),
            ),
        )?;
        if !args.series {
            report.series.clear();
        }
    }
    print_report(args, &scenario, &report, None)
}

/// Prints `report` (with `over`, the figures over seeds, if any) as text or JSON with the
/// scenario's expectations judged on it; exit 3 if one fails, unless `--no-check`.
fn print_report(
    args: &RunArgs,
    scenario: &Scenario,
    report: &Report,
    over: Option<&over_seeds::OverSeeds>,
) -> anyhow::Result<i32> {
    let mut json = serde_json::to_value(report)?;
    let verdicts = expectations::evaluate(&scenario.expectations, &json);
    if args.json {
        let obj = json.as_object_mut().expect("the report is an object");
        obj.insert("expectations".into(), serde_json::to_value(&verdicts)?);
        if let Some(over) = over {
            obj.insert("over_seeds".into(), serde_json::to_value(over)?);
        }
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", text_report::render(scenario, report));
        if let Some(over) = over {
            print!("{}", over_seeds::render(over));
        }
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

/// `run --seeds K`: the first seed's report as a single run prints it, then every
/// headline figure over the K seeds (in the JSON, as `over_seeds`).
fn run_seeds(args: &RunArgs, scenario: &Scenario, first: u64) -> anyhow::Result<i32> {
    if args.trace.is_some() || args.svg.is_some() || args.series || args.trace_requests.is_some() {
        anyhow::bail!(
            "--seeds runs many seeds: --trace, --trace-requests, --svg and --series describe one run; run one seed for them"
        );
    }
    let seeds: Vec<u64> = (0..u64::from(args.seeds)).map(|i| first.wrapping_add(i)).collect();
    let threads = args.jobs.map_or_else(crate::batch::default_jobs, usize::from);
    let (reports, over) = over_seeds::run(scenario, &seeds, threads)?;
    print_report(args, scenario, &reports[0], Some(&over))
}

/// Events between two looks at the clock, the progress bar and the stop flag.
const SLICE: u32 = 1 << 16;
/// A run shows a progress bar (on a terminal) once it has taken this long.
const PROGRESS_AFTER: Duration = Duration::from_secs(2);

/// Runs `sim` to its end (or to a signal) in slices, writing each event to `trace`, with a
/// progress bar on stderr once the run has taken a couple of seconds. True if a signal
/// stopped it before its end.
fn drive(sim: &mut Simulation, mut trace: Option<&mut Trace>, stop: &Stop) -> anyhow::Result<bool> {
    let started = Instant::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let end_ms = sim.end().as_nanos() / 1_000_000;
    loop {
        for _ in 0..SLICE {
            let Some(e) = sim.step() else {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                return Ok(false);
            };
            if let Some(t) = trace.as_deref_mut() {
                t.write(sim, &e)?;
            }
        }
        if stop.signal().is_some() {
            if let Some(b) = &bar {
                b.abandon();
            }
            return Ok(true);
        }
        if bar.is_none() && started.elapsed() >= PROGRESS_AFTER {
            let b = indicatif::ProgressBar::new(end_ms);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {msg} (eta {eta})").expect("a valid template"),
            );
            bar = Some(b);
        }
        if let Some(b) = &bar {
            let now_ms = sim.now().as_nanos() / 1_000_000;
            b.set_position(now_ms);
            b.set_message(format!(
                "{:.1} of {:.1} simulated s, {:.1} M events/s",
                now_ms as f64 / 1e3,
                end_ms as f64 / 1e3,
                sim.events() as f64 / started.elapsed().as_secs_f64().max(1e-9) / 1e6
            ));
        }
    }
}

/// The `--trace` file: one JSON object a line,
/// `{"i":0,"t_ns":0,"component":"clients","event":"start","payload":0}`. Each line goes to
/// the buffer in one write, so the file holds whole lines whenever the run stops.
struct Trace {
    path: std::path::PathBuf,
    out: BufWriter<std::fs::File>,
    line: String,
}

impl Trace {
    fn create(path: &Path) -> anyhow::Result<Trace> {
        let file =
            std::fs::File::create(path).with_context(|| format!("cannot create trace file `{}`", path.display()))?;
        Ok(Trace { path: path.to_path_buf(), out: BufWriter::with_capacity(1 << 20, file), line: String::new() })
    }

    fn write(&mut self, sim: &Simulation, e: &TraceEvent) -> anyhow::Result<()> {
        use std::fmt::Write as _;
        self.line.clear();
        // Component names are restricted to [A-Za-z0-9_-], so they need no JSON escaping.
        let _ = writeln!(
            self.line,
            r#"{{"i":{},"t_ns":{},"component":"{}","event":"{}","payload":{}}}"#,
            e.index,
            e.time.as_nanos(),
            sim.component_name(e.component),
            e.tag.name(),
            e.payload
        );
        self.out
            .write_all(self.line.as_bytes())
            .with_context(|| format!("cannot write trace file `{}`", self.path.display()))
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.out.flush().with_context(|| format!("cannot write trace file `{}`", self.path.display()))
    }
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
