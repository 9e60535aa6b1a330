//! Hostile input the parser must refuse with a located message rather than hand the
//! engine a run that cannot end or that silently means something else (issue #15).

use scenarios::{Overrides, Source};

const BASE: &str = r#"
name = "hostile"
title = "hostile"
[run]
duration = "10s"
[workload]
arrival = "poisson"
rate = 10
[[links]]
between = ["clients", "web"]
[[links]]
between = ["web", "cache"]
[[links]]
between = ["web", "db"]
[[classes]]
name = "p"
path = ["web"]
calls = ["cache>db"]
"#;

/// The diagnostics for the base scenario with `components` (TOML) and `set` overrides.
fn refused(components: &str, set: &[(&str, &str)]) -> String {
    let source = Source { origin: "hostile.toml".into(), text: format!("{BASE}\n{components}") };
    match scenarios::parse(&source, &Overrides::with_set(set)) {
        Ok(_) => panic!("accepted:\n{components}\n{set:?}"),
        Err(d) => d.to_string(),
    }
}

const WEB: &str = "[[components]]\nid = \"web\"\nkind = \"server\"\nservice = \"1ms\"\n";
const CACHE: &str = "[[components]]\nid = \"cache\"\nkind = \"cache\"\ncapacity = 10\n";
const DB: &str = "[[components]]\nid = \"db\"\nkind = \"database\"\n";

#[test]
fn timers_that_re_arm_at_one_instant_are_refused() {
    let cases = [
        (
            format!("{WEB}{}flush_interval = \"0s\"\nwrite_policy = \"write_behind\"\n{DB}", CACHE),
            "flush_interval is 0",
        ),
        (format!("{WEB}{CACHE}{DB}replicas = 1\nfailover = {{ heartbeat = \"0s\" }}\n"), "heartbeat is 0"),
        (
            format!(
                "[[components]]\nid = \"lb\"\nkind = \"load_balancer\"\nbackends = \"web\"\nhealth_check = {{ interval = \"1ns\" }}\n{WEB}{CACHE}{DB}"
            ),
            "interval is 1ns",
        ),
    ];
    for (components, what) in cases {
        let d = refused(&components, &[]);
        assert!(d.contains(what) && d.contains("shorter than 1ms"), "{what}: {d}");
        assert!(d.contains("hostile.toml:"), "located: {d}");
    }
}

#[test]
fn negative_delays_are_refused_in_files_and_in_set() {
    let d = refused(
        &format!("[[components]]\nid = \"web\"\nkind = \"server\"\nservice = \"exp(-20ms)\"\n{CACHE}{DB}"),
        &[],
    );
    assert!(d.contains("is negative"), "{d}");
    let d = refused(&format!("{WEB}{CACHE}{DB}"), &[("web.service", "exp(-5ms)")]);
    assert!(d.contains("--set web.service=exp(-5ms): service: `mean` is negative"), "{d}");
}

/// An error inside a `--set` value names the `--set`, not a blank line past the file's end
/// (the value's offset past its opening quote used to select the next override).
#[test]
fn an_error_inside_a_set_value_names_the_set() {
    let d = refused(&format!("{WEB}{CACHE}{DB}"), &[("web.count", "abc")]);
    assert!(d.contains("--set web.count=abc: unknown parameter `abc`"), "{d}");
    assert!(!d.contains("-->  hostile.toml:") && !d.contains("hostile.toml:4"), "no location in the file: {d}");
    let d = refused(&format!("{WEB}{CACHE}{DB}"), &[("web.workers", "2"), ("web.count", "2 * nope")]);
    assert!(d.contains("--set web.count=2 * nope: unknown parameter `nope`"), "{d}");
}

fn scenario(extra: &str, set: &[(&str, &str)]) -> Result<scenarios::Scenario, String> {
    let text = format!("{BASE}\n{WEB}{CACHE}{DB}{extra}");
    scenarios::parse(&Source { origin: "hostile.toml".into(), text }, &Overrides::with_set(set))
        .map_err(|d| d.to_string())
}

/// A default may name another parameter; setting that one moves it; a circle is one error.
#[test]
fn parameter_defaults_may_name_other_parameters() {
    let params = "[params.base]\ndefault = 5\n[params.peak]\ndefault = \"3 * base\"\n";
    let value = |s: &scenarios::Scenario, name: &str| s.params.iter().find(|p| p.name == name).unwrap().clone();
    let s = scenario(params, &[]).unwrap();
    assert_eq!((value(&s, "peak").value, value(&s, "peak").default), (15.0, 15.0));
    let s = scenario(params, &[("base", "10")]).unwrap();
    assert_eq!((value(&s, "peak").value, value(&s, "peak").default), (30.0, 15.0));
    let s = scenario(params, &[("peak", "7")]).unwrap();
    assert_eq!(value(&s, "peak").value, 7.0);
    // A broken default is reported even where --set replaces it.
    let broken = params.replace("3 * base", "3 * nope");
    let d = scenario(&broken, &[("peak", "7")]).unwrap_err();
    assert!(d.contains("unknown parameter `nope`"), "{d}");
    let circle = "[params.a]\ndefault = \"b / 2\"\n[params.b]\ndefault = \"2 * a\"\n";
    let d = scenario(&circle.replace("[params.a]", "[params.c]\ndefault = \"a\"\n[params.a]"), &[]).unwrap_err();
    assert!(d.contains("the defaults of `a`, `b`, `c` cannot be resolved: their names lead round in a circle"), "{d}");
    assert_eq!(d.matches("error:").count(), 1, "no cascade of unknown names: {d}");
}

/// Small holes of issue #15, each refused where it stands.
#[test]
fn nonsense_that_used_to_validate_is_refused() {
    let cases = [
        ("[[faults]]\nat = \"1s\"\npartition = [[], []]\n", "side 1 of the partition is empty"),
        ("[[faults]]\nat = \"1s\"\npartition = [[\"web\"], []]\n", "side 2 of the partition is empty"),
        ("[[faults]]\nat = \"20s\"\ncrash = \"web\"\n", "this fault at 20s is not before the run's end (10s)"),
    ];
    for (extra, what) in cases {
        let d = scenario(extra, &[]).unwrap_err();
        assert!(d.contains(what) && d.contains("hostile.toml:"), "{what}: {d}");
    }
    let with = |k: &str, v: &str| BASE.replacen(&format!("{k} = \"hostile\""), &format!("{k} = \"hostile\"\n{v}"), 1);
    for (text, what) in [
        (with("title", "expect = [\"mean_ms ~ nan +- 5%\"]"), "`nan` is not a finite number"),
        (with("title", "expect = [\"mean_ms < inf\"]"), "`inf` is not a finite number"),
        (
            BASE.replace("title = \"hostile\"", "title = \"\\u001b[2Jgone\""),
            "the title holds the control character U+001B",
        ),
        (
            BASE.replace("title = \"hostile\"", "title = \"t\"\nlesson = \"a\\u0007b\""),
            "the lesson holds the control character U+0007",
        ),
    ] {
        let text = format!("{text}\n{WEB}{CACHE}{DB}");
        let d = scenarios::parse(&Source { origin: "hostile.toml".into(), text }, &Overrides::default()).unwrap_err();
        assert!(d.to_string().contains(what), "{what}: {d}");
    }
    // Cut short by --duration, the fault is noted, not refused.
    let late = "[[faults]]\nat = \"20s\"\ncrash = \"web\"\n";
    let text = format!("{BASE}\n{WEB}{CACHE}{DB}{late}");
    let overrides = Overrides { duration: Some(sim_core::SimDuration::from_secs(5)), ..Overrides::default() };
    let s = scenarios::parse(&Source { origin: "hostile.toml".into(), text }, &overrides).unwrap();
    assert!(s.notes.iter().any(|n| n.contains("after the run's end (5s): it does not happen")), "{:?}", s.notes);
}

#[test]
fn a_websocket_adapter_is_a_pubsub() {
    let text = "name = \"ws\"\ntitle = \"ws\"\n[run]\nduration = \"10s\"\n[workload]\narrival = \"poisson\"\nrate = 10\n\
        [[components]]\nid = \"ws\"\nkind = \"websocket\"\nadapter = \"ws\"\n[[links]]\nbetween = [\"clients\", \"ws\"]\n\
        [[classes]]\nname = \"p\"\npath = [\"ws\"]\n";
    let d =
        scenarios::parse(&Source { origin: "ws.toml".into(), text: text.into() }, &Overrides::default()).unwrap_err();
    assert!(d.to_string().contains("`adapter` must name a pubsub component; `ws` is a websocket"), "{d}");
}

/// The request cap counts surges wherever they come from, and the memory budget bounds
/// what grows with the load; each refusal says what and how much.
#[test]
fn the_budget_counts_surge_faults_timeouts_and_histories() {
    let fast = |rate: &str| BASE.replace("rate = 10", &format!("rate = {rate}")).replace("\"10s\"", "\"1000s\"");
    let parse = |text: String| {
        scenarios::parse(
            &Source { origin: "b.toml".into(), text: format!("{text}\n{WEB}{CACHE}{DB}") },
            &Overrides::default(),
        )
    };
    let surge = format!("{}\n[[faults]]\nat = \"1s\"\nsurge = \"clients\"\nfactor = 20\n", fast("100_000"));
    let d = parse(surge).unwrap_err().to_string();
    assert!(d.contains("would issue about 1.998e9 requests (surges included)"), "{d}");
    // The same surge from a chaos schedule or the TUI's menu.
    let s = parse(fast("100_000")).unwrap();
    let f = scenarios::fault::Fault {
        at: sim_core::SimDuration::from_secs(1),
        lasting: None,
        kind: scenarios::fault::FaultKind::Surge { population: "clients".into(), factor: 20.0 },
    };
    let e = s.with_faults(&[f]).unwrap_err();
    assert!(e.message.contains("1.998e9 requests"), "{}", e.message);
    let timed = fast("5_000")
        .replace("1000s", "10s")
        .replace("rate = 5_000", "rate = 5_000_000")
        .replace("calls = [\"cache>db\"]", "calls = [\"cache>db\"]\ntimeout = \"10s\"");
    let d = parse(timed).unwrap_err().to_string();
    assert!(d.contains("GiB of memory, mostly for 1.500e8 timeouts pending at once; the budget is 2 GiB"), "{d}");
}

/// The limit on instances is checked before any is named, and points at the largest count.
#[test]
fn too_many_instances_are_refused_at_the_largest_count() {
    let extra: String =
        (0..4).map(|i| format!("[[components]]\nid = \"s{i}\"\nkind = \"server\"\ncount = {}\n", 3000 + i)).collect();
    let d = scenario(&extra, &[]).unwrap_err();
    assert!(d.contains("12010 instances in all; the limit is 10000 (`s3` alone has 3003)"), "{d}");
    assert!(d.contains("hostile.toml:"), "located: {d}");
}
