//! `[[components]]` in two stages. Serde reads each table as a spanned key/value map, since
//! its keys depend on its `kind`; stage one (`kind_tables!`) reads the map as that kind's
//! own struct, refusing keys the kind does not take; stage two (one function a kind)
//! resolves names, units and limits into the model's spec.

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::Dim;
use crate::limits::{MAX_CACHE_ENTRIES, MAX_LIMIT_COUNT, MAX_LIMIT_RATE, MAX_QUEUE_CAPACITY, MAX_WORKERS};
use crate::values::Values;
use sim_core::kernel::ids::ServiceId;
use sim_core::model::Sharding;
use sim_core::model::admission::{AdmissionSpec, Order, Shed};
use sim_core::model::cache::{CacheSpec, WritePolicy};
use sim_core::model::cdn::{CdnSpec, EdgeCache, Region};
use sim_core::model::database::{DatabaseSpec, Failover, Replication};
use sim_core::model::gateway::GatewaySpec;
use sim_core::model::load_balancer::{Autoscale as LbAutoscale, HealthCheck, LoadBalancerSpec, Policy};
use sim_core::model::object_store::ObjectStoreSpec;
use sim_core::model::queue::{Autoscale, QueueSpec};
use sim_core::model::rate_limit::{Algorithm, RateLimitSpec, Scope, SharedStore};
use sim_core::model::store::{Data, StoreSpec};
use sim_core::model::websocket::{PubSubSpec, WebSocketSpec};
use sim_core::model::{CallMode, ComponentModel, KeyspaceSpec, Routing, ServerSpec, Sessions};
use sim_core::{Delay, SimDuration};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::{Spanned, Value};

/// Keys every kind accepts besides its own (`monthly_cost` replaces the kind's price for
/// the whole service).
const COMMON: [&str; 4] = ["id", "kind", "count", "monthly_cost"];

/// Stage one of `[[components]]`: each kind's table as its own struct, one field a key it
/// accepts (with its span), read from the spanned map serde gives; stage two (the
/// functions below, one a kind) only resolves names, units and limits. The keys every
/// kind takes (`COMMON`) are read by `lower.rs`.
macro_rules! kind_tables {
    ($($kind:literal => $table:ident { $($key:ident),* $(,)? })*) => {
        $(
            struct $table<'a> {
                /// The whole table, for a key that is missing.
                #[allow(dead_code, reason = "kinds with no required key never point at the table")]
                span: Range<usize>,
                $($key: Option<&'a Spanned<Value>>,)*
            }

            impl<'a> $table<'a> {
                const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];

                fn read(f: &Fields<'a>) -> $table<'a> {
                    $table { span: f.span.clone(), $($key: f.get(stringify!($key)),)* }
                }

                /// A key named at run time (a loop over keys with the same treatment).
                #[allow(dead_code, reason = "not every kind loops over its keys")]
                fn get(&self, key: &str) -> Option<&'a Spanned<Value>> {
                    $(if key == stringify!($key) {
                        return self.$key;
                    })*
                    None
                }
            }
        )*

        /// Component kinds a scenario may declare, with the keys each accepts.
        pub const KINDS: &[(&str, &[&str])] = &[$(($kind, $table::KEYS)),*];
    };
}

kind_tables! {
    "server" => ServerTable { workers, queue_capacity, service, call_mode, error_rate, sessions, rate_limit, shed, order, lifo_after }
    "load_balancer" => LoadBalancerTable { backends, policy, choices, weights, health_check, max_connections, autoscale }
    "gateway" => GatewayTable { workers, queue_capacity, auth, rate_limit, policy, choices }
    "cache" => CacheTable { capacity, ttl, latency, write_policy, single_flight, flush_interval, sharding }
    "database" => DatabaseTable { replicas, max_connections, pool_queue, read_time, write_time, replication, lag, reads_from_replicas, reads_nearest, read_your_writes, failover, shards, sharding, range_keys }
    "queue" => QueueTable { consumers, capacity, latency, visibility_timeout, max_receives, backoff, autoscale }
    "cdn" => CdnTable { regions, capacity, hit_ratio, ttl }
    "object_store" => ObjectStoreTable { get_latency, put_latency, object_size, bandwidth, stored }
    "websocket" => WebSocketTable { max_connections, update_rate, rooms, adapter }
    "pubsub" => PubSubTable { subscribers, latency }
    "store" => StoreTable { mode, data, w, r, quorum_timeout, stale_reads, anti_entropy, latency, clock_skew }
}

/// Instances a component declares: `count`, or for a database one primary plus `replicas`.
pub fn instance_count(kind: &str, f: &Fields, v: &Values) -> Result<u32, Diagnostic> {
    if kind == "database" {
        if let Some(c) = f.get("count") {
            return Err(Diagnostic::at(
                "a database's instances are its primary and `replicas`, or its `shards`",
                c.span(),
            )
            .help("write replicas = 2, or shards = 4, instead of count"));
        }
        if let Some(s) = f.get("shards") {
            return v.count(s, "shards", 1, 1024).map(|s| s as u32);
        }
        return f.get("replicas").map_or(Ok(1), |x| v.count(x, "replicas", 0, 16).map(|r| r as u32 + 1));
    }
    f.get("count").map_or(Ok(1), |c| v.count(c, "count", 1, crate::limits::MAX_COMPONENTS as u64).map(|c| c as u32))
}

/// Kinds that serve requests, and so may stand on a class's path (all of them so far).
pub fn serves_requests(kind: &str) -> bool {
    KINDS.iter().any(|(k, _)| *k == kind)
}

/// Names other components may refer to.
pub struct Resolver<'a> {
    pub names: &'a [String],
    /// Instances per service.
    pub counts: &'a [u32],
    pub kinds: &'a [String],
    pub keyspaces: &'a [(String, KeyspaceSpec)],
}

impl Resolver<'_> {
    fn service(&self, v: &Spanned<Value>, key: &str) -> Result<ServiceId, Diagnostic> {
        let Value::String(name) = v.get_ref() else {
            return Err(Diagnostic::at(format!("`{key}` must name a component"), v.span()));
        };
        match self.names.iter().position(|n| n == name) {
            Some(i) if i > 0 => Ok(ServiceId(i as u32)),
            _ => {
                let d = Diagnostic::at(format!("unknown component `{name}`"), v.span());
                Err(match did_you_mean(name, self.names.iter().skip(1).map(String::as_str)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("declared components: {}", self.names[1..].join(", "))),
                })
            }
        }
    }
}

impl Resolver<'_> {
    /// `service`, which must be of `kind` (a WebSocket's adapter is a pubsub, whose
    /// subscribers are WebSocket servers).
    fn service_of_kind(&self, v: &Spanned<Value>, key: &str, kind: &str) -> Result<ServiceId, Diagnostic> {
        let id = self.service(v, key)?;
        let found = &self.kinds[id.index()];
        if found != kind {
            return Err(Diagnostic::at(
                format!("`{key}` must name a {kind} component; `{}` is a {found}", self.names[id.index()]),
                v.span(),
            ));
        }
        Ok(id)
    }
}

/// One component table, with its span.
pub struct Fields<'a> {
    pub span: Range<usize>,
    map: &'a BTreeMap<Spanned<String>, Spanned<Value>>,
}

impl<'a> Fields<'a> {
    pub fn new(table: &'a Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>) -> Fields<'a> {
        Fields { span: table.span(), map: table.get_ref() }
    }

    pub fn get(&self, key: &str) -> Option<&'a Spanned<Value>> {
        self.map.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
    }

    /// A string field, such as `id` or `kind`.
    pub fn string(&self, key: &str, example: &str) -> Result<(String, Range<usize>), Diagnostic> {
        match self.get(key) {
            Some(v) => match v.get_ref() {
                Value::String(s) => Ok((s.clone(), v.span())),
                _ => Err(Diagnostic::at(format!("`{key}` must be a string"), v.span())
                    .help(format!("for example {key} = \"{example}\""))),
            },
            None => Err(Diagnostic::at(format!("this component has no `{key}`"), self.span.clone())
                .help(format!("add {key} = \"{example}\""))),
        }
    }
}

/// One of `choices`, or `default` when absent.
fn choice<'c>(
    v: Option<&Spanned<Value>>,
    key: &str,
    choices: &[&'c str],
    default: &'c str,
) -> Result<&'c str, Diagnostic> {
    {
        let Some(v) = v else { return Ok(default) };
        let Value::String(s) = v.get_ref() else {
            return Err(Diagnostic::at(format!("`{key}` must be one of: {}", choices.join(", ")), v.span()));
        };
        choices.iter().find(|c| **c == s).copied().ok_or_else(|| {
            let d = Diagnostic::at(format!("unknown {key} `{s}`"), v.span());
            match did_you_mean(s, choices.iter().copied()) {
                Some(x) => d.help(format!("did you mean `{x}`?")),
                None => d.help(format!("choose one of: {}", choices.join(", "))),
            }
        })
    }
}

/// A true/false field, `default` when absent.
fn boolean(v: Option<&Spanned<Value>>, key: &str, default: bool) -> Result<bool, Diagnostic> {
    {
        match v {
            None => Ok(default),
            Some(v) => match v.get_ref() {
                Value::Boolean(b) => Ok(*b),
                _ => Err(Diagnostic::at(format!("`{key}` must be true or false"), v.span())),
            },
        }
    }
}

impl Fields<'_> {
    /// Keys not in `allowed`, each with a suggestion.
    pub fn unknown_keys(&self, kind: &str, allowed: &[&str]) -> Vec<Diagnostic> {
        self.map
            .keys()
            .filter(|k| !COMMON.contains(&k.get_ref().as_str()) && !allowed.contains(&k.get_ref().as_str()))
            .map(|k| {
                let d =
                    Diagnostic::at(format!("unknown key `{}` for a component of kind `{kind}`", k.get_ref()), k.span());
                match did_you_mean(k.get_ref(), allowed.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("a `{kind}` accepts: {}, {}", COMMON.join(", "), allowed.join(", "))),
                }
            })
            .collect()
    }
}

/// A nested inline table (`health_check = { interval = "30s" }`) read like a component:
/// its values share the table's span.
struct Sub {
    span: Range<usize>,
    map: BTreeMap<String, Value>,
}

impl Sub {
    fn new(v: &Spanned<Value>, key: &str, allowed: &[&str]) -> Result<Sub, Diagnostic> {
        let Value::Table(t) = v.get_ref() else {
            return Err(Diagnostic::at(format!("`{key}` must be a table"), v.span())
                .help(format!("for example {key} = {{ {} = ... }}", allowed[0])));
        };
        if let Some(k) = t.keys().find(|k| !allowed.contains(&k.as_str())) {
            let d = Diagnostic::at(format!("unknown key `{k}` in `{key}`"), v.span());
            return Err(match did_you_mean(k, allowed.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("`{key}` accepts: {}", allowed.join(", "))),
            });
        }
        Ok(Sub { span: v.span(), map: t.iter().map(|(k, v)| (k.clone(), v.clone())).collect() })
    }

    fn get(&self, key: &str) -> Option<Spanned<Value>> {
        self.map.get(key).map(|v| Spanned::new(self.span.clone(), v.clone()))
    }
}

/// Collects the errors of several independent reads.
#[derive(Default)]
struct Errors(Vec<Diagnostic>);

impl Errors {
    fn take<T>(&mut self, r: Result<T, Diagnostic>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }
}

/// Lowers the kind-specific part of one component: its model and how callers route to
/// its instances.
pub fn lower(
    kind: &str,
    kind_span: Range<usize>,
    f: &Fields,
    v: &Values,
    r: &Resolver,
) -> Result<(ComponentModel, Routing), Vec<Diagnostic>> {
    let Some((_, allowed)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        let d = Diagnostic::at(format!("unknown component kind `{kind}`"), kind_span);
        return Err(vec![match did_you_mean(kind, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("known kinds: {}", names.join(", "))),
        }]);
    };
    let mut e = Errors(f.unknown_keys(kind, allowed));
    let lowered = match kind {
        "server" => {
            let n = instance_count("server", f, v).unwrap_or(1);
            server(&ServerTable::read(f), n, v, r, &mut e).map(|m| (m, Routing::RoundRobin))
        }
        "load_balancer" => load_balancer(&LoadBalancerTable::read(f), v, r, &mut e).map(|m| (m, Routing::RoundRobin)),
        "gateway" => {
            let n = instance_count("gateway", f, v).unwrap_or(1);
            gateway(&GatewayTable::read(f), n, v, r, &mut e).map(|m| (m, Routing::RoundRobin))
        }
        "cache" => {
            let t = CacheTable::read(f);
            cache(&t, v, &mut e).and_then(|m| Some((m, sharding(&t, &mut e)?)))
        }
        "database" => database(&DatabaseTable::read(f), v, r, &mut e),
        "queue" => queue(&QueueTable::read(f), v, r, &mut e).map(|m| (m, Routing::RoundRobin)),
        "cdn" => cdn(&CdnTable::read(f), v, &mut e).map(|m| (m, Routing::RoundRobin)),
        "object_store" => object_store(&ObjectStoreTable::read(f), v, &mut e).map(|m| (m, Routing::RoundRobin)),
        "websocket" => websocket(&WebSocketTable::read(f), v, r, &mut e).map(|m| (m, Routing::RoundRobin)),
        "pubsub" => pubsub(&PubSubTable::read(f), v, r, &mut e).map(|m| (m, Routing::RoundRobin)),
        "store" => e
            .take(instance_count("store", f, v))
            .and_then(|n| store(&StoreTable::read(f), n, v, &mut e))
            .map(|m| (m, Routing::Nearest)),
        _ => unreachable!("every listed kind is lowered"),
    };
    match lowered {
        Some(x) if e.0.is_empty() => Ok(x),
        _ => Err(e.0),
    }
}

fn server(t: &ServerTable, instances: u32, v: &Values, r: &Resolver, e: &mut Errors) -> Option<ComponentModel> {
    let workers = e.take(t.workers.map_or(Ok(1), |x| v.count(x, "workers", 1, MAX_WORKERS)));
    let queue_capacity =
        e.take(t.queue_capacity.map_or(Ok(1000), |x| v.count(x, "queue_capacity", 0, MAX_QUEUE_CAPACITY)));
    let service = e.take(match t.service {
        Some(x) => v.delay(x, "service"),
        None => Err(Diagnostic::at("this server has no `service` time", t.span.clone())
            .help("add service = \"exp(20ms)\" (or const, uniform, lognormal, pareto)")),
    });
    let call_mode = e.take(choice(t.call_mode, "call_mode", &["blocking", "async"], "blocking"));
    let error_rate = e.take(t.error_rate.map_or(Ok(0.0), |x| v.number_in(x, Dim::Number, "error_rate", 0.0, 1.0)));
    let sessions = e.take(choice(t.sessions, "sessions", &["none", "local"], "none"));
    let admission = e.take(admission(t, instances, v, r));
    Some(ComponentModel::Server(ServerSpec {
        workers: workers? as u32,
        queue_capacity: queue_capacity? as u32,
        service: service?,
        service_by_class: Vec::new(),
        call_mode: if call_mode? == "async" { CallMode::Async } else { CallMode::Blocking },
        error_rate: error_rate?,
        sessions: if sessions? == "local" { Sessions::Local } else { Sessions::None },
        admission: admission?,
    }))
}

/// The most instances a gateway's `power_of_d` draws (`choices`); a route with fewer
/// instances draws all of them.
const MAX_GATEWAY_CHOICES: u64 = 64;
/// The longest mean authentication a gateway takes: beyond it a scenario means something
/// else (a slow upstream is a service of its own).
const MAX_AUTH: SimDuration = SimDuration::from_secs(10);

/// An API gateway: a server station whose service time is `auth`, asynchronous (a worker
/// is free once the request is routed), limited by `rate_limit`, balancing by `policy`.
fn gateway(t: &GatewayTable, instances: u32, v: &Values, r: &Resolver, e: &mut Errors) -> Option<ComponentModel> {
    let workers = e.take(t.workers.map_or(Ok(1), |x| v.count(x, "workers", 1, MAX_WORKERS)));
    let queue_capacity =
        e.take(t.queue_capacity.map_or(Ok(1000), |x| v.count(x, "queue_capacity", 0, MAX_QUEUE_CAPACITY)));
    let auth = e.take(match t.auth {
        Some(x) => v.delay(x, "auth").and_then(|d| {
            if d.mean() > MAX_AUTH {
                return Err(Diagnostic::at(
                    format!("auth takes {} on average, longer than {MAX_AUTH}", d.mean()),
                    x.span(),
                )
                .help(
                    "authentication costs about a millisecond (a key lookup or a JWT check): write auth = \"exp(1ms)\"",
                ));
            }
            Ok(d)
        }),
        None => Err(Diagnostic::at("this gateway has no `auth` time", t.span.clone())
            .help("add auth = \"exp(1ms)\" (the time to check a request's key or token)")),
    });
    let rate_limit = t.rate_limit.map(|x| e.take(rate_limit(x, instances, v, r)));
    let names = ["round_robin", "least_connections", "client_hash", "power_of_two", "random", "power_of_d"];
    let policy = e.take(choice(t.policy, "policy", &names, "round_robin").and_then(|p| {
        match (p, t.choices) {
            ("power_of_d", None) => {
                Err(Diagnostic::at("power_of_d needs `choices`, the instances drawn per request", t.span.clone())
                    .help(format!("add choices = 2 (from 1 to {MAX_GATEWAY_CHOICES})")))
            }
            ("power_of_d", Some(c)) => Ok(Policy::PowerOfD(v.count(c, "choices", 1, MAX_GATEWAY_CHOICES)? as u32)),
            (_, Some(c)) => Err(Diagnostic::at("`choices` applies only to policy = \"power_of_d\"", c.span())),
            ("least_connections", None) => Ok(Policy::LeastConnections),
            ("client_hash", None) => Ok(Policy::ClientHash),
            ("power_of_two", None) => Ok(Policy::PowerOfTwo),
            ("random", None) => Ok(Policy::Random),
            _ => Ok(Policy::RoundRobin),
        }
    }));
    let admission = match rate_limit {
        Some(r) => Some(Box::new(AdmissionSpec { rate_limit: Some(r?), shed: None, order: Order::Fifo })),
        None => None,
    };
    Some(ComponentModel::Gateway(GatewaySpec {
        workers: workers? as u32,
        queue_capacity: queue_capacity? as u32,
        auth: auth?,
        admission,
        policy: policy?,
    }))
}

/// A server's `rate_limit`, `shed`, `order` and `lifo_after`; `None` if it sets none.
fn admission(
    t: &ServerTable,
    instances: u32,
    v: &Values,
    r: &Resolver,
) -> Result<Option<Box<AdmissionSpec>>, Diagnostic> {
    let rate_limit = t.rate_limit.map(|x| rate_limit(x, instances, v, r)).transpose()?;
    let shed = t.shed.map(|x| shed(x, v)).transpose()?;
    let order = match (choice(t.order, "order", &["fifo", "lifo_when_old"], "fifo")?, t.lifo_after) {
        ("lifo_when_old", Some(x)) => Order::LifoWhenOld { after: positive_duration(v, x, "lifo_after")? },
        ("lifo_when_old", None) => Order::LifoWhenOld { after: SimDuration::from_millis(50) },
        (_, Some(x)) => {
            return Err(Diagnostic::at("`lifo_after` needs order = \"lifo_when_old\"", x.span())
                .help("add order = \"lifo_when_old\", or remove lifo_after"));
        }
        _ => Order::Fifo,
    };
    if rate_limit.is_none() && shed.is_none() && order == Order::Fifo {
        return Ok(None);
    }
    Ok(Some(Box::new(AdmissionSpec { rate_limit, shed, order })))
}

/// A duration above zero and at most a day (a limiter's window, a CoDel target).
fn positive_duration(v: &Values, x: &Spanned<Value>, what: &str) -> Result<SimDuration, Diagnostic> {
    let d = v.duration(x, what)?;
    if d == SimDuration::ZERO || d > SimDuration::from_secs(86_400) {
        return Err(Diagnostic::at(format!("{what} is {d}, outside the accepted range 1ns to 1 day"), x.span())
            .help(format!("write {what} = \"50ms\"")));
    }
    Ok(d)
}

/// `rate_limit = { algorithm = "token_bucket", rate = 100, burst = 200, per = "service" }` or
/// `{ algorithm = "sliding_window", limit = 1000, window = "1m", per = "user" }`. A
/// service-wide limit is split evenly over the service's instances (`Scope::Service`),
/// unless `store` names the cache or store that keeps one count for them all.
fn rate_limit(x: &Spanned<Value>, instances: u32, v: &Values, r: &Resolver) -> Result<RateLimitSpec, Diagnostic> {
    let keys = ["algorithm", "rate", "burst", "limit", "window", "per", "store", "on_store_down", "store_timeout"];
    let sub = Sub::new(x, "rate_limit", &keys)?;
    let algorithm = sub.get("algorithm").ok_or_else(|| {
        Diagnostic::at("`rate_limit` has no `algorithm`", x.span())
            .help("add algorithm = \"token_bucket\" (with rate, burst) or \"sliding_window\" (with limit, window)")
    })?;
    let algorithm = choice(Some(&algorithm), "algorithm", &["token_bucket", "sliding_window"], "token_bucket")?;
    let per = choice(sub.get("per").as_ref(), "per", &["instance", "service", "user", "key"], "instance")?;
    let per = match per {
        "service" => Scope::Service,
        "user" => Scope::User,
        "key" => Scope::Key,
        _ => Scope::Instance,
    };
    let store = shared_store(&sub, x, per, v, r)?;
    let share = if per == Scope::Service && store.is_none() { u64::from(instances.max(1)) } else { 1 };
    let need = |k: &str, example: &str| {
        sub.get(k).ok_or_else(|| {
            Diagnostic::at(format!("this {algorithm} rate limit has no `{k}`"), x.span())
                .help(format!("add {k} = {example}"))
        })
    };
    let wrong = |k: &str| {
        sub.get(k).map_or(Ok(()), |_| {
            Err(Diagnostic::at(format!("`{k}` is not a {algorithm} setting"), x.span())
                .help("a token bucket takes rate and burst; a sliding window takes limit and window"))
        })
    };
    let algorithm = if algorithm == "token_bucket" {
        wrong("limit")?;
        wrong("window")?;
        let rate = v.positive(&need("rate", "100")?, Dim::Rate, "rate", MAX_LIMIT_RATE)?;
        let burst = v.count(&need("burst", "200")?, "burst", 1, MAX_LIMIT_COUNT)?;
        let rate_milli = ((rate * 1000.0).round() as u64 / share).max(1);
        Algorithm::TokenBucket { rate_milli, burst: (burst / share).max(1) }
    } else {
        wrong("rate")?;
        wrong("burst")?;
        let limit = v.count(&need("limit", "1000")?, "limit", 1, MAX_LIMIT_COUNT)?;
        let window = positive_duration(v, &need("window", "\"1m\"")?, "window")?;
        Algorithm::SlidingWindow { limit: (limit / share).max(1), window }
    };
    Ok(RateLimitSpec { algorithm, per, store })
}

/// `store = "redis"`, `on_store_down = "open" | "closed"` (default open), `store_timeout`
/// (default 50ms): where a shared count lives and what the limiter does without it.
fn shared_store(
    sub: &Sub,
    x: &Spanned<Value>,
    per: Scope,
    v: &Values,
    r: &Resolver,
) -> Result<Option<SharedStore>, Diagnostic> {
    let Some(name) = sub.get("store") else {
        for k in ["on_store_down", "store_timeout"] {
            if let Some(y) = sub.get(k) {
                return Err(Diagnostic::at(format!("`{k}` needs a `store` to keep the count in"), y.span())
                    .help("add store = \"NAME\" (a cache or store component, like Redis), or remove it"));
            }
        }
        return Ok(None);
    };
    let service = r.service(&name, "store")?;
    let kind = r.kinds[service.index()].as_str();
    if kind != "cache" && kind != "store" {
        return Err(Diagnostic::at(
            format!("`store` must name a cache or store component, found a {kind}"),
            name.span(),
        )
        .help("name the cache or store (the Redis) that keeps the limiter's counts"));
    }
    if per == Scope::Instance {
        return Err(Diagnostic::at("a count per instance is not shared: it needs no `store`", x.span())
            .help("use per = \"service\", \"user\" or \"key\" with a store, or remove store"));
    }
    let down = choice(sub.get("on_store_down").as_ref(), "on_store_down", &["open", "closed"], "open")?;
    let timeout = sub
        .get("store_timeout")
        .map_or(Ok(SimDuration::from_millis(50)), |t| positive_duration(v, &t, "store_timeout"))?;
    Ok(Some(SharedStore { service, timeout, fail_open: down == "open" }))
}

/// `shed = { queue_length = 100 }` or `shed = { queue_delay = "5ms", interval = "100ms" }`.
fn shed(x: &Spanned<Value>, v: &Values) -> Result<Shed, Diagnostic> {
    let sub = Sub::new(x, "shed", &["queue_length", "queue_delay", "interval"])?;
    match (sub.get("queue_length"), sub.get("queue_delay")) {
        (Some(n), None) => {
            if sub.get("interval").is_some() {
                return Err(Diagnostic::at("`interval` goes with `queue_delay`, not `queue_length`", x.span())
                    .help("remove interval, or shed by queue_delay"));
            }
            Ok(Shed::QueueLength(v.count(&n, "queue_length", 1, MAX_QUEUE_CAPACITY)? as u32))
        }
        (None, Some(d)) => {
            let target = positive_duration(v, &d, "queue_delay")?;
            let interval =
                sub.get("interval").map_or(Ok(SimDuration::from_millis(100)), |i| v.interval(&i, "interval"))?;
            Ok(Shed::QueueDelay { target, interval })
        }
        _ => Err(Diagnostic::at("`shed` takes one of `queue_length` or `queue_delay`", x.span())
            .help("write shed = { queue_length = 100 } or shed = { queue_delay = \"5ms\", interval = \"100ms\" }")),
    }
}

/// How callers spread keys over a cache cluster's instances (`sharding`: hash mod N, the
/// default, or consistent hashing).
fn sharding(t: &CacheTable, e: &mut Errors) -> Option<Routing> {
    let scheme = e.take(choice(t.sharding, "sharding", &["hash_mod", "consistent"], "hash_mod"))?;
    Some(Routing::Sharded(match scheme {
        "consistent" => Sharding::Consistent { vnodes: 256 },
        _ => Sharding::HashMod,
    }))
}

fn cache(t: &CacheTable, v: &Values, e: &mut Errors) -> Option<ComponentModel> {
    let capacity = e.take(match t.capacity {
        Some(x) => v.count(x, "capacity", 1, MAX_CACHE_ENTRIES),
        None => Err(Diagnostic::at("this cache has no `capacity` (entries it holds)", t.span.clone())
            .help("add capacity = 10000")),
    });
    let ttl = match t.ttl {
        Some(x) if x.get_ref().as_str() == Some("none") => Some(None),
        Some(x) => e.take(v.duration(x, "ttl")).map(Some),
        None => Some(None),
    };
    let latency =
        e.take(t.latency.map_or(Ok(Delay::constant(SimDuration::from_micros(500))), |x| v.delay(x, "latency")));
    let policy = e.take(choice(
        t.write_policy,
        "write_policy",
        &["cache_aside", "write_through", "write_behind"],
        "cache_aside",
    ));
    let single_flight = e.take(boolean(t.single_flight, "single_flight", false));
    let flush_interval =
        e.take(t.flush_interval.map_or(Ok(SimDuration::from_secs(1)), |x| v.interval(x, "flush_interval")));
    Some(ComponentModel::Cache(CacheSpec {
        capacity: capacity? as u32,
        ttl: ttl?,
        latency: latency?,
        write_policy: match policy? {
            "write_through" => WritePolicy::WriteThrough,
            "write_behind" => WritePolicy::WriteBehind,
            _ => WritePolicy::CacheAside,
        },
        single_flight: single_flight?,
        flush_interval: flush_interval?,
    }))
}

/// A sharded database's routing (`shards`, `sharding`, `range_keys`), or `None` for a
/// single or replicated one (where the sharding keys are refused).
fn shard_routing(t: &DatabaseTable, v: &Values, r: &Resolver, shards: u64) -> Result<Option<Routing>, Diagnostic> {
    if shards == 1 && t.shards.is_none() {
        for key in ["sharding", "range_keys"] {
            if let Some(x) = t.get(key) {
                return Err(Diagnostic::at(format!("`{key}` needs `shards`"), x.span()).help("add shards = 4"));
            }
        }
        return Ok(None);
    }
    let scheme = choice(t.sharding, "sharding", &["hash_mod", "consistent", "range", "directory"], "hash_mod")?;
    let largest = r.keyspaces.iter().map(|(_, k)| k.count).max().unwrap_or(1);
    let range_keys = t.range_keys.map_or(Ok(largest), |x| v.count(x, "range_keys", 1, crate::limits::MAX_KEYS))?;
    Ok(Some(Routing::Sharded(match scheme {
        "consistent" => Sharding::Consistent { vnodes: 256 },
        "range" => Sharding::Range { key_count: range_keys },
        "directory" => Sharding::Directory { buckets: 1024 },
        _ => Sharding::HashMod,
    })))
}

/// `failover = { ... }`: the seeds' timings unless set; none without replicas or if `false`.
fn failover(t: &DatabaseTable, v: &Values, replicas: u64) -> Result<Option<Failover>, Diagnostic> {
    let x = match t.failover {
        Some(x) if x.get_ref() == &Value::Boolean(false) => return Ok(None),
        None if replicas == 0 => return Ok(None),
        x => x,
    };
    let secs = SimDuration::from_secs;
    let defaults = Failover {
        heartbeat: secs(5),
        detection: Delay::uniform(secs(30), secs(60)).expect("ordered"),
        promotion: Delay::uniform(secs(60), secs(120)).expect("ordered"),
        dns: Delay::constant(secs(30)),
    };
    let Some(x) = x else { return Ok(Some(defaults)) };
    let sub = Sub::new(x, "failover", &["heartbeat", "detection", "promotion", "dns"])?;
    let delay = |k: &str, d: Delay| sub.get(k).map_or(Ok(d), |x| v.delay(&x, k));
    Ok(Some(Failover {
        heartbeat: sub.get("heartbeat").map_or(Ok(defaults.heartbeat), |x| v.interval(&x, "heartbeat"))?,
        detection: delay("detection", defaults.detection)?,
        promotion: delay("promotion", defaults.promotion)?,
        dns: delay("dns", defaults.dns)?,
    }))
}

fn database(t: &DatabaseTable, v: &Values, r: &Resolver, e: &mut Errors) -> Option<(ComponentModel, Routing)> {
    let replicas = e.take(t.replicas.map_or(Ok(0), |x| v.count(x, "replicas", 0, 16)))?;
    let shards = e.take(t.shards.map_or(Ok(1), |x| v.count(x, "shards", 1, 1024)))?;
    if let (true, Some(x)) = (shards > 1 && replicas > 0, t.replicas) {
        e.0.push(
            Diagnostic::at("sharded databases with replicas are not modelled yet", x.span())
                .help("use shards without replicas, or one replicated database"),
        );
        return None;
    }
    let routing = e.take(shard_routing(t, v, r, shards))?;
    let max_connections = e.take(t.max_connections.map_or(Ok(200), |x| v.count(x, "max_connections", 1, MAX_WORKERS)));
    let pool_queue = e.take(t.pool_queue.map_or(Ok(0), |x| v.count(x, "pool_queue", 0, MAX_QUEUE_CAPACITY)));
    let ms = |n| Delay::constant(SimDuration::from_millis(n));
    let read_time = e.take(t.read_time.map_or(Ok(ms(5)), |x| v.delay(x, "read_time")));
    let write_time = e.take(t.write_time.map_or(Ok(ms(10)), |x| v.delay(x, "write_time")));
    let mode = e.take(choice(t.replication, "replication", &["async", "sync"], "async"));
    let lag = e.take(t.lag.map_or(Ok(Delay::exponential(SimDuration::from_millis(200))), |x| v.delay(x, "lag")));
    let reads_from_replicas = e.take(boolean(t.reads_from_replicas, "reads_from_replicas", replicas > 0));
    let read_your_writes = e.take(boolean(t.read_your_writes, "read_your_writes", false));
    let failover = e.take(failover(t, v, replicas));
    let replication = if mode? == "sync" { Replication::Sync } else { Replication::Async { lag: lag? } };
    let spec = DatabaseSpec {
        max_connections: max_connections? as u32,
        pool_queue: pool_queue? as u32,
        read_time: read_time?,
        write_time: write_time?,
        replication,
        failover: failover?,
        read_your_writes: read_your_writes?,
        sharded: routing.is_some(),
    };
    let nearest = e.take(boolean(t.reads_nearest, "reads_nearest", false));
    let routing =
        routing.unwrap_or(Routing::PrimaryReplica { reads_from_replicas: reads_from_replicas?, nearest: nearest? });
    Some((ComponentModel::Database(spec), routing))
}

/// A key the kind cannot do without: its value, or where to add it.
fn required<'a>(
    v: Option<&'a Spanned<Value>>,
    table: &Range<usize>,
    key: &str,
    example: &str,
) -> Result<&'a Spanned<Value>, Diagnostic> {
    v.ok_or_else(|| {
        Diagnostic::at(format!("this component has no `{key}`"), table.clone()).help(format!("add {key} = {example}"))
    })
}

fn queue(t: &QueueTable, v: &Values, r: &Resolver, e: &mut Errors) -> Option<ComponentModel> {
    let consumers =
        e.take(required(t.consumers, &t.span, "consumers", "\"worker\"").and_then(|x| r.service(x, "consumers")));
    let capacity = e.take(t.capacity.map_or(Ok(1_000_000), |x| v.count(x, "capacity", 1, MAX_QUEUE_CAPACITY)));
    let latency = e.take(t.latency.map_or(Ok(Delay::constant(SimDuration::from_millis(5))), |x| v.delay(x, "latency")));
    let visibility =
        e.take(t.visibility_timeout.map_or(Ok(SimDuration::from_secs(30)), |x| v.duration(x, "visibility_timeout")));
    let max_receives = e.take(t.max_receives.map_or(Ok(3), |x| v.count(x, "max_receives", 1, 100)));
    let backoff = e.take(t.backoff.map_or(Ok(SimDuration::from_secs(1)), |x| v.duration(x, "backoff")));
    let autoscale = match t.autoscale {
        None => Some(None),
        Some(x) => {
            let sub = e.take(Sub::new(x, "autoscale", &["min", "max", "jobs_per_instance", "interval", "startup"]))?;
            let cnt = |k: &str, d: u64| sub.get(k).map_or(Ok(d), |x| v.count(&x, k, 1, 100_000));
            let dur = |k: &str, d: SimDuration| sub.get(k).map_or(Ok(d), |x| v.duration(&x, k));
            let secs = SimDuration::from_secs;
            let (min, max) = (e.take(cnt("min", 1))? as u32, e.take(cnt("max", 10))? as u32);
            if min > max {
                e.0.push(Diagnostic::at(format!("autoscale: min ({min}) is above max ({max})"), x.span()));
                return None;
            }
            Some(Some(Autoscale {
                min,
                max,
                jobs_per_instance: e.take(cnt("jobs_per_instance", 100))? as u32,
                interval: e.take(sub.get("interval").map_or(Ok(secs(30)), |x| v.interval(&x, "interval")))?,
                startup: e.take(dur("startup", secs(60)))?,
            }))
        }
    };
    Some(ComponentModel::Queue(QueueSpec {
        consumers: consumers?,
        capacity: capacity?,
        latency: latency?,
        visibility_timeout: visibility?,
        max_receives: max_receives? as u32,
        backoff: backoff?,
        autoscale: autoscale?,
    }))
}

fn cdn(t: &CdnTable, v: &Values, e: &mut Errors) -> Option<ComponentModel> {
    let regions_value = e.take(required(
        t.regions,
        &t.span,
        "regions",
        "{ us = { share = 1, edge_latency = \"20ms\", origin_latency = \"80ms\" } }",
    ))?;
    let Value::Table(table) = regions_value.get_ref() else {
        e.0.push(Diagnostic::at("`regions` must be a table of regions", regions_value.span()));
        return None;
    };
    let mut regions = Vec::new();
    for (name, region) in table {
        let spanned = Spanned::new(regions_value.span(), region.clone());
        let sub =
            e.take(Sub::new(&spanned, &format!("regions.{name}"), &["share", "edge_latency", "origin_latency"]))?;
        let share = match sub.get("share") {
            Some(x) => e.take(v.positive(&x, Dim::Number, "share", 1e6))?,
            None => 1.0,
        };
        let delay =
            |k: &str, d: u64| sub.get(k).map_or(Ok(Delay::constant(SimDuration::from_millis(d))), |x| v.delay(&x, k));
        regions.push(Region {
            name: name.clone(),
            share,
            edge_latency: e.take(delay("edge_latency", 20))?,
            origin_latency: e.take(delay("origin_latency", 80))?,
        });
    }
    if regions.is_empty() {
        e.0.push(Diagnostic::at("a CDN needs at least one region", regions_value.span()));
        return None;
    }
    let cache = match (t.capacity, t.hit_ratio) {
        (Some(c), None) => {
            let capacity = e.take(v.count(c, "capacity", 1, MAX_CACHE_ENTRIES))? as u32;
            let ttl = match t.ttl {
                Some(x) => Some(e.take(v.duration(x, "ttl"))?),
                None => None,
            };
            EdgeCache::Lru { capacity, ttl }
        }
        (None, Some(h)) => {
            if let Some(t) = t.ttl {
                e.0.push(Diagnostic::at("`ttl` applies to edges with a `capacity`, not a fixed `hit_ratio`", t.span()));
                return None;
            }
            EdgeCache::HitRatio(e.take(v.number_in(h, Dim::Number, "hit_ratio", 0.0, 1.0))?)
        }
        _ => {
            e.0.push(
                Diagnostic::at("a CDN needs either `capacity` (entries per edge, LRU) or `hit_ratio`", t.span.clone())
                    .help("add capacity = 100000, or hit_ratio = 0.95 as a what-if"),
            );
            return None;
        }
    };
    Some(ComponentModel::Cdn(CdnSpec { regions, cache }))
}

fn object_store(t: &ObjectStoreTable, v: &Values, e: &mut Errors) -> Option<ComponentModel> {
    let lat = |k: &str, ms: u64| {
        t.get(k).map_or_else(
            || Delay::lognormal(SimDuration::from_millis(ms), 0.5).map_err(|x| Diagnostic::new(x.0)),
            |x| v.delay(x, k),
        )
    };
    let get_latency = e.take(lat("get_latency", 30));
    let put_latency = e.take(lat("put_latency", 50));
    let object_size = e.take(t.object_size.map_or(Ok(2_000_000), |x| v.bytes(x, "object_size")));
    let bandwidth = e.take(t.bandwidth.map_or(Ok(100e6), |x| v.bandwidth(x, "bandwidth")));
    let stored = e.take(t.stored.map_or(Ok(0), |x| v.bytes(x, "stored")));
    Some(ComponentModel::ObjectStore(ObjectStoreSpec {
        get_latency: get_latency?,
        put_latency: put_latency?,
        object_size: object_size?,
        bandwidth: bandwidth?,
        stored_before: stored?,
    }))
}

fn websocket(t: &WebSocketTable, v: &Values, r: &Resolver, e: &mut Errors) -> Option<ComponentModel> {
    let adapter = e.take(
        required(t.adapter, &t.span, "adapter", "\"redis-pubsub\"")
            .and_then(|x| r.service_of_kind(x, "adapter", "pubsub")),
    );
    let max_connections =
        e.take(t.max_connections.map_or(Ok(10_000), |x| v.count(x, "max_connections", 1, 10_000_000)));
    let update_rate = e.take(t.update_rate.map_or(Ok(1.0), |x| v.number_in(x, Dim::Rate, "update_rate", 0.0, 1000.0)));
    let rooms = e.take(t.rooms.map_or(Ok(100), |x| v.count(x, "rooms", 1, 10_000_000)));
    Some(ComponentModel::WebSocket(WebSocketSpec {
        max_connections: max_connections? as u32,
        update_rate: update_rate?,
        rooms: rooms? as u32,
        adapter: adapter?,
    }))
}

fn pubsub(t: &PubSubTable, v: &Values, r: &Resolver, e: &mut Errors) -> Option<ComponentModel> {
    let subscribers = e.take(
        required(t.subscribers, &t.span, "subscribers", "\"ws\"")
            .and_then(|x| r.service_of_kind(x, "subscribers", "websocket")),
    );
    let latency = e.take(t.latency.map_or(Ok(Delay::constant(SimDuration::from_millis(1))), |x| v.delay(x, "latency")));
    Some(ComponentModel::PubSub(PubSubSpec { subscribers: subscribers?, latency: latency? }))
}

/// A replicated store of `n` replicas.
fn store(t: &StoreTable, n: u32, v: &Values, e: &mut Errors) -> Option<ComponentModel> {
    let mode = e.take(choice(t.mode, "mode", &["cp", "ap"], "cp"))?;
    let data = match e.take(choice(t.data, "data", &["register", "counter"], "register"))? {
        "counter" => Data::Counter,
        _ => Data::Register,
    };
    let default_quorum = if mode == "cp" { u64::from(n / 2 + 1) } else { 1 };
    let quorum = |key: &str, e: &mut Errors| {
        let Some(x) = t.get(key) else { return Some(default_quorum as u32) };
        let q = e.take(v.count(x, key, 1, 1_000_000))?;
        if q > u64::from(n) {
            e.0.push(
                Diagnostic::at(format!("{key} = {q}, but the store has {n} replicas"), x.span())
                    .help(format!("a quorum counts replicas: at most {n} (raise `count` for more)")),
            );
            return None;
        }
        Some(q as u32)
    };
    let (w, r) = (quorum("w", e), quorum("r", e));
    let dur = |key: &str, d: SimDuration, e: &mut Errors| e.take(t.get(key).map_or(Ok(d), |x| v.duration(x, key)));
    let quorum_timeout = dur("quorum_timeout", SimDuration::from_secs(1), e);
    let anti_entropy = e.take(t.anti_entropy.map_or(Ok(SimDuration::from_secs(10)), |x| v.interval(x, "anti_entropy")));
    let clock_skew = dur("clock_skew", SimDuration::ZERO, e);
    let stale_reads = e.take(boolean(t.stale_reads, "stale_reads", false));
    let latency = e.take(t.latency.map_or(Ok(Delay::constant(SimDuration::from_millis(1))), |x| v.delay(x, "latency")));
    Some(ComponentModel::Store(StoreSpec {
        mode: if mode == "cp" { "cp" } else { "ap" },
        data,
        w: w?,
        r: r?,
        quorum_timeout: quorum_timeout?,
        stale_reads: stale_reads?,
        anti_entropy: anti_entropy?,
        latency: latency?,
        clock_skew: clock_skew?,
    }))
}

/// Backend weights as written, with their span.
type Weights = (Vec<u32>, Range<usize>);

/// `weights = [3, 1, 1]`, if given.
fn lb_weights(t: &LoadBalancerTable) -> Result<Option<Weights>, Diagnostic> {
    let Some(w) = t.weights else { return Ok(None) };
    let Value::Array(items) = w.get_ref() else {
        return Err(Diagnostic::at("`weights` must be an array, such as [3, 1, 1]", w.span()));
    };
    let weight = |item: &Value| match item {
        Value::Integer(i) if (1..=1_000_000).contains(i) => Ok(*i as u32),
        _ => Err(Diagnostic::at("weights are whole numbers from 1 to 1000000", w.span())),
    };
    Ok(Some((items.iter().map(weight).collect::<Result<_, _>>()?, w.span())))
}

/// `health_check = { ... }` (ALB's defaults if absent, none if `false`); `None` on an error.
fn health_check(t: &LoadBalancerTable, v: &Values, e: &mut Errors) -> Option<Option<HealthCheck>> {
    let x = match t.health_check {
        None => return Some(Some(HealthCheck::default())),
        Some(x) if x.get_ref() == &Value::Boolean(false) => return Some(None),
        Some(x) => x,
    };
    let keys = ["interval", "timeout", "healthy_threshold", "unhealthy_threshold"];
    let sub = e.take(Sub::new(x, "health_check", &keys))?;
    let d = HealthCheck::default();
    let dur = |k: &str, dflt| sub.get(k).map_or(Ok(dflt), |x| v.duration(&x, k));
    let cnt = |k: &str, dflt: u32| sub.get(k).map_or(Ok(dflt), |x| v.count(&x, k, 1, 100).map(|c| c as u32));
    Some(Some(HealthCheck {
        interval: e.take(sub.get("interval").map_or(Ok(d.interval), |x| v.interval(&x, "interval")))?,
        timeout: e.take(dur("timeout", d.timeout))?,
        healthy_threshold: e.take(cnt("healthy_threshold", d.healthy_threshold))?,
        unhealthy_threshold: e.take(cnt("unhealthy_threshold", d.unhealthy_threshold))?,
    }))
}

/// The balancing policy; weights go with weighted round robin only, one per backend, and
/// `choices` with power_of_d only, from 1 to the backends' count.
fn lb_policy(
    t: &LoadBalancerTable,
    v: &Values,
    policy: &str,
    weights: Option<Weights>,
    backends: u32,
) -> Result<Policy, Diagnostic> {
    match (policy, t.choices) {
        ("power_of_d", None) => {
            return Err(Diagnostic::at("power_of_d needs `choices`, the backends drawn per request", t.span.clone())
                .help("add choices = 2 (from 1 to the backends' count)"));
        }
        ("power_of_d", Some(c)) => {
            let d = v
                .count(c, "choices", 1, u64::from(backends))
                .map_err(|e| e.help(format!("choices is from 1 to the backends' count ({backends})")))?;
            return Ok(Policy::PowerOfD(d as u32));
        }
        (_, Some(c)) => {
            return Err(Diagnostic::at("`choices` applies only to policy = \"power_of_d\"", c.span()));
        }
        _ => {}
    }
    Ok(match (policy, weights) {
        ("weighted_round_robin", Some((w, span))) => {
            if w.len() != backends as usize {
                return Err(Diagnostic::at(format!("{} weights for {backends} backends", w.len()), span)
                    .help("give one weight per backend instance"));
            }
            Policy::WeightedRoundRobin(w)
        }
        ("weighted_round_robin", None) => {
            return Err(Diagnostic::at("weighted_round_robin needs `weights`, one per backend", t.span.clone())
                .help("add weights = [3, 1, 1]"));
        }
        (_, Some((_, span))) => {
            return Err(Diagnostic::at("`weights` apply only to policy = \"weighted_round_robin\"", span));
        }
        ("least_connections", None) => Policy::LeastConnections,
        ("client_hash", None) => Policy::ClientHash,
        ("power_of_two", None) => Policy::PowerOfTwo,
        ("random", None) => Policy::Random,
        _ => Policy::RoundRobin,
    })
}

/// `autoscale = { ... }` over `count` backends: the guide's Auto Scaling group (5 min
/// between scale-outs, 10 min before a scale-in) unless set.
fn lb_autoscale(x: &Spanned<Value>, v: &Values, count: u32) -> Result<LbAutoscale, Diagnostic> {
    let keys = ["min", "target", "interval", "startup", "cooldown", "scale_in_cooldown"];
    let sub = Sub::new(x, "autoscale", &keys)?;
    let dur = |k: &str, d: u64| sub.get(k).map_or(Ok(SimDuration::from_secs(d)), |x| v.duration(&x, k));
    let min = sub.get("min").map_or(Ok(1), |x| v.count(&x, "min", 1, 1_000_000))?;
    if min > u64::from(count) {
        return Err(Diagnostic::at(format!("autoscale: min ({min}) is above the backends' count ({count})"), x.span())
            .help("the backends' `count` is the most instances the group may run: raise it, or lower min"));
    }
    Ok(LbAutoscale {
        min: min as u32,
        target: sub.get("target").map_or(Ok(0.7), |x| v.number_in(&x, Dim::Number, "target", 0.01, 10.0))?,
        interval: sub.get("interval").map_or(Ok(SimDuration::from_secs(60)), |x| v.interval(&x, "interval"))?,
        startup: dur("startup", 120)?,
        cooldown: dur("cooldown", 300)?,
        scale_in_cooldown: dur("scale_in_cooldown", 600)?,
    })
}

fn load_balancer(t: &LoadBalancerTable, v: &Values, r: &Resolver, e: &mut Errors) -> Option<ComponentModel> {
    let backends = e.take(match t.backends {
        Some(x) => r.service(x, "backends"),
        None => {
            Err(Diagnostic::at("this load balancer has no `backends`", t.span.clone()).help("add backends = \"web\""))
        }
    });
    let policy = e.take(choice(
        t.policy,
        "policy",
        &[
            "round_robin",
            "least_connections",
            "client_hash",
            "weighted_round_robin",
            "power_of_two",
            "random",
            "power_of_d",
        ],
        "round_robin",
    ));
    let weights = e.take(lb_weights(t))?;
    let health = health_check(t, v, e)?;
    let max_connections =
        e.take(t.max_connections.map_or(Ok(50_000), |x| v.count(x, "max_connections", 1, 100_000_000)));
    let backends = backends?;
    let backend_count = r.counts[backends.index()];
    let policy = e.take(lb_policy(t, v, policy?, weights, backend_count))?;
    let autoscale = match t.autoscale {
        None => None,
        Some(x) => Some(e.take(lb_autoscale(x, v, backend_count))?),
    };
    Some(ComponentModel::LoadBalancer(LoadBalancerSpec {
        backends,
        policy,
        health,
        max_connections: max_connections? as u32,
        autoscale,
        start_in_service: None,
    }))
}
