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
