//! The terminal UI (issue 7). It will depend on sim-core and scenarios, never the reverse.
