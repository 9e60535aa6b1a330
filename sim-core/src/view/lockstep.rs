//! Running two simulations side by side, event for event: the determinism check. Two runs
//! of one model and seed must process the same events in the same order; the first event
//! where they differ points straight at the nondeterministic code.

use crate::engine::Simulation;
use crate::kernel::trace::TraceEvent;

/// Where two runs first differ. `None` on one side means that run had already ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub index: u64,
    pub a: Option<TraceEvent>,
    pub b: Option<TraceEvent>,
}

/// Steps both runs to their end, comparing every processed event; returns the first
/// difference, or `None` if the two event streams are identical.
pub fn first_divergence(a: &mut Simulation, b: &mut Simulation) -> Option<Divergence> {
    loop {
        let (ea, eb) = (a.step(), b.step());
        if ea != eb {
            let index = ea.or(eb).map_or(a.events(), |e| e.index);
            return Some(Divergence { index, a: ea, b: eb });
        }
        ea?;
    }
}
