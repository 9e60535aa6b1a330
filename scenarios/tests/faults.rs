//! One fault type, two ways in: a fault lowered onto a parsed scenario (as chaos and the
//! TUI do) gives exactly the model that its `[[faults]]` table, appended to the file and
//! parsed (as a seed file's replay does), gives.

use proptest::prelude::*;
use scenarios::fault::{Fault, FaultKind};
use scenarios::{Overrides, Scenario, Source, builtin};
use sim_core::SimDuration;

fn parse(text: String) -> Scenario {
    let source = Source { origin: "faults.toml".into(), text };
    scenarios::parse(&source, &Overrides::default()).unwrap_or_else(|d| panic!("{d}"))
}

/// A fault of any kind over `instances` (never the users), `services` and the population.
fn fault(instances: Vec<String>, services: Vec<String>) -> impl Strategy<Value = Fault> {
    let instance = prop::sample::select(instances.clone());
    let component = prop::sample::select([instances, services].concat());
    let kind = prop_oneof![
        instance.clone().prop_map(FaultKind::Crash),
        instance.clone().prop_map(FaultKind::Restart),
        instance.clone().prop_map(FaultKind::Drain),
        (instance.clone(), 1u32..100)
            .prop_map(|(instance, f)| FaultKind::Slow { instance, factor: f64::from(f) / 4.0 }),
        (1u32..40).prop_map(|f| FaultKind::Surge { population: "clients".into(), factor: f64::from(f) / 10.0 }),
        (instance.clone(), 1u64..10_000)
            .prop_map(|(instance, ms)| FaultKind::Skew { instance, by: SimDuration::from_millis(ms) }),
        (instance.clone(), instance.clone(), 0u32..=100, any::<bool>(), any::<bool>()).prop_filter_map(
            "two ends",
            |(a, b, l, one_way, hold)| {
                (a != b).then(|| FaultKind::Flaky { ends: [a, b], loss: f64::from(l) / 100.0, one_way, hold })
            }
        ),
        (prop::collection::btree_set(component, 2..5), any::<bool>(), any::<bool>()).prop_filter_map(
            "disjoint sides",
            |(names, one_way, hold)| {
                let names: Vec<String> = names.into_iter().collect();
                let (a, b) = names.split_at(1);
                let sides = vec![a.to_vec(), b.to_vec()];
                Some(FaultKind::Partition { sides, one_way, hold })
            }
        ),
        Just(FaultKind::HealAll),
    ];
    let lasting = prop::option::of((1u64..120_000).prop_map(SimDuration::from_millis));
    // The run lasts 360 s: a few faults fall after its end, refused both ways.
    (1u64..400_000_000_000, kind, lasting).prop_map(|(at_ns, kind, lasting)| {
        let lasting = match kind {
            FaultKind::Crash(_) | FaultKind::Restart(_) | FaultKind::Drain(_) | FaultKind::HealAll => None,
            _ => lasting,
        };
        Fault { at: SimDuration(at_ns), kind, lasting }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_lowered_fault_and_its_table_give_the_same_model(faults in {
        let s = parse(builtin::get("cap-exercise").unwrap().to_string());
        let instances: Vec<String> = s.names.instances[s.names.closed.len()..].to_vec();
        let services: Vec<String> = s.names.services[s.names.closed.len()..].to_vec();
        prop::collection::vec(fault(instances, services), 1..6)
    }) {
        let text = builtin::get("cap-exercise").unwrap().to_string();
        let base = parse(text.clone());
        // A partition whose sides overlap is refused both ways, with the same message.
        match base.with_faults(&faults) {
            Ok(lowered) => {
                let tables: String = faults.iter().map(Fault::to_toml).collect();
                let parsed = parse(format!("{text}\n{tables}"));
                prop_assert_eq!(&lowered.model.faults, &parsed.model.faults);
                prop_assert_eq!(&lowered.model.partitions, &parsed.model.partitions);
            }
            Err(e) => {
                let tables: String = faults.iter().map(Fault::to_toml).collect();
                let source = Source { origin: "faults.toml".into(), text: format!("{text}\n{tables}") };
                let d = scenarios::parse(&source, &Overrides::default()).expect_err("refused both ways");
                prop_assert!(d.items.iter().any(|i| i.message == e.message), "{} vs {d}", e.message);
            }
        }
    }
}

/// Regression: a flaky link keeps `one_way` and `hold` (the first typed faults dropped them).
#[test]
fn a_one_way_flaky_link_stays_one_way() {
    let text = builtin::get("cap-exercise").unwrap();
    let s = parse(format!(
        "{text}\n[[faults]]\nat = \"1s\"\nflaky = [\"meta-1\", \"meta-2\"]\nloss = 0.2\none_way = true\nhold = true\nfor = \"5s\"\n"
    ));
    let cut = s.model.partitions.last().unwrap();
    assert!(cut.one_way && cut.hold, "{cut:?}");
    assert_eq!(cut.loss, 0.2);
}
