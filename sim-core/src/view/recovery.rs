//! The recovery figure: how long after its last fault or surge ends a run is healthy again,
//! judged second by second against its own baseline before the first trigger.
//!
//! Definition. The triggers are the model's faults (every scheduled fault action, the
//! end of a slowdown or a heal included: its last one is when the trouble stops being
//! made) and its populations' surges (from `at` to `at + lasting`). The baseline is every
//! whole series bucket (a simulated second) inside the window and before the first trigger
//! starts: its failure share `f0` (failed / answered over those seconds) and `p0`, the
//! median of their p99 latencies. A second is healthy when its failure share is at most
//! max(1%, 2 f0) and its p99 at most 2 p0 + 10 ms (a second with no answer is healthy only
//! if nothing was issued in it either). The run recovered at the start of its last
//! stretch of healthy seconds, if that stretch reaches the run's end: `recovered_after_s`
//! is that start minus the last trigger's end (0 if the stretch began earlier), and
//! `never` (null) when the run's last second is degraded. No figure without a trigger or a
//! baseline second.

use crate::model::{ComponentModel, Model};
use crate::report::Recovery;
use crate::world::metrics::SeriesPoint;

/// The share of failures a healthy second may have at least (1%).
const FAILURE_FLOOR: f64 = 0.01;
/// The p99 slack a healthy second has over twice the baseline's (10 ms).
const P99_SLACK_MS: f64 = 10.0;

/// (first trigger's start, last trigger's end), in simulated seconds, if any.
pub fn triggers(model: &Model) -> Option<(f64, f64)> {
    let faults = model.faults.iter().map(|f| {
        let at = f.at.as_secs_f64();
        (at, at)
    });
    let surges = model.components.iter().flat_map(|c| match &c.model {
        ComponentModel::Clients(s) => s.surges.as_slice(),
        _ => &[],
    });
    let surges = surges.map(|s| (s.at.as_secs_f64(), (s.at + s.lasting).as_secs_f64()));
    faults.chain(surges).fold(None, |acc, (a, b)| match acc {
        None => Some((a, b)),
        Some((s, e)) => Some((f64::min(s, a), f64::max(e, b))),
    })
}

/// The recovery figure of a series with buckets of `bucket_s` seconds whose percentiles
/// were collected, its window starting at `warmup_s`, for triggers `(start_s, end_s)`.
pub fn recovery(
    points: &[SeriesPoint],
    bucket_s: f64,
    warmup_s: f64,
    (start_s, end_s): (f64, f64),
) -> Option<Recovery> {
    let answered = |p: &SeriesPoint| p.completed + p.failed;
    let base: Vec<&SeriesPoint> =
        points.iter().filter(|p| p.t_s >= warmup_s && p.t_s + bucket_s <= start_s && answered(p) > 0).collect();
    if base.is_empty() {
        return None;
    }
    let failed: u64 = base.iter().map(|p| p.failed).sum();
    let error_share = failed as f64 / base.iter().map(|p| answered(p)).sum::<u64>() as f64;
    let mut p99s: Vec<f64> = base.iter().filter_map(|p| p.latency_p99_ms).collect();
    p99s.sort_by(f64::total_cmp);
    let p99_ms = p99s.get(p99s.len() / 2).copied().unwrap_or(0.0);
    let (max_share, max_p99) = (FAILURE_FLOOR.max(2.0 * error_share), 2.0 * p99_ms + P99_SLACK_MS);
    let healthy = |p: &SeriesPoint| {
        let n = answered(p);
        if n == 0 {
            return p.generated == 0;
        }
        p.failed as f64 / n as f64 <= max_share && p.latency_p99_ms.is_none_or(|l| l <= max_p99)
    };
    let stretch = points.iter().rev().take_while(|p| healthy(p)).count();
    let degraded_s = points.iter().filter(|p| p.t_s + bucket_s > end_s && !healthy(p)).count() as f64 * bucket_s;
    let recovered_after_s = (stretch > 0).then(|| {
        let start = points[points.len() - stretch].t_s;
        (start - end_s).max(0.0)
    });
    Some(Recovery {
        trigger_end_s: end_s,
        baseline_error_share: error_share,
        baseline_p99_ms: p99_ms,
        recovered_after_s,
        degraded_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One second: (issued, completed, failed, p99 ms).
    fn second(t: u32, (generated, completed, failed, p99): (u64, u64, u64, f64)) -> SeriesPoint {
        SeriesPoint {
            t_s: f64::from(t),
            generated,
            completed,
            failed,
            latency_p99_ms: (completed > 0).then_some(p99),
            ..SeriesPoint::default()
        }
    }

    fn series(shape: &[(u64, u64, u64, f64)]) -> Vec<SeriesPoint> {
        shape.iter().enumerate().map(|(t, s)| second(t as u32, *s)).collect()
    }

    const OK: (u64, u64, u64, f64) = (100, 100, 0, 20.0);
    const BAD: (u64, u64, u64, f64) = (100, 50, 50, 900.0);

    #[test]
    fn recovered_at_the_start_of_the_last_healthy_stretch() {
        // Baseline 0-4 s, a fault from 5 s to 7 s, degraded until 10 s.
        let mut shape = vec![OK; 5];
        shape.extend([BAD; 5]);
        shape.extend([OK; 10]);
        let r = recovery(&series(&shape), 1.0, 0.0, (5.0, 7.0)).expect("a baseline");
        assert_eq!(r.recovered_after_s, Some(3.0), "healthy from 10 s, 3 s after the trigger ended");
        assert_eq!(r.baseline_p99_ms, 20.0);
        assert_eq!(r.baseline_error_share, 0.0);
        assert_eq!(r.degraded_s, 3.0, "7, 8 and 9 s");
    }

    #[test]
    fn degraded_at_the_end_is_never() {
        let mut shape = vec![OK; 5];
        shape.extend([BAD; 5]);
        shape.extend([OK; 3]);
        shape.push(BAD);
        let r = recovery(&series(&shape), 1.0, 0.0, (5.0, 6.0)).unwrap();
        assert_eq!(r.recovered_after_s, None);
    }

    #[test]
    fn the_bounds_are_twice_the_baseline_with_floors() {
        // 2% failures and p99 49 ms are healthy against a 1% / 20 ms baseline (2% and
        // 50 ms); 3% or 51 ms are not.
        let base = (100, 99, 1, 20.0);
        let mut shape = vec![base; 4];
        shape.extend([(100, 98, 2, 49.0), (100, 98, 2, 49.0)]);
        let r = recovery(&series(&shape), 1.0, 0.0, (4.0, 4.0)).unwrap();
        assert_eq!(r.recovered_after_s, Some(0.0), "{r:?}");
        for worse in [(100, 97, 3, 20.0), (100, 100, 0, 51.0)] {
            let mut shape = vec![base; 4];
            shape.push(worse);
            assert_eq!(recovery(&series(&shape), 1.0, 0.0, (4.0, 4.0)).unwrap().recovered_after_s, None, "{worse:?}");
        }
    }

    #[test]
    fn a_silent_second_is_healthy_only_if_nothing_was_asked() {
        let mut shape = vec![OK; 4];
        shape.push((0, 0, 0, 0.0));
        assert_eq!(recovery(&series(&shape), 1.0, 0.0, (4.0, 4.0)).unwrap().recovered_after_s, Some(0.0));
        shape.push((100, 0, 0, 0.0));
        assert_eq!(recovery(&series(&shape), 1.0, 0.0, (4.0, 4.0)).unwrap().recovered_after_s, None, "all stuck");
    }

    #[test]
    fn no_figure_without_a_baseline_second() {
        let shape = vec![OK; 10];
        assert!(recovery(&series(&shape), 1.0, 5.0, (3.0, 4.0)).is_none(), "the trigger starts inside the warm-up");
    }
}
