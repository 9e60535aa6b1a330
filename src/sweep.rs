//! `scalelab sweep`: one scenario across a range of one setting (web servers 1..8, rate
//! 100..1000), in parallel; a table, a terminal plot of one figure, and the knee where
//! the target starts or stops being met (by default the scenario's own expectation on
//! that figure, such as `p99_ms < 250`): the smallest value that meets it when more helps
//! (servers), the largest that still meets it when more hurts (load).

use crate::batch::{self, Job};
use crate::cli::SweepArgs;
use crate::compare::{csv_field, format_value};
use crate::confidence::{Estimate, estimate};
use crate::figures::{self, Figure};
use crate::svg::{Chart, Line};
use crate::{EXIT_INPUT, load_quietly, svg};
use scenarios::Scenario;
use scenarios::expect::{self, Expectation, Metric};
use serde::{Deserialize, Serialize};
use sim_core::Report;

/// What the sweep plots: one of the compare figures, or any metric an expectation can name.
pub(crate) enum Measure {
    Figure(&'static Figure),
    Metric(Metric),
}

impl Measure {
    pub(crate) fn read(&self, report: &Report, json: &serde_json::Value) -> Option<f64> {
        match self {
            Measure::Figure(f) => (f.get)(report),
            Measure::Metric(m) => expect::value(json, m),
        }
    }
}

fn names(s: &Scenario) -> (Vec<String>, Vec<expect::Component>) {
    (
        s.model.classes.iter().map(|c| c.name.clone()).collect(),
        s.model.components.iter().map(|c| (c.name.clone(), c.model.kind())).collect(),
    )
}

pub(crate) fn measure(name: &str, s: &Scenario) -> Result<Measure, String> {
    if let Some(f) = figures::find(name) {
        return Ok(Measure::Figure(f));
    }
    let (classes, components) = names(s);
    expect::metric(name, 0..0, &classes, &components).map(Measure::Metric).map_err(|d| {
        let figures: Vec<&str> = figures::FIGURES.iter().map(|f| f.key).collect();
        format!(
            "--metric {name}: {}{}; the figures: {}, or any expectation metric (class.NAME.p99_ms, component.ID.KEY)",
            d.message,
            d.help.map(|h| format!(" ({h})")).unwrap_or_default(),
            figures.join(", ")
        )
    })
}

/// The target: `--target`, else the scenario's expectations on the swept metric.
fn targets(args: &SweepArgs, s: &Scenario, swept: Option<&Metric>) -> Result<Vec<Expectation>, String> {
    let (classes, components) = names(s);
    if let Some(t) = &args.target {
        return expect::parse(t, 0, &classes, &components).map(|e| vec![e]).map_err(|d| {
            format!("--target {t}: {}{}", d.message, d.help.map(|h| format!(" ({h})")).unwrap_or_default())
        });
    }
    Ok(s.expectations.iter().filter(|e| Some(&e.metric) == swept).cloned().collect())
}

#[derive(Serialize)]
struct Point {
    value: String,
    metric: Option<f64>,
    ci95: Option<f64>,
    /// Whether the targets hold at this value (null without a target).
    meets_target: Option<bool>,
    error_rate: f64,
    throughput_rps: f64,
    p99_ms: Option<f64>,
    cost_usd_month: f64,
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// What one (value, seed) run gives the sweep: only the figures its output reads. The
/// single-machine path and `merge` both render from these (`render`), so a merged sweep
/// prints what one machine prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepRun {
    /// The swept figure (null where it does not apply).
    pub metric: Option<f64>,
    /// Each target's metric, in the targets' order.
    pub targets: Vec<Option<f64>>,
    #[serde(with = "crate::merge::any_f64")]
    pub error_rate: f64,
    #[serde(with = "crate::merge::any_f64")]
    pub throughput_rps: f64,
    pub p99_ms: Option<f64>,
    #[serde(with = "crate::merge::any_f64")]
    pub cost_usd_month: f64,
}

impl SweepRun {
    fn of(report: &Report, measure: &Measure, targets: &[Expectation]) -> anyhow::Result<SweepRun> {
        let json = serde_json::to_value(report)?;
        Ok(SweepRun {
            metric: measure.read(report, &json),
            targets: targets.iter().map(|t| expect::value(&json, &t.metric)).collect(),
            error_rate: report.error_rate,
            throughput_rps: report.throughput_rps,
            p99_ms: (figures::find("p99_ms").expect("a figure").get)(report),
            cost_usd_month: report.cost.total_usd_month,
        })
    }
}

/// A one-setting sweep's loaded inputs: what the runs and the rendering both need.
struct Plan {
    /// One scenario per value of the setting.
    scenarios: Vec<Scenario>,
    seeds: Vec<u64>,
    measure: Measure,
    targets: Vec<Expectation>,
    /// The swept metric as an expectation names it (none for figures only compare has).
    swept: Option<Metric>,
}

/// Loads the scenario at each value and reads the metric and targets; `Err` is the exit
/// status, the error printed.
fn plan(args: &SweepArgs) -> Result<Plan, i32> {
    match (args.vary.len(), &args.map) {
        (1, None) => {}
        (1, Some(_)) => {
            eprintln!(
                "error: --map draws a grid: give two --vary, such as --vary rate=100..500:100 --vary trigger=1..5"
            );
            return Err(EXIT_INPUT);
        }
        (n, _) => {
            eprintln!("error: {n} --vary settings; a sweep takes one (a curve) or two (a map)");
            return Err(EXIT_INPUT);
        }
    }
    let vary = &args.vary[0];
    let base = args.runs.overrides();
    let (mut scenarios, mut seen) = (Vec::new(), Vec::new());
    for value in &vary.values {
        let mut overrides = base.clone();
        overrides.set.push((vary.key.clone(), value.clone()));
        scenarios.push(load_quietly(&args.scenario, &overrides, &mut seen)?);
    }
    let first = &scenarios[0];
    let (classes, components) = names(first);
    let swept = expect::metric(&args.metric, 0..0, &classes, &components).ok();
    let (measure, targets) = match (measure(&args.metric, first), targets(args, first, swept.as_ref())) {
        (Ok(m), Ok(t)) => (m, t),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return Err(EXIT_INPUT);
        }
    };
    let seeds = args.runs.seeds(first.seed);
    Ok(Plan { scenarios, seeds, measure, targets, swept })
}

pub fn sweep(args: &SweepArgs) -> anyhow::Result<i32> {
    if args.vary.len() == 2 && args.runs.shard.shard.is_some() {
        eprintln!(
            "error: --shard slices a one-setting sweep; a map (two --vary) runs on one machine for now \
             (or slice it by hand: one sweep per row value)"
        );
        return Ok(crate::EXIT_USAGE);
    }
    if args.vary.len() == 2 {
        return crate::sweep_map::sweep_map(args);
    }
    let shard = match args.runs.shard.resolve() {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let plan = match plan(args) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let jobs: Vec<Job> = plan
        .scenarios
        .iter()
        .flat_map(|s| plan.seeds.iter().map(|&seed| Job { scenario: s, seed, recovery: false }))
        .collect();
    let units = jobs.len() as u64;
    let range = shard.map_or(0..units, |s| s.range(units));
    let reports = batch::run_all(&jobs[range.start as usize..range.end as usize], args.runs.threads(), false)?;
    let runs: Vec<SweepRun> =
        reports.iter().map(|r| SweepRun::of(r, &plan.measure, &plan.targets)).collect::<anyhow::Result<_>>()?;
    match shard {
        Some(shard) => {
            crate::merge::write(
                "sweep",
                crate::merge::source_hashes([&args.scenario].into_iter())?,
                shard,
                units,
                &runs,
            )?;
            Ok(0)
        }
        None => render(args, &plan, &crate::merge::through_json(runs)?),
    }
}

/// `scalelab merge` of sweep slices: the sweep one machine prints.
pub fn merged(args: &SweepArgs, slices: &crate::merge::Slices) -> anyhow::Result<i32> {
    let plan = match plan(args) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    slices.check_sources(&crate::merge::source_hashes([&args.scenario].into_iter())?)?;
    let runs: Vec<SweepRun> = slices.runs()?;
    let units = plan.scenarios.len() * plan.seeds.len();
    if runs.len() != units {
        anyhow::bail!("the slices hold {} runs, their command line makes {units}", runs.len());
    }
    render(args, &plan, &runs)
}

/// The sweep's output (and its SVG) from every run's summary, value-major, seed-minor.
fn render(args: &SweepArgs, plan: &Plan, runs: &[SweepRun]) -> anyhow::Result<i32> {
    let vary = &args.vary[0];
    let (seeds, targets) = (&plan.seeds, &plan.targets);
    let first = &plan.scenarios[0];
    let seed = seeds[0];
    let mut points = Vec::new();
    for (value, runs) in vary.values.iter().zip(runs.chunks(seeds.len())) {
        let xs: Vec<f64> = runs.iter().filter_map(|r| r.metric).collect();
        let est = (!xs.is_empty()).then(|| estimate(&xs));
        let meets_target = (!targets.is_empty()).then(|| {
            targets.iter().enumerate().all(|(i, t)| {
                let ys: Vec<f64> = runs.iter().filter_map(|r| r.targets.get(i).copied().flatten()).collect();
                !ys.is_empty() && t.check.holds(mean(ys.into_iter()))
            })
        });
        let p99s: Vec<f64> = runs.iter().filter_map(|r| r.p99_ms).collect();
        points.push(Point {
            value: value.clone(),
            metric: est.map(|e: Estimate| e.mean),
            ci95: est.and_then(|e| e.ci95),
            meets_target,
            error_rate: mean(runs.iter().map(|r| r.error_rate)),
            throughput_rps: mean(runs.iter().map(|r| r.throughput_rps)),
            p99_ms: (!p99s.is_empty()).then(|| mean(p99s.into_iter())),
            cost_usd_month: mean(runs.iter().map(|r| r.cost_usd_month)),
        });
    }
    let knee = knee(&points);
    let line = target_line(targets, plan.swept.as_ref());
    let target_text: Vec<String> = targets.iter().map(|t| t.text.clone()).collect();
    let target_text = target_text.join(" and ");
    if let Some(path) = &args.svg {
        svg::write(path, &svg_page(args, &points, knee, line, &target_text, seed))?;
    }
    if args.json {
        let out = serde_json::json!({
            "scenario": first.name,
            "key": vary.key,
            "metric": args.metric,
            "seeds": seeds,
            "target": (!targets.is_empty()).then_some(&target_text),
            "knee": knee.map(|k| &points[k].value),
            "points": points,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if args.csv {
        print!("{}", csv(args, &points, seeds.len() > 1));
    } else {
        let head = format!(
            "sweep {}: {} over {}; seed {}{}\n",
            first.name,
            args.metric,
            vary.key,
            seed,
            if seeds.len() > 1 {
                format!(", {} seeds each (means, 95% intervals)", seeds.len())
            } else {
                String::new()
            }
        );
        print!("{head}\n{}\n{}", table(args, &points, knee, &target_text), plot(args, &points, knee, line));
    }
    Ok(0)
}

fn csv(args: &SweepArgs, points: &[Point], with_ci: bool) -> String {
    let vary = &args.vary[0];
    let ci = if with_ci { ",ci95" } else { "" };
    let mut out = format!(
        "{},{}{ci},meets_target,error_rate,throughput_rps,p99_ms,cost_usd_month\n",
        csv_field(&vary.key),
        csv_field(&args.metric)
    );
    let num = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    for p in points {
        out += &format!(
            "{},{}{},{},{},{},{},{}\n",
            csv_field(&p.value),
            num(p.metric),
            if with_ci { format!(",{}", num(p.ci95)) } else { String::new() },
            p.meets_target.map(|b| b.to_string()).unwrap_or_default(),
            p.error_rate,
            p.throughput_rps,
            num(p.p99_ms),
            p.cost_usd_month
        );
    }
    out
}

/// Where the target starts being met (the first value that meets it) or, when the range
/// starts out meeting it, where it stops (the last value before the first that fails; the
/// first value if none fails).
fn knee(points: &[Point]) -> Option<usize> {
    let meets = |i: usize| points[i].meets_target == Some(true);
    if points.is_empty() || !meets(0) {
        return (0..points.len()).find(|&i| meets(i));
    }
    match (0..points.len()).position(|i| points[i].meets_target == Some(false)) {
        Some(first_failing) => Some(first_failing - 1),
        None => Some(0),
    }
}

/// How the knee reads: "smallest" or "largest".
fn knee_word(points: &[Point]) -> &'static str {
    if points.first().is_some_and(|p| p.meets_target == Some(true))
        && points.iter().any(|p| p.meets_target == Some(false))
    {
        "largest"
    } else {
        "smallest"
    }
}

fn table(args: &SweepArgs, points: &[Point], knee: Option<usize>, target: &str) -> String {
    let vary = &args.vary[0];
    let key_w = points.iter().map(|p| p.value.len()).max().unwrap_or(0).max(vary.key.len());
    let metric = &args.metric;
    let cell = |x: Option<f64>, ci: Option<f64>| match x {
        Some(x) => format!(
            "{}{}",
            format_value(metric, x),
            ci.map(|c| format!(" ±{}", format_value(metric, c))).unwrap_or_default()
        ),
        None => "—".into(),
    };
    let mw = points.iter().map(|p| cell(p.metric, p.ci95).chars().count()).max().unwrap_or(0).max(metric.len());
    let mut out = format!(
        "{:>key_w$}  {:>mw$}  {:>10}  {:>12}  {:>10}  {}\n",
        vary.key,
        metric,
        "error rate",
        "throughput/s",
        "cost $/mo",
        if target.is_empty() { "" } else { "target" }
    );
    for (i, p) in points.iter().enumerate() {
        let meets = match p.meets_target {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "",
        };
        let knee_note = if knee == Some(i) {
            format!("  ◀ knee: the {} {} that meets {target}", knee_word(points), vary.key)
        } else {
            String::new()
        };
        out += &format!(
            "{:>key_w$}  {:>mw$}  {:>10}  {:>12.1}  {:>10}  {meets}{knee_note}\n",
            p.value,
            cell(p.metric, p.ci95),
            format_value("error_rate", p.error_rate),
            p.throughput_rps,
            format_value("cost_usd_month", p.cost_usd_month),
        );
    }
    match (target.is_empty(), knee) {
        (true, _) => out += "no target: give one with --target \"p99_ms < 200\" to find the knee\n",
        (false, None) => out += &format!("no {} in the range meets {target}\n", vary.key),
        (false, Some(_)) => {}
    }
    out
}

/// Plot rows and columns.
const PLOT_HEIGHT: usize = 10;
const PLOT_WIDTH: usize = 64;

/// A terminal plot of the metric against the varied value, knee marked `▲`, target `┄`.
/// Log scale when the values span more than a factor of 30.
fn plot(args: &SweepArgs, points: &[Point], knee: Option<usize>, line: Option<(f64, &Expectation)>) -> String {
    let vary = &args.vary[0];
    let values: Vec<(usize, f64)> = points.iter().enumerate().filter_map(|(i, p)| Some((i, p.metric?))).collect();
    if values.is_empty() {
        return String::new();
    }
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, v)| (a.min(*v), b.max(*v)));
    let log = lo > 0.0 && hi / lo > 30.0;
    let scale = |v: f64| if log { v.ln() } else { v };
    let (slo, shi) = (scale(lo), scale(hi));
    let row = |v: f64| {
        if shi > slo { ((scale(v) - slo) / (shi - slo) * (PLOT_HEIGHT - 1) as f64).round() as usize } else { 0 }
    };
    let n = points.len();
    let step = if n > 1 { ((PLOT_WIDTH - 1) / (n - 1)).clamp(1, 6) } else { 1 };
    let width = ((n - 1) * step + 1).min(PLOT_WIDTH);
    let col = |i: usize| if n > 1 { (i * (width - 1)) / (n - 1) } else { 0 };
    let mut grid = vec![vec![' '; width]; PLOT_HEIGHT];
    if let Some((b, _)) = line.filter(|(b, _)| *b > lo && *b < hi) {
        grid[PLOT_HEIGHT - 1 - row(b)].iter_mut().for_each(|c| *c = '┄');
    }
    for &(i, v) in &values {
        grid[PLOT_HEIGHT - 1 - row(v)][col(i)] = if knee == Some(i) { '▲' } else { '●' };
    }
    let label_w =
        [format_value(&args.metric, hi), format_value(&args.metric, lo)].iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = format!("{}{}\n", args.metric, if log { " (log scale)" } else { "" });
    for (r, line) in grid.iter().enumerate() {
        let label = match r {
            0 => format_value(&args.metric, hi),
            r if r == PLOT_HEIGHT - 1 => format_value(&args.metric, lo),
            _ => String::new(),
        };
        out += &format!("{label:>label_w$} ┤{}\n", line.iter().collect::<String>().trim_end());
    }
    out += &format!("{:>label_w$} └{}\n", "", "─".repeat(width));
    let mut axis = vec![' '; width + 12];
    let mut put = |i: usize| {
        let text: Vec<char> = points[i].value.chars().collect();
        let at = col(i).min(axis.len().saturating_sub(text.len()));
        if axis[at..at + text.len()].iter().all(|c| *c == ' ') {
            axis[at..at + text.len()].copy_from_slice(&text);
        }
    };
    put(0);
    if let Some(k) = knee {
        put(k);
    }
    put(n - 1);
    for i in 1..n.saturating_sub(1) {
        put(i);
    }
    out += &format!("{:>label_w$}  {}  {}\n", "", axis.iter().collect::<String>().trim_end(), vary.key);
    if knee.is_some() {
        out += &format!("{:>label_w$}  ▲ knee   ┄ target\n", "");
    }
    out
}

/// The bound to draw as a target line: a target on the swept metric with one bound.
fn target_line<'a>(targets: &'a [Expectation], swept: Option<&Metric>) -> Option<(f64, &'a Expectation)> {
    targets.iter().filter(|t| Some(&t.metric) == swept).find_map(|t| match t.check {
        expect::Check::Less(b) | expect::Check::LessEq(b) | expect::Check::Greater(b) | expect::Check::GreaterEq(b) => {
            Some((b, t))
        }
        _ => None,
    })
}

/// A figure's name with its unit, read off the name's ending (`p99_ms`, `throughput_rps`,
/// `cost_usd_month`; rates, ratios and utilizations are fractions).
fn y_label(metric: &str) -> String {
    let unit = [("_ms", "ms"), ("_rps", "req/s"), ("_usd_month", "USD/month")]
        .iter()
        .find(|(end, _)| metric.ends_with(end))
        .map(|&(_, unit)| unit)
        .or_else(|| {
            ["rate", "ratio", "utilization", "offload"].iter().any(|e| metric.ends_with(e)).then_some("fraction")
        });
    match unit {
        Some(unit) => format!("{metric} ({unit})"),
        None => metric.to_string(),
    }
}

fn svg_page(
    args: &SweepArgs,
    points: &[Point],
    knee: Option<usize>,
    line: Option<(f64, &Expectation)>,
    target_text: &str,
    seed: u64,
) -> String {
    let vary = &args.vary[0];
    let numeric = vary.numbers.as_ref();
    let x = |i: usize| numeric.map_or(i as f64, |n| n[i]);
    let x_label = match numeric {
        Some(_) => vary.key.clone(),
        None => format!(
            "{} ({})",
            vary.key,
            vary.values.iter().enumerate().map(|(i, v)| format!("{i}: {v}")).collect::<Vec<_>>().join(", ")
        ),
    };
    let mut main = Chart::new(format!("{} against {}", args.metric, vary.key), x_label.clone(), y_label(&args.metric));
    main.lines.push(Line::new(args.metric.clone(), points.iter().enumerate().map(|(i, p)| (x(i), p.metric)).collect()));
    main.target = line.map(|(b, t)| (b, format!("target: {}", t.text)));
    if let Some(k) = knee
        && let Some(v) = points[k].metric
    {
        main.mark = Some((x(k), v, format!("knee: {}={} meets {target_text}", vary.key, points[k].value)));
    }
    let mut errors = Chart::new(format!("error rate against {}", vary.key), x_label, "error rate (fraction)");
    errors
        .lines
        .push(Line::new("error_rate", points.iter().enumerate().map(|(i, p)| (x(i), Some(p.error_rate))).collect()));
    svg::page(&format!("scalelab sweep {}, seed {seed}", args.scenario), &[main, errors])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_axes_name_the_figure_and_its_unit() {
        assert_eq!(y_label("p99_ms"), "p99_ms (ms)");
        assert_eq!(y_label("class.feed.p50_ms"), "class.feed.p50_ms (ms)");
        assert_eq!(y_label("throughput_rps"), "throughput_rps (req/s)");
        assert_eq!(y_label("cost_usd_month"), "cost_usd_month (USD/month)");
        assert_eq!(y_label("error_rate"), "error_rate (fraction)");
        assert_eq!(y_label("component.web-1.utilization"), "component.web-1.utilization (fraction)");
        assert_eq!(y_label("component.q.queue_mean"), "component.q.queue_mean");
    }

    fn points(meets: &[Option<bool>]) -> Vec<Point> {
        meets
            .iter()
            .enumerate()
            .map(|(i, m)| Point {
                value: i.to_string(),
                metric: Some(i as f64),
                ci95: None,
                meets_target: *m,
                error_rate: 0.0,
                throughput_rps: 0.0,
                p99_ms: None,
                cost_usd_month: 0.0,
            })
            .collect()
    }

    /// A slice carries the per-run figures as JSON: every float must read back to the same
    /// bits, or a merged sweep would print other digits than one machine.
    #[test]
    fn a_sweep_run_round_trips_through_json_exactly() {
        let awkward = [0.1 + 0.2, 1.0 / 3.0, 5e-324, 2.2250738585072014e-308, f64::MAX, -0.0, 943.718399, 1e21];
        for x in awkward {
            let run = SweepRun {
                metric: Some(x),
                targets: vec![Some(x / 7.0), None],
                error_rate: x,
                throughput_rps: x * 3.0,
                p99_ms: None,
                cost_usd_month: -x,
            };
            let back: SweepRun = serde_json::from_str(&serde_json::to_string(&run).unwrap()).unwrap();
            assert_eq!(back, run);
            assert_eq!(back.throughput_rps.to_bits(), run.throughput_rps.to_bits(), "{x:e} * 3");
            assert_eq!(back.metric.unwrap().to_bits(), x.to_bits(), "{x:e}");
            assert_eq!(crate::merge::through_json(vec![run.clone()]).unwrap(), vec![run]);
        }
        let nan = SweepRun {
            metric: Some(f64::NAN),
            targets: vec![],
            error_rate: f64::NAN,
            throughput_rps: f64::NEG_INFINITY,
            p99_ms: None,
            cost_usd_month: 0.0,
        };
        let back = crate::merge::through_json(vec![nan]).unwrap().remove(0);
        assert!(back.error_rate.is_nan() && back.throughput_rps == f64::NEG_INFINITY);
        assert_eq!(back.metric, None, "an optional NaN reads as does-not-apply, on one machine as merged");
    }

    #[test]
    fn the_knee_is_where_the_target_starts_or_stops_being_met() {
        let (t, f) = (Some(true), Some(false));
        let servers = points(&[f, f, f, t, t, t]);
        assert_eq!((knee(&servers), knee_word(&servers)), (Some(3), "smallest"));
        let load = points(&[t, t, t, f, f]);
        assert_eq!((knee(&load), knee_word(&load)), (Some(2), "largest"));
        assert_eq!(knee(&points(&[f, f])), None);
        assert_eq!(knee(&points(&[None, None])), None, "no target, no knee");
        assert_eq!(knee(&points(&[t, t])), Some(0), "met throughout: the smallest");
        assert_eq!(knee_word(&points(&[t, t])), "smallest");
    }
}
