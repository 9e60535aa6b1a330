//! The charts `--svg` draws: for runs, latency percentiles, throughput and errors over
//! simulated time (one line per run when several are compared); for sweeps, the figure
//! against the varied value.

use crate::svg::{Chart, Line};
use sim_core::Report;

/// Per-second series of `report` as chart points; `f` reads a point's value.
fn points(
    report: &Report,
    f: impl Fn(&sim_core::world::metrics::SeriesPoint) -> Option<f64>,
) -> Vec<(f64, Option<f64>)> {
    report.series.iter().map(|p| (p.t_s, f(p))).collect()
}

/// Series buckets are one second wide unless the run is very long.
fn bucket_s(report: &Report) -> f64 {
    match report.series.as_slice() {
        [a, b, ..] => b.t_s - a.t_s,
        _ => 1.0,
    }
}

/// Latency, throughput and errors over time, for one run or several (`(label, report)`).
pub fn over_time(runs: &[(&str, &Report)]) -> Vec<Chart> {
    let warmup = runs.first().map_or(0.0, |(_, r)| r.warmup_seconds);
    let shade = (warmup > 0.0).then(|| (0.0, warmup, "warm-up (not in the statistics)".to_string()));
    let x = "simulated time (s)";
    let mut latency = Chart::new("Latency over simulated time", x, "latency (ms)");
    let mut throughput = Chart::new("Throughput: requests completed per second", x, "requests/s");
    let mut errors = Chart::new("Errors: requests failed per second", x, "failures/s");
    for (label, r) in runs {
        let per_s = bucket_s(r);
        if runs.len() == 1 {
            latency.lines.push(Line::new("p50", points(r, |p| p.latency_p50_ms)));
            latency.lines.push(Line::new("p95", points(r, |p| p.latency_p95_ms)));
            latency.lines.push(Line::new("p99", points(r, |p| p.latency_p99_ms)));
            throughput.lines.push(Line::new("completed/s", points(r, |p| Some(p.completed as f64 / per_s))));
            errors.lines.push(Line::new("failed/s", points(r, |p| Some(p.failed as f64 / per_s))));
        } else {
            latency.lines.push(Line::new(format!("{label} p99"), points(r, |p| p.latency_p99_ms)));
            throughput.lines.push(Line::new(*label, points(r, |p| Some(p.completed as f64 / per_s))));
            errors.lines.push(Line::new(*label, points(r, |p| Some(p.failed as f64 / per_s))));
        }
    }
    if runs.len() > 1 {
        latency.title = "p99 latency over simulated time".into();
    }
    let mut charts = vec![latency, throughput, errors];
    for c in &mut charts {
        c.shade = shade.clone();
    }
    charts
}
