//! What the scenario says things cost: unit prices per instance by kind, per-service
//! overrides, storage and transfer prices, fixed lines. `report::cost` turns it into a bill.

use std::collections::BTreeMap;

/// Seconds in the 30-day month that prices are quoted for.
pub const MONTH_SECONDS: f64 = 30.0 * 86_400.0;

#[derive(Clone, Debug, PartialEq)]
pub struct CostSpec {
    /// Per service (index = service id): the monthly cost the scenario set, if any.
    pub service_override: Vec<Option<f64>>,
    /// Unit price per instance per month, by kind.
    pub unit_prices: BTreeMap<String, f64>,
    pub storage_usd_per_tb_month: f64,
    pub transfer_usd_per_gb: f64,
    /// Fixed monthly lines: (name, USD).
    pub extras: Vec<(String, f64)>,
}

impl CostSpec {
    /// The seeds' prices: web server and worker $20, WebSocket server $40, PostgreSQL
    /// (RDS) $200, Redis (ElastiCache) $150, Cloudflare Pro $25, S3 $23/TB-month and
    /// $0.09/GB out. A load balancer (an Nginx box) and a queue host cost a server's $20;
    /// a pub/sub adapter rides on the Redis already paid for; a replicated store is priced
    /// per replica like a managed database. An API gateway instance is priced as the
    /// DigitalOcean droplet seed 004 runs Kong or Nginx on, $40 (4 GB, 2 vCPU): a gateway
    /// does TLS and authentication for every request, twice the $20 web server's box.
    pub fn seed_defaults(service_count: usize) -> CostSpec {
        let unit_prices = [
            ("clients", 0.0),
            ("server", 20.0),
            ("load_balancer", 20.0),
            ("gateway", 40.0),
            ("websocket", 40.0),
            ("cache", 150.0),
            ("database", 200.0),
            ("queue", 20.0),
            ("cdn", 25.0),
            ("object_store", 0.0),
            ("pubsub", 0.0),
            ("store", 200.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        CostSpec {
            service_override: vec![None; service_count],
            unit_prices,
            storage_usd_per_tb_month: 23.0,
            transfer_usd_per_gb: 0.09,
            extras: Vec::new(),
        }
    }
}
