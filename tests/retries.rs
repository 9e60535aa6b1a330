//! Retries through the CLI: the metastable retry storm and its budgeted twin over time, a
//! retried write applied twice and seen twice by the consistency checker, wasted work
//! counted only when callers give up.

mod common;

/// (goodput share, in-flight at the end) of the seconds from `from_s` on, from the series.
fn goodput_from(r: &serde_json::Value, from_s: f64) -> f64 {
    let late: Vec<&serde_json::Value> =
        r["series"].as_array().unwrap().iter().filter(|p| p["t_s"].as_f64().unwrap() >= from_s).collect();
    let sum = |k: &str| late.iter().map(|p| p[k].as_f64().unwrap()).sum::<f64>();
    sum("completed") / sum("generated")
}

/// Issue #18: the trigger (web 3x slower from 30 s to 40 s) ends, the plain clients'
/// retries keep web saturated with work for callers who gave up, and nothing succeeds to
/// the end; with a 10% budget the same run serves everything again from 50 s.
#[test]
fn a_retry_storm_outlives_its_trigger_and_a_retry_budget_ends_it() {
    let plain = common::report("retry-storm", &["--series"]);
    let budget = common::report("retry-storm-budget", &["--series"]);
    assert!(goodput_from(&plain, 0.0) > 0.2, "it served before the trigger");
    let (p, b) = (goodput_from(&plain, 50.0), goodput_from(&budget, 50.0));
    assert!(p < 0.01, "the plain run stays down after the trigger: goodput {p}");
    assert!(b > 0.99, "the budgeted run has recovered: goodput {b}");
    let before = goodput_from(&budget, 10.0) - goodput_from(&budget, 30.0);
    assert!(before.abs() < 0.3, "{before}");
    let wasted = |r: &serde_json::Value| r["components"]["web"]["wasted_share"].as_f64().unwrap();
    assert!(wasted(&plain) > 0.6 && wasted(&budget) < 0.35, "{} vs {}", wasted(&plain), wasted(&budget));
    let amp = |r: &serde_json::Value| r["classes"]["view"]["retry"]["amplification"].as_f64().unwrap();
    assert!(amp(&plain) > 2.5 && amp(&budget) < 1.1, "{} vs {}", amp(&plain), amp(&budget));
    // A retried request is one user request: both runs generated the same load.
    let generated = |r: &serde_json::Value| r["requests"]["generated"].as_f64().unwrap();
    assert!((generated(&plain) / generated(&budget) - 1.0).abs() < 0.01);
    // The explanation names the cure for the storm (a budget), not more instances alone,
    // and says nothing of the kind once a budget holds the retries.
    let advice = |r: &serde_json::Value| r["explain"]["what_happened"].to_string().contains("A retry budget");
    assert!(advice(&plain) && !advice(&budget));
}

/// A write whose caller timed out had often been applied: its retry applies it again. The
/// checker's history holds every attempt (one operation each), and the database applied
/// more writes than users asked for.
#[test]
fn a_retried_write_applies_twice_and_the_history_holds_both() {
    let r = common::report("tests/retries/retried-writes.toml", &[]);
    let class = &r["classes"]["save"];
    let attempts = class["retry"]["attempts"].as_u64().unwrap();
    let retries = class["retry"]["retries"].as_u64().unwrap();
    let generated = class["requests"]["generated"].as_u64().unwrap();
    assert!(retries > 500, "{retries} retries");
    assert_eq!(attempts, generated + retries);
    assert_eq!(r["consistency"]["orders"]["operations"].as_u64().unwrap(), attempts);
    let applied = r["components"]["db"]["writes"].as_f64().unwrap() as u64;
    assert!(applied > generated + retries / 2, "{applied} writes applied for {generated} requests");
}

/// Work is wasted only when a caller has given up: retries of errors (answered at once)
/// waste nothing, retries after timeouts do.
#[test]
fn wasted_work_is_counted_only_for_callers_that_gave_up() {
    let errors = common::report("tests/retries/retried-errors.toml", &[]);
    assert_eq!(errors["components"]["api"]["wasted_s"].as_f64(), Some(0.0));
    assert!(errors["classes"]["call"]["retry"]["retries"].as_u64().unwrap() > 1000);
    let timeouts = common::report("tests/retries/retried-errors.toml", &["--set", "api.service=exp(20ms)"]);
    let w = timeouts["components"]["api"]["wasted_s"].as_f64().unwrap();
    assert!(w > 1.0, "{w} s wasted");
    // Without a retry policy the figure is absent (the report is unchanged).
    let mm1 = common::report("mm1", &[]);
    assert!(mm1["components"]["server"].get("wasted_s").is_none());
}
