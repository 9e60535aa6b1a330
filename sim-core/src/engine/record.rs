//! Recording events for the event inspector (`world::metrics::event_log`): what an event
//! was about and what the engine made of it, read before it is handled, since handling
//! frees answered requests. Reads only; the run goes on exactly as unrecorded.

use super::Simulation;
use crate::event::{Event, EventKind};
use crate::kernel::time::SimTime;
use crate::model::FaultAction;
use crate::world::metrics::event_log::{Facts, Fate, Raw};

impl Simulation {
    /// `handle`, with the event's record opened first so the handler's effects join it.
    #[cold]
    #[inline(never)]
    pub(super) fn handle_recorded(&mut self, now: SimTime, event: Event) {
        let raw = self.raw(now, event);
        self.metrics.log.begin(raw);
        self.handle(now, event);
    }

    fn raw(&self, now: SimTime, event: Event) -> Raw {
        let t = event.target();
        let i = t.index();
        let down = self.world.down[i];
        let kind = event.kind();
        let facts = match kind {
            EventKind::Request(id)
            | EventKind::Response(id)
            | EventKind::Timeout(id)
            | EventKind::Hedge(id)
            | EventKind::Retry(id) => self.requests.get(id).map(|r| Facts {
                serial: u64::from(r.serial),
                class: r.class,
                node: r.node,
                caller: r.caller,
                created: r.created,
                outcome: r.outcome,
                root: r.parent.is_none(),
            }),
            _ => None,
        };
        let fate = match kind {
            EventKind::Start => Fate::Handled,
            EventKind::Timer { epoch, .. } if down || epoch != self.world.epoch[i] => {
                if down {
                    Fate::TargetDown
                } else {
                    Fate::Stale
                }
            }
            EventKind::Request(_) if down => Fate::TargetDown,
            EventKind::Response(id) => match self.requests.get(id) {
                None => Fate::Stale,
                Some(c) if c.abandoned => Fate::Abandoned,
                Some(_) if down => Fate::TargetDown,
                Some(c) if c.caller_epoch != self.world.epoch[i] => Fate::Stale,
                Some(_) => Fate::Handled,
            },
            EventKind::Timeout(id) => match self.requests.get(id) {
                Some(c) if !c.abandoned && c.caller_epoch == self.world.epoch[i] && c.caller == t => {
                    let (node, detail) = self.stuck_at(id);
                    Fate::TimedOut { node, detail }
                }
                _ => Fate::Stale,
            },
            EventKind::Ping { .. } | EventKind::Pong { .. } | EventKind::Message { .. } if down => Fate::TargetDown,
            _ => Fate::Handled,
        };
        let held = match kind {
            EventKind::Fault(f) if self.model.faults[f as usize].action == FaultAction::Crash && !down => {
                self.requests.held_by(t).len() as u32
            }
            _ => 0,
        };
        Raw { seq: self.events, t: now, target: t, kind, facts, fate, held, effects: Vec::new() }
    }
}
