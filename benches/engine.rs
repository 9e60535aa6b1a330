//! Engine speed on M/M/1 at rho 0.9, beside a minimal hand-written BinaryHeap loop of the
//! same model measured in the same run (issue #2, item 5). Both are compared in simulated
//! customers per wall-clock second, so that counting events differently flatters neither.
//!
//! Run: `cargo bench --bench engine`. Criterion's "thrpt" lines are customers/s.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;
use scenarios::{Overrides, Scenario};
use sim_core::Simulation;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::time::Duration;

const CUSTOMERS: &str = "200000";

fn scenario(name: &str, set: &[(&str, &str)]) -> Scenario {
    scenarios::load(name, &Overrides::with_set(set)).expect("valid built-in")
}

/// Runs the engine; returns (customers completed, events processed).
fn engine(s: &Scenario) -> (u64, u64) {
    let mut sim = Simulation::new(&s.model, 1);
    sim.run();
    let r = sim.report(false);
    (r.requests.completed, r.events)
}

/// The baseline: the same M/M/1 as plain code. Two event kinds in a std BinaryHeap keyed
/// by (time, seq), exponential draws from ChaCha8, a VecDeque of waiting arrival times.
fn hand_written(lambda: f64, mu: f64, end_ns: u64) -> (u64, f64) {
    const ARRIVAL: u8 = 0;
    const DEPARTURE: u8 = 1;
    let mut arrivals = ChaCha8Rng::seed_from_u64(1);
    let mut services = ChaCha8Rng::seed_from_u64(2);
    let draw = |rng: &mut ChaCha8Rng, rate: f64| {
        let e: f64 = rand::RngExt::sample(rng, Exp1);
        (e / rate * 1e9).round() as u64
    };
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<Reverse<(u64, u64, u8)>>, t: u64, kind: u8| {
        heap.push(Reverse((t, seq, kind)));
        seq += 1;
    };
    push(&mut heap, draw(&mut arrivals, lambda), ARRIVAL);
    let (mut waiting, mut busy_since_arrival) = (VecDeque::new(), None::<u64>);
    let (mut completed, mut latency_sum) = (0u64, 0f64);
    while let Some(Reverse((t, _, kind))) = heap.pop() {
        if t > end_ns {
            break;
        }
        if kind == ARRIVAL {
            push(&mut heap, t + draw(&mut arrivals, lambda), ARRIVAL);
            if busy_since_arrival.is_none() {
                busy_since_arrival = Some(t);
                push(&mut heap, t + draw(&mut services, mu), DEPARTURE);
            } else {
                waiting.push_back(t);
            }
        } else {
            completed += 1;
            latency_sum += (t - busy_since_arrival.expect("a departure has a customer")) as f64;
            busy_since_arrival = waiting.pop_front();
            if busy_since_arrival.is_some() {
                push(&mut heap, t + draw(&mut services, mu), DEPARTURE);
            }
        }
    }
    (completed, latency_sum / completed as f64)
}

fn mm1(c: &mut Criterion) {
    let s = scenario("mm1", &[("arrival_rate", "9"), ("service_rate", "10"), ("customers", CUSTOMERS)]);
    let end_ns = s.model.duration.as_nanos();
    let (engine_customers, engine_events) = engine(&s);
    let (base_customers, base_mean_ns) = hand_written(9.0, 10.0, end_ns);
    eprintln!(
        "mm1 rho 0.9: engine {engine_customers} customers, {engine_events} events ({:.1} events/customer); \
         baseline {base_customers} customers, mean {:.0} ms (theory 1000)",
        engine_events as f64 / engine_customers as f64,
        base_mean_ns / 1e6
    );
    let mut g = c.benchmark_group("mm1_rho0.9_customers");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(engine_customers));
    g.bench_function(BenchmarkId::new("engine", CUSTOMERS), |b| b.iter(|| black_box(engine(&s))));
    g.throughput(Throughput::Elements(base_customers));
    g.bench_function(BenchmarkId::new("hand_written_binaryheap", CUSTOMERS), |b| {
        b.iter(|| black_box(hand_written(9.0, 10.0, end_ns)))
    });
    g.finish();

    // The same engine run measured in events, for the events/s figure.
    let mut g = c.benchmark_group("mm1_rho0.9_events");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(engine_events));
    g.bench_function("engine", |b| b.iter(|| black_box(engine(&s))));
    g.finish();
}

fn mmc(c: &mut Criterion) {
    let s = scenario("mmc", &[("servers", "10"), ("utilization", "0.8"), ("customers", CUSTOMERS)]);
    let (customers, events) = engine(&s);
    let mut g = c.benchmark_group("mmc_c10_rho0.8");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(customers));
    g.bench_function("engine_customers", |b| b.iter(|| black_box(engine(&s))));
    g.throughput(Throughput::Elements(events));
    g.bench_function("engine_events", |b| b.iter(|| black_box(engine(&s))));
    g.finish();
}

/// The TUI's step back: 10 simulated seconds on pixelcraft-1m from 60 s in (issue #7: under
/// a second). Each iteration plays forward again untimed, then times the step back.
fn tui_step_back(c: &mut Criterion) {
    use tui::session::Session;
    let mut g = c.benchmark_group("tui_step_back");
    g.sample_size(10);
    g.bench_function("pixelcraft-1m_10s_at_60s", |b| {
        let mut session = Session::open("pixelcraft-1m", None).expect("built-in");
        let at_60s = sim_core::SimTime::ZERO + sim_core::SimDuration::from_secs(60);
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                session.run_until(at_60s, u64::MAX);
                let started = std::time::Instant::now();
                session.back_seconds(10);
                total += started.elapsed();
            }
            total
        });
    });
    g.finish();
}

criterion_group!(benches, mm1, mmc, tui_step_back);
criterion_main!(benches);
