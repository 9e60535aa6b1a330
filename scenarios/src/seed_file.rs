//! Seed files: a run written down so that `scalelab replay` reproduces it exactly,
//! anywhere. A failing chaos run or a TUI session with hand-injected faults: the file
//! embeds the scenario it ran (and its hash, to notice a changed original), the seed, the
//! explicit fault schedule, what failed, the trace hash to compare against, and the
//! scalelab version.

use crate::{Diagnostic, Diagnostics};
use serde::{Deserialize, Serialize};

/// The `invariant` of a session saved from the TUI: nothing failed, the trace is the point.
pub const SESSION: &str = "session";

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    pub scalelab_version: String,
    pub scenario: String,
    /// Where the scenario came from: `builtin:NAME` or a path.
    pub scenario_origin: String,
    /// FNV-1a of the scenario text, to notice that the original has changed since.
    pub scenario_hash: String,
    pub seed: u64,
    /// The run length the sweep used, if it replaced the scenario's.
    #[serde(default)]
    pub duration: Option<String>,
    pub invariant: String,
    pub detail: String,
    pub trace_hash: String,
    /// A session saved from the TUI stops after this many events (a chaos failure runs
    /// to the end).
    #[serde(default)]
    pub events: Option<u64>,
    pub faults: Vec<FaultEntry>,
    pub scenario_text: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultEntry {
    pub start_ms: u64,
    pub end_ms: u64,
    /// The fault as the scenario file writes it.
    pub toml: String,
}

/// The scenario text with `[[faults]]` tables appended (each ends with a newline). A
/// model lowered from it has the original faults first, in order, then these.
pub fn with_faults<'a>(text: &str, faults: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = text.trim_end().to_string();
    out.push_str("\n\n# faults added by chaos or by hand in the TUI\n");
    for f in faults {
        out.push_str(f);
    }
    out
}

/// FNV-1a of a text, as hex: the scenario's fingerprint.
pub fn fnv(text: &str) -> String {
    format!("{:016x}", sim_core::kernel::hash::fnv1a64(text.as_bytes()))
}

impl SeedFile {
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a seed file serializes");
        format!("# scalelab seed file: `scalelab replay THIS_FILE` reproduces the run.\n{body}")
    }

    /// Parses a seed file, with located errors for a corrupted or hand-edited one.
    pub fn parse(path: &str, text: &str) -> Result<SeedFile, Diagnostics> {
        toml::from_str(text).map_err(|e| Diagnostics {
            origin: path.into(),
            source: text.into(),
            items: vec![Diagnostic {
                message: e.message().trim().to_string(),
                help: Some(
                    "seed files are written by `scalelab chaos --out DIR` and the TUI's `w` key; regenerate it rather than edit it".into(),
                ),
                span: e.span(),
            }],
        })
    }
}
