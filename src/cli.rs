//! Command-line arguments (clap). Parsing only; the commands live in their own modules.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "scalelab",
    version,
    about = "Deterministic simulator of distributed-system architectures: \
what breaks between 100 users and a million, in numbers."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the terminal UI: step through a scenario, watch it, inject faults (`scalelab`
    /// alone opens it on pixelcraft-1m).
    Tui(TuiArgs),
    /// Run a scenario and print its report.
    Run(RunArgs),
    /// Run two scenarios or more (or one with --vary) on the same seeds, side by side.
    Compare(CompareArgs),
    /// Run one scenario across a range of one setting; plot a figure and find the knee.
    Sweep(SweepArgs),
    /// List the built-in scenarios, one a line: name and title.
    List,
    /// Print a built-in scenario's TOML, to copy and edit.
    Show {
        /// A built-in scenario name (see `scalelab list`).
        name: String,
    },
    /// Run many fault schedules drawn from seeds against a scenario and check invariants;
    /// exits 5 if a run fails one.
    Chaos(ChaosArgs),
    /// Merge the slice files of `chaos`, `sweep` or `compare` run with `--shard`: prints what
    /// the command prints on one machine, byte for byte, or says why the slices do not fit.
    Merge(MergeArgs),
    /// Re-run a chaos seed file and say whether it reproduces the same failure and trace.
    Replay {
        /// A seed file written by `scalelab chaos --out DIR`.
        file: String,
    },
    /// Print a scenario's architecture (services, calls with their classes and link
    /// latencies, replicas and shards) as a Mermaid flowchart or a Graphviz DOT graph.
    Diagram(DiagramArgs),
    /// Check a scenario file: prints `ok`, or the errors and exits 1.
    Validate {
        /// Path to a scenario file (or a built-in name).
        file: String,
        /// Parameter overrides to validate with, as with `run`.
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
        set: Vec<(String, String)>,
    },
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The slices: each the standard output of one `--shard K/N` run, N files in any order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the JSON form, as the command's --json does [default: the slices' form].
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the CSV form (sweep and compare), as the command's --csv does.
    #[arg(long)]
    pub csv: bool,
}

/// `--shard` and `--shards`, as `chaos`, `sweep` and `compare` take them.
#[derive(Args, Debug, Clone, Copy)]
pub struct ShardArgs {
    /// Run only slice K of N of the independent runs and print it as JSON lines on stdout
    /// for `scalelab merge`: 2/8, or `auto` for K and N from a Slurm job array
    /// (SLURM_ARRAY_*), a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or GNU parallel
    /// (PARALLEL_SEQ); see README's "Running on a cluster".
    #[arg(long, value_name = "K/N|auto", value_parser = crate::shard::parse)]
    pub shard: Option<crate::shard::ShardSpec>,
    /// With --shard auto: how many slices, where the engine does not say (Kubernetes, GNU
    /// parallel) [default: $SCALELAB_SHARDS].
    #[arg(long, value_name = "N", requires = "shard", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub shards: Option<u64>,
}

impl ShardArgs {
    /// The slice to run, resolved against the environment; `Err` is the exit status, the
    /// error printed.
    pub fn resolve(&self) -> Result<Option<crate::shard::Shard>, i32> {
        crate::shard::from_args(self.shard, self.shards).map_err(|e| {
            eprintln!("error: {e}");
            crate::EXIT_USAGE
        })
    }
}

#[derive(Args, Debug)]
pub struct TuiArgs {
    /// A built-in scenario name or a scenario file path [default: the scenario picker].
    pub scenario: Option<String>,
    /// Run seed [default: the scenario's].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where `w` saves session seed files [default: the current directory].
    #[arg(long, value_name = "DIR")]
    pub save_dir: Option<PathBuf>,
    /// No colours (also when the NO_COLOR environment variable is set).
    #[arg(long)]
    pub no_color: bool,
    /// Record the session as an asciicast (asciinema v2) into FILE, for asciinema's
    /// player or a GIF converter such as agg.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DiagramArgs {
    /// A built-in scenario name or a scenario file path.
    pub scenario: String,
    /// `mermaid` (renders on GitHub in a ```mermaid block), `dot` (for `dot -Tsvg`), or both.
    #[arg(long, value_enum, default_value_t = crate::diagram::Format::Mermaid)]
    pub format: crate::diagram::Format,
    /// Parameter overrides to draw with, as with `run` (--set web.count=4).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// A built-in scenario name or a scenario file path [default: pixelcraft-100-at-1m].
    pub scenario: Option<String>,
    /// Run seed; the same seed gives the same run, event for event [default: the scenario's].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated run length, replacing the scenario's: 500ms, 90s, 10m, 2h, 3d.
    #[arg(long, value_parser = parse_duration_arg)]
    pub duration: Option<sim_core::SimDuration>,
    /// Warm-up excluded from the statistics, replacing the scenario's: 30s, 5m.
    #[arg(long, value_parser = scenarios::parse_duration)]
    pub warmup: Option<sim_core::SimDuration>,
    /// Override a parameter (--set rate=9.5) or a component's key (--set web.count=8); repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Print one JSON report on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Include the per-interval time series in the JSON report.
    #[arg(long)]
    pub series: bool,
    /// Write every processed event to FILE as a JSON line.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Trace the first N requests issued after the warm-up hop by hop and write them as
    /// Chrome trace-event JSON (open it in ui.perfetto.dev), at most 10,000.
    #[arg(long, value_name = "N", value_parser = parse_trace_requests)]
    pub trace_requests: Option<usize>,
    /// Where --trace-requests writes [default: SCENARIO-requests.trace.json].
    #[arg(long, value_name = "PATH", requires = "trace_requests")]
    pub trace_out: Option<PathBuf>,
    /// Run twice in this process and compare the runs event by event; exit 4 on a mismatch.
    #[arg(long)]
    pub check_determinism: bool,
    /// Report the scenario's expectations but do not exit 3 when one fails.
    #[arg(long)]
    pub no_check: bool,
    /// Write charts of latency percentiles, throughput and errors over time to FILE (SVG).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Also run seeds SEED+1 .. SEED+K-1 and give every headline figure (percentiles, hit
    /// ratios, utilizations too) its mean and 95% interval over the K seeds
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub seeds: u16,
    /// Runs in parallel with --seeds [default: one per core]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Built-in scenario names or scenario files; one scenario with --vary.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<String>,
    /// Compare one scenario with each value of a setting: --vary lb.policy=round_robin,least_connections.
    #[arg(long, value_name = "KEY=A,B|LO..HI[:STEP]", value_parser = crate::vary::parse)]
    pub vary: Option<crate::vary::Vary>,
    #[command(flatten)]
    pub runs: BatchArgs,
    /// Print `{labels, seeds, runs: [REPORT...], rows: [{metric, values, best, significant}]}`.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the table as CSV.
    #[arg(long)]
    pub csv: bool,
    /// Write charts of p99 latency, throughput and errors over time, one line per scenario.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// A built-in scenario name or a scenario file.
    pub scenario: String,
    /// The setting and its values: web_servers=1..8, rate=100..1000:100, lb.policy=a,b.
    /// Twice for a grid: rows are the first setting's values, columns the second's.
    #[arg(long, required = true, value_name = "KEY=LO..HI[:STEP]", value_parser = crate::vary::parse)]
    pub vary: Vec<crate::vary::Vary>,
    /// With two --vary: each cell says whether the run recovered after its last fault or
    /// surge, and how soon ("ok 3s"), or stayed degraded ("DOWN"); see README's recovery.
    #[arg(long, value_name = "recovery", value_parser = ["recovery"])]
    pub map: Option<String>,
    /// The figure to plot: p99_ms, throughput_rps, error_rate, cost_usd_month... or any
    /// expectation metric (class.NAME.p99_ms, component.ID.KEY).
    #[arg(long, default_value = "p99_ms")]
    pub metric: String,
    /// The knee is the smallest value that meets this, such as "p99_ms < 200" [default:
    /// the scenario's expectations on the metric].
    #[arg(long, value_name = "EXPECTATION")]
    pub target: Option<String>,
    #[command(flatten)]
    pub runs: BatchArgs,
    /// Print the points as JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the points as CSV.
    #[arg(long)]
    pub csv: bool,
    /// Write the curve (with target and knee) and the error rate as an SVG chart.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

/// What `compare` and `sweep` share: the runs' seeds, settings and parallelism.
#[derive(Args, Debug)]
pub struct BatchArgs {
    /// First seed, the same for every run [default: the (first) scenario's].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Runs per scenario or value, on seeds SEED, SEED+1, ...: means with 95% confidence
    /// intervals, and wins within noise (overlapping intervals) marked as such.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub seeds: u32,
    /// Override a parameter (NAME=VALUE) or a component's key (ID.KEY=VALUE) in every run.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Simulated run length for every run: 10m.
    #[arg(long, value_parser = parse_duration_arg)]
    pub duration: Option<sim_core::SimDuration>,
    /// Warm-up for every run: 1m.
    #[arg(long, value_parser = scenarios::parse_duration)]
    pub warmup: Option<sim_core::SimDuration>,
    /// Runs in parallel [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    #[command(flatten)]
    pub shard: ShardArgs,
}

impl BatchArgs {
    pub fn overrides(&self) -> scenarios::Overrides {
        scenarios::Overrides { set: self.set.clone(), duration: self.duration, warmup: self.warmup }
    }

    /// The seeds of each scenario's runs, from `first` on.
    pub fn seeds(&self, first: u64) -> Vec<u64> {
        let first = self.seed.unwrap_or(first);
        (0..u64::from(self.seeds)).map(|i| first.wrapping_add(i)).collect()
    }

    pub fn threads(&self) -> usize {
        self.jobs.map_or_else(crate::batch::default_jobs, usize::from)
    }
}

#[derive(Args, Debug)]
pub struct ChaosArgs {
    /// A built-in scenario name or a scenario file path; or `merge` followed by the slice
    /// files (the same as `scalelab merge`).
    pub scenario: String,
    /// With `merge`: the slices' files.
    pub files: Vec<PathBuf>,
    /// How many runs (each with its own fault schedule), up to 10,000,000.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub runs: u64,
    /// The sweep's seed: run i uses a seed derived from it and i.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Runs in parallel on this many threads (up to 256); results are the same for any number.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Write a seed file for every failing run into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Simulated length of each run, replacing the scenario's: 2m.
    #[arg(long, value_parser = parse_duration_arg)]
    pub duration: Option<sim_core::SimDuration>,
    /// Reduce each failing schedule to a smallest one that still fails (needs --out).
    #[arg(long, requires = "out")]
    pub shrink: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub shard: ShardArgs,
}

fn parse_set(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!("expected NAME=VALUE, such as arrival_rate=9.5, found `{s}`")),
    }
}

fn parse_trace_requests(s: &str) -> Result<usize, String> {
    let max = sim_core::world::metrics::spans::MAX_TRACES;
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        Ok(0) => Err(format!("expected a number of requests to trace from 1 to {max}, found 0")),
        Ok(n) => Err(format!(
            "at most {max} requests are traced in one run (each keeps up to 10,000 spans), found {n}; \
             trace fewer, or run again with another --seed for more"
        )),
        Err(_) => Err(format!("expected a number of requests to trace from 1 to {max}, found `{s}`")),
    }
}

fn parse_duration_arg(s: &str) -> Result<sim_core::SimDuration, String> {
    let d = scenarios::parse_duration(s)?;
    if d.as_nanos() == 0 {
        return Err("the duration must be above zero".into());
    }
    Ok(d)
}
