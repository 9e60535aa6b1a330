//! `scalelab compare` and `scalelab sweep` through the binary: winners, noise, the knee,
//! and the JSON and CSV outputs parsing.

mod common;

fn row<'a>(json: &'a serde_json::Value, metric: &str) -> &'a serde_json::Value {
    json["rows"].as_array().unwrap().iter().find(|r| r["metric"] == metric).unwrap_or_else(|| panic!("no row {metric}"))
}

#[test]
fn the_scaled_pixelcraft_wins_on_latency_and_errors_and_the_small_one_on_cost() {
    let json: serde_json::Value =
        serde_json::from_str(&common::ok(&["compare", "pixelcraft-100-at-1m", "pixelcraft-1m", "--json"])).unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[0]["scenario"].as_str(), runs[1]["scenario"].as_str()),
        (Some("pixelcraft-100-at-1m"), Some("pixelcraft-1m"))
    );
    assert_eq!(runs[0]["seed"], runs[1]["seed"], "the same seed for both");
    // The 1M architecture holds the load: it serves more, faster, with no errors...
    for metric in ["throughput_rps", "p50_ms", "p95_ms", "p99_ms", "error_rate", "cache_hit_ratio"] {
        assert_eq!(row(&json, metric)["best"], 1, "{metric}: {}", row(&json, metric));
    }
    assert!(row(&json, "p99_ms")["values"][0].as_f64().unwrap() > 1000.0);
    assert!(row(&json, "error_rate")["values"][0].as_f64().unwrap() > 0.5);
    assert_eq!(row(&json, "error_rate")["values"][1].as_f64(), Some(0.0));
    // ...and costs more: $370 a month against about $2,100, as the seed document prices it.
    let cost = &row(&json, "cost_usd_month")["values"];
    assert_eq!(cost[0].as_f64(), Some(370.0));
    assert!((2000.0..2300.0).contains(&cost[1].as_f64().unwrap()), "{cost}");
    assert_eq!(row(&json, "cost_usd_month")["best"], 0);
    // Replication exists only in the scaled design; async replicas give it stale reads.
    let lag = &row(&json, "replication_lag_ms")["values"];
    assert!(lag[0].is_null() && lag[1].as_f64().unwrap() > 0.0, "{lag}");
    assert_eq!(row(&json, "replication_lag_ms")["best"], serde_json::Value::Null, "one value has nothing to beat");
    assert!(row(&json, "usd_per_million_served")["values"][1].as_f64().unwrap() > 0.5);
    assert_eq!(row(&json, "p99_ms")["significant"], serde_json::Value::Null, "one seed: untested");

    let text = common::ok(&["compare", "pixelcraft-100-at-1m", "pixelcraft-1m"]);
    let p99 = text.lines().find(|l| l.starts_with("p99 latency")).unwrap();
    assert!(p99.contains("★ 100.7") || p99.split("★").nth(1).is_some_and(|r| r.trim().starts_with('1')), "{text}");
    let cost = text.lines().find(|l| l.starts_with("cost ($/month)")).unwrap();
    assert!(cost.contains("★ 370.0"), "{text}");

    let csv = common::ok(&["compare", "pixelcraft-100-at-1m", "pixelcraft-1m", "--csv"]);
    let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(lines[0], ["metric", "better", "pixelcraft-100-at-1m", "pixelcraft-1m", "best", "significant"]);
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{csv}");
    let cost = lines.iter().find(|l| l[0] == "cost_usd_month").unwrap();
    assert_eq!((cost[1], cost[2], cost[4]), ("lower", "370", "pixelcraft-100-at-1m"));
    assert!(cost[3].parse::<f64>().is_ok());
}

#[test]
fn identical_scenarios_over_five_seeds_show_no_significant_difference() {
    let args = ["compare", "stage-03", "stage-03", "--seeds", "5", "--duration", "3m"];
    let json: serde_json::Value = serde_json::from_str(&common::ok(&[&args[..], &["--json"]].concat())).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 10);
    assert_eq!(json["seeds"], serde_json::json!([1, 2, 3, 4, 5]));
    for r in json["rows"].as_array().unwrap() {
        assert_ne!(r["significant"], true, "{r}");
        assert_eq!(r["best"], serde_json::Value::Null, "{r}");
    }
    assert!(row(&json, "p99_ms")["ci95"][0].as_f64().unwrap() > 0.0, "five seeds give an interval");
    let text = common::ok(&args);
    assert!(text.contains("no significant difference in any figure over 5 seeds"), "{text}");
    assert!(!text.lines().any(|l| l.contains('★') && !l.starts_with('★')), "no row has a winner: {text}");
}

#[test]
fn a_real_difference_over_seeds_is_significant_and_a_tiny_one_is_not() {
    // Four web servers against five at the same load: five are faster (p99 about 124 ms
    // against 128 ms) and cost more; throughput is the same offered load (within noise).
    let json: serde_json::Value = serde_json::from_str(&common::ok(&[
        "compare",
        "stage-03",
        "--vary",
        "web_servers=4,5",
        "--seeds",
        "5",
        "--duration",
        "4m",
        "--json",
    ]))
    .unwrap();
    assert_eq!(json["labels"], serde_json::json!(["web_servers=4", "web_servers=5"]));
    let p99 = row(&json, "p99_ms");
    assert_eq!((&p99["best"], &p99["significant"]), (&serde_json::json!(1), &serde_json::json!(true)), "{p99}");
    assert_eq!(row(&json, "cost_usd_month")["best"], 0);
    assert_eq!(row(&json, "throughput_rps")["significant"], false);
}

#[test]
fn compare_needs_two_scenarios_and_names_bad_settings() {
    let o = common::scalelab(&["compare", "stage-03"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--vary"));
    let o = common::scalelab(&["compare", "stage-03", "--vary", "lb.policy=round_robin,least_conn"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--set lb.policy=least_conn: unknown policy `least_conn`"), "{err}");
    let o = common::scalelab(&["compare", "stage-03", "--vary", "web_servers=1..100000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("at most 1000"));
}

#[test]
fn sweep_of_web_servers_shows_p99_falling_to_the_knee() {
    let text = common::ok(&["sweep", "stage-03", "--vary", "web_servers=1..8"]);
    let rows: Vec<(u32, f64)> = text
        .lines()
        .filter(|l| l.contains('%'))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?.parse().ok()?, f.next()?.replace(',', "").parse().ok()?))
        })
        .collect();
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7, 8], "{text}");
    // Three servers or fewer cannot carry 550 requests a second: p99 in seconds. From four
    // on, p99 is near 125 ms and keeps falling a little as servers are added.
    assert!(rows[..3].iter().all(|r| r.1 > 5000.0), "{text}");
    assert!(rows[3..].iter().all(|r| r.1 < 200.0), "{text}");
    assert!(rows[3..].windows(2).all(|w| w[1].1 <= w[0].1), "p99 falls: {text}");
    let knee = text.lines().find(|l| l.contains("◀ knee")).expect("a knee");
    assert!(knee.trim_start().starts_with("4 ") && knee.contains("p99_ms < 250"), "{text}");
    assert!(text.contains("▲"), "the plot marks the knee: {text}");

    let json: serde_json::Value =
        serde_json::from_str(&common::ok(&["sweep", "stage-03", "--vary", "web_servers=2..6:2", "--json"])).unwrap();
    assert_eq!(json["knee"], "4");
    assert_eq!(json["target"], "p99_ms < 250");
    assert_eq!(json["points"].as_array().unwrap().len(), 3);
    let csv = common::ok(&["sweep", "stage-03", "--vary", "web_servers=2..6:2", "--csv", "--target", "p99_ms < 100"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "web_servers,p99_ms,meets_target,error_rate,throughput_rps,p99_ms,cost_usd_month");
    assert_eq!(lines.len(), 4);
    assert!(lines[1..].iter().all(|l| l.split(',').nth(2) == Some("false")), "no count meets 100 ms: {csv}");
}

#[test]
fn sweep_refuses_an_unknown_metric_with_the_known_ones() {
    let o = common::scalelab(&["sweep", "stage-03", "--vary", "web_servers=1..2", "--metric", "p98_ms"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--metric p98_ms") && err.contains("p99_ms"), "{err}");
}

#[test]
fn parallel_and_serial_sweeps_agree() {
    let args = ["sweep", "stage-03", "--vary", "web_servers=3..5", "--duration", "2m", "--json"];
    let serial = common::ok(&[&args[..], &["--jobs", "1"]].concat());
    let parallel = common::ok(&[&args[..], &["--jobs", "3"]].concat());
    assert_eq!(serial, parallel);
}

/// Ctrl-C stops `sweep` and `compare` with exit status 130, as `run` and `chaos`: they
/// used to die of the signal, which a parent sees as no exit status at all.
#[test]
fn sweep_and_compare_exit_130_on_ctrl_c() {
    let commands: [&[&str]; 2] = [
        &["sweep", "stage-03", "--vary", "web_servers=1..64", "--jobs", "1"],
        &["compare", "pixelcraft-100-at-1m", "pixelcraft-1m", "--seeds", "20", "--jobs", "1"],
    ];
    for args in commands {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_scalelab"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Well inside the first runs: the command is under way, nowhere near done.
        std::thread::sleep(std::time::Duration::from_millis(700));
        let kill = std::process::Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
        assert!(kill.unwrap().success());
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(130), "{args:?}: {stderr}");
        assert!(stderr.contains("stopped by SIGINT"), "{args:?}: {stderr}");
    }
}

#[test]
fn sweep_with_two_varies_prints_a_map_of_rate_by_servers() {
    let args = ["sweep", "stage-03", "--vary", "rate=300,550", "--vary", "web_servers=3,5", "--duration", "3m"];
    let text = common::ok(&args);
    assert!(text.contains("p99_ms over rate (rows) x web_servers (columns)"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&common::ok(&[&args[..], &["--json"]].concat())).unwrap();
    assert_eq!(json["rows"]["key"], "rate");
    assert_eq!(json["columns"]["values"], serde_json::json!(["3", "5"]));
    let p99 = |r: usize, c: usize| json["grid"][r][c]["metric"].as_f64().expect("a p99");
    // Three servers carry 300 a second but not 550 (p99 in seconds); five carry both.
    assert!(p99(0, 0) < 1000.0 && p99(1, 0) > 5000.0, "{json}");
    assert!(p99(0, 1) < 250.0 && p99(1, 1) < 250.0, "{json}");
    assert!(p99(1, 1) >= p99(0, 1), "more load, no faster: {json}");
    // The text map is the same grid: the row for 550 reads seconds, then milliseconds.
    let row = text.lines().find(|l| l.starts_with("550")).expect("a row for rate 550");
    assert_eq!(row.split_whitespace().count(), 3, "{row}");
}

#[test]
fn sweep_map_of_recovery_marks_the_cells_that_stay_down() {
    let path = "tests/sweep/backlog-spike.toml";
    let args = ["sweep", path, "--vary", "rate=50,90", "--vary", "spike=1.5,3", "--map", "recovery"];
    let json: serde_json::Value = serde_json::from_str(&common::ok(&[&args[..], &["--json"]].concat())).unwrap();
    let cell = |r: usize, c: usize| &json["grid"][r][c];
    // At 50/s the spike to 75/s leaves no backlog; to 150/s a backlog of about 500 that
    // drains at 50/s, about 10 s. At 90/s the backlog drains at 10/s: still there at 60 s.
    assert_eq!(cell(0, 0)["recovered_after_s"], 0.0, "{json}");
    let after = cell(0, 1)["recovered_after_s"].as_f64().expect("recovered");
    assert!((5.0..=15.0).contains(&after), "{json}");
    for c in 0..2 {
        assert_eq!(cell(1, c)["recovered"], false, "{json}");
    }
    let text = common::ok(&args);
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("50 ") || l.starts_with("90 ")).collect();
    assert!(rows[0].contains("ok 0s") && rows[0].contains(&format!("ok {after:.0}s")), "{text}");
    assert_eq!(rows[1].matches("DOWN").count(), 2, "{text}");
    // A map needs two settings.
    let o = common::scalelab(&["sweep", path, "--vary", "rate=50,90", "--map", "recovery"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(common::stderr(&o).contains("give two --vary"), "{}", common::stderr(&o));
}

/// An expectation on the recovery figure makes `run` track it (and only then does the
/// report carry it): at 50/s the spike's backlog drains in about 10 s; at 90/s the run
/// ends degraded, the figure is null and the expectation fails with no value.
#[test]
fn an_expectation_on_recovery_makes_the_run_track_it() {
    let plain = common::report("tests/sweep/backlog-spike.toml", &[]);
    assert!(plain.get("recovery").is_none(), "not asked for: no figure");
    let text = std::fs::read_to_string("tests/sweep/backlog-spike.toml").unwrap().replacen(
        "\n\n[params.rate]",
        "\nexpect = [\"recovery.recovered_after_s in [5, 15]\", \"recovery.trigger_end_s == 30\"]\n\n[params.rate]",
        1,
    );
    let file = common::scratch("backlog-spike-expect.toml");
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();
    let at_50 = common::report(file, &[]);
    let after = at_50["recovery"]["recovered_after_s"].as_f64().expect("recovered");
    assert!((5.0..=15.0).contains(&after), "{}", at_50["recovery"]);
    assert!(at_50["expectations"].as_array().unwrap().iter().all(|v| v["passed"] == true), "{}", at_50["expectations"]);
    let o = common::scalelab(&["run", file, "--set", "rate=90"]);
    assert_eq!(o.status.code(), Some(3), "an expectation failed: {}", common::stdout(&o));
    let at_90 = common::report(file, &["--set", "rate=90"]);
    assert_eq!(at_90["recovery"]["recovered_after_s"], serde_json::Value::Null);
    assert_eq!(at_90["expectations"][0]["actual"], serde_json::Value::Null);
    assert_eq!(at_90["expectations"][0]["passed"], false);
}
