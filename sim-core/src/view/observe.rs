//! Read-only views of a run under way, for people watching it (the TUI): nothing here
//! changes the run, so looking cannot make two runs of a seed differ.

use crate::engine::Simulation;
use crate::kernel::ids::{ComponentId, ServiceId};
use crate::kernel::time::SimTime;
use crate::report::ComponentReport;
use crate::world::breaker::BreakerState;
use crate::world::metrics::SeriesPoint;

/// One caller instance's circuit breaker for one service, as it stands now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerLook {
    pub caller: ComponentId,
    pub callee: ServiceId,
    /// Open stays open past `open_for` until the next call asks (then half-open).
    pub state: BreakerState,
    pub opened: u64,
    pub failed_fast: u64,
}

impl Simulation {
    /// The time of the next event due, if any is left before the end.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.world.queue.peek_time().filter(|&t| t <= self.end())
    }

    /// Whether the run has nothing more to do (its end reached, its events used up, or
    /// stopped because simulated time stood still).
    pub fn finished(&self) -> bool {
        self.next_event_time().is_none() || self.events >= self.model.limits.events_max || self.stall().is_some()
    }

    /// The per-second series so far: whole buckets only (the one under way is left out).
    pub fn series_so_far(&self) -> Vec<SeriesPoint> {
        let mut points = self.metrics.series.points(self.now());
        let bucket_s = self.metrics.series.bucket().as_secs_f64();
        let now_s = self.now().since(SimTime::ZERO).as_secs_f64();
        points.retain(|p| p.t_s + bucket_s <= now_s);
        points
    }

    /// Every component's report as of now (means over the window so far).
    pub fn component_reports(&self) -> Vec<ComponentReport> {
        let now = self.now().max(self.metrics.warmup_end());
        self.components.iter().map(|c| c.report(now, &self.world)).collect()
    }

    /// Per instance: whether a live load balancer's health checks hold it down now.
    pub fn marked_down(&self) -> Vec<bool> {
        let mut down = vec![false; self.components.len()];
        let live = self.components.iter().enumerate().filter(|(i, _)| !self.world.down[*i]);
        for b in live.flat_map(|(_, c)| c.marked_down()) {
            down[b.index()] = true;
        }
        down
    }

    /// Whether a slow fault is in force on the instance.
    pub fn is_slowed(&self, id: ComponentId) -> bool {
        self.components[id.index()].slowdown() != 1.0
    }

    /// Whether the instance's process is down (crashed, or drained and stopped).
    pub fn is_down(&self, id: ComponentId) -> bool {
        self.world.down[id.index()]
    }

    /// Every circuit breaker's state now, in declaration order then caller order (empty
    /// when the model declares none).
    pub fn breakers_now(&self) -> Vec<BreakerLook> {
        let all = self.world.breakers.all().iter();
        all.map(|(caller, b)| BreakerLook {
            caller: *caller,
            callee: b.spec().to,
            state: b.state(),
            opened: b.opened() as u64,
            failed_fast: b.failed_fast,
        })
        .collect()
    }

    /// Per class, root calls sent so far (every attempt) and the retries among them: both
    /// zero for a class without a retry policy.
    pub fn attempts_now(&self) -> Vec<(u64, u64)> {
        self.metrics.classes.iter().map(|c| (c.attempts, c.retries)).collect()
    }

    /// The network cuts in force: per cut, each instance's side (0: on no side).
    pub fn cuts(&self) -> Vec<Vec<u8>> {
        self.world.partitions.sides()
    }

    /// The most writes any live replica of any database is behind its primary (shards of
    /// a sharded database are not replicas of one another).
    pub fn replication_lag_writes(&self) -> Option<u64> {
        let down = &self.world.down;
        self.world
            .db
            .iter()
            .flatten()
            .filter(|g| g.instances.len() > 1 && self.world.services[g.service.index()].shard_map.is_none())
            .map(|g| {
                let head = g.applied[g.primary];
                (0..g.instances.len())
                    .filter(|&i| i != g.primary && !down[g.instances[i].index()])
                    .map(|i| head.saturating_sub(g.applied[i]))
                    .max()
                    .unwrap_or(0)
            })
            .max()
    }
}
