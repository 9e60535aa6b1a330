//! Each call's deadline, when some class propagates its deadline or times a hop apart
//! (`model::hop`): the instant its caller gives up on it, kept per request slot and
//! written when the call is sent, so a call's children can read what it has left.

use crate::kernel::ids::RequestId;
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::Model;

#[derive(Clone, Default)]
pub struct Deadlines {
    /// Whether any class needs this (one branch on every send otherwise).
    pub on: bool,
    /// Per class and flow node: the call's own timeout (its hop's, or the class's).
    timeouts: Vec<Vec<Option<SimDuration>>>,
    /// Per class: `deadline = "propagate"`.
    propagate: Vec<bool>,
    /// Per request slot: when the call sent last from it gives up (`SimTime::MAX`: never).
    at: Vec<SimTime>,
    /// Per class, over the run: calls not sent because their deadline had passed.
    pub not_sent: Vec<u64>,
}

/// What becomes of a call about to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Send {
    /// Send it; its caller gives up at this instant (`None`: never).
    GiveUpAt(Option<SimTime>),
    /// Its caller's deadline has passed: fail it at once, unsent.
    Passed,
}

impl Deadlines {
    pub fn new(model: &Model) -> Deadlines {
        if !model.uses_deadlines() {
            return Deadlines::default();
        }
        let timeouts = model
            .classes
            .iter()
            .map(|c| {
                (0..c.flow.len())
                    .map(|node| {
                        let hop = c.hops.iter().find(|h| node > 0 && h.service == c.flow[node].service);
                        hop.and_then(|h| h.timeout).or(c.timeout)
                    })
                    .collect()
            })
            .collect();
        Deadlines {
            on: true,
            timeouts,
            propagate: model.classes.iter().map(|c| c.propagate_deadline).collect(),
            at: Vec::new(),
            not_sent: vec![0; model.classes.len()],
        }
    }

    /// Call `req` of `class` to flow node `node`, made for `parent` (none for a root), is
    /// sent at `now`: when its caller gives up on it, recorded for its own calls.
    pub fn on_send(
        &mut self,
        req: RequestId,
        class: usize,
        node: u16,
        parent: Option<RequestId>,
        now: SimTime,
    ) -> Send {
        let own = self.timeouts[class][node as usize].map(|t| now + t);
        let inherited = match parent {
            Some(p) if self.propagate[class] => self.at.get(p.slot as usize).copied().unwrap_or(SimTime::MAX),
            _ => SimTime::MAX,
        };
        if inherited <= now {
            self.not_sent[class] += 1;
            return Send::Passed;
        }
        let at = own.map_or(inherited, |o| o.min(inherited));
        self.set(req, at);
        Send::GiveUpAt((at != SimTime::MAX).then_some(at))
    }

    /// When `parent`'s caller gives up on it, if `class` propagates deadlines (a
    /// retry for it must end before); `SimTime::MAX` otherwise.
    pub fn inherited(&self, class: usize, parent: RequestId) -> SimTime {
        if !self.on || !self.propagate[class] {
            return SimTime::MAX;
        }
        self.at.get(parent.slot as usize).copied().unwrap_or(SimTime::MAX)
    }

    /// A call sent outside a flow's routing (a job handed to a worker, a rate limiter's
    /// check) gives up at `at`, or never.
    pub fn set(&mut self, req: RequestId, at: SimTime) {
        let slot = req.slot as usize;
        if slot >= self.at.len() {
            self.at.resize(slot + 1, SimTime::MAX);
        }
        self.at[slot] = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::ids::RequestId;

    fn table(propagate: bool) -> Deadlines {
        let ms = SimDuration::from_millis;
        Deadlines {
            on: true,
            timeouts: vec![vec![Some(ms(100)), Some(ms(300)), None]],
            propagate: vec![propagate],
            at: Vec::new(),
            not_sent: vec![0],
        }
    }

    fn id(slot: u32) -> RequestId {
        RequestId { slot, generation: 0 }
    }

    fn at_ms(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn a_child_gets_the_least_of_its_hop_timeout_and_what_its_parent_has_left() {
        let mut d = table(true);
        assert_eq!(d.on_send(id(0), 0, 0, None, at_ms(0)), Send::GiveUpAt(Some(at_ms(100))));
        // Its hop allows 300 ms, but the root gives up at 100 ms.
        assert_eq!(d.on_send(id(1), 0, 1, Some(id(0)), at_ms(40)), Send::GiveUpAt(Some(at_ms(100))));
        // A node with no timeout of its own inherits the parent's deadline.
        assert_eq!(d.on_send(id(2), 0, 2, Some(id(1)), at_ms(60)), Send::GiveUpAt(Some(at_ms(100))));
        assert_eq!(d.not_sent, vec![0]);
    }

    #[test]
    fn a_call_whose_deadline_has_passed_is_not_sent_and_is_counted() {
        let mut d = table(true);
        d.on_send(id(0), 0, 0, None, at_ms(0));
        assert_eq!(d.on_send(id(1), 0, 1, Some(id(0)), at_ms(100)), Send::Passed);
        assert_eq!(d.on_send(id(1), 0, 1, Some(id(0)), at_ms(150)), Send::Passed);
        assert_eq!(d.not_sent, vec![2]);
    }

    #[test]
    fn without_propagation_each_hop_keeps_its_own_timeout() {
        let mut d = table(false);
        d.on_send(id(0), 0, 0, None, at_ms(0));
        assert_eq!(d.on_send(id(1), 0, 1, Some(id(0)), at_ms(150)), Send::GiveUpAt(Some(at_ms(450))));
        assert_eq!(d.on_send(id(2), 0, 2, Some(id(1)), at_ms(200)), Send::GiveUpAt(None));
        assert_eq!(d.not_sent, vec![0]);
    }
}
