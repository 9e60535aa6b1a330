//! What the integration tests share: the binary and its output, reports, scratch files.
//! Each test file uses some of these, so the ones a file leaves unused are allowed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `scalelab ARGS` from the repository's root.
pub fn scalelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `scalelab ARGS`, which must succeed: its standard output.
pub fn ok(args: &[&str]) -> String {
    let o = scalelab(args);
    assert!(o.status.success(), "scalelab {args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The JSON report of `scalelab run NAME --json ARGS`.
pub fn report(name: &str, args: &[&str]) -> serde_json::Value {
    let o = scalelab(&[&["run", name, "--json"], args].concat());
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{name}: {e}: {}", stderr(&o)))
}

/// A path for scratch file `name` in this test binary's own directory, created empty.
pub fn scratch(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("a test binary");
    let test = exe.file_stem().and_then(|s| s.to_str()).unwrap_or("test").to_string();
    let dir = std::env::temp_dir().join(format!("scalelab-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir.join(name)
}

/// A directory for `name` that does not exist yet (removed if a run before left it).
pub fn fresh_dir(name: &str) -> PathBuf {
    let d = scratch(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The committed seed-1 report of built-in `name`, which tests/golden.rs keeps equal to a
/// fresh run (wall-clock fields aside): tests that only read a built-in's default run read
/// this instead of running it again.
pub fn golden(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/golden/{name}-1.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `f` over `jobs` on two threads (CI has two cores; each job is mostly a child process),
/// results in the order of `jobs`.
pub fn on_two_threads<J: Sync, T: Send>(jobs: &[J], f: impl Fn(&J) -> T + Sync) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let r = f(job);
                    results.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The `-shrunk.toml` seed files of a `chaos --shrink --out DIR` run with `failures`
/// failures of invariant `invariant`: one per failure, each down to a single fault (the
/// trigger alone), each replaying in a fresh process to the same failure.
pub fn assert_each_failure_shrunk_to_one_fault(out: &Path, failures: u64, invariant: &str) {
    let shrunk: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with("-shrunk.toml"))
        .collect();
    assert_eq!(shrunk.len() as u64, failures, "a shrunk seed file per failure in {}", out.display());
    for f in &shrunk {
        let text = std::fs::read_to_string(f).unwrap();
        assert_eq!(text.matches("start_ms").count(), 1, "the trigger alone: {}\n{text}", f.display());
        let replayed = stdout(&scalelab(&["replay", f.to_str().unwrap()]));
        assert!(replayed.contains(&format!("{invariant} failed")) && replayed.contains("reproduced"), "{replayed}");
    }
}
