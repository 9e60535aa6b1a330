//! The monthly cost model. Each service costs its kind's unit price per instance (defaults
//! from the seeds' tables), unless the scenario sets the service's monthly cost outright
//! (a managed cluster priced as one, such as MongoDB Atlas M30 at $600). Object storage
//! is billed by volume: data at rest per TB-month and transfer out per GB, the transfer
//! extrapolated from the run's rate to a 30-day month. Fixed lines (DNS, error tracking)
//! are added as given.
//!
//! Revenue, the seeds' way: break-even paying users at $1 and $10 a month, and the users
//! needed for infrastructure to stay under 20% of revenue (the rule of thumb).

use serde::Serialize;
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
    /// per replica like a managed database.
    pub fn seed_defaults(service_count: usize) -> CostSpec {
        let unit_prices = [
            ("clients", 0.0),
            ("server", 20.0),
            ("load_balancer", 20.0),
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

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Users {
    pub usd_1: f64,
    pub usd_10: f64,
}

/// The cost section of the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CostReport {
    pub total_usd_month: f64,
    /// Per service and per extra line.
    pub by_component: BTreeMap<String, f64>,
    /// Total monthly cost over the month's requests at the run's request rate.
    pub usd_per_million_requests: f64,
    /// Paying users for infrastructure to be under 20% of revenue, at $1 and $10 a month.
    pub paying_users_needed: Users,
    /// Paying users to cover the infrastructure at all.
    pub break_even_users: Users,
}

impl CostReport {
    pub fn from_lines(by_component: BTreeMap<String, f64>, requests_per_second: f64) -> CostReport {
        let total: f64 = by_component.values().sum();
        let per_month = requests_per_second * MONTH_SECONDS / 1e6;
        CostReport {
            total_usd_month: total,
            by_component,
            usd_per_million_requests: if per_month > 0.0 { total / per_month } else { 0.0 },
            paying_users_needed: Users { usd_1: (total / 0.2).ceil(), usd_10: (total / 0.2 / 10.0).ceil() },
            break_even_users: Users { usd_1: total.ceil(), usd_10: (total / 10.0).ceil() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revenue_follows_the_seeds_rule_of_thumb() {
        let lines = [("web".to_string(), 2000.0), ("dns".to_string(), 100.0)].into_iter().collect();
        let c = CostReport::from_lines(lines, 1e6 / MONTH_SECONDS);
        assert_eq!(c.total_usd_month, 2100.0);
        assert_eq!(c.break_even_users, Users { usd_1: 2100.0, usd_10: 210.0 });
        assert_eq!(c.paying_users_needed, Users { usd_1: 10_500.0, usd_10: 1050.0 });
        assert!((c.usd_per_million_requests - 2100.0).abs() < 1e-6);
    }
}
