//! The built-in scenario library: TOML files under `scenarios/builtin/`, embedded in the
//! binary so `scalelab run mm1` works anywhere, and printable with `scalelab show`.

/// (name, file text) of every built-in scenario, in the order `scalelab list` shows them.
pub const BUILTIN: [(&str, &str); 2] =
    [("mm1", include_str!("../builtin/mm1.toml")), ("mmc", include_str!("../builtin/mmc.toml"))];

/// The scenario `scalelab run` uses when none is named.
pub const DEFAULT_SCENARIO: &str = "mm1";

pub fn get(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}
