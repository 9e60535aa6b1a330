//! The table of in-flight requests. Events carry only a `RequestId`; the request's state
//! lives here, in a slab whose slots are reused, so the hot path allocates nothing.

use crate::ids::{ClassId, ComponentId, RequestId};
use crate::time::SimTime;
use serde::Serialize;

/// How a request ended, or `Pending` while it is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    Ok,
    /// A component's bounded queue was full (an HTTP 503).
    Rejected,
    /// The run's in-flight limit was reached, so the client did not send it.
    Shed,
}

impl Outcome {
    pub const FAILURES: [Outcome; 2] = [Outcome::Rejected, Outcome::Shed];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::Shed => "shed",
        }
    }
}

/// One request's state while it travels its class's path.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub class: ClassId,
    /// 0 at the client that issued it; `i + 1` while at the `i`-th component of the path.
    pub hop: u16,
    pub origin: ComponentId,
    /// Which closed-loop user sent it (0 for open-loop arrivals).
    pub user: u32,
    pub created: SimTime,
    pub outcome: Outcome,
}

#[derive(Default)]
pub struct Requests {
    slots: Vec<Request>,
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
            self.slots[slot as usize] = req;
            RequestId(slot)
        } else {
            let id = u32::try_from(self.slots.len()).expect("more than 2^32 requests in flight");
            self.slots.push(req);
            RequestId(id)
        }
    }

    /// Frees a finished request's slot for reuse.
    #[inline]
    pub fn remove(&mut self, id: RequestId) -> Request {
        let req = self.slots[id.index()];
        debug_assert!(!self.free.contains(&id.0), "request {id:?} freed twice");
        self.free.push(id.0);
        self.live -= 1;
        req
    }

    #[inline]
    pub fn get(&self, id: RequestId) -> &Request {
        &self.slots[id.index()]
    }

    #[inline]
    pub fn get_mut(&mut self, id: RequestId) -> &mut Request {
        &mut self.slots[id.index()]
    }

    /// Requests issued and not yet finished.
    pub fn live(&self) -> usize {
        self.live
    }
}
