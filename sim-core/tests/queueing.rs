//! The engine against queueing theory, with models built directly (no scenario files).
//! The scenario-level checks of issue #2 live in the root package's tests.

use sim_core::event::Op;
use sim_core::kernel::ids::{ClassId, ComponentId, ServiceId};
use sim_core::model::LinkSpec;
use sim_core::model::{
    Arrival, ClassSpec, ClientsSpec, ComponentModel, ComponentSpec, FlowNode, Limits, Routing, ServerSpec, ServiceSpec,
};
use sim_core::{Delay, Model, SimDuration, Simulation};

fn clients(lambda: f64) -> ComponentSpec {
    ComponentSpec {
        name: "clients".into(),
        service: ServiceId(0),
        model: ComponentModel::Clients(ClientsSpec {
            arrival: Arrival::Poisson { rate_per_sec: lambda },
            class_weights: vec![(ClassId(0), 1.0)],
            users: 1,
            surges: Vec::new(),
        }),
    }
}

fn server(name: &str, service: u32, c: u32, mean: SimDuration) -> ComponentSpec {
    ComponentSpec {
        name: name.into(),
        service: ServiceId(service),
        model: ComponentModel::Server(ServerSpec::pool(c, 10_000_000, Delay::exponential(mean))),
    }
}

fn service(name: &str, instances: &[u32]) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        instances: instances.iter().map(|&i| ComponentId(i)).collect(),
        routing: Routing::RoundRobin,
    }
}

fn mmc(lambda: f64, mu: f64, c: u32, customers: f64) -> Model {
    let duration = SimDuration::from_secs_f64(customers / lambda);
    Model {
        name: "mmc".into(),
        components: vec![clients(lambda), server("server", 1, c, SimDuration::from_secs_f64(1.0 / mu))],
        services: vec![service("clients", &[0]), service("server", &[1])],
        links: vec![LinkSpec {
            name: "clients-server".into(),
            a: ComponentId(0),
            b: ComponentId(1),
            latency: Delay::constant(SimDuration::ZERO),
        }],
        classes: vec![ClassSpec {
            name: "job".into(),
            origin: ComponentId(0),
            flow: vec![FlowNode::call(ServiceId(1), Op::Read, vec![])],
            keyspace: None,
            timeout: None,
            retry: None,
            low_priority: false,
            hedges: vec![],
            hops: vec![],
            propagate_deadline: false,
        }],
        keyspaces: vec![],
        breakers: vec![],
        faults: vec![],
        partitions: vec![],
        costs: sim_core::model::cost::CostSpec::seed_defaults(2),
        duration,
        warmup: SimDuration::from_secs_f64(duration.as_secs_f64() * 0.01),
        limits: Limits::default(),
    }
}

#[test]
fn mm1_rho_half_quick_check() {
    let mut sim = Simulation::new(&mmc(5.0, 10.0, 1, 200_000.0), 1);
    sim.run();
    let r = sim.report(false);
    let want_ms = 1000.0 / (10.0 - 5.0);
    let err = (r.latency_ms.mean - want_ms).abs() / want_ms;
    assert!(err < 0.03, "mean {} vs {want_ms}", r.latency_ms.mean);
    let c = &r.requests;
    assert_eq!(c.generated, c.completed + c.failed + c.in_flight);
}

#[test]
fn lockstep_finds_no_divergence_for_one_seed_and_the_first_one_for_two() {
    let model = mmc(50.0, 10.0, 8, 2_000.0);
    let same =
        sim_core::view::lockstep::first_divergence(&mut Simulation::new(&model, 5), &mut Simulation::new(&model, 5));
    assert_eq!(same, None);
    let d =
        sim_core::view::lockstep::first_divergence(&mut Simulation::new(&model, 5), &mut Simulation::new(&model, 6))
            .expect("two seeds diverge");
    // The start events are identical; the first arrival time is the first difference.
    assert_eq!(d.index, 2);
    let (a, b) = (d.a.unwrap(), d.b.unwrap());
    assert_eq!((a.component, a.tag), (b.component, b.tag));
    assert_ne!(a.time, b.time);
}

#[test]
fn adding_an_idle_component_leaves_every_other_draw_unchanged() {
    let base = mmc(8.0, 10.0, 1, 50_000.0);
    let mut extended = base.clone();
    // A component that nothing routes to, declared *before* the server.
    extended.components.insert(1, server("spare", 1, 1, SimDuration::from_millis(1)));
    extended.components[2].service = ServiceId(2);
    extended.services[1].instances = vec![ComponentId(1)];
    extended.services.push(service("server", &[2]));
    extended.costs = sim_core::model::cost::CostSpec::seed_defaults(3);
    extended.services[1].name = "spare".into();
    extended.links[0].b = ComponentId(2);
    extended.classes[0].flow[0].service = ServiceId(2);
    let run = |m: &Model| {
        let mut sim = Simulation::new(m, 11);
        sim.run();
        sim.report(false)
    };
    let (a, b) = (run(&base), run(&extended));
    assert_eq!(a.classes["job"], b.classes["job"], "the same requests, the same latencies");
    assert_eq!(a.components["server"], b.components["server"]);
    assert_ne!(a.trace_hash, b.trace_hash, "the extra component's start event is in the trace");
}

/// Independent failures of probability p and at most k attempts: each user request makes
/// Σ_{j<k} p^j = (1 − p^k)/(1 − p) calls and succeeds with probability 1 − p^k. A server
/// with `error_rate = p` and workers to spare fails each call independently; the clients
/// retry errors at once. Tolerances: four standard errors over the run's N requests, from
/// the binomial (success) and the truncated geometric (calls per request) variances.
#[test]
fn retries_of_independent_failures_multiply_load_by_the_geometric_sum_and_succeed_one_minus_p_to_the_k() {
    for (p, k) in [(0.1f64, 2u32), (0.3, 3), (0.5, 4), (0.5, 1)] {
        let text = format!(
            r#"name = "retry-theory"
title = "retry theory"
[run]
duration = "40s"
warmup = "0s"
[workload]
arrival = "poisson"
rate = 2000
[[components]]
id = "api"
kind = "server"
workers = 200
service = "1ms"
error_rate = {p}
[[links]]
between = ["clients", "api"]
latency = "0ms"
[[classes]]
name = "call"
path = ["api"]
retry = {{ attempts = {k}, backoff = "constant", base = "1ms", jitter = "none", on = ["error"] }}
"#
        );
        let r = run_file("theory.toml", &text, 3);
        let c = &r.classes["call"];
        let retry = c.retry.as_ref().expect("a retrying class reports its retries");
        let n = (c.requests.completed + c.requests.failed) as f64;
        let success = 1.0 - p.powi(k as i32);
        let calls = (1.0 - p.powi(k as i32)) / (1.0 - p);
        let second: f64 = (1..=k).map(|j| f64::from(2 * j - 1) * p.powi(j as i32 - 1)).sum();
        let calls_se = ((second - calls * calls) / n).sqrt();
        let success_se = (success * (1.0 - success) / n).sqrt();
        let measured_success = c.requests.completed as f64 / n;
        assert!(
            (measured_success - success).abs() <= 4.0 * success_se + 1e-9,
            "p={p} k={k}: success {measured_success} vs 1 - p^k = {success} (se {success_se})"
        );
        assert!(
            (retry.amplification - calls).abs() <= 4.0 * calls_se + 1e-9,
            "p={p} k={k}: {} calls per request vs (1 - p^k)/(1 - p) = {calls} (se {calls_se})",
            retry.amplification
        );
        assert_eq!(retry.refused_by_budget, 0);
        assert!(n > 70_000.0, "{n} requests");
    }
}

/// Per-hop retries compose: in a → b → leaf, a retries its call to b and b its call to
/// the leaf, k = 3 attempts each, against a leaf that fails each call with probability p.
/// A call to b fails with probability q = p³ after (1 − p³)/(1 − p) leaf calls on average,
/// so a request makes the product of the two layers' geometric sums of leaf calls (at
/// most 9) and succeeds with probability 1 − q³ = 1 − p⁹. The mean and variance come from
/// enumerating every path of attempts; tolerances are four standard errors.
#[test]
fn hop_retries_in_two_layers_multiply_leaf_calls_by_both_layers_factors() {
    for p in [0.5f64, 0.7] {
        let retry = r#"retry = { attempts = 3, backoff = "constant", base = "1ms", jitter = "none", on = ["error"] }"#;
        let text = format!(
            r#"name = "hop-retry-theory"
title = "hop retry theory"
[run]
duration = "20s"
warmup = "0s"
[workload]
arrival = "poisson"
rate = 2000
[[components]]
id = "a"
kind = "server"
workers = 400
service = "0.1ms"
[[components]]
id = "b"
kind = "server"
workers = 400
service = "0.1ms"
[[components]]
id = "leaf"
kind = "server"
workers = 400
service = "1ms"
error_rate = {p}
[[links]]
between = ["clients", "a"]
latency = "0ms"
[[links]]
between = ["a", "b"]
latency = "0ms"
[[links]]
between = ["b", "leaf"]
latency = "0ms"
[[classes]]
name = "call"
path = ["a", "b", "leaf"]
[classes.hops.b]
{retry}
[classes.hops.leaf]
{retry}
"#
        );
        let r = run_file("theory.toml", &text, 5);
        let c = &r.classes["call"];
        assert!(c.retry.is_none(), "the client itself does not retry");
        let (to_b, to_leaf) = (&c.hop_retry["b"], &c.hop_retry["leaf"]);
        let n = to_b.attempts as f64 / to_b.amplification;
        // One call to b: (leaf calls, probability, whether it failed).
        let b_call: Vec<(f64, f64, bool)> = vec![
            (1.0, 1.0 - p, false),
            (2.0, p * (1.0 - p), false),
            (3.0, p * p * (1.0 - p), false),
            (3.0, p.powi(3), true),
        ];
        // Every path of up to 3 calls to b, stopping at the first success.
        let mut paths = vec![(0.0f64, 1.0f64, true)];
        let (mut mean, mut second, mut success) = (0.0, 0.0, 0.0);
        for _ in 0..3 {
            let mut next = Vec::new();
            for &(calls, prob, _) in &paths {
                for &(y, py, failed) in &b_call {
                    let (x, px) = (calls + y, prob * py);
                    if failed {
                        next.push((x, px, true));
                    } else {
                        (mean, second, success) = (mean + x * px, second + x * x * px, success + px);
                    }
                }
            }
            paths = next;
        }
        for &(x, px, _) in &paths {
            (mean, second) = (mean + x * px, second + x * x * px);
        }
        let q = p.powi(3);
        let product = (1.0 - q.powi(3)) / (1.0 - q) * (1.0 - q) / (1.0 - p);
        assert!((mean - product).abs() < 1e-12, "the enumeration agrees with the product: {mean} vs {product}");
        assert!((success - (1.0 - p.powi(9))).abs() < 1e-12);
        let leaf_per_request = to_leaf.attempts as f64 / n;
        let se = ((second - mean * mean) / n).sqrt();
        assert!(
            (leaf_per_request - mean).abs() <= 4.0 * se,
            "p={p}: {leaf_per_request} leaf calls per request vs {mean} (se {se})"
        );
        let finished = (c.requests.completed + c.requests.failed) as f64;
        let measured = c.requests.completed as f64 / finished;
        let success_se = (success * (1.0 - success) / finished).sqrt();
        assert!(
            (measured - success).abs() <= 4.0 * success_se,
            "p={p}: success {measured} vs 1 - p^9 = {success} (se {success_se})"
        );
        assert!(leaf_per_request <= 9.0);
        let parts: f64 = c.time_split.mean.iter().map(|h| h.total_ms).sum();
        let mean = c.latency_ms.mean;
        assert!((parts - mean).abs() <= 0.01 * mean, "p={p}: the time split adds up to {parts}, the mean is {mean}");
        assert_eq!((to_b.refused_by_budget, to_leaf.refused_by_budget, to_leaf.past_deadline), (0, 0, 0));
        assert!(n > 35_000.0, "{n} requests");
    }
}

/// A propagated deadline caps hop retries: with 50 ms for the request and a leaf that
/// always fails at once, the first retry (after 30 ms) ends in time and the second (at
/// 60 ms) would not, so each finished request made exactly 2 leaf calls, none after its deadline.
#[test]
fn a_propagated_deadline_refuses_a_hop_retry_whose_backoff_ends_after_it() {
    let text = r#"name = "hop-retry-deadline"
title = "hop retry deadline"
[run]
duration = "5s"
warmup = "0s"
[workload]
arrival = "poisson"
rate = 200
[[components]]
id = "a"
kind = "server"
workers = 100
service = "0.1ms"
[[components]]
id = "leaf"
kind = "server"
workers = 100
service = "0.1ms"
error_rate = 1
[[links]]
between = ["clients", "a"]
latency = "0ms"
[[links]]
between = ["a", "leaf"]
latency = "0ms"
[[classes]]
name = "call"
path = ["a", "leaf"]
timeout = "50ms"
deadline = "propagate"
[classes.hops.leaf]
retry = { attempts = 5, backoff = "constant", base = "30ms", jitter = "none", on = ["error"] }
"#;
    let r = run_file("deadline.toml", text, 1);
    let c = &r.classes["call"];
    let leaf = &c.hop_retry["leaf"];
    let calls = leaf.attempts - leaf.retries;
    let (failed, in_flight) = (c.requests.failed, c.requests.in_flight);
    assert!(failed > 800, "{failed} requests failed");
    assert_eq!(c.requests.completed, 0);
    // Each finished request: one retry, then the second refused; the rest are in flight.
    assert_eq!(leaf.past_deadline, failed, "the second retry would end after the deadline");
    assert!(leaf.retries >= failed && leaf.retries - failed <= in_flight, "{} retries", leaf.retries);
    assert!(calls >= failed && calls - failed <= in_flight, "{calls} first calls");
    assert!((leaf.amplification - 2.0).abs() < 0.02, "{} calls per first call", leaf.amplification);
    assert_eq!(c.failed_by_reason.get("error").copied(), Some(c.requests.failed));
    let said =
        r.explain.what_happened.iter().find(|s| s.starts_with("Hop retries made")).expect("a hop retry sentence");
    let want = format!("Hop retries made {:.2} calls to leaf per first call of call (", leaf.amplification);
    assert!(said.starts_with(&want) && said.contains(" would have ended after the deadline"), "{said}");
}

/// A retried call made beside another (`parallel`) books into a ledger of its own: the
/// retry's starts with all the time since the first attempt, so a request whose slower
/// call needed retries still splits its latency into parts that add up.
#[test]
fn a_retried_parallel_call_keeps_the_time_split_adding_up() {
    let text = r#"name = "hop-retry-parallel"
title = "hop retry parallel"
[run]
duration = "10s"
warmup = "0s"
[workload]
arrival = "poisson"
rate = 500
[[components]]
id = "a"
kind = "server"
workers = 100
service = "0.5ms"
[[components]]
id = "x"
kind = "server"
workers = 100
service = "2ms"
error_rate = 0.5
[[components]]
id = "y"
kind = "server"
workers = 100
service = "1ms"
[[links]]
between = ["clients", "a"]
latency = "1ms"
[[links]]
between = ["a", "x"]
latency = "1ms"
[[links]]
between = ["a", "y"]
latency = "1ms"
[[classes]]
name = "call"
path = ["a"]
calls = ["x", "y"]
parallel = true
[classes.hops.x]
retry = { attempts = 4, backoff = "constant", base = "5ms", jitter = "none", on = ["error"] }
"#;
    let r = run_file("parallel.toml", text, 2);
    let c = &r.classes["call"];
    let x = &c.hop_retry["x"];
    assert!((x.amplification - 1.875).abs() < 0.05, "(1 - 0.5^4)/(1 - 0.5) = 1.875 calls, got {}", x.amplification);
    let parts: f64 = c.time_split.mean.iter().map(|h| h.total_ms).sum();
    let mean = c.latency_ms.mean;
    // A retried request waits at least 5 ms more than one that was not.
    assert!(mean > 10.0, "mean {mean} ms");
    assert!((parts - mean).abs() <= 0.01 * mean, "the time split adds up to {parts}, the mean is {mean}");
}

/// The report of scenario text `text` (named `origin` in errors) run with `seed`.
fn run_file(origin: &str, text: &str, seed: u64) -> sim_core::Report {
    let source = scenarios::Source { origin: origin.into(), text: text.into() };
    let model = scenarios::parse(&source, &scenarios::Overrides::default()).unwrap_or_else(|e| panic!("{e}")).model;
    let mut sim = Simulation::new(&model, seed);
    sim.run();
    sim.report(false)
}
