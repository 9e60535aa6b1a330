//! Seed files: a failing chaos run, written down so that `scalelab replay` reproduces it
//! exactly, anywhere. The file embeds the scenario it ran (and its hash, to notice a
//! changed original), the seed, the explicit fault schedule, the failed invariant, the
//! trace hash to compare against, and the scalelab version.

use super::invariants::Violation;
use super::schedule::Fault;
use super::{Outcome, run_once};
use scenarios::{Diagnostic, Diagnostics, Overrides, Source};
use serde::{Deserialize, Serialize};

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

pub fn fnv(text: &str) -> String {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{h:016x}")
}

impl SeedFile {
    pub fn new(
        source: &Source,
        name: &str,
        duration: Option<sim_core::SimDuration>,
        o: &Outcome,
        v: &Violation,
    ) -> SeedFile {
        SeedFile {
            scalelab_version: env!("CARGO_PKG_VERSION").into(),
            scenario: name.into(),
            scenario_origin: source.origin.clone(),
            scenario_hash: fnv(&source.text),
            seed: o.seed,
            duration: duration.map(|d| format!("{}ms", d.as_nanos() / 1_000_000)),
            invariant: v.invariant.into(),
            detail: v.detail.clone(),
            trace_hash: o.trace_hash.clone(),
            faults: o
                .faults
                .iter()
                .map(|f| FaultEntry { start_ms: f.start_ms, end_ms: f.end_ms, toml: f.toml.clone() })
                .collect(),
            scenario_text: source.text.clone(),
        }
    }

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
                    "seed files are written by `scalelab chaos --out DIR`; regenerate it rather than edit it".into(),
                ),
                span: e.span(),
            }],
        })
    }
}

/// `scalelab replay FILE`: runs the file's scenario, seed and schedule again and says
/// whether the failure and the trace hash are the same. Exit 0 if reproduced, 5 if not.
pub fn replay(path: &str) -> anyhow::Result<i32> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {path}: {e}");
            return Ok(crate::EXIT_INPUT);
        }
    };
    let file = match SeedFile::parse(path, &text) {
        Ok(f) => f,
        Err(d) => {
            eprint!("{d}");
            return Ok(crate::EXIT_INPUT);
        }
    };
    if file.scalelab_version != env!("CARGO_PKG_VERSION") {
        eprintln!(
            "note: written by scalelab {}, replayed by {}: a difference may come from the version",
            file.scalelab_version,
            env!("CARGO_PKG_VERSION")
        );
    }
    if fnv(&file.scenario_text) != file.scenario_hash {
        eprintln!("error: {path}: the embedded scenario does not match its hash: the file was edited");
        return Ok(crate::EXIT_INPUT);
    }
    if let Ok(current) = scenarios::resolve(&file.scenario_origin)
        && fnv(&current.text) != file.scenario_hash
    {
        eprintln!(
            "note: {} has changed since this run; replaying the copy embedded in the seed file",
            file.scenario_origin
        );
    }
    let duration = match file.duration.as_deref().map(scenarios::parse_duration).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {path}: duration: {e}");
            return Ok(crate::EXIT_INPUT);
        }
    };
    let source = Source { origin: file.scenario_origin.clone(), text: file.scenario_text.clone() };
    let overrides = Overrides { duration, ..Overrides::default() };
    let faults: Vec<Fault> =
        file.faults.iter().map(|f| Fault { start_ms: f.start_ms, end_ms: f.end_ms, toml: f.toml.clone() }).collect();
    let (violation, trace_hash) = run_once(&source, &overrides, file.seed, &faults);
    let same_failure = violation.as_ref().is_some_and(|v| v.invariant == file.invariant);
    match &violation {
        Some(v) => println!("{} seed {}: {} failed: {}", file.scenario, file.seed, v.invariant, v.detail),
        None => println!("{} seed {}: every invariant held", file.scenario, file.seed),
    }
    println!("trace hash {trace_hash} (recorded {})", file.trace_hash);
    if same_failure && trace_hash == file.trace_hash {
        println!("reproduced: the same failure and the same trace hash");
        Ok(0)
    } else {
        println!("NOT reproduced: the run differs from the recorded one");
        Ok(5)
    }
}
