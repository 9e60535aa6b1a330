//! Index newtypes. A `ComponentId` is the component's position in the scenario's component
//! list; its *stable* name (the scenario id, such as `web1`) is what seeds its random stream.

use serde::Serialize;

/// Index of a component in the simulation's component table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ComponentId(pub u32);

/// Index of a link in the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LinkId(pub u32);

/// Index of a request class in the scenario's class list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ClassId(pub u16);

/// Slot of an in-flight request in the request table. Slots are reused after a request
/// completes, so a `RequestId` is meaningful only while its request is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RequestId(pub u32);

impl ComponentId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
impl LinkId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
impl ClassId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
impl RequestId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
