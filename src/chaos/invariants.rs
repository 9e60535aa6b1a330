//! What must hold after every chaos run, whatever the faults.

use sim_core::Report;

/// An invariant that failed, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
}

/// Bounds the checks allow.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// AP data must agree again within this long of the last heal, in milliseconds.
    pub converge_ms: f64,
    /// Settling time after the last fault before liveness is judged, in seconds.
    pub settle_s: f64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { converge_ms: 60_000.0, settle_s: 30.0 }
    }
}

/// Checks a run's report: conservation, CP guarantees, AP convergence, and liveness
/// against the fault-free `baseline` after `last_fault_end_s`.
pub fn check(report: &Report, baseline: &Report, last_fault_end_s: f64, bounds: &Bounds) -> Option<Violation> {
    let fail = |invariant, detail: String| Some(Violation { invariant, detail });
    for (name, c) in &report.classes {
        let q = &c.requests;
        if q.generated != q.completed + q.failed + q.in_flight {
            return fail(
                "conservation",
                format!(
                    "class {name}: generated {} != completed {} + failed {} + in flight {}",
                    q.generated, q.completed, q.failed, q.in_flight
                ),
            );
        }
    }
    for (data, c) in &report.consistency {
        let v = &c.verdict;
        let cp = c.mode.starts_with("CP") || c.mode.ends_with("synchronous");
        if cp && (v.stale_reads > 0 || v.lost_writes > 0 || v.duplicates > 0) {
            let example = v.examples.first().map_or(String::new(), |e| format!("; e.g. key {}: {}", e.key, e.detail));
            return fail(
                "cp_guarantees",
                format!(
                    "{data} ({}): {} stale reads, {} lost writes, {} duplicates{example}",
                    c.mode, v.stale_reads, v.lost_writes, v.duplicates
                ),
            );
        }
        if c.mode.starts_with("AP") && c.divergent_keys.is_some_and(|k| k > 0) {
            match c.convergence_ms {
                Some(ms) if ms <= bounds.converge_ms => {}
                Some(ms) => return fail("ap_convergence", format!("{data}: agreed {ms:.0} ms after the heal")),
                None => return fail("ap_convergence", format!("{data}: replicas still disagreed at the end")),
            }
        }
    }
    liveness(report, baseline, last_fault_end_s + bounds.settle_s)
}

/// After `from_s`, throughput within 70% of the fault-free run's and p99 within twice its
/// (plus 50 ms), over the same stretch of simulated time.
fn liveness(report: &Report, baseline: &Report, from_s: f64) -> Option<Violation> {
    let window = |r: &Report| {
        let points: Vec<_> = r.series.iter().filter(|p| p.t_s >= from_s).collect();
        let completed: u64 = points.iter().map(|p| p.completed).sum();
        let p99s: Vec<f64> = points.iter().filter_map(|p| p.latency_p99_ms).collect();
        let p99 = if p99s.is_empty() { 0.0 } else { p99s.iter().sum::<f64>() / p99s.len() as f64 };
        (points.len(), completed as f64, p99)
    };
    let ((n, done, p99), (_, base_done, base_p99)) = (window(report), window(baseline));
    if n == 0 || base_done == 0.0 {
        return None;
    }
    if done < 0.7 * base_done {
        return Some(Violation {
            invariant: "liveness",
            detail: format!("after {from_s:.0} s: {done} completions against {base_done} without faults"),
        });
    }
    if p99 > 2.0 * base_p99 + 50.0 {
        return Some(Violation {
            invariant: "liveness",
            detail: format!("after {from_s:.0} s: p99 {p99:.1} ms against {base_p99:.1} ms without faults"),
        });
    }
    None
}
