//! The charts `--svg` draws: for runs, latency percentiles, throughput and errors over
//! simulated time (one line per run when several are compared); for sweeps, the figure
//! against the varied value.

use crate::svg::{Chart, Line, Marker};
use sim_core::{Model, Report};

/// The model's faults as chart markers, in seconds (`Model::fault_spans` says which are
/// bands and which moments).
pub fn fault_markers(model: &Model) -> Vec<Marker> {
    let s = |t: sim_core::SimTime| t.as_nanos() as f64 / 1e9;
    model.fault_spans().into_iter().map(|f| Marker { from: s(f.from), to: f.to.map(s), label: f.label }).collect()
}

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

/// Latency, throughput and errors over time, for one run or several (`(label, report)`),
/// with `faults` marked on each chart.
pub fn over_time(runs: &[(&str, &Report)], faults: &[Marker]) -> Vec<Chart> {
    let warmup = runs.first().map_or(0.0, |(_, r)| r.warmup_seconds);
    let shade = (warmup > 0.0).then(|| (0.0, warmup, "warm-up (not in the statistics)".to_string()));
    let x = "simulated time (s)";
    let mut latency = Chart::new("Latency over simulated time", x, "latency (ms)");
    let mut throughput = Chart::new("Throughput: requests completed per second", x, "throughput (req/s)");
    let mut errors = Chart::new("Errors: requests failed per second", x, "failures (req/s)");
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
        c.markers = faults.to_vec();
    }
    charts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_become_bands_while_they_last_and_marks_when_instant() {
        let mut text = scenarios::builtin::get("stage-04").expect("a built-in").to_string();
        text.push_str(
            r#"
[[faults]]
at = "1m"
slow = "web-2"
factor = 3
for = "30s"
[[faults]]
at = "6m"
flaky = ["web", "db"]
loss = 0.05
for = "1m"
[[faults]]
at = "8m"
partition = [["web-1"], ["db-1", "db-2", "db-3"]]
[[faults]]
at = "9m"
heal = "all"
[[faults]]
at = "10m"
restart = "db-1"
[[faults]]
at = "11m"
surge = "clients"
factor = 2
for = "1m"
"#,
        );
        let text =
            text.replacen("[workload]\n", "[workload]\nsurges = [{ at = \"12m\", for = \"30s\", factor = 3 }]\n", 1);
        let source = scenarios::Source { origin: "test.toml".into(), text };
        let scenario = scenarios::parse(&source, &scenarios::Overrides::default()).expect("the faults are valid");
        let mut got: Vec<(f64, Option<f64>, String)> =
            fault_markers(&scenario.model).into_iter().map(|m| (m.from, m.to, m.label)).collect();
        got.sort_by(|a, b| a.0.total_cmp(&b.0));
        let want = [
            (60.0, Some(90.0), "slow ×3 web-2"),
            (300.0, None, "crash db-1"),
            (360.0, Some(420.0), "flaky link"),
            (420.0, None, "heal"),
            (480.0, Some(540.0), "partition"),
            (540.0, None, "heal all"),
            (600.0, None, "restart db-1"),
            (660.0, Some(720.0), "surge ×2 clients"),
            (720.0, Some(750.0), "surge ×3 clients"),
        ];
        let want: Vec<(f64, Option<f64>, String)> = want.iter().map(|&(a, b, l)| (a, b, l.to_string())).collect();
        assert_eq!(got, want);
    }
}
