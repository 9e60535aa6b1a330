//! The kernel: what every layer above builds on and nothing here knows of requests or
//! components. Integer time, id newtypes, seeded random streams, the fixed hashes, the
//! (time, seq) event queue, delay distributions, the trace hash and a deterministic key
//! map.

pub mod distribution;
pub mod event_queue;
pub mod hash;
pub mod ids;
pub mod keymap;
mod quad_heap;
pub mod rng;
pub mod time;
pub mod trace;
