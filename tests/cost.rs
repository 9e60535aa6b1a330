//! The cost model reproduces the seed's monthly table for PixelCraft at 1M users, line by
//! line (issue #4): 10 web servers, 3 WebSocket servers, 5 workers, MongoDB Atlas M30,
//! PostgreSQL, Redis, S3 with 10 TB stored and 5 TB a month out, Cloudflare Pro, DNS,
//! Sentry: about $2,100.

use scenarios::{Overrides, Source};
use sim_core::Simulation;

const SEED_TABLE: &str = r#"
name = "cost-test"
title = "the seed's cost table"
[run]
duration = "1d"
[workload]
arrival = "poisson"
# 5 TB a month of 2 MB images: 5e12 / 2e6 / 2,592,000 s = 0.9645 downloads/s.
rate = 0.9645
[keyspaces.images]
count = 1000000
[[components]]
id = "web"
kind = "server"
count = 10
service = "20ms"
[[components]]
id = "ws"
kind = "websocket"
count = 3
adapter = "bus"
[[components]]
id = "bus"
kind = "pubsub"
subscribers = "ws"
[[components]]
id = "worker"
kind = "server"
count = 5
service = "2s"
[[components]]
id = "mongo"
kind = "database"
replicas = 2
monthly_cost = 600
[[components]]
id = "postgres"
kind = "database"
[[components]]
id = "redis"
kind = "cache"
capacity = 100000
[[components]]
id = "s3"
kind = "object_store"
stored = "10TB"
object_size = "2MB"
[[components]]
id = "cdn"
kind = "cdn"
hit_ratio = 0.95
regions = { global = {} }
[[links]]
between = ["clients", "s3"]
[[classes]]
name = "download"
path = ["s3"]
keyspace = "images"
[cost]
extra = { dns = 15, sentry = 26 }
"#;

#[test]
fn the_seed_cost_table_is_reproduced_line_by_line() {
    let source = Source { origin: "cost.toml".into(), text: SEED_TABLE.into() };
    let scenario = scenarios::parse(&source, &Overrides::default()).unwrap_or_else(|d| panic!("{d}"));
    let mut sim = Simulation::new(&scenario.model, 1);
    sim.run();
    let cost = sim.report(false).cost;
    let seed = [
        ("web", 200.0),
        ("ws", 120.0),
        ("worker", 100.0),
        ("mongo", 600.0),
        ("postgres", 200.0),
        ("redis", 150.0),
        ("s3", 230.0 + 450.0),
        ("cdn", 25.0),
        ("dns", 15.0),
        ("sentry", 26.0),
        ("bus", 0.0),
    ];
    for (line, want) in seed {
        let got = cost.by_component[line];
        assert!((got - want).abs() <= 0.1 * want + 1e-9, "{line}: ${got:.2} vs the seed's ${want}");
    }
    assert_eq!(cost.by_component.len(), seed.len());
    assert!((cost.total_usd_month - 2116.0).abs() < 0.1 * 2100.0, "total ${}", cost.total_usd_month);
    // The seed: 2,100 paying users at $1 or 210 at $10 to break even; 5x that to keep
    // infrastructure under 20% of revenue.
    assert!((cost.break_even_users.usd_1 - cost.total_usd_month.ceil()).abs() < 1.0);
    assert_eq!(cost.paying_users_needed.usd_10, (cost.total_usd_month / 2.0).ceil());
}
