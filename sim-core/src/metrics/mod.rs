//! Run-wide request metrics: counters over the whole run, latency over the measurement
//! window (after warm-up), and a time series for charts.

mod batch_means;
mod latency;
mod series;
mod time_weighted;

pub use batch_means::BatchMeans;
pub use latency::{LatencyStats, LatencySummary};
pub use series::{MAX_BUCKETS, Series, SeriesPoint};
pub use time_weighted::TimeWeighted;

use crate::ids::ClassId;
use crate::request::Outcome;
use crate::time::{SimDuration, SimTime};

/// Counters and latency of one request class.
#[derive(Clone, Default)]
pub struct ClassMetrics {
    /// Requests issued over the whole run.
    pub generated: u64,
    /// Requests that completed successfully, over the whole run.
    pub completed: u64,
    /// Requests that failed, over the whole run, by reason (index = `Outcome::FAILURES`).
    pub failed_by_reason: [u64; Outcome::FAILURES.len()],
    /// Successful completions inside the measurement window.
    pub window_completed: u64,
    /// Failures inside the measurement window.
    pub window_failed: u64,
    /// Latency of successful requests that completed inside the window.
    pub latency: LatencyStats,
}

impl ClassMetrics {
    pub fn failed(&self) -> u64 {
        self.failed_by_reason.iter().sum()
    }
}

pub struct Metrics {
    warmup_end: SimTime,
    pub classes: Vec<ClassMetrics>,
    /// Batch means over all classes' window latencies, for the overall mean's interval
    /// (kept only with several classes: with one, the class's own batches serve).
    overall_batches: BatchMeans,
    classes_len: usize,
    pub series: Series,
}

impl Metrics {
    pub fn new(class_count: usize, warmup: SimDuration, duration: SimDuration) -> Metrics {
        Metrics {
            warmup_end: SimTime::ZERO + warmup,
            classes: vec![ClassMetrics::default(); class_count],
            overall_batches: BatchMeans::default(),
            classes_len: class_count,
            series: Series::new(duration),
        }
    }

    pub fn warmup_end(&self) -> SimTime {
        self.warmup_end
    }

    /// Half-width of the 95% confidence interval of the overall mean latency, in ns.
    pub fn overall_ci95_ns(&self) -> Option<f64> {
        if self.classes_len == 1 {
            return self.classes[0].latency.ci95_ns();
        }
        self.overall_batches.ci95_half_width()
    }

    #[inline]
    pub fn on_generated(&mut self, now: SimTime, class: ClassId) {
        self.classes[class.index()].generated += 1;
        self.series.on_generated(now);
    }

    /// Records the end of a request issued at `created`.
    #[inline]
    pub fn on_finished(&mut self, now: SimTime, class: ClassId, created: SimTime, outcome: Outcome) {
        let in_window = now >= self.warmup_end;
        let c = &mut self.classes[class.index()];
        match outcome {
            Outcome::Ok => {
                let latency = now - created;
                c.completed += 1;
                if in_window {
                    c.window_completed += 1;
                    c.latency.record(latency);
                    if self.classes_len > 1 {
                        self.overall_batches.add(latency.as_nanos() as f64);
                    }
                }
                self.series.on_completed(now, latency);
            }
            Outcome::Pending => unreachable!("a finished request has an outcome"),
            failure => {
                let i = Outcome::FAILURES.iter().position(|f| *f == failure).expect("listed failure");
                c.failed_by_reason[i] += 1;
                if in_window {
                    c.window_failed += 1;
                }
                self.series.on_failed(now);
            }
        }
    }
}
