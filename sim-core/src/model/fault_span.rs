//! The faults of a model as stretches of time, for people looking at a run's charts: a
//! crash is a moment, a slowdown lasts until the instance is back to speed, a partition
//! until it heals, a surge for its length. The TUI's charts and the SVGs draw them.

use super::{ComponentModel, FaultAction, FaultSpec, Model};
use crate::kernel::time::{SimDuration, SimTime};

/// One fault as drawn on a time chart: a mark at `from`, or a band from `from` to `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpan {
    pub from: SimTime,
    /// The end of a band (the run's end if nothing undoes it); `None` for a moment.
    pub to: Option<SimTime>,
    /// Short enough for a chart: "crash db-1", "partition", "surge ×3 clients".
    pub label: String,
}

impl Model {
    /// A partition or flaky link is a band until its heal (or the run's end); a slowdown,
    /// a surge fault or a clock skew a band until the fault that undoes it; a workload's
    /// own surges bands while they last; a crash, restart, drain, heal or knob a moment. In the
    /// model's fault order, the surges last.
    pub fn fault_spans(&self) -> Vec<FaultSpan> {
        let at = |d: SimDuration| SimTime::ZERO + d;
        let name = |c: crate::kernel::ids::ComponentId| self.components[c.index()].name.as_str();
        let end = at(self.duration);
        // The first fault at or after `i`'s time that ends it, by `ends`.
        let until = |i: usize, ends: &dyn Fn(&FaultSpec) -> bool| {
            let f = &self.faults[i];
            self.faults
                .iter()
                .enumerate()
                .filter(|&(j, g)| j != i && g.at >= f.at && ends(g))
                .min_by_key(|(_, g)| g.at)
                .map_or(end, |(_, g)| at(g.at))
        };
        let mut out = Vec::new();
        for (i, f) in self.faults.iter().enumerate() {
            let target = f.target;
            let (to, label) = match f.action {
                FaultAction::Crash => (None, format!("crash {}", name(target))),
                FaultAction::Restart => (None, format!("restart {}", name(target))),
                FaultAction::Drain => (None, format!("drain {}", name(target))),
                FaultAction::Heal(_) => (None, "heal".to_string()),
                FaultAction::HealAll => (None, "heal all".to_string()),
                // A knob holds until the next: a moment each time it is turned.
                FaultAction::Scale(n) => {
                    let backends = match &self.components[target.index()].model {
                        ComponentModel::LoadBalancer(lb) => self.services[lb.backends.index()].name.as_str(),
                        _ => name(target),
                    };
                    (None, format!("scale {backends} to {n}"))
                }
                FaultAction::Rate(r) => (None, format!("rate {} {r}/s", name(target))),
                FaultAction::Capacity(n) => (None, format!("resize {} {n}", name(target))),
                FaultAction::Partition(p) => {
                    let spec = &self.partitions[usize::from(p)];
                    let what = match (spec.loss < 1.0, spec.one_way) {
                        (true, _) => "flaky link",
                        (false, true) => "one-way partition",
                        (false, false) => "partition",
                    };
                    let healed = until(i, &|g| {
                        matches!(g.action, FaultAction::Heal(q) if q == p) || g.action == FaultAction::HealAll
                    });
                    (Some(healed), what.to_string())
                }
                FaultAction::Slow(factor) if factor != 1.0 => {
                    let back = until(i, &|g| g.target == target && matches!(g.action, FaultAction::Slow(_)));
                    // A surge fault is a clients' slow-down: their rate times the factor.
                    let verb = match self.components[target.index()].model {
                        ComponentModel::Clients(_) => "surge",
                        _ => "slow",
                    };
                    (Some(back), format!("{verb} ×{factor} {}", name(target)))
                }
                FaultAction::Skew(by) if by.as_nanos() > 0 => {
                    let back = until(i, &|g| g.target == target && matches!(g.action, FaultAction::Skew(_)));
                    (Some(back), format!("skew +{by} {}", name(target)))
                }
                // The end of a slow-down or a skew: its band already stops here.
                FaultAction::Slow(_) | FaultAction::Skew(_) => continue,
            };
            out.push(FaultSpan { from: at(f.at), to, label });
        }
        for c in &self.components {
            if let ComponentModel::Clients(spec) = &c.model {
                for surge in &spec.surges {
                    out.push(FaultSpan {
                        from: at(surge.at),
                        to: Some(at(surge.at + surge.lasting)),
                        label: format!("surge ×{} {}", surge.factor, c.name),
                    });
                }
            }
        }
        out
    }
}
