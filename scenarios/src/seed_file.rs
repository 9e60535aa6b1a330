//! Seed files: a run written down so that `scalelab replay` reproduces it exactly,
//! anywhere. A failing chaos run or a TUI session with hand-injected faults: the file
//! embeds the scenario it ran (and its hash, to notice a changed original), the seed, the
//! explicit fault schedule, what failed, the trace hash to compare against, and the
//! scalelab version. Its first line is the FNV-1a hash of every byte after it, so any
//! edit (a field, a comment, one flipped bit) is refused rather than replayed.

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

/// The first line's key: `file_hash = "<16 hex digits>"`.
const HASH_KEY: &str = "file_hash = \"";

/// Whether `text` is a seed file (its first line is the file hash, a key no scenario has).
pub fn is_seed_file(text: &str) -> bool {
    text.starts_with(HASH_KEY)
}

/// The seed file at `path`, if `path` is a readable, intact seed file: what `run` and `tui`
/// need beyond its scenario (the seed, the run length) when given one.
pub fn saved(path: &str) -> Option<SeedFile> {
    let text = crate::read_capped(path, "seed file").ok()?;
    is_seed_file(&text).then(|| SeedFile::parse(path, &text).ok()).flatten()
}

impl SeedFile {
    /// The run it records as a scenario: the embedded scenario with its `[[faults]]`
    /// tables appended (what `scalelab replay` parses), located as such.
    pub fn source(&self, path: &str) -> crate::Source {
        let text = with_faults(&self.scenario_text, self.faults.iter().map(|f| f.toml.as_str()));
        let what = if self.invariant == SESSION { "a session saved from the TUI" } else { "a chaos seed file" };
        crate::Source { origin: format!("{path} ({what}: its scenario_text with its faults appended)"), text }
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a seed file serializes");
        let body = format!(
            "# scalelab seed file: `scalelab replay THIS_FILE` reproduces the run.\n\
             # file_hash covers every byte below it: regenerate the file rather than edit it.\n{body}"
        );
        format!("{HASH_KEY}{}\"\n{body}", fnv(&body))
    }

    /// Parses a seed file, with located errors for a corrupted or hand-edited one.
    pub fn parse(path: &str, text: &str) -> Result<SeedFile, Diagnostics> {
        let fail = |message: String, span: Option<std::ops::Range<usize>>| {
            Diagnostics {
            origin: path.into(),
            source: text.into(),
            items: vec![Diagnostic {
                message,
                help: Some(
                    "seed files are written by `scalelab chaos --out DIR` and the TUI's `w` key; regenerate it rather than edit it".into(),
                ),
                span,
            }],
        }
        };
        let (first, body) = text.split_once('\n').unwrap_or((text, ""));
        let recorded = first.strip_prefix(HASH_KEY).and_then(|r| r.strip_suffix('"'));
        let Some(recorded) = recorded.filter(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit())) else {
            return Err(fail(
                "the first line is not `file_hash = \"<16 hex digits>\"`: this is not a seed file, or it was edited"
                    .into(),
                Some(0..first.len()),
            ));
        };
        if fnv(body) != recorded {
            return Err(fail(
                format!(
                    "the file does not match its hash (file_hash {recorded}, contents {}): it was edited or corrupted",
                    fnv(body)
                ),
                Some(0..first.len()),
            ));
        }
        let offset = first.len() + 1;
        toml::from_str(body)
            .map_err(|e| fail(e.message().trim().to_string(), e.span().map(|s| s.start + offset..s.end + offset)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SeedFile {
        SeedFile {
            scalelab_version: "0.1.0".into(),
            scenario: "mm1".into(),
            scenario_origin: "builtin:mm1".into(),
            scenario_hash: fnv("name = \"mm1\"\n"),
            seed: 7,
            duration: Some("2000ms".into()),
            invariant: "liveness".into(),
            detail: "no completion".into(),
            trace_hash: "0123456789abcdef".into(),
            events: None,
            faults: vec![FaultEntry {
                start_ms: 411,
                end_ms: 900,
                toml: "[[faults]]\nat = \"411ms\"\ncrash = \"web-1\"\n".into(),
            }],
            scenario_text: "name = \"mm1\"\n".into(),
        }
    }

    #[test]
    fn a_written_file_parses_back_to_itself() {
        let text = sample().to_toml();
        assert!(text.starts_with("file_hash = \""), "{text}");
        assert_eq!(SeedFile::parse("x.toml", &text).unwrap(), sample());
    }

    /// Every byte matters: flipping bit 0 or bit 6 of any one byte (the hash line, a
    /// comment, a field, the final newline) is refused. (The file is ASCII, so these
    /// flips keep it text: each one reaches the parser.)
    #[test]
    fn every_flipped_byte_is_refused() {
        let text = sample().to_toml();
        for i in 0..text.len() {
            for bit in [0x01u8, 0x40] {
                let mut bytes = text.clone().into_bytes();
                bytes[i] ^= bit;
                let edited = String::from_utf8(bytes).expect("an ASCII file stays ASCII");
                assert!(SeedFile::parse("x.toml", &edited).is_err(), "flipping bit {bit:#x} of byte {i} was accepted");
            }
        }
    }

    #[test]
    fn an_edited_field_names_the_hash_on_line_one() {
        let text = sample().to_toml().replace("end_ms = 900", "end_ms = 18446744073709551615");
        let d = SeedFile::parse("x.toml", &text).unwrap_err();
        assert!(d.items[0].message.contains("does not match its hash"), "{}", d.items[0].message);
        assert_eq!(d.items[0].span, Some(0..30));
    }
}
