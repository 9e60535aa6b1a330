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
    /// A backlog left after the settling time must drain within this long, in seconds.
    pub drain_s: f64,
    /// When set, the run must be healthy again within this long of its last fault, in
    /// seconds (`[chaos] recover_within`): the `recovers` invariant, on the report's
    /// recovery figure.
    pub recover_s: Option<f64>,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { converge_ms: 60_000.0, settle_s: 30.0, drain_s: 1_800.0, recover_s: None }
    }
}

/// Checks a run's report: conservation, CP guarantees, AP convergence, recovery within
/// its bound (when set) and liveness against the fault-free `baseline` after
/// `last_fault_end_s`. Recovery comes before liveness: it is the sharper verdict on the
/// same symptom (a run that stays degraded), so a run that fails both is named by it.
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
    if let Some(within_s) = bounds.recover_s
        && let Some(v) = recovers(report, within_s)
    {
        return Some(v);
    }
    liveness(report, baseline, last_fault_end_s + bounds.settle_s, bounds.settle_s, bounds.drain_s)
}

/// The run is healthy again, for good, within `within_s` of its last fault or surge (the
/// report's recovery figure, which the run must have tracked). A run with no figure (no
/// trigger, or no healthy baseline second before the first) has nothing to judge.
fn recovers(report: &Report, within_s: f64) -> Option<Violation> {
    let r = report.recovery.as_ref()?;
    let detail = match r.recovered_after_s {
        Some(after) if after <= within_s => return None,
        Some(after) => format!(
            "healthy again only {after:.0} s after the last fault ended at {:.0} s, {:.0} s of them degraded \
             (recover_within {within_s:.0} s)",
            r.trigger_end_s, r.degraded_s
        ),
        None => format!(
            "still degraded at the end: {:.0} s degraded after the last fault ended at {:.0} s \
             (recover_within {within_s:.0} s)",
            r.degraded_s, r.trigger_end_s
        ),
    };
    Some(Violation { invariant: "recovers", detail })
}

/// After `from_s`: completions within 70% of the fault-free run's over the same stretch
/// of simulated time, and no backlog the faults left growing or draining too slowly. The
/// backlog is the requests in flight beyond the fault-free run's: one a surge leaves
/// behind a queue with no timeout must shrink at a pace that clears it within `drain_s`,
/// and p99 (within twice the fault-free run's plus 50 ms) is judged from `settle_s` after
/// it has cleared. A backlog that neither grows nor shrinks is requests stranded for good
/// (lost with no timeout to end them): p99 is judged over the whole stretch. (Judging p99
/// while a deep queue drains at full capacity called a recovering system dead.)
fn liveness(report: &Report, baseline: &Report, from_s: f64, settle_s: f64, drain_s: f64) -> Option<Violation> {
    let fail = |detail: String| Some(Violation { invariant: "liveness", detail });
    let after = |r: &'_ Report| -> Vec<(f64, f64, Option<f64>, u64)> {
        let mut backlog = 0i64;
        let mut points = Vec::new();
        for p in &r.series {
            backlog += p.generated as i64 - p.completed as i64 - p.failed as i64;
            if p.t_s >= from_s {
                points.push((p.t_s, backlog as f64, p.latency_p99_ms, p.completed));
            }
        }
        points
    };
    let (run, base) = (after(report), after(baseline));
    let done: u64 = run.iter().map(|p| p.3).sum();
    let base_done: u64 = base.iter().map(|p| p.3).sum();
    if run.len() != base.len() {
        return fail(format!("the run stopped early, at {} s", report.series.last().map_or(0.0, |p| p.t_s)));
    }
    if run.is_empty() || base_done == 0 {
        return None;
    }
    if (done as f64) < 0.7 * base_done as f64 {
        return fail(format!("after {from_s:.0} s: {done} completions against {base_done} without faults"));
    }
    // What the faults left: the backlog beyond the fault-free run's at the same instant.
    let tolerance = 10.0 + 2.0 * base.iter().map(|p| p.1).fold(0.0, f64::max);
    let excess: Vec<f64> = run.iter().zip(&base).map(|(r, b)| r.1 - b.1).collect();
    // A backlog that grew, at any point, to well past its lowest: the system falls behind.
    let lowest = excess.iter().copied().fold(f64::INFINITY, f64::min);
    let last = excess[excess.len() - 1];
    if last > tolerance && last - lowest > tolerance {
        return fail(format!("after {from_s:.0} s: a backlog grew from {lowest:.0} to {last:.0} requests"));
    }
    let judged_from = match excess.iter().position(|&e| e <= tolerance) {
        // No backlog: judged over the whole stretch.
        Some(0) => from_s,
        Some(cleared) => run[cleared].0 + settle_s,
        None => {
            let first = excess[0];
            let span = (run[run.len() - 1].0 - run[0].0).max(1.0);
            let pace = (first - last) / span;
            if first - last > tolerance {
                let needs = span + last / pace;
                if needs > drain_s {
                    return fail(format!(
                        "after {from_s:.0} s: a backlog of {last:.0} requests would take {needs:.0} s to drain \
                         (drain_within {drain_s:.0} s)"
                    ));
                }
                // Draining in time; the run ends before it has cleared.
                return None;
            }
            from_s
        }
    };
    let p99 = |points: &[(f64, f64, Option<f64>, u64)]| {
        let p99s: Vec<f64> = points.iter().filter(|p| p.0 >= judged_from).filter_map(|p| p.2).collect();
        if p99s.is_empty() { None } else { Some(p99s.iter().sum::<f64>() / p99s.len() as f64) }
    };
    let (Some(p99), Some(base_p99)) = (p99(&run), p99(&base)) else { return None };
    if p99 > 2.0 * base_p99 + 50.0 {
        return fail(format!("after {judged_from:.0} s: p99 {p99:.1} ms against {base_p99:.1} ms without faults"));
    }
    None
}
