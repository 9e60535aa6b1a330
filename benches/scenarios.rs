//! Whole scenarios through the `scalelab` binary, each in its own process so its peak
//! memory is its own: simulated seconds per wall-clock second, events per second, peak
//! resident memory. Then the speed-up of parallel sweeps and comparisons, 2 jobs against 1.
//!
//! Run: `cargo bench --bench scenarios` (a few minutes). Figures go to stdout as a table.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 3;

/// The peak resident memory of a live process so far (VmHWM), in MiB; Linux only.
fn peak_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs `scalelab args`, polling its peak memory every 5 ms; returns (wall time, stdout,
/// peak MiB).
fn measure(args: &[&str]) -> (Duration, String, Option<f64>) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).expect("utf-8 output");
        s
    });
    let mut peak = None;
    loop {
        if let Some(p) = peak_mib(child.id()) {
            peak = Some(p);
        }
        if child.try_wait().expect("waits").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (started.elapsed(), reader.join().expect("reader"), peak)
}

fn scenario(name: &str) {
    let mut best: Option<(f64, f64, f64, u64, f64)> = None;
    for _ in 0..RUNS {
        let (process, out, peak) = measure(&["run", name, "--json", "--no-check"]);
        let r: serde_json::Value = serde_json::from_str(&out).expect("a JSON report");
        // The report's wall time covers the simulation; the process's adds loading the
        // scenario and printing the report.
        let (wall, sim, events) =
            (r["wall_seconds"].as_f64().unwrap(), r["sim_seconds"].as_f64().unwrap(), r["events"].as_u64().unwrap());
        if best.is_none_or(|b| wall < b.0) {
            best = Some((wall, sim, process.as_secs_f64(), events, peak.unwrap_or(f64::NAN)));
        }
    }
    let (wall, sim, process, events, peak) = best.expect("ran");
    println!(
        "{name:<16} {sim:>4.0} sim-s in {wall:>6.2} s ({process:.2} s whole process): {:>6.1} sim-s/wall-s, \
         {:>5.2} M events/s, {events} events, peak {peak:.0} MiB",
        sim / wall,
        events as f64 / wall / 1e6
    );
}

/// The best of `RUNS` wall times of a command.
fn best_wall(args: &[&str]) -> f64 {
    (0..RUNS).map(|_| measure(args).0.as_secs_f64()).fold(f64::INFINITY, f64::min)
}

fn speedup(what: &str, args: &[&str]) {
    let one = best_wall(&[args, &["--jobs", "1"]].concat());
    let two = best_wall(&[args, &["--jobs", "2"]].concat());
    println!("{what:<44} 1 job {one:>6.2} s, 2 jobs {two:>6.2} s: {:.2}x", one / two);
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument (any other) picks one part.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wanted = |part: &str| filter.is_empty() || filter.iter().any(|f| part.contains(f.as_str()));
    println!("best of {RUNS} runs each; one process per run (the simulation is single-threaded)");
    for name in ["pixelcraft-1m", "scale-lab-100m"] {
        if wanted(name) {
            scenario(name);
        }
    }
    if wanted("parallel") {
        speedup("sweep stage-03 --vary web_servers=1..8", &["sweep", "stage-03", "--vary", "web_servers=1..8"]);
        speedup(
            "compare pixelcraft-100-at-1m pixelcraft-1m --seeds 2",
            &["compare", "pixelcraft-100-at-1m", "pixelcraft-1m", "--seeds", "2"],
        );
    }
}
