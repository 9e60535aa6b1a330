//! Fan-out against order statistics (issue #18): a front end calls n independent leaves
//! at once (`leaf*n`), each exponential with mean m, with pools large enough that nothing
//! queues and no network delay, so a request's latency is the maximum of n exponentials.
//! Then (1) the share of requests slower than a leaf's p99 (m ln 100) is 1 - 0.99^n,
//! read as the error rate when the class times out at exactly that latency, and (2) the
//! mean latency is m H(n), H the harmonic number. Run with `--profile tests`.

mod common;

use scenarios::{Overrides, Source};
use sim_core::{Report, Simulation};

/// Leaf mean service time, ms.
const MEAN_MS: f64 = 10.0;

/// The fan-out scenario: `rate` requests a second for `secs` seconds (1 s warm-up).
fn scenario(path: &str, timeout: &str, rate: u32, secs: u32) -> String {
    format!(
        r#"
name = "fanout-theory"
title = "Fan-out against order statistics"
[run]
duration = "{secs}s"
warmup = "1s"
[workload]
arrival = "poisson"
rate = {rate}
[[components]]
id = "front"
kind = "server"
workers = 100000
service = "0ms"
[[components]]
id = "agg"
kind = "server"
workers = 100000
service = "0ms"
[[components]]
id = "leaf"
kind = "server"
count = 10
workers = 100000
service = "exp({MEAN_MS}ms)"
[[links]]
between = ["clients", "front"]
latency = "0ms"
[[links]]
between = ["front", "agg"]
latency = "0ms"
[[links]]
between = ["front", "leaf"]
latency = "0ms"
[[links]]
between = ["agg", "leaf"]
latency = "0ms"
[[classes]]
name = "search"
path = {path}
timeout = "{timeout}"
"#
    )
}

fn run(text: String, seed: u64) -> Report {
    let source = Source { origin: "fanout.toml".into(), text };
    let s = scenarios::parse(&source, &Overrides::default()).unwrap_or_else(|e| panic!("{e:?}"));
    let mut sim = Simulation::new(&s.model, seed);
    sim.run();
    sim.report(false)
}

fn harmonic(n: u32) -> f64 {
    (1..=n).map(|k| 1.0 / f64::from(k)).sum()
}

/// Requests per n, so that n x requests leaf calls stay near 4 x 10^6.
fn requests_for(n: u32) -> u32 {
    (4_000_000 / n).clamp(4_000, 40_000)
}

#[test]
fn share_slower_than_a_leafs_p99_is_one_minus_point_99_to_the_n() {
    // The leaf's p99 is m ln 100; every call of the class gives up there, so a request
    // fails exactly when its slowest leaf is slower than that.
    let p99_ms = MEAN_MS * 100f64.ln();
    for n in [1u32, 10, 100, 1000] {
        let requests = requests_for(n);
        let text = scenario(&format!("[\"front\", \"leaf*{n}\"]"), &format!("{p99_ms}ms"), 1000, requests / 1000 + 1);
        let r = run(text, 1);
        let done = (r.requests.completed + r.requests.failed) as f64;
        let want = 1.0 - 0.99f64.powi(n as i32);
        // Four binomial standard errors, and at least 0.004 (p near 0 or 1).
        let tolerance = (4.0 * (want * (1.0 - want) / done).sqrt()).max(0.004);
        assert!(done >= f64::from(requests) * 0.95, "n = {n}: {:?}", r.requests);
        assert!(
            (r.error_rate - want).abs() < tolerance,
            "n = {n}: {:.4} of {done} requests slower than a leaf's p99, theory {want:.4} ± {tolerance:.4}",
            r.error_rate
        );
        if n == 100 {
            assert!((r.error_rate - 0.634).abs() < 0.02, "the 63.4% of The Tail at Scale: {}", r.error_rate);
        }
    }
}

#[test]
fn mean_of_the_slowest_of_n_exponentials_is_m_times_the_harmonic_number() {
    for n in [1u32, 10, 100, 1000] {
        let requests = requests_for(n);
        let r = run(scenario(&format!("[\"front\", \"leaf*{n}\"]"), "none", 1000, requests / 1000 + 1), 2);
        let want = MEAN_MS * harmonic(n);
        // The maximum's variance is m^2 times the sum of 1/k^2 (< pi^2/6): four standard
        // errors of the mean over the requests measured.
        let sd = MEAN_MS * (1..=n).map(|k| 1.0 / f64::from(k * k)).sum::<f64>().sqrt();
        let tolerance = 4.0 * sd / (r.requests.completed as f64).sqrt();
        assert_eq!(r.requests.failed, 0, "n = {n}");
        assert!(
            (r.latency_ms.mean - want).abs() < tolerance,
            "n = {n}: mean {:.3} ms, theory m H(n) = {want:.3} ms ± {tolerance:.3}",
            r.latency_ms.mean
        );
    }
}

#[test]
fn a_two_level_tree_of_a_thousand_leaves_runs_and_is_the_slowest_of_its_leaves() {
    // 10 aggregators each fanning out to 100 leaves: 1,000 leaf calls a request, and the
    // request waits for the slowest of all 1,000 (the aggregators add no time).
    let r = run(scenario("[\"front\", \"agg*10\", \"leaf*100\"]", "none", 200, 51), 3);
    assert!(r.requests.completed >= 9_000, "{:?}", r.requests);
    assert_eq!(r.requests.failed, 0);
    let leaf = &r.components["leaf-1"];
    let served = leaf_served(&r);
    let calls_per_request = served as f64 / (r.requests.completed as f64);
    // Over the window; warm-up requests and those in flight at the end blur it a little.
    assert!((calls_per_request - 1000.0).abs() < 20.0, "{calls_per_request} leaf calls a request ({leaf:?})");
    let want = MEAN_MS * harmonic(1000);
    assert!((r.latency_ms.mean - want).abs() < 0.02 * want, "mean {} ms, theory {want} ms", r.latency_ms.mean);
}

/// Requests the leaves served over the run, all ten instances together.
fn leaf_served(r: &Report) -> u64 {
    (1..=10)
        .map(|i| match &r.components[&format!("leaf-{i}")].figures {
            sim_core::report::figures::Figures::Server(s) => s.served,
            other => panic!("a server: {other:?}"),
        })
        .sum()
}

#[test]
fn the_budget_counts_every_leaf_call() {
    let s = scenarios::parse(
        &Source {
            origin: "fanout.toml".into(),
            text: scenario("[\"front\", \"agg*10\", \"leaf*100\"]", "1s", 200, 51),
        },
        &Overrides::default(),
    )
    .expect("valid");
    assert_eq!(s.model.classes[0].calls_per_request(), 1 + 10 + 1000);
    let e = scenarios::budget::Estimate::of(&s.model);
    // 200 a second for 51 s, 1,011 calls each; each call's 1 s timeout pending at once.
    assert!((e.calls - 200.0 * 51.0 * 1011.0).abs() < 1.0, "{e:?}");
    assert!((e.pending_timeouts - 200.0 * 1011.0).abs() < 1.0, "{e:?}");
    // Ten times wider at the leaves is past the per-request limit.
    let wide = scenario("[\"front\", \"agg*1000\", \"leaf*1001\"]", "1s", 1, 2);
    let err = scenarios::parse(&Source { origin: "wide.toml".into(), text: wide }, &Overrides::default()).unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("1002001 calls in all; the limit is 1000000"), "{text}");
}

#[test]
fn a_fan_out_to_all_sends_one_call_to_each_instance_and_the_diagram_labels_the_edge() {
    let r = run(scenario("[\"front\", \"leaf*all\"]", "none", 100, 11), 4);
    let served: Vec<u64> = (1..=10)
        .map(|i| match &r.components[&format!("leaf-{i}")].figures {
            sim_core::report::figures::Figures::Server(s) => s.served,
            other => panic!("a server: {other:?}"),
        })
        .collect();
    // One call to each leaf a request: equal counts, but for the request in flight at the end.
    let (least, most) = (served.iter().min().unwrap(), served.iter().max().unwrap());
    assert!(most - least <= 1, "each request calls every leaf once: {served:?}");
    assert!(served[0] > 900, "{served:?}");
    let want = MEAN_MS * harmonic(10);
    assert!(
        (r.latency_ms.mean - want).abs() < 0.1 * want,
        "the slowest of ten: {} ms against {want} ms",
        r.latency_ms.mean
    );
    let diagram = common::ok(&["diagram", "tail-at-scale"]);
    assert!(diagram.contains("search ×100"), "{diagram}");
}
