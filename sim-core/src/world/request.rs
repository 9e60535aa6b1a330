//! The table of in-flight requests. Events carry only a `RequestId`; the request's state
//! lives here, in a slab whose slots are reused (with a generation per slot), so the hot
//! path allocates nothing and a stale id is always recognized.
//!
//! A request is one call: from its `caller` to the instance that serves it. A component
//! that calls downstream creates a child whose `parent` is the request it is serving;
//! roots are issued by clients and have no parent.

use crate::event::{ChildResult, Op, Outcome};
use crate::kernel::ids::{ClassId, ComponentId, RequestId};
use crate::kernel::time::SimTime;

/// Who holds a request right now: the instance serving it, or nobody while a message
/// about it is on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    InTransit,
    At(ComponentId),
    /// Lost by a partition or flaky link: the caller's timeout frees it.
    Lost,
}

/// One call's state.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub class: ClassId,
    /// Position in the class's flow: which service this call is for, and what it calls next.
    pub node: u16,
    /// How many of the flow node's calls this request has made so far.
    pub next_call: u16,
    /// Parallel calls still outstanding (scatter-gather).
    pub pending: u16,
    pub op: Op,
    pub outcome: Outcome,
    /// The caller gave up (timeout): whoever answers frees the request instead.
    pub abandoned: bool,
    pub holder: Holder,
    pub key: u64,
    pub user: u32,
    pub parent: Option<RequestId>,
    pub caller: ComponentId,
    /// The caller's crash epoch when it made the call: an answer to a caller that has
    /// restarted since is dropped.
    pub caller_epoch: u32,
    pub created: SimTime,
    /// The data version read or written (a log sequence number), 0 if none.
    pub version: u64,
    /// Read-your-writes: the read must see at least this version.
    pub min_version: u64,
    /// For stale-read counting: the newest version acknowledged when the read began.
    pub expected_version: u64,
    /// Free for the holder's bookkeeping (a server's worker, a balancer's backend).
    pub tag: u32,
    /// Since when the call has been in `phase` (see `metrics::attribution`).
    pub mark: SimTime,
    pub phase: u8,
    /// Whose ledger its time is booked in: its root's, or its own for a parallel call.
    pub ledger: RequestId,
    /// The latest call it made, to find where a timed-out request was stuck.
    pub last_call: RequestId,
    /// A failure's origin: the flow node where it arose (`NO_NODE` if none) and what the
    /// request was doing there (`failure::*`).
    pub origin: u16,
    pub detail: u8,
    /// Its root's serial number (`Tracer::next_serial`) modulo 2^32 (it fits where the
    /// struct had padding), 0 for a call of no request.
    pub serial: u32,
}

/// `origin` of a request that has not failed, or failed before reaching any service.
pub const NO_NODE: u16 = u16::MAX;

/// A slot: its generation beside its request, so a lookup touches one place.
#[derive(Clone, Copy)]
struct Slot {
    generation: u32,
    request: Request,
}

#[derive(Clone, Default)]
pub struct Requests {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
}

impl Requests {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a new request and returns its id.
    #[inline]
    pub fn insert(&mut self, req: Request) -> RequestId {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let s = &mut self.slots[slot as usize];
            s.request = req;
            RequestId { slot, generation: s.generation }
        } else {
            let slot = u32::try_from(self.slots.len()).expect("more than 2^32 requests in flight");
            self.slots.push(Slot { generation: 0, request: req });
            RequestId { slot, generation: 0 }
        }
    }

    /// Frees a finished request's slot; every id of it becomes stale. Inline, so that a
    /// caller that ignores the returned request does not copy it out.
    #[inline(always)]
    pub fn remove(&mut self, id: RequestId) -> Request {
        let s = &mut self.slots[id.slot as usize];
        assert_eq!(s.generation, id.generation, "request {id:?} freed twice");
        s.generation = s.generation.wrapping_add(1);
        self.free.push(id.slot);
        self.live -= 1;
        s.request
    }

    /// The request, if `id` is still live.
    #[inline]
    pub fn get(&self, id: RequestId) -> Option<&Request> {
        // A freed slot's generation is bumped at once, so an id matches only while live.
        match self.slots.get(id.slot as usize) {
            Some(s) if s.generation == id.generation => Some(&s.request),
            _ => None,
        }
    }

    #[inline]
    pub fn get_mut(&mut self, id: RequestId) -> Option<&mut Request> {
        match self.slots.get_mut(id.slot as usize) {
            Some(s) if s.generation == id.generation => Some(&mut s.request),
            _ => None,
        }
    }

    /// The live request in `slot`, for a holder that keyed a timer by slot: a request
    /// cannot be freed while its holder keeps it, so the slot still names it.
    #[inline]
    pub fn id_in_slot(&self, slot: u32) -> RequestId {
        RequestId { slot, generation: self.slots[slot as usize].generation }
    }

    /// Requests issued and not yet finished (roots and calls).
    pub fn live(&self) -> usize {
        self.live
    }

    /// The live requests, in slot order (for end-of-run accounting).
    pub fn all_live(&self) -> Vec<Request> {
        let free: std::collections::BTreeSet<u32> = self.free.iter().copied().collect();
        (0..self.slots.len() as u32).filter(|s| !free.contains(s)).map(|s| self.slots[s as usize].request).collect()
    }

    /// The oldest live call `parent` made (by creation, then slot), for finding where a
    /// timed-out request is stuck when its last call has answered already (a cold path).
    pub fn oldest_call_of(&self, parent: RequestId) -> Option<RequestId> {
        let free: std::collections::BTreeSet<u32> = self.free.iter().copied().collect();
        (0..self.slots.len() as u32)
            .filter(|s| !free.contains(s) && self.slots[*s as usize].request.parent == Some(parent))
            .min_by_key(|s| (self.slots[*s as usize].request.created, *s))
            .map(|slot| RequestId { slot, generation: self.slots[slot as usize].generation })
    }

    /// The live roots not yet finished (a root's ledger is its own; a finished one's is
    /// gone), in slot order, for the end-of-run accounting.
    pub fn unfinished_roots(&self) -> Vec<Request> {
        let free: std::collections::BTreeSet<u32> = self.free.iter().copied().collect();
        (0..self.slots.len() as u32)
            .filter(|s| !free.contains(s))
            .map(|slot| (RequestId { slot, generation: self.slots[slot as usize].generation }, slot))
            .filter(|(id, slot)| {
                let r = &self.slots[*slot as usize].request;
                r.parent.is_none() && r.ledger == *id
            })
            .map(|(_, slot)| self.slots[slot as usize].request)
            .collect()
    }

    /// Ids of the live requests held by `holder`, in slot order (for crash handling).
    pub fn held_by(&self, holder: crate::kernel::ids::ComponentId) -> Vec<RequestId> {
        let free: std::collections::BTreeSet<u32> = self.free.iter().copied().collect();
        (0..self.slots.len() as u32)
            .filter(|s| !free.contains(s) && self.slots[*s as usize].request.holder == Holder::At(holder))
            .map(|slot| RequestId { slot, generation: self.slots[slot as usize].generation })
            .collect()
    }
}

impl Request {
    /// What the caller learns when this call (`id`) ends with `outcome`.
    pub(crate) fn ended(&self, id: RequestId, outcome: Outcome) -> ChildResult {
        let r = self;
        ChildResult {
            child: id,
            parent: r.parent,
            class: r.class,
            node: r.node,
            op: r.op,
            key: r.key,
            user: r.user,
            created: r.created,
            outcome,
            version: r.version,
            origin: r.origin,
            detail: r.detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Request {
        Request {
            class: ClassId(0),
            node: 0,
            next_call: 0,
            pending: 0,
            op: Op::Read,
            outcome: Outcome::Pending,
            abandoned: false,
            holder: Holder::InTransit,
            key: 0,
            user: 0,
            parent: None,
            caller: ComponentId(0),
            caller_epoch: 0,
            created: SimTime::ZERO,
            version: 0,
            min_version: 0,
            expected_version: 0,
            tag: 0,
            mark: SimTime::ZERO,
            phase: 0,
            ledger: crate::world::metrics::attribution::NO_LEDGER,
            last_call: crate::world::metrics::attribution::NO_LEDGER,
            origin: NO_NODE,
            detail: 0,
            serial: 0,
        }
    }

    #[test]
    fn stale_ids_are_recognized_after_slot_reuse() {
        let mut t = Requests::new();
        let a = t.insert(req());
        t.remove(a);
        let b = t.insert(req());
        assert_eq!(a.slot, b.slot, "the slot is reused");
        assert!(t.get(a).is_none(), "the old id is stale");
        assert!(t.get(b).is_some());
        assert_eq!(t.live(), 1);
    }

    #[test]
    #[should_panic(expected = "freed twice")]
    fn double_free_is_a_programmer_error() {
        let mut t = Requests::new();
        let a = t.insert(req());
        t.remove(a);
        t.remove(a);
    }
}
