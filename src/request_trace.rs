//! `run --trace-requests N`: the sampled requests' spans as Chrome trace-event JSON, which
//! ui.perfetto.dev and chrome://tracing open. One process a request (named `#ID CLASS`),
//! each span a complete event (`"ph":"X"`, microseconds as floats, so nanoseconds are
//! kept) on a lane (`tid`) where events only nest or follow one another: viewers nest by
//! time containment, so parallel calls get lanes of their own.

use anyhow::Context;
use serde_json::{Value, json};
use sim_core::Simulation;
use sim_core::world::metrics::spans::{RequestTrace, Span};
use std::path::PathBuf;

/// `SCENARIO-requests.trace.json` in the current directory.
pub fn default_path(scenario: &str) -> PathBuf {
    PathBuf::from(format!("{scenario}-requests.trace.json"))
}

/// The output file, created before the run.
pub struct Out {
    path: PathBuf,
    file: std::fs::File,
    asked: usize,
}

impl Out {
    pub fn create(path: PathBuf, asked: usize) -> anyhow::Result<Out> {
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot create the --trace-requests file `{}`", path.display()))?;
        Ok(Out { path, file, asked })
    }

    /// Writes the completed sampled requests, by request number, and says where.
    pub fn write(self, sim: &Simulation, scenario: &str, seed: u64) -> anyhow::Result<()> {
        let mut traces: Vec<&RequestTrace> = sim.traces().iter().collect();
        traces.sort_by_key(|t| t.id);
        let mut events = Vec::new();
        for (i, t) in traces.iter().enumerate() {
            trace_events(t, i + 1, &mut events);
        }
        let spans: usize = traces.iter().map(|t| t.spans.len()).sum();
        let doc = json!({
            "traceEvents": events,
            "displayTimeUnit": "ms",
            "metadata": {
                "scenario": scenario,
                "seed": seed,
                "trace_hash": sim.trace_hash(),
                "requests": traces.len(),
                "sampled_from_ns": sim.model().warmup.as_nanos(),
            },
        });
        let text = serde_json::to_string(&doc)?;
        std::io::Write::write_all(&mut &self.file, text.as_bytes())
            .with_context(|| format!("cannot write the --trace-requests file `{}`", self.path.display()))?;
        let short = if traces.len() < self.asked {
            format!(" ({} of the {} traced were still in flight at the end)", self.asked - traces.len(), self.asked)
        } else {
            String::new()
        };
        eprintln!(
            "wrote {} requests ({spans} spans){short} to {}; open it in https://ui.perfetto.dev",
            traces.len(),
            self.path.display()
        );
        Ok(())
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1e3
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// One request's events: its process name, then its spans on their lanes.
fn trace_events(t: &RequestTrace, pid: usize, out: &mut Vec<Value>) {
    let outcome = t.outcome.as_deref().unwrap_or("pending");
    out.push(
        json!({"name": "process_name", "ph": "M", "pid": pid, "args": {"name": format!("#{} {}", t.id, t.class)}}),
    );
    out.push(json!({"name": "process_sort_index", "ph": "M", "pid": pid, "args": {"sort_index": pid}}));
    let lanes = lanes(&t.spans);
    for (s, lane) in t.spans.iter().zip(&lanes) {
        let end = s.end.map_or(s.start.0, |e| e.0);
        out.push(json!({
            "name": s.what,
            "cat": s.service,
            "ph": "X",
            "ts": us(s.start.0),
            "dur": us(end - s.start.0),
            "pid": pid,
            "tid": lane,
            "args": {
                "request": t.id,
                "request_outcome": outcome,
                "span_id": s.id,
                "parent_id": s.parent,
                "service": s.service,
                "instance": s.instance,
                "start_ns": s.start.0,
                "end_ns": end,
                "network_ms": ms(s.network_ns),
                "queue_ms": ms(s.queue_ns),
                "service_ms": ms(s.service_ns),
                "calls_ms": ms(s.calls_ns),
                "outcome": s.outcome,
            },
        }));
    }
    let used = lanes.iter().max().map_or(0, |m| m + 1);
    for lane in 0..used {
        let name = if lane == 0 { "calls".to_string() } else { format!("parallel calls {lane}") };
        out.push(json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": lane, "args": {"name": name}}));
    }
}

/// A lane per span such that two spans on one lane either nest or do not overlap. Spans
/// come parents first; each takes its parent's lane when it fits there, else the first
/// lane where it fits.
fn lanes(spans: &[Span]) -> Vec<usize> {
    let interval = |s: &Span| (s.start.0, s.end.map_or(s.start.0, |e| e.0));
    let mut placed: Vec<Vec<(u64, u64)>> = Vec::new();
    let mut lane_of = Vec::with_capacity(spans.len());
    for s in spans {
        let (a, b) = interval(s);
        let fits = |lane: &Vec<(u64, u64)>| lane.iter().all(|&(c, d)| d <= a || b <= c || (c <= a && b <= d));
        let preferred = s.parent.map_or(0, |p| lane_of[p as usize]);
        let lane = if placed.get(preferred).is_none_or(fits) {
            preferred
        } else {
            (0..placed.len()).find(|&l| fits(&placed[l])).unwrap_or(placed.len())
        };
        if lane == placed.len() {
            placed.push(Vec::new());
        }
        placed[lane].push((a, b));
        lane_of.push(lane);
    }
    lane_of
}
