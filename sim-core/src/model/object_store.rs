//! The object store's spec: latencies and sizes of reads and writes.

use crate::kernel::distribution::Delay;

#[derive(Clone, Debug)]
pub struct ObjectStoreSpec {
    pub get_latency: Delay,
    pub put_latency: Delay,
    /// Mean object size in bytes.
    pub object_size: u64,
    /// Bytes per second one transfer gets.
    pub bandwidth: f64,
    /// Data already stored before the run (for the storage bill).
    pub stored_before: u64,
}
