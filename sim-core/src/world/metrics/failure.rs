//! Why and where a request failed: the outcome says why, the origin (a flow node) says
//! where it arose, and the detail what the request was doing there. A failure passes up
//! the call tree unchanged, so a root failed by its database's full queue is counted at
//! the database, not at the web tier that passed the answer on.

/// Nothing more to say than the outcome and its origin.
pub const NONE: u8 = 0;
/// Timed out: the request or its answer was lost crossing a partition or flaky link.
pub const LOST: u8 = 1;
/// Timed out while waiting in the origin's queue (for a worker or a connection).
pub const QUEUED: u8 = 2;
/// Timed out while the origin was serving it.
pub const SERVING: u8 = 3;
/// Timed out while the origin waited on a call that had already ended.
pub const WAITING: u8 = 4;
/// Timed out while it or its answer was on the wire.
pub const IN_TRANSIT: u8 = 5;
/// Refused: the instance was down (crashed).
pub const CRASHED: u8 = 6;
/// Circuit open: the caller's breaker refused to send it.
pub const FAILED_FAST: u8 = 7;
/// Rejected by load shedding: the queue was longer than the server's `shed` limit.
pub const SHED_LENGTH: u8 = 8;
/// Rejected by load shedding: it had waited past CoDel's target in a standing queue.
pub const SHED_DELAY: u8 = 9;
/// Limited: the rate limiter's shared store could not answer, and it fails closed.
pub const STORE_DOWN: u8 = 10;
/// Timed out before it was sent: its caller's deadline had passed (`deadline = "propagate"`).
pub const DEADLINE_PASSED: u8 = 11;

/// The detail in words, for reports ("" for `NONE`).
pub fn detail_name(detail: u8) -> &'static str {
    match detail {
        LOST => "lost in a partition",
        QUEUED => "waiting in its queue",
        SERVING => "in service",
        WAITING => "waiting on a call",
        IN_TRANSIT => "on the wire",
        CRASHED => "instance down",
        FAILED_FAST => "failed fast at the caller",
        SHED_LENGTH => "shed: queue too long",
        SHED_DELAY => "shed: waited too long",
        STORE_DOWN => "limiter's store down",
        DEADLINE_PASSED => "not sent: deadline passed",
        _ => "",
    }
}
