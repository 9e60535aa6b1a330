//! A class's calls to one service (`[classes.hops.SERVICE]`): their own timeout instead
//! of the class's. With `deadline = "propagate"` on the class, a call's timeout is also
//! cut to what its caller has left, so no call outlives the request it serves.

use crate::kernel::ids::ServiceId;
use crate::kernel::time::SimDuration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HopSpec {
    /// The callee: every call of the class to this service (never the entry call).
    pub service: ServiceId,
    /// Its calls give up after this long (`None`: the class's timeout).
    pub timeout: Option<SimDuration>,
}
