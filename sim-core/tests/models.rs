//! Unit tests of the component models with no engine and no `Simulation`: each test
//! writes a small scenario, takes one instance into a `Harness`, plays the rest of the
//! system by hand and asserts what the model asked for.

use sim_core::event::{Input, Op, Outcome};
use sim_core::harness::{Ask, Asked, Harness};
use sim_core::kernel::ids::RequestId;
use sim_core::world::notes::NoteKind;
use sim_core::{Model, SimDuration, SimTime};

/// The scenario file `body` under a header with one class-free run, lowered to a model.
fn model(body: &str) -> Model {
    let text = format!("name = \"unit\"\ntitle = \"unit\"\n[run]\nduration = \"10s\"\nwarmup = \"0s\"\n{body}");
    let source = scenarios::Source { origin: "unit.toml".into(), text };
    match scenarios::parse(&source, &scenarios::Overrides::default()) {
        Ok(s) => s.model,
        Err(e) => panic!("{e}"),
    }
}

fn ms(n: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(n)
}

/// The calls among `asked`: (instance called, request).
fn calls(asked: &[Asked]) -> Vec<(String, RequestId)> {
    asked.iter().filter_map(|a| matches!(a.what, Ask::Call { .. }).then(|| (a.to.clone(), req_of(a)))).collect()
}

fn req_of(a: &Asked) -> RequestId {
    match a.what {
        Ask::Call { req, .. } | Ask::Answer { req, .. } | Ask::Timeout(req) => req,
        _ => panic!("not about a request: {a:?}"),
    }
}

fn timers(asked: &[Asked]) -> Vec<(SimTime, u32)> {
    asked.iter().filter_map(|a| if let Ask::Timer(t) = a.what { Some((a.at, t)) } else { None }).collect()
}

fn answers(asked: &[Asked]) -> Vec<(RequestId, Outcome)> {
    asked
        .iter()
        .filter_map(|a| if let Ask::Answer { req, outcome } = a.what { Some((req, outcome)) } else { None })
        .collect()
}

const SERVER: &str = r#"
[workload]
arrival = "poisson"
rate = 1
[[components]]
id = "web"
kind = "server"
workers = 2
queue_capacity = 1
service = "10ms"
[[components]]
id = "db"
kind = "database"
read_time = "1ms"
[[links]]
between = ["clients", "web"]
[[links]]
between = ["web", "db"]
[[classes]]
name = "page"
path = ["web"]
calls = ["db"]
"#;

#[test]
fn server_serves_two_at_once_queues_one_rejects_the_next_and_calls_after_service() {
    let mut h = Harness::new(&model(SERVER), 1, "web");
    let (a, asked) = h.arrive("page", Op::Read, 1, 0);
    assert_eq!(timers(&asked), [(ms(10), a.slot)], "service of 10 ms starts at once");
    let (b, asked) = h.arrive("page", Op::Read, 2, 0);
    assert_eq!(timers(&asked), [(ms(10), b.slot)], "the second worker");
    let (c, asked) = h.arrive("page", Op::Read, 3, 0);
    assert!(asked.is_empty(), "both workers busy: the third waits in the queue");
    let (d, asked) = h.arrive("page", Op::Read, 4, 0);
    assert_eq!(answers(&asked), [(d, Outcome::Rejected)], "queue_capacity = 1 is full");

    h.at(ms(10));
    let asked = h.fire(a.slot);
    let called = calls(&asked);
    assert_eq!(called.len(), 1, "after its own work the server makes the flow's call: {asked:?}");
    assert_eq!(called[0].0, "db");
    assert!(matches!(&asked[0].what, Ask::Call { service, op: Op::Read, key: 1, .. } if service == "db"));
    assert!(timers(&asked).is_empty(), "blocking by default: the worker waits for the db: {asked:?}");
    assert!(
        asked.iter().any(|x| x.what == Ask::Timeout(called[0].1) && x.at == ms(30_010)),
        "the class's 30 s timeout"
    );

    let asked = h.answer(called[0].1, Outcome::Ok, 0);
    assert_eq!(answers(&asked), [(a, Outcome::Ok)], "the db answered: the page is done");
    assert_eq!(timers(&asked), [(ms(20), c.slot)], "and the freed worker takes the queued request");
    let r = h.report();
    assert_eq!(r.queue_max, Some(1));
    assert_eq!(r.extra["rejected"], 1.0);
}

#[test]
fn a_slow_fault_multiplies_service_time_and_a_drained_server_refuses() {
    let mut h = Harness::new(&model(SERVER), 1, "web");
    h.input(Input::Slow(3.0));
    let (a, asked) = h.arrive("page", Op::Read, 1, 0);
    assert_eq!(timers(&asked), [(ms(30), a.slot)]);
    h.input(Input::Drain);
    let (b, asked) = h.arrive("page", Op::Read, 2, 0);
    assert_eq!(answers(&asked), [(b, Outcome::Rejected)]);
}

fn balancer(policy: &str, extra: &str) -> Model {
    model(&format!(
        r#"
[workload]
arrival = "poisson"
rate = 1
[[components]]
id = "lb"
kind = "load_balancer"
backends = "web"
policy = "{policy}"
{extra}
[[components]]
id = "web"
kind = "server"
count = 3
service = "10ms"
[[links]]
between = ["clients", "lb"]
[[links]]
between = ["lb", "web"]
[[classes]]
name = "page"
path = ["lb", "web"]
"#
    ))
}

/// Sends `n` requests through the balancer; returns the backend each went to.
fn route(h: &mut Harness, n: u32) -> Vec<(String, RequestId)> {
    (0..n).flat_map(|i| calls(&h.arrive("page", Op::Read, u64::from(i), i).1)).collect()
}

#[test]
fn round_robin_takes_backends_in_turn() {
    let mut h = Harness::new(&balancer("round_robin", ""), 1, "lb");
    h.input(Input::Start);
    let to: Vec<String> = route(&mut h, 5).into_iter().map(|(b, _)| b).collect();
    assert_eq!(to, ["web-1", "web-2", "web-3", "web-1", "web-2"]);
}

#[test]
fn least_connections_avoids_the_backend_still_busy() {
    let mut h = Harness::new(&balancer("least_connections", ""), 1, "lb");
    h.input(Input::Start);
    let first = route(&mut h, 3);
    let backends: Vec<&str> = first.iter().map(|(b, _)| b.as_str()).collect();
    assert_eq!(backends, ["web-1", "web-2", "web-3"], "ties go to the lowest index");
    // web-2 answers; web-1 and web-3 still hold one each.
    h.answer(first[1].1, Outcome::Ok, 0);
    let next = route(&mut h, 1);
    assert_eq!(next[0].0, "web-2", "the only backend with nothing in flight");
}

#[test]
fn client_hash_keeps_a_user_on_one_backend() {
    let mut h = Harness::new(&balancer("client_hash", ""), 1, "lb");
    h.input(Input::Start);
    let mut seen = std::collections::BTreeMap::new();
    for round in 0..3u64 {
        for user in 0..20u32 {
            let to = calls(&h.arrive("page", Op::Read, round, user).1)[0].0.clone();
            assert_eq!(seen.entry(user).or_insert_with(|| to.clone()), &to, "user {user} moved");
        }
    }
    let distinct: std::collections::BTreeSet<_> = seen.values().collect();
    assert_eq!(distinct.len(), 3, "20 users spread over all three backends");
}

#[test]
fn weighted_round_robin_sends_in_proportion_to_weights() {
    let mut h = Harness::new(&balancer("weighted_round_robin", "weights = [3, 1, 1]"), 1, "lb");
    h.input(Input::Start);
    let to: Vec<String> = route(&mut h, 10).into_iter().map(|(b, _)| b).collect();
    let count = |b: &str| to.iter().filter(|t| *t == b).count();
    assert_eq!((count("web-1"), count("web-2"), count("web-3")), (6, 2, 2));
    // nginx's smooth order: the heavy backend never gets three in a row.
    assert_eq!(to[..5], ["web-1", "web-2", "web-1", "web-3", "web-1"]);
}

#[test]
fn power_of_two_picks_the_less_loaded_of_two() {
    let mut h = Harness::new(&balancer("power_of_two", ""), 1, "lb");
    h.input(Input::Start);
    // Load web-1 and web-2 with many requests, answering every one sent to web-3: the
    // two-choice rule must then favour web-3 whenever it is drawn.
    let mut to_3 = 0;
    for i in 0..300u32 {
        let (b, req) = calls(&h.arrive("page", Op::Read, u64::from(i), i).1)[0].clone();
        if b == "web-3" {
            to_3 += 1;
            h.answer(req, Outcome::Ok, 0);
        }
    }
    // Drawn in 2 of every 3 pairs and always less loaded: about two thirds of the load.
    assert!((170..=230).contains(&to_3), "web-3 got {to_3} of 300");
}

#[test]
fn health_checks_mark_a_silent_backend_down_after_three_failures_and_up_after_two() {
    let hc = r#"health_check = { interval = "1s", timeout = "100ms", unhealthy_threshold = 3, healthy_threshold = 2 }"#;
    let mut h = Harness::new(&balancer("round_robin", hc), 1, "lb");
    let asked = h.input(Input::Start);
    let probe_timers = timers(&asked);
    assert_eq!(probe_timers.len(), 3, "one probe timer per backend: {asked:?}");
    let web2 = probe_timers[1].1;
    // Three probes of web-2 go unanswered: each times out 100 ms after it leaves.
    for round in 0..3u64 {
        h.at(ms(1000 * round + 1000));
        let sent = h.fire(web2);
        let pings: Vec<_> = sent.iter().filter(|a| matches!(a.what, Ask::Ping { .. })).collect();
        assert_eq!(pings.len(), 1, "{sent:?}");
        assert_eq!(pings[0].to, "web-2");
        let timeout =
            timers(&sent).into_iter().find(|(at, _)| *at == ms(1000 * round + 1100)).expect("a probe timeout");
        h.at(timeout.0);
        h.fire(timeout.1);
    }
    let web_2 = h.id("web-2");
    assert_eq!(h.notes(), [("lb".to_string(), NoteKind::MarkedDown(web_2))]);
    let to: Vec<String> = route(&mut h, 4).into_iter().map(|(b, _)| b).collect();
    assert!(!to.contains(&"web-2".to_string()), "no traffic to a backend marked down: {to:?}");
    // Two good answers bring it back.
    for round in 3..5u64 {
        h.at(ms(1000 * round + 1000));
        let sent = h.fire(web2);
        let Ask::Ping { token } = sent.iter().find(|a| matches!(a.what, Ask::Ping { .. })).unwrap().what else {
            unreachable!()
        };
        h.at(ms(1000 * round + 1010));
        h.input(Input::Pong { token, healthy: true });
    }
    assert_eq!(h.notes().last(), Some(&("lb".to_string(), NoteKind::MarkedUp(web_2))));
}
