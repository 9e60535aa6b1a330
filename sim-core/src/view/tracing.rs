//! Turning request tracing on (`world::metrics::spans`) and reading the traces: one root
//! followed as it travels (the TUI's waterfall), or a sample for export. Tracing only
//! observes: it moves no event, draw or figure, so the trace hash is the same with it on.

use crate::engine::Simulation;
use crate::kernel::ids::ClassId;
use crate::world::metrics::spans::RequestTrace;

impl Simulation {
    /// Follows the next root request issued of class `class` (by name), or of any class
    /// but those that open long-lived connections (WebSockets), in place of the one followed so far. `followed` is `None` until it is issued.
    pub fn follow_next(&mut self, class: Option<&str>) -> Result<(), String> {
        let class = match class {
            None => None,
            Some(name) => match self.model.classes.iter().position(|c| c.name == name) {
                Some(i) => Some(ClassId(i as u16)),
                None => {
                    let names: Vec<&str> = self.model.classes.iter().map(|c| c.name.as_str()).collect();
                    return Err(format!("no request class `{name}`; the classes are {}", names.join(", ")));
                }
            },
        };
        self.metrics.spans.follow_next(&self.model, class);
        Ok(())
    }

    /// Traces the first `n` root requests issued from the end of the warm-up on (or from
    /// now, if later), of every class but those that open long-lived connections: at most `spans::MAX_TRACES` in a run. They are
    /// in `traces` once they complete.
    pub fn follow_sample(&mut self, n: usize) {
        let from = self.now().max(self.metrics.warmup_end());
        self.metrics.spans.sample(&self.model, n, from);
    }

    /// The request being followed: live while it travels (open spans have no end), complete
    /// once its root answered, failed or timed out; `None` while waiting for it to be issued.
    pub fn followed(&self) -> Option<&RequestTrace> {
        self.metrics.spans.followed()
    }

    /// The sampled requests completed so far, in the order they completed.
    pub fn traces(&self) -> &[RequestTrace] {
        self.metrics.spans.traces()
    }
}
