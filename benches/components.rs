//! The hot paths of the main components, each in a small scenario under
//! `benches/components/` that exercises it and little else (a load balancer picking among
//! servers, an LRU cache under Zipf keys, async replication, a queue feeding workers, a
//! CDN edge), measured in events per wall-clock second (criterion's "thrpt").
//!
//! Run: `cargo bench --bench components`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scenarios::{Overrides, Scenario};
use sim_core::Simulation;
use std::hint::black_box;
use std::time::Duration;

fn cases() -> Vec<Scenario> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/components");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("benches/components").map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .map(|f| scenarios::load(f.to_str().unwrap(), &Overrides::default()).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn run(s: &Scenario) -> u64 {
    let mut sim = Simulation::new(&s.model, 1);
    sim.run();
    sim.report(false).events
}

fn components(c: &mut Criterion) {
    let mut g = c.benchmark_group("component_events");
    g.sample_size(10).measurement_time(Duration::from_secs(6));
    for s in cases() {
        let events = run(&s);
        g.throughput(Throughput::Elements(events));
        g.bench_function(s.name.clone(), |b| b.iter(|| black_box(run(&s))));
    }
    g.finish();
}

criterion_group!(benches, components);
criterion_main!(benches);
