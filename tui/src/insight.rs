//! What the explanation engine says about the run so far, taken from a report built at
//! each whole simulated second: the bottleneck, the sentences, failures by where they
//! arose, and the consistency checker's verdict per data class. Building a report is too
//! dear for every frame and cheap once a simulated second.

use sim_core::SimTime;
use sim_core::report::Report;

#[derive(Clone, Debug, PartialEq)]
pub struct Wall {
    pub service: String,
    pub utilization: f64,
    pub evidence: String,
}

/// One data class's consistency so far.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsistencyRow {
    pub data: String,
    pub mode: String,
    pub store: String,
    pub operations: u64,
    pub availability: f64,
    pub stale_reads: u64,
    pub lost_writes: u64,
    pub duplicates: u64,
    pub unavailable_ms: f64,
    /// Keys that disagreed when a partition healed, and how long they took to agree.
    pub divergent_keys: Option<u64>,
    pub convergence_ms: Option<f64>,
    /// One example anomaly, in the checker's words.
    pub example: Option<String>,
}

/// Failures of one reason at one service, over every class.
#[derive(Clone, Debug, PartialEq)]
pub struct FailureRow {
    pub at: String,
    pub reason: String,
    pub detail: String,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Insight {
    pub as_of: SimTime,
    pub bottleneck: Option<Wall>,
    pub next_wall: Option<Wall>,
    pub sentences: Vec<String>,
    pub failures: Vec<FailureRow>,
    pub consistency: Vec<ConsistencyRow>,
    /// Requests lost or held at a cut so far, when the scenario has partitions.
    pub messages_lost: Option<u64>,
}

impl Insight {
    pub fn of(report: &Report, as_of: SimTime) -> Insight {
        let wall = |w: &sim_core::report::explain::Wall| Wall {
            service: w.service.clone(),
            utilization: w.utilization,
            evidence: w.evidence.clone(),
        };
        let mut failures: Vec<FailureRow> = Vec::new();
        for class in report.classes.values() {
            for f in &class.failures {
                match failures.iter_mut().find(|r| r.at == f.at && r.reason == f.reason && r.detail == f.detail) {
                    Some(r) => r.count += f.count,
                    None => failures.push(FailureRow {
                        at: f.at.clone(),
                        reason: f.reason.to_string(),
                        detail: f.detail.to_string(),
                        count: f.count,
                    }),
                }
            }
        }
        failures.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.at.cmp(&b.at)));
        let consistency = report
            .consistency
            .iter()
            .map(|(data, c)| ConsistencyRow {
                data: data.clone(),
                mode: c.mode.clone(),
                store: c.store.clone(),
                operations: c.verdict.operations,
                availability: c.verdict.availability,
                stale_reads: c.verdict.stale_reads,
                lost_writes: c.verdict.lost_writes,
                duplicates: c.verdict.duplicates,
                unavailable_ms: c.verdict.unavailable_ms,
                divergent_keys: c.divergent_keys,
                convergence_ms: c.convergence_ms,
                example: c.verdict.examples.first().map(|e| format!("{}: key {} {}", e.anomaly, e.key, e.detail)),
            })
            .collect();
        Insight {
            as_of,
            bottleneck: report.explain.bottleneck.as_ref().map(wall),
            next_wall: report.explain.next_wall.as_ref().map(wall),
            sentences: report.explain.what_happened.clone(),
            failures,
            consistency,
            messages_lost: report.network_faults.as_ref().map(|n| n.messages_lost),
        }
    }
}
