//! Unit tests of the component models with no engine and no `Simulation`: each test
//! writes a small scenario, takes one instance into a `Harness`, plays the rest of the
//! system by hand and asserts what the model asked for.

use sim_core::event::{Input, Op, Outcome};
use sim_core::harness::{Ask, Asked, Harness};
use sim_core::kernel::ids::RequestId;
use sim_core::report::figures::Figures;
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
    asked.iter().filter(|a| matches!(a.what, Ask::Call { .. })).map(|a| (a.to.clone(), req_of(a))).collect()
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
    let Figures::Server(s) = r.figures else { panic!("{r:?}") };
    assert_eq!((s.rejected, s.served), (1, 1));
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

/// Sends 300 requests, answering at once every one that reaches web-3 (web-1 and web-2
/// keep theirs); returns how many reached web-3 and the backends in order.
fn route_answering_web3(h: &mut Harness) -> (u32, Vec<String>) {
    let mut order = Vec::new();
    for i in 0..300u32 {
        let (b, req) = calls(&h.arrive("page", Op::Read, u64::from(i), i).1)[0].clone();
        if b == "web-3" {
            h.answer(req, Outcome::Ok, 0);
        }
        order.push(b);
    }
    (order.iter().filter(|b| *b == "web-3").count() as u32, order)
}

#[test]
fn random_spreads_uniformly_by_chi_square() {
    let mut h = Harness::new(&balancer("random", ""), 1, "lb");
    h.input(Input::Start);
    let n = 3_000u32;
    let mut counts = std::collections::BTreeMap::<String, f64>::new();
    for i in 0..n {
        let (b, req) = calls(&h.arrive("page", Op::Read, u64::from(i), i).1)[0].clone();
        h.answer(req, Outcome::Ok, 0);
        *counts.entry(b).or_default() += 1.0;
    }
    assert_eq!(counts.len(), 3);
    let expected = f64::from(n) / 3.0;
    let chi2: f64 = counts.values().map(|c| (c - expected).powi(2) / expected).sum();
    // Two degrees of freedom: 13.8 is the 99.9th percentile of the chi-square law.
    assert!(chi2 < 13.8, "chi-square {chi2:.2} for {counts:?}");
    // Random ignores load: not round robin's exact thirds either.
    assert!(counts.values().any(|&c| c != expected), "{counts:?}");
}

#[test]
fn power_of_d_with_every_backend_acts_as_least_connections() {
    let mut h = Harness::new(&balancer("power_of_d", "choices = 3"), 1, "lb");
    h.input(Input::Start);
    let (to_3, order) = route_answering_web3(&mut h);
    // Once web-1 and web-2 hold one each, the idle web-3 wins every draw of all three.
    assert!(to_3 >= 298, "web-3 got {to_3} of 300: {:?}", &order[..5]);
}

#[test]
fn power_of_d_with_one_choice_is_random() {
    let mut one = Harness::new(&balancer("power_of_d", "choices = 1"), 1, "lb");
    let mut random = Harness::new(&balancer("random", ""), 1, "lb");
    one.input(Input::Start);
    random.input(Input::Start);
    let ((a, order_one), (b, order_random)) = (route_answering_web3(&mut one), route_answering_web3(&mut random));
    assert_eq!(order_one, order_random, "one choice draws exactly as random does");
    // Blind to load: about a third, not the two thirds power_of_two gives web-3.
    assert!((70..=130).contains(&a), "web-3 got {a} of 300");
    assert_eq!(a, b);
}

#[test]
fn power_of_d_with_two_choices_favours_the_idle_backend() {
    let mut h = Harness::new(&balancer("power_of_d", "choices = 2"), 1, "lb");
    h.input(Input::Start);
    let (to_3, _) = route_answering_web3(&mut h);
    // web-3 is in 2 of every 3 pairs and then always wins: about two thirds.
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

fn cache(policy: &str) -> Model {
    model(&format!(
        r#"
[workload]
arrival = "poisson"
rate = 1
[[components]]
id = "web"
kind = "server"
service = "1ms"
[[components]]
id = "redis"
kind = "cache"
capacity = 100
latency = "1ms"
write_policy = "{policy}"
single_flight = true
flush_interval = "5s"
[[components]]
id = "db"
kind = "database"
[[links]]
between = ["clients", "web"]
[[links]]
between = ["web", "redis"]
[[links]]
between = ["redis", "db"]
[[classes]]
name = "view"
path = ["web"]
calls = ["redis>db"]
[[classes]]
name = "edit"
op = "write"
path = ["web"]
calls = ["redis:write>db:write"]
"#
    ))
}

/// A request reaches the cache and its lookup (1 ms) ends: what the cache does then.
fn look(h: &mut Harness, class: &str, op: Op, key: u64) -> (RequestId, Vec<Asked>) {
    let (req, asked) = h.arrive(class, op, key, 0);
    let [(at, token)] = timers(&asked)[..] else { panic!("one lookup timer: {asked:?}") };
    h.at(at);
    (req, h.fire(token))
}

#[test]
fn cache_aside_fetches_on_a_miss_serves_hits_and_a_write_invalidates() {
    let mut h = Harness::new(&cache("cache_aside"), 1, "redis");
    let (a, asked) = look(&mut h, "view", Op::Read, 7);
    let fetch = calls(&asked);
    assert_eq!(fetch.len(), 1, "a miss goes to the database");
    assert_eq!(fetch[0].0, "db");
    assert_eq!(answers(&h.answer(fetch[0].1, Outcome::Ok, 41)), [(a, Outcome::Ok)]);
    assert_eq!(h.version(a), 41, "the read carries the fetched version");

    let (b, asked) = look(&mut h, "view", Op::Read, 7);
    assert_eq!(answers(&asked), [(b, Outcome::Ok)], "a hit answers at once");
    assert!(calls(&asked).is_empty());
    assert_eq!(h.version(b), 41);

    let (_, asked) = look(&mut h, "edit", Op::Write, 7);
    assert_eq!(calls(&asked).len(), 1, "a write goes to the database");
    let (_, asked) = look(&mut h, "view", Op::Read, 7);
    assert_eq!(calls(&asked).len(), 1, "and invalidated the entry: the next read misses");
    let r = h.report();
    let Figures::Cache(c) = r.figures else { panic!("{r:?}") };
    assert_eq!((c.hits, c.misses, c.fetches), (1, 2, 2));
}

#[test]
fn write_through_keeps_the_written_version() {
    let mut h = Harness::new(&cache("write_through"), 1, "redis");
    let (w, asked) = look(&mut h, "edit", Op::Write, 3);
    let write = calls(&asked);
    assert_eq!(write.len(), 1);
    assert_eq!(answers(&h.answer(write[0].1, Outcome::Ok, 9)), [(w, Outcome::Ok)]);
    let (r, asked) = look(&mut h, "view", Op::Read, 3);
    assert_eq!(answers(&asked), [(r, Outcome::Ok)], "the written value is cached");
    assert_eq!(h.version(r), 9);
}

#[test]
fn write_behind_answers_at_once_and_flushes_on_its_timer() {
    let mut h = Harness::new(&cache("write_behind"), 1, "redis");
    let start = h.input(Input::Start);
    let [(flush_at, flush)] = timers(&start)[..] else { panic!("a flush timer: {start:?}") };
    assert_eq!(flush_at, ms(5000));
    let (w, asked) = look(&mut h, "edit", Op::Write, 3);
    assert_eq!(answers(&asked), [(w, Outcome::Ok)], "acknowledged before the database hears of it");
    assert!(calls(&asked).is_empty());
    h.at(flush_at);
    let asked = h.fire(flush);
    let flushed = calls(&asked);
    assert_eq!(flushed.len(), 1, "the dirty key is flushed: {asked:?}");
    assert_eq!(flushed[0].0, "db");
    assert!(matches!(asked[0].what, Ask::Call { op: Op::Write, key: 3, .. }));
    assert!(timers(&asked).iter().any(|(at, t)| *t == flush && *at == ms(10_000)), "and the next flush is set");
}

#[test]
fn single_flight_makes_one_fetch_for_concurrent_misses() {
    let mut h = Harness::new(&cache("cache_aside"), 1, "redis");
    let (a, first) = look(&mut h, "view", Op::Read, 5);
    let (b, second) = look(&mut h, "view", Op::Read, 5);
    let (c, third) = look(&mut h, "view", Op::Read, 5);
    assert_eq!(calls(&first).len(), 1);
    assert!(calls(&second).is_empty() && calls(&third).is_empty(), "later misses wait for the fetch");
    let done = answers(&h.answer(calls(&first)[0].1, Outcome::Ok, 2));
    assert_eq!(done, [(a, Outcome::Ok), (b, Outcome::Ok), (c, Outcome::Ok)]);
    assert_eq!(h.version(c), 2, "the waiters get the fetched version");
    let Figures::Cache(c) = h.report().figures else { panic!() };
    assert_eq!((c.coalesced, c.fetches), (2, 1));
}

const QUEUE: &str = r#"
[workload]
arrival = "poisson"
rate = 1
[[components]]
id = "emails"
kind = "queue"
consumers = "mailer"
latency = "1ms"
max_receives = 3
backoff = "1s"
[[components]]
id = "mailer"
kind = "server"
service = "10ms"
[[links]]
between = ["clients", "emails"]
[[links]]
between = ["emails", "mailer"]
[[classes]]
name = "welcome"
path = ["emails", "mailer"]
"#;

#[test]
fn queue_acknowledges_hands_the_job_over_retries_with_backoff_and_parks_it_after_three_receives() {
    let mut h = Harness::new(&model(QUEUE), 1, "emails");
    h.input(Input::Start);
    let (job, asked) = h.arrive("welcome", Op::Write, 1, 0);
    let [(at, token)] = timers(&asked)[..] else { panic!("{asked:?}") };
    h.at(at);
    let asked = h.fire(token);
    assert_eq!(answers(&asked), [(job, Outcome::Ok)], "the producer's 202 once the job is stored");
    let mut hand_off = calls(&asked);
    let mut retries_at = Vec::new();
    for receive in 1..=3 {
        assert_eq!(hand_off.len(), 1, "receive {receive}: the job goes to a consumer");
        assert_eq!(hand_off[0].0, "mailer");
        let asked = h.answer(hand_off[0].1, Outcome::Error, 0);
        if receive == 3 {
            assert!(timers(&asked).is_empty(), "no fourth receive: {asked:?}");
            break;
        }
        let [(retry_at, retry)] = timers(&asked)[..] else { panic!("a backoff timer: {asked:?}") };
        retries_at.push(retry_at.since(h.now()));
        h.at(retry_at);
        hand_off = calls(&h.fire(retry));
    }
    assert_eq!(retries_at, [SimDuration::from_secs(1), SimDuration::from_secs(2)], "backoff doubles");
    let r = h.report();
    let Figures::Queue(q) = r.figures else { panic!("{r:?}") };
    assert_eq!((q.dead_letters, q.retries, q.processed), (1, 2, 0));
}

const DATABASE: &str = r#"
[workload]
arrival = "poisson"
rate = 1
[[components]]
id = "db"
kind = "database"
replicas = 1
replication = "async"
lag = "50ms"
write_time = "2ms"
failover = { heartbeat = "1s", detection = "3s", promotion = "10s", dns = "5s" }
[[links]]
between = ["clients", "db"]
[[classes]]
name = "order"
op = "write"
path = ["db"]
"#;

#[test]
fn the_primary_commits_a_write_and_ships_it_to_its_replica_after_the_lag() {
    let mut h = Harness::new(&model(DATABASE), 1, "db-1");
    h.input(Input::Start);
    let (w, asked) = h.arrive("order", Op::Write, 8, 0);
    let [(at, token)] = timers(&asked)[..] else { panic!("{asked:?}") };
    assert_eq!(at, ms(2), "write_time");
    h.at(at);
    let asked = h.fire(token);
    assert_eq!(answers(&asked), [(w, Outcome::Ok)], "async: acknowledged at commit");
    assert_eq!(h.version(w), 1, "the first log position");
    let shipped: Vec<_> = asked
        .iter()
        .filter(|a| matches!(a.what, Ask::Message { .. } | Ask::Timer(_)))
        .map(|a| (a.at, a.to.clone()))
        .collect();
    assert_eq!(shipped, [(ms(52), "db-1".to_string())], "shipping is due after the 50 ms lag");
    let Ask::Timer(ship) = asked.iter().find(|a| matches!(a.what, Ask::Timer(_))).unwrap().what else { unreachable!() };
    h.at(ms(52));
    let sent = h.fire(ship);
    assert!(sent.iter().any(|a| a.to == "db-2" && matches!(a.what, Ask::Message { .. })), "{sent:?}");
}

#[test]
fn a_replica_that_stops_hearing_the_primary_promotes_itself_and_dns_follows() {
    let mut h = Harness::new(&model(DATABASE), 1, "db-2");
    let start = h.input(Input::Start);
    let [(beat_at, beat)] = timers(&start)[..] else { panic!("a heartbeat timer: {start:?}") };
    assert!(beat_at < ms(1000), "the first heartbeat at a random phase within the interval");
    h.set_down("db-1", true);
    let mut promote = None;
    let mut t = beat_at;
    for _ in 0..10 {
        h.at(t);
        let asked = h.fire(beat);
        assert!(asked.iter().any(|a| a.to == "db-1" && matches!(a.what, Ask::Ping { .. })), "it probes: {asked:?}");
        if let Some(p) = timers(&asked).into_iter().find(|(_, tok)| *tok != beat) {
            promote = Some(p);
            break;
        }
        t = timers(&asked).into_iter().find(|(_, tok)| *tok == beat).expect("the next heartbeat").0;
    }
    let (promote_at, promote) = promote.expect("silence past detection starts a promotion");
    assert!(h.now() >= ms(3000), "not before the 3 s detection time");
    assert_eq!(promote_at, h.now() + SimDuration::from_secs(10), "promotion takes 10 s");
    h.at(promote_at);
    let asked = h.fire(promote);
    assert_eq!(h.notes(), [("db-2".to_string(), NoteKind::Failover)]);
    assert_eq!(h.dns_primary("db"), "db-1", "DNS still names the old primary");
    let [(dns_at, dns)] = timers(&asked)[..] else { panic!("a DNS timer: {asked:?}") };
    assert_eq!(dns_at, promote_at + SimDuration::from_secs(5));
    h.at(dns_at);
    h.fire(dns);
    assert_eq!(h.dns_primary("db"), "db-2");
    assert_eq!(h.notes().last(), Some(&("db-2".to_string(), NoteKind::DnsSwitched)));
}

mod retry {
    use super::*;
    use sim_core::model::retry::{Backoff, Jitter, RetrySpec, outcome_bits};
    use sim_core::world::retry_budget::RetryBudget;

    fn spec(backoff: Backoff, jitter: Jitter) -> RetrySpec {
        RetrySpec {
            attempts: 4,
            backoff,
            base: SimDuration::from_millis(50),
            cap: SimDuration::from_millis(300),
            jitter,
            on: outcome_bits(&[Outcome::TimedOut]),
            budget: None,
        }
    }

    const U: [f64; 5] = [0.0, 0.1, 0.5, 0.9, 0.999_999];

    #[test]
    fn exponential_backoff_doubles_from_its_base_up_to_its_cap_and_constant_stays() {
        let e = spec(Backoff::Exponential, Jitter::None);
        let waits: Vec<u64> = (1..=6).map(|n| e.backoff(n, e.base, 0.5).as_nanos() / 1_000_000).collect();
        assert_eq!(waits, [50, 100, 200, 300, 300, 300]);
        // A huge retry number saturates at the cap instead of overflowing.
        assert_eq!(e.backoff(200, e.base, 0.5), e.cap);
        let c = spec(Backoff::Constant, Jitter::None);
        assert!((1..=6).all(|n| c.backoff(n, c.base, 0.3) == c.base));
    }

    #[test]
    fn each_jitter_stays_within_its_bounds() {
        for retry in 1..=5 {
            let d = spec(Backoff::Exponential, Jitter::None).backoff(retry, SimDuration::ZERO, 0.0);
            for u in U {
                let full = spec(Backoff::Exponential, Jitter::Full).backoff(retry, SimDuration::ZERO, u);
                assert!(full <= d, "full jitter within [0, {d}]: {full}");
                let equal = spec(Backoff::Exponential, Jitter::Equal).backoff(retry, SimDuration::ZERO, u);
                assert!(equal.as_nanos() >= d.as_nanos() / 2 && equal <= d, "equal jitter in [d/2, d]: {equal}");
            }
        }
        let full = spec(Backoff::Exponential, Jitter::Full);
        assert_eq!(full.backoff(3, SimDuration::ZERO, 0.0), SimDuration::ZERO);
        assert_eq!(full.backoff(3, SimDuration::ZERO, 0.5), SimDuration::from_millis(100));
        // Decorrelated: U(base, 3 x previous), capped.
        let dec = spec(Backoff::Exponential, Jitter::Decorrelated);
        let prev = SimDuration::from_millis(80);
        for u in U {
            let w = dec.backoff(2, prev, u);
            assert!(w >= dec.base && w <= SimDuration::from_millis(240), "{w}");
        }
        assert_eq!(dec.backoff(2, SimDuration::from_millis(200), 0.999_999), dec.cap);
    }

    #[test]
    fn only_the_listed_outcomes_are_retried_and_only_while_attempts_remain() {
        let s = spec(Backoff::Constant, Jitter::None);
        assert!(s.retries(Outcome::TimedOut, 1) && s.retries(Outcome::TimedOut, 3));
        assert!(!s.retries(Outcome::TimedOut, 4), "the fourth attempt is the last");
        assert!(!s.retries(Outcome::Error, 1) && !s.retries(Outcome::Ok, 1));
    }

    #[test]
    fn a_budget_refuses_retries_beyond_its_share_of_the_window_and_forgets_old_calls() {
        let sec = 1_000_000_000u64;
        let mut b = RetryBudget::new(0.1);
        assert!(!b.try_retry(0), "no calls yet, no retries");
        for i in 0..100 {
            b.on_call(i * sec / 100);
        }
        let granted = (0..50).filter(|_| b.try_retry(sec / 2)).count();
        assert_eq!(granted, 10, "10% of 100 calls");
        // Ten seconds on, the calls and retries of second 0 have left the window.
        assert!(!b.try_retry(10 * sec));
        for _ in 0..20 {
            b.on_call(10 * sec);
        }
        assert_eq!((0..10).filter(|_| b.try_retry(10 * sec)).count(), 2);
    }

    const CLIENTS: &str = r#"
[workload]
arrival = "poisson"
rate = 1
[[components]]
id = "web"
kind = "server"
workers = 1
service = "10ms"
[[links]]
between = ["clients", "web"]
[[classes]]
name = "view"
path = ["web"]
timeout = "1s"
retry = { attempts = 3, backoff = "exponential", base = "50ms", jitter = "none" }
"#;

    #[test]
    fn clients_resend_a_failed_request_after_its_backoff_until_the_attempts_run_out() {
        let mut h = Harness::new(&model(CLIENTS), 1, "clients");
        let first = h.input(Input::Start);
        let Ask::Timer(arrival) = first[0].what else { panic!("{first:?}") };
        h.at(first[0].at);
        let sent = calls(&h.fire(arrival));
        assert_eq!(sent.len(), 1);
        let mut req = sent[0].1;
        for (retry, wait_ms) in [(1u64, 50u64), (2, 100)] {
            let asked = h.answer(req, Outcome::TimedOut, 0);
            let [Asked { at, what: Ask::Timer(token), .. }] = asked.as_slice() else { panic!("{asked:?}") };
            assert_eq!(*at - h.now(), SimDuration::from_millis(wait_ms), "retry {retry}");
            h.at(*at);
            let again = calls(&h.fire(*token));
            assert_eq!(again.len(), 1, "retry {retry} is sent");
            assert_ne!(again[0].1, req);
            req = again[0].1;
        }
        assert!(h.answer(req, Outcome::TimedOut, 0).is_empty(), "three attempts, then the request fails");
        // An outcome not in `on` (the default list leaves errors out) is not retried.
        let t = h.now() + SimDuration::from_secs(5);
        let next = h.at(t).fire(arrival);
        let fresh = calls(&next);
        assert_eq!(fresh.len(), 1);
        assert!(h.answer(fresh[0].1, Outcome::Error, 0).is_empty());
    }
}

// ---- Admission control: rate limiters, shedding, CoDel, adaptive LIFO, priority ----

mod admission {
    use super::*;
    use sim_core::component::admission::Codel;
    use sim_core::model::rate_limit::{Algorithm, RateLimitSpec, Scope};
    use sim_core::world::rate_limiter::{RateLimiter, SlidingWindow, TokenBucket};

    fn ns(n: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_nanos(n)
    }

    /// The admitted times of a token bucket (rate `r` a second, burst `b`) fed `arrivals`.
    fn bucket_pass(r: u64, b: u64, arrivals: &[u64]) -> Vec<u64> {
        let mut bucket = TokenBucket::full(b, SimTime::ZERO);
        arrivals.iter().copied().filter(|&t| bucket.admit(r * 1000, b, ns(t))).collect()
    }

    /// The most admissions in any window of length `t` ns: a busiest window can always be
    /// slid to start at an admission, so checking those starts checks every window.
    fn busiest(passed: &[u64], t: u64) -> usize {
        let mut end = 0;
        let mut most = 0;
        for (i, &start) in passed.iter().enumerate() {
            while end < passed.len() && passed[end] <= start + t {
                end += 1;
            }
            most = most.max(end - i);
        }
        most
    }

    /// Poisson arrivals at `rate` a second for `secs`, from a fixed SplitMix64 stream.
    fn poisson(rate: f64, secs: u64, seed: u64) -> Vec<u64> {
        let (mut t, mut x, mut out) = (0.0f64, seed, Vec::new());
        loop {
            x = sim_core::kernel::hash::splitmix64(x);
            let u = ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            t += -u.ln() / rate * 1e9;
            if t >= secs as f64 * 1e9 {
                return out;
            }
            out.push(t as u64);
        }
    }

    #[test]
    fn a_token_bucket_passes_r_a_second_and_at_most_b_plus_r_t_in_any_window() {
        let (r, b, secs) = (100u64, 20u64, 60u64);
        // Deterministic arrivals at 3r, and Poisson arrivals at 2r.
        let steady: Vec<u64> = (0..secs * 3 * r).map(|i| i * 1_000_000_000 / (3 * r)).collect();
        for (name, arrivals) in [("steady 3r", steady), ("poisson 2r", poisson(2.0 * r as f64, secs, 7))] {
            let passed = bucket_pass(r, b, &arrivals);
            for t_ms in [0u64, 1, 5, 10, 50, 100, 250, 1000, 5000, 30_000] {
                let t = t_ms * 1_000_000;
                let bound = b as f64 + r as f64 * t as f64 / 1e9;
                let most = busiest(&passed, t);
                assert!(most as f64 <= bound + 1e-9, "{name}: {most} in a {t_ms} ms window, above b + r t = {bound}");
            }
            // The long run: r a second, the burst aside (the Poisson stream leaves the
            // bucket full now and then, wasting a little refill).
            let rate = passed.len() as f64 / secs as f64;
            assert!(rate <= r as f64 + b as f64 / secs as f64, "{name}: {rate}/s");
            assert!(rate >= 0.97 * r as f64, "{name}: {rate}/s, below r = {r}");
        }
        // The bound is tight: a full bucket passes its burst at once, then r a second.
        let burst = bucket_pass(r, b, &vec![0; 50]);
        assert_eq!(burst.len(), b as usize);
    }

    #[test]
    fn a_sliding_window_weights_the_previous_window_by_what_is_left_of_it() {
        let w = 1_000_000_000;
        let mut s = SlidingWindow::empty(w, SimTime::ZERO);
        let at = |s: &mut SlidingWindow, t: u64, n: usize| (0..n).filter(|_| s.admit(10, w, ns(t))).count();
        assert_eq!(at(&mut s, w / 2, 12), 10, "10 in the first window, then 429s");
        assert_eq!(at(&mut s, w + w / 2, 12), 5, "half the previous window still counts: 10 * 0.5 + 5 = 10");
        assert_eq!(at(&mut s, 2 * w + w * 3 / 4, 12), 9, "a quarter of the 5 is left (1.25): 9 more fit");
        assert_eq!(at(&mut s, 10 * w, 12), 10, "after an idle spell the window is empty");
        // Under steady overload it passes the limit a window in the long run.
        let mut s = SlidingWindow::empty(w, SimTime::ZERO);
        let passed: Vec<u64> = (0..40_000u64).map(|i| i * w / 400).filter(|&t| s.admit(100, w, ns(t))).collect();
        let rate = passed.len() as f64 / 100.0;
        assert!((rate - 100.0).abs() <= 1.5, "{rate} a window");
        assert!(busiest(&passed, w - 1) <= 101, "{} in one sliding window", busiest(&passed, w - 1));
    }

    #[test]
    fn a_per_user_limiter_counts_users_apart_and_forgets_idle_ones() {
        let spec = RateLimitSpec {
            algorithm: Algorithm::TokenBucket { rate_milli: 1000, burst: 2 },
            per: Scope::User,
            store: None,
        };
        let mut l = RateLimiter::new(spec);
        let t = ns(1_000);
        assert_eq!((0..3).map(|_| l.admit(7, 0, t)).collect::<Vec<_>>(), [true, true, false]);
        assert!(l.admit(8, 0, t), "another user has a bucket of his own");
        for user in 100..1100 {
            l.admit(user, 0, t);
        }
        assert_eq!(l.keys_held(), 1002);
        // Buckets fill in 2 s; two generations later the idle users are gone.
        l.admit(7, 0, ns(3_000_000_000));
        l.admit(7, 0, ns(6_000_000_000));
        assert_eq!(l.keys_held(), 1, "only the active user is held");
        assert_eq!((l.admitted(), l.limited()), (1005, 1));
    }

    #[test]
    fn codel_sheds_only_while_the_queue_stands() {
        let (target, interval) = (SimDuration::from_millis(5), SimDuration::from_millis(100));
        let mut c = Codel::new(target, interval);
        let wait = SimDuration::from_millis;
        assert!(!c.on_take(ms(10), wait(50), false), "not standing yet: a long wait alone is served");
        assert!(!c.on_take(ms(90), wait(8), false));
        // The first interval's shortest wait was 8 ms > 5 ms: the queue stands.
        assert!(c.on_take(ms(100), wait(6), false), "standing: past the target, shed");
        assert!(c.standing());
        assert!(!c.on_take(ms(120), wait(4), false), "under the target: served");
        assert!(c.on_take(ms(130), wait(3), true), "a low-priority waiter is held to half the target");
        c.on_take(ms(150), SimDuration::ZERO, false);
        // That interval saw a wait of zero: the queue drained, so no more shedding.
        assert!(!c.on_take(ms(200), wait(50), false));
        assert!(!c.standing());
    }

    const ADMITTING: &str = r#"
[workload]
arrival = "poisson"
rate = 1
[[components]]
id = "web"
kind = "server"
workers = 1
queue_capacity = 10
service = "10ms"
EXTRA
[[links]]
between = ["clients", "web"]
[[classes]]
name = "page"
path = ["web"]
[[classes]]
name = "batch"
path = ["web"]
priority = "low"
"#;

    fn server(extra: &str) -> Harness {
        Harness::new(&model(&ADMITTING.replace("EXTRA", extra)), 1, "web")
    }

    fn admission(h: &Harness) -> sim_core::report::figures::AdmissionFigures {
        let Figures::Server(s) = h.report().figures else { panic!() };
        s.admission.expect("admission figures")
    }

    #[test]
    fn a_server_rate_limit_answers_429_before_queueing() {
        let mut h = server(r#"rate_limit = { algorithm = "token_bucket", rate = 1, burst = 2 }"#);
        let (_, asked) = h.arrive("page", Op::Read, 1, 0);
        assert_eq!(timers(&asked).len(), 1);
        let (_, asked) = h.arrive("page", Op::Read, 2, 0);
        assert!(answers(&asked).is_empty(), "the second token: it queues");
        let (c, asked) = h.arrive("page", Op::Read, 3, 0);
        assert_eq!(answers(&asked), [(c, Outcome::Limited)], "no token left");
        h.at(ms(1000));
        let (_, asked) = h.arrive("page", Op::Read, 4, 0);
        assert!(answers(&asked).is_empty(), "a second later one token is back");
        let a = admission(&h);
        assert_eq!((a.limited, a.admitted), (Some(1), Some(3)));
    }

    #[test]
    fn shedding_by_queue_length_sheds_the_low_class_at_half_the_length() {
        let mut h = server("shed = { queue_length = 4 }");
        h.arrive("page", Op::Read, 0, 0);
        for k in 1..=2 {
            let (_, asked) = h.arrive("page", Op::Read, k, 0);
            assert!(answers(&asked).is_empty());
        }
        let (low, asked) = h.arrive("batch", Op::Read, 3, 0);
        assert_eq!(answers(&asked), [(low, Outcome::Rejected)], "two wait: a low one is shed at 4 / 2");
        for k in 4..=5 {
            let (_, asked) = h.arrive("page", Op::Read, k, 0);
            assert!(answers(&asked).is_empty(), "a high one waits until four do");
        }
        let (high, asked) = h.arrive("page", Op::Read, 6, 0);
        assert_eq!(answers(&asked), [(high, Outcome::Rejected)]);
        assert_eq!(admission(&h).shed_queue_length, Some(2));
        let Figures::Server(s) = h.report().figures else { panic!() };
        assert_eq!(s.rejected, 2, "sheds are 503s");
    }

    #[test]
    fn adaptive_lifo_serves_the_newest_once_the_oldest_is_old() {
        let mut h = server(
            r#"order = "lifo_when_old"
lifo_after = "15ms""#,
        );
        let (a, _) = h.arrive("page", Op::Read, 0, 0);
        let (b, _) = h.arrive("page", Op::Read, 1, 0);
        h.at(ms(2));
        let (c, _) = h.arrive("page", Op::Read, 2, 0);
        h.at(ms(10));
        let asked = h.fire(a.slot);
        assert_eq!(timers(&asked), [(ms(20), b.slot)], "the oldest waited 10 ms < 15 ms: FIFO");
        h.at(ms(12));
        let (d, _) = h.arrive("page", Op::Read, 3, 0);
        h.at(ms(20));
        let asked = h.fire(b.slot);
        assert_eq!(timers(&asked), [(ms(30), d.slot)], "the oldest waited 18 ms: the newest goes first");
        h.at(ms(30));
        let asked = h.fire(d.slot);
        assert_eq!(timers(&asked), [(ms(40), c.slot)]);
        assert_eq!(admission(&h).lifo_taken, Some(2), "the last waiter is both ends at once");
    }

    #[test]
    fn codel_on_a_server_sheds_old_waiters_when_a_worker_takes_them() {
        let mut h = server(r#"shed = { queue_delay = "5ms", interval = "20ms" }"#);
        let (first, _) = h.arrive("page", Op::Read, 0, 0);
        let w: Vec<RequestId> = (1..=6).map(|k| h.arrive("page", Op::Read, k, 0).0).collect();
        // The first request started at once (a wait of zero): the first interval is not
        // standing, whatever comes after in it.
        for (i, prev) in [first, w[0], w[1]].into_iter().enumerate() {
            let t = 10 * (i as u64 + 1);
            h.at(ms(t));
            let asked = h.fire(prev.slot);
            assert_eq!(timers(&asked), [(ms(t + 10), w[i].slot)], "at {t} ms: served");
        }
        // From 20 ms to 40 ms the shortest wait was 20 ms: the queue stands, and every
        // waiter past the 5 ms target is shed when the worker reaches it.
        h.at(ms(40));
        let asked = h.fire(w[2].slot);
        let shed = [(w[3], Outcome::Rejected), (w[4], Outcome::Rejected), (w[5], Outcome::Rejected)];
        assert_eq!(answers(&asked), [&[(w[2], Outcome::Ok)][..], &shed].concat());
        assert!(timers(&asked).is_empty(), "the queue is empty: the worker is free");
        let (late, asked) = h.arrive("page", Op::Read, 9, 0);
        assert_eq!(timers(&asked), [(ms(50), late.slot)], "an arrival that finds a free worker is served");
        assert_eq!(admission(&h).shed_queue_delay, Some(3));
    }

    const SHARED: &str = r#"
[workload]
arrival = "poisson"
rate = 1
[[components]]
id = "gateway"
kind = "server"
count = 2
workers = 4
service = "1ms"
call_mode = "async"
rate_limit = { algorithm = "token_bucket", rate = 1, burst = 2, per = "service", store = "redis", on_store_down = "DOWN", store_timeout = "20ms" }
[[components]]
id = "redis"
kind = "cache"
capacity = 1000
latency = "1ms"
[[links]]
between = ["clients", "gateway"]
[[links]]
between = ["gateway", "redis"]
[[classes]]
name = "api"
path = ["gateway"]
"#;

    fn shared(down: &str) -> Harness {
        Harness::new(&model(&SHARED.replace("DOWN", down)), 1, "gateway-1")
    }

    #[test]
    fn a_shared_limit_asks_its_store_first_and_the_shared_count_decides_on_the_answer() {
        let mut h = shared("open");
        let (a, asked) = h.arrive("api", Op::Read, 9, 0);
        let check = calls(&asked);
        assert_eq!(check.len(), 1, "one call to the store before anything else");
        assert_eq!(check[0].0, "redis");
        assert!(timers(&asked).is_empty(), "not served before the store answers");
        let patience: Vec<_> = asked.iter().filter(|x| matches!(x.what, Ask::Timeout(_))).map(|x| x.at).collect();
        assert_eq!(patience, [ms(20)], "the store_timeout, not the class's");
        assert_eq!(timers(&h.answer(check[0].1, Outcome::Ok, 0)).len(), 1, "admitted: served");
        let (_, asked) = h.arrive("api", Op::Read, 9, 0);
        assert_eq!(timers(&h.answer(calls(&asked)[0].1, Outcome::Ok, 0)).len(), 1, "the burst's second token");
        let (c, asked) = h.arrive("api", Op::Read, 9, 0);
        assert_eq!(answers(&h.answer(calls(&asked)[0].1, Outcome::Ok, 0)), [(c, Outcome::Limited)], "no token left");
        // Redis times out: failing open admits without counting.
        let (_, asked) = h.arrive("api", Op::Read, 9, 0);
        assert_eq!(timers(&h.answer(calls(&asked)[0].1, Outcome::TimedOut, 0)).len(), 1, "fail open: served");
        let f = admission(&h);
        assert_eq!((f.admitted, f.limited), (Some(3), Some(1)));
        assert_eq!((f.store_failed_open, f.store_failed_closed), (Some(1), Some(0)));
        assert!(h.outcome(a).is_some());
    }

    #[test]
    fn a_shared_limit_failing_closed_answers_429_while_its_store_is_unreachable() {
        let mut h = shared("closed");
        for outcome in [Outcome::TimedOut, Outcome::Refused, Outcome::Error] {
            let (r, asked) = h.arrive("api", Op::Read, 1, 0);
            let asked = h.answer(calls(&asked)[0].1, outcome, 0);
            assert_eq!(answers(&asked), [(r, Outcome::Limited)], "{outcome:?}: closed");
            assert!(timers(&asked).is_empty());
        }
        let f = admission(&h);
        assert_eq!(
            (f.admitted, f.limited, f.store_failed_open, f.store_failed_closed),
            (Some(0), Some(3), Some(0), Some(3))
        );
    }

    #[test]
    fn through_the_engine_a_token_bucket_passes_its_rate_and_the_rest_get_429s() {
        let m = model(
            r#"
[workload]
arrival = "poisson"
rate = 1000
[[components]]
id = "gateway"
kind = "server"
workers = 64
call_mode = "async"
service = "exp(1ms)"
rate_limit = { algorithm = "token_bucket", rate = 200, burst = 50 }
[[links]]
between = ["clients", "gateway"]
[[classes]]
name = "api"
path = ["gateway"]
"#,
        );
        let mut sim = sim_core::Simulation::new(&m, 3);
        sim.run();
        let r = sim.report(false);
        let Figures::Server(s) = &r.components["gateway"].figures else { panic!() };
        let a = s.admission.as_ref().expect("a limiter");
        let (admitted, limited) = (a.admitted.unwrap(), a.limited.unwrap());
        // 10 s at r = 200 with a burst of 50: at most b + r t = 2,050, and nearly that
        // under five times the rate.
        assert!((2_000..=2_050).contains(&admitted), "{admitted} admitted");
        let c = &r.classes["api"];
        let l = c.limited.as_ref().expect("429s reported");
        assert_eq!(l.count, limited);
        assert_eq!(c.requests.generated, c.requests.completed + c.requests.failed + c.requests.in_flight);
        assert_eq!(c.failed_by_reason["limited"], limited, "429s are failures, by their own reason");
        assert!((l.rate - 0.8).abs() < 0.02, "four in five are limited: {}", l.rate);
        assert_eq!(c.error_rate, 0.0, "and none of them is an error");
    }

    #[test]
    fn through_the_engine_a_limit_kept_in_redis_is_one_count_for_every_instance() {
        let text = r#"
[workload]
arrival = "poisson"
rate = 1000
[[components]]
id = "gateway"
kind = "server"
count = 4
workers = 64
call_mode = "async"
service = "exp(1ms)"
rate_limit = { algorithm = "token_bucket", rate = 200, burst = 50, per = "service", store = "redis" }
[[components]]
id = "redis"
kind = "cache"
capacity = 1000
latency = "exp(300us)"
[[links]]
between = ["clients", "gateway"]
[[links]]
between = ["gateway", "redis"]
latency = "500us"
[[classes]]
name = "api"
path = ["gateway"]
"#;
        let run = |text: &str| {
            let mut sim = sim_core::Simulation::new(&model(text), 3);
            sim.run();
            sim.report(false)
        };
        let r = run(text);
        let figures = |r: &sim_core::report::Report, i: usize| {
            let Figures::Server(s) = &r.components[&format!("gateway-{i}")].figures else { panic!() };
            s.admission.clone().expect("a limiter")
        };
        let admitted: u64 = (1..=4).map(|i| figures(&r, i).admitted.unwrap()).sum();
        // One bucket for the four: b + r t = 2,050 in 10 s, as one instance would pass.
        assert!((2_000..=2_050).contains(&admitted), "{admitted} admitted by the four");
        assert!((1..=4).all(|i| figures(&r, i).store_failed_open == Some(0)));
        let c = &r.classes["api"];
        assert_eq!(c.requests.generated, c.requests.completed + c.requests.failed + c.requests.in_flight);
        // Each admission waits for Redis: two 0.5 ms hops and its 0.3 ms on top of 1 ms.
        assert!((2.1..2.5).contains(&c.latency_ms.mean), "mean {} ms", c.latency_ms.mean);
        // Redis crashed for the last 5 s: failing open admits them all, after the timeout.
        let crashed = format!("{text}[[faults]]\nat = \"5s\"\ncrash = \"redis\"\n");
        let r = run(&crashed);
        let open: u64 = (1..=4).map(|i| figures(&r, i).store_failed_open.unwrap()).sum();
        assert!((4_800..5_200).contains(&open), "{open} admitted open in 5 s at 1,000 a second");
    }
}
/// A hedging caller's state, with no engine: its percentile of a hop's latency, and the
/// ring of a call's copies that the first answer breaks.
mod hedging {
    use sim_core::kernel::ids::{ComponentId, RequestId};
    use sim_core::world::hedge::{Hedges, LatencyHistogram, SAMPLES_MIN};
    use sim_core::{Model, SimDuration};

    fn id(slot: u32) -> RequestId {
        RequestId { slot, generation: 7 }
    }

    #[test]
    fn the_percentile_comes_after_enough_samples_and_is_within_an_eighth() {
        let mut h = LatencyHistogram::default();
        // 1..=1000 ms, each once: p95 is 950 ms, p50 500 ms.
        for ms in 1..=1000u64 {
            assert_eq!(h.after().is_some(), ms > u64::from(SAMPLES_MIN), "after {} samples", ms - 1);
            h.record(SimDuration::from_millis(ms), 95);
        }
        for (p, want) in [(95u8, 950.0), (50, 500.0), (99, 990.0)] {
            let got = h.percentile(p).as_secs_f64() * 1e3;
            assert!(got >= want && got <= want * 1.125, "p{p}: {got} ms, want {want} ms");
        }
        let cached = h.after().unwrap().as_secs_f64() * 1e3;
        assert!((950.0..=950.0 * 1.125).contains(&cached), "{cached}");
    }

    #[test]
    fn the_first_answer_takes_the_ring_and_names_the_other_copies() {
        let model = super::model(
            "[workload]\narrival = \"poisson\"\nrate = 10\n[[components]]\nid = \"api\"\nkind = \"server\"\nservice = \"1ms\"\n[[components]]\nid = \"leaf\"\nkind = \"server\"\nservice = \"1ms\"\n[[links]]\nbetween = [\"clients\", \"api\"]\n[[links]]\nbetween = [\"api\", \"leaf\"]\n\
             [[classes]]\nname = \"c\"\npath = [\"api\", \"leaf\"]\n[classes.hops.leaf]\nhedge = { after = \"5ms\", max = 2 }\n",
        );
        let mut h = Hedges::new(&model);
        assert!(h.on);
        assert_eq!(h.hop(0, 0), None, "the client's call to api is not hedged");
        let hop = h.hop(0, 1).expect("api's call to leaf is");
        assert_eq!(h.after(hop, ComponentId(1)), Some(SimDuration::from_millis(5)));
        h.pair(id(1), id(2));
        h.pair(id(2), id(3));
        assert_eq!([h.rank(id(1)), h.rank(id(2)), h.rank(id(3))], [0, 1, 2]);
        let (others, was_copy) = h.take(id(2));
        assert!(was_copy);
        let mut others: Vec<u32> = others.iter().flatten().map(|r| r.slot).collect();
        others.sort();
        assert_eq!(others, [1, 3]);
        assert_eq!(h.take(id(1)), ([None; 3], false), "the ring is gone");
        // A slot reused by another request (another generation) is not linked.
        h.pair(id(4), id(5));
        assert_eq!(h.rank(RequestId { slot: 5, generation: 8 }), 0);
        let plain = Model { classes: Vec::new(), ..model };
        assert!(!Hedges::new(&plain).on);
    }
}

/// An API gateway `api` in front of `users` (2 instances) and `posts` (3), with `extra`
/// keys, one class routed to each.
fn gateway(extra: &str) -> Model {
    model(&format!(
        r#"
[workload]
arrival = "poisson"
rate = 1
[[components]]
id = "api"
kind = "gateway"
workers = 4
auth = "2ms"
{extra}
[[components]]
id = "users"
kind = "server"
count = 2
service = "10ms"
[[components]]
id = "posts"
kind = "server"
count = 3
service = "10ms"
[[links]]
between = ["clients", "api"]
[[links]]
between = ["api", "users"]
[[links]]
between = ["api", "posts"]
[[classes]]
name = "profile"
path = ["api", "users"]
[[classes]]
name = "feed"
path = ["api", "posts"]
"#
    ))
}

/// A request of `class` reaches the gateway now and is authenticated: the auth timer
/// fires when it asked. Returns the request and the instance it was routed to.
fn through_gateway(h: &mut Harness, class: &str, user: u32) -> (RequestId, String, RequestId) {
    let (req, asked) = h.arrive(class, Op::Read, u64::from(user), user);
    let [(at, slot)] = timers(&asked)[..] else { panic!("one auth timer: {asked:?}") };
    h.at(at);
    let routed = calls(&h.fire(slot));
    assert_eq!(routed.len(), 1, "one call after auth: {routed:?}");
    (req, routed[0].0.clone(), routed[0].1)
}

#[test]
fn gateway_routes_each_class_to_its_next_service_in_turn() {
    let mut h = Harness::new(&gateway(""), 1, "api");
    let to: Vec<String> = ["profile", "feed", "feed", "profile", "feed", "feed", "profile"]
        .iter()
        .enumerate()
        .map(|(i, c)| through_gateway(&mut h, c, i as u32).1)
        .collect();
    // Round robin per service: users-1, users-2, users-1; posts-1, posts-2, posts-3, posts-1.
    assert_eq!(to, ["users-1", "posts-1", "posts-2", "users-2", "posts-3", "posts-1", "users-1"]);
    let r = h.report();
    let Figures::Gateway(f) = &r.figures else { panic!("a gateway's figures: {:?}", r.figures) };
    assert_eq!((f.routed["routed_users"], f.routed["routed_posts"]), (3, 4));
    assert_eq!(f.served, 7, "seven authenticated");
}

#[test]
fn gateway_auth_takes_its_time_and_the_answer_goes_back() {
    let mut h = Harness::new(&gateway(""), 1, "api");
    h.at(ms(100));
    let (req, asked) = h.arrive("profile", Op::Read, 0, 0);
    assert!(calls(&asked).is_empty(), "nothing routed before auth: {asked:?}");
    let [(at, slot)] = timers(&asked)[..] else { panic!("one auth timer: {asked:?}") };
    assert_eq!(at, ms(102), "auth = 2ms from the arrival");
    h.at(at);
    let routed = calls(&h.fire(slot));
    assert_eq!(routed[0].0, "users-1");
    h.at(ms(115));
    let back = answers(&h.answer(routed[0].1, Outcome::Ok, 0));
    assert_eq!(back, [(req, Outcome::Ok)], "the upstream's answer goes back to the caller");
    let r = h.report();
    let Figures::Gateway(f) = &r.figures else { panic!("a gateway's figures") };
    assert_eq!(f.auth_ms_mean, Some(2.0), "authentication held a worker 2 ms, not the 13 ms upstream");
}

#[test]
fn gateway_least_connections_avoids_the_instance_still_busy() {
    let mut h = Harness::new(&gateway(r#"policy = "least_connections""#), 1, "api");
    let first: Vec<(String, RequestId)> =
        (0..3).map(|u| through_gateway(&mut h, "feed", u)).map(|(_, to, call)| (to, call)).collect();
    assert_eq!(first.iter().map(|(b, _)| b.as_str()).collect::<Vec<_>>(), ["posts-1", "posts-2", "posts-3"]);
    // posts-2 answers; posts-1 and posts-3 still hold one each.
    h.answer(first[1].1, Outcome::Ok, 0);
    assert_eq!(through_gateway(&mut h, "feed", 3).1, "posts-2", "the only instance with nothing in flight");
}

#[test]
fn gateway_power_of_two_favours_the_idle_instance() {
    let mut h = Harness::new(&gateway(r#"policy = "power_of_two""#), 1, "api");
    let mut to_3 = 0;
    for u in 0..300 {
        let (_, to, call) = through_gateway(&mut h, "feed", u);
        if to == "posts-3" {
            to_3 += 1;
            h.answer(call, Outcome::Ok, 0);
        }
    }
    // posts-3 is in 2 of every 3 pairs and then always wins: about two thirds.
    assert!((170..=230).contains(&to_3), "posts-3 got {to_3} of 300");
}

#[test]
fn gateway_rate_limit_answers_429_before_auth() {
    let limit = r#"rate_limit = { algorithm = "token_bucket", rate = 1, burst = 2 }"#;
    let mut h = Harness::new(&gateway(limit), 1, "api");
    let (first, a) = h.arrive("profile", Op::Read, 0, 0);
    let (second, b) = h.arrive("profile", Op::Read, 1, 1);
    assert_eq!((timers(&a).len(), timers(&b).len()), (1, 1), "the burst of two is authenticated");
    let (third, c) = h.arrive("feed", Op::Read, 2, 2);
    assert_eq!(answers(&c), [(third, Outcome::Limited)], "the third is answered 429 at once");
    assert!(timers(&c).is_empty(), "a limited request costs no authentication");
    assert_ne!(first, second);
    let r = h.report();
    let Figures::Gateway(f) = &r.figures else { panic!("a gateway's figures") };
    let a = f.admission.as_ref().expect("a rate limit's figures");
    assert_eq!((a.admitted, a.limited), (Some(2), Some(1)));
}
