//! Views of a run: building its report, read-only looks at a run under way (for the TUI),
//! and two runs stepped side by side.

mod explain;
pub mod lockstep;
mod observe;
mod report_builder;
mod tracing;
