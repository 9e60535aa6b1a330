//! One vocabulary of figure names: every figure a component reports in any built-in's
//! report is a name `sim_core::report::figures::names` lists for its kind, which is what
//! expectations (`component.ID.KEY`) and sweeps accept; a name the vocabulary lists and no
//! report can carry would be a trap, so each kind's fully-populated figures say the same.

use serde_json::Value;
use sim_core::report::figures;
use std::collections::BTreeSet;

/// Keys of a component report that are not figures: its kind and its per-target counts.
const NOT_FIGURES: [&str; 2] = ["kind", "sent_to"];

fn is_listed(kind: &str, key: &str) -> bool {
    figures::is_figure(kind, key) || NOT_FIGURES.contains(&key)
}

#[test]
fn every_reported_figure_is_in_the_vocabulary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let report: Value = serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        for (name, c) in report["components"].as_object().unwrap() {
            let kind = c["kind"].as_str().unwrap();
            for key in c.as_object().unwrap().keys() {
                assert!(is_listed(kind, key), "{name} ({kind}) reports `{key}`, which the vocabulary lacks");
                seen.insert((kind.to_string(), key.clone()));
            }
        }
    }
    assert!(seen.len() > 80, "the built-ins report most figures: {}", seen.len());
}

#[test]
fn every_name_in_the_vocabulary_is_a_field_some_report_can_carry() {
    use sim_core::report::figures::*;
    let capacity = Capacity { throughput_rps: Some(1.0), capacity_rps: Some(1.0), hold_ms: Some(1.0) };
    let every = [
        Figures::Clients(ClientsFigures::default()),
        Figures::Server(ServerFigures {
            errors: Some(1),
            session_misses: Some(1),
            admission: Some(AdmissionFigures {
                limited: Some(1),
                admitted: Some(1),
                shed_queue_length: Some(1),
                shed_queue_delay: Some(1),
                lifo_taken: Some(1),
                store_failed_open: Some(1),
                store_failed_closed: Some(1),
            }),
            capacity: capacity.clone(),
            ..Default::default()
        }),
        Figures::LoadBalancer(LoadBalancerFigures {
            autoscaling: Some(AutoscaleFigures::default()),
            ..Default::default()
        }),
        // Its per-route `routed_SERVICE` are named by the scenario's services.
        Figures::Gateway(GatewayFigures {
            auth_ms_mean: Some(1.0),
            admission: Some(AdmissionFigures {
                limited: Some(1),
                admitted: Some(1),
                store_failed_open: Some(1),
                store_failed_closed: Some(1),
                ..Default::default()
            }),
            capacity: capacity.clone(),
            ..Default::default()
        }),
        Figures::Cache(CacheFigures { write_behind: Some(WriteBehindFigures::default()), ..Default::default() }),
        Figures::Database(DatabaseFigures {
            role_primary: Some(1),
            applied_lsn: Some(1),
            replication_lag_ms_mean: Some(1.0),
            replication_lag_ms_max: Some(1.0),
            keys_moved_adding_a_shard: Some(0.5),
            cluster: Some(ClusterFigures {
                failover_detected_s: Some(1.0),
                failover_promoted_s: Some(1.0),
                failover_dns_s: Some(1.0),
                ..Default::default()
            }),
            capacity,
            ..Default::default()
        }),
        Figures::Queue(QueueFigures::default()),
        Figures::Cdn(CdnFigures::default()),
        Figures::ObjectStore(ObjectStoreFigures::default()),
        Figures::WebSocket(WebSocketFigures::default()),
        Figures::PubSub(PubSubFigures::default()),
        Figures::Store(StoreFigures {
            divergent_keys_at_heal: Some(1),
            convergence_ms: Some(1.0),
            ..Default::default()
        }),
    ];
    for f in every {
        let kind = f.kind();
        let keys: BTreeSet<String> = serde_json::to_value(&f).unwrap().as_object().unwrap().keys().cloned().collect();
        let listed: BTreeSet<String> =
            figures::names(kind).iter().map(|s| s.to_string()).chain(["kind".into()]).collect();
        assert_eq!(keys, listed, "{kind}: the vocabulary and the report's fields differ");
    }
}

/// `recovery.KEY` expectations name exactly the recovery figure's numeric fields.
#[test]
fn the_recovery_names_are_the_recovery_figure_s_fields() {
    let r = sim_core::report::Recovery {
        trigger_end_s: 30.0,
        baseline_error_share: 0.0,
        baseline_p99_ms: 20.0,
        recovered_after_s: Some(1.0),
        degraded_s: 1.0,
    };
    let v = serde_json::to_value(&r).unwrap();
    for name in figures::RECOVERY_NAMES {
        assert!(v[name].is_f64(), "{name} in {v}");
    }
    let names: BTreeSet<&str> = figures::RECOVERY_NAMES.into_iter().collect();
    let baseline: BTreeSet<&str> =
        v.as_object().unwrap().keys().map(String::as_str).filter(|k| !k.starts_with("baseline_")).collect();
    assert_eq!(names, baseline, "every figure but the baseline's, which are the judge's inputs");
}
