//! Caps on scenario sizes, so that no file can make a run exhaust memory or run for days.
//! Each refusal names the cap and suggests a smaller value.

pub const MAX_COMPONENTS: usize = 10_000;
pub const MAX_LINKS: usize = 100_000;
pub const MAX_CLASSES: usize = 1_000;
pub const MAX_PATH_LEN: usize = 64;
/// A caller makes at most this many calls at once (its fan-outs and scans together).
pub const MAX_CALLS_AT_ONCE: u64 = 10_000;
/// Calls one request may make in all, its fan-outs multiplied down the tree.
pub const MAX_CALLS_PER_REQUEST: u64 = 1_000_000;
pub const MAX_PARAMS: usize = 1_000;
pub const MAX_KEYSPACES: usize = 1_000;
/// Keys in one keyspace (data keys keep 48 bits for the rank).
pub const MAX_KEYS: u64 = 1_000_000_000_000;
pub const MAX_WORKERS: u64 = 1_000_000;
pub const MAX_QUEUE_CAPACITY: u64 = 10_000_000;
pub const MAX_USERS: u64 = 10_000_000;
/// Arrivals per simulated second.
pub const MAX_RATE: f64 = 1e8;
/// Requests a run may be expected to issue (rate x duration): about a few minutes of CPU.
pub const MAX_EXPECTED_REQUESTS: f64 = 1e9;
/// Calls a run may be expected to make, every fan-out multiplied: a call costs a few
/// events, so this is about the same CPU as the requests' cap.
pub const MAX_EXPECTED_CALLS: f64 = 1e10;
/// A guard against runaway models: the run stops, flagged as truncated, past this.
pub const EVENTS_MAX: u64 = 20_000_000_000;
/// Entries one cache instance may hold (each costs memory in the simulator too).
/// A scale fault sets a service to at most this many instances.
pub const MAX_SCALE_INSTANCES: u64 = 1_000;
pub const MAX_CACHE_ENTRIES: u64 = 50_000_000;
/// A rate limiter's burst or window limit (requests): a bucket's tokens are kept in units
/// of 10^-12, so this keeps them within 64 bits.
pub const MAX_LIMIT_COUNT: u64 = 1_000_000;
/// A rate limiter's refill rate, per second.
pub const MAX_LIMIT_RATE: f64 = 1e8;
