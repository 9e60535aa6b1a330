//! Request tracing (`Simulation::follow_next`, `follow_sample`): every span nests in its
//! parent, its phases tile it, its calls account for its wait on them, a successful root
//! lasts exactly the latency the run measures, and tracing changes nothing about the run.

mod common;

use scenarios::Overrides;
use serde_json::Value;
use sim_core::SimDuration;
use sim_core::Simulation;
use sim_core::world::metrics::spans::{MAX_TRACES, Phase, RequestTrace, Span};

fn load(name: &str, duration_s: u64) -> scenarios::Scenario {
    let o = Overrides {
        duration: Some(SimDuration::from_secs(duration_s)),
        warmup: Some(SimDuration::ZERO),
        ..Overrides::default()
    };
    scenarios::load(name, &o).expect("a valid scenario")
}

fn fanout() -> String {
    format!("{}/tests/explain/fanout.toml", env!("CARGO_MANIFEST_DIR"))
}

fn end(s: &Span) -> u64 {
    s.end.expect("closed").0
}

/// The structural invariants of one completed trace.
fn check(t: &RequestTrace) {
    let spans = &t.spans;
    let root = &spans[0];
    assert_eq!((root.parent, Some(root.start), root.end), (None, Some(t.start), t.end), "#{}", t.id);
    assert_eq!(root.outcome, t.outcome);
    for s in spans {
        assert_eq!(s.id as usize, spans.iter().position(|x| std::ptr::eq(x, s)).unwrap());
        let e = end(s);
        assert!(e >= s.start.0, "#{} span {}", t.id, s.id);
        if let Some(p) = s.parent {
            let p = &spans[p as usize];
            assert!(p.id < s.id, "a parent is sent before its calls");
            assert!(p.start <= s.start && e <= end(p), "#{} span {} lies outside its parent {}", t.id, s.id, p.id);
        }
        if s.outcome.as_deref() == Some("unfinished") {
            continue;
        }
        // The phases tile the span.
        let d = e - s.start.0;
        assert_eq!(s.network_ns + s.queue_ns + s.service_ns + s.calls_ns, d, "#{} span {}", t.id, s.id);
        let mut at = s.start;
        for g in &s.segments {
            assert_eq!(g.from, at, "#{} span {}: segments leave a gap", t.id, s.id);
            assert!(g.to > g.from);
            at = g.to;
        }
        assert_eq!(at.0, e, "#{} span {}: the segments end at its end", t.id, s.id);
        if s.outcome.as_deref() != Some("ok") {
            continue;
        }
        // Its calls: each group sent at one instant (one call, or a parallel node's or a
        // scan's) lasts as long as its slowest; the groups add up to its wait on them.
        let mut groups: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
        for c in spans.iter().filter(|c| c.parent == Some(s.id)) {
            let g = groups.entry(c.start.0).or_default();
            *g = (*g).max(end(c) - c.start.0);
        }
        let calls: u64 = groups.values().sum();
        assert_eq!(calls, s.calls_ns, "#{} span {} ({}): its calls' time", t.id, s.id, s.what);
        let waits: u64 = s.segments.iter().filter(|g| g.phase == Phase::Calls).map(|g| g.to.0 - g.from.0).sum();
        assert_eq!(waits, s.calls_ns);
    }
}

/// With every root traced (no warm-up, fewer roots than `MAX_TRACES`), the successful
/// roots' spans are, class by class, exactly the latencies the report measured.
fn roots_last_the_measured_latency(scenario: &scenarios::Scenario) -> usize {
    let mut sim = Simulation::new(&scenario.model, scenario.seed);
    sim.follow_sample(MAX_TRACES);
    sim.run();
    let report = sim.report(false);
    let generated: u64 = report.classes.values().filter(|c| !c.connections).map(|c| c.requests.generated).sum();
    assert!(generated < MAX_TRACES as u64, "{}: every root is traced ({generated})", scenario.name);
    for t in sim.traces() {
        check(t);
    }
    for (name, c) in report.classes.iter().filter(|(_, c)| !c.connections) {
        let ok: Vec<&RequestTrace> =
            sim.traces().iter().filter(|t| &t.class == name && t.outcome.as_deref() == Some("ok")).collect();
        assert_eq!(ok.len() as u64, c.requests.completed, "{} {name}", scenario.name);
        let sum_ns: u64 = ok.iter().map(|t| t.end.unwrap().0 - t.start.0).sum();
        let mean_ms = sum_ns as f64 / ok.len().max(1) as f64 / 1e6;
        assert!((mean_ms - c.latency_ms.mean).abs() <= 1e-9 * mean_ms, "{} {name}: {mean_ms} ms", scenario.name);
    }
    sim.traces().len()
}

#[test]
fn pixelcraft_roots_last_exactly_their_measured_latency_and_spans_nest_and_add_up() {
    let traced = roots_last_the_measured_latency(&load("pixelcraft-1m", 12));
    assert!(traced > 3_000, "{traced}");
}

#[test]
fn fanout_roots_last_exactly_their_measured_latency_and_the_critical_path_is_named() {
    let s = load(&fanout(), 20);
    assert!(roots_last_the_measured_latency(&s) > 300);
    let mut sim = Simulation::new(&s.model, s.seed);
    sim.follow_sample(20);
    sim.run();
    // Constant times, 1 ms links, no queueing: a page is 1 + 5 + (1 + 8 + 1) + 1 ms, with
    // a (4 ms) and b (10 ms) sent at once; a search waits 4 ms for the slowest of 4 shards.
    let page = sim.traces().iter().find(|t| t.class == "page").expect("a page");
    let ms = |ns: u64| ns as f64 / 1e6;
    let root = &page.spans[0];
    assert_eq!((root.what.as_str(), root.instance.as_str()), ("web read", "web"));
    assert_eq!((ms(root.network_ns), ms(root.queue_ns), ms(root.service_ns), ms(root.calls_ns)), (2.0, 0.0, 5.0, 10.0));
    let calls: Vec<(&str, f64)> =
        page.spans[1..].iter().map(|s| (s.service.as_str(), ms(end(s) - s.start.0))).collect();
    assert_eq!(calls, [("a", 4.0), ("b", 10.0)]);
    assert_eq!(page.spans[1].start, page.spans[2].start, "sent at once");
    let search = sim.traces().iter().find(|t| t.class == "search").expect("a search");
    assert_eq!(search.spans.len(), 5, "the scan went to 4 shards");
    assert!(search.spans[1..].iter().all(|s| s.parent == Some(0) && s.service == "db"));
    assert_eq!(ms(search.end.unwrap().0 - search.start.0), 10.0);
}

#[test]
fn tracing_changes_neither_the_trace_hash_nor_any_figure() {
    let s = load("pixelcraft-1m", 4);
    let plain = {
        let mut sim = Simulation::new(&s.model, s.seed);
        sim.run();
        serde_json::to_value(sim.report(false)).unwrap()
    };
    let mut sim = Simulation::new(&s.model, s.seed);
    sim.follow_sample(500);
    sim.follow_next(Some("view_image")).unwrap();
    sim.run();
    assert_eq!(sim.traces().len(), 500);
    assert!(sim.followed().is_some_and(|t| t.end.is_some()));
    assert_eq!(serde_json::to_value(sim.report(false)).unwrap(), plain);
}

#[test]
fn a_followed_request_is_live_while_it_travels_and_the_same_after_stepping_back() {
    let s = load("pixelcraft-1m", 4);
    let mut sim = Simulation::new(&s.model, s.seed);
    while sim.now().0 < 1_000_000_000 {
        sim.step();
    }
    let checkpoint = sim.clone();
    assert!(sim.follow_next(Some("nope")).unwrap_err().contains("no request class `nope`"));
    sim.follow_next(None).unwrap();
    assert!(sim.followed().is_none(), "nothing issued yet");
    // Step until it has gone a few hops, then set it aside and let it finish.
    while sim.followed().is_none_or(|t| t.spans.len() < 2) {
        sim.step();
    }
    let live = sim.followed().unwrap().clone();
    assert_eq!((live.end, live.outcome.as_ref()), (None, None));
    assert!(live.spans.iter().any(|s| s.end.is_none()), "open spans have no end yet");
    let mut mid = sim.clone();
    while sim.followed().unwrap().end.is_none() {
        sim.step();
    }
    let done = sim.followed().unwrap().clone();
    check(&done);
    assert_eq!(done.spans[0].start, live.spans[0].start);
    // The same from a clone made mid-way, and replayed from the checkpoint before it.
    while mid.followed().unwrap().end.is_none() {
        mid.step();
    }
    assert_eq!(mid.followed(), Some(&done));
    let mut replay = checkpoint.clone();
    replay.follow_next(None).unwrap();
    while replay.followed().is_none_or(|t| t.end.is_none()) {
        replay.step();
    }
    assert_eq!(replay.followed(), Some(&done));
    // Following another drops the first; a class filter picks only that class.
    replay.follow_next(Some("upload")).unwrap();
    while replay.followed().is_none_or(|t| t.end.is_none()) {
        replay.step();
    }
    let upload = replay.followed().unwrap();
    assert_eq!(upload.class, "upload");
    assert!(upload.id > done.id);
}

/// `run --trace-requests` through the binary: one X event a span, parent links and lanes
/// that nest by time, roots that end at their answer's event in `--trace` and, every root
/// being traced, last on average exactly the mean latency of the report.
#[test]
fn trace_requests_writes_chrome_trace_json_that_nests_and_agrees_with_the_run() {
    let (out, events) = (common::scratch("fanout.trace.json"), common::scratch("fanout.jsonl"));
    let o = common::scalelab(&[
        "run",
        &fanout(),
        "--duration",
        "20s",
        "--warmup",
        "0s",
        "--json",
        "--trace-requests",
        "10000",
        "--trace-out",
        out.to_str().unwrap(),
        "--trace",
        events.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(common::stderr(&o).contains(&format!("to {}; open it in https://ui.perfetto.dev", out.display())));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["displayTimeUnit"], "ms");
    assert_eq!(doc["metadata"]["trace_hash"], report["trace_hash"]);
    assert_eq!(doc["metadata"]["scenario"], "fanout");
    let evs = doc["traceEvents"].as_array().unwrap();
    let mut by_pid: std::collections::BTreeMap<u64, Vec<&Value>> = std::collections::BTreeMap::new();
    let mut names = std::collections::BTreeMap::new();
    for e in evs {
        match e["ph"].as_str().unwrap() {
            "X" => by_pid.entry(e["pid"].as_u64().unwrap()).or_default().push(e),
            "M" if e["name"] == "process_name" => {
                names.insert(e["pid"].as_u64().unwrap(), e["args"]["name"].as_str().unwrap().to_string());
            }
            _ => {}
        }
    }
    // Every event of the run, to find each root's answer reaching the clients.
    let answers: std::collections::BTreeSet<u64> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["component"] == "clients" && e["event"] == "response")
        .map(|e| e["t_ns"].as_u64().unwrap())
        .collect();
    let ns = |e: &Value, k: &str| e["args"][k].as_u64().unwrap();
    let mut ok: std::collections::BTreeMap<String, (u64, u64)> = std::collections::BTreeMap::new();
    for (pid, spans) in &by_pid {
        for e in spans {
            assert!((e["ts"].as_f64().unwrap() * 1e3 - ns(e, "start_ns") as f64).abs() < 1e-3);
            assert!((e["dur"].as_f64().unwrap() * 1e3 - (ns(e, "end_ns") - ns(e, "start_ns")) as f64).abs() < 1e-3);
            match e["args"]["parent_id"].as_u64() {
                Some(p) => {
                    let parent = spans.iter().find(|x| x["args"]["span_id"] == p).expect("its parent is there");
                    assert!(ns(parent, "start_ns") <= ns(e, "start_ns") && ns(e, "end_ns") <= ns(parent, "end_ns"));
                }
                None => {
                    let (class, id) = (e["args"]["request"].as_u64().unwrap(), &names[pid]);
                    assert!(id.starts_with(&format!("#{class} ")), "{id}");
                    assert!(answers.contains(&ns(e, "end_ns")), "{id}: no answer reached the clients at its end");
                    if e["args"]["outcome"] == "ok" {
                        let c = ok.entry(id.split(' ').nth(1).unwrap().to_string()).or_default();
                        *c = (c.0 + 1, c.1 + ns(e, "end_ns") - ns(e, "start_ns"));
                    }
                }
            }
            // On its lane, every other event holds it, follows it or comes before it.
            for x in spans.iter().filter(|x| x["tid"] == e["tid"] && !std::ptr::eq(**x, *e)) {
                let (a, b, c, d) = (ns(e, "start_ns"), ns(e, "end_ns"), ns(x, "start_ns"), ns(x, "end_ns"));
                assert!(d <= a || b <= c || (c <= a && b <= d) || (a <= c && d <= b), "pid {pid}: lanes overlap");
            }
        }
    }
    assert!(by_pid.values().any(|s| s.iter().any(|e| e["tid"] != 0)), "parallel calls take lanes of their own");
    for (class, (count, sum_ns)) in &ok {
        let c = &report["classes"][class];
        assert_eq!(*count, c["requests"]["completed"].as_u64().unwrap(), "{class}");
        let mean = *sum_ns as f64 / *count as f64 / 1e6;
        assert!((mean - c["latency_ms"]["mean"].as_f64().unwrap()).abs() < 1e-9 * mean, "{class}");
    }
    assert_eq!(ok.len(), 2, "both classes traced");
}

#[test]
fn trace_requests_writes_beside_the_scenario_name_by_default_and_refuses_bad_counts_and_paths() {
    let dir = common::fresh_dir("default-path");
    std::fs::create_dir_all(&dir).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(["run", "mm1", "--duration", "2s", "--warmup", "1s", "--no-check", "--trace-requests", "5"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert!(
        common::stderr(&o).contains("wrote 5 requests (5 spans) to mm1-requests.trace.json"),
        "{}",
        common::stderr(&o)
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("mm1-requests.trace.json")).unwrap()).unwrap();
    let first = doc["traceEvents"].as_array().unwrap().iter().find(|e| e["ph"] == "X").unwrap();
    assert!(first["ts"].as_f64().unwrap() >= 1e6, "sampled from the end of the warm-up");
    for (n, says) in [
        ("0", "expected a number of requests to trace from 1 to 10000, found 0"),
        ("10001", "at most 10000 requests are traced in one run"),
        ("many", "found `many`"),
    ] {
        let o = common::scalelab(&["run", "mm1", "--trace-requests", n]);
        assert_eq!(o.status.code(), Some(2));
        assert!(common::stderr(&o).contains(says), "{n}: {}", common::stderr(&o));
    }
    let o = common::scalelab(&["run", "mm1", "--trace-requests", "3", "--trace-out", "/nonexistent/dir/t.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(common::stderr(&o).contains("cannot create the --trace-requests file `/nonexistent/dir/t.json`"));
    let o = common::scalelab(&["run", "mm1", "--trace-out", "t.json"]);
    assert_eq!(o.status.code(), Some(2), "--trace-out needs --trace-requests");
}

/// The queue's next event is always the one the next step takes: a timeout whose call has
/// ended is dropped as soon as it comes first, so playing up to a time (the TUI peeks,
/// then steps) never runs past it.
#[test]
fn the_next_event_shown_is_the_next_event_taken() {
    let overrides = Overrides { duration: Some(SimDuration::from_secs(90)), ..Overrides::default() };
    let s = scenarios::load("slow-dependency", &overrides).unwrap();
    let mut sim = Simulation::new(&s.model, s.seed);
    let mut timeouts = 0;
    loop {
        let next = sim.next_event_time();
        let Some(e) = sim.step() else { break };
        assert_eq!(Some(e.time), next, "event {} came at {} where {next:?} was shown", e.index, e.time);
        timeouts += u64::from(e.tag == sim_core::kernel::trace::EventTag::Timeout);
    }
    assert!(timeouts > 0, "slow-dependency's calls time out once the dependency slows");
}

/// Every record of a run with faults, partitions, health checks and replication.
fn all_records(name: &str) -> Vec<sim_core::view::event_text::EventRecord> {
    let s = scenarios::load(name, &Overrides::default()).unwrap();
    let mut sim = Simulation::new(&s.model, s.seed);
    sim.record_events(usize::MAX >> 8);
    sim.run();
    let records: Vec<_> = sim.recent_events().collect();
    assert_eq!(records.len() as u64, sim.events());
    records
}

#[test]
fn event_records_cover_every_kind_of_event_in_words() {
    let mut texts: Vec<String> = all_records("failover-async").into_iter().map(|r| r.text).collect();
    texts.extend(all_records("cap-exercise").into_iter().map(|r| r.text));
    let partition = format!("{}/tests/explain/fanout-partition.toml", env!("CARGO_MANIFEST_DIR"));
    texts.extend(all_records(&partition).into_iter().map(|r| r.text));
    for says in [
        "clients started",
        "clients' timer fired (token 0); it issued request #",
        "arrived at web from clients; it started serving #",
        "the answer to request #",
        "finished ok after",
        "timeout: ",
        "answered db-3's health probe",
        "db-3's health probe found db-1 down: it fails",
        "heard a health probe's answer: healthy",
        "got a message from db-1",
        "it sent a datagram to",
        "db-1 crashed (fault)",
        "cuts the network (fault)",
        "healed (fault)",
        "passed while it is down: dropped",
    ] {
        assert!(texts.iter().any(|t| t.contains(says)), "no record says `{says}`");
    }
    let timeout = texts.iter().find(|t| t.starts_with("timeout: ")).unwrap();
    assert!(timeout.contains(" gave up after ") && timeout.contains(" at "), "{timeout}");
}

#[test]
fn event_records_keep_the_last_events_with_their_request_and_leave_the_run_unchanged() {
    let s = scenarios::load("failover-async", &Overrides::default()).unwrap();
    let plain = {
        let mut sim = Simulation::new(&s.model, s.seed);
        sim.run();
        serde_json::to_value(sim.report(false)).unwrap()
    };
    let mut sim = Simulation::new(&s.model, s.seed);
    sim.record_events(200);
    for _ in 0..7 {
        sim.step();
    }
    let first: Vec<_> = sim.recent_events().collect();
    assert_eq!(first.iter().map(|r| r.seq).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());
    let issue = &first[5];
    assert_eq!(issue.text, "clients' timer fired (token 0); it issued request #1 (place_order) to web");
    assert_eq!(
        (issue.request, issue.class.as_deref(), issue.component.as_deref()),
        (Some(1), Some("place_order"), Some("clients"))
    );
    let arrival = &first[6];
    assert_eq!(arrival.text, "request #1 (place_order) arrived at web from clients; it started serving #1");
    assert_eq!((arrival.request, arrival.service.as_deref()), (Some(1), Some("web")));
    sim.run();
    let last: Vec<_> = sim.recent_events().collect();
    assert_eq!(last.len(), 200);
    assert!(last.windows(2).all(|w| w[1].seq == w[0].seq + 1 && w[1].t >= w[0].t), "oldest first");
    assert_eq!(sim.last_event().map(|r| r.seq), Some(sim.events()));
    assert_eq!(serde_json::to_value(sim.report(false)).unwrap(), plain);
}

#[test]
fn a_followed_requests_number_names_its_events() {
    let s = load(&fanout(), 20);
    let mut sim = Simulation::new(&s.model, s.seed);
    sim.record_events(10_000);
    sim.follow_next(Some("page")).unwrap();
    while sim.followed().is_none_or(|t| t.end.is_none()) {
        sim.step();
    }
    let t = sim.followed().unwrap().clone();
    assert_eq!(t.id, 1, "the first request issued");
    let mine: Vec<_> = sim.recent_events().filter(|r| r.request == Some(t.id)).collect();
    // Issued; at web, which calls a and b at once; each serves and answers; back at web
    // twice, the second answer completing it; at the clients.
    assert_eq!(mine.len(), 10, "{mine:#?}");
    assert!(mine[2].text.starts_with("web's timer fired (token 0); it calls a for #"), "{}", mine[2].text);
    assert!(mine[2].text.ends_with(" (a read); it calls b for #1 (b read)"), "{}", mine[2].text);
    assert!(mine[8].text.ends_with("reached web; it answered #1 ok to clients"), "{}", mine[8].text);
    assert!(mine.iter().all(|r| r.class.as_deref() == Some("page")));
    assert_eq!(mine[0].t, t.start);
    let done = mine.last().unwrap();
    assert_eq!(done.t, t.end.unwrap());
    assert!(done.text.ends_with(&format!("; request #{} (page) finished ok after 17.0 ms", t.id)), "{}", done.text);
}
