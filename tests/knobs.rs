//! Live knobs as faults (`scale`, `rate`, `resize`): each changes the run as theory says,
//! and a session with a scale fault replays through the CLI to the same trace hash.

mod common;

use scenarios::fault::{Fault, FaultKind};
use scenarios::seed_file::{FaultEntry, SESSION, SeedFile, fnv};
use scenarios::{Overrides, Source};
use sim_core::report::Report;
use sim_core::report::figures::Figures;
use sim_core::{SimDuration, SimTime, Simulation};

/// A balancer over `count` single-worker web servers (mu = 100/s each) at `rate` per
/// second, measured over [10 s, 70 s], with `faults` appended as `[[faults]]` tables.
fn balanced(count: u32, rate: f64, faults: &str) -> String {
    format!(
        r#"
name = "knobs"
title = "Knobs"
[run]
duration = "70s"
warmup = "10s"
[workload]
arrival = "poisson"
rate = {rate}
[[components]]
id = "lb"
kind = "load_balancer"
backends = "web"
[[components]]
id = "web"
kind = "server"
count = {count}
workers = 1
queue_capacity = 50
service = "exp(10ms)"
[[links]]
between = ["clients", "lb"]
[[links]]
between = ["lb", "web"]
[[classes]]
name = "page"
path = ["lb", "web"]
{faults}"#
    )
}

fn run(text: &str, seed: u64) -> Report {
    let s = scenarios::parse(&Source { origin: "knobs.toml".into(), text: text.into() }, &Overrides::default())
        .unwrap_or_else(|d| panic!("{d}"));
    let mut sim = Simulation::new(&s.model, seed);
    sim.run();
    sim.report(false)
}

/// Every event up to and including `t`, as the TUI's session plays.
fn run_until(sim: &mut Simulation, t: SimTime) {
    while sim.next_event_time().is_some_and(|next| next <= t) && sim.step().is_some() {}
}

fn utilization(r: &Report, name: &str) -> f64 {
    r.components[name].utilization.unwrap_or_else(|| panic!("{name} measures its utilization"))
}

fn in_service_mean(r: &Report) -> f64 {
    let Figures::LoadBalancer(f) = &r.components["lb"].figures else { panic!("lb is a balancer") };
    f.autoscaling.as_ref().expect("scale faults report the number in service").backends_in_service_mean
}

/// lambda = 300/s on 2 servers of mu = 100/s is overloaded: throughput is capped at
/// c mu = 200/s. Scaled to 4 at the window's start, the 4 share it: throughput is lambda and
/// each is busy rho = lambda / (c mu) = 0.75, as M/M/c's utilization law says.
#[test]
fn scaling_up_from_2_to_4_raises_throughput_and_lowers_each_servers_load() {
    let before = run(&balanced(2, 300.0, ""), 1);
    assert!((before.throughput_rps - 200.0).abs() < 8.0, "capped at 2 mu: {}", before.throughput_rps);
    assert!(utilization(&before, "web-1") > 0.98, "{}", utilization(&before, "web-1"));
    assert!(!before.components.contains_key("web-3"));

    let after = run(&balanced(2, 300.0, "[[faults]]\nat = \"10s\"\nscale = \"web\"\ninstances = 4\n"), 1);
    assert!((after.throughput_rps - 300.0).abs() < 9.0, "lambda: {}", after.throughput_rps);
    for w in ["web-1", "web-2", "web-3", "web-4"] {
        let u = utilization(&after, w);
        assert!((u - 0.75).abs() < 0.03, "{w}: rho = lambda / (4 mu) = 0.75, measured {u}");
    }
    assert!((in_service_mean(&after) - 4.0).abs() < 1e-9);
    // Billed for the mean number in service over the window: 4, as 4 servers from the start.
    let four = run(&balanced(4, 300.0, ""), 1);
    assert_eq!(after.cost.by_component["web"], four.cost.by_component["web"]);
    assert_eq!(before.cost.by_component["web"] * 2.0, four.cost.by_component["web"]);
}

/// 4 servers at lambda = 150/s are each 37.5% busy; scaled down to 2 at the window's start,
/// the two left carry it all at rho = 0.75, the two taken out idle, and the bill counts 2.
#[test]
fn scaling_down_takes_the_highest_numbered_out_of_service() {
    let full = run(&balanced(4, 150.0, ""), 2);
    assert!((utilization(&full, "web-4") - 0.375).abs() < 0.03, "{}", utilization(&full, "web-4"));
    let down = run(&balanced(4, 150.0, "[[faults]]\nat = \"10s\"\nscale = \"web\"\ninstances = 2\n"), 2);
    assert!((down.throughput_rps - 150.0).abs() < 6.0, "{}", down.throughput_rps);
    for w in ["web-1", "web-2"] {
        let u = utilization(&down, w);
        assert!((u - 0.75).abs() < 0.03, "{w}: rho = 150 / (2 x 100) = 0.75, measured {u}");
    }
    for w in ["web-3", "web-4"] {
        assert!(utilization(&down, w) < 0.001, "{w} is out of service: {}", utilization(&down, w));
    }
    assert_eq!(in_service_mean(&down), 2.0);
    // The two out of service are not idle capacity: the service is 75% busy, not 37.5%.
    let web = down.explain.services.iter().find(|s| s.service == "web").expect("web's load");
    assert!((web.utilization - 0.75).abs() < 0.03, "{}", web.utilization);
    let ratio = down.cost.by_component["web"] / full.cost.by_component["web"];
    assert!((ratio - 0.5).abs() < 1e-9, "billed for 2 of 4: {ratio}");
}

/// A rate fault sets the open-loop rate until the next: 100/s, then 400/s from 30 s. Over
/// the 30 s window after it, the measured rate is 400/s within 5% (its standard error is
/// 0.9%).
#[test]
fn a_rate_fault_sets_the_measured_arrival_rate() {
    let text = balanced(8, 100.0, "[[faults]]\nat = \"30s\"\nrate = \"clients\"\nto = 400\n")
        .replace("warmup = \"10s\"", "warmup = \"30s\"")
        .replace("duration = \"70s\"", "duration = \"60s\"")
        .replace("exp(10ms)", "exp(1ms)");
    let r = run(&text, 3);
    assert!((r.throughput_rps - 400.0).abs() < 20.0, "{}", r.throughput_rps);
    let Figures::Clients(c) = &r.components["clients"].figures else { panic!("clients") };
    let expected = 100.0 * 30.0 + 400.0 * 30.0;
    assert!((c.issued as f64 - expected).abs() < 0.05 * expected, "issued {} of ~{expected}", c.issued);
}

/// Uniform keys over an LRU of C entries out of N hit C/N of the time: 2000 of 10,000 is
/// 0.2; shrunk to 200 at the window's start it is 0.02.
#[test]
fn shrinking_a_cache_lowers_its_hit_ratio() {
    let cached = |faults: &str| {
        format!(
            r#"
name = "cached"
title = "Cached"
[run]
duration = "80s"
warmup = "20s"
[keyspaces.items]
count = 10000
zipf = 0
[workload]
arrival = "poisson"
rate = 1000
[[components]]
id = "web"
kind = "server"
workers = 64
service = "exp(1ms)"
[[components]]
id = "cache"
kind = "cache"
capacity = 2000
latency = "200us"
[[components]]
id = "db"
kind = "database"
[[links]]
between = ["clients", "web"]
[[links]]
between = ["web", "cache"]
[[links]]
between = ["cache", "db"]
[[classes]]
name = "read"
path = ["web"]
calls = ["cache>db"]
keyspace = "items"
{faults}"#
        )
    };
    let hit = |r: &Report| match &r.components["cache"].figures {
        Figures::Cache(c) => (c.hit_ratio, c.entries),
        _ => panic!("a cache"),
    };
    let (full, held) = hit(&run(&cached(""), 4));
    assert_eq!(held, 2000);
    assert!((full - 0.2).abs() < 0.01, "C/N = 0.2, measured {full}");
    let (small, held) = hit(&run(&cached("[[faults]]\nat = \"20s\"\nresize = \"cache\"\ncapacity = 200\n"), 4));
    assert!((small - 0.02).abs() < 0.005, "C/N = 0.02, measured {small}");
    assert_eq!(held, 200, "the shrink evicts down to 200, and misses never grow it back");
}

/// Each kind written by `to_toml` parses back to the same fault, and lowers.
#[test]
fn each_knob_round_trips_through_its_toml() {
    let base = balanced(2, 100.0, "");
    let kinds = [
        FaultKind::Scale { service: "web".into(), instances: 2 },
        FaultKind::Rate { population: "clients".into(), per_sec: 1500.5 },
    ];
    for kind in kinds {
        let f = Fault { at: SimDuration::from_millis(20_500), kind, lasting: None };
        let toml = f.to_toml();
        let text = format!("{base}\n{toml}");
        let parsed = scenarios::parse(&Source { origin: "t.toml".into(), text }, &Overrides::default())
            .unwrap_or_else(|d| panic!("{toml}: {d}"));
        let plain =
            scenarios::parse(&Source { origin: "t.toml".into(), text: base.clone() }, &Overrides::default()).unwrap();
        let lowered = plain.with_faults(std::slice::from_ref(&f)).unwrap();
        assert_eq!(parsed.model.faults, lowered.model.faults, "{toml}");
        assert_eq!(parsed.model.faults.len(), 1, "{toml}");
    }
    let resize = Fault {
        at: SimDuration::from_secs(3),
        kind: FaultKind::Resize { cache: "cache".into(), capacity: 123 },
        lasting: None,
    };
    assert_eq!(resize.to_toml(), "[[faults]]\nat = \"3s\"\nresize = \"cache\"\ncapacity = 123\n");
}

/// A session as the TUI plays it: a partition joins the run under way; a scale fault past
/// the service's instances cannot (`reshapes`), so the scenario is parsed again with it and
/// replayed from t = 0. Saved as a seed file, `scalelab replay` reaches the same trace hash.
#[test]
fn a_session_with_a_scale_fault_and_a_partition_replays_to_the_same_trace_hash() {
    let source = scenarios::resolve("cap-exercise").unwrap();
    let overrides = Overrides::default();
    let base = scenarios::parse(&source, &overrides).unwrap();
    let seed = 11;
    let at = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
    let mut sim = Simulation::new(&base.model, seed);
    run_until(&mut sim, at(15));

    let scale = Fault {
        at: SimDuration::from_secs(20),
        kind: FaultKind::Scale { service: "web".into(), instances: 4 },
        lasting: None,
    };
    assert!(base.reshapes(&scale));
    let e = base.with_faults(std::slice::from_ref(&scale)).unwrap_err();
    assert!(e.message.contains("needs instances this model does not have (it has 2)"), "{e}");
    let rebuilt = scenarios::parse_with_faults(&source, &overrides, std::slice::from_ref(&scale)).unwrap();
    let refused = sim.add_faults(&rebuilt.model).unwrap_err();
    assert!(refused.contains("changes the model's shape"), "{refused}");
    let mut sim = Simulation::new(&rebuilt.model, seed);
    run_until(&mut sim, at(25));

    let sides = vec![vec!["meta-1".to_string(), "web-1".to_string()], vec!["meta-2".into(), "meta-3".into()]];
    let cut = Fault {
        at: SimDuration::from_secs(30),
        kind: FaultKind::Partition { sides, one_way: false, hold: false },
        lasting: Some(SimDuration::from_secs(60)),
    };
    assert!(!rebuilt.reshapes(&cut));
    let with_cut = rebuilt.with_faults(std::slice::from_ref(&cut)).unwrap();
    sim.add_faults(&with_cut.model).unwrap();
    // Scaling back down fits the model as it is: it joins the run under way.
    let down = Fault {
        at: SimDuration::from_secs(100),
        kind: FaultKind::Scale { service: "web".into(), instances: 3 },
        lasting: None,
    };
    assert!(!with_cut.reshapes(&down));
    let with_down = with_cut.with_faults(std::slice::from_ref(&down)).unwrap();
    sim.add_faults(&with_down.model).unwrap();
    run_until(&mut sim, at(150));

    let entry = |f: &Fault, end_s: u64| FaultEntry {
        start_ms: f.at.as_nanos() / 1_000_000,
        end_ms: end_s * 1000,
        toml: f.to_toml(),
    };
    let file = SeedFile {
        scalelab_version: "test".into(),
        scenario: base.name.clone(),
        scenario_origin: source.origin.clone(),
        scenario_hash: fnv(&source.text),
        seed,
        duration: None,
        invariant: SESSION.into(),
        detail: "a scale fault and a two-sided partition".into(),
        trace_hash: sim.trace_hash(),
        events: Some(sim.events()),
        faults: vec![entry(&scale, 20), entry(&cut, 90), entry(&down, 100)],
        scenario_text: source.text.clone(),
    };
    let path = common::scratch("scaled-session.toml");
    std::fs::write(&path, file.to_toml()).unwrap();
    let o = common::scalelab(&["replay", path.to_str().unwrap()]);
    let out = common::stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", common::stderr(&o));
    assert!(out.contains("session with 3 faults by hand"), "{out}");
    assert!(out.contains("reproduced: the same trace hash"), "{out}");
}

/// What a knob's table may hold, and the services a scale may not size, each refused with
/// a located message that says why.
#[test]
fn bad_knobs_are_refused_with_located_reasons() {
    let err = |text: String| match scenarios::parse(&Source { origin: "k.toml".into(), text }, &Overrides::default()) {
        Ok(_) => panic!("accepted"),
        Err(d) => d.to_string(),
    };
    let fault = |body: &str| balanced(2, 100.0, &format!("[[faults]]\nat = \"20s\"\n{body}"));
    let cases = [
        ("scale = \"web\"\ninstances = 3\nfor = \"5s\"\n", "a `scale` fault takes no `for`"),
        ("scale = \"web\"\n", "a `scale` fault needs `instances`"),
        ("crash = \"web-1\"\ninstances = 3\n", "`instances` goes with `scale` faults"),
        ("rate = \"clients\"\nfactor = 2\nto = 3\n", "`factor` belongs to slow and surge faults"),
        ("rate = \"clients\"\nto = \"5s\"\n", "to: expected a rate per second"),
        ("resize = \"web\"\ncapacity = 10\n", "`web-1` has no LRU capacity to resize"),
        ("scale = \"lb\"\ninstances = 2\n", "`lb` is not behind a load balancer"),
    ];
    for (body, needle) in cases {
        let e = err(fault(body));
        assert!(e.contains(needle), "{body}: expected {needle:?} in\n{e}");
        assert!(e.contains("--> k.toml:"), "{e}");
    }
    let autoscaled = fault("scale = \"web\"\ninstances = 2\n")
        .replace("backends = \"web\"", "backends = \"web\"\nautoscale = { min = 1 }");
    assert!(err(autoscaled).contains("`web` is autoscaled by `lb`, whose scaler sets its size"));
    let direct = fault("scale = \"web\"\ninstances = 3\n").replace(
        "[[classes]]",
        "[[links]]\nbetween = [\"clients\", \"web\"]\n[[classes]]\nname = \"direct\"\npath = [\"web\"]\n[[classes]]",
    );
    let e = err(direct);
    assert!(e.contains("class `direct`: `web` is called directly by its users, not through its load balancer"), "{e}");
}

/// A file without scale faults keeps its instances; one whose scale faults reach past the
/// count gets the extras, held back, named as `count` would name them.
#[test]
fn a_service_is_lowered_with_its_largest_scale_target() {
    let parse =
        |text: String| scenarios::parse(&Source { origin: "k.toml".into(), text }, &Overrides::default()).unwrap();
    let names = |s: &scenarios::Scenario| s.model.components.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    let plain = parse(balanced(1, 10.0, ""));
    assert_eq!(names(&plain), ["clients", "lb", "web"]);
    let scaled = parse(balanced(
        1,
        10.0,
        "[[faults]]\nat = \"20s\"\nscale = \"web\"\ninstances = 3\n[[faults]]\nat = \"30s\"\nscale = \"web\"\ninstances = 2\n",
    ));
    assert_eq!(names(&scaled), ["clients", "lb", "web-1", "web-2", "web-3"]);
    let sim_core::model::ComponentModel::LoadBalancer(lb) = &scaled.model.components[1].model else { panic!("lb") };
    assert_eq!(lb.start_in_service, Some(1), "one in service until the first scale");
    let down = parse(balanced(3, 10.0, "[[faults]]\nat = \"20s\"\nscale = \"web\"\ninstances = 2\n"));
    let sim_core::model::ComponentModel::LoadBalancer(lb) = &down.model.components[1].model else { panic!("lb") };
    assert_eq!((names(&down).len(), lb.start_in_service), (5, None), "a scale down needs no extra instances");
}

/// On a time chart each knob is a moment (it holds until the next), named for what it set.
#[test]
fn knobs_are_marked_as_moments_on_the_charts() {
    let text = balanced(
        2,
        100.0,
        "[[faults]]\nat = \"20s\"\nscale = \"web\"\ninstances = 3\n[[faults]]\nat = \"30s\"\nrate = \"clients\"\nto = 250\n",
    );
    let s = scenarios::parse(&Source { origin: "k.toml".into(), text }, &Overrides::default()).unwrap();
    let spans: Vec<(Option<SimTime>, String)> = s.model.fault_spans().into_iter().map(|f| (f.to, f.label)).collect();
    assert_eq!(spans, [(None, "scale web to 3".to_string()), (None, "rate clients 250/s".to_string())]);
}
