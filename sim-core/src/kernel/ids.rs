//! Index newtypes. A `ComponentId` is an instance (a network node); a `ServiceId` a named
//! group of interchangeable instances (`web` with ten instances). An instance's *stable*
//! name (`web-3`) is what seeds its random stream.

use serde::Serialize;

/// Index of a component instance in the simulation's component table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ComponentId(pub u32);

/// Index of a service (a group of instances) in the model's service table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ServiceId(pub u32);

/// Index of a link in the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LinkId(pub u32);

/// Index of a request class in the scenario's class list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ClassId(pub u16);

/// Index of a keyspace (a population of keys with a popularity law).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct KeyspaceId(pub u16);

/// A request's slot in the request table and the generation of that slot. Slots are
/// reused; the generation tells a live request from a stale reference to a finished one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RequestId {
    pub slot: u32,
    pub generation: u32,
}

macro_rules! index {
    ($($t:ty),*) => {$(
        impl $t {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}
index!(ComponentId, ServiceId, LinkId, ClassId, KeyspaceId);
