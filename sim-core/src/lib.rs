//! sim-core: scalelab's deterministic discrete-event engine and its component models.
//!
//! Simulated time is integer nanoseconds; events are ordered by (time, insertion
//! sequence); every random draw comes from a ChaCha8 stream keyed by the run seed and the
//! drawing entity's stable name. Nothing here reads the wall clock, spawns a thread or
//! iterates a hash map, so a seed and a model determine a run event for event.

pub mod component;
pub mod consistency;
pub mod cost;
pub mod ctx;
pub mod distribution;
pub mod engine;
pub mod event_queue;
pub mod ids;
pub mod keymap;
pub mod lockstep;
pub mod metrics;
pub mod model;
pub mod network;
pub mod notes;
mod observe;
pub mod partition;
mod quad_heap;
pub mod report;
pub mod request;
pub mod rng;
pub mod sharding;
pub mod time;
pub mod trace;

pub use distribution::Delay;
pub use engine::{ModelError, Simulation};
pub use model::Model;
pub use report::Report;
pub use time::{SimDuration, SimTime};
