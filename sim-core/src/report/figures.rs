//! What each kind of component reports, one typed struct a kind. The serialized field
//! names are the report's public interface (README.md, expectations' `component.ID.KEY`):
//! a figure that does not apply to an instance is left out, not written as zero.

use serde::Serialize;
use std::collections::BTreeMap;

/// The kind-specific figures of one instance, tagged by its kind in the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind")]
pub enum Figures {
    #[serde(rename = "clients")]
    Clients(ClientsFigures),
    #[serde(rename = "server")]
    Server(ServerFigures),
    #[serde(rename = "load_balancer")]
    LoadBalancer(LoadBalancerFigures),
    #[serde(rename = "gateway")]
    Gateway(GatewayFigures),
    #[serde(rename = "cache")]
    Cache(CacheFigures),
    #[serde(rename = "database")]
    Database(DatabaseFigures),
    #[serde(rename = "queue")]
    Queue(QueueFigures),
    #[serde(rename = "cdn")]
    Cdn(CdnFigures),
    #[serde(rename = "object_store")]
    ObjectStore(ObjectStoreFigures),
    #[serde(rename = "websocket")]
    WebSocket(WebSocketFigures),
    #[serde(rename = "pubsub")]
    PubSub(PubSubFigures),
    #[serde(rename = "store")]
    Store(StoreFigures),
}

/// Figures every kind may report (`crashes` and `refused_while_down` once it has crashed,
/// `breaker_*` when it calls through circuit breakers, `wasted_*` when some caller retries).
pub const COMMON_NAMES: [&str; 10] = [
    "utilization",
    "queue_mean",
    "queue_max",
    "crashes",
    "refused_while_down",
    "breaker_opened",
    "breaker_open_s",
    "breaker_failed_fast",
    "wasted_s",
    "wasted_share",
];

/// The figure names a kind reports, as the JSON report and expectations' `component.ID.KEY`
/// spell them: the one vocabulary (a test holds it to what the reports contain). A CDN
/// adds `hit_ratio_REGION` and `requests_REGION` per region.
pub fn names(kind: &str) -> &'static [&'static str] {
    const CAPACITY: [&str; 3] = ["throughput_rps", "capacity_rps", "hold_ms"];
    match kind {
        "clients" => &["issued", "users"],
        "server" => &[
            "workers",
            "busy_mean",
            "served",
            "rejected",
            "errors",
            "session_misses",
            "limited",
            "admitted",
            "shed_queue_length",
            "shed_queue_delay",
            "lifo_taken",
            "store_failed_open",
            "store_failed_closed",
            CAPACITY[0],
            CAPACITY[1],
            CAPACITY[2],
        ],
        "load_balancer" => &[
            "rejected",
            "unavailable",
            "marked_down",
            "marked_up",
            "backends_up",
            "backends_in_service_mean",
            "backends_in_service",
            "scale_outs",
            "scale_ins",
        ],
        "gateway" => &[
            "workers",
            "busy_mean",
            "served",
            "rejected",
            "auth_ms_mean",
            "limited",
            "admitted",
            "store_failed_open",
            "store_failed_closed",
            CAPACITY[0],
            CAPACITY[1],
            CAPACITY[2],
        ],
        "cache" => {
            &["hit_ratio", "hits", "misses", "fetches", "coalesced", "evictions", "entries", "flushed", "dirty_lost"]
        }
        "database" => &[
            "reads",
            "writes",
            "rejected",
            "read_your_writes_redirects",
            "role_primary",
            "applied_lsn",
            "replication_lag_ms_mean",
            "replication_lag_ms_max",
            "keys_moved_adding_a_shard",
            "lost_writes",
            "failovers",
            "failover_detected_s",
            "failover_promoted_s",
            "failover_dns_s",
            CAPACITY[0],
            CAPACITY[1],
            CAPACITY[2],
        ],
        "queue" => &[
            "enqueued",
            "processed",
            "throughput_jobs_per_s",
            "retries",
            "redelivered",
            "dead_letters",
            "rejected",
            "oldest_wait_max_s",
            "job_latency_p50_ms",
            "job_latency_p99_ms",
            "active_consumers_mean",
            "dead_letter_age_p50_ms",
        ],
        "cdn" => &["hit_ratio", "origin_fetches", "origin_offload"],
        "object_store" => &["gets", "puts", "objects", "bytes_stored", "bytes_transferred_out", "bytes_transferred_in"],
        "websocket" => &["connections", "connections_peak", "accepted", "refused", "updates_published", "deliveries"],
        "pubsub" => &["relayed"],
        "store" => &["writes", "reads", "unavailable", "divergent_keys_at_heal", "convergence_ms"],
        _ => &[],
    }
}

/// The recovery figure's names (`report::Recovery`), as expectations spell them after
/// `recovery.`: naming one makes `scalelab run` track the figure.
pub const RECOVERY_NAMES: [&str; 3] = ["recovered_after_s", "degraded_s", "trigger_end_s"];

/// Whether `key` names a figure a component of `kind` may report: its kind's, a common
/// one, a CDN's per-region `hit_ratio_REGION` and `requests_REGION`, or a gateway's
/// per-route `routed_SERVICE`.
pub fn is_figure(kind: &str, key: &str) -> bool {
    let per_region = kind == "cdn" && (key.starts_with("hit_ratio_") || key.starts_with("requests_"));
    let per_route = kind == "gateway" && key.starts_with(ROUTED_PREFIX);
    names(kind).contains(&key) || COMMON_NAMES.contains(&key) || per_region || per_route
}

impl Figures {
    /// The kind's name, as scenario files spell it.
    pub fn kind(&self) -> &'static str {
        match self {
            Figures::Clients(_) => "clients",
            Figures::Server(_) => "server",
            Figures::LoadBalancer(_) => "load_balancer",
            Figures::Gateway(_) => "gateway",
            Figures::Cache(_) => "cache",
            Figures::Database(_) => "database",
            Figures::Queue(_) => "queue",
            Figures::Cdn(_) => "cdn",
            Figures::ObjectStore(_) => "object_store",
            Figures::WebSocket(_) => "websocket",
            Figures::PubSub(_) => "pubsub",
            Figures::Store(_) => "store",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClientsFigures {
    pub issued: u64,
    pub users: u32,
}

/// A station's measured rates (servers, databases): the throughput after warm-up, the
/// rate it would serve fully busy (throughput / utilization), and how long a request
/// holds a worker (Little's law: busy / throughput).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Capacity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput_rps: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_rps: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_ms: Option<f64>,
}

impl Capacity {
    /// From `measured` completions over `window_s` seconds at `utilization`, with `busy`
    /// workers on average.
    pub fn measured(measured: u64, window_s: f64, utilization: f64, busy: f64) -> Capacity {
        if window_s <= 0.0 {
            return Capacity::default();
        }
        let throughput = measured as f64 / window_s;
        let loaded = utilization > 0.0;
        Capacity {
            throughput_rps: Some(throughput),
            capacity_rps: loaded.then(|| throughput / utilization),
            hold_ms: loaded.then(|| busy / throughput * 1e3),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServerFigures {
    pub workers: u32,
    pub busy_mean: f64,
    pub served: u64,
    pub rejected: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_misses: Option<u64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub admission: Option<AdmissionFigures>,
    #[serde(flatten)]
    pub capacity: Capacity,
}

/// A server's admission control (`rate_limit`, `shed`, `order`): each figure is present
/// when its mechanism is.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AdmissionFigures {
    /// Answered 429 by the rate limiter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited: Option<u64>,
    /// Let through by the rate limiter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admitted: Option<u64>,
    /// Refused on arrival: the queue was at the shedding length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shed_queue_length: Option<u64>,
    /// Dropped by CoDel when a worker took them: they had waited too long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shed_queue_delay: Option<u64>,
    /// Waiters taken newest first by adaptive LIFO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifo_taken: Option<u64>,
    /// Admitted because the limiter's shared store could not answer (`on_store_down = "open"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_failed_open: Option<u64>,
    /// Answered 429 because the limiter's shared store could not answer (`"closed"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_failed_closed: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LoadBalancerFigures {
    pub rejected: u64,
    pub unavailable: u64,
    pub marked_down: u64,
    pub marked_up: u64,
    pub backends_up: u64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscaleFigures>,
}

/// What a gateway's per-route figure names start with: `routed_web` counts the requests
/// it routed to service `web`.
pub const ROUTED_PREFIX: &str = "routed_";

/// An API gateway: its station's figures (`served` counts authenticated requests), the
/// rate limit's, and the requests it routed to each service.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GatewayFigures {
    pub workers: u32,
    pub busy_mean: f64,
    pub served: u64,
    pub rejected: u64,
    /// The mean time authentication held a worker (busy workers over throughput: a
    /// worker is free once it routes the request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_ms_mean: Option<f64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub admission: Option<AdmissionFigures>,
    /// `routed_SERVICE`: requests routed to each service, by the service's name.
    #[serde(flatten)]
    pub routed: BTreeMap<String, u64>,
    #[serde(flatten)]
    pub capacity: Capacity,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AutoscaleFigures {
    /// The mean number of backends in service: what the bill counts.
    pub backends_in_service_mean: f64,
    pub backends_in_service: u64,
    pub scale_outs: u64,
    pub scale_ins: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CacheFigures {
    /// Over the window, as the lookup counters are (`hits`, `misses`, `fetches`,
    /// `coalesced`): hits / (hits + misses).
    pub hit_ratio: f64,
    pub hits: u64,
    pub misses: u64,
    /// Hits and misses since the start, warm-up included: what the TUI's per-second
    /// gauges difference (not in the JSON).
    #[serde(skip)]
    pub since_start: (u64, u64),
    pub fetches: u64,
    pub coalesced: u64,
    pub evictions: u64,
    pub entries: u64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub write_behind: Option<WriteBehindFigures>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WriteBehindFigures {
    pub flushed: u64,
    pub dirty_lost: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DatabaseFigures {
    pub reads: u64,
    pub writes: u64,
    pub rejected: u64,
    pub read_your_writes_redirects: u64,
    /// 1 on the primary, 0 on a replica (absent for shards).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_primary: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_lsn: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_lag_ms_mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_lag_ms_max: Option<f64>,
    /// First shard only: the share of keys a migration to one more shard would move.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys_moved_adding_a_shard: Option<f64>,
    /// The cluster's failover record, on its first instance.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterFigures>,
    #[serde(flatten)]
    pub capacity: Capacity,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClusterFigures {
    pub lost_writes: u64,
    pub failovers: u64,
    /// When the last failover's steps happened, in simulated seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover_detected_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover_promoted_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover_dns_s: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QueueFigures {
    pub enqueued: u64,
    pub processed: u64,
    pub throughput_jobs_per_s: f64,
    pub retries: u64,
    pub redelivered: u64,
    pub dead_letters: u64,
    pub rejected: u64,
    pub oldest_wait_max_s: f64,
    pub job_latency_p50_ms: f64,
    pub job_latency_p99_ms: f64,
    pub active_consumers_mean: f64,
    pub dead_letter_age_p50_ms: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CdnFigures {
    pub hit_ratio: f64,
    pub origin_fetches: u64,
    pub origin_offload: f64,
    /// Per edge region: `hit_ratio_NAME` and `requests_NAME` in the report.
    #[serde(flatten)]
    pub regions: Regions,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Regions(pub Vec<RegionFigures>);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegionFigures {
    pub name: String,
    pub hit_ratio: f64,
    pub requests: u64,
}

impl Serialize for Regions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len() * 2))?;
        for r in &self.0 {
            m.serialize_entry(&format!("hit_ratio_{}", r.name), &r.hit_ratio)?;
            m.serialize_entry(&format!("requests_{}", r.name), &r.requests)?;
        }
        m.end()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ObjectStoreFigures {
    pub gets: u64,
    pub puts: u64,
    pub objects: u64,
    pub bytes_stored: u64,
    pub bytes_transferred_out: u64,
    pub bytes_transferred_in: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WebSocketFigures {
    pub connections: u64,
    pub connections_peak: u64,
    pub accepted: u64,
    pub refused: u64,
    pub updates_published: u64,
    pub deliveries: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PubSubFigures {
    pub relayed: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StoreFigures {
    pub writes: u64,
    pub reads: u64,
    pub unavailable: u64,
    /// On the first replica: keys that disagreed at the worst heal, and how long after
    /// the heal they agreed again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divergent_keys_at_heal: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convergence_ms: Option<f64>,
}
