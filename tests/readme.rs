//! The README's example scenario parses, runs and meets its own expectations, so the
//! documentation cannot drift from the format.

use scenarios::{Overrides, Source};
use sim_core::Simulation;

#[test]
fn the_readme_example_scenario_runs_and_meets_its_expectations() {
    let readme = include_str!("../README.md");
    let start = readme.find("```toml\nname = \"shop\"").expect("the example is in the README") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("the block closes");
    let source = Source { origin: "README.md".into(), text: readme[start..end].to_string() };
    let scenario = scenarios::parse(&source, &Overrides::default()).unwrap_or_else(|d| panic!("{d}"));
    let mut sim = Simulation::new(&scenario.model, scenario.seed);
    sim.run();
    let report = serde_json::to_value(sim.report(false)).unwrap();
    assert_eq!(scenario.expectations.len(), 7);
    for e in &scenario.expectations {
        let value = match &e.metric {
            scenarios::expect::Metric::Run(path) => path.iter().try_fold(&report, |v, k| v.get(k)),
            scenarios::expect::Metric::Class { class, path } => {
                path.iter().try_fold(&report["classes"][class], |v, k| v.get(k))
            }
            scenarios::expect::Metric::Component { id, key } => report["components"][id].get(key),
        };
        let x = value.and_then(|v| v.as_f64()).unwrap_or_else(|| panic!("{}: no value", e.text));
        assert!(e.check.holds(x), "{}: actual {x}", e.text);
    }
}

mod common;
use serde_json::Value;

/// A figure read from a report: a JSON pointer, or a few pointers combined.
fn at(report: &Value, pointer: &str) -> f64 {
    report.pointer(pointer).and_then(Value::as_f64).unwrap_or_else(|| panic!("no {pointer} in the report"))
}

/// One numeric claim the README makes about a built-in's `run` output: the text as the
/// README prints it, the value it states, how far the run may be from it, and the figure.
struct Claim {
    scenario: &'static str,
    text: &'static str,
    stated: f64,
    /// Relative: 0.05 is 5% of `stated`. The README's `~` figures get 5%, its ranges and
    /// bare round numbers the distance to the range's ends or their rounding, its tables
    /// printed to the unit half a unit (stated per claim below).
    tolerance: f64,
    figure: fn(&Value) -> f64,
}

const fn claim(
    scenario: &'static str,
    text: &'static str,
    stated: f64,
    tolerance: f64,
    figure: fn(&Value) -> f64,
) -> Claim {
    Claim { scenario, text, stated, tolerance, figure }
}

/// Share of a sharded service's reads on its busiest shard.
fn hot_share(r: &Value, shards: &[&str]) -> f64 {
    let reads: Vec<f64> = shards.iter().map(|s| at(r, &format!("/components/{s}/reads"))).collect();
    reads.iter().cloned().fold(0.0, f64::max) / reads.iter().sum::<f64>()
}

/// Every figure the README states about what a built-in's `run` prints (p99s, error rates,
/// hit ratios, utilizations, counts, the bill; not wall-clock speeds, which depend on the
/// machine), checked against a run of that built-in at its own seed. The README's text for
/// each is quoted, so an edit to either fails here until both agree. Not checked here:
/// `scale-lab-100m` (15 s and 0.5 GiB a run; BENCHMARKS.md measures it), the chaos and
/// sweep tables (other commands; `tests/chaos.rs` and `tests/compare.rs`), and the
/// component-model table (tests/components.rs's own scenarios, not built-ins).
#[test]
fn the_readme_figures_are_what_the_built_ins_print() {
    let readme = include_str!("../README.md");
    let claims = [
        claim("pixelcraft-100", "the event loop is 7% busy", 0.07, 0.1, |r| at(r, "/components/web/utilization")),
        claim("pixelcraft-100-at-1m", "78% of requests fail", 0.78, 0.01, |r| at(r, "/error_rate")),
        claim("pixelcraft-100-at-1m", "p99 3.6 s", 3600.0, 0.02, |r| at(r, "/latency_ms/p99")),
        claim("pixelcraft-100-at-1m", "1,000 WebSockets max", 1000.0, 0.0, |r| {
            at(r, "/components/ws/connections_peak")
        }),
        claim("pixelcraft-1m", "its API calls at p99 ~33 ms", 33.0, 0.05, |r| {
            at(r, "/classes/analytics_event/latency_ms/p99")
        }),
        claim("pixelcraft-1m", "its API calls at p99 ~33 ms", 33.0, 0.05, |r| at(r, "/classes/feed/latency_ms/p99")),
        claim("pixelcraft-1m", "its API calls at p99 ~33 ms", 33.0, 0.05, |r| {
            at(r, "/classes/view_image/latency_ms/p99")
        }),
        claim("pixelcraft-1m", "all requests at p99 ~101 ms", 101.0, 0.05, |r| at(r, "/latency_ms/p99")),
        claim("pixelcraft-1m", "for $2,132/month", 2132.0, 0.001, |r| at(r, "/cost/total_usd_month")),
        claim("stage-01", "tops out at ~45 req/s", 45.0, 0.05, |r| at(r, "/components/box/capacity_rps")),
        claim("stage-01", "it is 72% busy", 0.72, 0.01, |r| at(r, "/components/box/utilization")),
        claim("stage-02", "web ~158 req/s", 158.0, 0.05, |r| at(r, "/components/web/capacity_rps")),
        claim("stage-02", "database ~900 queries/s", 900.0, 0.05, |r| at(r, "/components/db/capacity_rps")),
        claim("stage-03", "five web servers of ~165 req/s each", 165.0, 0.05, |r| {
            at(r, "/components/web-3/capacity_rps")
        }),
        claim("stage-03", "the one database is 74% busy", 0.74, 0.01, |r| at(r, "/components/db/utilization")),
        claim("stage-04", "master ~3,200 writes/s", 3200.0, 0.05, |r| at(r, "/components/db-1/capacity_rps")),
        claim("stage-04", "replicas ~5,700 reads/s each", 5700.0, 0.05, |r| at(r, "/components/db-2/capacity_rps")),
        // 75-80%: each of the three cache nodes within the range, to the whole percent.
        claim("stage-05", "answers 75-80% of reads", 0.775, 0.033, |r| at(r, "/components/redis-1/hit_ratio")),
        claim("stage-05", "answers 75-80% of reads", 0.775, 0.033, |r| at(r, "/components/redis-2/hit_ratio")),
        claim("stage-05", "answers 75-80% of reads", 0.775, 0.033, |r| at(r, "/components/redis-3/hit_ratio")),
        claim("stage-05", "still wait ~180 ms for static files", 180.0, 0.05, |r| {
            at(r, "/classes/static_abroad/latency_ms/p50")
        }),
        claim("stage-06", "edges answer 88% of asset requests", 0.88, 0.01, |r| at(r, "/components/cdn/hit_ratio")),
        claim("stage-06", "in ~22 ms instead of ~190 ms", 22.0, 0.05, |r| {
            at(r, "/classes/asset_via_cdn/latency_ms/p50")
        }),
        claim("stage-06", "in ~22 ms instead of ~190 ms", 190.0, 0.05, |r| {
            at(r, "/classes/asset_from_origin/latency_ms/p50")
        }),
        claim("stage-06", "the write master, 78% busy", 0.78, 0.01, |r| at(r, "/components/db-1/utilization")),
        claim("stage-07", "four hash shards of ~10K writes/s each", 10_000.0, 0.05, |r| {
            at(r, "/components/db-3/capacity_rps")
        }),
        claim("stage-07", "fails exactly 25% of writes", 0.25, 0.01, |r| at(r, "/classes/write/error_rate")),
        claim("stage-08", "p99 61 ms against 2.1 s inline", 61.0, 0.02, |r| {
            at(r, "/classes/signup_queued/latency_ms/p99")
        }),
        claim("stage-08", "p99 61 ms against 2.1 s inline", 2100.0, 0.03, |r| {
            at(r, "/classes/signup_inline/latency_ms/p99")
        }),
        claim("stage-09", "(browse p99 9 s)", 9000.0, 0.06, |r| at(r, "/classes/browse_monolith/latency_ms/p99")),
        claim("stage-09", "add ~23 ms a hop", 23.0, 0.05, |r| {
            at(r, "/classes/browse_services/latency_ms/p50") - at(r, "/classes/browse_monolith/latency_ms/p50")
        }),
        claim("stage-10", "(5K req/s,", 5000.0, 0.01, |r| at(r, "/throughput_rps")),
        claim("stage-10", "0.5% errors", 0.005, 0.1, |r| at(r, "/error_rate")),
        claim("stage-10", "p50/p95/p99 57/161/505 ms", 57.0, 0.01, |r| at(r, "/latency_ms/p50")),
        claim("stage-10", "p50/p95/p99 57/161/505 ms", 161.0, 0.01, |r| at(r, "/latency_ms/p95")),
        claim("stage-10", "p50/p95/p99 57/161/505 ms", 505.0, 0.01, |r| at(r, "/latency_ms/p99")),
        claim("stage-11", "lags a tripled load by minutes (p99 8 s)", 8000.0, 0.06, |r| {
            at(r, "/classes/reactive/latency_ms/p99")
        }),
        claim("stage-12", "pages in ~20/15 ms instead of ~145/195 ms", 20.0, 0.05, |r| {
            at(r, "/classes/us_multi/latency_ms/p50")
        }),
        claim("stage-12", "pages in ~20/15 ms instead of ~145/195 ms", 15.0, 0.05, |r| {
            at(r, "/classes/eu_multi/latency_ms/p50")
        }),
        claim("stage-12", "pages in ~20/15 ms instead of ~145/195 ms", 145.0, 0.05, |r| {
            at(r, "/classes/us_single/latency_ms/p50")
        }),
        claim("stage-12", "pages in ~20/15 ms instead of ~145/195 ms", 195.0, 0.05, |r| {
            at(r, "/classes/eu_single/latency_ms/p50")
        }),
        claim("cap-weak-quorum", "the checker finds ~1,000 stale reads", 1000.0, 0.05, |r| {
            at(r, "/consistency/images/stale_reads")
        }),
        claim("cap-metadata-ap", "loses acknowledged edits (48)", 48.0, 0.0, |r| {
            at(r, "/consistency/images/lost_writes")
        }),
        claim("failover-async", "the checker finds ~48 acknowledged orders lost", 48.0, 0.05, |r| {
            at(r, "/consistency/orders/lost_writes")
        }),
        claim("lb-algorithms", "round robin's p99 is 340 ms", 340.0, 0.01, |r| {
            at(r, "/classes/round_robin/latency_ms/p99")
        }),
        claim("lb-algorithms", "keep it at ~208 and ~227 ms", 208.0, 0.05, |r| {
            at(r, "/classes/least_connections/latency_ms/p99")
        }),
        claim("lb-algorithms", "keep it at ~208 and ~227 ms", 227.0, 0.05, |r| {
            at(r, "/classes/two_choices/latency_ms/p99")
        }),
        claim("retry-storm", "3.1 calls per request", 3.1, 0.02, |r| at(r, "/classes/view/retry/amplification")),
        claim("retry-storm", "80% of web's work wasted", 0.8, 0.02, |r| at(r, "/components/web/wasted_share")),
        claim("retry-storm-budget", "about 11,000 retries refused", 11000.0, 0.01, |r| {
            at(r, "/classes/view/retry/refused_by_budget")
        }),
        claim("retry-storm-budget", "1.02 calls per request", 1.02, 0.005, |r| {
            at(r, "/classes/view/retry/amplification")
        }),
        claim("tail-hedging", "p99.9 80 ms against 355 ms", 80.0, 0.05, |r| at(r, "/classes/hedged/latency_ms/p999")),
        claim("tail-hedging", "p99 52 ms against 110 ms", 110.0, 0.05, |r| at(r, "/classes/plain/latency_ms/p99")),
        claim("tail-hedging", "1.046 calls per call", 1.046, 0.005, |r| at(r, "/classes/hedged/hedge/extra_load")),
        claim("thundering-herd", "sends ~50 queries per expiry to the database", 50.0, 0.05, |r| {
            at(r, "/components/cache-herd/fetches") / at(r, "/components/cache-guarded/fetches")
        }),
        claim("slow-dependency", "35% of carts fail", 0.35, 0.05, |r| at(r, "/classes/cart/error_rate")),
        claim("slow-dependency-breaker", "12,212 home-page calls fail fast", 12212.0, 0.0, |r| {
            at(r, "/classes/home/failed_by_reason/circuit_open")
        }),
        claim("slow-dependency-breaker", "carts fail 0.1%", 0.001, 0.5, |r| at(r, "/classes/cart/error_rate")),
        claim("hot-shard", "puts 89% of reads on one shard", 0.89, 0.01, |r| {
            hot_share(r, &["range-1", "range-2", "range-3", "range-4"])
        }),
        claim("reshard-mod-vs-consistent", "moves 80% of keys under mod N", 0.80, 0.01, |r| {
            at(r, "/components/mod-1/keys_moved_adding_a_shard")
        }),
        claim("reshard-mod-vs-consistent", "20% on a consistent-hash ring", 0.20, 0.05, |r| {
            at(r, "/components/ring-1/keys_moved_adding_a_shard")
        }),
        // The cap-exercise table, printed to the unit: equal.
        claim("cap-exercise", "cursors       17,819   100.00       0     360", 360.0, 0.0, |r| {
            at(r, "/consistency/cursors/stale_reads")
        }),
        claim("cap-exercise", "images        25,332    83.09   4,283", 4283.0, 0.0, |r| {
            at(r, "/consistency/images/failed")
        }),
        claim("cap-exercise", "page_views    28,732   100.00       0   1,933", 1933.0, 0.0, |r| {
            at(r, "/consistency/page_views/stale_reads")
        }),
        // The compare example (pixelcraft-100-at-1m against pixelcraft-1m, seed 1), to the
        // printed digits.
        claim(
            "pixelcraft-100-at-1m",
            "p99 latency (ms)                     lower                 3600.8",
            3600.8,
            0.0001,
            |r| at(r, "/latency_ms/p99"),
        ),
        claim("pixelcraft-1m", "★ 100.7  0.028x  untested", 100.7, 0.001, |r| at(r, "/latency_ms/p99")),
        claim("pixelcraft-1m", "★ 798.5   4.50x  untested", 798.5, 0.0001, |r| at(r, "/throughput_rps")),
        claim(
            "pixelcraft-100-at-1m",
            "error rate                           lower                 77.76%",
            0.7776,
            0.0001,
            |r| at(r, "/error_rate"),
        ),
    ];
    let mut reports: std::collections::BTreeMap<&str, Value> = std::collections::BTreeMap::new();
    let mut wrong = Vec::new();
    for c in &claims {
        assert!(readme.contains(c.text), "README.md no longer says {:?} (about {})", c.text, c.scenario);
        let report = reports.entry(c.scenario).or_insert_with(|| common::report(c.scenario, &["--no-check"]));
        let actual = (c.figure)(report);
        if (actual - c.stated).abs() > c.tolerance * c.stated.abs() + 1e-12 {
            wrong.push(format!("{}: README says {:?} ({}), the run prints {actual}", c.scenario, c.text, c.stated));
        }
    }
    assert!(wrong.is_empty(), "README figures that differ from the runs:\n{}", wrong.join("\n"));
}

/// The Mermaid diagram pasted in the README is what the command it names prints today.
#[test]
fn the_readme_diagram_is_what_scalelab_diagram_prints() {
    let readme = include_str!("../README.md");
    let heading = "as drawn by `scalelab diagram pixelcraft-1m`";
    let after = &readme[readme.find(heading).expect("the README shows pixelcraft-1m's diagram")..];
    let start = after.find("```mermaid\n").expect("a mermaid block under the heading") + "```mermaid\n".len();
    let end = start + after[start..].find("```\n").expect("the block ends");
    assert_eq!(
        &after[start..end],
        common::ok(&["diagram", "pixelcraft-1m"]),
        "README.md's diagram is stale: paste `scalelab diagram pixelcraft-1m` again"
    );
}
