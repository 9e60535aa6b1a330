//! `run --seeds K`: the same scenario on K seeds, and every headline figure's mean with its
//! 95% interval over them (Student's t). Seeds are independent replications, so this is
//! the interval for the figures batch means cannot give: percentiles, hit ratios and
//! utilizations.

use crate::batch::{Job, run_all};
use crate::confidence::{Estimate, estimate};
use crate::figures::FIGURES;
use scenarios::Scenario;
use serde::Serialize;
use sim_core::Report;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The K runs' figures, each as a mean and an interval.
#[derive(Debug, Serialize)]
pub struct OverSeeds {
    pub seeds: Vec<u64>,
    /// The headline figures of `compare` and `sweep`, by key.
    pub figures: BTreeMap<&'static str, Estimate>,
    /// Per class: mean and p99 latency (ms) and error rate.
    pub classes: BTreeMap<String, BTreeMap<&'static str, Estimate>>,
    /// Per component: utilization and hit ratio, where it has them.
    pub components: BTreeMap<String, BTreeMap<&'static str, Estimate>>,
}

/// Runs `scenario` on `seeds` over `threads`.
pub fn run(scenario: &Scenario, seeds: &[u64], threads: usize) -> anyhow::Result<(Vec<Report>, OverSeeds)> {
    let recovery = scenarios::expect::needs_recovery(&scenario.expectations);
    let jobs: Vec<Job> = seeds.iter().map(|&seed| Job { scenario, seed, recovery }).collect();
    let reports = run_all(&jobs, threads, false)?;
    let over = summarize(seeds, &reports);
    Ok((reports, over))
}

fn over(reports: &[Report], get: impl Fn(&Report) -> Option<f64>) -> Option<Estimate> {
    let xs: Vec<f64> = reports.iter().filter_map(get).collect();
    (!xs.is_empty()).then(|| estimate(&xs))
}

fn summarize(seeds: &[u64], reports: &[Report]) -> OverSeeds {
    let figures = FIGURES.iter().filter_map(|f| Some((f.key, over(reports, f.get)?))).collect();
    let mut classes = BTreeMap::new();
    for name in reports[0].classes.keys() {
        // A seed whose window saw no completion has no latency to average.
        let served = |r: &Report| r.classes.get(name).filter(|c| c.throughput_rps > 0.0).map(|c| c.latency_ms.clone());
        let mut m = BTreeMap::new();
        let fields: [(&'static str, Option<Estimate>); 3] = [
            ("mean_ms", over(reports, |r| served(r).map(|l| l.mean))),
            ("p99_ms", over(reports, |r| served(r).map(|l| l.p99))),
            ("error_rate", over(reports, |r| r.classes.get(name).map(|c| c.error_rate))),
        ];
        m.extend(fields.into_iter().filter_map(|(k, e)| Some((k, e?))));
        classes.insert(name.clone(), m);
    }
    let mut components = BTreeMap::new();
    for name in reports[0].components.keys() {
        let mut m = BTreeMap::new();
        if let Some(e) = over(reports, |r| r.components.get(name)?.utilization) {
            m.insert("utilization", e);
        }
        let hit = |r: &Report| match &r.components.get(name)?.figures {
            sim_core::report::figures::Figures::Cache(c) => Some(c.hit_ratio),
            sim_core::report::figures::Figures::Cdn(c) => Some(c.hit_ratio),
            _ => None,
        };
        if let Some(e) = over(reports, hit) {
            m.insert("hit_ratio", e);
        }
        if !m.is_empty() {
            components.insert(name.clone(), m);
        }
    }
    OverSeeds { seeds: seeds.to_vec(), figures, classes, components }
}

fn cell(e: &Estimate, percent: bool) -> String {
    let scale = if percent { 100.0 } else { 1.0 };
    let digits = |x: f64| if x.abs() >= 100.0 { format!("{x:.1}") } else { format!("{x:.3}") };
    let unit = if percent { "%" } else { "" };
    match e.ci95 {
        Some(h) => format!("{}{unit} ± {}", digits(e.mean * scale), digits(h * scale)),
        None => format!("{}{unit}", digits(e.mean * scale)),
    }
}

/// The section printed after the first seed's report.
pub fn render(o: &OverSeeds) -> String {
    let mut out = String::new();
    let (first, last) = (o.seeds[0], o.seeds[o.seeds.len() - 1]);
    let _ = writeln!(out, "\nover {} seeds ({first}..{last}): mean ± 95% interval", o.seeds.len());
    for f in FIGURES.iter() {
        if let Some(e) = o.figures.get(f.key) {
            let percent = f.key == "error_rate" || f.key.ends_with("hit_ratio");
            let _ = writeln!(out, "  {:<36} {}", f.label, cell(e, percent));
        }
    }
    let w = o.classes.keys().map(String::len).max().unwrap_or(0).max(5);
    let _ = writeln!(out, "  {:<w$} {:>22} {:>22} {:>18}", "class", "mean ms", "p99 ms", "err%");
    for (name, m) in &o.classes {
        let get = |k: &str, percent: bool| m.get(k).map_or("-".into(), |e| cell(e, percent));
        let _ = writeln!(
            out,
            "  {name:<w$} {:>22} {:>22} {:>18}",
            get("mean_ms", false),
            get("p99_ms", false),
            get("error_rate", true)
        );
    }
    let w = o.components.keys().map(String::len).max().unwrap_or(0).max(9);
    let _ = writeln!(out, "  {:<w$} {:>18} {:>18}", "component", "util", "hit ratio");
    let mut names: Vec<&String> = o.components.keys().collect();
    names.sort_by_key(|n| crate::text_report::natural(n));
    for name in names {
        let m = &o.components[name];
        let get = |k: &str| m.get(k).map_or("-".into(), |e| cell(e, true));
        let _ = writeln!(out, "  {name:<w$} {:>18} {:>18}", get("utilization"), get("hit_ratio"));
    }
    out
}
