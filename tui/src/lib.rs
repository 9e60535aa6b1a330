//! scalelab's terminal UI: step through a scenario, watch it, inject faults.
//!
//! The Elm architecture over read-only snapshots. A `Session` (the run, hand faults,
//! checkpoints) lives on its own thread (`runner`), receives `Control`s and sends
//! `Snapshot`s over crossbeam channels; the UI (`app`: one state, one `update`, pure
//! views in `view`) never touches the simulation. tokio drives only the terminal's input
//! and frame ticks (`terminal`). Depends on sim-core and scenarios, never the reverse.

pub mod app;
pub mod catalogue;
pub mod insight;
pub mod keymap;
pub mod runner;
pub mod session;
pub mod snapshot;
pub mod terminal;
pub mod view;

pub use terminal::{Options, run};
