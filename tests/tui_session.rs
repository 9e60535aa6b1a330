//! A TUI session with faults injected by hand, saved as a seed file, replays headless
//! through the CLI to the same trace hash.

use std::process::Command;
use tui::session::{FaultRequest, Session};

fn at(s: u64) -> sim_core::SimTime {
    sim_core::SimTime::ZERO + sim_core::SimDuration::from_secs(s)
}

#[test]
fn a_session_with_hand_faults_replays_headless_to_the_same_trace_hash() {
    let dir = std::env::temp_dir().join(format!("scalelab-session-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = Session::open("cap-exercise", Some(11)).unwrap();
    s.run_until(at(20), u64::MAX);
    s.inject(&FaultRequest::Isolate("meta-3".into())).unwrap();
    s.run_until(at(35), u64::MAX);
    s.inject(&FaultRequest::Slow { instance: "web-2".into(), factor: 10, for_s: 60 }).unwrap();
    s.run_until(at(40), u64::MAX);
    s.inject(&FaultRequest::HealAll).unwrap();
    s.inject(&FaultRequest::Crash("stats-1".into())).unwrap();
    s.run_until(at(50), u64::MAX);
    // Stepping back and forth on the way changes nothing about what is saved.
    s.back_seconds(10);
    s.run_until(at(50), u64::MAX);
    let path = s.save(&dir).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("invariant = \"session\""), "{text}");
    assert!(text.contains(&s.sim().trace_hash()));

    let out = Command::new(env!("CARGO_BIN_EXE_scalelab")).arg("replay").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("session with 4 faults by hand"), "{stdout}");
    assert!(stdout.contains("reproduced: the same trace hash"), "{stdout}");

    // An edited schedule is refused: the file no longer matches its hash.
    let edited = text.replace("crash = \"stats-1\"", "crash = \"stats-2\"");
    assert_ne!(edited, text);
    let path2 = dir.join("edited.toml");
    std::fs::write(&path2, edited).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scalelab")).arg("replay").arg(&path2).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not match its hash"), "an edit is refused");
}

#[test]
fn scalelab_without_a_terminal_prints_help_and_tui_refuses_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_scalelab")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: scalelab"));
    let out = Command::new(env!("CARGO_BIN_EXE_scalelab")).args(["tui", "cap-exercise"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the TUI needs a terminal"));
}
