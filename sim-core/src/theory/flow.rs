//! What each class's requests visit: per flow node, how often a root request reaches it,
//! how its visits split over the service's instances, what it costs there, and the
//! network round trip to reach it. Also how each service's instances fall into groups
//! that see the same load (a primary and its replicas, backends of equal weight).

use crate::event::Op;
use crate::kernel::distribution::Delay;
use crate::model::cache::WritePolicy;
use crate::model::cdn::EdgeCache;
use crate::model::database::Replication;
use crate::model::load_balancer::Policy;
use crate::model::{CallMode, ComponentModel, Model, Routing};
use crate::theory::route::Routes;

/// The first two moments of a time, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    pub mean_s: f64,
    /// E[T^2].
    pub m2: f64,
    /// Exponential: the memoryless case where M/M/c formulas are exact.
    pub exponential: bool,
}

impl Moments {
    pub fn of(d: &Delay) -> Moments {
        let mean_s = d.mean_ns() * 1e-9;
        Moments { mean_s, m2: mean_s * mean_s * (1.0 + d.scv()), exponential: matches!(d, Delay::Exponential { .. }) }
    }

    pub fn fixed(mean_s: f64) -> Moments {
        Moments { mean_s, m2: mean_s * mean_s, exponential: false }
    }
}

/// Where a node's own time is spent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Place {
    /// A pool of `servers` behind a FIFO queue with `room` places (beyond the servers);
    /// `blocking` when a server is held while the node's calls are out.
    Queue { servers: u32, room: u64, blocking: bool },
    /// No queue: the time passes whatever the load.
    Delay,
}

/// One flow node of one class, as the twin sees it.
#[derive(Clone, Debug)]
pub struct Node {
    pub service: usize,
    /// Visits to the service per root request of the class.
    pub visits: f64,
    /// Per instance of the service: the share of one visit that lands there (sums to 1,
    /// or to the shard count for a scan, which every shard answers).
    pub share: Vec<f64>,
    pub place: Place,
    pub own: Moments,
    /// Calls made per visit: the share of visits that go on (1 - error rate, the miss
    /// ratio), or for a queue each job's expected receives, retries included.
    pub pass: f64,
    /// Pure delay added when the calls are made (a CDN's haul to the origin).
    pub miss_s: f64,
    /// Pure delay after the node's own work (waiting for synchronous replicas).
    pub after_s: f64,
    /// Whether the calls' time is part of this node's answer (a queue answers at once).
    pub calls_answer: bool,
    pub calls: Vec<usize>,
    pub parallel: bool,
    /// Copies of this call made at once (`leaf*100`): its visits count them all.
    pub fanout: u32,
    /// Mean round trip between the caller and this node's instances.
    pub rtt_s: f64,
    /// Why the twin cannot say what happens at this node or below it: (part, why).
    pub unknown: Option<(String, String)>,
    /// Why the share of visits that go on to the calls is unknown: (part, why).
    pub pass_unknown: Option<(String, String)>,
}

/// A group of a service's instances that see the same load.
#[derive(Clone, Debug)]
pub struct Group {
    pub service: usize,
    pub role: String,
    /// Indices into the service's instances.
    pub members: Vec<usize>,
    /// The members share one queue (a job queue's consumers): one station of all their
    /// servers.
    pub pooled: bool,
}

fn kind_name(model: &Model, service: usize) -> &'static str {
    let first = model.services[service].instances[0];
    model.components[first.index()].model.kind()
}

/// The groups of every service, in service order.
pub fn groups(model: &Model) -> Vec<Group> {
    let mut out = Vec::new();
    for (si, s) in model.services.iter().enumerate() {
        let k = s.instances.len();
        let weighted = model.components.iter().find_map(|c| match &c.model {
            ComponentModel::LoadBalancer(lb) if lb.backends.index() == si => match &lb.policy {
                Policy::WeightedRoundRobin(w) => Some(w.clone()),
                _ => None,
            },
            _ => None,
        });
        let pooled =
            model.components.iter().any(|c| matches!(&c.model, ComponentModel::Queue(q) if q.consumers.index() == si));
        let name = |i: usize| model.components[s.instances[i].index()].name.clone();
        if matches!(s.routing, Routing::PrimaryReplica { nearest: true, .. }) && k > 1 {
            // Each member serves the callers nearest it: loads differ member by member.
            for i in 0..k {
                let role = if i == 0 { format!("primary ({})", name(0)) } else { format!("replica {}", name(i)) };
                out.push(Group { service: si, role, members: vec![i], pooled: false });
            }
        } else if matches!(s.routing, Routing::PrimaryReplica { .. }) && k > 1 {
            out.push(Group { service: si, role: format!("primary ({})", name(0)), members: vec![0], pooled: false });
            out.push(Group {
                service: si,
                role: format!("{} replicas", k - 1),
                members: (1..k).collect(),
                pooled: false,
            });
        } else if matches!(s.routing, Routing::Sharded(crate::model::Sharding::Range { .. })) && k > 1 {
            // Range shards take the popularity of their ranks: loads differ shard by shard.
            for i in 0..k {
                out.push(Group { service: si, role: format!("shard {}", name(i)), members: vec![i], pooled: false });
            }
        } else if let Some(w) = weighted.filter(|w| w.len() == k) {
            let mut weights: Vec<u32> = w.clone();
            weights.sort_unstable();
            weights.dedup();
            for wt in weights {
                let members: Vec<usize> = (0..k).filter(|&i| w[i] == wt).collect();
                out.push(Group { service: si, role: format!("weight {wt}"), members, pooled: false });
            }
        } else {
            let role = if pooled { "pooled behind a queue".to_string() } else { "all instances".to_string() };
            out.push(Group { service: si, role, members: (0..k).collect(), pooled });
        }
    }
    out
}

/// How one visit of `op` to `service` splits over its instances: the same for every
/// caller, or `None` when each caller picks its nearest member.
fn shares(
    model: &Model,
    service: usize,
    op: Op,
    balancer: Option<&Policy>,
    keyspace: Option<&crate::model::KeyspaceSpec>,
) -> Option<Vec<f64>> {
    let s = &model.services[service];
    let k = s.instances.len();
    let even = vec![1.0 / k as f64; k];
    if let Some(policy) = balancer {
        return Some(match policy {
            Policy::WeightedRoundRobin(w) if w.len() == k => {
                let total: f64 = w.iter().map(|&x| f64::from(x)).sum();
                w.iter().map(|&x| f64::from(x) / total).collect()
            }
            _ => even,
        });
    }
    match &s.routing {
        Routing::Sharded(_) if op == Op::Scan => Some(vec![1.0; k]),
        Routing::Sharded(crate::model::Sharding::Range { key_count }) => match keyspace {
            Some(ks) => Some(range_shares(*key_count, ks.count, ks.zipf_s, k)),
            None => Some(even),
        },
        Routing::RoundRobin | Routing::Sharded(_) => Some(even),
        Routing::PrimaryReplica { nearest: true, .. } if op != Op::Write => None,
        Routing::PrimaryReplica { reads_from_replicas, .. } => {
            let mut v = vec![0.0; k];
            if op != Op::Write && *reads_from_replicas && k > 1 {
                v[1..].iter_mut().for_each(|x| *x = 1.0 / (k - 1) as f64);
            } else {
                v[0] = 1.0;
            }
            Some(v)
        }
        Routing::Nearest => None,
    }
}

/// Each caller's nearest member, as the engine's driver picks it (lowest mean route
/// latency, then lowest index; every member serves in the fault-free run): the visit
/// shares per member and the mean round trip.
fn nearest(routes: &mut Routes, model: &Model, callers: &[(usize, f64)], service: usize) -> Option<(Vec<f64>, f64)> {
    let instances = &model.services[service].instances;
    let callers = spaced(callers.iter().copied().filter(|c| c.1 > 0.0).collect());
    let total: f64 = callers.iter().map(|c| c.1).sum();
    let (mut share, mut rtt) = (vec![0.0; instances.len()], 0.0);
    for &(a, w) in &callers {
        let mut best: Option<(f64, usize)> = None;
        for (i, b) in instances.iter().enumerate() {
            let l = routes.one_way_s(a, b.index());
            if let Some(l) = l.filter(|&l| best.is_none_or(|(bl, _)| l < bl)) {
                best = Some((l, i));
            }
        }
        let (l, i) = best?;
        share[i] += w / total;
        rtt += w / total * 2.0 * l;
    }
    Some((share, rtt))
}

/// At most this many callers and this many callees enter a round-trip average.
const ROUTE_SAMPLE_MAX: usize = 64;

/// Up to `ROUTE_SAMPLE_MAX` of the weighted items, evenly spaced: a large service's mean
/// route is estimated from a sample (exact when its instances sit alike, as they usually do).
fn spaced(items: Vec<(usize, f64)>) -> Vec<(usize, f64)> {
    let step = items.len().div_ceil(ROUTE_SAMPLE_MAX).max(1);
    items.into_iter().step_by(step).collect()
}

/// Mean round trip from `callers` (component, weight) to the service's instances by share.
/// Links are undirected with symmetric costs, so the way back is as long as the way there.
fn round_trip(
    routes: &mut Routes,
    model: &Model,
    callers: &[(usize, f64)],
    service: usize,
    share: &[f64],
) -> Option<f64> {
    let callers = spaced(callers.iter().copied().filter(|c| c.1 > 0.0).collect());
    let callees = spaced(
        share
            .iter()
            .enumerate()
            .filter(|s| *s.1 > 0.0)
            .map(|(i, &w)| (model.services[service].instances[i].index(), w))
            .collect(),
    );
    let total_a: f64 = callers.iter().map(|c| c.1).sum();
    let total_b: f64 = callees.iter().map(|c| c.1).sum();
    let mut rtt = 0.0;
    for &(a, wa) in &callers {
        for &(b, wb) in &callees {
            rtt += (wa / total_a) * (wb / total_b) * 2.0 * routes.one_way_s(a, b)?;
        }
    }
    Some(rtt)
}

/// Range shards' shares of a keyspace's requests: shard j holds ranks [j·w, (j+1)·w) with
/// w = ⌈key_count / shards⌉ (the last one the rest), and rank r is drawn with weight
/// (r + 1)^-s (uniformly when s = 0), as the clients draw keys.
pub fn range_shares(key_count: u64, count: u64, s: f64, shards: usize) -> Vec<f64> {
    let width = key_count.div_ceil(shards as u64).max(1);
    let bound = |j: usize| if j + 1 == shards { count } else { ((j as u64 + 1) * width).min(count) };
    let start = |j: usize| (j as u64 * width).min(count);
    let masses: Vec<f64> = (0..shards)
        .map(|j| {
            if s > 0.0 {
                zipf_mass(start(j), bound(j).max(start(j)), s)
            } else {
                (bound(j).max(start(j)) - start(j)) as f64
            }
        })
        .map(|m| m.max(0.0))
        .collect();
    let total: f64 = masses.iter().sum();
    if total > 0.0 { masses.iter().map(|m| m / total).collect() } else { vec![1.0 / shards as f64; shards] }
}

/// Σ (r + 1)^-s over ranks r in [from, to): exact for the first 10^5 terms, then the
/// integral with the midpoint correction (error far below a part in 10^6 there).
fn zipf_mass(from: u64, to: u64, s: f64) -> f64 {
    const EXACT: u64 = 100_000;
    let exact_to = to.min(from.saturating_add(EXACT));
    let mut sum: f64 = (from..exact_to).map(|r| ((r + 1) as f64).powf(-s)).sum();
    if to > exact_to {
        let (a, b) = (exact_to as f64 + 0.5, to as f64 + 0.5);
        sum += if (s - 1.0).abs() < 1e-12 { (b / a).ln() } else { (b.powf(1.0 - s) - a.powf(1.0 - s)) / (1.0 - s) };
    }
    sum
}

/// The nodes of one class, in flow order (every node's calls come after it).
pub fn nodes(model: &Model, ci: usize, routes: &mut Routes) -> Vec<Node> {
    let class = &model.classes[ci];
    let flow = &class.flow;
    let mut parent = vec![None; flow.len()];
    for (i, n) in flow.iter().enumerate() {
        for &c in &n.calls {
            assert!(c as usize > i, "a flow node's calls come after it");
            parent[c as usize] = Some(i);
        }
    }
    let mut out: Vec<Node> = Vec::with_capacity(flow.len());
    for (i, fnode) in flow.iter().enumerate() {
        let si = fnode.service.index();
        let sname = &model.services[si].name;
        let spec = &model.components[model.services[si].instances[0].index()].model;
        let balancer = parent[i].and_then(|p| {
            match &model.components[model.services[flow[p].service.index()].instances[0].index()].model {
                ComponentModel::LoadBalancer(lb) => Some(&lb.policy),
                _ => None,
            }
        });
        let mut unknown = parent[i].and_then(|p| out[p].unknown.clone().or(out[p].pass_unknown.clone()));
        let visits = match parent[i] {
            None => 1.0,
            Some(p) => out[p].visits * out[p].pass * f64::from(fnode.fanout),
        };
        let callers: Vec<(usize, f64)> = match parent[i] {
            None => vec![(class.origin.index(), 1.0)],
            Some(p) => {
                let ps = out[p].service;
                out[p].share.iter().enumerate().map(|(j, &w)| (model.services[ps].instances[j].index(), w)).collect()
            }
        };
        let k = model.services[si].instances.len();
        let keyspace = class.keyspace.map(|k| &model.keyspaces[k.index()]);
        let routed = match shares(model, si, fnode.op, balancer, keyspace) {
            Some(share) => round_trip(routes, model, &callers, si, &share).map(|rtt| (share, rtt)),
            None => nearest(routes, model, &callers, si),
        };
        let (share, rtt_s) = routed.unwrap_or_else(|| {
            unknown.get_or_insert((sname.clone(), "no link path reaches it".into()));
            (vec![1.0 / k as f64; k], 0.0)
        });
        let mut node = Node {
            service: si,
            visits,
            share,
            place: Place::Delay,
            own: Moments::fixed(0.0),
            pass: 1.0,
            miss_s: 0.0,
            after_s: 0.0,
            calls_answer: true,
            calls: fnode.calls.iter().map(|&c| c as usize).collect(),
            parallel: fnode.parallel,
            fanout: fnode.fanout,
            rtt_s,
            unknown,
            pass_unknown: None,
        };
        let refuse = |why: String| Some((sname.clone(), why));
        match spec {
            ComponentModel::Server(s) => {
                let d = s.service_by_class.iter().find(|(c, _)| c.index() == ci).map_or(&s.service, |(_, d)| d);
                node.own = Moments::of(d);
                node.place = Place::Queue {
                    servers: s.workers,
                    room: u64::from(s.queue_capacity),
                    blocking: s.call_mode == CallMode::Blocking,
                };
                node.pass = 1.0 - s.error_rate;
                if s.admission.is_some() {
                    node.unknown.get_or_insert((
                        sname.clone(),
                        "its admission control (rate limit, shedding or LIFO) decides by its state: what it admits is not a queueing formula".into(),
                    ));
                }
            }
            ComponentModel::Database(d) => {
                node.own = Moments::of(if fnode.op == Op::Write { &d.write_time } else { &d.read_time });
                node.place =
                    Place::Queue { servers: d.max_connections, room: u64::from(d.pool_queue), blocking: false };
                if fnode.op == Op::Write && d.replication == Replication::Sync && !d.sharded {
                    node.after_s = sync_wait(routes, model, si);
                }
            }
            ComponentModel::LoadBalancer(_) => {}
            ComponentModel::Gateway(_) => {
                node.unknown.get_or_insert((
                    sname.clone(),
                    "an API gateway: the twin has no station for its authentication, rate limit and routing by policy yet".into(),
                ));
            }
            ComponentModel::Cache(c) => {
                node.own = Moments::of(&c.latency);
                match (fnode.op, c.write_policy) {
                    (Op::Write, WritePolicy::CacheAside | WritePolicy::WriteThrough) => {}
                    (Op::Write, WritePolicy::WriteBehind) => {
                        node.calls_answer = false;
                        node.pass_unknown = refuse("write-behind flushes dirty keys in batches, so the writes reaching the database depend on how often keys repeat".into());
                    }
                    _ => {
                        node.pass_unknown = refuse("its hit ratio depends on its state (LRU under Zipf popularity), so the twin does not predict what reaches the services behind it".into());
                    }
                }
            }
            ComponentModel::Queue(q) => {
                node.own = Moments::of(&q.latency);
                node.calls_answer = false;
                // A job its worker fails is received again, up to `max_receives` times.
                let first = model.services[q.consumers.index()].instances[0];
                if let ComponentModel::Server(w) = &model.components[first.index()].model {
                    let (e, m) = (w.error_rate, q.max_receives as i32);
                    node.pass = if e >= 1.0 { f64::from(q.max_receives) } else { (1.0 - e.powi(m)) / (1.0 - e) };
                }
            }
            ComponentModel::Cdn(c) => {
                let total: f64 = c.regions.iter().map(|r| r.share).sum();
                let mean = |f: &dyn Fn(&crate::model::cdn::Region) -> &Delay| {
                    c.regions.iter().map(|r| r.share / total * f(r).mean_ns() * 1e-9).sum::<f64>()
                };
                node.own = Moments::fixed(mean(&|r| &r.edge_latency));
                node.miss_s = mean(&|r| &r.origin_latency);
                match c.cache {
                    EdgeCache::HitRatio(h) => node.pass = 1.0 - h,
                    EdgeCache::Lru { .. } => {
                        node.pass_unknown =
                            refuse("its edges' hit ratio depends on their LRU state under the keys' popularity".into());
                    }
                }
            }
            ComponentModel::ObjectStore(o) => {
                let first_byte = if fnode.op == Op::Write { &o.put_latency } else { &o.get_latency };
                node.own = Moments::fixed(
                    first_byte.mean_ns() * 1e-9 + o.object_size as f64 / o.bandwidth.max(f64::MIN_POSITIVE),
                );
            }
            ComponentModel::WebSocket(_) => {
                node.unknown.get_or_insert((
                    sname.clone(),
                    "a WebSocket connection stays open as long as its user does: it has no service time to queue for"
                        .into(),
                ));
            }
            ComponentModel::PubSub(_) => {
                node.unknown.get_or_insert((
                    sname.clone(),
                    "pub/sub relays every message to every subscriber: a broadcast, not a queue".into(),
                ));
            }
            ComponentModel::Store(_) => {
                node.unknown.get_or_insert((sname.clone(), "each request waits for a quorum of replicas (the slowest of r or w answers), which the twin does not model".into()));
            }
            ComponentModel::Clients(_) => {
                node.unknown.get_or_insert((sname.clone(), "a population of users is not a station".into()));
            }
        }
        if !node.own.m2.is_finite() {
            node.unknown.get_or_insert((
                sname.clone(),
                format!("its {} service time has infinite variance (Pareto, shape <= 2), so theory's mean wait is unbounded", kind_name(model, si)),
            ));
        }
        out.push(node);
    }
    out
}

/// Synchronous replication: a write is answered once every replica has applied it, one
/// round trip from the primary to the farthest replica (replicas apply at once).
fn sync_wait(routes: &mut Routes, model: &Model, service: usize) -> f64 {
    let inst = &model.services[service].instances;
    let primary = inst[0].index();
    inst[1..]
        .iter()
        .filter_map(|r| Some(routes.one_way_s(primary, r.index())? + routes.one_way_s(r.index(), primary)?))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_shards_under_zipf_take_the_mass_of_their_ranks() {
        // Zipf(1.0) over 100,000 keys, 4 range shards: the first quarter of ranks holds
        // H(25,000) / H(100,000) of the draws (README: 88.6% on the hot shard).
        let v = range_shares(100_000, 100_000, 1.0, 4);
        let h = |n: u64| (1..=n).map(|k| 1.0 / k as f64).sum::<f64>();
        assert!((v[0] - h(25_000) / h(100_000)).abs() < 1e-9, "{v:?}");
        assert!((v.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Far past the exact terms the integral takes over.
        let big = zipf_mass(0, 10_000_000, 0.8);
        let exact: f64 = (1..=10_000_000u64).map(|k| (k as f64).powf(-0.8)).sum();
        assert!((big - exact).abs() / exact < 1e-9, "{big} vs {exact}");
        // Uniform keys: shares follow the ranges' sizes; a key count beyond the keys
        // leaves the last shards empty.
        assert_eq!(range_shares(100, 100, 0.0, 4), vec![0.25; 4]);
        assert_eq!(range_shares(200, 100, 0.0, 4), vec![0.5, 0.5, 0.0, 0.0]);
    }
}
