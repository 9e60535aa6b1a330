//! Slice files and `scalelab merge`.
//!
//! A command run with `--shard K/N` prints its slice on stdout as JSON lines: first a
//! header (`Header`: the command, its arguments without `--shard`, `--shards` and `--jobs`,
//! a hash of each scenario's text, K, N, how many runs the whole job has and which of them
//! this slice ran), then one line per run, `{"unit": I, "run": {...}}`, holding the small
//! per-run summary that the command renders from (`chaos::ChaosRun`, `sweep::SweepRun`,
//! `compare::CompareRun`). `merge` checks that the files are the N slices of one job,
//! parses the arguments again, and hands the runs, in order, to the same renderer the
//! single-machine command uses: its output is that command's, byte for byte.

use crate::cli::{Cli, Command};
use anyhow::{Context, bail};
use clap::Parser;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The header's format tag; a change to the lines bumps it.
pub const FORMAT: &str = "scalelab-slice/1";

/// The arguments a slice leaves out of its header: they say which slice, or how fast, and
/// never what the runs compute.
const NOT_THE_JOB: [&str; 3] = ["--shard", "--shards", "--jobs"];

/// A slice's first line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always `FORMAT`.
    pub scalelab_slice: String,
    /// `chaos`, `sweep` or `compare`.
    pub command: String,
    /// The command line after `scalelab`, without `NOT_THE_JOB`: what every slice shares.
    pub args: Vec<String>,
    /// FNV-1a 64 of each scenario's text, in hex: the files must not change between slices.
    pub sources: Vec<String>,
    pub shard: u64,
    pub shards: u64,
    /// Runs in the whole job.
    pub units: u64,
    /// The runs of this slice: `first..end`.
    pub first: u64,
    pub end: u64,
}

/// One run's line.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record<T> {
    unit: u64,
    run: T,
}

/// The command line of this process without `NOT_THE_JOB` and their values. An argument
/// that is not UTF-8 (only a path can be) is kept lossily: its slices still match each
/// other, but `merge` then names another path.
pub fn job_args() -> Vec<String> {
    strip(std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()))
}

fn strip(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        if NOT_THE_JOB.contains(&a.as_str()) {
            args.next();
        } else if !NOT_THE_JOB.iter().any(|f| a.starts_with(&format!("{f}="))) {
            out.push(a);
        }
    }
    out
}

/// The hash of a scenario's text as the header keeps it.
pub fn source_hash(text: &str) -> String {
    format!("{:016x}", sim_core::kernel::hash::fnv1a64(text.as_bytes()))
}

/// The hashes of the scenarios `names` resolve to (built-in names or files).
pub fn source_hashes<'a>(names: impl Iterator<Item = &'a String>) -> anyhow::Result<Vec<String>> {
    names.map(|n| Ok(source_hash(&scenarios::resolve(n).map_err(|e| anyhow::anyhow!(e))?.text))).collect()
}

/// Prints slice `shard` of `command`: the header, then each run's summary. `runs` are the
/// slice's runs in order, from `first`.
pub fn write<T: Serialize>(
    command: &str,
    sources: Vec<String>,
    shard: crate::shard::Shard,
    units: u64,
    runs: &[T],
) -> anyhow::Result<()> {
    let range = shard.range(units);
    assert_eq!(runs.len() as u64, range.end - range.start, "a slice prints its whole range");
    let header = Header {
        scalelab_slice: FORMAT.into(),
        command: command.into(),
        args: job_args(),
        sources,
        shard: shard.k,
        shards: shard.n,
        units,
        first: range.start,
        end: range.end,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "{}", serde_json::to_string(&header)?)?;
    for (unit, run) in range.zip(runs) {
        writeln!(out, "{}", serde_json::to_string(&Record { unit, run })?)?;
    }
    out.flush()?;
    Ok(())
}

/// What the single-machine path renders from: the runs' summaries after the same trip
/// through JSON that a slice's take, so that anything JSON cannot hold (a NaN in an
/// optional figure reads back as null: "does not apply") reads the same on one machine as
/// merged.
pub fn through_json<T: Serialize + DeserializeOwned>(runs: Vec<T>) -> anyhow::Result<Vec<T>> {
    runs.iter().map(|r| Ok(serde_json::from_str(&serde_json::to_string(r)?)?)).collect()
}

/// A float field of a per-run summary that may be NaN or infinite, which JSON numbers
/// cannot hold: written as a number when finite, else as `"NaN"`, `"inf"` or `"-inf"`,
/// and read back to the same value (`#[serde(with = "crate::merge::any_f64")]`).
pub mod any_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        match *x {
            x if x.is_finite() => s.serialize_f64(x),
            x if x.is_nan() => s.serialize_str("NaN"),
            x if x > 0.0 => s.serialize_str("inf"),
            _ => s.serialize_str("-inf"),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Number(f64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match Written::deserialize(d)? {
            Written::Number(x) => Ok(x),
            Written::Text(t) => match t.as_str() {
                "NaN" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                other => Err(serde::de::Error::custom(format!("expected a number, NaN, inf or -inf, found `{other}`"))),
            },
        }
    }
}

/// The slices given to `merge`, checked to be the N slices of one job, in order of K.
pub struct Slices {
    pub header: Header,
    files: Vec<PathBuf>,
}

fn lines(path: &Path) -> anyhow::Result<impl Iterator<Item = (usize, std::io::Result<String>)>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(std::io::BufReader::new(file).lines().enumerate().map(|(i, l)| (i + 1, l)))
}

fn read_header(path: &Path) -> anyhow::Result<Header> {
    let what = "not a slice (the standard output of `scalelab chaos|sweep|compare ... --shard K/N`)";
    let Some((n, line)) = lines(path)?.find(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty())) else {
        bail!("{}: empty, {what}: did the job fail before it started?", path.display());
    };
    let line = line.with_context(|| format!("{}:{n}: {what}", path.display()))?;
    let header: Header = serde_json::from_str(&line).map_err(|e| {
        let start: String = line.chars().take(60).collect();
        anyhow::anyhow!("{}:{n}: {what}: the first line must be a slice header, found `{start}` ({e})", path.display())
    })?;
    if header.scalelab_slice != FORMAT {
        bail!(
            "{}:{n}: a slice in format `{}`, this scalelab reads `{FORMAT}`: merge with the scalelab that wrote it",
            path.display(),
            header.scalelab_slice
        );
    }
    let expected = (header.shard >= 1 && header.shard <= header.shards && header.shards <= crate::shard::SHARDS_MAX)
        .then(|| crate::shard::range(header.units, header.shard, header.shards));
    if expected != Some(header.first..header.end) {
        bail!(
            "{}:{n}: the header says slice {}/{} holds runs {}..{} of {}, which is not that slice's range",
            path.display(),
            header.shard,
            header.shards,
            header.first,
            header.end,
            header.units
        );
    }
    Ok(header)
}

fn command_line(h: &Header) -> String {
    format!("scalelab {}", h.args.join(" "))
}

impl Slices {
    /// Reads each file's header and checks they are the slices 1..=N of one job, once each.
    pub fn open(files: &[PathBuf]) -> anyhow::Result<Slices> {
        if files.is_empty() {
            bail!("merge needs the slice files: scalelab merge slice-*.jsonl");
        }
        let mut slices: Vec<(Header, PathBuf)> = Vec::new();
        for f in files {
            slices.push((read_header(f)?, f.clone()));
        }
        let (first, first_file) = &slices[0];
        for (h, f) in &slices[1..] {
            let (a, b) = (first_file.display(), f.display());
            if h.command != first.command {
                bail!(
                    "{a} is a slice of `scalelab {}`, {b} of `scalelab {}`: slices of different commands do not merge",
                    first.command,
                    h.command
                );
            }
            if h.args != first.args || h.units != first.units {
                bail!(
                    "{a} and {b} are slices of different runs: `{}` and `{}`; merge the slices of one command line",
                    command_line(first),
                    command_line(h)
                );
            }
            if h.shards != first.shards {
                bail!(
                    "{a} is slice {} of {}, {b} slice {} of {}: the slices of one job share N",
                    first.shard,
                    first.shards,
                    h.shard,
                    h.shards
                );
            }
            if h.sources != first.sources {
                bail!("{a} and {b} ran different scenario texts: a scenario file changed between the slices");
            }
        }
        let n = first.shards;
        slices.sort_by_key(|(h, _)| h.shard);
        for pair in slices.windows(2) {
            if pair[0].0.shard == pair[1].0.shard {
                bail!(
                    "slice {}/{n} is given twice: {} and {}; give each slice once",
                    pair[0].0.shard,
                    pair[0].1.display(),
                    pair[1].1.display()
                );
            }
        }
        let missing: Vec<String> =
            (1..=n).filter(|k| !slices.iter().any(|(h, _)| h.shard == *k)).map(|k| k.to_string()).collect();
        if !missing.is_empty() {
            let given: Vec<String> = slices.iter().map(|(h, _)| h.shard.to_string()).collect();
            bail!(
                "slice{} {} of {n} {} missing (given: {}): a slice was not given, or its task did not run",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" },
                given.join(", ")
            );
        }
        let header = slices[0].0.clone();
        Ok(Slices { header, files: slices.into_iter().map(|(_, f)| f).collect() })
    }

    /// Checks the scenarios still hash as they did when the slices ran.
    pub fn check_sources(&self, now: &[String]) -> anyhow::Result<()> {
        if now != self.header.sources.as_slice() {
            bail!(
                "the scenario text differs from the one the slices ran (`{}`): a file changed since; merge \
                 where the slices ran, with the same files",
                command_line(&self.header)
            );
        }
        Ok(())
    }

    /// Every run, in order, as `f` takes it: the lines after each header, checked to be
    /// that slice's runs, in order, all there.
    pub fn for_each<T: DeserializeOwned>(&self, mut f: impl FnMut(u64, T)) -> anyhow::Result<()> {
        let n = self.header.shards;
        for (k, path) in (1..=n).zip(&self.files) {
            let range = crate::shard::range(self.header.units, k, n);
            let mut next = range.start;
            let mut header_seen = false;
            for (line_no, line) in lines(path)? {
                let at = || format!("{}:{line_no}", path.display());
                let line = line.with_context(|| format!("{}: not a line of text", at()))?;
                if line.trim().is_empty() {
                    continue;
                }
                if !header_seen {
                    header_seen = true;
                    continue;
                }
                let record: Record<T> = serde_json::from_str(&line)
                    .map_err(|e| anyhow::anyhow!("{}: not a run of a `{}` slice: {e}", at(), self.header.command))?;
                if record.unit != next || next >= range.end {
                    bail!(
                        "{}: expected run {next} of slice {k}/{n} (runs {}..{}), found run {}",
                        at(),
                        range.start,
                        range.end,
                        record.unit
                    );
                }
                f(record.unit, record.run);
                next += 1;
            }
            if next != range.end {
                bail!(
                    "{}: slice {k}/{n} holds {} of its {} runs ({}..{}): its task stopped early; run it again",
                    path.display(),
                    next - range.start,
                    range.end - range.start,
                    range.start,
                    range.end
                );
            }
        }
        Ok(())
    }

    /// Every run's summary, in order.
    pub fn runs<T: DeserializeOwned>(&self) -> anyhow::Result<Vec<T>> {
        let mut out = Vec::with_capacity(self.header.units.min(1 << 20) as usize);
        self.for_each(|_, r| out.push(r))?;
        Ok(out)
    }
}

/// `scalelab merge FILES...` (and `scalelab chaos merge FILES...`): prints what the
/// slices' command prints on one machine. `--json` or `--csv` choose that form, as on the
/// command; without either, the slices' own choice holds.
pub fn merge(files: &[PathBuf], json: bool, csv: bool) -> anyhow::Result<i32> {
    let slices = Slices::open(files)?;
    let argv = std::iter::once("scalelab".to_string()).chain(slices.header.args.iter().cloned());
    let cli = Cli::try_parse_from(argv).map_err(|e| {
        anyhow::anyhow!(
            "the slices' command line `{}` does not parse: {}",
            command_line(&slices.header),
            e.to_string().lines().next().unwrap_or_default()
        )
    })?;
    let kind_differs =
        |name: &str| anyhow::anyhow!("the slices say `{}` but their command line runs `{name}`", slices.header.command);
    match cli.command {
        Some(Command::Chaos(mut args)) if slices.header.command == "chaos" => {
            if csv {
                bail!("chaos prints no CSV: merge with --json or without");
            }
            args.json |= json;
            crate::chaos::merged(&args, &slices)
        }
        Some(Command::Sweep(mut args)) if slices.header.command == "sweep" => {
            (args.json, args.csv) = match (json, csv) {
                (false, false) => (args.json, args.csv),
                both => both,
            };
            crate::sweep::merged(&args, &slices)
        }
        Some(Command::Compare(mut args)) if slices.header.command == "compare" => {
            (args.json, args.csv) = match (json, csv) {
                (false, false) => (args.json, args.csv),
                both => both,
            };
            crate::compare::merged(&args, &slices)
        }
        Some(Command::Chaos(_)) => Err(kind_differs("chaos")),
        Some(Command::Sweep(_)) => Err(kind_differs("sweep")),
        Some(Command::Compare(_)) => Err(kind_differs("compare")),
        _ => bail!("the slices' command line `{}` is not chaos, sweep or compare", command_line(&slices.header)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_arguments_leave_out_which_slice_and_how_fast() {
        let args = ["chaos", "mm1", "--shard", "auto", "--shards=4", "--runs", "9", "--jobs", "2", "--shard=1/2"];
        assert_eq!(strip(args.iter().map(|s| s.to_string())), ["chaos", "mm1", "--runs", "9"]);
    }
}
