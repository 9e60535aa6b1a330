//! The TUI through its state and its views: snapshots of each screen at 80x24 and
//! 160x48, a scripted session, every key on every screen, resizing, stepping back.
//! The simulation thread is replaced by applying each control at once, in order.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sim_core::SimTime;
use sim_core::world::notes::NoteKind;
use tui::app::{App, MenuItem, Overlay, Screen};
use tui::runner::{Control, apply};
use tui::session::{FaultRequest, Session};

/// The app and its session, driven synchronously: what the runner thread does, in order.
struct Harness {
    app: App,
    session: Option<Session>,
    dir: std::path::PathBuf,
}

impl Harness {
    fn new() -> Harness {
        Harness { app: App::new(true), session: None, dir: std::env::temp_dir() }
    }

    fn press(&mut self, code: KeyCode) {
        let controls = self.app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
        for c in controls {
            if c == Control::Quit {
                continue;
            }
            // As the runner does: an error goes to the app; a scenario opened, an empty message.
            let started = matches!(c, Control::Open { .. } | Control::Restart | Control::NewSeed);
            match apply(&mut self.session, c, &self.dir) {
                Err(e) => self.app.on_message(e),
                Ok(()) if started => self.app.on_message(String::new()),
                Ok(()) => {}
            }
        }
        self.refresh();
    }

    fn keys(&mut self, keys: &str) {
        for c in keys.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    fn refresh(&mut self) {
        let Some(s) = &self.session else { return };
        for c in self.app.on_snapshot(s.snapshot()) {
            if c != Control::Quit {
                apply(&mut self.session, c, &self.dir).expect("a control from a snapshot");
            }
        }
    }

    fn session(&mut self) -> &mut Session {
        self.session.as_mut().expect("a scenario is open")
    }

    /// Plays `seconds` of simulated time, as the runner does while playing; a guided step
    /// pauses the run, and the student plays on.
    fn play_for(&mut self, seconds: u64) {
        let s = self.session();
        assert!(s.playing, "playing");
        let t = s.sim().now() + sim_core::SimDuration::from_secs(seconds);
        loop {
            s.play_until(t, u64::MAX);
            if s.sim().finished() || s.sim().next_event_time().is_none_or(|n| n > t) {
                break;
            }
            s.playing = true;
        }
        s.playing = !s.sim().finished();
        self.refresh();
    }

    /// Opens the fault menu and picks the item labelled `label`.
    fn menu_pick(&mut self, label: &str) {
        self.press(KeyCode::Char('f'));
        let items = self.app.menu();
        let k = items
            .iter()
            .position(|i| i.label() == label)
            .unwrap_or_else(|| panic!("no `{label}` in {:?}", items.iter().map(MenuItem::label).collect::<Vec<_>>()));
        for _ in 0..k {
            self.press(KeyCode::Down);
        }
        self.press(KeyCode::Enter);
    }

    fn render(&self, w: u16, h: u16) -> Terminal<TestBackend> {
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        t.draw(|f| tui::view::draw(&self.app, f)).expect("draws");
        t
    }

    /// Selects `name` in the picker and opens it.
    fn open(&mut self, name: &str) {
        let i = self.app.catalogue.iter().position(|e| e.name == name).expect("built-in");
        while self.app.selected != i {
            self.press(KeyCode::Down);
        }
        self.press(KeyCode::Enter);
        assert_eq!(self.app.screen, Screen::Main);
    }
}

/// cap-exercise 30 s in, with the metadata replica meta-1 cut off by hand at 20 s.
fn mid_run() -> Harness {
    let mut h = Harness::new();
    h.open("cap-exercise");
    h.keys(" ");
    h.play_for(20);
    h.keys(" ");
    h.menu_pick("partition meta-1 from the rest");
    h.keys(" ");
    h.play_for(10);
    h.keys(" ");
    h
}

#[test]
fn snapshots_of_every_screen_at_both_sizes() {
    let mut h = Harness::new();
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("picker_{w}x{hgt}"), h.render(w, hgt).backend());
    }
    h = mid_run();
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("main_{w}x{hgt}"), h.render(w, hgt).backend());
    }
    h.press(KeyCode::Char('f'));
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("fault_menu_{w}x{hgt}"), h.render(w, hgt).backend());
    }
    h.press(KeyCode::Esc);
    h.press(KeyCode::Char('?'));
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("help_{w}x{hgt}"), h.render(w, hgt).backend());
    }
}

#[test]
fn a_scripted_session_partitions_and_heals_the_metadata_store() {
    let mut h = Harness::new();
    h.open("cap-exercise");
    assert_eq!(h.session().sim().events(), 0);

    // Play 20 s, pause, step one event.
    h.keys(" ");
    assert!(h.session().playing);
    h.play_for(20);
    h.keys(" ");
    assert!(!h.session().playing);
    let before = h.session().sim().events();
    h.keys(".");
    assert_eq!(h.session().sim().events(), before + 1);
    let t0 = h.session().sim().now();

    // Cut meta-1 off: the cut is in force a millisecond later, and shows on screen.
    h.menu_pick("partition meta-1 from the rest");
    h.keys("]");
    let s = h.session().sim();
    assert_eq!(s.cuts().len(), 1, "one cut in force");
    let partitioned_at = s.notes().as_slice().iter().find(|n| matches!(n.kind, NoteKind::Partition(_))).unwrap().time;
    assert!(partitioned_at > t0 && partitioned_at <= t0 + sim_core::SimDuration::from_millis(1));
    let snap = h.app.snapshot.clone().unwrap();
    assert!(snap.partitioned);
    let meta = snap.services.iter().find(|s| s.name == "meta").unwrap();
    assert_eq!(meta.instances.iter().map(|i| i.side).collect::<Vec<_>>(), [1, 2, 2], "meta-1 alone on side A");
    assert!(snap.log.iter().any(|l| l.text.starts_with("✂ partition: meta-1 |")), "{:?}", snap.log);

    // Ten seconds of partition: web-1 reaches no metadata replica (its only link is to
    // meta-1), and this scenario's calls have no timeout, so its image views hang.
    let views = |h: &mut Harness| h.session().sim().report(false).classes["view_image"].requests.clone();
    let at_cut = views(&mut h);
    h.keys(" ");
    h.play_for(10);
    h.keys(" ");
    let cut = views(&mut h);
    assert!(cut.in_flight > at_cut.in_flight + 100, "{at_cut:?} then {cut:?}");

    // Heal: the cut is gone, the log says so, and views complete at the full rate again.
    h.menu_pick("heal every partition");
    h.keys("]");
    assert!(h.session().sim().cuts().is_empty());
    let healed = views(&mut h);
    h.keys("]]]]]");
    let after = views(&mut h);
    let rate = |a: &sim_core::report::RequestCounts, b: &sim_core::report::RequestCounts, s: f64| {
        (b.completed - a.completed) as f64 / s
    };
    assert!(rate(&healed, &after, 5.0) > 1.8 * rate(&at_cut, &cut, 10.0), "{at_cut:?} {cut:?} {healed:?} {after:?}");
    assert!(h.app.snapshot.as_ref().unwrap().log.iter().any(|l| l.text == "✚ partition healed"));
    assert_eq!(h.session().hand_faults().len(), 2);
    assert_eq!(h.app.snapshot.as_ref().unwrap().hand_faults, 2);
}

/// Every key in every screen and overlay, and a terminal shrunk to 20x5 and back: no panic.
#[test]
fn every_key_on_every_screen_and_any_size_never_panics() {
    let mut codes: Vec<KeyCode> = (' '..='~').map(KeyCode::Char).collect();
    codes.extend([
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Backspace,
        KeyCode::Tab,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Delete,
        KeyCode::F(1),
    ]);
    let sizes = [(80, 24), (20, 5), (1, 1), (79, 23), (160, 48), (80, 24)];
    let screens: [fn(&mut Harness); 12] = [
        |_| {},
        |h| h.press(KeyCode::Char('p')),
        |h| h.open("stage-02"),
        |h| {
            h.open("stage-02");
            h.press(KeyCode::Char('f'));
        },
        |h| {
            h.open("stage-02");
            h.press(KeyCode::Char('?'));
        },
        |h| {
            h.open("stage-02");
            h.press(KeyCode::Char('l'));
        },
        |h| {
            h.open("stage-02");
            h.press(KeyCode::Char('f'));
            h.press(KeyCode::Enter); // the partition builder
        },
        |h| {
            h.open("stage-02");
            h.press(KeyCode::Enter); // an instance's detail
        },
        |h| {
            h.open("stage-02");
            h.menu_pick("crash web");
            h.press(KeyCode::Char('q')); // the question before leaving
        },
        |h| {
            h.open("stage-02");
            h.press(KeyCode::Char('/')); // typing a filter
        },
        |h| {
            h.open("stage-02");
            h.keys("T.....");
        },
        |h| {
            h.open("stage-02");
            h.press(KeyCode::Char('f'));
            h.press(KeyCode::Char('/'));
            h.keys("zzz"); // a menu filtered to nothing
        },
    ];
    for enter in screens {
        for &code in &codes {
            if code == KeyCode::Char('q') || code == KeyCode::Char('w') {
                continue; // quitting ends the session; saving writes files (tested below)
            }
            let mut h = Harness::new();
            enter(&mut h);
            h.press(code);
            for (w, hgt) in sizes {
                h.render(w, hgt);
            }
            // The same key again, and stepping on from there.
            h.press(code);
            h.render(80, 24);
        }
    }
}

#[test]
fn stepping_back_one_event_and_forward_again_shows_the_same_state() {
    let mut h = Harness::new();
    h.open("stage-04");
    h.keys(" ");
    h.play_for(30);
    h.keys(" ");
    // Enough events that the run has checkpoints to restore from.
    h.session().run_until(SimTime::ZERO + sim_core::SimDuration::from_secs(300), u64::MAX);
    assert!(h.session().checkpoint_count() > 0);
    h.refresh();
    let before = h.app.snapshot.clone().unwrap();
    let screen = h.render(160, 48).backend().to_string();
    h.keys(",");
    let back = h.app.snapshot.clone().unwrap();
    assert_eq!(back.events, before.events - 1);
    assert_ne!(back.trace_hash, before.trace_hash);
    h.keys(".");
    assert_eq!(h.app.snapshot.clone().unwrap(), before, "the same snapshot after back and forward");
    assert_eq!(h.render(160, 48).backend().to_string(), screen);

    // A second back and forth: the same again.
    h.keys("[");
    assert!(h.session().sim().now().as_nanos() + 1_000_000_000 <= before.now.as_nanos());
    h.keys("]");
    while h.session().sim().events() < before.events {
        h.keys(".");
    }
    assert_eq!(h.app.snapshot.clone().unwrap(), before);
}

#[test]
fn stepping_back_past_a_hand_fault_keeps_it_on_the_timeline() {
    let mut h = Harness::new();
    h.open("stage-02");
    h.keys(" ");
    h.play_for(20);
    h.keys(" ");
    h.menu_pick("crash web");
    h.keys("]]]");
    let ahead = h.app.snapshot.clone().unwrap();
    assert!(ahead.log.iter().any(|l| l.text == "✖ web crashed"));
    for _ in 0..5 {
        h.keys("[");
    }
    assert!(!h.app.snapshot.as_ref().unwrap().log.iter().any(|l| l.text == "✖ web crashed"));
    h.session().run_until(ahead.now, u64::MAX);
    h.refresh();
    assert_eq!(h.app.snapshot.clone().unwrap(), ahead, "replayed through the crash to the same state");
}

#[test]
fn a_fault_added_mid_run_replays_from_the_saved_text() {
    // The session's run, and a fresh run of the text it would save, agree event for event.
    let mut s = Session::open("cap-exercise", Some(7)).unwrap();
    s.run_until(SimTime::ZERO + sim_core::SimDuration::from_secs(15), u64::MAX);
    s.inject(&FaultRequest::Isolate("meta-2".into())).unwrap();
    s.run_until(SimTime::ZERO + sim_core::SimDuration::from_secs(25), u64::MAX);
    s.inject(&FaultRequest::HealAll).unwrap();
    s.inject(&FaultRequest::Crash("web-1".into())).unwrap();
    s.run_until(SimTime::ZERO + sim_core::SimDuration::from_secs(40), u64::MAX);
    let file = s.seed_file();
    let text = scenarios::seed_file::with_faults(&file.scenario_text, file.faults.iter().map(|f| f.toml.as_str()));
    let scenario =
        scenarios::parse(&scenarios::Source { origin: "saved".into(), text }, &scenarios::Overrides::default())
            .unwrap();
    let mut fresh = sim_core::Simulation::new(&scenario.model, 7);
    while fresh.events() < file.events.unwrap() && fresh.step().is_some() {}
    assert_eq!(fresh.trace_hash(), file.trace_hash);
    assert_eq!(fresh.trace_hash(), s.sim().trace_hash());
}

#[test]
fn switching_a_store_to_ap_replays_to_the_same_time_with_the_same_seed() {
    let mut h = Harness::new();
    h.open("cap-exercise");
    h.keys(" ");
    h.play_for(12);
    h.keys(" ");
    let now = h.session().sim().now();
    h.menu_pick("switch `meta` from CP to AP (replays to now)");
    let replayed = h.session().sim().now();
    assert!(replayed <= now && replayed.as_nanos() + 100_000_000 > now.as_nanos(), "{replayed} against {now}");
    let snap = h.app.snapshot.clone().unwrap();
    assert_eq!(snap.stores.iter().find(|s| s.0 == "meta").unwrap().1, "ap");
    assert!(snap.log.iter().any(|l| l.text.contains("`meta` is now AP")));
}

#[test]
fn a_scenario_file_that_does_not_parse_shows_its_located_error_in_the_picker() {
    let dir = std::env::temp_dir().join(format!("scalelab-tui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(&path, "[run]\nduration = \"ten minutes\"\n").unwrap();
    // A scenario is open already: the failed open must not bring its screen back.
    let mut h = Harness::new();
    h.open("stage-02");
    let seed = h.session().seed();
    h.keys("o");
    h.press(KeyCode::Char('p'));
    assert!(matches!(h.app.overlay, Overlay::Path { .. }));
    for c in path.to_str().unwrap().chars() {
        h.press(KeyCode::Char(c));
    }
    h.press(KeyCode::Enter);
    assert_eq!(h.app.screen, Screen::Picker);
    let message = h.app.message.clone().unwrap();
    assert!(message.contains("broken.toml:"), "{message}");
    // The prompt is open again with the path as typed and the whole located error.
    let Overlay::Path { input, error } = &h.app.overlay else { panic!("{:?}", h.app.overlay) };
    assert_eq!(input, path.to_str().unwrap());
    assert!(error.as_deref().is_some_and(|e| e.lines().count() > 1), "{error:?}");
    let screen = h.render(80, 24).backend().to_string();
    assert!(screen.contains("could not open"), "{screen}");
    assert!(screen.contains("broken.toml:1:1"), "file:line:column on screen, not squashed:\n{screen}");
    // Typing goes into the path, never to the main screen's keys (n: new seed).
    h.keys("n");
    assert_eq!(h.session().seed(), seed);
    assert!(matches!(&h.app.overlay, Overlay::Path { input, .. } if input.ends_with('n')));
}

/// Regression (issue #14): health marks came from replaying the notes log, which keeps
/// only its first 10,000 notes, so a long run with flapping health checks showed a
/// backend marked down long after its balancer had marked it up again.
#[test]
fn health_marks_come_from_the_run_not_from_the_bounded_notes_log() {
    let text = r#"
name = "flapping"
title = "flapping health checks"
[run]
duration = "130s"
warmup = "0s"
[workload]
arrival = "poisson"
rate = 10
[[components]]
id = "lb"
kind = "load_balancer"
backends = "web"
health_check = { interval = "2ms", timeout = "1ms", unhealthy_threshold = 1, healthy_threshold = 1 }
[[components]]
id = "web"
kind = "server"
count = 2
service = "1ms"
[[links]]
between = ["clients", "lb"]
[[links]]
between = ["lb", "web"]
latency = "100us"
[[classes]]
name = "page"
path = ["lb", "web"]
[[faults]]
at = "0s"
flaky = ["lb", "web-2"]
loss = 0.5
for = "120s"
"#;
    let source = scenarios::Source { origin: "flapping.toml".into(), text: text.into() };
    // A seed whose log, once full, last says web-2 was marked down: replaying it shows the
    // stale mark; after the heal at 120 s the balancer has long marked web-2 up.
    let session = (1..40)
        .map(|seed| {
            let mut s = Session::from_source(source.clone(), Default::default(), Some(seed)).expect("valid");
            s.run_until(SimTime::ZERO + sim_core::SimDuration::from_secs(130), u64::MAX);
            s
        })
        .find(|s| {
            let notes = s.sim().notes().as_slice();
            let web_2 = s.sim().model().components.iter().position(|c| c.name == "web-2").unwrap();
            let last = notes.iter().rev().find_map(|n| match n.kind {
                NoteKind::MarkedDown(b) | NoteKind::MarkedUp(b) if b.index() == web_2 => Some(n.kind),
                _ => None,
            });
            notes.len() == sim_core::world::notes::NOTES_MAX && matches!(last, Some(NoteKind::MarkedDown(_)))
        })
        .expect("a seed whose full log ends with web-2 marked down");
    let snapshot = session.snapshot();
    let web = snapshot.services.iter().find(|s| s.name == "web").unwrap();
    let health: Vec<&str> = web.instances.iter().map(|i| i.health.word()).collect();
    assert_eq!(health, ["up", "up"], "web-2 is back in rotation");
}

/// pixelcraft-1m 70 s in (10 s after its warm-up): 14 services, 32 instances.
fn pixelcraft_1m() -> Harness {
    let mut h = Harness::new();
    h.open("pixelcraft-1m");
    h.keys(" ");
    h.play_for(70);
    h.keys(" ");
    h
}

#[test]
fn at_80x24_every_service_and_instance_of_pixelcraft_1m_is_reachable_by_scrolling() {
    let mut h = pixelcraft_1m();
    let snap = h.app.snapshot.clone().unwrap();
    let services: Vec<String> = snap.services.iter().map(|s| s.name.clone()).collect();
    let instances: Vec<String> = snap
        .services
        .iter()
        .filter(|s| s.kind != "clients")
        .flat_map(|s| s.instances.iter().map(|i| i.name.clone()))
        .collect();
    assert_eq!((services.len(), instances.len()), (14, 32));
    let (mut seen_services, mut seen_instances) =
        (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    let first = h.render(80, 24).backend().to_string();
    assert!(first.contains("↓ ") && first.contains("more"), "what is cut says so:\n{first}");
    for _ in 0..instances.len() {
        let screen = h.render(80, 24).backend().to_string();
        for line in screen.lines() {
            // The topology is the left half of the top rows; the components panel below.
            let words: Vec<&str> = line.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_')).collect();
            for w in words {
                if services.iter().any(|s| s == w) {
                    seen_services.insert(w.to_string());
                }
                if instances.iter().any(|i| i == w) {
                    seen_instances.insert(w.to_string());
                }
            }
        }
        h.press(KeyCode::Down);
    }
    let missing: Vec<&String> = services.iter().filter(|s| !seen_services.contains(*s)).collect();
    assert!(missing.is_empty(), "services never shown: {missing:?}");
    let missing: Vec<&String> = instances.iter().filter(|i| !seen_instances.contains(*i)).collect();
    assert!(missing.is_empty(), "instances never shown: {missing:?}");
    // The key bar keeps help and quit at 80 columns.
    let last = first.lines().last().unwrap();
    assert!(last.contains("? help") && last.contains("q quit"), "{last}");
}

#[test]
fn typing_a_name_selects_an_instance_and_its_detail_shows_its_own_figures() {
    let mut h = pixelcraft_1m();
    h.keys("/redis-1");
    h.press(KeyCode::Enter);
    assert_eq!(h.app.selected_instance().as_deref(), Some("redis-1"));
    h.press(KeyCode::Enter);
    assert!(matches!(&h.app.overlay, Overlay::Detail { instance, .. } if instance == "redis-1"));
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("detail_{w}x{hgt}"), h.render(w, hgt).backend());
    }
    let screen = h.render(160, 48).backend().to_string();
    assert!(
        screen.contains("hit_ratio") && screen.contains("hit_ratio_since_start"),
        "window and since start, labelled"
    );
    assert!(screen.contains("hit ") && screen.contains("% (window)"), "{screen}");
    // q closes the box, not the app.
    h.press(KeyCode::Char('q'));
    assert_eq!(h.app.overlay, Overlay::None);
    assert!(!h.app.quit);
}

#[test]
fn the_why_panel_names_the_bottleneck_and_the_topology_marks_it() {
    let mut h = Harness::new();
    h.open("pixelcraft-100-at-1m");
    h.keys(" ");
    h.play_for(20);
    // In the warm-up the report's window has not begun: nothing is named yet.
    assert!(h.app.snapshot.as_ref().unwrap().insight.is_none());
    h.play_for(50);
    h.keys(" 5");
    let snap = h.app.snapshot.clone().unwrap();
    let b = snap
        .insight
        .as_ref()
        .and_then(|i| i.bottleneck.clone())
        .expect("a bottleneck at 1M users on the 100-user design");
    assert_eq!(b.service, "web");
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("why_{w}x{hgt}"), h.render(w, hgt).backend());
    }
    let screen = h.render(160, 48).backend().to_string();
    assert!(screen.contains("⚠web"), "the topology marks the bottleneck:\n{screen}");
}

#[test]
fn the_consistency_panel_shows_cap_exercise_s_answer() {
    let mut h = Harness::new();
    h.open("cap-exercise");
    h.keys(" ");
    h.play_for(200);
    h.keys(" 6");
    let snap = h.app.snapshot.clone().unwrap();
    let rows = &snap.insight.as_ref().unwrap().consistency;
    let row = |d: &str| rows.iter().find(|r| r.data == d).unwrap_or_else(|| panic!("{d} in {rows:?}"));
    // The lesson's answer, 80 s into its partition: CP metadata refuses (availability < 1)
    // and is never stale; AP counters and cursors stay available.
    assert!(row("images").availability < 0.9, "{rows:?}");
    assert_eq!(row("images").stale_reads, 0);
    assert_eq!(row("cursors").availability, 1.0);
    assert!(row("cursors").stale_reads > 0 && row("page_views").stale_reads > 0);
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("consistency_{w}x{hgt}"), h.render(w, hgt).backend());
    }
}

#[test]
fn speed_keys_typed_faster_than_snapshots_each_count() {
    let mut h = Harness::new();
    h.open("stage-02");
    // Six presses before any new snapshot reaches the app: each moves one step.
    let controls: Vec<Control> =
        (0..6).flat_map(|_| h.app.on_key(KeyEvent::new(KeyCode::Char('+'), KeyModifiers::NONE))).collect();
    for c in controls {
        apply(&mut h.session, c, &h.dir).unwrap();
    }
    assert_eq!(h.session().speed, tui::session::SPEEDS[4 + 6]);
}

#[test]
fn back_one_second_at_the_start_stays_at_the_start() {
    let mut h = Harness::new();
    h.open("stage-02");
    h.keys(".");
    assert!(h.session().sim().events() > 0);
    h.keys("[");
    assert_eq!(h.session().sim().events(), 0, "back to before the first event, not forward");
    h.keys("[");
    assert_eq!(h.session().sim().events(), 0);
}

#[test]
fn quitting_with_unsaved_hand_faults_asks_first() {
    let mut h = Harness::new();
    h.open("stage-02");
    h.menu_pick("crash web");
    h.keys("q");
    assert_eq!(h.app.overlay, Overlay::Confirm(tui::app::Leave::Quit));
    assert!(!h.app.quit);
    h.press(KeyCode::Esc);
    assert!(!h.app.quit);
    // r would lose it too: it asks, and y restarts without it.
    h.keys("r");
    assert_eq!(h.app.overlay, Overlay::Confirm(tui::app::Leave::Restart));
    h.keys("y");
    assert_eq!(h.session().hand_faults().len(), 0);
    // w in the question saves, then quits once the save shows.
    h.menu_pick("crash web");
    h.keys("q");
    h.keys("w");
    assert!(h.app.quit, "saved, then quit");
    assert_eq!(h.session().unsaved(), 0);
}

#[test]
fn the_event_inspector_says_what_each_step_did() {
    let mut h = pixelcraft_1m();
    h.keys("3");
    let before = h.render(160, 48).backend().to_string();
    h.keys("...");
    let snap = h.app.snapshot.clone().unwrap();
    let last = snap.recent.last().unwrap();
    assert_eq!(last.seq, snap.events, "the newest line is the event just stepped");
    assert!(last.text.contains('#') || last.component.is_some(), "{last:?}");
    let after = h.render(160, 48).backend().to_string();
    let changed = before.lines().zip(after.lines()).filter(|(a, b)| a != b).count();
    assert!(changed >= 4, "a step shows more than the event counter: {changed} lines changed");
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("inspector_{w}x{hgt}"), h.render(w, hgt).backend());
    }
    // Filtered by a component, every line shown names it.
    h.keys("/redis-2");
    h.press(KeyCode::Enter);
    let screen = h.render(160, 48).backend().to_string();
    let body: Vec<&str> = screen.lines().filter(|l| l.contains("s #")).collect();
    assert!(body.iter().all(|l| l.contains("redis-2")), "{body:?}");
}

/// Steps the session until the followed request has answered.
fn until_followed_completes(h: &mut Harness) {
    for _ in 0..2_000_000 {
        if h.session().waterfall().is_some_and(|w| w.end.is_some()) {
            break;
        }
        h.session().step();
    }
    h.refresh();
}

#[test]
fn a_followed_request_s_spans_add_up_to_its_latency_and_stepping_back_and_forth_keeps_it() {
    let mut h = pixelcraft_1m();
    // T: the next class after "any", view_image (its metadata from redis, then mongo).
    h.keys("T");
    assert_eq!(h.app.panel, tui::app::Panel::Request);
    let asked_at = h.session().sim().events();
    assert_eq!(h.app.snapshot.as_ref().unwrap().following.as_deref(), Some("the next `view_image` request"));
    until_followed_completes(&mut h);
    let w = h.app.snapshot.as_ref().unwrap().followed.clone().expect("followed");
    let end = w.end.expect("complete");
    assert_eq!(w.outcome.as_deref(), Some("ok"), "{w:?}");
    let latency = end.as_nanos() - w.start.as_nanos();
    assert_eq!(w.class, "view_image");
    assert!(w.spans.len() >= 3, "hops through lb, web and redis: {w:?}");
    let root = &w.spans[0];
    assert_eq!(root.depth, 0);
    let r = &root.span;
    assert_eq!(r.network_ns + r.queue_ns + r.service_ns + r.calls_ns, latency, "{root:?}");
    // The run's own account of the request: its last event says how long it took.
    let line = h
        .app
        .snapshot
        .as_ref()
        .unwrap()
        .recent
        .iter()
        .rev()
        .find(|e| e.request == Some(w.id) && e.text.contains("finished ok after"))
        .cloned()
        .expect("the request's finishing event");
    let said: f64 = line.text.split("finished ok after ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((said - latency as f64 / 1e6).abs() < 0.05, "{} vs {latency} ns", line.text);
    // Every child lies inside its parent.
    for (k, s) in w.spans.iter().enumerate().skip(1) {
        let parent = w.spans[..k].iter().rev().find(|p| p.depth + 1 == s.depth).unwrap();
        let (p, c) = (&parent.span, &s.span);
        assert!(p.start <= c.start && c.end.unwrap() <= p.end.unwrap(), "{s:?} in {parent:?}");
    }
    for (wd, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("request_{wd}x{hgt}"), h.render(wd, hgt).backend());
    }
    // Back one event and forward again; back a second and forward again: the same waterfall.
    let events = h.session().sim().events();
    h.keys(",.");
    assert_eq!(h.app.snapshot.as_ref().unwrap().followed.as_ref(), Some(&w));
    h.keys("[");
    while h.session().sim().events() < events {
        h.session().step();
    }
    h.refresh();
    assert_eq!(h.app.snapshot.as_ref().unwrap().followed.as_ref(), Some(&w));
    // Back to the very event where T was pressed (before the request was issued): the
    // session waits for it again, and stepping on finds the same one.
    h.session().seek_event(asked_at);
    h.refresh();
    assert!(h.app.snapshot.as_ref().unwrap().following.is_some());
    while h.session().sim().events() < events {
        h.session().step();
    }
    h.refresh();
    assert_eq!(h.app.snapshot.as_ref().unwrap().followed.as_ref(), Some(&w));
}

#[test]
fn a_guided_step_pauses_the_run_and_says_what_to_watch() {
    let mut h = Harness::new();
    h.open("cap-exercise");
    h.keys(" ");
    let s = h.session();
    s.play_until(SimTime::ZERO + sim_core::SimDuration::from_secs(100), u64::MAX);
    assert!(!s.playing, "the first step paused the run");
    h.refresh();
    let step = h.app.snapshot.as_ref().unwrap().step.clone().expect("a step");
    assert_eq!((step.index, step.of), (1, h.session().scenario().steps.len()));
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("step_{w}x{hgt}"), h.render(w, hgt).backend());
    }
    // Stepping back before it takes it away; playing on brings it back.
    h.session().seek_event(0);
    h.refresh();
    assert!(h.app.snapshot.as_ref().unwrap().step.is_none());
    h.keys(" ");
    h.session().play_until(SimTime::ZERO + sim_core::SimDuration::from_secs(100), u64::MAX);
    h.refresh();
    assert_eq!(h.app.snapshot.as_ref().unwrap().step.as_ref(), Some(&step));
}

#[test]
fn the_topology_and_the_instance_detail_show_slow_dependency_breaker_s_breakers_open() {
    let mut h = Harness::new();
    h.open("slow-dependency-breaker");
    h.keys(" ");
    // The slowdown starts at 60 s; both breakers open about a second later, for 5 s.
    h.play_for(63);
    h.keys(" ");
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("breaker_{w}x{hgt}"), h.render(w, hgt).backend());
    }
    let screen = h.render(160, 48).backend().to_string();
    assert!(screen.contains("→ recommendations ⚡ open 2/2"), "{screen}");
    let log = h.session().snapshot().log;
    assert!(log.iter().any(|l| l.text.contains("web-1's breaker to recommendations opened")), "the log names it");
    h.keys("/web-1");
    h.press(KeyCode::Enter);
    h.press(KeyCode::Enter);
    assert!(matches!(&h.app.overlay, Overlay::Detail { instance, .. } if instance == "web-1"));
    for (w, hgt) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("breaker_detail_{w}x{hgt}"), h.render(w, hgt).backend());
    }
    let detail = h.render(160, 48).backend().to_string();
    assert!(detail.contains("circuit breakers") && detail.contains("⚡ open"), "{detail}");
}

/// The retry storm on screen: before the trigger the clients' retries add nothing to web
/// ("1.0x", dim); after it, each user request makes about three calls ("↻ 3.", red), and
/// the why panel says a budget, not only more instances, lets web drain.
#[test]
fn the_topology_shows_the_load_a_retry_storm_adds_and_the_why_panel_names_the_cure() {
    let mut h = Harness::new();
    h.open("retry-storm");
    h.keys(" ");
    h.play_for(20);
    h.keys(" ");
    let before = h.render(160, 48).backend().to_string();
    assert!(before.contains("↻ 1.0x calls (retries)"), "{before}");
    h.keys(" ");
    h.play_for(40);
    h.keys(" ");
    let after = h.render(160, 48).backend().to_string();
    let x: f64 = after.split("↻ ").nth(1).and_then(|s| s.split('x').next()).unwrap().parse().unwrap();
    assert!(x > 2.5, "web gets {x} calls a request in the storm: {after}");
    insta::assert_snapshot!("retry_storm_160x48", h.render(160, 48).backend());
    h.keys("5");
    let why = h.render(160, 48).backend().to_string();
    // The panel wraps its sentences: read them with the frame and line breaks taken out.
    let words: Vec<&str> =
        why.split(|c: char| c.is_whitespace() || c == '│' || c == '"').filter(|w| !w.is_empty()).collect();
    let text = words.join(" ");
    assert!(text.contains("Most of that load is retries, not users"), "{why}");
    assert!(text.contains("of web's work was for callers that had given up (about $13 of its $20 a month)"), "{why}");
}

/// 429s are not errors on screen either: during gateway-rate-limit's spike the error-rate
/// chart stays at 0% and the `limited (429)` row, shown only where a rate limit stands,
/// carries the ~60% the token bucket refuses.
#[test]
fn the_charts_count_429s_apart_from_errors() {
    let mut h = Harness::new();
    h.open("gateway-rate-limit");
    h.keys(" ");
    h.play_for(45);
    h.keys(" ");
    let screen = h.render(160, 48).backend().to_string();
    let figure = |row: &str| -> f64 {
        let line = screen.lines().find(|l| l.contains(row)).unwrap_or_else(|| panic!("no {row} row: {screen}"));
        let after = line.split(row).nth(1).unwrap().trim_start();
        after.split_whitespace().next().unwrap().parse().unwrap()
    };
    assert_eq!(figure("error rate"), 0.0, "{screen}");
    let limited = figure("limited (429)");
    assert!((50.0..70.0).contains(&limited), "{limited}% limited: {screen}");
    let mut plain = Harness::new();
    plain.open("retry-storm");
    assert!(!plain.render(160, 48).backend().to_string().contains("limited (429)"), "no limiter, no row");
}
