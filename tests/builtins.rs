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
