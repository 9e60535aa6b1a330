//! The analytic twin against the built-ins: the queueing ones equal their closed forms,
//! and every built-in compiles into a twin whose refusals each name a part and a reason.

use scenarios::{Overrides, builtin, load};
use sim_core::theory::Twin;

fn twin(name: &str) -> Twin {
    let s = load(name, &Overrides::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    Twin::compile(&s.model)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs()
}

/// mm1 at its defaults: lambda 9/s, mu 10/s, so W = 1 / (mu - lambda) = 1 s, rho 0.9,
/// L = rho / (1 - rho) = 9, and the server saturates at 10 requests a second.
#[test]
fn mm1_twin_is_the_mm1_formula() {
    let t = twin("mm1");
    assert!(t.refusals.is_empty(), "{:?}", t.refusals);
    let class = &t.classes[0];
    assert!(class.exact, "{class:?}");
    assert!(close(class.mean_latency_ms.unwrap(), 1000.0, 1e-9), "{class:?}");
    let s = &t.stations[0];
    assert!(s.exact && s.instances == 1 && s.servers_per_instance == 1);
    assert!(close(s.utilization, 0.9, 1e-12) && close(s.mean_in_system.unwrap(), 9.0, 1e-9), "{s:?}");
    assert!(close(s.saturates_at_rps.unwrap(), 10.0, 1e-9));
    assert!(close(t.bounds.throughput_max_rps.unwrap(), 10.0, 1e-9), "{:?}", t.bounds);
    assert_eq!(t.instances_for("server", 0.5), Some(2));
}

/// mmc at its defaults: c = 10, mu = 10/s, rho 0.8: Erlang C gives W = 120.46 ms.
#[test]
fn mmc_twin_is_the_erlang_c_formula() {
    let t = twin("mmc");
    let class = &t.classes[0];
    assert!(close(class.mean_latency_ms.unwrap(), 120.46, 1e-4), "{class:?}");
    assert!(close(t.stations[0].utilization, 0.8, 1e-12));
    // Offered load 80 over 10 servers of rate 10: 100 rps is the ceiling.
    assert!(close(t.stations[0].saturates_at_rps.unwrap(), 100.0, 1e-9));
}

/// An overloaded M/M/1 with an unbounded queue has no latency, and says why.
#[test]
fn a_saturated_station_says_arrival_exceeds_capacity() {
    let s = load("mm1", &Overrides::with_set(&[("arrival_rate", "12")])).unwrap();
    let t = Twin::compile(&s.model);
    let why = t.classes[0].why_not.as_deref().unwrap();
    assert!(t.classes[0].mean_latency_ms.is_none());
    assert!(why.contains("server saturates: arrival 12 rps > capacity 10 rps"), "{why}");
    assert_eq!(t.instances_for("server", 0.6), Some(2));
}

/// mm1 as a closed loop of 3 users thinking exp(1 s), S = 0.1 s. Exact MVA by hand:
/// N = 1: R = 0.1, X = 1/1.1, Q = 1/11. N = 2: R = 0.1 (1 + 1/11), X = 2 / (1 + R),
/// Q = X R. N = 3: R = 0.1 (1 + Q(2)).
#[test]
fn a_closed_mm1_is_solved_by_exact_mva() {
    let text = builtin::get("mm1").unwrap().replace(
        "arrival = \"poisson\"\nrate = \"arrival_rate\"",
        "arrival = \"closed\"\nusers = 3\nthink = \"exp(1s)\"",
    );
    let source = scenarios::Source { origin: "closed".into(), text };
    let t = Twin::compile(&scenarios::parse(&source, &Overrides::default()).expect("valid").model);
    assert!(t.method.starts_with("exact MVA (closed, 1 class)"), "{}", t.method);
    let r2 = 0.1 * (1.0 + 1.0 / 11.0);
    let q2 = 2.0 / (1.0 + r2) * r2;
    let r3 = 0.1 * (1.0 + q2);
    let got = t.classes[0].mean_latency_ms.unwrap();
    assert!(close(got, r3 * 1e3, 1e-9), "{got} vs {}", r3 * 1e3);
    assert!(t.classes[0].exact);
    let s = &t.stations[0];
    assert!(close(s.utilization, 3.0 / (1.0 + r3) * 0.1, 1e-9), "{s:?}");
    // N* = (D + Z) / D_max = (0.1 + 1) / 0.1 = 11 users.
    assert!(close(t.bounds.users_star.unwrap(), 11.0, 1e-9), "{:?}", t.bounds);
}

/// A small room overloaded: M/M/1/K's blocking, exact at any load once the queue fills.
#[test]
fn an_overloaded_small_queue_rejects_as_mm1k_says() {
    let text = builtin::get("mm1").unwrap().replace("queue_capacity = 10_000_000", "queue_capacity = 3");
    let source = scenarios::Source { origin: "small room".into(), text };
    let over = Overrides::with_set(&[("arrival_rate", "20")]);
    let t = Twin::compile(&scenarios::parse(&source, &over).expect("valid").model);
    // rho = 2, K = 4: p_4 = 16 / 31.
    let s = &t.stations[0];
    assert!(close(s.reject_share, 16.0 / 31.0, 1e-9) && s.exact, "{s:?}");
    assert!(t.caveats.iter().any(|c| c.contains("turns away 51.6%")), "{:?}", t.caveats);
}

#[test]
fn every_builtin_compiles_and_every_refusal_says_what_and_why() {
    for (name, _) in builtin::BUILTIN {
        let t = twin(name);
        println!("== {name}: {}", t.method);
        for s in &t.stations {
            println!(
                "   station {} [{}] {} x{} c={} U={:.3} R={:?} ms exact={} {}",
                s.service,
                s.role,
                s.kind,
                s.instances,
                s.servers_per_instance,
                s.utilization,
                s.mean_response_ms.map(|r| (r * 1000.0).round() / 1000.0),
                s.exact,
                s.saturated.as_deref().unwrap_or("")
            );
        }
        for c in &t.classes {
            println!(
                "   class {}: {:?} ms exact={} {}",
                c.class,
                c.mean_latency_ms,
                c.exact,
                c.why_not.as_deref().unwrap_or("")
            );
        }
        for r in &t.refusals {
            println!("   refused {}: {}", r.part, r.why);
            assert!(!r.part.is_empty() && !r.why.is_empty(), "{name}: {r:?}");
        }
        for c in &t.caveats {
            println!("   caveat: {c}");
        }
        println!("   bounds: {:?}", t.bounds);
        for c in &t.classes {
            assert!(c.mean_latency_ms.is_some() != c.why_not.is_some(), "{name}: a latency or a reason: {c:?}");
            assert!(c.mean_latency_ms.is_none_or(|l| l.is_finite() && l >= 0.0), "{name}: {c:?}");
        }
        for s in &t.stations {
            assert!(s.utilization.is_finite() && s.utilization >= 0.0, "{name}: {s:?}");
        }
    }
}

/// A differential check against the simulation: every class the twin calls exact is
/// within 3% of the mean latency in the committed seed-1 report of each built-in
/// (`tests/golden`, sampled runs of 10^4 to 10^6 requests). Every other prediction is
/// printed beside the run's figure, for reading.
#[test]
fn exact_predictions_match_the_golden_runs() {
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    let mut checked = 0;
    for (name, _) in builtin::BUILTIN {
        let text =
            std::fs::read_to_string(golden.join(format!("{name}-1.json"))).expect("a golden report per built-in");
        let report: serde_json::Value = serde_json::from_str(&text).expect("json");
        for c in &twin(name).classes {
            let Some(predicted) = c.mean_latency_ms else { continue };
            let measured = report["classes"][&c.class]["latency_ms"]["mean"].as_f64().expect("a class mean");
            let err = (predicted - measured) / measured;
            println!(
                "{name:28} {:20} twin {predicted:9.2} ms  run {measured:9.2} ms  {:+6.1}%  exact={}",
                c.class,
                err * 100.0,
                c.exact
            );
            if c.exact {
                assert!(err.abs() < 0.03, "{name}/{}: twin {predicted} ms vs run {measured} ms", c.class);
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "the exact cases were checked: {checked}");
}

/// A gateway's station, limiter and routing by policy are not in the twin: even without
/// a rate limit it refuses the gateway by name and reason, and predicts no latency for a
/// class that passes through it.
#[test]
fn a_gateway_is_refused_by_name_and_reason() {
    let text = r#"
name = "gw"
title = "gw"
[run]
duration = "10s"
[workload]
arrival = "poisson"
rate = 100
[[components]]
id = "api"
kind = "gateway"
workers = 8
auth = "exp(1ms)"
[[components]]
id = "web"
kind = "server"
count = 2
service = "exp(10ms)"
[[links]]
between = ["clients", "api"]
[[links]]
between = ["api", "web"]
[[classes]]
name = "read"
path = ["api", "web"]
"#;
    let source = scenarios::Source { origin: "gw.toml".into(), text: text.into() };
    let s = scenarios::parse(&source, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    let t = Twin::compile(&s.model);
    assert!(t.refusals.iter().any(|r| r.part == "api" && r.why.contains("API gateway")), "refusals: {:?}", t.refusals);
    assert!(t.classes.iter().all(|c| c.mean_latency_ms.is_none() && c.why_not.is_some()), "{:?}", t.classes);
}

/// A hop's retries multiply the load on it and below by a factor that depends on how
/// many calls fail: the twin refuses the class's population, naming the class and the hop.
#[test]
fn a_retried_hop_is_refused_with_its_class_and_callee() {
    let text = r#"
name = "hop-retry"
title = "hop retry"
[run]
duration = "10s"
[workload]
arrival = "poisson"
rate = 100
[[components]]
id = "api"
kind = "server"
workers = 8
service = "exp(1ms)"
[[components]]
id = "db"
kind = "server"
workers = 8
service = "exp(2ms)"
[[links]]
between = ["clients", "api"]
[[links]]
between = ["api", "db"]
[[classes]]
name = "read"
path = ["api", "db"]
[classes.hops.db]
retry = { attempts = 3 }
"#;
    let source = scenarios::Source { origin: "hop-retry.toml".into(), text: text.into() };
    let s = scenarios::parse(&source, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    let t = Twin::compile(&s.model);
    let why = "class `read` retries its failed calls to `db`";
    assert!(t.refusals.iter().any(|r| r.why.starts_with(why)), "refusals: {:?}", t.refusals);
    assert!(t.classes.iter().all(|c| c.mean_latency_ms.is_none() && c.why_not.is_some()), "{:?}", t.classes);
}
