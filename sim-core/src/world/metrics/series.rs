//! Per-interval time series over simulated time (one bucket a simulated second unless the
//! run is so long that the bucket count would pass `MAX_BUCKETS`), for charts.
//!
//! Per-bucket percentiles are opt-in (`with_percentiles`): they cost about a tenth of the
//! engine's time at low rates, and only charts read them. They come from the bucket's
//! latencies by selection. At high rates the
//! sample is thinned deterministically (every k-th value, k doubling whenever
//! `MAX_SAMPLES` is reached), so memory stays bounded and no random draw is spent.

use crate::kernel::time::{NANOS_PER_SEC, SimDuration, SimTime};
use serde::Serialize;

/// Upper bound on the number of buckets kept, whatever the run length.
pub const MAX_BUCKETS: u64 = 100_000;

/// Latencies kept per bucket for its percentiles.
const MAX_SAMPLES: usize = 16_384;

/// One bucket of the series.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// Bucket start, in simulated seconds.
    pub t_s: f64,
    pub generated: u64,
    pub completed: u64,
    pub failed: u64,
    /// Of the failed, answered 429 by a rate limiter (left out of error rates).
    #[serde(skip_serializing_if = "is_zero")]
    pub limited: u64,
    pub latency_mean_ms: f64,
    /// Null unless percentiles were collected.
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    /// Requests issued and not yet answered at the bucket's end: a partition shows here
    /// while it lasts, before its timeouts fire.
    pub in_flight: u64,
    /// Calls still worked on or on the wire at the bucket's end whose caller had already
    /// given up on them (timed out): work past its timeout budget.
    pub abandoned: u64,
    /// WebSocket connection attempts in the bucket (kept apart from requests).
    pub connects: u64,
}

#[derive(Clone)]
pub struct Series {
    bucket_ns: u64,
    current: u64,
    /// Start of the next bucket, so the hot path compares instead of dividing.
    next_start_ns: u64,
    sum_ns: u128,
    percentiles: bool,
    samples: Vec<u64>,
    /// Keep one latency in `stride` (a power of two).
    stride: u64,
    point: SeriesPoint,
    points: Vec<SeriesPoint>,
    /// Requests in flight now.
    live: u64,
    /// Abandoned calls alive now (kept by the engine).
    pub abandoned: u64,
}

impl Series {
    pub fn new(duration: SimDuration) -> Series {
        let buckets_at_1s = duration.as_nanos().div_ceil(NANOS_PER_SEC).max(1);
        let scale = buckets_at_1s.div_ceil(MAX_BUCKETS);
        Series {
            bucket_ns: NANOS_PER_SEC * scale,
            current: 0,
            next_start_ns: NANOS_PER_SEC * scale,
            sum_ns: 0,
            percentiles: false,
            samples: Vec::new(),
            stride: 1,
            point: SeriesPoint::default(),
            points: Vec::new(),
            live: 0,
            abandoned: 0,
        }
    }

    /// Also computes each bucket's p50, p95 and p99 latency.
    pub fn with_percentiles(&mut self) {
        self.percentiles = true;
    }

    /// Width of one bucket.
    pub fn bucket(&self) -> SimDuration {
        SimDuration(self.bucket_ns)
    }

    #[inline]
    fn advance(&mut self, now: SimTime) {
        while now.0 >= self.next_start_ns {
            self.close_bucket();
        }
    }

    fn close_bucket(&mut self) {
        let mut p = std::mem::take(&mut self.point);
        p.in_flight = self.live;
        p.abandoned = self.abandoned;
        p.t_s = (self.current * self.bucket_ns) as f64 / NANOS_PER_SEC as f64;
        if p.completed > 0 {
            p.latency_mean_ms = self.sum_ns as f64 / p.completed as f64 / 1e6;
            if self.percentiles {
                p.latency_p50_ms = Some(quantile(&mut self.samples, 0.5) as f64 / 1e6);
                p.latency_p95_ms = Some(quantile(&mut self.samples, 0.95) as f64 / 1e6);
                p.latency_p99_ms = Some(quantile(&mut self.samples, 0.99) as f64 / 1e6);
            }
        }
        self.samples.clear();
        self.stride = 1;
        self.sum_ns = 0;
        self.points.push(p);
        self.current += 1;
        self.next_start_ns = self.next_start_ns.saturating_add(self.bucket_ns);
    }

    #[inline]
    pub fn on_generated(&mut self, now: SimTime) {
        self.advance(now);
        self.point.generated += 1;
        self.live += 1;
    }

    #[inline]
    pub fn on_completed(&mut self, now: SimTime, latency: SimDuration) {
        self.advance(now);
        self.point.completed += 1;
        self.live -= 1;
        self.sum_ns += u128::from(latency.0);
        if self.percentiles && self.point.completed.is_multiple_of(self.stride) {
            if self.samples.len() == MAX_SAMPLES {
                let mut i = 0;
                self.samples.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
            }
            self.samples.push(latency.0);
        }
    }

    /// A connection attempt (a class that opens connections) was made.
    pub fn on_connect(&mut self, now: SimTime) {
        self.advance(now);
        self.point.connects += 1;
    }

    #[inline]
    pub fn on_failed(&mut self, now: SimTime) {
        self.advance(now);
        self.point.failed += 1;
        self.live -= 1;
    }

    /// A failure that was a 429 (`Outcome::Limited`).
    pub fn on_limited(&mut self, now: SimTime) {
        self.on_failed(now);
        self.point.limited += 1;
    }

    /// The closed buckets up to `end` (a partly filled last bucket is included).
    pub fn points(&self, end: SimTime) -> Vec<SeriesPoint> {
        let mut copy = Series {
            bucket_ns: self.bucket_ns,
            current: self.current,
            next_start_ns: self.next_start_ns,
            sum_ns: self.sum_ns,
            percentiles: self.percentiles,
            samples: self.samples.clone(),
            stride: self.stride,
            point: self.point.clone(),
            points: Vec::new(),
            live: self.live,
            abandoned: self.abandoned,
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

/// The nearest-rank `q`-quantile of `values` (reordered in place); 0 if empty.
fn quantile(values: &mut [u64], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
    *values.select_nth_unstable(rank).1
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn quantiles_by_nearest_rank_and_bounded_sampling() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(super::quantile(&mut v, 0.5), 50);
        assert_eq!(super::quantile(&mut v, 0.99), 99);
        let mut s = Series::new(SimDuration::from_secs(1));
        s.with_percentiles();
        for i in 0..100_000u64 {
            // Every completion is of a request generated before it (the in-flight count).
            s.on_generated(SimTime(i));
            s.on_completed(SimTime(i), SimDuration(i % 1000));
        }
        assert!(s.samples.len() <= MAX_SAMPLES);
        let p = s.points(SimTime(NANOS_PER_SEC));
        let (p50, p99) = (p[0].latency_p50_ms.unwrap() * 1e6, p[0].latency_p99_ms.unwrap() * 1e6);
        assert!((p50 - 500.0).abs() < 20.0, "{p50}");
        assert!((p99 - 990.0).abs() < 20.0, "{p99}");
    }

    use super::*;

    #[test]
    fn buckets_count_per_second_and_fill_gaps() {
        let mut s = Series::new(SimDuration::from_secs(4));
        s.with_percentiles();
        s.on_generated(SimTime(100));
        s.on_generated(SimTime(150));
        s.on_completed(SimTime(200), SimDuration::from_millis(10));
        s.on_failed(SimTime(2_500_000_000));
        let p = s.points(SimTime(4 * NANOS_PER_SEC));
        assert_eq!(p.len(), 4);
        assert_eq!((p[0].generated, p[0].completed, p[0].failed), (2, 1, 0));
        assert_eq!((p[0].in_flight, p[1].in_flight, p[2].in_flight), (1, 1, 0), "in flight at each bucket's end");
        assert_eq!(p[0].latency_mean_ms, 10.0);
        assert_eq!((p[1].completed, p[2].failed, p[3].failed), (0, 1, 0));
        assert_eq!(p[3].t_s, 3.0);
        assert_eq!(p[0].latency_p99_ms, Some(10.0));
        assert_eq!(p[1].latency_p99_ms, None, "no completions, no percentile");
    }

    #[test]
    fn very_long_runs_widen_the_bucket() {
        let s = Series::new(SimDuration::from_secs(2_000_000));
        assert_eq!(s.bucket(), SimDuration::from_secs(20));
    }
}
