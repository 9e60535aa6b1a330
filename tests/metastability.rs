//! Issue #18's metastability maps: `retry-storm` swept over load and trigger length, with
//! and without each mitigation. The plain storm's map has a sharp boundary (a cell is DOWN
//! and every cell with more load or a longer trigger is too); a retry budget recovers in every
//! cell, and so do a breaker and adaptive LIFO; jittered backoff alone
//! barely does (jitter breaks up synchronized waves; this storm is sustained by the load the
//! retries add, which jitter does not remove).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

const LOADS: &str = "load=0.3,0.4,0.5,0.6,0.7,0.8,0.9";
const TRIGGERS: &str = "trigger_s=0.2s,0.5s,1s,2s,5s,10s";

/// The (row, column) indices of the cells that stayed degraded.
fn down_cells(scenario: &str) -> BTreeSet<(usize, usize)> {
    let out = common::ok(&["sweep", scenario, "--vary", LOADS, "--vary", TRIGGERS, "--map", "recovery", "--json"]);
    let map: serde_json::Value = serde_json::from_str(&out).unwrap();
    let grid = map["grid"].as_array().unwrap();
    assert_eq!(grid.len(), 7, "{scenario}: one row a load");
    let mut down = BTreeSet::new();
    for (i, row) in grid.iter().enumerate() {
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), 6, "{scenario}: one column a trigger length");
        for (j, cell) in row.iter().enumerate() {
            if !cell["recovered"].as_bool().unwrap() {
                assert!(cell["recovered_after_s"].is_null());
                down.insert((i, j));
            }
        }
    }
    down
}

fn variant(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/metastability").join(name).display().to_string()
}

#[test]
fn the_plain_storm_has_a_sharp_boundary_and_every_mitigation_shrinks_its_region() {
    let plain = down_cells("retry-storm");
    // Both regions exist, and the degraded one is closed upwards: more load or a longer
    // trigger never turns a DOWN cell into one that recovers.
    assert!(plain.len() >= 10 && plain.len() < 42, "{plain:?}");
    for &(i, j) in &plain {
        for (a, b) in [(i + 1, j), (i, j + 1)] {
            if a < 7 && b < 6 {
                assert!(plain.contains(&(a, b)), "({a},{b}) recovers though ({i},{j}) stays down: {plain:?}");
            }
        }
    }
    assert!(!plain.contains(&(0, 0)) && plain.contains(&(6, 5)));

    // A 10% retry budget (with full jitter) recovers in every cell.
    let budget = down_cells("retry-storm-budget");
    assert!(budget.is_empty(), "the budgeted storm stayed down in {budget:?}");

    // A breaker from the clients to web recovers everywhere too; jitter alone shrinks the
    // region by little (measured: one cell of 29).
    let breaker = down_cells(&variant("retry-storm-breaker.toml"));
    assert!(breaker.is_empty(), "with a breaker: {breaker:?}");
    // Adaptive LIFO serves the newest calls, whose callers still wait, so goodput returns.
    let lifo = down_cells(&variant("retry-storm-lifo.toml"));
    assert!(lifo.is_empty(), "with adaptive LIFO: {lifo:?}");
    let jitter = down_cells(&variant("retry-storm-jitter.toml"));
    assert!(jitter.is_subset(&plain) && jitter.len() < plain.len(), "jitter {jitter:?} vs plain {plain:?}");
}

/// Must-show 5: chaos draws triggers (load spikes, web slowing down) against the storm
/// without its own trigger. With the budget, 1,000 runs all recover within 30 s of their last
/// fault; without it, runs stay degraded, and each shrinks to one short, mild trigger (about
/// a second of a 2x slowdown or spike is enough) that replays to the same failure.
#[test]
fn chaos_finds_storms_only_without_the_budget_and_shrinks_each_to_its_trigger_alone() {
    let o = common::scalelab(&[
        "chaos",
        &variant("retry-storm-budget-chaos.toml"),
        "--runs",
        "1000",
        "--jobs",
        "2",
        "--json",
    ]);
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert_eq!((s["runs"].as_u64(), s["failures"].as_u64()), (Some(1000), Some(0)), "{s}");

    let out = common::fresh_dir("storm-chaos");
    let o = common::scalelab(&[
        "chaos",
        &variant("retry-storm-chaos.toml"),
        "--runs",
        "20",
        "--jobs",
        "2",
        "--shrink",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", common::stderr(&o));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let failures = s["failures"].as_u64().unwrap();
    assert!(failures >= 5, "{failures} of 20 runs stay degraded");
    assert_eq!(s["by_invariant"]["recovers"].as_u64(), Some(failures));
    common::assert_each_failure_shrunk_to_one_fault(&out, failures, "recovers");
}
