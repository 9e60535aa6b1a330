//! The `scalelab` binary as users meet it: commands, exit codes, messages, determinism
//! across processes.

mod common;
use std::path::{Path, PathBuf};

#[test]
fn list_shows_every_builtin_with_its_title() {
    let o = common::scalelab(&["list"]);
    assert!(o.status.success());
    let text = common::stdout(&o);
    assert!(text.lines().any(|l| l.starts_with("mm1 ") && l.contains("M/M/1")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("mmc ") && l.contains("M/M/c")), "{text}");
}

#[test]
fn show_prints_a_scenario_that_validates_as_a_file() {
    let o = common::scalelab(&["show", "mmc"]);
    assert!(o.status.success());
    let path = common::scratch("mmc-copy.toml");
    std::fs::write(&path, &o.stdout).unwrap();
    let v = common::scalelab(&["validate", path.to_str().unwrap()]);
    assert_eq!(common::stdout(&v), "ok\n");
    assert!(v.status.success());
}

#[test]
fn show_of_an_unknown_name_suggests_the_close_one() {
    let o = common::scalelab(&["show", "mm2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(common::stderr(&o).contains("did you mean `mm1`?"), "{}", common::stderr(&o));
}

#[test]
fn run_without_a_scenario_runs_the_default_and_prints_a_report() {
    let o = common::scalelab(&["run"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let text = common::stdout(&o);
    assert!(text.starts_with("pixelcraft-100-at-1m - "), "{text}");
    for needle in ["trace hash ", "requests    generated", "latency ms  mean", "PASS  component.web.utilization > 0.99"]
    {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// Removes the wall-clock fields, the only ones allowed to differ between two runs.
fn without_wall_clock(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    let obj = v.as_object_mut().unwrap();
    obj.remove("wall_seconds");
    obj.remove("events_per_second");
    v
}

#[test]
fn same_seed_gives_identical_reports_and_traces_across_processes() {
    let run = |seed: &str, trace: &Path| {
        let o = common::scalelab(&[
            "run",
            "mmc",
            "--set",
            "customers=20000",
            "--no-check",
            "--seed",
            seed,
            "--json",
            "--trace",
            trace.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        common::stdout(&o)
    };
    let (t1, t2, t3) = (common::scratch("a.jsonl"), common::scratch("b.jsonl"), common::scratch("c.jsonl"));
    let (r1, r2, r3) = (run("7", &t1), run("7", &t2), run("8", &t3));
    let (j1, j2, j3) = (without_wall_clock(&r1), without_wall_clock(&r2), without_wall_clock(&r3));
    // Byte-identical apart from the wall-clock fields.
    let strip = |r: &str| {
        r.lines()
            .filter(|l| !l.contains("wall_seconds") && !l.contains("events_per_second"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&r1), strip(&r2));
    assert_eq!(j1["trace_hash"], j2["trace_hash"]);
    let (f1, f2, f3) = (std::fs::read(&t1).unwrap(), std::fs::read(&t2).unwrap(), std::fs::read(&t3).unwrap());
    assert_eq!(f1, f2, "trace files differ");
    assert_eq!(f1.iter().filter(|b| **b == b'\n').count() as u64, j1["events"].as_u64().unwrap());
    // Another seed, another run.
    assert_ne!(j1["trace_hash"], j3["trace_hash"]);
    assert_ne!(f1, f3);
    let first = String::from_utf8_lossy(&f1).lines().next().unwrap().to_string();
    assert_eq!(first, r#"{"i":0,"t_ns":0,"component":"clients","event":"start","payload":0}"#);
}

#[test]
fn json_report_has_the_documented_fields() {
    let o = common::scalelab(&["run", "mm1", "--set", "customers=5000", "--json", "--no-check"]);
    let v: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    for key in [
        "scenario",
        "seed",
        "sim_seconds",
        "wall_seconds",
        "events",
        "events_per_second",
        "trace_hash",
        "throughput_rps",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in ["generated", "completed", "failed", "in_flight"] {
        assert!(v["requests"][key].is_u64(), "requests.{key}");
    }
    for key in ["mean", "mean_ci95", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(v["latency_ms"].get(key).is_some(), "latency_ms.{key}");
    }
    assert!(v["classes"]["job"]["latency_ms"]["p99"].is_f64());
    let server = &v["components"]["server"];
    assert_eq!(server["kind"], "server");
    for key in ["utilization", "queue_mean", "queue_max"] {
        assert!(server.get(key).is_some(), "components.server.{key}");
    }
    let r = &v["requests"];
    let sum = r["completed"].as_u64().unwrap() + r["failed"].as_u64().unwrap() + r["in_flight"].as_u64().unwrap();
    assert_eq!(r["generated"].as_u64().unwrap(), sum, "conservation");
}

#[test]
fn check_determinism_runs_twice_and_passes() {
    let o = common::scalelab(&["run", "mm1", "--set", "customers=20000", "--check-determinism"]);
    assert!(o.status.success(), "{}{}", common::stdout(&o), common::stderr(&o));
    assert!(common::stdout(&o).starts_with("determinism check passed: "), "{}", common::stdout(&o));
}

#[test]
fn duration_flag_takes_units_and_refuses_bare_numbers() {
    let o = common::scalelab(&["run", "mm1", "--duration", "90s", "--json", "--no-check"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert_eq!(v["sim_seconds"], 90.0);
    // The scenario's 1111 s warm-up cannot fit, so it is shortened, and the user is told.
    assert_eq!(v["warmup_seconds"], 9.0);
    assert!(
        common::stderr(&o).contains("note: the scenario's warm-up (1111.111s) does not fit"),
        "{}",
        common::stderr(&o)
    );
    let o = common::scalelab(&["run", "mm1", "--duration", "90s", "--warmup", "30s", "--json", "--no-check"]);
    let v: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert_eq!(v["warmup_seconds"], 30.0);
    let bad = common::scalelab(&["run", "mm1", "--duration", "90"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(common::stderr(&bad).contains("has no unit"), "{}", common::stderr(&bad));
}

#[test]
fn set_of_an_unknown_parameter_is_refused_with_a_suggestion() {
    let o = common::scalelab(&["run", "mm1", "--set", "arival_rate=3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(common::stderr(&o).contains("no parameter `arival_rate`"), "{}", common::stderr(&o));
    assert!(common::stderr(&o).contains("did you mean `arrival_rate`?"), "{}", common::stderr(&o));
}

#[test]
fn set_changes_the_run() {
    let mean = |rate: &str| {
        let o = common::scalelab(&[
            "run",
            "mm1",
            "--set",
            &format!("arrival_rate={rate}"),
            "--set",
            "customers=200000",
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
        v["latency_ms"]["mean"].as_f64().unwrap()
    };
    let (low, high) = (mean("2"), mean("8"));
    // Theory: 125 ms at rho 0.2, 500 ms at rho 0.8.
    assert!((low - 125.0).abs() < 5.0 && (high - 500.0).abs() < 30.0, "{low} {high}");
}

#[test]
fn a_failed_expectation_exits_3_unless_no_check() {
    // At rho 0.5 the mean is 200 ms, far from the scenario's expected 1000 ms.
    let args = ["run", "mm1", "--set", "arrival_rate=5", "--set", "customers=20000"];
    let o = common::scalelab(&args);
    assert_eq!(o.status.code(), Some(3), "{}", common::stderr(&o));
    assert!(common::stdout(&o).contains("  FAIL  mean_ms ~ 1000 +- 5%  (actual "), "{}", common::stdout(&o));
    assert!(common::stdout(&o).contains("  PASS  error_rate < 0.0001"), "{}", common::stdout(&o));
    assert!(common::stderr(&o).contains("expectation"), "{}", common::stderr(&o));
    let o = common::scalelab(&[&args[..], &["--no-check", "--json"]].concat());
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    let e = &v["expectations"][0];
    assert_eq!((e["expr"].as_str(), e["passed"].as_bool()), (Some("mean_ms ~ 1000 +- 5%"), Some(false)));
    assert!((e["actual"].as_f64().unwrap() - 200.0).abs() < 20.0);
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let o = common::scalelab(&["run", "no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::stderr(&o).contains("no built-in scenario or file named `no/such/file.toml`"),
        "{}",
        common::stderr(&o)
    );
}

#[test]
fn binary_garbage_and_huge_files_are_refused_without_a_panic() {
    let garbage = common::scratch("garbage.toml");
    std::fs::write(&garbage, [0xff, 0xfe, 0x00, 0x41, 0x80]).unwrap();
    let o = common::scalelab(&["validate", garbage.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::stderr(&o).contains(":1:1: the file is not UTF-8 text (byte 0 is invalid)"),
        "{}",
        common::stderr(&o)
    );
    let huge = common::scratch("huge.toml");
    std::fs::write(&huge, vec![b'#'; 5 * 1024 * 1024]).unwrap();
    let o = common::scalelab(&["validate", huge.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(common::stderr(&o).contains("limited to"), "{}", common::stderr(&o));
}

/// One broken file per kind of mistake: each must exit 1 and point at the right place.
#[test]
fn each_kind_of_bad_scenario_gets_a_located_error() {
    let cases = [
        ("syntax_error", "2:27", "invalid basic string"),
        ("unknown_top_level_key", "5:1", "unknown field `durration`"),
        ("unknown_component_key", "14:1", "did you mean `workers`?"),
        ("wrong_type", "14:11", "expected a plain number, found a boolean"),
        ("wrong_type_serde", "2:9", "invalid type: integer `42`, expected a string"),
        ("dangling_reference", "21:9", "did you mean `web1`?"),
        ("absurd_size", "14:11", "outside the accepted range 1 to 1000000"),
        ("absurd_run_length", "9:8", "the limit is 1e9"),
        ("duration_without_unit", "5:12", "durations need a unit"),
        ("unknown_parameter", "18:23", "did you mean `service_rate`?"),
        ("no_route", "26:17", "no link path from `web1` to `db`"),
        ("unknown_distribution", "14:12", "unknown distribution `expo`"),
        ("unknown_metric", "3:12", "did you mean `p99_ms`?"),
        ("unknown_population", "32:8", "did you mean `socket_users`?"),
        ("nested_call_typo", "42:23", "did you mean `write`?"),
        ("partition_overlap", "33:32", "`db-1` is on two sides"),
        ("quorum_too_big", "15:5", "w = 4, but the store has 3 replicas"),
        ("step_after_end", "24:6", "this step at 15s is not before the run's end (10s)"),
        ("step_at_and_when", "25:8", "this step has both `at` and `when`"),
        ("step_bad_key", "26:7", "`ctrl-f` is not one key"),
        ("step_unknown_figure", "24:9", "did you mean `utilization`?"),
        ("step_whole_run_metric", "24:9", "a step's condition reads one instance's figures"),
        ("scale_unknown_service", "40:9", "did you mean `web`?"),
        ("scale_to_zero", "41:13", "instances is 0, outside the accepted range 1 to 1000"),
        ("scale_huge", "41:13", "instances is 100000, outside the accepted range 1 to 1000"),
        ("scale_not_balanced", "40:9", "`db` is not behind a load balancer"),
        ("rate_on_closed_loop", "41:8", "`clients` is a closed loop"),
        ("breaker_huge_window", "41:16", "window_calls is 10000000, outside the accepted range 1 to 100000"),
        ("breaker_never_called", "40:6", "`web` never calls `db` in any class's flow"),
        ("breaker_rate_above_one", "41:16", "failure_rate is 1.5, outside the accepted range 0 to 1"),
        ("retry_attempts_huge", "23:22", "retry attempts is 1000, outside the accepted range 1 to 10"),
        ("retry_unknown_jitter", "23:34", "did you mean `full`?"),
        ("fanout_too_wide", "30:11", "a fan-out of 20000 calls; a caller makes at most 10000 at once"),
        ("fanout_behind_balancer", "29:15", "`lb` is a load_balancer, which forwards each request once"),
        ("choices_too_many", "16:11", "choices is 5, outside the accepted range 1 to 3"),
        ("recover_within_huge", "25:18", "recover_within is 8.640e9s (about 274 years), longer than the limit"),
        ("rate_limit_huge_burst", "16:14", "burst is 1000000000, outside the accepted range 1 to 1000000"),
        ("shed_two_ways", "16:8", "`shed` takes one of `queue_length` or `queue_delay`"),
        ("lifo_after_without_order", "16:14", "`lifo_after` needs order = \"lifo_when_old\""),
        ("unknown_priority", "24:12", "unknown priority `urgent`"),
        ("rate_limit_store_not_a_cache", "16:14", "`store` must name a cache or store component, found a server"),
        ("store_timeout_huge", "16:14", "store_timeout is 172800s, outside the accepted range 1ns to 1 day"),
        ("hedge_max_huge", "31:32", "hedge max is 10, outside the accepted range 1 to 3"),
        ("hedge_unknown_percentile", "31:19", "use p50, p90, p95 or p99"),
        ("hedge_after_huge", "31:19", "hedge after is 7200s, outside 1ns to 60s"),
        ("hop_timeout_huge", "31:11", "hop timeout is 7200s, outside 1ns to 3600s"),
        ("hop_retry_attempts_huge", "31:22", "retry attempts is 50, outside the accepted range 1 to 10"),
        ("deadline_unknown", "29:12", "unknown deadline `propagated`"),
        ("gateway_auth_huge", "16:8", "auth takes 3600000s on average, longer than 10s"),
        ("gateway_unknown_policy", "17:10", "did you mean `least_connections`?"),
        ("gateway_choices_too_many", "18:11", "choices is 100, outside the accepted range 1 to 64"),
        ("gateway_two_calls", "41:8", "gateway `api` routes each request to one service, but this flow calls 2"),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_scenarios");
    let on_disk = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(on_disk, cases.len(), "every file in tests/bad_scenarios has a case here");
    for (name, at, needle) in cases {
        let path = format!("tests/bad_scenarios/{name}.toml");
        for command in ["validate", "run"] {
            let o = common::scalelab(&[command, &path]);
            let err = common::stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{command} {name}: {err}");
            assert!(err.contains(&format!("--> {path}:{at}\n")), "{name}: expected position {at} in\n{err}");
            assert!(err.contains(needle), "{name}: expected {needle:?} in\n{err}");
            assert!(!err.contains("panicked"), "{name}: {err}");
        }
        insta::assert_snapshot!(name, common::stderr(&common::scalelab(&["validate", &path])));
    }
}

/// A cache that calls nothing (`calls = ["cache"]` for `"cache>db"`) answers its misses
/// without reaching any store: `validate` says so, located, and still passes the file.
#[test]
fn a_cache_with_nothing_behind_it_is_a_warning_not_an_error() {
    let path = "tests/warn_scenarios/cache_with_nothing_behind.toml";
    let o = common::scalelab(&["validate", path]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(common::stdout(&o), "ok\n");
    assert!(err.contains(&format!("--> {path}:39:11\n")), "{err}");
    assert!(err.contains(r#"calls = ["cache>db"]"#), "{err}");
    insta::assert_snapshot!("cache_with_nothing_behind", err);
    // The fix silences it.
    let fixed = common::scratch("cache-fixed.toml");
    std::fs::write(
        &fixed,
        std::fs::read_to_string(path).unwrap().replace(r#"calls = ["cache"]"#, r#"calls = ["cache>db"]"#),
    )
    .unwrap();
    let o = common::scalelab(&["validate", fixed.to_str().unwrap()]);
    assert_eq!((common::stdout(&o), common::stderr(&o)), ("ok\n".to_string(), String::new()));
}

/// The component benchmarks' scenarios stay valid (CI builds the benches but does not run
/// them).
#[test]
fn benchmark_scenarios_validate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/components");
    let files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 5);
    for f in files {
        let o = common::scalelab(&["validate", f.to_str().unwrap()]);
        assert_eq!(common::stdout(&o), "ok\n", "{}: {}", f.display(), common::stderr(&o));
    }
}

/// Sends `signal` (a `kill` name such as "INT") to a running child.
fn signal(child: &std::process::Child, signal: &str) {
    let ok = std::process::Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
    assert!(ok.unwrap().success(), "kill -{signal}");
}

/// Issue #15: Ctrl-C during `run --trace` ends the trace on a whole line and exits 130
/// with a message (the file used to end mid-line, at whatever the buffer held).
#[test]
fn an_interrupted_run_ends_its_trace_on_a_whole_line_and_exits_130() {
    let trace = common::scratch("interrupted.jsonl");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(["run", "mm1", "--set", "customers=50000000", "--trace", trace.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the trace has its first megabytes: the run is under way.
    let started = std::time::Instant::now();
    while std::fs::metadata(&trace).map_or(0, |m| m.len()) < 4 << 20 {
        assert!(started.elapsed().as_secs() < 60, "the run never wrote its trace");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("stopped by SIGINT at"), "{}", common::stderr(&out));
    assert!(out.stdout.is_empty(), "no report for a run cut short");
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.ends_with('\n'), "the trace ends on a whole line");
    let last = text.lines().last().unwrap();
    let event: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(event["i"].as_u64().unwrap() + 1, text.lines().count() as u64, "every line is there");
    std::fs::remove_file(&trace).unwrap();
}
