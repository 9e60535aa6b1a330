//! The hostile corpus (issue #15): every input that ever broke scalelab, kept in
//! tests/hostile, run through the binary under a 3 GiB memory limit and a 30 s timeout.
//! Each must be refused with a message or run to its end: no panic, no abort, no hang.

mod common;

use std::path::Path;
use std::process::Command;

/// Exit statuses a refusal or a run may end with (README: 1 bad input, 2 usage, 3 an
/// expectation, 5 a chaos failure). 124 is `timeout`'s; a signal has none.
const FINE: [i32; 5] = [0, 1, 2, 3, 5];

/// Runs `scalelab ARGS` under the limits; returns what went wrong, if anything.
fn misbehaves(args: &[String]) -> Option<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 3145728 && exec timeout 30 \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_scalelab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    if !code.is_some_and(|c| FINE.contains(&c)) {
        return Some(format!("exit {code:?} (124: timed out; none: killed by a signal): {stderr}"));
    }
    if stderr.contains("panicked") || stderr.contains("memory allocation") {
        return Some(format!("exit {code:?} with: {stderr}"));
    }
    if code != Some(0) && stderr.trim().is_empty() {
        return Some(format!("exit {code:?} with no message"));
    }
    None
}

#[derive(serde::Deserialize)]
struct Commands {
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    why: String,
    args: Vec<String>,
}

#[test]
fn every_hostile_input_is_refused_or_runs_within_limits() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "toml") && !f.ends_with("commands.toml")) {
        cases.push((f.display().to_string(), vec!["run".into(), f.display().to_string()]));
    }
    let commands: Commands = toml::from_str(&std::fs::read_to_string(dir.join("commands.toml")).unwrap()).unwrap();
    cases.extend(commands.case.into_iter().map(|c| (c.why, c.args)));
    // Inputs too large to commit, made here: deep nesting through --set, an oversized seed file.
    let set = |v: String| vec!["validate".into(), "mm1".into(), "--set".into(), format!("arrival_rate={v}")];
    cases.push((
        "20,000 nested parentheses in --set".into(),
        set(format!("{}9{}", "(".repeat(20_000), ")".repeat(20_000))),
    ));
    // (One argument is at most 128 KiB on Linux: 500,000 signs cannot pass through --set.)
    cases.push(("100,000 minus signs in --set".into(), set(format!("{}9", "-".repeat(100_000)))));
    let big = common::scratch("big-seed.toml");
    std::fs::write(&big, "#".repeat(5 << 20)).unwrap();
    cases.push(("a 5 MiB seed file".into(), vec!["replay".into(), big.display().to_string()]));
    assert!(cases.len() >= 30, "the corpus lost cases: {}", cases.len());
    let failures: Vec<String> =
        cases.iter().filter_map(|(why, args)| misbehaves(args).map(|e| format!("{why}: {e}"))).collect();
    assert!(
        failures.is_empty(),
        "{} of {} hostile inputs misbehaved:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
