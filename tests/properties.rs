//! Invariants of any run, over randomly generated valid scenarios: requests are conserved,
//! utilizations and queues stay within their bounds, and the same seed gives the same run.

use proptest::prelude::*;
use scenarios::{Overrides, Source};
use sim_core::Simulation;

#[derive(Debug, Clone)]
struct Spec {
    closed: bool,
    rate: f64,
    users: u32,
    servers: Vec<(u32, u32, &'static str)>,
    link_latency: &'static str,
}

fn spec() -> impl Strategy<Value = Spec> {
    let service = prop::sample::select(vec![
        "exp(20ms)",
        "5ms",
        "uniform(1ms, 30ms)",
        "lognormal(mean = 10ms, cv = 2)",
        "pareto(min = 2ms, alpha = 1.5)",
    ]);
    let server = (1u32..5, 0u32..6, service);
    (
        any::<bool>(),
        1.0f64..400.0,
        1u32..40,
        prop::collection::vec(server, 1..4),
        prop::sample::select(vec!["0ms", "1ms", "exp(2ms)"]),
    )
        .prop_map(|(closed, rate, users, servers, link_latency)| Spec {
            closed,
            rate,
            users,
            servers,
            link_latency,
        })
}

fn toml(s: &Spec) -> String {
    let mut t = String::from(
        "name = \"prop\"\ntitle = \"generated\"\n[run]\nduration = \"20s\"\nwarmup = \"2s\"\n[workload]\n",
    );
    if s.closed {
        t += &format!("arrival = \"closed\"\nusers = {}\nthink = \"exp(100ms)\"\n", s.users);
    } else {
        t += &format!("arrival = \"poisson\"\nrate = {}\n", s.rate);
    }
    let mut prev = "clients".to_string();
    let mut path = Vec::new();
    for (i, (workers, queue, service)) in s.servers.iter().enumerate() {
        let id = format!("s{i}");
        t += &format!(
            "[[components]]\nid = \"{id}\"\nkind = \"server\"\nworkers = {workers}\nqueue_capacity = {queue}\nservice = \"{service}\"\n"
        );
        t += &format!("[[links]]\nbetween = [\"{prev}\", \"{id}\"]\nlatency = \"{}\"\n", s.link_latency);
        path.push(format!("\"{id}\""));
        prev = id;
    }
    t += &format!("[[classes]]\nname = \"a\"\npath = [{}]\n", path.join(", "));
    t += &format!("[[classes]]\nname = \"b\"\nweight = 0.5\npath = [{}]\n", path[..1].join(", "));
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn runs_conserve_requests_respect_bounds_and_repeat(s in spec(), seed in any::<u64>()) {
        let source = Source { origin: "prop.toml".into(), text: toml(&s) };
        let scenario = scenarios::parse(&source, &Overrides::default()).map_err(|d| TestCaseError::fail(d.to_string()))?;
        let run = || {
            let mut sim = Simulation::new(&scenario.model, seed);
            sim.run();
            sim.report(false)
        };
        let (r, again) = (run(), run());
        let q = &r.requests;
        prop_assert_eq!(q.generated, q.completed + q.failed + q.in_flight, "conservation");
        for c in r.classes.values() {
            let cq = &c.requests;
            prop_assert_eq!(cq.generated, cq.completed + cq.failed + cq.in_flight);
        }
        if s.closed {
            prop_assert!(q.in_flight <= u64::from(s.users), "a closed loop has at most one request per user");
        }
        for (i, (_, queue, _)) in s.servers.iter().enumerate() {
            let c = &r.components[&format!("s{i}")];
            let u = c.utilization.unwrap();
            prop_assert!((0.0..=1.0 + 1e-9).contains(&u), "utilization {u}");
            prop_assert!(c.queue_max.unwrap() <= u64::from(*queue), "queue_max above capacity");
        }
        prop_assert!(r.latency_ms.p50 <= r.latency_ms.p99 + 1e-9 && r.latency_ms.p99 <= r.latency_ms.max * 1.001 + 1e-9);
        prop_assert_eq!(&r, &again, "same seed, same report");
    }
}
