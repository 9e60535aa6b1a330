//! `scalelab compare`: the same workload and seeds against several architectures (or one
//! scenario with a setting varied), side by side. Each figure's better value is marked;
//! over several seeds, a difference whose 95% confidence intervals overlap is reported as
//! within noise instead of as a win.

use crate::batch::{self, Job};
use crate::cli::CompareArgs;
use crate::confidence::{Estimate, estimate};
use crate::figures::{Better, FIGURES, Figure};
use crate::{EXIT_USAGE, charts, load_quietly, svg};
use scenarios::Scenario;
use serde::{Deserialize, Serialize};
use sim_core::Report;

/// A compare table wider than this many columns does not read; `sweep` is for more.
pub const MAX_VARIANTS: usize = 12;

/// One column of the comparison: a scenario, or the scenario with one value of `--vary`.
pub struct Variant {
    pub label: String,
    pub scenario: Scenario,
}

/// One figure across the variants.
#[derive(Debug, Serialize)]
pub struct Row {
    pub metric: &'static str,
    pub label: &'static str,
    pub better: Better,
    /// The mean over seeds per variant (null: the figure does not apply to it).
    pub values: Vec<Option<f64>>,
    /// Half-widths of the 95% confidence intervals (null with one seed).
    pub ci95: Vec<Option<f64>>,
    /// Index of the variant with the better value (null: a tie, or fewer than two values).
    pub best: Option<usize>,
    /// Whether the best's interval is clear of every other's: false for a tie or overlapping
    /// intervals, null with one seed (untested) or fewer than two values.
    pub significant: Option<bool>,
}

/// Ranks one figure. `estimates[v]` is `None` where the figure does not apply.
pub fn rank(figure: &Figure, estimates: &[Option<Estimate>], seeds: usize) -> Row {
    let present: Vec<(usize, &Estimate)> =
        estimates.iter().enumerate().filter_map(|(i, e)| Some((i, e.as_ref()?))).collect();
    let better = |a: f64, b: f64| match figure.better {
        Better::Higher => a > b,
        Better::Lower => a < b,
    };
    let mut best = None;
    if present.len() >= 2 {
        let (bi, be) =
            present.iter().copied().fold(present[0], |acc, x| if better(x.1.mean, acc.1.mean) { x } else { acc });
        let tie = present.iter().any(|(i, e)| *i != bi && e.mean == be.mean);
        best = (!tie).then_some(bi);
    }
    let significant = match best {
        Some(b) if seeds > 1 => {
            let be = estimates[b].as_ref().expect("present");
            Some(present.iter().all(|(i, e)| *i == b || !be.overlaps(e)))
        }
        // Equal best values: no difference to call a win.
        None if seeds > 1 && present.len() >= 2 => Some(false),
        _ => None,
    };
    Row {
        metric: figure.key,
        label: figure.label,
        better: figure.better,
        values: estimates.iter().map(|e| e.map(|e| e.mean)).collect(),
        ci95: estimates.iter().map(|e| e.and_then(|e| e.ci95)).collect(),
        best,
        significant,
    }
}

/// What one (variant, seed) run gives the comparison: only what its output reads. The
/// single-machine path and `merge` both render from these, so a merged comparison prints
/// what one machine prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareRun {
    /// Each of `FIGURES`, in order (null where it does not apply).
    pub figures: Vec<Option<f64>>,
    #[serde(with = "crate::merge::any_f64")]
    pub sim_seconds: f64,
    #[serde(with = "crate::merge::any_f64")]
    pub warmup_seconds: f64,
    /// What limits the architecture: the explanation's bottleneck or next wall, in words.
    pub limit: String,
    /// The report as `--json` prints it: without its series and the wall-clock fields
    /// (`wall_seconds`, `events_per_second`), which differ from machine to machine.
    pub report: serde_json::Value,
}

impl CompareRun {
    fn of(r: &Report) -> anyhow::Result<CompareRun> {
        let mut report = serde_json::to_value(r)?;
        let object = report.as_object_mut().expect("an object");
        for key in ["series", "wall_seconds", "events_per_second"] {
            object.remove(key);
        }
        let limit = match (&r.explain.bottleneck, &r.explain.next_wall) {
            (Some(w), _) => format!("bottleneck {} ({:.0}% busy)", w.service, w.utilization * 100.0),
            (None, Some(w)) => format!("no bottleneck, next wall {} ({:.0}% busy)", w.service, w.utilization * 100.0),
            (None, None) => "no bottleneck named".to_string(),
        };
        Ok(CompareRun {
            figures: FIGURES.iter().map(|f| (f.get)(r)).collect(),
            sim_seconds: r.sim_seconds,
            warmup_seconds: r.warmup_seconds,
            limit,
            report,
        })
    }
}

/// The rows of the table: every figure that applies to at least one variant.
/// `runs[v]` holds variant v's runs, one per seed.
pub fn rows(runs: &[Vec<CompareRun>], seeds: usize) -> Vec<Row> {
    FIGURES
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let estimates: Vec<Option<Estimate>> = runs
                .iter()
                .map(|runs| {
                    let xs: Vec<f64> = runs.iter().filter_map(|r| r.figures.get(i).copied().flatten()).collect();
                    (!xs.is_empty()).then(|| estimate(&xs))
                })
                .collect();
            rank(f, &estimates, seeds)
        })
        .filter(|r| r.values.iter().any(Option::is_some))
        .collect()
}

fn variants(args: &CompareArgs) -> Result<Vec<Variant>, i32> {
    let base = args.runs.overrides();
    let mut out = Vec::new();
    let mut seen = Vec::new();
    match &args.vary {
        Some(vary) => {
            let [name] = args.scenarios.as_slice() else {
                eprintln!(
                    "error: --vary compares one scenario with itself; give one scenario, not {}",
                    args.scenarios.len()
                );
                return Err(EXIT_USAGE);
            };
            for value in &vary.values {
                let mut overrides = base.clone();
                overrides.set.push((vary.key.clone(), value.clone()));
                out.push(Variant {
                    label: format!("{}={value}", vary.key),
                    scenario: load_quietly(name, &overrides, &mut seen)?,
                });
            }
        }
        None => {
            if args.scenarios.len() < 2 {
                eprintln!(
                    "error: compare needs two scenarios or more, or one with --vary KEY=A,B \
                     (such as `scalelab compare lb-algorithms --vary rr.policy=round_robin,least_connections`)"
                );
                return Err(EXIT_USAGE);
            }
            for name in &args.scenarios {
                let scenario = load_quietly(name, &base, &mut seen)?;
                let n = out.iter().filter(|v: &&Variant| v.scenario.name == scenario.name).count();
                let label = if n == 0 { scenario.name.clone() } else { format!("{} #{}", scenario.name, n + 1) };
                out.push(Variant { label, scenario });
            }
        }
    }
    if out.len() > MAX_VARIANTS {
        eprintln!(
            "error: {} variants to compare; at most {MAX_VARIANTS} fit a table (`scalelab sweep` runs a range)",
            out.len()
        );
        return Err(EXIT_USAGE);
    }
    Ok(out)
}

/// The faults of the variants compared: the ones they all share as they are, the others
/// named after the variant they belong to.
fn fault_markers(variants: &[Variant]) -> Vec<crate::svg::Marker> {
    let each: Vec<Vec<crate::svg::Marker>> =
        variants.iter().map(|v| charts::fault_markers(&v.scenario.model)).collect();
    let mut out: Vec<crate::svg::Marker> = Vec::new();
    for (v, markers) in variants.iter().zip(&each) {
        for m in markers {
            if each.iter().all(|other| other.contains(m)) {
                if !out.contains(m) {
                    out.push(m.clone());
                }
            } else {
                out.push(crate::svg::Marker { label: format!("{}: {}", v.label, m.label), ..m.clone() });
            }
        }
    }
    out
}

pub fn compare(args: &CompareArgs) -> anyhow::Result<i32> {
    let shard = match args.runs.shard.resolve() {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if shard.is_some() && args.svg.is_some() {
        eprintln!(
            "error: --svg draws every run's series, which a slice does not keep: run the SVG on one machine \
             (with --seeds 1 it is one run per variant), or drop --svg"
        );
        return Ok(EXIT_USAGE);
    }
    let variants = match variants(args) {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let seeds = args.runs.seeds(variants[0].scenario.seed);
    let seed = seeds[0];
    let jobs: Vec<Job> = variants
        .iter()
        .flat_map(|v| seeds.iter().map(|&seed| Job { scenario: &v.scenario, seed, recovery: false }))
        .collect();
    let units = jobs.len() as u64;
    let range = shard.map_or(0..units, |s| s.range(units));
    let threads = args.runs.threads();
    let reports = batch::run_all(&jobs[range.start as usize..range.end as usize], threads, args.svg.is_some())?;
    let runs: Vec<CompareRun> = reports.iter().map(CompareRun::of).collect::<anyhow::Result<_>>()?;
    if let Some(shard) = shard {
        crate::merge::write("compare", crate::merge::source_hashes(args.scenarios.iter())?, shard, units, &runs)?;
        return Ok(0);
    }
    if let Some(path) = &args.svg {
        let by_variant: Vec<&[Report]> = reports.chunks(seeds.len()).collect();
        let runs: Vec<(&str, &Report)> =
            variants.iter().zip(&by_variant).map(|(v, r)| (v.label.as_str(), &r[0])).collect();
        let heading = format!("scalelab compare, seed {seed}: {}", labels(&variants).join(" vs "));
        svg::write(path, &svg::page(&heading, &charts::over_time(&runs, &fault_markers(&variants))))?;
    }
    render(args, &variants, &seeds, crate::merge::through_json(runs)?)
}

/// `scalelab merge` of compare slices: the comparison one machine prints.
pub fn merged(args: &CompareArgs, slices: &crate::merge::Slices) -> anyhow::Result<i32> {
    let variants = match variants(args) {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    slices.check_sources(&crate::merge::source_hashes(args.scenarios.iter())?)?;
    let seeds = args.runs.seeds(variants[0].scenario.seed);
    let runs: Vec<CompareRun> = slices.runs()?;
    if let Some(i) = runs.iter().position(|r| !r.report.is_object()) {
        anyhow::bail!("run {i} of the slices has a report that is not a JSON object: not written by scalelab");
    }
    if runs.len() != variants.len() * seeds.len() {
        anyhow::bail!("the slices hold {} runs, their command line makes {}", runs.len(), variants.len() * seeds.len());
    }
    render(args, &variants, &seeds, runs)
}

/// The comparison's output from every run's summary, variant-major, seed-minor.
fn render(args: &CompareArgs, variants: &[Variant], seeds: &[u64], runs: Vec<CompareRun>) -> anyhow::Result<i32> {
    let by_variant: Vec<Vec<CompareRun>> = runs.chunks(seeds.len()).map(<[CompareRun]>::to_vec).collect();
    let rows = rows(&by_variant, seeds.len());
    if args.json {
        let mut runs = Vec::new();
        for (v, reports) in variants.iter().zip(by_variant) {
            for r in reports {
                let mut json = r.report;
                json.as_object_mut().expect("an object").insert("label".into(), v.label.clone().into());
                runs.push(json);
            }
        }
        let out = serde_json::json!({
            "labels": labels(variants),
            "seeds": seeds,
            "runs": runs,
            "rows": rows,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if args.csv {
        print!("{}", csv(variants, &rows, seeds.len()));
    } else {
        print!("{}", table(variants, &by_variant, &rows, seeds));
    }
    Ok(0)
}

fn labels(variants: &[Variant]) -> Vec<String> {
    variants.iter().map(|v| v.label.clone()).collect()
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn csv(variants: &[Variant], rows: &[Row], seeds: usize) -> String {
    let mut head = vec!["metric".to_string(), "better".to_string()];
    head.extend(variants.iter().map(|v| csv_field(&v.label)));
    if seeds > 1 {
        head.extend(variants.iter().map(|v| csv_field(&format!("{} ci95", v.label))));
    }
    head.extend(["best".to_string(), "significant".to_string()]);
    let mut out = head.join(",") + "\n";
    let num = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    for r in rows {
        let mut fields = vec![r.metric.to_string(), format!("{:?}", r.better).to_lowercase()];
        fields.extend(r.values.iter().map(|v| num(*v)));
        if seeds > 1 {
            fields.extend(r.ci95.iter().map(|v| num(*v)));
        }
        fields.push(r.best.map(|b| csv_field(&variants[b].label)).unwrap_or_default());
        fields.push(r.significant.map(|s| s.to_string()).unwrap_or_default());
        out += &(fields.join(",") + "\n");
    }
    out
}

/// A figure for the table: ratios as percentages, large numbers grouped.
pub fn format_value(metric: &str, x: f64) -> String {
    if metric.ends_with("ratio") || metric == "error_rate" {
        return format!("{:.2}%", x * 100.0);
    }
    let a = x.abs();
    if metric == "stale_reads" && x.fract() == 0.0 {
        return sim_core::report::thousands(a as u64);
    }
    if a >= 10_000.0 {
        let s = sim_core::report::thousands(a.round() as u64);
        if x < 0.0 { format!("-{s}") } else { s }
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.4}")
    }
}

/// The last column: whether the row's best is a win.
fn verdict(r: &Row) -> &'static str {
    let values: Vec<f64> = r.values.iter().flatten().copied().collect();
    match (r.best, r.significant) {
        _ if values.len() < 2 => "",
        (None, _) if values.iter().all(|v| *v == values[0]) => "none",
        (_, Some(true)) => "significant",
        (_, Some(false)) => "within noise",
        (_, None) => "untested",
    }
}

/// Each later variant's value over the first's: "4.45x" (several joined by " / ").
fn ratio(r: &Row) -> String {
    let Some(Some(base)) = r.values.first() else { return String::new() };
    let parts: Vec<String> = r.values[1..]
        .iter()
        .map(|v| match v {
            Some(v) if *base != 0.0 => format!("{}x", ratio_digits(v / base)),
            Some(v) if *v == 0.0 => "=".to_string(),
            Some(_) => "from 0".to_string(),
            None => "—".to_string(),
        })
        .collect();
    parts.join(" / ")
}

fn ratio_digits(q: f64) -> String {
    if q >= 100.0 || q == 0.0 {
        format!("{q:.0}")
    } else if q >= 10.0 {
        format!("{q:.1}")
    } else if q >= 0.1 {
        format!("{q:.2}")
    } else {
        format!("{q:.3}")
    }
}

/// One line per pair: what changed in throughput, p99, errors and cost, and what limits
/// each architecture (the explanation's bottleneck or next wall).
fn pair_verdict(base: &str, other: &str, rows: &[Row], i: usize, a: &CompareRun, b: &CompareRun) -> String {
    let value = |key: &str, k: usize| rows.iter().find(|r| r.metric == key).and_then(|r| r.values[k]);
    let mut parts = Vec::new();
    if let (Some(x), Some(y)) = (value("throughput_rps", 0), value("throughput_rps", i))
        && x > 0.0
    {
        parts.push(format!("{}x the throughput", ratio_digits(y / x)));
    }
    if let (Some(x), Some(y)) = (value("p99_ms", 0), value("p99_ms", i))
        && x > 0.0
        && y > 0.0
    {
        parts.push(if y == x {
            format!("the same p99 ({} ms)", format_value("p99_ms", x))
        } else if y < x {
            format!(
                "p99 {}x lower ({} -> {} ms)",
                ratio_digits(x / y),
                format_value("p99_ms", x),
                format_value("p99_ms", y)
            )
        } else {
            format!(
                "p99 {}x higher ({} -> {} ms)",
                ratio_digits(y / x),
                format_value("p99_ms", x),
                format_value("p99_ms", y)
            )
        });
    }
    if let (Some(x), Some(y)) = (value("error_rate", 0), value("error_rate", i))
        && (x > 0.0 || y > 0.0)
    {
        parts.push(format!("errors {} -> {}", format_value("error_rate", x), format_value("error_rate", y)));
    }
    if let (Some(x), Some(y)) = (value("cost_usd_month", 0), value("cost_usd_month", i))
        && x > 0.0
    {
        parts.push(format!("{}x the cost", ratio_digits(y / x)));
    }
    let changes =
        if parts.is_empty() { "no headline figure to set side by side".to_string() } else { parts.join(", ") };
    format!("{other} vs {base}: {changes}; {} -> {}", a.limit, b.limit)
}

/// A confidence half-width to two significant digits.
fn format_ci(metric: &str, x: f64) -> String {
    let percent = metric.ends_with("ratio") || metric == "error_rate";
    let x = if percent { x * 100.0 } else { x };
    let unit = if percent { "%" } else { "" };
    if x == 0.0 {
        return format!("0{unit}");
    }
    let digits = (1 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}{unit}")
}

fn table(variants: &[Variant], reports: &[Vec<CompareRun>], rows: &[Row], seeds: &[u64]) -> String {
    let mut out = String::new();
    let first = &reports[0][0];
    let seed_text = match seeds {
        [s] => format!("seed {s}"),
        [a, .., b] => format!("{} seeds ({a}..={b}), means with 95% intervals", seeds.len()),
        [] => String::new(),
    };
    out += &format!(
        "compare {}: {seed_text}; {} s simulated, statistics after {} s of warm-up\n\n",
        labels(variants).join(" vs "),
        first.sim_seconds,
        first.warmup_seconds
    );
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.values
                .iter()
                .zip(&r.ci95)
                .enumerate()
                .map(|(i, (v, ci))| {
                    let Some(v) = v else { return "—".to_string() };
                    let mark = match (r.best == Some(i), r.significant) {
                        (true, Some(false)) => "≈ ",
                        (true, _) => "★ ",
                        _ => "",
                    };
                    let ci = ci.map(|c| format!(" ±{}", format_ci(r.metric, c))).unwrap_or_default();
                    format!("{mark}{}{ci}", format_value(r.metric, *v))
                })
                .collect()
        })
        .collect();
    let name_w = rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(0).max(6);
    let widths: Vec<usize> = (0..variants.len())
        .map(|i| {
            let w = cells.iter().map(|c| c[i].chars().count()).max().unwrap_or(0);
            w.max(variants[i].label.chars().count())
        })
        .collect();
    let pad = |s: &str, w: usize| format!("{}{s}", " ".repeat(w.saturating_sub(s.chars().count())));
    out += &format!("{:name_w$}  {:6}", "", "better");
    for (v, w) in variants.iter().zip(&widths) {
        out += &format!("  {}", pad(&v.label, *w));
    }
    let ratios: Vec<String> = rows.iter().map(ratio).collect();
    let ratio_w = ratios.iter().map(|r| r.chars().count()).max().unwrap_or(0).max(5);
    out += &format!("  {}  difference\n", pad("ratio", ratio_w));
    for ((r, c), q) in rows.iter().zip(&cells).zip(&ratios) {
        let better = match r.better {
            Better::Higher => "higher",
            Better::Lower => "lower",
        };
        let mut line = format!("{:name_w$}  {better:6}", r.label);
        for (cell, w) in c.iter().zip(&widths) {
            line += &format!("  {}", pad(cell, *w));
        }
        line += &format!("  {}", pad(q, ratio_w));
        out += &format!("{}\n", format!("{line}  {}", verdict(r)).trim_end());
    }
    out += "\n★ better";
    if seeds.len() > 1 {
        out += "; ≈ best, but within noise: its 95% interval overlaps another's (not a win)\n";
        if rows.iter().all(|r| r.significant != Some(true)) {
            out += &format!("no significant difference in any figure over {} seeds\n", seeds.len());
        }
    } else {
        out += " (one seed: not tested against noise; --seeds 5 runs each five times and tests it)\n";
    }
    out += "— does not apply (no cache, no replicas, nothing completed)\n";
    out += &format!(
        "ratio: {} to {} (seed means)\n\n",
        if variants.len() > 2 { "each later run" } else { variants[1].label.as_str() },
        variants[0].label
    );
    for (i, v) in variants.iter().enumerate().skip(1) {
        out += &format!("{}\n", pair_verdict(&variants[0].label, &v.label, rows, i, &reports[0][0], &reports[i][0]));
    }
    let differs: Vec<String> = variants
        .iter()
        .zip(reports)
        .filter(|(_, r)| r[0].sim_seconds != first.sim_seconds || r[0].warmup_seconds != first.warmup_seconds)
        .map(|(v, r)| format!("{} runs {} s (warm-up {} s)", v.label, r[0].sim_seconds, r[0].warmup_seconds))
        .collect();
    if !differs.is_empty() {
        out += &format!("note: the runs differ in length: {} (--duration makes them equal)\n", differs.join("; "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::find;

    fn e(mean: f64, ci: f64) -> Option<Estimate> {
        Some(Estimate { mean, ci95: Some(ci) })
    }

    #[test]
    fn the_better_value_wins_only_when_clear_of_noise() {
        let p99 = find("p99_ms").unwrap();
        let row = rank(p99, &[e(120.0, 5.0), e(100.0, 5.0)], 5);
        assert_eq!((row.best, row.significant), (Some(1), Some(true)));
        let row = rank(p99, &[e(104.0, 5.0), e(100.0, 5.0)], 5);
        assert_eq!((row.best, row.significant), (Some(1), Some(false)), "overlapping intervals");
        let tput = find("throughput_rps").unwrap();
        let row = rank(tput, &[e(120.0, 1.0), e(100.0, 1.0)], 5);
        assert_eq!(row.best, Some(0), "higher is better");
        let row = rank(tput, &[e(100.0, 1.0), e(100.0, 1.0)], 5);
        assert_eq!((row.best, row.significant), (None, Some(false)), "a tie has no winner");
        let one = Some(Estimate { mean: 3.0, ci95: None });
        let row = rank(p99, &[one, None], 1);
        assert_eq!(row.best, None, "one value has nothing to beat");
        let row = rank(p99, &[one, Some(Estimate { mean: 2.0, ci95: None })], 1);
        assert_eq!((row.best, row.significant), (Some(1), None), "one seed: untested");
    }

    /// The summary of a real run reads back from its JSON as it was, report and all, and
    /// leaves out the wall-clock fields that would make merged output differ.
    #[test]
    fn a_compare_run_round_trips_through_json_exactly() {
        let overrides = scenarios::Overrides {
            duration: Some(sim_core::SimDuration::from_secs(20)),
            ..scenarios::Overrides::default()
        };
        let scenario = scenarios::load("lb-algorithms", &overrides).unwrap();
        let report = batch::run_one(&Job { scenario: &scenario, seed: 3, recovery: false }, false).unwrap();
        let run = CompareRun::of(&report).unwrap();
        assert_eq!(run.figures.len(), FIGURES.len());
        assert!(run.report.get("wall_seconds").is_none() && run.report.get("events_per_second").is_none());
        let back: CompareRun = serde_json::from_str(&serde_json::to_string(&run).unwrap()).unwrap();
        assert_eq!(back, run);
        let bits = |r: &CompareRun| r.figures.iter().map(|f| f.map(f64::to_bits)).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&run));
    }

    #[test]
    fn figures_format_for_reading() {
        assert_eq!(format_value("error_rate", 0.0931), "9.31%");
        assert_eq!(format_value("cost_usd_month", 2132.4), "2132.4");
        assert_eq!(format_value("stale_reads", 15471.0), "15,471");
        assert_eq!(format_value("stale_reads", 0.0), "0");
        assert_eq!(format_value("p99_ms", 100.7288), "100.7");
        assert_eq!(format_value("usd_per_million_served", 0.0553), "0.0553");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(format_ci("p99_ms", 0.2853), "0.29");
        assert_eq!(format_ci("throughput_rps", 12.6), "13");
        assert_eq!(format_ci("error_rate", 0.0), "0%");
    }
}
