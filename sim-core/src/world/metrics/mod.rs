//! Run-wide request metrics: counters over the whole run, latency over the measurement
//! window (after warm-up), a time series for charts, and the consistency oracle that
//! counts stale reads.

pub mod attribution;
mod batch_means;
pub mod event_log;
pub mod failure;
mod latency;
mod series;
pub mod spans;
mod time_weighted;

pub use batch_means::{BatchMeans, ci95_of};
pub use latency::{LatencyStats, LatencySummary};
pub use series::{MAX_BUCKETS, Series, SeriesPoint};
pub use time_weighted::TimeWeighted;

use crate::event::Outcome;
use crate::kernel::ids::{ClassId, ServiceId};
use crate::kernel::keymap::KeyMap;
use crate::kernel::time::SimTime;
use crate::model::Model;

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
    /// Of those, answered 429 by a rate limiter (`Outcome::Limited`).
    pub window_limited: u64,
    /// Latency of successful requests that completed inside the window.
    pub latency: LatencyStats,
    /// Reads that returned a version older than one already acknowledged when they began.
    pub stale_reads: u64,
    /// Reads that returned a version older than the reading user's own last write.
    pub read_your_writes_violations: u64,
    /// Failures over the whole run by (reason index, origin flow node, detail): where
    /// each arose (`failure`).
    pub failures: std::collections::BTreeMap<(u8, u16, u8), u64>,
    /// Time in the system of finished requests inside the window (ns): with the time so far
    /// of those still in flight, the area under the number in the system, whose time
    /// average is Little's L, measured apart from the latency figures.
    pub in_system_ns: u128,
    /// With a retry policy, over the whole run: root calls sent (every attempt), retries
    /// among them, and retries a budget refused (the request failed instead).
    pub attempts: u64,
    pub retries: u64,
    pub retries_refused: u64,
}

impl ClassMetrics {
    pub fn failed(&self) -> u64 {
        self.failed_by_reason.iter().sum()
    }

    /// A failure, by reason and where it arose: off the success path.
    #[cold]
    fn on_failed(&mut self, outcome: Outcome, origin: u16, detail: u8, in_window: bool) {
        let reason = outcome.failure_index();
        self.failed_by_reason[reason] += 1;
        *self.failures.entry((reason as u8, origin, detail)).or_default() += 1;
        if in_window {
            self.window_failed += 1;
            self.window_limited += u64::from(outcome == Outcome::Limited);
        }
    }
}

#[derive(Clone)]
pub struct Metrics {
    warmup_end: SimTime,
    pub classes: Vec<ClassMetrics>,
    /// Batch means over all classes' window latencies, for the overall mean's interval
    /// (kept only with several classes: with one, the class's own batches serve).
    overall_batches: BatchMeans,
    pub series: Series,
    /// The newest acknowledged version of each data key: the oracle stale reads are judged
    /// against. It observes; nothing in the model reads it.
    acked: KeyMap<u64>,
    /// Reads judged stale, per service.
    pub stale_reads_by_service: Vec<u64>,
    /// Operations on checked data, per (keyspace, service), for the consistency checker.
    pub history: std::collections::BTreeMap<(u16, u32), Vec<crate::world::consistency::Op>>,
    /// Where successful requests' time went.
    pub attribution: attribution::Attribution,
    /// Per class: it opens connections (`Model::is_connection_class`), which the series
    /// of requests leaves out.
    connection: Vec<bool>,
    /// Traced requests' spans (off unless asked for).
    pub spans: spans::Tracer,
    /// The last events processed, for the event inspector (off unless asked for).
    pub log: event_log::EventLog,
    /// Per instance, after the warm-up: ns spent serving calls whose callers had already
    /// given up (kept only when some caller retries, hedges or keeps deadlines; empty
    /// otherwise).
    pub wasted_ns: Vec<u64>,
}

impl Metrics {
    pub fn new(model: &Model) -> Metrics {
        Metrics {
            warmup_end: SimTime::ZERO + model.warmup,
            classes: vec![ClassMetrics::default(); model.classes.len()],
            overall_batches: BatchMeans::default(),
            series: Series::new(model.duration),
            acked: KeyMap::new(0),
            stale_reads_by_service: vec![0; model.services.len()],
            history: std::collections::BTreeMap::new(),
            attribution: attribution::Attribution::new(model.classes.iter().map(|c| c.flow.len())),
            connection: (0..model.classes.len()).map(|c| model.is_connection_class(ClassId(c as u16))).collect(),
            spans: spans::Tracer::default(),
            log: event_log::EventLog::default(),
            wasted_ns: if model.uses_retries()
                || model.uses_hedges()
                || model.uses_deadlines()
                || model.uses_hop_retries()
            {
                vec![0; model.components.len()]
            } else {
                Vec::new()
            },
        }
    }

    pub fn warmup_end(&self) -> SimTime {
        self.warmup_end
    }

    /// Half-width of the 95% confidence interval of the overall mean latency, in ns.
    pub fn overall_ci95_ns(&self) -> Option<f64> {
        if self.classes.len() == 1 {
            return self.classes[0].latency.ci95_ns();
        }
        self.overall_batches.ci95_half_width()
    }

    #[inline]
    pub fn on_generated(&mut self, now: SimTime, class: ClassId) {
        let c = &mut self.classes[class.index()];
        c.generated += 1;
        if self.connection[class.index()] {
            self.series.on_connect(now);
        } else {
            self.series.on_generated(now);
        }
    }

    /// Records the end of a root request issued at `created`; a failure's `origin` and
    /// `detail` say where it arose (`failure`).
    #[inline]
    pub fn on_finished(
        &mut self,
        now: SimTime,
        class: ClassId,
        created: SimTime,
        outcome: Outcome,
        origin: u16,
        detail: u8,
    ) {
        let in_window = now >= self.warmup_end;
        let several = self.classes.len() > 1;
        let series = !self.connection[class.index()];
        let c = &mut self.classes[class.index()];
        if in_window {
            c.in_system_ns += u128::from((now - created.max(self.warmup_end)).as_nanos());
        }
        if outcome == Outcome::Ok {
            let latency = now - created;
            c.completed += 1;
            if in_window {
                c.window_completed += 1;
                c.latency.record(latency);
                if several && series {
                    self.overall_batches.add(latency.as_nanos() as f64);
                }
            }
            if series {
                self.series.on_completed(now, latency);
            }
        } else {
            c.on_failed(outcome, origin, detail, in_window);
            if series && outcome == Outcome::Limited {
                self.series.on_limited(now);
            } else if series {
                self.series.on_failed(now);
            }
        }
    }

    /// The newest version of `key` acknowledged to any caller so far.
    #[inline]
    pub fn acked_version(&self, key: u64) -> u64 {
        self.acked.get_or(key)
    }

    /// A write of `key` at `version` was acknowledged to its caller.
    pub fn on_write_acked(&mut self, key: u64, version: u64) {
        if version > self.acked.get_or(key) {
            self.acked.insert(key, version);
        }
    }

    /// A read of `service` returned `version`; it began when `expected` was the newest
    /// acknowledged version.
    pub fn on_read(&mut self, service: ServiceId, class: ClassId, version: u64, expected: u64) {
        if version < expected {
            self.stale_reads_by_service[service.index()] += 1;
            self.classes[class.index()].stale_reads += 1;
        }
    }
}
