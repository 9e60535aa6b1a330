//! Deadlines through the CLI: in a chain of four services whose front is overloaded, a
//! propagated deadline keeps every call inside the time its request has left, holds back
//! the calls made after it passed, and spares the backends the work the plain chain wastes.

mod common;

use scenarios::Overrides;
use sim_core::{SimDuration, Simulation};
use std::collections::BTreeMap;

const PLAIN: &str = "deep-chain";
const PROPAGATE: &str = "deep-chain-deadline";
/// The class's timeout: its root's deadline.
const DEADLINE_NS: u64 = 300_000_000;

/// Every event of 4 s of built-in `file` about a request: (calls sent, and timeouts fired, that
/// came after their request's deadline, the root's issue plus 300 ms; all of them).
fn after_deadline(file: &str) -> (usize, usize) {
    let o = Overrides { duration: Some(SimDuration::from_secs(4)), ..Overrides::default() };
    let s = scenarios::load(file, &o).unwrap();
    let mut sim = Simulation::new(&s.model, s.seed);
    sim.record_events(usize::MAX >> 8);
    sim.run();
    let mut issued: BTreeMap<u64, u64> = BTreeMap::new();
    let (mut late, mut all) = (0, 0);
    for r in sim.recent_events() {
        let Some(id) = r.request else { continue };
        if r.text.contains("it issued") {
            issued.insert(id, r.t.0);
        } else if r.text.contains("it calls") || r.text.starts_with("timeout:") {
            all += 1;
            late += usize::from(r.t.0 > issued[&id] + DEADLINE_NS);
        }
    }
    (late, all)
}

/// Issue #18: a child never waits longer than its parent has left. With propagation no
/// call is sent, and no caller still waits, after its request's deadline; without it,
/// the backends are called for requests already given up (the check can fail).
#[test]
fn with_a_propagated_deadline_no_call_outlives_its_parents_deadline() {
    let (late, all) = after_deadline(PROPAGATE);
    assert!(all > 20_000, "{all} calls and timeouts");
    assert_eq!(late, 0, "{late} of {all} calls or timeouts came after their request's deadline");
    let (late, all) = after_deadline(PLAIN);
    assert!(late > all / 10, "without propagation {late} of {all} come after it");
}

/// Without propagation the front's workers wait on calls for requests already given up,
/// and the backends serve them: goodput 62/s of 3,600 and about 3,400 s of wasted work at
/// b, c and d. With it, the calls after the deadline are not sent, each named as such in
/// the explanation, wasted work falls about 12 times and goodput is 2,810/s.
#[test]
fn a_propagated_deadline_cuts_wasted_work_in_a_deep_chain() {
    let plain = common::report(PLAIN, &[]);
    let prop = common::report(PROPAGATE, &[]);
    let wasted = |r: &serde_json::Value, s: &str| r["components"][s]["wasted_s"].as_f64().unwrap();
    let total = |r: &serde_json::Value| ["a", "b", "c", "d"].iter().map(|s| wasted(r, s)).sum::<f64>();
    let downstream = |r: &serde_json::Value| ["b", "c", "d"].iter().map(|s| wasted(r, s)).sum::<f64>();
    assert!(downstream(&plain) > 3000.0, "{}", downstream(&plain));
    assert!(downstream(&prop) < 400.0, "{}", downstream(&prop));
    assert!(total(&prop) * 8.0 < total(&plain), "{} vs {}", total(&prop), total(&plain));
    let goodput = |r: &serde_json::Value| r["throughput_rps"].as_f64().unwrap();
    assert!(goodput(&plain) < 200.0 && goodput(&prop) > 2500.0, "{} vs {}", goodput(&plain), goodput(&prop));
    let not_sent = prop["classes"]["req"]["deadline"]["not_sent"].as_u64().unwrap();
    assert!(not_sent > 1000, "{not_sent}");
    assert!(plain["classes"]["req"].get("deadline").is_none(), "only a propagating class reports it");
    let said = prop["explain"]["what_happened"].to_string();
    assert!(said.contains(&format!("{} calls were not sent", thousands(not_sent))), "{said}");
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
