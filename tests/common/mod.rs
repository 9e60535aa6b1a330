//! What the integration tests share: the binary and its output, reports, scratch files.
//! Each test file uses some of these, so the ones a file leaves unused are allowed.
#![allow(dead_code)]

use std::path::PathBuf;
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
