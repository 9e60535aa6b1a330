//! sim-core: scalelab's deterministic discrete-event engine and its component models.
//!
//! Simulated time is integer nanoseconds; events are ordered by (time, insertion
//! sequence); every random draw comes from a ChaCha8 stream keyed by the run seed and the
//! drawing entity's stable name. Nothing here reads the wall clock, spawns a thread or
//! iterates a hash map, so a seed and a model determine a run event for event.
//!
//! The modules are layers, each importing only from those listed before it (a test
//! checks): `kernel` < `event` < `model` < `theory` < `world` < `ctx` < `report` <
//! `component` < `engine` < `view` < `harness`. `theory`, the analytic twin, reads only the
//! model, so it sits right above it. ARCHITECTURE.md draws them.

pub mod component;
pub mod ctx;
pub mod engine;
pub mod event;
pub mod harness;
pub mod kernel;
pub mod model;
pub mod report;
pub mod theory;
pub mod view;
pub mod world;

pub use engine::Simulation;
pub use kernel::distribution::Delay;
pub use kernel::time::{SimDuration, SimTime};
pub use model::Model;
pub use report::Report;
