//! Behaviour pinned across refactors: every built-in's JSON report (trace hash included) at
//! seeds 1 and 2 equals the committed one under `tests/golden/`, apart from the wall-clock
//! fields. A change that moves a run must say so: re-bless with `SCALELAB_BLESS=1 cargo
//! test --release --test golden` and name the change and why in the commit.

mod common;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const SEEDS: [u64; 2] = [1, 2];
/// Fields that depend on the machine, not the run.
const WALL_CLOCK: [&str; 2] = ["wall_seconds", "events_per_second"];

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn report(name: &str, seed: u64) -> Value {
    let seed = seed.to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(["run", name, "--seed", &seed, "--json", "--no-check"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{name} seed {seed}: {}", String::from_utf8_lossy(&o.stderr));
    let mut v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{name}: {e}"));
    let obj = v.as_object_mut().expect("a report is an object");
    for field in WALL_CLOCK {
        obj.remove(field);
    }
    v
}

/// JSON does not tell 3 from 3.0; a count that became an integer field is the same figure.
fn same_numbers(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_numbers(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| same_numbers(a, b)))
        }
        _ => a == b,
    }
}

/// The paths (`components.web.served`) where two reports differ, for the failure message.
fn differences(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(a), Some(b)) => differences(&p, a, b, out),
                    _ => out.push(format!("{p}: present in one report only")),
                }
            }
        }
        _ if !same_numbers(a, b) => out.push(format!("{path}: committed {a}, now {b}")),
        _ => {}
    }
}

#[test]
fn every_builtin_report_matches_the_committed_one_at_seeds_1_and_2() {
    let bless = std::env::var_os("SCALELAB_BLESS").is_some();
    let jobs: Vec<(&str, u64)> =
        scenarios::builtin::BUILTIN.iter().flat_map(|(name, _)| SEEDS.map(|s| (*name, s))).collect();
    let results = common::on_two_threads(&jobs, |&(name, seed)| (name, seed, report(name, seed)));
    let mut failures = Vec::new();
    for (name, seed, now) in results {
        let path = golden_dir().join(format!("{name}-{seed}.json"));
        if bless {
            std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
            continue;
        }
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!("{}: {e} (a new built-in? bless it with SCALELAB_BLESS=1)", path.display())
            }))
            .unwrap();
        let mut diff = Vec::new();
        differences("", &committed, &now, &mut diff);
        if !diff.is_empty() {
            diff.truncate(8);
            failures.push(format!("{name} seed {seed}:\n  {}", diff.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "reports moved:\n{}", failures.join("\n"));
}

#[test]
fn the_comparison_sees_a_changed_figure_and_ignores_number_spelling() {
    let a: Value = serde_json::json!({"x": {"served": 3.0, "kind": "server"}, "trace_hash": "ab"});
    assert!(same_numbers(&a, &serde_json::json!({"x": {"served": 3, "kind": "server"}, "trace_hash": "ab"})));
    let b = serde_json::json!({"x": {"served": 4, "kind": "server"}, "trace_hash": "ab"});
    let mut diff = Vec::new();
    differences("", &a, &b, &mut diff);
    assert_eq!(diff, [".x.served: committed 3.0, now 4"]);
}
