//! The engine against queueing theory, through the built-in `mm1` and `mmc` scenarios
//! with fixed seeds (issue #2, item 2). Run in release mode: `cargo test --release`.

use scenarios::Overrides;
use sim_core::{Report, Simulation};

fn run(name: &str, set: &[(&str, &str)], seed: u64) -> Report {
    let scenario = scenarios::load(name, &Overrides::with_set(set)).expect("valid built-in");
    let mut sim = Simulation::new(&scenario.model, seed);
    sim.run();
    sim.report(false)
}

fn relative_error(got: f64, want: f64) -> f64 {
    (got - want).abs() / want
}

/// Erlang C: the probability that an arrival waits, with c servers and offered load a = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let last = term * f64::from(c) / (f64::from(c) - a);
    last / (sum + last)
}

/// Little's law at the server: time-average number present = throughput x mean time.
fn assert_littles_law(r: &Report) {
    let server = &r.components["server"];
    let sim_core::report::figures::Figures::Server(figures) = &server.figures else { panic!("a server") };
    let l = server.queue_mean.unwrap() + figures.busy_mean;
    let lambda_w = r.throughput_rps * r.latency_ms.mean / 1000.0;
    assert!(relative_error(l, lambda_w) < 0.01, "Little's law: L = {l}, lambda W = {lambda_w}");
}

#[test]
fn mm1_at_rho_half_matches_one_over_mu_minus_lambda() {
    let r = run("mm1", &[("arrival_rate", "5"), ("customers", "1000000")], 1);
    let want_ms = 1000.0 / (10.0 - 5.0);
    assert!(r.requests.completed > 990_000, "{:?}", r.requests);
    let err = relative_error(r.latency_ms.mean, want_ms);
    assert!(err < 0.01, "mean {} ms vs theory {want_ms} ms ({:.2}%)", r.latency_ms.mean, err * 100.0);
    // The reported 95% interval should cover theory (it is an honest interval).
    let ci = r.latency_ms.mean_ci95.expect("enough batches");
    assert!((r.latency_ms.mean - want_ms).abs() < 2.0 * ci, "CI ±{ci} misses theory");
    let util = r.components["server"].utilization.unwrap();
    assert!(relative_error(util, 0.5) < 0.01, "utilization {util}");
    assert_littles_law(&r);
}

#[test]
fn mm1_at_rho_point_nine_matches_theory_within_two_percent() {
    let r = run("mm1", &[("arrival_rate", "9"), ("customers", "10000000")], 1);
    let want_ms = 1000.0 / (10.0 - 9.0);
    assert!(r.requests.completed > 9_900_000, "{:?}", r.requests);
    let err = relative_error(r.latency_ms.mean, want_ms);
    assert!(err < 0.02, "mean {} ms vs theory {want_ms} ms ({:.2}%)", r.latency_ms.mean, err * 100.0);
    // Mean number waiting in M/M/1: rho^2 / (1 - rho) = 8.1.
    let lq = r.components["server"].queue_mean.unwrap();
    assert!(relative_error(lq, 8.1) < 0.02, "queue mean {lq} vs 8.1");
    assert_littles_law(&r);
}

#[test]
fn mmc_with_ten_servers_at_rho_point_eight_matches_erlang_c() {
    let r = run("mmc", &[("servers", "10"), ("utilization", "0.8"), ("customers", "2000000")], 1);
    let (c, mu, lambda) = (10u32, 10.0, 80.0);
    let wait_probability = erlang_c(c, lambda / mu);
    assert!((wait_probability - 0.4092).abs() < 1e-3, "Erlang C itself: {wait_probability}");
    let want_ms = 1000.0 * (1.0 / mu + wait_probability / (f64::from(c) * mu - lambda));
    let err = relative_error(r.latency_ms.mean, want_ms);
    assert!(err < 0.01, "mean {} ms vs Erlang C {want_ms} ms ({:.2}%)", r.latency_ms.mean, err * 100.0);
    assert!(relative_error(r.components["server"].utilization.unwrap(), 0.8) < 0.01);
    assert_littles_law(&r);
}

#[test]
fn a_closed_loop_obeys_the_response_time_law() {
    // Interactive response-time law: X = N / (R + Z), for N users thinking Z between requests.
    let text = scenarios::builtin::get("mm1").unwrap().replace(
        "arrival = \"poisson\"\nrate = \"arrival_rate\"",
        "arrival = \"closed\"\nusers = 20\nthink = \"exp(1s)\"",
    );
    let source = scenarios::Source { origin: "closed".into(), text };
    let scenario = scenarios::parse(&source, &Overrides::default()).expect("valid");
    let mut sim = Simulation::new(&scenario.model, 3);
    sim.run();
    let r = sim.report(false);
    let x = 20.0 / (r.latency_ms.mean / 1000.0 + 1.0);
    assert!(relative_error(r.throughput_rps, x) < 0.01, "X = {} vs N/(R+Z) = {x}", r.throughput_rps);
    // 20 users who each want 1 request/s saturate a 10/s server.
    assert!(r.components["server"].utilization.unwrap() > 0.99);
}
