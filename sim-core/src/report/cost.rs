//! The monthly cost model. Each service costs its kind's unit price per instance (defaults
//! from the seeds' tables), unless the scenario sets the service's monthly cost outright
//! (a managed cluster priced as one, such as MongoDB Atlas M30 at $600). Object storage
//! is billed by volume: data at rest per TB-month and transfer out per GB, the transfer
//! extrapolated from the run's rate to a 30-day month. Fixed lines (DNS, error tracking)
//! are added as given.
//!
//! Revenue, the seeds' way: break-even paying users at $1 and $10 a month, and the users
//! needed for infrastructure to stay under 20% of revenue (the rule of thumb).

use crate::model::cost::MONTH_SECONDS;
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// Per service, the part of its line that paid for work whose caller had already given
    /// up (a retried call's abandoned attempt, a hedge's losing copy): the line times the
    /// wasted share of its busy time, the instances a fleet sized to its load needs for it.
    /// Absent when no caller retries or hedges.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub wasted_by_component: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasted_usd_month: Option<f64>,
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
            wasted_by_component: BTreeMap::new(),
            wasted_usd_month: None,
        }
    }

    /// Records `usd` of `service`'s line as paying for wasted work.
    pub fn add_wasted(&mut self, service: &str, usd: f64) {
        self.wasted_by_component.insert(service.to_string(), usd);
        *self.wasted_usd_month.get_or_insert(0.0) += usd;
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
