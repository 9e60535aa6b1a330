//! Chaos sweeps (issue #6): a planted defect is found, saved, replayed and shrunk; sound
//! architectures pass; results do not depend on threads or on how the range is sliced.

mod common;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn summary(args: &[&str]) -> Value {
    let o = common::scalelab(args);
    let mut v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    v.as_object_mut().unwrap().remove("runs_per_second");
    v.as_object_mut().unwrap().remove("seed_files");
    v
}

/// Item 1: the planted defect of cap-weak-quorum (w + r <= n) is found within 200 runs;
/// its seed file replays in a fresh process to the same failure and trace hash; the
/// shrunk schedule has fewer faults and still fails.
#[test]
fn a_planted_defect_is_found_saved_replayed_and_shrunk() {
    let out = common::fresh_dir("defect");
    let o = common::scalelab(&[
        "chaos",
        "cap-weak-quorum",
        "--runs",
        "200",
        "--duration",
        "2m",
        "--out",
        out.to_str().unwrap(),
        "--shrink",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(5), "failures found: {}", String::from_utf8_lossy(&o.stderr));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(s["failures"].as_u64().unwrap() >= 1);
    assert!(s["by_invariant"]["cp_guarantees"].as_u64().unwrap() >= 1);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("replay: scalelab replay "), "every failure prints its replay command");
    let files: Vec<PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    let original = files.iter().find(|p| !p.to_str().unwrap().ends_with("-shrunk.toml")).expect("a seed file");
    let shrunk = PathBuf::from(original.to_str().unwrap().replace(".toml", "-shrunk.toml"));
    for f in [original, &shrunk] {
        let r = common::scalelab(&["replay", f.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&r.stdout);
        assert_eq!(r.status.code(), Some(0), "{text}");
        assert!(
            text.contains("cp_guarantees failed")
                && text.contains("reproduced: the same failure and the same trace hash")
        );
    }
    let count = |p: &Path| std::fs::read_to_string(p).unwrap().matches("start_ms").count();
    assert!(count(&shrunk) < count(original) || count(original) == 1, "{} -> {}", count(original), count(&shrunk));
    assert!(count(&shrunk) >= 1);
}

/// Item 2 (at CI scale; README.md gives the 1,000-run sweeps): sound designs pass.
#[test]
fn sound_architectures_pass_chaos() {
    for (name, runs) in [("cap-exercise", "100"), ("pixelcraft-1m", "6")] {
        let o = common::scalelab(&["chaos", name, "--runs", runs, "--duration", "2m", "--jobs", "2", "--json"]);
        let s: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(s["failures"], 0, "{name}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.status.code(), Some(0));
    }
}

/// Items 3 and 4: the same summary and failing seeds for one thread or two, and for the
/// range in three slices merged.
#[test]
fn results_do_not_depend_on_threads_or_slicing() {
    let base = ["chaos", "cap-weak-quorum", "--runs", "60", "--duration", "2m", "--json"];
    let one = summary(&[&base[..], &["--jobs", "1"]].concat());
    let two = summary(&[&base[..], &["--jobs", "2"]].concat());
    assert_eq!(one, two);
    assert!(one["failures"].as_u64().unwrap() > 0, "a sweep with failures to compare");
    let out = common::fresh_dir("shards");
    std::fs::create_dir_all(&out).unwrap();
    let mut files = Vec::new();
    for k in 1..=3 {
        let o = common::scalelab(&[
            "chaos",
            "cap-weak-quorum",
            "--runs",
            "60",
            "--duration",
            "2m",
            "--shard",
            &format!("{k}/3"),
        ]);
        let f = out.join(format!("{k}.jsonl"));
        std::fs::write(&f, &o.stdout).unwrap();
        files.push(f.to_str().unwrap().to_string());
    }
    let merged =
        summary(&[&["chaos", "merge", "--json"][..], &files.iter().map(String::as_str).collect::<Vec<_>>()].concat());
    assert_eq!(merged, one);
}

/// Item 5: a corrupted or hand-edited seed file gets a clear error, never a panic.
#[test]
fn bad_seed_files_get_clear_errors() {
    let out = common::fresh_dir("bad");
    let o = common::scalelab(&[
        "chaos",
        "cap-weak-quorum",
        "--runs",
        "40",
        "--duration",
        "2m",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(5));
    let good = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(&good).unwrap();
    let replay = |name: &str, contents: &str| {
        let path = out.join(name);
        std::fs::write(&path, contents).unwrap();
        let r = common::scalelab(&["replay", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&r.stderr).into_owned();
        assert_eq!(r.status.code(), Some(1), "{name}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        (path, err)
    };
    // Any edit is refused by the hash on line 1, whichever field it touches.
    for (name, edited) in [
        ("corrupted.toml", text.replacen("seed = ", "seed = x", 1)),
        ("schedule.toml", text.replacen("end_ms = ", "end_ms = 1", 1)),
        ("origin.toml", text.replacen("scenario_origin = \"builtin:", "scenario_origin = \"builtin:x", 1)),
        ("comment.toml", text.replacen("# scalelab", "# Scalelab", 1)),
    ] {
        let (path, err) = replay(name, &edited);
        assert!(err.contains(&format!("--> {}:1:1", path.display())), "{err}");
        assert!(err.contains("does not match its hash"), "{err}");
    }
    // Written with a valid hash by something else: the TOML error is located, an edited
    // scenario is caught by its own hash, an unknown key is named.
    let rehash = |body: &str| {
        let body = body.split_once('\n').unwrap().1;
        format!("file_hash = \"{}\"\n{body}", scenarios::seed_file::fnv(body))
    };
    let (path, err) = replay("located.toml", &rehash(&text.replacen("seed = ", "seed = x", 1)));
    let line = 1 + text[..text.find("\nseed = ").unwrap() + 1].matches('\n').count();
    assert!(err.contains(&format!("--> {}:{line}:8", path.display())), "{err}");
    let (_, err) = replay("scenario.toml", &rehash(&text.replacen("w = 1 ", "w = 2 ", 1)));
    assert!(err.contains("the embedded scenario does not match its hash"), "{err}");
    let (_, err) = replay("missing.toml", &rehash(&text.replacen("invariant = ", "invariantt = ", 1)));
    assert!(err.contains("unknown field `invariantt`"), "{err}");
    // A schedule that does not parse points into the seed file's own scenario and faults.
    let bad = text.replacen("toml = \"\"\"\n[[faults]]\nat = \"", "toml = \"\"\"\n[[faults]]\nat = \"x", 1);
    assert_ne!(bad, text);
    let (path, err) = replay("bad-schedule.toml", &rehash(&bad));
    let origin = format!("--> {} (its scenario_text with its faults appended):", path.display());
    assert!(err.contains(&origin) && err.contains("at = \"x"), "{err}");
    let (_, err) = replay("not-a-seed-file.toml", "seed = 3\n");
    assert!(err.contains("the first line is not `file_hash"), "{err}");
}

/// The scenario's `[chaos]` table limits what schedules may do; a wrong kind is a located
/// error.
#[test]
fn the_scenario_limits_its_chaos() {
    let out = common::fresh_dir("limits");
    std::fs::create_dir_all(&out).unwrap();
    let shown = common::scalelab(&["show", "cap-weak-quorum"]);
    let text = String::from_utf8(shown.stdout).unwrap() + "\n[chaos]\nmax_faults = 1\nkinds = [\"partition\"]\n";
    let file = out.join("limited.toml");
    std::fs::write(&file, &text).unwrap();
    let seeds = out.join("seeds");
    let o = common::scalelab(&[
        "chaos",
        file.to_str().unwrap(),
        "--runs",
        "60",
        "--duration",
        "2m",
        "--out",
        seeds.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", String::from_utf8_lossy(&o.stderr));
    for f in std::fs::read_dir(&seeds).unwrap() {
        let seed = std::fs::read_to_string(f.unwrap().path()).unwrap();
        assert_eq!(seed.matches("start_ms").count(), 1, "one fault at most");
        assert!(seed.contains("partition = [[") && !seed.contains("crash = ") && !seed.contains("slow = "));
    }
    let bad = out.join("bad.toml");
    std::fs::write(&bad, text.replace("kinds = [\"partition\"]", "kinds = [\"partiton\"]")).unwrap();
    let o = common::scalelab(&["chaos", bad.to_str().unwrap(), "--runs", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("unknown fault kind `partiton`") && err.contains("did you mean `partition`?"), "{err}");
}

/// Issue #15: a failing run's seed file is written the moment it fails, and Ctrl-C prints
/// the summary of the runs done so far and exits 130 (nothing was written before the end).
#[test]
fn an_interrupted_sweep_keeps_its_seed_files_and_prints_its_summary() {
    let out = common::fresh_dir("interrupted");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(["chaos", "cap-weak-quorum", "--runs", "100000", "--duration", "2m", "--json", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::fs::read_dir(&out).map_or(0, |d| d.count()) == 0 {
        assert!(started.elapsed().as_secs() < 120, "no failure found in two minutes");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let kill = std::process::Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
    assert!(kill.unwrap().success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped by SIGINT after"), "{stderr}");
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    let runs = s["runs"].as_u64().unwrap();
    assert!((1..100_000).contains(&runs), "{runs} runs");
    let files = std::fs::read_dir(&out).unwrap().count() as u64;
    assert_eq!(files, s["failures"].as_u64().unwrap(), "one seed file a failure, all written");
    assert_eq!(s["seed_files"].as_array().unwrap().len() as u64, files);
}

/// Issue #15: merging slices refuses a slice given twice, a missing one, and slices of
/// sweeps with different --runs, instead of summing what it was given.
#[test]
fn merging_refuses_duplicated_missing_and_mismatched_slices() {
    let slice = |k: u32, runs: &str| {
        let path = common::scratch(&format!("slice-{k}-{runs}.jsonl"));
        let spec = format!("{k}/2");
        let o = common::scalelab(&["chaos", "mm1", "--runs", runs, "--duration", "10s", "--shard", &spec]);
        std::fs::write(&path, &o.stdout).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (a, b, c) = (slice(1, "4"), slice(2, "4"), slice(2, "6"));
    let merge = |files: &[&str]| common::scalelab(&[&["chaos", "merge"][..], files].concat());
    assert_eq!(merge(&[&a, &b]).status.code(), Some(0));
    for (files, what) in [
        (vec![a.as_str(), b.as_str(), b.as_str()], "slice 2/2 is given twice"),
        (vec![a.as_str()], "slice 2 of 2 is missing (given: 1)"),
        (vec![b.as_str()], "slice 1 of 2 is missing (given: 2)"),
        (vec![a.as_str(), c.as_str()], "are slices of different runs"),
    ] {
        let o = merge(&files);
        assert_eq!(o.status.code(), Some(1), "{files:?}");
        assert!(common::stderr(&o).contains(what), "{what}: {}", common::stderr(&o));
    }
}

/// Issue #18: with `[chaos] recover_within`, a run still degraded that long after its last
/// fault fails `recovers`. A spike against a server at 80% with a queue that never refuses
/// leaves a backlog draining at 20 requests a second: some runs fail, every failure is
/// named by `recovers` with how long it stayed degraded, shrinks to the one spike that
/// triggers it (from two or three in some runs) and replays to the same failure.
#[test]
fn a_run_that_stays_degraded_fails_recovers_and_shrinks_to_one_trigger() {
    let out = common::fresh_dir("recovers");
    let o = common::scalelab(&[
        "chaos",
        "tests/chaos/spike-stays-degraded.toml",
        "--runs",
        "30",
        "--jobs",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--shrink",
        "--json",
    ]);
    let stderr = common::stderr(&o);
    assert_eq!(o.status.code(), Some(5), "{stderr}");
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    let failures = s["failures"].as_u64().unwrap();
    assert!(failures >= 5, "{failures} of 30 runs stay degraded");
    assert_eq!(s["by_invariant"]["recovers"].as_u64(), Some(failures), "every failure is `recovers`: {stderr}");
    assert!(stderr.contains("degraded after the last fault ended at") || stderr.contains("healthy again only"));
    assert!(stderr.contains("(recover_within 30 s)"), "{stderr}");
    assert!(stderr.contains("shrunk from 2 faults to 1") || stderr.contains("shrunk from 3 faults to 1"), "{stderr}");
    // A lone spike is shrunk too, in length and size; the message says so, not "1 faults to 1".
    assert!(stderr.contains("shrunk to the same 1 fault, shorter or milder"), "{stderr}");
    assert!(!stderr.contains("1 faults"), "{stderr}");
    common::assert_each_failure_shrunk_to_one_fault(&out, failures, "recovers");
}

/// The same spikes against the same server (at 60%) with a short queue and a timeout:
/// what a spike brings beyond capacity is refused or times out, no backlog outlives it,
/// and every run is healthy again within 30 s of its last spike.
#[test]
fn a_run_that_sheds_its_spike_recovers() {
    let o = common::scalelab(&["chaos", "tests/chaos/spike-sheds-and-recovers.toml", "--runs", "100", "--json"]);
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["failures"], 0, "{}", common::stderr(&o));
    assert_eq!(o.status.code(), Some(0));
}
