//! `scalelab sweep` with two `--vary`: every pair of values run (in parallel through
//! `batch`, reports back in job order, so the output does not depend on the threads),
//! printed as a map with the first setting's values as rows and the second's as columns.
//! A cell is the swept figure (the mean over the seeds) or, with `--map recovery`, whether
//! the run was healthy again after its last fault or surge: "ok 3s" (the worst seed's
//! recovery time) or "DOWN" (some seed ended degraded), "—" when a run has no trigger or
//! no baseline (see `sim_core::view::recovery`). That map is the metastability diagram:
//! trigger size against load, the cells that recover and those that stay down.

use crate::batch::{self, Job};
use crate::cli::SweepArgs;
use crate::compare::format_value;
use crate::sweep::{Measure, measure};
use crate::{EXIT_INPUT, load_quietly};
use serde::Serialize;

/// One cell of the map.
#[derive(Serialize)]
struct Cell {
    row: String,
    column: String,
    /// The swept figure, mean over the seeds (null with `--map recovery`, or if no run has it).
    metric: Option<f64>,
    /// With `--map recovery`: the worst seed's recovery time; null when one stayed down.
    recovered_after_s: Option<f64>,
    /// With `--map recovery`: every seed recovered.
    recovered: Option<bool>,
    error_rate: f64,
}

impl Cell {
    fn text(&self, metric: &str) -> String {
        match (self.recovered, self.recovered_after_s, self.metric) {
            (Some(true), Some(s), _) => format!("ok {s:.0}s"),
            (Some(false), _, _) => "DOWN".into(),
            (_, _, Some(x)) => format_value(metric, x),
            _ => "—".into(),
        }
    }
}

pub fn sweep_map(args: &SweepArgs) -> anyhow::Result<i32> {
    let (rows, columns) = (&args.vary[0], &args.vary[1]);
    let recovery = args.map.is_some();
    let base = args.runs.overrides();
    let (mut scenarios, mut seen) = (Vec::new(), Vec::new());
    for r in &rows.values {
        for c in &columns.values {
            let mut overrides = base.clone();
            overrides.set.push((rows.key.clone(), r.clone()));
            overrides.set.push((columns.key.clone(), c.clone()));
            match load_quietly(&args.scenario, &overrides, &mut seen) {
                Ok(s) => scenarios.push(s),
                Err(code) => return Ok(code),
            }
        }
    }
    let first = &scenarios[0];
    let measure = match measure(&args.metric, first) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    let seeds = args.runs.seeds(first.seed);
    let jobs: Vec<Job> =
        scenarios.iter().flat_map(|s| seeds.iter().map(move |&seed| Job { scenario: s, seed, recovery })).collect();
    let reports = batch::run_all(&jobs, args.runs.threads(), false)?;
    let mut cells = Vec::new();
    let pairs = rows.values.iter().flat_map(|r| columns.values.iter().map(move |c| (r, c)));
    for ((row, column), runs) in pairs.zip(reports.chunks(seeds.len())) {
        let n = runs.len() as f64;
        let mut cell = Cell {
            row: row.clone(),
            column: column.clone(),
            metric: None,
            recovered_after_s: None,
            recovered: None,
            error_rate: runs.iter().map(|r| r.error_rate).sum::<f64>() / n,
        };
        if recovery {
            let figures: Option<Vec<_>> = runs.iter().map(|r| r.recovery.as_ref()).collect();
            if let Some(figures) = figures {
                let after: Option<Vec<f64>> = figures.iter().map(|f| f.recovered_after_s).collect();
                cell.recovered = Some(after.is_some());
                cell.recovered_after_s = after.map(|a| a.into_iter().fold(0.0, f64::max));
            }
        } else {
            let xs: Vec<f64> = runs
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok().and_then(|j| Measure::read(&measure, r, &j)))
                .collect();
            cell.metric = (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
        }
        cells.push(cell);
    }
    let shown = if recovery { "recovery" } else { args.metric.as_str() };
    if args.json {
        let out = serde_json::json!({
            "scenario": first.name,
            "rows": { "key": rows.key, "values": rows.values },
            "columns": { "key": columns.key, "values": columns.values },
            "metric": shown,
            "seeds": seeds,
            "grid": cells.chunks(columns.values.len()).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    print!("{}", map_text(&first.name, shown, &rows.key, &columns.key, &columns.values, &cells, &seeds));
    Ok(0)
}

/// The map as text: a header line, then one line a row value.
fn map_text(
    name: &str,
    shown: &str,
    row_key: &str,
    column_key: &str,
    columns: &[String],
    cells: &[Cell],
    seeds: &[u64],
) -> String {
    let texts: Vec<String> = cells.iter().map(|c| c.text(shown)).collect();
    let corner = format!("{row_key} \\ {column_key}");
    let first_w = cells.iter().map(|c| c.row.chars().count()).chain([corner.chars().count()]).max().unwrap_or(0);
    let w = texts.iter().map(|t| t.chars().count()).chain(columns.iter().map(|c| c.chars().count())).max().unwrap_or(0);
    let seeds_text = match seeds {
        [one] => format!("seed {one}"),
        all => format!("seeds {}..{} (recovery: the worst seed; figures: means)", all[0], all[all.len() - 1]),
    };
    let mut out = format!("sweep {name}: {shown} over {row_key} (rows) x {column_key} (columns); {seeds_text}\n\n");
    out += &format!("{corner:<first_w$}");
    for c in columns {
        out += &format!("  {c:>w$}");
    }
    out.push('\n');
    for (row, texts) in cells.chunks(columns.len()).zip(texts.chunks(columns.len())) {
        out += &format!("{:<first_w$}", row[0].row);
        for t in texts {
            out += &format!("  {t:>w$}");
        }
        out.push('\n');
    }
    if shown == "recovery" {
        out += "\nok Ns: healthy again N s after the last fault or surge ended; DOWN: still degraded at the end\n";
    }
    out
}
