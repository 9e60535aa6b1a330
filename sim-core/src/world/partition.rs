//! Network partitions and flaky links: faults of the network rather than of a process.
//!
//! A partition splits instances into sides; a message between two sides crosses the cut
//! (one-way partitions cut only side 1 → side 2). Instances on no side (the users,
//! typically) reach every side. What happens to a crossing message:
//! - requests, answers and health probes are lost (the caller times out, the probe
//!   fails), or with `hold` wait and are delivered when the partition heals;
//! - protocol streams (replication, pub/sub, job hand-offs) are always held and resume at
//!   heal, as TCP retransmits: nothing is reordered or silently skipped.
//!
//! A flaky link is a cut between two sets with a loss rate below 1: each crossing request,
//! answer or probe is lost with that probability; streams are unaffected.

use crate::event::EventKind;
use crate::kernel::ids::ComponentId;
use crate::model::PartitionSpec;

/// What the network does with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Deliver,
    Hold,
    Drop,
}

/// A cut in force.
#[derive(Clone)]
struct Cut {
    id: u16,
    /// Per instance: 0 on no side, else its side number from 1.
    side: Vec<u8>,
    one_way: bool,
    hold: bool,
    loss: f64,
}

impl Cut {
    fn crosses(&self, from: ComponentId, to: ComponentId) -> bool {
        let (a, b) = (self.side[from.index()], self.side[to.index()]);
        a != 0 && b != 0 && a != b && (!self.one_way || (a == 1 && b == 2))
    }
}

/// A message waiting for its cut to heal.
#[derive(Clone, Copy, Debug)]
pub struct Held {
    pub cut: u16,
    pub from: ComponentId,
    pub to: ComponentId,
    pub kind: EventKind,
}

/// The cuts in force, the messages they hold, and what they did.
#[derive(Clone, Default)]
pub struct Partitions {
    active: Vec<Cut>,
    held: Vec<Held>,
    pub dropped: u64,
    pub held_total: u64,
}

impl Partitions {
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    pub fn start(&mut self, id: u16, spec: &PartitionSpec, instances: usize) {
        let mut side = vec![0u8; instances];
        for (s, members) in spec.sides.iter().enumerate() {
            for m in members {
                side[m.index()] = s as u8 + 1;
            }
        }
        self.active.push(Cut { id, side, one_way: spec.one_way, hold: spec.hold, loss: spec.loss });
    }

    /// Per cut in force: each instance's side (0: on no side).
    pub fn sides(&self) -> Vec<Vec<u8>> {
        self.active.iter().map(|c| c.side.clone()).collect()
    }

    /// The cuts in force, in the order they started.
    pub fn active_ids(&self) -> Vec<u16> {
        self.active.iter().map(|c| c.id).collect()
    }

    /// Ends cut `id` and returns the messages it held, in the order they were sent.
    pub fn heal(&mut self, id: u16) -> Vec<Held> {
        self.active.retain(|c| c.id != id);
        let (released, kept) = self.held.drain(..).partition(|h| h.cut == id);
        self.held = kept;
        released
    }

    /// The fate of a message from `from` to `to` (`stream`: part of a retransmitted
    /// stream); `lost` draws whether a flaky link loses it (called only for such a link,
    /// so runs without one draw nothing).
    pub fn judge(
        &mut self,
        from: ComponentId,
        to: ComponentId,
        kind: EventKind,
        stream: bool,
        mut lost: impl FnMut(f64) -> bool,
    ) -> Verdict {
        for cut in &self.active {
            if !cut.crosses(from, to) {
                continue;
            }
            let verdict = match (cut.loss >= 1.0, stream) {
                (false, true) => continue,
                (false, false) if !lost(cut.loss) => continue,
                (false, false) => Verdict::Drop,
                (true, true) => Verdict::Hold,
                (true, false) if cut.hold => Verdict::Hold,
                (true, false) => Verdict::Drop,
            };
            match verdict {
                Verdict::Hold => {
                    self.held.push(Held { cut: cut.id, from, to, kind });
                    self.held_total += 1;
                }
                _ => self.dropped += 1,
            }
            return verdict;
        }
        Verdict::Deliver
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(one_way: bool, hold: bool, loss: f64) -> PartitionSpec {
        PartitionSpec { sides: vec![vec![ComponentId(1)], vec![ComponentId(2), ComponentId(3)]], one_way, hold, loss }
    }

    const REQ: EventKind = EventKind::Start;
    const STREAM: EventKind = EventKind::Message { from: ComponentId(1), token: 0 };

    #[test]
    fn a_partition_cuts_between_sides_only() {
        let mut p = Partitions::default();
        p.start(0, &spec(false, false, 1.0), 5);
        let never = |_| panic!("no draw for a full partition");
        assert_eq!(p.judge(ComponentId(1), ComponentId(2), REQ, false, never), Verdict::Drop);
        assert_eq!(p.judge(ComponentId(3), ComponentId(1), REQ, false, never), Verdict::Drop);
        assert_eq!(p.judge(ComponentId(2), ComponentId(3), REQ, false, never), Verdict::Deliver, "same side");
        assert_eq!(p.judge(ComponentId(0), ComponentId(1), REQ, false, never), Verdict::Deliver, "on no side");
        assert_eq!(p.judge(ComponentId(1), ComponentId(3), STREAM, true, never), Verdict::Hold, "streams wait");
        assert_eq!((p.dropped, p.held_total), (2, 1));
        let released = p.heal(0);
        assert_eq!(released.len(), 1);
        assert_eq!(p.judge(ComponentId(1), ComponentId(2), REQ, false, never), Verdict::Deliver, "healed");
    }

    #[test]
    fn one_way_and_hold_and_flaky() {
        let mut p = Partitions::default();
        p.start(0, &spec(true, true, 1.0), 4);
        assert_eq!(p.judge(ComponentId(1), ComponentId(2), REQ, false, |_| false), Verdict::Hold);
        assert_eq!(p.judge(ComponentId(2), ComponentId(1), REQ, false, |_| false), Verdict::Deliver, "one way");
        p.heal(0);
        p.start(1, &spec(false, false, 0.3), 4);
        assert_eq!(p.judge(ComponentId(1), ComponentId(2), REQ, false, |l| l == 0.3), Verdict::Drop);
        assert_eq!(p.judge(ComponentId(1), ComponentId(2), REQ, false, |_| false), Verdict::Deliver);
        assert_eq!(
            p.judge(ComponentId(1), ComponentId(2), STREAM, true, |_| true),
            Verdict::Deliver,
            "streams retransmit"
        );
    }
}
