//! Every built-in scenario runs at its default length and meets its own expectations
//! (issue #4, item 2): the library proves its lessons.

use std::process::Command;

#[test]
fn every_builtin_meets_its_expectations() {
    for (name, _) in scenarios::builtin::BUILTIN {
        let o = Command::new(env!("CARGO_BIN_EXE_scalelab")).args(["run", name, "--json"]).output().expect("runs");
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{name}: {e}"));
        let verdicts = report["expectations"].as_array().expect("an expectations list");
        assert!(!verdicts.is_empty(), "{name} states what its lesson predicts");
        for v in verdicts {
            assert_eq!(v["passed"], true, "{name}: {} (actual {})", v["expr"], v["actual"]);
        }
        assert_eq!(o.status.code(), Some(0), "{name}");
    }
}

/// `scalelab show NAME` prints a file that runs to the same report as the built-in.
#[test]
fn every_builtin_shown_as_a_file_runs_to_the_same_report() {
    let dir = std::env::temp_dir().join(format!("scalelab-show-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |target: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_scalelab")).args(["run", target, "--json"]).output().expect("runs");
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        let obj = v.as_object_mut().unwrap();
        obj.remove("wall_seconds");
        obj.remove("events_per_second");
        v
    };
    for (name, _) in scenarios::builtin::BUILTIN {
        let shown = Command::new(env!("CARGO_BIN_EXE_scalelab")).args(["show", name]).output().expect("shows");
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, &shown.stdout).unwrap();
        let path = path.to_str().unwrap();
        let validated = Command::new(env!("CARGO_BIN_EXE_scalelab")).args(["validate", path]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&validated.stdout), "ok\n", "{name}");
        assert_eq!(run(name), run(path), "{name}: the file and the built-in differ");
    }
}
