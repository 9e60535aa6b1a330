//! Latency statistics of one request class: an HDR histogram for percentiles, an exact
//! sum for the mean (the histogram's bucketed mean would be off by up to 0.1%), the exact
//! maximum, and batch means for the mean's confidence interval.

use super::batch_means::BatchMeans;
use crate::kernel::time::SimDuration;
use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency the histogram resolves: one hour. Larger values are clamped into the
/// top bucket for percentiles; `max` and `mean` stay exact.
const HISTOGRAM_MAX_NS: u64 = 3_600_000_000_000;

#[derive(Clone)]
pub struct LatencyStats {
    histogram: Histogram<u64>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
    batches: BatchMeans,
}

impl Default for LatencyStats {
    fn default() -> Self {
        LatencyStats {
            histogram: Histogram::new_with_bounds(1, HISTOGRAM_MAX_NS, 3).expect("static histogram bounds are valid"),
            count: 0,
            sum_ns: 0,
            max_ns: 0,
            batches: BatchMeans::default(),
        }
    }
}

/// Latency summary in milliseconds, as it appears in reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub mean: f64,
    /// Half-width of the 95% confidence interval of `mean` (batch means); null when there
    /// were too few observations.
    pub mean_ci95: Option<f64>,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl LatencyStats {
    #[inline]
    pub fn record(&mut self, latency: SimDuration) {
        let ns = latency.as_nanos();
        self.histogram.saturating_record(ns);
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
        self.batches.add(ns as f64);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.sum_ns as f64 / self.count as f64 }
    }

    /// Adds another class's observations, for the all-classes summary. The confidence
    /// interval is not mergeable and is taken from `self`'s batches only when `other` is empty.
    pub fn merge(&mut self, other: &LatencyStats) {
        self.histogram.add(&other.histogram).expect("histograms share bounds");
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    pub fn summary(&self) -> LatencySummary {
        self.summary_with_ci(self.ci95_ns())
    }

    /// Half-width of the 95% confidence interval of the mean, in ns.
    pub fn ci95_ns(&self) -> Option<f64> {
        self.batches.ci95_half_width()
    }

    pub fn summary_with_ci(&self, ci95_ns: Option<f64>) -> LatencySummary {
        if self.count == 0 {
            return LatencySummary::default();
        }
        let q = |p: f64| self.histogram.value_at_quantile(p) as f64 / 1e6;
        LatencySummary {
            mean: self.mean_ns() / 1e6,
            mean_ci95: ci95_ns.map(|c| c / 1e6),
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: self.max_ns as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_exact_mean() {
        let mut s = LatencyStats::default();
        for ms in 1..=1000u64 {
            s.record(SimDuration::from_millis(ms));
        }
        let sum = s.summary();
        assert_eq!(sum.mean, 500.5);
        assert!((sum.p50 - 500.0).abs() <= 0.5, "{}", sum.p50);
        assert!((sum.p99 - 990.0).abs() <= 1.0, "{}", sum.p99);
        assert_eq!(sum.max, 1000.0);
        assert!(sum.mean_ci95.is_some());
    }

    #[test]
    fn latencies_beyond_the_histogram_keep_an_exact_max() {
        let mut s = LatencyStats::default();
        s.record(SimDuration::from_secs(7200));
        assert_eq!(s.summary().max, 7_200_000.0);
        assert_eq!(s.summary().mean, 7_200_000.0);
    }
}
