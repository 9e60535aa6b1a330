//! Many independent runs on a pool of threads, for `compare` and `sweep`. Each run is a
//! scenario and a seed, so its report is the same on any thread and in any order; the
//! reports come back in the order of the jobs.

use scenarios::Scenario;
use sim_core::{Report, Simulation};
use std::time::Instant;

pub struct Job<'a> {
    pub scenario: &'a Scenario,
    pub seed: u64,
    /// The report carries the recovery figure (`Simulation::track_recovery`).
    pub recovery: bool,
}

/// Threads to use by default: one per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs one job; with `series`, the report keeps per-second series with percentiles.
pub fn run_one(job: &Job, series: bool) -> anyhow::Result<Report> {
    let mut sim = Simulation::new(&job.scenario.model, job.seed);
    if series {
        sim.collect_series_percentiles();
    }
    if job.recovery {
        sim.track_recovery();
    }
    let started = Instant::now();
    sim.run();
    let mut report = sim.report(series);
    report.set_wall_seconds(started.elapsed().as_secs_f64());
    Ok(report)
}

/// Runs every job on `threads` threads, showing a progress bar on a terminal.
pub fn run_all(jobs: &[Job], threads: usize, series: bool) -> anyhow::Result<Vec<Report>> {
    let bar = indicatif::ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} runs ({elapsed}, about {eta} left)")
            .expect("a valid template"),
    );
    let (work_tx, work_rx) = crossbeam_channel::unbounded::<usize>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<(usize, anyhow::Result<Report>)>();
    (0..jobs.len()).for_each(|i| work_tx.send(i).expect("open"));
    drop(work_tx);
    let mut reports: Vec<Option<Report>> = vec![None; jobs.len()];
    let mut first_error = None;
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, jobs.len().max(1)) {
            let (rx, tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                for i in rx {
                    tx.send((i, run_one(&jobs[i], series))).expect("open");
                }
            });
        }
        drop(done_tx);
        for (i, result) in &done_rx {
            bar.inc(1);
            match result {
                Ok(r) => reports[i] = Some(r),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    });
    bar.finish_and_clear();
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(reports.into_iter().map(|r| r.expect("every job reported")).collect())
}
