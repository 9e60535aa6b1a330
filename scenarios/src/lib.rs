//! scenarios: the scenario file format (TOML), its validation, and the built-in library.
//!
//! Parsing runs in two stages: `file` is a serde mirror of the TOML with source spans;
//! `lower` resolves names, evaluates parameter expressions, converts units, checks limits
//! and routes, and produces a `Scenario` holding a `sim_core::Model`. Every problem is a
//! `Diagnostic` with a span, rendered with file, line and column.

mod breaker;
pub mod budget;
pub mod builtin;
mod components;
pub mod diagnostic;
pub mod duration;
pub mod expect;
pub mod expr;
pub mod fault;
mod fault_file;
mod field_override;
mod file;
mod hedge;
mod hop;
pub mod limits;
mod lower;
mod retry;
mod scaling;
pub mod seed_file;
pub mod steps;
mod values;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use duration::parse_duration;

use sim_core::{Model, SimDuration};

/// A parameter as declared, with the value in force.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    pub value: f64,
    pub default: f64,
    pub dim: expr::Dim,
    pub unit: String,
    pub description: String,
}

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    /// Where the scenario belongs in the library (`queueing`, `pixelcraft`...).
    pub group: String,
    pub lesson: String,
    pub watch: Vec<String>,
    pub params: Vec<ParamInfo>,
    /// The scenario's own default seed (`[run] seed`, else 1).
    pub seed: u64,
    pub model: Model,
    /// What the lesson predicts, checked after the run.
    pub expectations: Vec<expect::Expectation>,
    /// The lesson told as the run goes, in file order.
    pub steps: Vec<steps::Step>,
    /// Adjustments made while applying overrides, for the user to see.
    pub notes: Vec<String>,
    /// Problems that do not stop a run (a cache with nothing behind it), located in the
    /// file; `scalelab validate` prints them.
    pub warnings: Vec<Diagnostic>,
    /// The rendered `warnings` (file:line:column, the line quoted), empty when there are none.
    pub warnings_text: String,
    /// What `scalelab chaos` may do to this scenario.
    pub chaos: ChaosLimits,
    /// The names its faults may use.
    pub names: fault::Names,
}

impl Scenario {
    /// Whether `fault` needs a model of another shape than this one: a scale fault past
    /// the instances its service was lowered with. Such a fault cannot join this scenario
    /// (`with_faults` refuses it) nor a run under way (`Simulation::add_faults` refuses the
    /// model); parse the scenario again with it (`parse_with_faults`) and replay from t = 0.
    pub fn reshapes(&self, fault: &fault::Fault) -> bool {
        let fault::FaultKind::Scale { service, instances } = &fault.kind else { return false };
        let n = &self.names;
        n.services.iter().position(|s| s == service).is_some_and(|s| *instances as usize > n.service_instances[s].len())
    }

    /// This scenario with `faults` after its own (a chaos schedule, faults from the TUI's
    /// menu): the model its file with their `[[faults]]` tables appended lowers to.
    pub fn with_faults(&self, faults: &[fault::Fault]) -> Result<Scenario, fault::FaultError> {
        let mut s = self.clone();
        for f in faults {
            f.lower(&self.names, &mut s.model.faults, &mut s.model.partitions)?;
        }
        // In the order the parser checks: the faults themselves, their times, the load.
        if let Some(f) = faults.iter().find(|f| f.at >= s.model.duration) {
            let message = format!(
                "this fault at {} is not before the run's end ({}): it would never happen",
                f.at, s.model.duration
            );
            return Err(fault::FaultError { part: fault::Part::Target, message, help: None });
        }
        // A surge multiplies the load: the budget is checked again with it.
        if let Err((message, help)) = budget::Estimate::of(&s.model).check() {
            return Err(fault::FaultError { part: fault::Part::Target, message, help: Some(help) });
        }
        Ok(s)
    }
}

/// Limits on the fault schedules `scalelab chaos` draws (the `[chaos]` table).
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosLimits {
    /// At most this many faults a run (at least one).
    pub max_faults: u32,
    /// Faults start after this share of the run and end before `end` of it.
    pub start: f64,
    pub end: f64,
    /// The kinds drawn: crash, partition, slow, flaky, surge, skew.
    pub kinds: Vec<String>,
    /// AP data must agree again within this long of a heal.
    pub converge_within: SimDuration,
    /// A backlog the faults leave (a surge's queue with no timeout) must drain within
    /// this long of the settling time after the last fault.
    pub drain_within: SimDuration,
    /// When set, every run must be healthy again (the recovery figure, `view::recovery`)
    /// within this long of its last fault's end: the `recovers` invariant. Unset by default,
    /// since a run that loses capacity for good (a crash with no restart in the window, a
    /// slower replica set) is degraded by design and `liveness` judges it more loosely.
    pub recover_within: Option<SimDuration>,
}

/// Fault kinds a chaos schedule can draw.
pub const CHAOS_KINDS: [&str; 6] = ["crash", "partition", "slow", "flaky", "surge", "skew"];

impl Default for ChaosLimits {
    fn default() -> Self {
        ChaosLimits {
            max_faults: 4,
            start: 0.15,
            end: 0.6,
            kinds: CHAOS_KINDS.iter().map(|k| k.to_string()).collect(),
            converge_within: SimDuration::from_secs(60),
            drain_within: SimDuration::from_secs(1_800),
            recover_within: None,
        }
    }
}

/// Command-line changes applied while lowering.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--set NAME=VALUE` (a parameter) or `--set ID.KEY=VALUE` (a component's key), in order.
    pub set: Vec<(String, String)>,
    /// `--duration D`.
    pub duration: Option<SimDuration>,
    /// `--warmup D`.
    pub warmup: Option<SimDuration>,
}

impl Overrides {
    /// Overrides that set parameters, as `--set NAME=VALUE` does.
    pub fn with_set(pairs: &[(&str, &str)]) -> Overrides {
        Overrides { set: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), ..Overrides::default() }
    }
}

/// Why a scenario could not be loaded.
#[derive(Clone, Debug)]
pub enum LoadError {
    /// No such built-in or file, or the file could not be read.
    NotFound(String),
    /// The scenario does not parse or validate.
    Invalid(Diagnostics),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotFound(e) => writeln!(f, "error: {e}"),
            LoadError::Invalid(d) => {
                let n = d.items.len();
                write!(f, "{d}\n{n} error{} in {}\n", if n == 1 { "" } else { "s" }, d.origin)
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Resolves a built-in name or a file path and parses it with `overrides`.
pub fn load(name_or_path: &str, overrides: &Overrides) -> Result<Scenario, LoadError> {
    let source = resolve(name_or_path).map_err(LoadError::NotFound)?;
    parse(&source, overrides).map_err(LoadError::Invalid)
}

/// A scenario's text and where it came from.
#[derive(Clone, Debug)]
pub struct Source {
    /// A path as given, or `builtin:NAME`.
    pub origin: String,
    pub text: String,
}

/// Files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a text file through the size cap whatever its kind: a regular file, a pipe or
/// a device such as `/dev/zero` (whose length the metadata does not tell) stops at
/// `MAX_FILE_BYTES`. `what` names the kind of file in the messages.
pub fn read_capped(path: &str, what: &str) -> Result<String, String> {
    use std::io::Read;
    let p = std::path::Path::new(path);
    if p.is_dir() {
        return Err(format!("`{path}` is a directory, not a {what}"));
    }
    let file = std::fs::File::open(p).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("`{path}` is over {MAX_FILE_BYTES} bytes; a {what} is limited to {MAX_FILE_BYTES} bytes"));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..at]);
        let line = 1 + text.matches('\n').count();
        let column = 1 + text.rsplit('\n').next().map_or(0, |l| l.chars().count());
        format!("`{path}`:{line}:{column}: the file is not UTF-8 text (byte {at} is invalid); save it as UTF-8")
    })
}

/// Finds a built-in scenario by name, or reads a file by path.
pub fn resolve(name_or_path: &str) -> Result<Source, String> {
    if let Some(text) = builtin::get(name_or_path) {
        return Ok(Source { origin: format!("builtin:{name_or_path}"), text: text.to_string() });
    }
    if !std::path::Path::new(name_or_path).exists() {
        let mut msg = format!("no built-in scenario or file named `{name_or_path}`");
        if let Some(s) = diagnostic::did_you_mean(name_or_path, builtin::names()) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        msg.push_str(" (`scalelab list` shows the built-in scenarios)");
        return Err(msg);
    }
    let text = read_capped(name_or_path, "scenario file")?;
    // A seed file (a TUI session, a failing chaos run) stands for the run it records: its
    // scenario with its faults.
    if seed_file::is_seed_file(&text) {
        return match seed_file::SeedFile::parse(name_or_path, &text) {
            Ok(file) => Ok(file.source(name_or_path)),
            Err(d) => Err(d.to_string().trim_start_matches("error: ").trim_end().to_string()),
        };
    }
    Ok(Source { origin: name_or_path.to_string(), text })
}

/// Parses `source` with `faults` appended to its `[[faults]]`, as a seed file replays
/// them: the way to add a fault that reshapes the model (`Scenario::reshapes`).
pub fn parse_with_faults(
    source: &Source,
    overrides: &Overrides,
    faults: &[fault::Fault],
) -> Result<Scenario, Diagnostics> {
    let tables: Vec<String> = faults.iter().map(fault::Fault::to_toml).collect();
    let text = seed_file::with_faults(&source.text, tables.iter().map(String::as_str));
    parse(&Source { origin: source.origin.clone(), text }, overrides)
}

/// Parses and validates a scenario, applying `overrides`.
pub fn parse(source: &Source, overrides: &Overrides) -> Result<Scenario, Diagnostics> {
    let fail = |items| Diagnostics { origin: source.origin.clone(), source: source.text.clone(), items };
    let file: file::ScenarioFile = toml::from_str(&source.text).map_err(|e| fail(vec![toml_error(&e)]))?;
    let mut scenario = lower::lower(file, &source.text, overrides).map_err(fail)?;
    if !scenario.warnings.is_empty() {
        scenario.warnings_text = fail(scenario.warnings.clone()).render("warning");
    }
    Ok(scenario)
}

/// Turns a TOML or serde error into a diagnostic, adding a suggestion for unknown keys.
fn toml_error(e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim().to_string();
    let mut d = Diagnostic { message: message.clone(), help: None, span: e.span() };
    // serde's wording: "unknown field `wrokers`, expected one of `a`, `b`" (or "expected `a`").
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((word, expected)) = rest.split_once('`') {
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            if let Some(s) = diagnostic::did_you_mean(word, candidates.iter().copied()) {
                d.help = Some(format!("did you mean `{s}`?"));
            } else if !candidates.is_empty() {
                d.help = Some(format!("remove it; accepted keys here: {}", candidates.join(", ")));
            }
        }
    } else if message.starts_with("missing field") {
        d.help = Some("add it; README.md, 'Scenario format', lists every key".to_string());
    }
    d
}
