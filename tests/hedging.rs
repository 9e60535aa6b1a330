//! Hedged requests through the CLI (issue #18): the trade-off between the tail and the
//! load, measured on `tail-hedging`, whose two classes call the same heavy-tailed leaf, one
//! hedged after the p95 its caller measures and one not.

mod common;

/// A copy after p95 halves p99 and cuts p99.9 to under a third, for about 5% more calls
/// on the leaf; the run conserves requests and counts the losers' service as wasted.
#[test]
fn hedging_after_p95_halves_the_tail_for_about_five_percent_more_load() {
    let r = common::report("tail-hedging", &[]);
    let class = |name: &str, path: &str| {
        r["classes"][name].pointer(path).and_then(|v| v.as_f64()).unwrap_or_else(|| panic!("{name}{path}"))
    };
    for p in ["p99", "p999"] {
        let (plain, hedged) =
            (class("plain", &format!("/latency_ms/{p}")), class("hedged", &format!("/latency_ms/{p}")));
        assert!(hedged <= plain / 2.0, "{p}: hedged {hedged} ms against plain {plain} ms");
    }
    let p999 = class("hedged", "/latency_ms/p999") / class("plain", "/latency_ms/p999");
    assert!(p999 < 0.33, "p99.9 ratio {p999}");
    // The median is untouched: only calls slower than p95 get a copy.
    let p50 = class("hedged", "/latency_ms/p50") / class("plain", "/latency_ms/p50");
    assert!((p50 - 1.0).abs() < 0.05, "p50 ratio {p50}");
    let (calls, sent, won) =
        (class("hedged", "/hedge/calls"), class("hedged", "/hedge/sent"), class("hedged", "/hedge/won"));
    let load = class("hedged", "/hedge/extra_load");
    assert!((load - (calls + sent) / calls).abs() < 1e-9);
    assert!((1.03..=1.07).contains(&load), "extra load {load}");
    assert!(won <= sent && won > 0.7 * sent, "{won} of {sent} copies won");
    assert!(r["classes"]["plain"].get("hedge").is_none(), "a class that does not hedge reports nothing");
    for name in ["plain", "hedged"] {
        let n = |k: &str| class(name, &format!("/requests/{k}"));
        assert_eq!(n("generated"), n("completed") + n("failed") + n("in_flight"), "{name} conserves requests");
        assert_eq!(n("failed"), 0.0, "{name}");
    }
    let wasted: f64 = (1..=4).map(|i| r["components"][format!("leaf-{i}")]["wasted_s"].as_f64().unwrap()).sum();
    assert!(wasted > 10.0, "the losers' service is wasted: {wasted} s");
    assert_eq!(r["components"]["api"]["wasted_s"].as_f64(), Some(0.0), "api's calls are never abandoned");
}
