//! Circuit breakers in a whole run: the `slow-dependency` pair's timeline (the breakers
//! open soon after the slowdown starts, fail calls fast while it lasts, and close within
//! `open_for` and a bound after it ends) and what they save the class that never calls
//! the slow service.

use sim_core::report::Report;
use sim_core::world::breaker::BreakerState;
use sim_core::world::notes::NoteKind;
use sim_core::{SimTime, Simulation};

/// The slowdown of recommendations in both built-ins, and the breakers' open duration.
const SLOW_FROM_S: f64 = 60.0;
const SLOW_UNTIL_S: f64 = 120.0;
const OPEN_FOR_S: f64 = 5.0;

fn run(name: &str) -> (Simulation, Report) {
    let source = scenarios::Source { origin: name.into(), text: scenarios::builtin::get(name).unwrap().into() };
    let scenario = scenarios::parse(&source, &scenarios::Overrides::default()).unwrap();
    let mut sim = Simulation::new(&scenario.model, scenario.seed);
    sim.run();
    let report = sim.report(false);
    (sim, report)
}

#[test]
fn breakers_open_within_two_seconds_of_the_slowdown_and_close_within_open_for_of_its_end() {
    let (sim, r) = run("slow-dependency-breaker");
    assert_eq!(r.breakers.len(), 2, "one breaker per web instance");
    for b in &r.breakers {
        assert_eq!(b.callee, "recommendations");
        let first = b.first_open_s.expect("it opened");
        assert!((SLOW_FROM_S..SLOW_FROM_S + 2.0).contains(&first), "{}: opened at {first} s", b.caller);
        assert!(b.transitions.iter().all(|t| t.at_s >= SLOW_FROM_S), "closed before the slowdown");
        // Open and half-open alternate while the slowdown lasts: every probe is slow.
        let during: Vec<&str> = b.transitions.iter().filter(|t| t.at_s < SLOW_UNTIL_S).map(|t| t.to).collect();
        assert!(during.chunks(2).all(|p| p[0] == "open" && p.get(1).is_none_or(|s| *s == "half_open")), "{during:?}");
        let last = b.transitions.last().unwrap();
        assert_eq!((last.to, b.state), ("closed", "closed"), "{}", b.caller);
        assert!(
            (SLOW_UNTIL_S..SLOW_UNTIL_S + OPEN_FOR_S + 2.5).contains(&last.at_s),
            "{}: closed at {} s",
            b.caller,
            last.at_s
        );
        let fault_s = SLOW_UNTIL_S - SLOW_FROM_S;
        assert!(b.open_s > 0.8 * fault_s && b.open_s < fault_s + OPEN_FOR_S, "open {} s", b.open_s);
        assert!(b.half_open_s < 0.15 * fault_s, "half-open {} s: each probe round is short", b.half_open_s);
        let open_s = b.open_s + b.half_open_s + b.closed_s;
        assert!((open_s - r.sim_seconds).abs() < 1e-6, "the states cover the run: {open_s}");
        assert!(b.failed_fast > 4_000, "{}: {} failed fast", b.caller, b.failed_fast);
        assert_eq!(r.components[&b.caller].breaker_failed_fast, Some(b.failed_fast));
    }
    // Every state change is a note, at the same time as in the timeline.
    let notes: Vec<(SimTime, BreakerState)> = sim
        .notes()
        .as_slice()
        .iter()
        .filter_map(|n| match n.kind {
            NoteKind::Breaker(_, s) if sim.component_name(n.component) == "web-1" => Some((n.time, s)),
            _ => None,
        })
        .collect();
    let web1 = &r.breakers[0];
    assert_eq!(web1.caller, "web-1");
    assert_eq!(notes.len(), web1.transitions.len());
    for ((t, s), tr) in notes.iter().zip(&web1.transitions) {
        assert_eq!((t.since(SimTime::ZERO).as_secs_f64(), s.name()), (tr.at_s, tr.to));
    }
}

#[test]
fn breakers_keep_the_class_that_never_calls_the_slow_service_healthy() {
    let (_, plain) = run("slow-dependency");
    let (_, guarded) = run("slow-dependency-breaker");
    assert!(plain.breakers.is_empty());
    let cart = |r: &Report| r.classes["cart"].error_rate;
    assert!(cart(&plain) > 0.3, "without breakers carts fail too: {}", cart(&plain));
    assert!(cart(&guarded) < 0.005, "with them they do not: {}", cart(&guarded));
    // Home pages fail in both, but fast with breakers: by the breaker, not by timeouts.
    let home = &guarded.classes["home"];
    let fast = home.failed_by_reason["circuit_open"];
    assert!(fast as f64 > 0.95 * home.requests.failed as f64, "{fast} of {}", home.requests.failed);
    assert!(!plain.classes["home"].failed_by_reason.contains_key("circuit_open"), "absent without breakers");
    let calls = |r: &Report| match &r.components["recommendations-1"].figures {
        sim_core::report::figures::Figures::Server(s) => s.served,
        other => panic!("{other:?}"),
    };
    assert!(calls(&guarded) < calls(&plain), "failed-fast calls never reach the callee");
    let explained = guarded.explain.what_happened.join(" ");
    assert!(explained.contains("web's breakers to recommendations were open"), "{explained}");
}
