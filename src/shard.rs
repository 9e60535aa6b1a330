//! `--shard K/N | auto`: which slice of a command's independent runs this process runs.
//!
//! A slice is the contiguous range `units * (K - 1) / N .. units * K / N` of the runs
//! (chaos: run indexes; sweep: (point, seed) runs; compare: (variant, seed) runs), so the
//! N slices cover every run exactly once for any N, including N above the number of runs
//! (some slices are then empty). `auto` reads K and N from the environment a cluster sets
//! for each task of an array job, through `resolve`, which takes the environment as a
//! lookup so that its tests need no process environment.

use std::fmt;

/// The environment variable that gives N to the engines that do not say it themselves
/// (Kubernetes Indexed Jobs, GNU parallel); `--shards N` wins over it.
pub const SHARDS_VAR: &str = "SCALELAB_SHARDS";

/// What `--shard` was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardSpec {
    /// Slice K of N, 1 <= K <= N.
    Fixed(u64, u64),
    /// Slice K of N as the environment says (`resolve`).
    Auto,
}

/// A resolved slice: K of N, 1 <= K <= N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    /// The range of `units` runs that this slice runs.
    pub fn range(&self, units: u64) -> std::ops::Range<u64> {
        range(units, self.k, self.n)
    }
}

/// The runs `units * (k - 1) / n .. units * k / n` (in 128 bits: no overflow).
pub fn range(units: u64, k: u64, n: u64) -> std::ops::Range<u64> {
    assert!(1 <= k && k <= n, "slice {k} of {n}");
    let at = |k: u64| (u128::from(units) * u128::from(k) / u128::from(n)) as u64;
    at(k - 1)..at(k)
}

/// At most this many slices: more would be a typo, and a slice header names its K.
pub const SHARDS_MAX: u64 = 1_000_000;

/// Parses `--shard`: `K/N` or `auto`.
pub fn parse(s: &str) -> Result<ShardSpec, String> {
    if s.trim() == "auto" {
        return Ok(ShardSpec::Auto);
    }
    let bad = || {
        format!(
            "expected K/N with 1 <= K <= N <= {SHARDS_MAX}, such as 2/8, or `auto` (K and N from Slurm, \
             Kubernetes or GNU parallel), found `{s}`"
        )
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (u64, u64) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if k == 0 || k > n || n > SHARDS_MAX {
        return Err(bad());
    }
    Ok(ShardSpec::Fixed(k, n))
}

/// Why `--shard auto` found no slice.
#[derive(Debug, PartialEq, Eq)]
pub enum ShardError {
    /// None of the engines' variables is set.
    NoEngine,
    /// A variable is set but is not a number.
    NotANumber { var: &'static str, value: String },
    /// The engine gives K but nothing gives N.
    NoCount { engine: &'static str, index_var: &'static str },
    /// K, as the engine gives it, is outside 1..=N.
    OutOfRange { engine: &'static str, detail: String },
    /// `--shards N` and the engine's own count disagree.
    CountMismatch { engine: &'static str, flag: u64, env: u64 },
    /// `--shards` given with a fixed `--shard K/N`.
    ShardsWithFixed { flag: u64, n: u64 },
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardError::NoEngine => write!(
                f,
                "--shard auto found no slice in the environment: it reads SLURM_ARRAY_TASK_ID (a Slurm job \
                 array, with SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_STEP and SLURM_ARRAY_TASK_COUNT), then \
                 JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), then PARALLEL_SEQ (GNU parallel), and none \
                 is set; run it as a task of one of those, or give the slice as --shard K/N"
            ),
            ShardError::NotANumber { var, value } => {
                write!(f, "--shard auto: {var} must be a whole number, found `{value}`")
            }
            ShardError::NoCount { engine, index_var } => write!(
                f,
                "--shard auto: {engine} gives the slice ({index_var}) but not how many there are: give \
                 --shards N or set {SHARDS_VAR}=N (a Kubernetes Job sets it to its `completions`; with \
                 GNU parallel, the number of jobs)"
            ),
            ShardError::OutOfRange { engine, detail } => write!(f, "--shard auto: {engine}: {detail}"),
            ShardError::CountMismatch { engine, flag, env } => write!(
                f,
                "--shard auto: --shards {flag} but {engine} says there are {env} slices; drop --shards, or \
                 make them agree"
            ),
            ShardError::ShardsWithFixed { flag, n } => write!(
                f,
                "--shards {flag} goes with --shard auto; --shard K/{n} already says how many slices there are"
            ),
        }
    }
}

impl std::error::Error for ShardError {}

/// Resolves `spec` with `shards` (the `--shards` flag) and the environment `env`. `auto`
/// looks, in this order, for:
///
/// - a Slurm job array: `SLURM_ARRAY_TASK_ID`, with `SLURM_ARRAY_TASK_MIN` (default 0),
///   `SLURM_ARRAY_TASK_STEP` (default 1) and `SLURM_ARRAY_TASK_COUNT`:
///   K = (ID - MIN) / STEP + 1, N = COUNT (`--array=1-8` and `--array=0-7` both give 1..=8);
/// - a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (0-based), K = index + 1, N from
///   `--shards` or `SCALELAB_SHARDS`;
/// - GNU parallel: `PARALLEL_SEQ`, K = the job's sequence number (1-based), N from
///   `--shards` or `SCALELAB_SHARDS`. The sequence number and not `PARALLEL_JOBSLOT`:
///   the slot is the number of the worker that runs the job, 1..=-j, and is handed to the
///   next job when one ends, so with more jobs than slots two slices would share a slot
///   number and one would be run twice and another never; `PARALLEL_SEQ` numbers the
///   jobs themselves, 1, 2, 3..., each once.
pub fn resolve(
    spec: ShardSpec,
    shards: Option<u64>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Shard, ShardError> {
    let (k, n) = match spec {
        ShardSpec::Fixed(k, n) => {
            if let Some(flag) = shards
                && flag != n
            {
                return Err(ShardError::ShardsWithFixed { flag, n });
            }
            (k, n)
        }
        ShardSpec::Auto => auto(shards, &env)?,
    };
    if k == 0 || k > n || n > SHARDS_MAX {
        return Err(ShardError::OutOfRange { engine: "--shard", detail: format!("slice {k} of {n}") });
    }
    Ok(Shard { k, n })
}

fn number(env: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<Option<u64>, ShardError> {
    match env(var) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| ShardError::NotANumber { var, value: v }),
    }
}

fn auto(shards: Option<u64>, env: &impl Fn(&str) -> Option<String>) -> Result<(u64, u64), ShardError> {
    let count = |engine: &'static str, index_var: &'static str| -> Result<u64, ShardError> {
        match (shards, number(env, SHARDS_VAR)?) {
            (Some(n), _) | (None, Some(n)) if n > 0 => Ok(n),
            (Some(_), _) | (None, Some(_)) => Err(ShardError::OutOfRange {
                engine,
                detail: format!("the number of slices (--shards or {SHARDS_VAR}) must be at least 1, found 0"),
            }),
            (None, None) => Err(ShardError::NoCount { engine, index_var }),
        }
    };
    if let Some(id) = number(env, "SLURM_ARRAY_TASK_ID")? {
        let engine = "Slurm";
        let min = number(env, "SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = number(env, "SLURM_ARRAY_TASK_STEP")?.unwrap_or(1);
        let Some(n) = number(env, "SLURM_ARRAY_TASK_COUNT")? else {
            return Err(ShardError::OutOfRange {
                engine,
                detail: "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: submit with \
                         sbatch --array=1-N (Slurm sets both), or give --shard K/N"
                    .into(),
            });
        };
        if step == 0 || id < min || (id - min) % step != 0 {
            return Err(ShardError::OutOfRange {
                engine,
                detail: format!(
                    "SLURM_ARRAY_TASK_ID={id} is not one of MIN={min} + i * STEP={step}: an array of \
                     evenly spaced ids such as --array=1-8 is expected"
                ),
            });
        }
        let k = (id - min) / step + 1;
        if k > n {
            return Err(ShardError::OutOfRange {
                engine,
                detail: format!(
                    "SLURM_ARRAY_TASK_ID={id} is task {k} (from MIN={min}, STEP={step}) of \
                     SLURM_ARRAY_TASK_COUNT={n}"
                ),
            });
        }
        if let Some(flag) = shards
            && flag != n
        {
            return Err(ShardError::CountMismatch { engine, flag, env: n });
        }
        return Ok((k, n));
    }
    if let Some(index) = number(env, "JOB_COMPLETION_INDEX")? {
        let engine = "Kubernetes";
        let n = count(engine, "JOB_COMPLETION_INDEX")?;
        if index >= n {
            return Err(ShardError::OutOfRange {
                engine,
                detail: format!(
                    "JOB_COMPLETION_INDEX={index} (0-based) is not below the {n} slices: set {SHARDS_VAR} to the \
                     Job's `completions`"
                ),
            });
        }
        return Ok((index + 1, n));
    }
    if let Some(seq) = number(env, "PARALLEL_SEQ")? {
        let engine = "GNU parallel";
        let n = count(engine, "PARALLEL_SEQ")?;
        if seq == 0 || seq > n {
            return Err(ShardError::OutOfRange {
                engine,
                detail: format!(
                    "PARALLEL_SEQ={seq} (1-based) is not within 1..={n}: feed parallel as many inputs as \
                     slices (seq {n} | parallel ...)"
                ),
            });
        }
        return Ok((seq, n));
    }
    Err(ShardError::NoEngine)
}

/// `resolve` against the process environment, as the commands call it; `None` without
/// `--shard`.
pub fn from_args(spec: Option<ShardSpec>, shards: Option<u64>) -> Result<Option<Shard>, ShardError> {
    spec.map(|s| resolve(s, shards, |var| std::env::var(var).ok())).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    fn auto(shards: Option<u64>, vars: &[(&str, &str)]) -> Result<(u64, u64), ShardError> {
        resolve(ShardSpec::Auto, shards, env(vars)).map(|s| (s.k, s.n))
    }

    #[test]
    fn parse_reads_k_of_n_and_auto() {
        assert_eq!(parse("2/8"), Ok(ShardSpec::Fixed(2, 8)));
        assert_eq!(parse("auto"), Ok(ShardSpec::Auto));
        for bad in ["0/4", "5/4", "x/4", "2", "2/", "auto/2", "1/2000000"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("expected K/N") && e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn slices_cover_every_run_once_for_any_n() {
        for units in [0, 1, 3, 10, 97] {
            for n in 1..=12 {
                let mut next = 0;
                for k in 1..=n {
                    let r = range(units, k, n);
                    assert_eq!(r.start, next, "{units} runs, slice {k}/{n}");
                    next = r.end;
                }
                assert_eq!(next, units);
            }
        }
        assert_eq!(range(u64::MAX, 2, 2), u64::MAX / 2..u64::MAX, "no overflow");
    }

    #[test]
    fn fixed_slices_need_no_environment() {
        assert_eq!(resolve(ShardSpec::Fixed(3, 4), None, env(&[])), Ok(Shard { k: 3, n: 4 }));
        assert_eq!(resolve(ShardSpec::Fixed(3, 4), Some(4), env(&[])), Ok(Shard { k: 3, n: 4 }));
        assert_eq!(
            resolve(ShardSpec::Fixed(3, 4), Some(5), env(&[])),
            Err(ShardError::ShardsWithFixed { flag: 5, n: 4 })
        );
    }

    #[test]
    fn slurm_arrays_count_from_their_minimum_by_their_step() {
        let one_based = [("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")];
        assert_eq!(auto(None, &one_based), Ok((3, 4)));
        assert_eq!(auto(None, &[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "4")]), Ok((1, 4)));
        let stepped = [
            ("SLURM_ARRAY_TASK_ID", "14"),
            ("SLURM_ARRAY_TASK_MIN", "2"),
            ("SLURM_ARRAY_TASK_STEP", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(auto(None, &stepped), Ok((4, 4)));
        assert_eq!(auto(Some(4), &one_based), Ok((3, 4)), "--shards may repeat the count");
        assert_eq!(auto(Some(5), &one_based), Err(ShardError::CountMismatch { engine: "Slurm", flag: 5, env: 4 }));
    }

    #[test]
    fn slurm_errors_name_the_variables() {
        let no_count = auto(None, &[("SLURM_ARRAY_TASK_ID", "1")]).unwrap_err().to_string();
        assert!(no_count.contains("SLURM_ARRAY_TASK_COUNT"), "{no_count}");
        let off_step = auto(
            None,
            &[("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_STEP", "2"), ("SLURM_ARRAY_TASK_COUNT", "4")],
        );
        assert!(off_step.unwrap_err().to_string().contains("STEP=2"));
        let below =
            auto(None, &[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")]);
        assert!(matches!(below, Err(ShardError::OutOfRange { engine: "Slurm", .. })));
        let past =
            auto(None, &[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")]);
        assert!(past.unwrap_err().to_string().contains("task 5"));
        assert_eq!(
            auto(None, &[("SLURM_ARRAY_TASK_ID", "one")]),
            Err(ShardError::NotANumber { var: "SLURM_ARRAY_TASK_ID", value: "one".into() })
        );
        assert!(matches!(
            auto(
                None,
                &[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_STEP", "0")]
            ),
            Err(ShardError::OutOfRange { .. })
        ));
    }

    #[test]
    fn kubernetes_indexes_from_zero_with_the_count_from_flag_or_env() {
        assert_eq!(auto(None, &[("JOB_COMPLETION_INDEX", "0"), (SHARDS_VAR, "4")]), Ok((1, 4)));
        assert_eq!(auto(Some(8), &[("JOB_COMPLETION_INDEX", "7"), (SHARDS_VAR, "4")]), Ok((8, 8)), "the flag wins");
        assert_eq!(
            auto(None, &[("JOB_COMPLETION_INDEX", "2")]),
            Err(ShardError::NoCount { engine: "Kubernetes", index_var: "JOB_COMPLETION_INDEX" })
        );
        let past = auto(None, &[("JOB_COMPLETION_INDEX", "4"), (SHARDS_VAR, "4")]).unwrap_err().to_string();
        assert!(past.contains("JOB_COMPLETION_INDEX=4") && past.contains("completions"), "{past}");
        assert!(matches!(
            auto(None, &[("JOB_COMPLETION_INDEX", "0"), (SHARDS_VAR, "four")]),
            Err(ShardError::NotANumber { var: SHARDS_VAR, .. })
        ));
        assert!(matches!(auto(Some(0), &[("JOB_COMPLETION_INDEX", "0")]), Err(ShardError::OutOfRange { .. })));
    }

    #[test]
    fn gnu_parallel_uses_the_sequence_number() {
        assert_eq!(auto(Some(4), &[("PARALLEL_SEQ", "4"), ("PARALLEL_JOBSLOT", "1")]), Ok((4, 4)));
        assert_eq!(auto(None, &[("PARALLEL_SEQ", "1"), (SHARDS_VAR, "2")]), Ok((1, 2)));
        assert_eq!(
            auto(None, &[("PARALLEL_SEQ", "1")]),
            Err(ShardError::NoCount { engine: "GNU parallel", index_var: "PARALLEL_SEQ" })
        );
        for seq in ["0", "5"] {
            let e = auto(Some(4), &[("PARALLEL_SEQ", seq)]).unwrap_err().to_string();
            assert!(e.contains(&format!("PARALLEL_SEQ={seq}")), "{e}");
        }
        assert!(auto(Some(4), &[("PARALLEL_JOBSLOT", "1")]).is_err(), "the slot alone is not a slice");
    }

    #[test]
    fn engines_are_read_in_order_slurm_kubernetes_parallel() {
        let all = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("JOB_COMPLETION_INDEX", "0"),
            ("PARALLEL_SEQ", "4"),
            (SHARDS_VAR, "5"),
        ];
        assert_eq!(auto(None, &all), Ok((3, 3)), "Slurm first");
        assert_eq!(auto(None, &all[2..]), Ok((1, 5)), "then Kubernetes");
        assert_eq!(auto(None, &all[3..]), Ok((4, 5)), "then GNU parallel");
        assert_eq!(auto(None, &[(SHARDS_VAR, "5"), ("SLURM_ARRAY_TASK_ID", "")]), Err(ShardError::NoEngine));
    }

    #[test]
    fn no_engine_names_every_variable_read() {
        let e = auto(Some(4), &[]).unwrap_err().to_string();
        for var in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "PARALLEL_SEQ", "--shard K/N"] {
            assert!(e.contains(var), "{var}: {e}");
        }
    }
}
