//! The faults of a model as stretches of time, for people looking at a run's charts: a
//! crash is a moment, a slowdown lasts until the instance is back to speed, a partition
//! until it heals, a surge for its length. The TUI and the SVG charts draw them.

use super::{ComponentModel, FaultAction, Model};
use crate::kernel::time::SimTime;

/// One fault as drawn on a time chart: a mark at `from`, or a band to `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpan {
    pub from: SimTime,
    /// The end of a band; `None` for a moment, or for a band still open at the run's end.
    pub to: Option<SimTime>,
    /// Whether this is a band (a slowdown, a partition, a surge) rather than a moment.
    pub band: bool,
    /// Short enough for a chart: "crash db-1", "partition", "surge ×3".
    pub label: String,
}

impl Model {
    /// Every fault, partition and surge of the model, in time order (ties in file order).
    pub fn fault_spans(&self) -> Vec<FaultSpan> {
        let name = |i: usize| self.components[i].name.as_str();
        let at = |d: crate::kernel::time::SimDuration| SimTime::ZERO + d;
        // Hand faults are appended after the file's: order by time (stable) before pairing.
        let mut faults: Vec<&super::FaultSpec> = self.faults.iter().collect();
        faults.sort_by_key(|f| f.at);
        let mut spans = Vec::new();
        for (k, f) in faults.iter().enumerate() {
            let later = &faults[k + 1..];
            let target = f.target.index();
            let (label, band, to) = match f.action {
                FaultAction::Crash => (format!("crash {}", name(target)), false, None),
                FaultAction::Restart => (format!("restart {}", name(target)), false, None),
                FaultAction::Drain => (format!("drain {}", name(target)), false, None),
                FaultAction::Skew(d) if d.as_nanos() > 0 => (format!("skew {}", name(target)), false, None),
                FaultAction::Skew(_) | FaultAction::Heal(_) | FaultAction::HealAll => continue,
                FaultAction::Slow(1.0) => continue,
                FaultAction::Slow(x) => {
                    let end = later.iter().find(|g| g.target == f.target && matches!(g.action, FaultAction::Slow(_)));
                    (format!("slow {} ×{x}", name(target)), true, end.map(|g| at(g.at)))
                }
                FaultAction::Partition(p) => {
                    let end = later.iter().find(|g| {
                        matches!(g.action, FaultAction::Heal(q) if q == p) || g.action == FaultAction::HealAll
                    });
                    let what = if self.partitions[usize::from(p)].loss < 1.0 { "flaky link" } else { "partition" };
                    (what.to_string(), true, end.map(|g| at(g.at)))
                }
            };
            spans.push(FaultSpan { from: at(f.at), to, band, label });
        }
        for c in &self.components {
            if let ComponentModel::Clients(spec) = &c.model {
                for s in &spec.surges {
                    let label = format!("surge {} ×{}", c.name, s.factor);
                    spans.push(FaultSpan { from: at(s.at), to: Some(at(s.at + s.lasting)), band: true, label });
                }
            }
        }
        spans.sort_by_key(|s| s.from);
        spans
    }
}
