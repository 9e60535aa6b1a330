//! The headline figures `compare` ranks and `sweep` plots, read from a run's report, and
//! which direction is better for each.

use sim_core::Report;
use sim_core::model::cost::MONTH_SECONDS;
use sim_core::report::ComponentReport;
use sim_core::report::figures::Figures;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// One figure: its key (as in `--metric` and the JSON rows), its label, and how to read it.
pub struct Figure {
    pub key: &'static str,
    pub label: &'static str,
    pub better: Better,
    pub get: fn(&Report) -> Option<f64>,
}

/// Latency figures mean nothing when nothing completed after the warm-up.
fn served(r: &Report) -> Option<&Report> {
    (r.throughput_rps > 0.0).then_some(r)
}

/// The hit ratio over the components `of` picks (their ratio and the lookups it is
/// over), weighted by those lookups.
fn hit_ratio(r: &Report, of: fn(&Figures) -> Option<(f64, u64)>) -> Option<f64> {
    let (mut hits, mut total) = (0.0, 0.0);
    for (ratio, lookups) in r.components.values().filter_map(|c| of(&c.figures)) {
        hits += ratio * lookups as f64;
        total += lookups as f64;
    }
    (total > 0.0).then(|| hits / total)
}

pub const FIGURES: [Figure; 11] = [
    Figure {
        key: "throughput_rps",
        label: "throughput (req/s)",
        better: Better::Higher,
        get: |r| Some(r.throughput_rps),
    },
    Figure {
        key: "p50_ms",
        label: "p50 latency (ms)",
        better: Better::Lower,
        get: |r| served(r).map(|r| r.latency_ms.p50),
    },
    Figure {
        key: "p95_ms",
        label: "p95 latency (ms)",
        better: Better::Lower,
        get: |r| served(r).map(|r| r.latency_ms.p95),
    },
    Figure {
        key: "p99_ms",
        label: "p99 latency (ms)",
        better: Better::Lower,
        get: |r| served(r).map(|r| r.latency_ms.p99),
    },
    Figure { key: "error_rate", label: "error rate", better: Better::Lower, get: |r| Some(r.error_rate) },
    Figure {
        key: "cache_hit_ratio",
        label: "cache hit ratio",
        better: Better::Higher,
        get: |r| {
            hit_ratio(r, |f| if let Figures::Cache(c) = f { Some((c.hit_ratio, c.hits + c.misses)) } else { None })
        },
    },
    Figure {
        key: "cdn_hit_ratio",
        label: "CDN hit ratio",
        better: Better::Higher,
        get: |r| {
            hit_ratio(r, |f| match f {
                Figures::Cdn(c) => Some((c.hit_ratio, c.regions.0.iter().map(|region| region.requests).sum())),
                _ => None,
            })
        },
    },
    Figure {
        key: "replication_lag_ms",
        label: "replication lag (ms, worst replica)",
        better: Better::Lower,
        get: |r| {
            let lag = |c: &ComponentReport| match &c.figures {
                Figures::Database(d) => d.replication_lag_ms_mean,
                _ => None,
            };
            r.components.values().filter_map(lag).reduce(f64::max)
        },
    },
    Figure {
        key: "stale_reads",
        label: "stale reads",
        better: Better::Lower,
        get: |r| Some(r.classes.values().map(|c| c.stale_reads as f64).sum()),
    },
    Figure {
        key: "cost_usd_month",
        label: "cost ($/month)",
        better: Better::Lower,
        get: |r| Some(r.cost.total_usd_month),
    },
    Figure {
        key: "usd_per_million_served",
        label: "cost per million served ($)",
        better: Better::Lower,
        get: |r| served(r).map(|r| r.cost.total_usd_month / (r.throughput_rps * MONTH_SECONDS / 1e6)),
    },
];

pub fn find(key: &str) -> Option<&'static Figure> {
    FIGURES.iter().find(|f| f.key == key)
}
