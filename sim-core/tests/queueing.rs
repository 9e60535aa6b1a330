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
        let source = scenarios::Source { origin: "theory.toml".into(), text };
        let model = scenarios::parse(&source, &scenarios::Overrides::default()).unwrap_or_else(|e| panic!("{e}")).model;
        let mut sim = Simulation::new(&model, 3);
        sim.run();
        let r = sim.report(false);
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
