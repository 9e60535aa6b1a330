//! Views of a run: building its report, read-only looks at a run under way (for the TUI:
//! `observe`, the traced requests in `tracing`, the event inspector's words in
//! `event_text`), and two runs stepped side by side.

pub mod event_text;
mod explain;
pub mod lockstep;
mod observe;
pub mod recovery;
mod report_builder;
mod tracing;
