//! A class's calls to one service (`[classes.hops.SERVICE]`): their own timeout instead
//! of the class's, and their own retry policy (the caller re-sends a failed call instead
//! of failing the request it serves). With `deadline = "propagate"` on the class, a call's timeout is also
//! cut to what its caller has left, so no call outlives the request it serves.

use crate::kernel::ids::ServiceId;
use crate::kernel::time::SimDuration;
use crate::model::retry::RetrySpec;

#[derive(Clone, Debug, PartialEq)]
pub struct HopSpec {
    /// The callee: every call of the class to this service (never the entry call).
    pub service: ServiceId,
    /// Its calls give up after this long (`None`: the class's timeout).
    pub timeout: Option<SimDuration>,
    /// A failed call is made again by its caller (`None`: its failure is its parent's).
    pub retry: Option<RetrySpec>,
}
