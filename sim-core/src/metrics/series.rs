//! Per-interval time series over simulated time (one bucket a simulated second unless the
//! run is so long that the bucket count would pass `MAX_BUCKETS`), for charts.

use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};
use hdrhistogram::Histogram;
use serde::Serialize;

/// Upper bound on the number of buckets kept, whatever the run length.
pub const MAX_BUCKETS: u64 = 100_000;

/// One bucket of the series.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// Bucket start, in simulated seconds.
    pub t_s: f64,
    pub generated: u64,
    pub completed: u64,
    pub failed: u64,
    pub latency_mean_ms: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
}

pub struct Series {
    bucket_ns: u64,
    current: u64,
    sum_ns: u128,
    histogram: Histogram<u32>,
    point: SeriesPoint,
    points: Vec<SeriesPoint>,
}

impl Series {
    pub fn new(duration: SimDuration) -> Series {
        let buckets_at_1s = duration.as_nanos().div_ceil(NANOS_PER_SEC).max(1);
        let scale = buckets_at_1s.div_ceil(MAX_BUCKETS);
        Series {
            bucket_ns: NANOS_PER_SEC * scale,
            current: 0,
            sum_ns: 0,
            // Two significant digits (1% resolution) keep the per-bucket reset cheap.
            histogram: Histogram::new_with_bounds(1, 3_600_000_000_000, 2).expect("static bounds"),
            point: SeriesPoint::default(),
            points: Vec::new(),
        }
    }

    /// Width of one bucket.
    pub fn bucket(&self) -> SimDuration {
        SimDuration(self.bucket_ns)
    }

    #[inline]
    fn advance(&mut self, now: SimTime) {
        let b = now.0 / self.bucket_ns;
        while self.current < b {
            self.close_bucket();
        }
    }

    fn close_bucket(&mut self) {
        let mut p = std::mem::take(&mut self.point);
        p.t_s = (self.current * self.bucket_ns) as f64 / NANOS_PER_SEC as f64;
        if p.completed > 0 {
            p.latency_mean_ms = self.sum_ns as f64 / p.completed as f64 / 1e6;
            p.latency_p50_ms = self.histogram.value_at_quantile(0.5) as f64 / 1e6;
            p.latency_p99_ms = self.histogram.value_at_quantile(0.99) as f64 / 1e6;
            self.histogram.reset();
        }
        self.sum_ns = 0;
        self.points.push(p);
        self.current += 1;
    }

    #[inline]
    pub fn on_generated(&mut self, now: SimTime) {
        self.advance(now);
        self.point.generated += 1;
    }

    #[inline]
    pub fn on_completed(&mut self, now: SimTime, latency: SimDuration) {
        self.advance(now);
        self.point.completed += 1;
        self.sum_ns += u128::from(latency.0);
        self.histogram.saturating_record(latency.0);
    }

    #[inline]
    pub fn on_failed(&mut self, now: SimTime) {
        self.advance(now);
        self.point.failed += 1;
    }

    /// The closed buckets up to `end` (a partly filled last bucket is included).
    pub fn points(&self, end: SimTime) -> Vec<SeriesPoint> {
        let mut copy = Series {
            bucket_ns: self.bucket_ns,
            current: self.current,
            sum_ns: self.sum_ns,
            histogram: self.histogram.clone(),
            point: self.point.clone(),
            points: Vec::new(),
        };
        let last = end.0.saturating_sub(1) / self.bucket_ns;
        while copy.current <= last {
            copy.close_bucket();
        }
        let mut all = self.points.clone();
        all.extend(copy.points);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_count_per_second_and_fill_gaps() {
        let mut s = Series::new(SimDuration::from_secs(4));
        s.on_generated(SimTime(100));
        s.on_completed(SimTime(200), SimDuration::from_millis(10));
        s.on_failed(SimTime(2_500_000_000));
        let p = s.points(SimTime(4 * NANOS_PER_SEC));
        assert_eq!(p.len(), 4);
        assert_eq!((p[0].generated, p[0].completed, p[0].failed), (1, 1, 0));
        assert_eq!(p[0].latency_mean_ms, 10.0);
        assert_eq!((p[1].completed, p[2].failed, p[3].failed), (0, 1, 0));
        assert_eq!(p[3].t_s, 3.0);
    }

    #[test]
    fn very_long_runs_widen_the_bucket() {
        let s = Series::new(SimDuration::from_secs(2_000_000));
        assert_eq!(s.bucket(), SimDuration::from_secs(20));
    }
}
