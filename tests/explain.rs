//! The report explains itself: the latency split adds up, failure reasons add up, the
//! bottleneck and next wall are the right ones, and the analytic twin agrees with theory
//! where theory is exact. Most checks read the committed golden reports (every built-in
//! at seeds 1 and 2), which `golden.rs` holds equal to what the build prints.

mod common;

use serde_json::Value;
use std::path::PathBuf;

fn golden() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("the golden directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            (p.file_stem().unwrap().to_string_lossy().into_owned(), serde_json::from_str(&text).expect("JSON"))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(out.len(), 2 * scenarios::builtin::BUILTIN.len(), "two seeds of every built-in");
    out
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

fn split_sum(hops: &Value) -> f64 {
    hops.as_array().expect("hops").iter().map(|h| f(&h["total_ms"])).sum()
}

#[test]
fn every_class_mean_splits_into_parts_that_add_up_and_every_class_has_a_tail_split() {
    let mut checked = 0;
    for (name, r) in golden() {
        for (class, c) in r["classes"].as_object().expect("classes") {
            let (mean, completed) = (f(&c["latency_ms"]["mean"]), c["requests"]["completed"].as_u64().unwrap());
            let split = &c["time_split"];
            let sum = split_sum(&split["mean"]);
            assert!((sum - mean).abs() <= 0.01 * mean, "{name} {class}: parts add up to {sum}, mean {mean}");
            for h in split["mean"].as_array().unwrap() {
                let parts = f(&h["network_ms"]) + f(&h["queue_ms"]) + f(&h["service_ms"]);
                assert!((parts - f(&h["total_ms"])).abs() <= 1e-9 * parts.max(1.0), "{name} {class}: {h}");
            }
            if mean > 0.0 {
                let tail = &split["tail"];
                assert!(tail["requests"].as_u64().unwrap() > 0, "{name} {class}: no tail split");
                let (from, p99) = (f(&tail["from_ms"]), f(&c["latency_ms"]["p99"]));
                assert!(
                    from <= p99 && from >= p99 / 1.0625 / 1.001,
                    "{name} {class}: the tail starts at {from}, p99 {p99}"
                );
                assert!(f(&tail["mean_ms"]) >= from, "{name} {class}: the tail's mean is below its start");
                assert!((split_sum(&tail["hops"]) - f(&tail["mean_ms"])).abs() <= 1e-6 * f(&tail["mean_ms"]));
                checked += 1;
            } else {
                assert_eq!(completed, 0, "{name} {class}: completed requests with no latency");
            }
        }
    }
    assert!(checked > 150, "{checked} classes with a split");
}

#[test]
fn failure_reasons_add_up_to_the_failed_count_of_every_class() {
    let mut failed_classes = 0;
    for (name, r) in golden() {
        for (class, c) in r["classes"].as_object().unwrap() {
            let failed = c["requests"]["failed"].as_u64().unwrap();
            let lines = c.get("failures").and_then(Value::as_array).cloned().unwrap_or_default();
            let sum: u64 = lines.iter().map(|l| l["count"].as_u64().unwrap()).sum();
            assert_eq!(sum, failed, "{name} {class}: {lines:?}");
            let by_reason: u64 = c["failed_by_reason"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
            assert_eq!(by_reason, failed, "{name} {class}");
            for l in &lines {
                let reason = l["reason"].as_str().unwrap();
                let n = c["failed_by_reason"][reason].as_u64().unwrap();
                assert!(l["count"].as_u64().unwrap() <= n, "{name} {class}: {l}");
                assert!(!l["at"].as_str().unwrap().is_empty());
            }
            failed_classes += usize::from(failed > 0);
        }
    }
    assert!(failed_classes >= 20, "only {failed_classes} classes with failures");
}

fn report(name: &str) -> Value {
    golden().into_iter().find(|(n, _)| n == &format!("{name}-1")).expect("a golden report").1
}

fn sentences(r: &Value) -> String {
    r["explain"]["what_happened"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect::<Vec<_>>().join(" ")
}

#[test]
fn pixelcraft_at_a_million_users_names_web_as_the_bottleneck() {
    let r = report("pixelcraft-100-at-1m");
    assert_eq!(r["explain"]["bottleneck"]["service"], "web");
    let s = sentences(&r);
    assert!(s.starts_with("web (server) is the bottleneck: 100% busy"), "{s}");
    assert!(s.contains("rejected by web"), "{s}");
    assert!(s.contains("survivorship"), "{s}");
    assert!(s.contains("waiting in web's queue"), "{s}");
    let text = common::ok(&["run", "pixelcraft-100-at-1m", "--no-check", "--duration", "2m"]);
    let what = text.split("what happened").nth(1).expect("a what-happened section");
    assert!(what.trim_start().starts_with("- web (server) is the bottleneck"), "{text}");
    assert!(text.contains("(successful only: "), "the latency line warns of survivorship: {text}");
}

#[test]
fn stage_03_names_the_database_as_the_next_wall() {
    let r = report("stage-03");
    assert!(r["explain"].get("bottleneck").is_none(), "nothing saturates at stage 3");
    assert_eq!(r["explain"]["next_wall"]["service"], "db");
    assert_eq!(r["explain"]["next_wall"]["kind"], "database");
    let s = sentences(&r);
    assert!(s.contains("The next wall is db (database): 74% busy"), "{s}");
    let saturates = f(&r["explain"]["services"][0]["saturates_at_load"]);
    assert!((1.3..1.4).contains(&saturates), "db saturates at {saturates}x the load");
}

#[test]
fn cap_exercise_tells_the_cp_refusals_during_the_partition_and_the_ap_staleness() {
    let r = report("cap-exercise");
    let s = sentences(&r);
    assert!(s.contains("A partition cut the network from 120 s to 240 s"), "{s}");
    assert!(s.contains("refused as unavailable by meta"), "{s}");
    assert!(s.contains("CP data images (meta) refused 4,283 operations"), "{s}");
    assert!(s.contains("Cursors (AP) served 360 stale reads"), "{s}");
    assert!(s.contains("page_views (AP) served"), "{s}");
    // The partition shows while it lasts: requests pile up in flight before any timeout.
    assert!(r["explain"]["in_flight_peak"].as_u64().unwrap() > 40);
    let at = f(&r["explain"]["in_flight_peak_at_s"]);
    assert!((120.0..=240.0).contains(&at), "peak at {at} s");
}

#[test]
fn the_twin_matches_the_exact_queues_within_the_runs_interval() {
    for name in ["mm1", "mmc"] {
        let r = report(name);
        let c = &r["explain"]["twin"]["classes"][0];
        assert_eq!(c["exact"], true, "{name}: {c}");
        assert_eq!(c["differs"], false, "{name}: {c}");
        let (p, m, ci) = (f(&c["predicted_ms"]), f(&c["measured_ms"]), f(&c["ci95_ms"]));
        assert!((p - m).abs() <= ci, "{name}: theory {p}, run {m} ± {ci}");
    }
    // M/M/1 at rho 0.9 with a 100 ms service: W = S / (1 - rho) = 1 s.
    assert!((f(&report("mm1")["explain"]["twin"]["classes"][0]["predicted_ms"]) - 1000.0).abs() < 1e-6);
}

#[test]
fn the_twin_is_within_5_percent_on_every_stage_it_fully_covers() {
    let mut covered = Vec::new();
    for (name, r) in golden().into_iter().filter(|(n, _)| n.starts_with("stage-")) {
        let t = &r["explain"]["twin"];
        let classes = t["classes"].as_array().unwrap();
        let full =
            t["refusals"].as_array().unwrap().is_empty() && classes.iter().all(|c| c["predicted_ms"].is_number());
        if !full {
            continue;
        }
        for c in classes {
            let (p, m) = (f(&c["predicted_ms"]), f(&c["measured_ms"]));
            assert!((p - m).abs() <= 0.05 * m, "{name} {}: theory {p} ms, run {m} ms", c["class"]);
        }
        covered.push(name);
    }
    for stage in ["stage-01", "stage-03", "stage-08"] {
        assert!(covered.iter().any(|c| c.starts_with(stage)), "{stage} is fully covered: {covered:?}");
    }
}

#[test]
fn a_parallel_fan_out_counts_its_slowest_call_and_a_scan_its_slowest_shard() {
    let r = common::report("tests/explain/fanout.toml", &["--no-check"]);
    let hops = |class: &str| -> Vec<(String, f64, f64)> {
        r["classes"][class]["time_split"]["mean"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["service"].as_str().unwrap().to_string(), f(&h["network_ms"]), f(&h["service_ms"])))
            .collect()
    };
    let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
    let page = hops("page");
    assert_eq!(page.len(), 3);
    assert!(near(page[0].1, 2.0) && near(page[0].2, 5.0), "web: {page:?}");
    assert!(near(page[1].1, 0.0) && near(page[1].2, 0.0), "a is never the slowest: {page:?}");
    assert!(near(page[2].1, 2.0) && near(page[2].2, 8.0), "b: {page:?}");
    assert!(near(f(&r["classes"]["page"]["latency_ms"]["mean"]), 17.0));
    let search = hops("search");
    assert!(near(search[1].1, 2.0) && near(search[1].2, 1.0), "one shard's time: {search:?}");
    assert!(near(f(&r["classes"]["search"]["latency_ms"]["mean"]), 10.0));
}

#[test]
fn a_partition_shows_while_it_lasts_and_its_timeouts_are_lost_at_the_database() {
    let r = common::report("tests/explain/partition.toml", &["--series", "--no-check"]);
    let page = &r["classes"]["page"];
    let lines = page["failures"].as_array().unwrap();
    let lost = lines
        .iter()
        .find(|l| l["reason"] == "timed_out" && l["at"] == "db" && l["detail"] == "lost in a partition")
        .unwrap_or_else(|| panic!("no timeout lost at db: {lines:?}"));
    // About 100 requests a second for the 20 s of the cut.
    let n = lost["count"].as_u64().unwrap();
    assert!((1_700..=2_300).contains(&n), "{n} lost");
    assert_eq!(n, page["requests"]["failed"].as_u64().unwrap(), "every failure is the partition's");
    let at = |t: f64| r["series"].as_array().unwrap().iter().find(|p| f(&p["t_s"]) == t).expect("a point").clone();
    // Before the cut a handful in flight; during it two seconds' worth wait for their
    // timeouts; after the heal none, and no abandoned call is left behind.
    assert!(at(10.0)["in_flight"].as_u64().unwrap() < 10);
    for t in [25.0, 30.0, 35.0] {
        let waiting = at(t)["in_flight"].as_u64().unwrap();
        assert!((150..=260).contains(&waiting), "{waiting} in flight at {t} s");
    }
    assert!(at(50.0)["in_flight"].as_u64().unwrap() < 10);
    assert_eq!(at(50.0)["abandoned"], 0);
    let s = sentences(&r);
    assert!(s.contains("lost in a partition on the way to or from db"), "{s}");
    assert!(s.contains("A partition cut the network from 20 s to 40 s"), "{s}");
}

#[test]
fn a_timeout_in_a_fan_out_names_the_branch_still_out_not_the_last_call_made() {
    let r = common::report("tests/explain/fanout-partition.toml", &["--no-check"]);
    let page = &r["classes"]["page"];
    let lines = page["failures"].as_array().unwrap();
    let failed = page["requests"]["failed"].as_u64().unwrap();
    // About 50 pages a second for the 10 s of the cut, every one lost on its way to a.
    assert!((400..=600).contains(&failed), "{failed} failed");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!((lines[0]["reason"].as_str(), lines[0]["at"].as_str()), (Some("timed_out"), Some("a")), "{lines:?}");
    assert_eq!(lines[0]["detail"], "lost in a partition");
}

#[test]
fn run_with_seeds_gives_each_figure_its_mean_and_interval_over_the_seeds() {
    let args = ["--duration", "2m", "--warmup", "10s", "--no-check"];
    let r = common::report("mmc", &[&args[..], &["--seeds", "3"]].concat());
    let over = &r["over_seeds"];
    assert_eq!(over["seeds"], serde_json::json!([1, 2, 3]));
    let singles: Vec<Value> =
        (1..=3).map(|s| common::report("mmc", &[&args[..], &["--seed", &s.to_string()]].concat())).collect();
    // The report is the first seed's, as a single run prints it.
    assert_eq!(r["trace_hash"], singles[0]["trace_hash"]);
    for (figure, path) in [("throughput_rps", "/throughput_rps"), ("p99_ms", "/latency_ms/p99")] {
        let xs: Vec<f64> = singles.iter().map(|s| f(s.pointer(path).unwrap())).collect();
        let mean = xs.iter().sum::<f64>() / 3.0;
        let e = &over["figures"][figure];
        assert!((f(&e["mean"]) - mean).abs() <= 1e-9 * mean.abs(), "{figure}: {e} against {xs:?}");
        // Student's t with 2 degrees of freedom: 4.303 s / sqrt(3).
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((f(&e["ci95"]) - 4.303 * sd / 3f64.sqrt()).abs() <= 1e-6 * sd.max(1e-9), "{figure}: {e}");
    }
    assert!(over["components"]["server"]["utilization"]["ci95"].is_number());
    let text = common::ok(&[&["run", "mmc", "--seeds", "3"], &args[..]].concat());
    assert!(text.contains("over 3 seeds (1..3): mean ± 95% interval"), "{text}");
}

/// Regression: a report taken while the run was under way (the TUI's, each simulated
/// second) divided by the whole run's window, so 10 s into pixelcraft-1m's window the
/// thumbnailers looked 1.6% busy (38% in truth) and a web server at 97% named a false
/// bottleneck. It must agree with the same run stopped there.
#[test]
fn a_report_taken_mid_run_covers_the_time_simulated_so_far() {
    let source = scenarios::resolve("pixelcraft-1m").unwrap();
    let whole = scenarios::parse(&source, &scenarios::Overrides::default()).unwrap();
    let mut sim = sim_core::Simulation::new(&whole.model, 1);
    let t = sim_core::SimTime::ZERO + sim_core::SimDuration::from_secs(70);
    while sim.next_event_time().is_some_and(|n| n <= t) {
        sim.step();
    }
    let mid = serde_json::to_value(sim.report(false)).unwrap();
    let stopped = common::report("pixelcraft-1m", &["--duration", "70s"]);
    for (a, b) in [
        (&mid["throughput_rps"], &stopped["throughput_rps"]),
        (&mid["components"]["thumbnailer-1"]["utilization"], &stopped["components"]["thumbnailer-1"]["utilization"]),
        (&mid["components"]["web-1"]["utilization"], &stopped["components"]["web-1"]["utilization"]),
    ] {
        // The JSON keeps four significant figures, and the window mid-run ends at the last
        // event before 70 s: equal to 1 part in 1,000 (the old window was 24 times too long).
        assert!((f(a) - f(b)).abs() <= 1e-3 * f(b).abs(), "{a} mid-run, {b} stopped there");
    }
    assert_eq!(mid["explain"]["bottleneck"], stopped["explain"]["bottleneck"]);
    assert_eq!(mid["explain"]["next_wall"]["service"], "thumbnailer");
}
