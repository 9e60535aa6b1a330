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

/// `scalelab tui mm1` under a pseudo-terminal from `script`, once its first frame is up
/// (the alternate screen entered, the terminal raw): the child, its output and what it
/// printed so far.
fn tui_on_mm1_under_script() -> (std::process::Child, std::process::ChildStdout, Vec<u8>) {
    tui_under_script("mm1", (120, 40))
}

/// `scalelab tui ARGS` under a pseudo-terminal of `cols`×`rows`, as above.
fn tui_under_script(args: &str, (cols, rows): (u16, u16)) -> (std::process::Child, std::process::ChildStdout, Vec<u8>) {
    use std::io::Read;
    // script's terminal has no size until told; the TUI then draws its usual screen.
    let command = format!("stty rows {rows} cols {cols}; exec {} tui {args}", env!("CARGO_BIN_EXE_scalelab"));
    let mut script = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut out = script.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("paused") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "the TUI drew nothing");
        seen.extend_from_slice(&buf[..n]);
    }
    (script, out, seen)
}

/// Issue #15: SIGTERM to the TUI (here under a pseudo-terminal from `script`) leaves the
/// alternate screen, shows the cursor again and exits 143; it used to leave the terminal
/// raw, on the alternate screen, with no cursor.
#[test]
fn the_tui_restores_the_terminal_when_terminated() {
    use std::io::Read;
    let (mut script, mut out, mut seen) = tui_on_mm1_under_script();
    let children = Command::new("pgrep").args(["-P", &script.id().to_string()]).output().unwrap();
    let tui = String::from_utf8_lossy(&children.stdout).trim().to_string();
    assert!(!tui.is_empty(), "the TUI runs under script");
    assert!(Command::new("kill").args(["-TERM", &tui]).status().unwrap().success());
    out.read_to_end(&mut seen).unwrap();
    let status = script.wait().unwrap();
    let text = String::from_utf8_lossy(&seen);
    let (entered, left) = (text.rfind("\x1b[?1049h").unwrap(), text.rfind("\x1b[?1049l"));
    assert!(left.is_some_and(|l| l > entered), "left the alternate screen");
    assert!(text[entered..].contains("\x1b[?25h"), "the cursor shown again");
    assert!(text.contains("stopped by SIGTERM; the terminal is restored"), "{text}");
    assert_eq!(status.code(), Some(143));
}

/// Ctrl-C in the TUI (a key in raw mode, not SIGINT) restores the terminal and exits 130,
/// as Ctrl-C does for every other command; it used to quit with 0.
#[test]
fn ctrl_c_in_the_tui_exits_130() {
    use std::io::{Read, Write};
    let (mut script, mut out, mut seen) = tui_on_mm1_under_script();
    let mut keys = script.stdin.take().unwrap();
    keys.write_all(b"\x03").unwrap();
    keys.flush().unwrap();
    out.read_to_end(&mut seen).unwrap();
    let status = script.wait().unwrap();
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("stopped by SIGINT; the terminal is restored"), "{text}");
    assert_eq!(status.code(), Some(130));
}

/// A session saved from the TUI opens with `run` (its scenario, seed and faults, to the end
/// of the run) and with `tui`; both used to refuse it as a scenario with an unknown key
/// `file_hash`.
#[test]
fn a_saved_session_opens_with_run_and_tui() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("scalelab-session-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = Session::open("mm1", Some(5)).unwrap();
    s.run_until(at(100), u64::MAX);
    s.inject(&FaultRequest::Crash("server".into())).unwrap();
    s.run_until(at(110), u64::MAX);
    let path = s.save(&dir).unwrap();
    let path = path.to_str().unwrap();

    let out =
        Command::new(env!("CARGO_BIN_EXE_scalelab")).args(["run", path, "--no-check", "--json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("is a seed file: running mm1 at seed 5 with its 1 fault"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["seed"], 5);
    assert!(report["components"]["server"]["crashes"].as_u64() == Some(1), "{}", report["components"]["server"]);
    // The same run as the scenario with the fault written in, at that seed.
    let reopened = Session::open(path, None).unwrap();
    assert_eq!(reopened.seed(), 5);
    assert_eq!(reopened.scenario().model.faults.len(), 1);

    let command = format!("stty rows 40 cols 120; exec {} tui {path}", env!("CARGO_BIN_EXE_scalelab"));
    let mut script = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut out = script.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("paused") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "the TUI drew nothing: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).into_owned();
    assert!(text.contains("mm1") && text.contains("seed 5"), "{text}");
    let mut keys = script.stdin.take().unwrap();
    keys.write_all(b"q").unwrap();
    keys.flush().unwrap();
    out.read_to_end(&mut seen).unwrap();
    assert_eq!(script.wait().unwrap().code(), Some(0));
}

/// `tui --record FILE` writes an asciicast v2 (a JSON header with the terminal's size, then
/// `[seconds, "o", text]` frames in time order) that replays, through a terminal emulator,
/// to the screens the session showed: the paused run at 0 events, then one event on.
#[test]
fn a_recorded_asciicast_is_v2_and_replays_the_session_s_frames() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("scalelab-cast-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cast = dir.join("session.cast");
    let (mut script, mut out, mut seen) = tui_under_script(&format!("mm1 --record {}", cast.display()), (80, 24));
    let mut keys = script.stdin.take().unwrap();
    keys.write_all(b".").unwrap();
    keys.flush().unwrap();
    // The terminal gets only the cells that change: read the screen, not the bytes.
    let size = |n: u16| std::num::NonZero::new(n).expect("a size");
    let mut live = vt100::Parser::new(size(24), size(80), 0);
    live.process(&seen);
    let mut buf = [0u8; 4096];
    while !live.screen().contents().contains("│ 1 events") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "the step never showed: {}", live.screen().contents());
        live.process(&buf[..n]);
    }
    keys.write_all(b"q").unwrap();
    keys.flush().unwrap();
    out.read_to_end(&mut seen).unwrap();
    assert_eq!(script.wait().unwrap().code(), Some(0));

    let text = std::fs::read_to_string(&cast).unwrap();
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(
        (header["version"].as_u64(), header["width"].as_u64(), header["height"].as_u64()),
        (Some(2), Some(80), Some(24))
    );
    let mut screen = vt100::Parser::new(size(24), size(80), 0);
    let (mut last_t, mut frames) = (0.0, Vec::new());
    for line in lines {
        let (t, kind, data): (f64, String, String) = serde_json::from_str(line).unwrap();
        assert!(t >= last_t, "times in order: {t} after {last_t}");
        last_t = t;
        assert!(kind == "o" || kind == "r", "{kind}");
        if kind == "o" {
            screen.process(data.as_bytes());
            frames.push(screen.screen().contents());
        }
    }
    // The picker comes first (drawn before the run's first snapshot), then the run.
    let opened = frames.iter().position(|f| f.contains(" mm1 ") && f.contains("│ 0 events"));
    let stepped = frames.iter().position(|f| f.contains("│ 1 events"));
    assert!(opened.is_some_and(|o| stepped.is_some_and(|s| o < s)), "{opened:?} {stepped:?} of {}", frames.len());
    let last = frames.last().unwrap();
    assert!(last.contains("│ 1 events") && last.contains("1 components"), "{last}");
    assert!(last.contains("? help") && last.contains("q quit"));
}

/// The issue's session: two web servers added live with the knob (the model grows, so the
/// run is replayed from t = 0 with them) and the network cut in two sides chosen by hand,
/// saved from the TUI and replayed headless through the CLI to the same trace hash.
#[test]
fn a_session_that_adds_two_web_servers_and_cuts_two_sides_replays_headless() {
    let dir = std::env::temp_dir().join(format!("scalelab-knobs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = Session::open("pixelcraft-1m", Some(3)).unwrap();
    s.run_until(at(65), u64::MAX);
    let web = |s: &Session| s.sim().model().services.iter().find(|x| x.name == "web").unwrap().instances.len();
    assert_eq!(web(&s), 10);
    for want in [11, 12] {
        let knob = s
            .knobs()
            .into_iter()
            .find(|k| matches!(k, FaultRequest::Scale { service, instances } if service == "web" && *instances == want))
            .unwrap_or_else(|| panic!("a knob to {want} web servers in {:?}", s.knobs()));
        s.inject(&knob).unwrap();
        s.run_until(at(65 + want as u64 - 10), u64::MAX);
    }
    assert_eq!(web(&s), 12, "two web servers more");
    let sides = vec![
        vec!["web-1".to_string(), "web-2".into(), "redis-1".into()],
        vec!["web-11".to_string(), "web-12".into(), "redis-2".into(), "redis-3".into()],
    ];
    s.inject(&FaultRequest::Partition { sides }).unwrap();
    s.run_until(at(80), u64::MAX);
    assert_eq!(s.sim().cuts().len(), 1);
    let report = s.sim().report(false);
    let u = |name: &str| report.components[name].utilization.unwrap_or(0.0);
    // Joined at 66 s, it serves once the balancer's health checks pass.
    assert!(u("web-12") > 0.0, "the new server serves: {} (web-1 {})", u("web-12"), u("web-1"));
    let path = s.save(&dir).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("scale = \"web\"").count(), 2, "{text}");
    assert!(text.contains("partition = [[\"web-1\", \"web-2\", \"redis-1\"]"), "{text}");

    let out = Command::new(env!("CARGO_BIN_EXE_scalelab")).arg("replay").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("session with 3 faults by hand"), "{stdout}");
    assert!(stdout.contains("reproduced: the same trace hash"), "{stdout}");
}
