//! The analytic twin: a scenario's model compiled into a queueing network and solved by
//! formula, to set beside what the simulation measures. Where theory has an answer the
//! twin gives it, saying whether it is exact; where the answer depends on state the model
//! evolves (a cache's hit ratio, a quorum's slowest replica, surging load), it refuses
//! that part and says why, in a sentence. It predicts the fault-free steady state.
//!
//! Open workloads (Poisson) give an open network solved station by station (`open`);
//! closed ones (users who think) are solved by mean-value analysis (`closed`, `mva`).
//! A service with k instances behind an even split is k stations each given 1/k of its
//! arrivals; a primary and its replicas, or backends of different weights, are separate
//! groups. Network hops are pure delays: each call pays the mean round trip of its route.

pub mod closed;
pub mod erlang;
pub mod flow;
pub mod mva;
pub mod open;
pub mod route;

use crate::model::load_balancer::Policy;
use crate::model::{Arrival, CallMode, ComponentModel, Model, Routing};
use crate::theory::flow::{Group, Node, Place};
use crate::theory::open::GroupState;
use serde::Serialize;

/// What theory predicts for a model, and what it will not predict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Twin {
    /// How the network was solved, e.g. "open network: M/M/c/K or M/G/c per station".
    pub method: String,
    /// Per group of a service's instances that the twin models.
    pub stations: Vec<StationPrediction>,
    /// Per class, in model order.
    pub classes: Vec<ClassPrediction>,
    pub refusals: Vec<Refusal>,
    /// What the predictions leave out or approximate.
    pub caveats: Vec<String>,
    pub bounds: Bounds,
}

/// One group of identical instances of a service at the modelled load.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StationPrediction {
    pub service: String,
    /// Which instances: "all instances", "primary (db-1)", "2 replicas", "weight 3".
    pub role: String,
    /// Their names, so the prediction can be set beside what they measured.
    pub members: Vec<String>,
    /// "queue" (servers behind a FIFO queue) or "delay" (no queue: time passes whatever the load).
    pub kind: &'static str,
    pub instances: u32,
    pub servers_per_instance: u32,
    pub arrival_rps_per_instance: f64,
    /// Offered load per server, lambda * E[holding] / servers. 1 or more: saturated, or
    /// with finite room turning many away.
    pub utilization: f64,
    /// Share of arrivals turned away because the queue is full (M/M/c/K).
    pub reject_share: f64,
    /// Mean requests at one instance, waiting or served (L); `None` when saturated.
    pub mean_in_system: Option<f64>,
    /// Mean time a visit spends there: wait plus holding (a blocking server's holding
    /// includes its calls); `None` when saturated.
    pub mean_response_ms: Option<f64>,
    /// Mean time a server is held per visit: its own service, and for a blocking server
    /// the calls it waits on.
    pub holding_ms: f64,
    /// Holding time one instance gives per root request, over all classes (D = V * S).
    pub demand_ms: f64,
    /// Root requests per second at which utilization reaches 1 (holding times as now).
    pub saturates_at_rps: Option<f64>,
    pub exact: bool,
    /// Why there is no steady state, when saturated.
    pub saturated: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassPrediction {
    pub class: String,
    pub mean_latency_ms: Option<f64>,
    /// Exact under the model's assumptions (exponential stations, Poisson splits).
    pub exact: bool,
    pub why_not: Option<String>,
}

/// A part the twin does not predict: a service, a population or a class.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Refusal {
    pub part: String,
    pub why: String,
}

/// Asymptotic bounds (Lazowska et al. ch. 5): throughput can never pass 1 / D_max,
/// and a closed population starts to queue near N* = (D + Z) / D_max users.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bounds {
    /// The station with the largest demand per server.
    pub bottleneck: Option<String>,
    pub demand_max_ms: f64,
    pub throughput_max_rps: Option<f64>,
    /// Latency with no waiting anywhere, averaged over classes (D).
    pub demand_total_ms: f64,
    /// Mean think time of the closed users (Z).
    pub think_ms: Option<f64>,
    pub users_star: Option<f64>,
}

/// A population of users as the twin reads it.
struct Population {
    name: String,
    arrival: Arrival,
    /// (class, share of its requests).
    classes: Vec<(usize, f64)>,
    refused: Option<String>,
}

fn populations(model: &Model) -> Vec<Population> {
    model
        .components
        .iter()
        .filter_map(|c| match &c.model {
            ComponentModel::Clients(spec) => {
                let total: f64 = spec.class_weights.iter().map(|w| w.1).sum();
                let refused = (!spec.surges.is_empty())
                    .then(|| {
                        format!("load varies over time ({} surges); the twin predicts a steady load", spec.surges.len())
                    })
                    .or_else(|| {
                        let retrying = spec.class_weights.iter().find(|(k, _)| model.classes[k.index()].retry.is_some());
                        retrying.map(|(k, _)| {
                            format!(
                                "class `{}` retries failed calls: its load depends on how many fail, which the twin does not predict",
                                model.classes[k.index()].name
                            )
                        })
                    })
                    .or_else(|| {
                        let hedging = spec.class_weights.iter().find(|(k, _)| !model.classes[k.index()].hedges.is_empty());
                        hedging.map(|(k, _)| {
                            format!(
                                "class `{}` hedges its calls: a copy goes out once a call is slower than a wait, and the first answer wins, a minimum the twin does not predict",
                                model.classes[k.index()].name
                            )
                        })
                    })
                    .or_else(|| {
                        let retrying = spec.class_weights.iter().find_map(|(k, _)| {
                            let c = &model.classes[k.index()];
                            c.hops.iter().find(|h| h.retry.is_some()).map(|h| (c, h.service))
                        });
                        retrying.map(|(c, service)| {
                            format!(
                                "class `{}` retries its failed calls to `{}`: the load on it and below depends on how many fail, which the twin does not predict",
                                c.name,
                                model.services[service.index()].name
                            )
                        })
                    })
                    .or_else(|| {
                        let propagating = spec.class_weights.iter().find(|(k, _)| model.classes[k.index()].propagate_deadline);
                        propagating.map(|(k, _)| {
                            format!(
                                "class `{}` propagates its deadline: calls are cut short, or not sent, once its requests' time runs out, which the twin does not predict",
                                model.classes[k.index()].name
                            )
                        })
                    });
                Some(Population {
                    name: model.services[c.service.index()].name.clone(),
                    arrival: spec.arrival.clone(),
                    classes: spec.class_weights.iter().map(|(k, w)| (k.index(), w / total)).collect(),
                    refused,
                })
            }
            _ => None,
        })
        .collect()
}

/// The first reason a class's latency cannot be told: a node on its answer's path whose
/// own time, or whose share of visits going on to its calls, is unknown.
fn latency_unknown(nodes: &[Node], at: usize) -> Option<(String, String)> {
    let n = &nodes[at];
    if let Some(u) = &n.unknown {
        return Some(u.clone());
    }
    if !n.calls_answer || n.calls.is_empty() {
        return None;
    }
    if let Some(u) = &n.pass_unknown {
        return Some(u.clone());
    }
    n.calls.iter().find_map(|&c| latency_unknown(nodes, c))
}

/// The nodes whose time is part of the answer: the root, and the calls of every such
/// node that waits for its calls (a queue answers before its workers start).
fn answer_path(nodes: &[Node]) -> Vec<usize> {
    let mut out = vec![0];
    let mut i = 0;
    while i < out.len() {
        let n = &nodes[out[i]];
        if n.calls_answer {
            out.extend(&n.calls);
        }
        i += 1;
    }
    out
}

/// Why a service is refused when the unknown part is `part`: itself, or something its
/// load passes through.
fn because(service: &str, (part, why): &(String, String)) -> String {
    if part == service { why.clone() } else { format!("its load comes through `{part}`: {why}") }
}

impl Twin {
    /// Compiles and solves the model. Never panics on a validated model.
    pub fn compile(model: &Model) -> Twin {
        let mut refusals: Vec<Refusal> = Vec::new();
        let mut caveats = Vec::new();
        let mut pops = populations(model);
        let mut routes = route::Routes::new(model);
        let nodes: Vec<Vec<Node>> = (0..model.classes.len()).map(|ci| flow::nodes(model, ci, &mut routes)).collect();
        let groups = flow::groups(model);
        let mut group_of: Vec<Vec<usize>> = model.services.iter().map(|s| vec![0; s.instances.len()]).collect();
        for (g, group) in groups.iter().enumerate() {
            group.members.iter().for_each(|&m| group_of[group.service][m] = g);
        }
        let open = |p: &Population| matches!(p.arrival, Arrival::Poisson { .. });
        let any_open = pops.iter().any(|p| p.refused.is_none() && open(p));
        for p in pops.iter_mut().filter(|p| p.refused.is_none() && !open(p)) {
            p.refused = closed_refusal(model, &nodes, p).or_else(|| {
                any_open.then(|| "closed users beside an open workload: the twin solves the open part only".to_string())
            });
        }
        let pop_of: Vec<Option<usize>> = (0..model.classes.len())
            .map(|c| pops.iter().position(|p| p.classes.iter().any(|&(k, _)| k == c)))
            .collect();

        // Services whose load the twin cannot tell: reached through a part it cannot
        // model, or serving a refused population. A closed population that reaches a
        // refused service is refused in turn (its users' cycle is unknown), until settled.
        let mut refused_service = vec![None::<String>; model.services.len()];
        for b in &model.breakers {
            let (from, to) = (&model.services[b.from.index()].name, &model.services[b.to.index()].name);
            let why = format!("`{from}` calls `{to}` through a circuit breaker, whose state depends on the run");
            refused_service[b.from.index()].get_or_insert_with(|| why.clone());
            refused_service[b.to.index()].get_or_insert(why);
        }
        loop {
            for (c, ns) in nodes.iter().enumerate() {
                let Some(p) = pop_of[c] else { continue };
                for n in ns {
                    let name = &model.services[n.service].name;
                    let why = match &pops[p].refused {
                        Some(_) => format!("it also serves `{}`, whose load the twin refuses", pops[p].name),
                        None => match &n.unknown {
                            Some(u) => because(name, u),
                            None => continue,
                        },
                    };
                    refused_service[n.service].get_or_insert(why);
                }
            }
            let mut changed = false;
            for p in pops.iter_mut().filter(|p| p.refused.is_none() && !open(p)) {
                let reached = p.classes.iter().find_map(|&(c, _)| {
                    nodes[c].iter().find_map(|n| refused_service[n.service].as_ref().map(|w| (n.service, w.clone())))
                });
                if let Some((s, why)) = reached {
                    p.refused = Some(format!("its users reach `{}`, which is refused: {why}", model.services[s].name));
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for p in &pops {
            if let Some(why) = &p.refused {
                refusals.push(Refusal { part: p.name.clone(), why: why.clone() });
            }
        }
        let class_active: Vec<bool> = pop_of.iter().map(|p| p.is_some_and(|p| pops[p].refused.is_none())).collect();
        for ns in nodes.iter().zip(&class_active).filter(|(_, a)| **a).map(|(ns, _)| ns) {
            for n in ns {
                let name = &model.services[n.service].name;
                let fresh = refused_service[n.service].is_none() && !refusals.iter().any(|r| &r.part == name);
                if let Some(u) = n.pass_unknown.as_ref().filter(|_| fresh && !n.calls.is_empty() && n.unknown.is_none())
                {
                    refusals.push(Refusal { part: name.clone(), why: u.1.clone() });
                }
            }
        }
        for (s, why) in refused_service.iter().enumerate() {
            if let Some(why) = why {
                refusals.push(Refusal { part: model.services[s].name.clone(), why: why.clone() });
            }
        }
        let closed_mode = pops.iter().any(|p| p.refused.is_none() && !open(p));
        let counted: Vec<Vec<bool>> = nodes
            .iter()
            .enumerate()
            .map(|(c, ns)| {
                ns.iter()
                    .map(|n| class_active[c] && n.unknown.is_none() && refused_service[n.service].is_none())
                    .collect()
            })
            .collect();
        let pooled_room: Vec<u64> = groups
            .iter()
            .map(|g| {
                model
                    .components
                    .iter()
                    .find_map(|c| match &c.model {
                        ComponentModel::Queue(q) if q.consumers.index() == g.service => Some(q.capacity),
                        _ => None,
                    })
                    .unwrap_or(0)
            })
            .collect();
        let horizon_s = model.duration.0.saturating_sub(model.warmup.0) as f64 * 1e-9;
        let floor = open::solve(&open::Load {
            nodes: &nodes,
            groups: &groups,
            group_of: &group_of,
            rate: &vec![0.0; nodes.len()],
            counted: &counted,
            pooled_room: &pooled_room,
            horizon_s,
        })
        .floor_s;

        // Per class: its root requests per second at the solution, and per group its state.
        let (method, states, latency_s, rate) = if closed_mode {
            let cpops: Vec<closed::Population> = pops
                .iter()
                .filter(|p| p.refused.is_none())
                .filter_map(|p| match &p.arrival {
                    Arrival::Closed { users, think } => Some(closed::Population {
                        users: *users,
                        think_s: think.mean_ns() * 1e-9,
                        classes: p.classes.clone(),
                    }),
                    Arrival::Poisson { .. } => None,
                })
                .collect();
            let sol = closed::solve(&closed::Load { nodes: &nodes, groups: &groups, populations: &cpops });
            let mut rate = vec![0.0; nodes.len()];
            for (p, cp) in cpops.iter().enumerate() {
                cp.classes.iter().for_each(|&(c, f)| rate[c] = sol.throughput[p] * f);
            }
            let method = match sol.method {
                mva::Method::Exact => {
                    format!("exact MVA (closed, {} class{})", cpops.len(), if cpops.len() == 1 { "" } else { "es" })
                }
                mva::Method::Schweitzer => format!("Schweitzer-Bard approximate MVA (closed, {} classes)", cpops.len()),
            };
            let latency = sol.latency_s.iter().map(|&l| Some(l)).collect();
            (format!("{method}; Seidmann's approximation for multi-server stations"), sol.groups, latency, rate)
        } else if pops.iter().any(|p| p.refused.is_none()) {
            let mut rate = vec![0.0; nodes.len()];
            for p in pops.iter().filter(|p| p.refused.is_none()) {
                if let Arrival::Poisson { rate_per_sec } = p.arrival {
                    p.classes.iter().for_each(|&(c, f)| rate[c] += rate_per_sec * f);
                }
            }
            let held = nodes.iter().zip(&counted).any(|(ns, k)| {
                ns.iter()
                    .zip(k)
                    .any(|(n, &k)| k && !n.calls.is_empty() && matches!(n.place, Place::Queue { blocking: true, .. }))
            });
            let sol = open::solve(&open::Load {
                nodes: &nodes,
                groups: &groups,
                group_of: &group_of,
                rate: &rate,
                counted: &counted,
                pooled_room: &pooled_room,
                horizon_s,
            });
            let latency = sol.response_s.iter().map(|r| r.first().copied().filter(|l| l.is_finite())).collect();
            let method = format!(
                "open network: M/M/c/K (exact) or M/G/c (Allen-Cunneen) per station, Poisson splits (Jackson){}",
                if held {
                    format!("; held workers solved as a fixed point in {} iterations", sol.iterations)
                } else {
                    String::new()
                }
            );
            (method, sol.groups, latency, rate)
        } else {
            (
                "none: every population is refused".to_string(),
                vec![None; groups.len()],
                vec![None; nodes.len()],
                vec![0.0; nodes.len()],
            )
        };
        let total_rate: f64 = rate.iter().sum();

        let label = |g: &Group| {
            let name = &model.services[g.service].name;
            if groups.iter().filter(|o| o.service == g.service).count() > 1 {
                format!("{name} {}", g.role)
            } else {
                name.clone()
            }
        };
        let mut stations = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            if refused_service[group.service].is_some() {
                continue;
            }
            let members = group.members.len() as u32;
            if let Some(s) = &states[g] {
                stations.push(queue_prediction(model, group, s, members, total_rate, &label(group)));
            } else if let Some(d) = delay_prediction(model, &nodes, &counted, &rate, group, total_rate) {
                stations.push(d);
            }
        }
        let path: Vec<Vec<usize>> = nodes.iter().map(|ns| answer_path(ns)).collect();
        let classes = (0..model.classes.len())
            .map(|c| {
                let name = model.classes[c].name.clone();
                let why = if let Some(p) = pop_of[c].filter(|&p| pops[p].refused.is_some()) {
                    Some(format!(
                        "its population `{}` is refused: {}",
                        pops[p].name,
                        pops[p].refused.as_deref().unwrap_or("")
                    ))
                } else if pop_of[c].is_none() {
                    Some("no population sends it".to_string())
                } else if let Some(u) = latency_unknown(&nodes[c], 0) {
                    Some(format!("`{}`: {}", u.0, u.1))
                } else if let Some(n) = nodes[c].iter().find(|n| n.fanout > 1) {
                    Some(format!(
                        "it waits for the slowest of {} calls to `{}`: the mean of a maximum is not the maximum of the means",
                        n.fanout, model.services[n.service].name
                    ))
                } else if let Some(s) = path[c].iter().find_map(|&i| {
                    let n = &nodes[c][i];
                    refused_service[n.service].as_ref().map(|w| (n.service, w))
                }) {
                    Some(format!("`{}` is refused: {}", model.services[s.0].name, s.1))
                } else {
                    saturated_on_path(path[c].iter().map(|&i| &nodes[c][i]), &group_of, &groups, &states, &label)
                };
                let latency = if why.is_none() { latency_s[c] } else { None };
                let exact = latency.is_some()
                    && path[c].iter().map(|&i| &nodes[c][i]).all(|n| {
                        n.share.iter().sum::<f64>() <= 1.0 + 1e-9
                            && !(n.parallel && n.calls.len() > 1)
                            && n.share.iter().enumerate().filter(|s| *s.1 > 0.0).all(|(j, _)| {
                                let g = group_of[n.service][j];
                                states[g].as_ref().is_none_or(|s| s.exact)
                            })
                    });
                let why = why
                    .or_else(|| latency.is_none().then(|| "no finite latency: a station on its path saturates".into()));
                ClassPrediction { class: name, mean_latency_ms: latency.map(|l| l * 1e3), exact, why_not: why }
            })
            .collect();

        caveats_for(model, &nodes, &class_active, &stations, &mut caveats);
        let bounds = bounds(&pops, &stations, &floor, &rate, closed_mode);
        refusals.sort();
        refusals.dedup();
        Twin { method, stations, classes, refusals, caveats, bounds }
    }

    /// How many instances bring `service` under `target_utilization` per server at the
    /// modelled load, assuming added instances share it evenly; a group that cannot grow
    /// (a primary) is counted as it is. `None` if the twin does not model the service.
    pub fn instances_for(&self, service: &str, target_utilization: f64) -> Option<u32> {
        assert!(target_utilization > 0.0, "a target utilization is above zero");
        let mine: Vec<&StationPrediction> = self.stations.iter().filter(|s| s.service == service).collect();
        if mine.is_empty() {
            return None;
        }
        Some(
            mine.iter()
                .map(|s| {
                    // The tolerance keeps 1.2 / 0.6 at 2 despite rounding.
                    let need = (f64::from(s.instances) * s.utilization / target_utilization - 1e-9).ceil();
                    if s.kind == "delay" || s.role.starts_with("primary") { s.instances } else { (need as u32).max(1) }
                })
                .sum(),
        )
    }
}

/// The closed-network rules: additive times along the flow, no open sub-network, and
/// held workers that never queue.
fn closed_refusal(model: &Model, nodes: &[Vec<Node>], p: &Population) -> Option<String> {
    let Arrival::Closed { users, .. } = p.arrival else { return None };
    for &(c, _) in &p.classes {
        let class = &model.classes[c].name;
        for n in &nodes[c] {
            let name = &model.services[n.service].name;
            if let Some(u) = n.unknown.as_ref().or(n.pass_unknown.as_ref().filter(|_| !n.calls.is_empty())) {
                return Some(format!("class `{class}` reaches `{}`: {}", u.0, u.1));
            }
            if n.parallel && n.calls.len() > 1 || n.fanout > 1 || n.share.iter().sum::<f64>() > 1.0 + 1e-9 {
                return Some(format!(
                    "class `{class}` makes parallel calls at `{name}`; MVA adds times, it has no maximum"
                ));
            }
            if !n.calls_answer && !n.calls.is_empty() {
                return Some(format!(
                    "class `{class}` hands jobs to `{name}`: its workers run outside the users' cycle (an open part in a closed network)"
                ));
            }
            if let Place::Queue { servers, blocking: true, .. } = n.place {
                let k = model.services[n.service].instances.len() as u32;
                if !n.calls.is_empty() && servers.saturating_mul(k) < users {
                    return Some(format!(
                        "`{name}` holds a worker while its calls are out and has {} workers for {users} users: held workers are not a product-form network",
                        servers.saturating_mul(k)
                    ));
                }
            }
        }
    }
    None
}

fn queue_prediction(
    model: &Model,
    g: &Group,
    s: &GroupState,
    members: u32,
    total_rate: f64,
    label: &str,
) -> StationPrediction {
    let per = if g.pooled { f64::from(members) } else { 1.0 };
    let servers = if g.pooled { s.servers / members.max(1) } else { s.servers };
    let ok = s.saturated.is_none();
    StationPrediction {
        service: model.services[g.service].name.clone(),
        role: g.role.clone(),
        members: member_names(model, g),
        kind: "queue",
        instances: members,
        servers_per_instance: servers,
        arrival_rps_per_instance: s.arrival_rps / per,
        utilization: s.offered,
        reject_share: s.p_reject,
        mean_in_system: ok.then(|| s.in_system / per),
        mean_response_ms: ok.then_some(s.response_s * 1e3),
        holding_ms: s.holding_s * 1e3,
        demand_ms: s.demand_s / per * 1e3,
        saturates_at_rps: (s.offered > 0.0 && s.offered.is_finite()).then(|| total_rate / s.offered),
        exact: s.exact && ok,
        saturated: s.saturated.as_ref().map(|w| format!("{label} saturates: {w}")),
    }
}

fn member_names(model: &Model, g: &Group) -> Vec<String> {
    let svc = &model.services[g.service];
    g.members.iter().map(|&i| model.components[svc.instances[i].index()].name.clone()).collect()
}

/// A service with no queue (a balancer's forwarding, a cache lookup, an object store):
/// its time per visit and, by Little's law, the requests it holds.
fn delay_prediction(
    model: &Model,
    nodes: &[Vec<Node>],
    counted: &[Vec<bool>],
    rate: &[f64],
    g: &Group,
    total_rate: f64,
) -> Option<StationPrediction> {
    let (mut lambda, mut busy, mut any) = (0.0, 0.0, false);
    for (c, ns) in nodes.iter().enumerate() {
        for (_, n) in ns.iter().enumerate().filter(|(i, n)| n.service == g.service && counted[c][*i]) {
            if n.place != Place::Delay {
                return None;
            }
            any = true;
            let l = rate[c] * n.visits * n.share[g.members[0]];
            lambda += l;
            busy += l * n.own.mean_s;
        }
    }
    any.then(|| StationPrediction {
        service: model.services[g.service].name.clone(),
        role: g.role.clone(),
        members: member_names(model, g),
        kind: "delay",
        instances: g.members.len() as u32,
        servers_per_instance: 0,
        arrival_rps_per_instance: lambda,
        utilization: 0.0,
        reject_share: 0.0,
        mean_in_system: Some(busy),
        mean_response_ms: Some(if lambda > 0.0 { busy / lambda * 1e3 } else { 0.0 }),
        holding_ms: 0.0,
        demand_ms: if total_rate > 0.0 { busy / total_rate * 1e3 } else { 0.0 },
        saturates_at_rps: None,
        exact: true,
        saturated: None,
    })
}

/// The first saturated station a class's requests reach, as the reason it has no latency.
fn saturated_on_path<'n>(
    mut path: impl Iterator<Item = &'n Node>,
    group_of: &[Vec<usize>],
    groups: &[Group],
    states: &[Option<GroupState>],
    label: &dyn Fn(&Group) -> String,
) -> Option<String> {
    path.find_map(|n| {
        n.share.iter().enumerate().filter(|s| *s.1 > 0.0).find_map(|(j, _)| {
            let g = group_of[n.service][j];
            let s = states[g].as_ref()?;
            s.saturated.as_ref().map(|w| format!("{} saturates: {w}", label(&groups[g])))
        })
    })
}

fn bounds(
    pops: &[Population],
    stations: &[StationPrediction],
    floor: &[Vec<f64>],
    rate: &[f64],
    closed: bool,
) -> Bounds {
    let per_server = |s: &StationPrediction| s.demand_ms / f64::from(s.servers_per_instance.max(1));
    let top = stations.iter().filter(|s| s.kind == "queue").max_by(|a, b| per_server(a).total_cmp(&per_server(b)));
    let total: f64 = rate.iter().sum();
    let demand_total_ms = if total > 0.0 {
        floor.iter().zip(rate).map(|(f, r)| f.first().copied().unwrap_or(0.0) * r / total).sum::<f64>() * 1e3
    } else {
        0.0
    };
    let think_ms = closed.then(|| {
        let (mut users, mut z) = (0.0, 0.0);
        for p in pops {
            if let Arrival::Closed { users: n, think } = &p.arrival {
                users += f64::from(*n);
                z += f64::from(*n) * think.mean_ns() * 1e-6;
            }
        }
        if users > 0.0 { z / users } else { 0.0 }
    });
    let demand_max_ms = top.map_or(0.0, per_server);
    Bounds {
        bottleneck: top
            .map(|s| if s.role == "all instances" { s.service.clone() } else { format!("{} {}", s.service, s.role) }),
        demand_max_ms,
        throughput_max_rps: (demand_max_ms > 0.0).then(|| 1e3 / demand_max_ms),
        demand_total_ms,
        think_ms,
        users_star: think_ms.filter(|_| demand_max_ms > 0.0).map(|z| (demand_total_ms + z) / demand_max_ms),
    }
}

/// Whether some active class reaches `service` by taking its instances in turn (a caller's
/// round robin, or a balancer's plain or weighted round robin).
fn in_turn(model: &Model, nodes: &[Vec<Node>], active: &[bool], service: usize) -> bool {
    nodes.iter().zip(active).filter(|(_, a)| **a).any(|(ns, _)| {
        ns.iter().enumerate().any(|(i, n)| {
            if n.service != service {
                return false;
            }
            let parent = ns.iter().find(|p| p.calls.contains(&i));
            let spec = |svc: usize| &model.components[model.services[svc].instances[0].index()].model;
            match parent.map(|p| spec(p.service)) {
                Some(ComponentModel::LoadBalancer(lb)) => {
                    matches!(lb.policy, Policy::RoundRobin | Policy::WeightedRoundRobin(_))
                }
                _ => model.services[service].routing == Routing::RoundRobin,
            }
        })
    })
}

/// The caveats: what the twin leaves out or approximates, one sentence each.
fn caveats_for(
    model: &Model,
    nodes: &[Vec<Node>],
    active: &[bool],
    stations: &[StationPrediction],
    out: &mut Vec<String>,
) {
    if !model.faults.is_empty() || !model.partitions.is_empty() {
        out.push("faults/partitions in this run: the twin predicts the run without them".into());
    }
    if model.classes.iter().any(|c| c.timeout.is_some() || !c.hops.is_empty()) {
        out.push("requests that time out leave the system early; the twin ignores timeouts".into());
    }
    let used = |s: usize| nodes.iter().enumerate().any(|(c, ns)| active[c] && ns.iter().any(|n| n.service == s));
    for (si, s) in model.services.iter().enumerate().filter(|(si, _)| used(*si)) {
        let spec = &model.components[s.instances[0].index()].model;
        let k = s.instances.len();
        match spec {
            ComponentModel::Server(sv) => {
                if sv.error_rate > 0.0 {
                    out.push(format!(
                        "`{}` answers {:.1}% of requests with an error after service; those make no calls",
                        s.name,
                        sv.error_rate * 100.0
                    ));
                }
                if sv.call_mode == CallMode::Blocking
                    && nodes.iter().flatten().any(|n| n.service == si && !n.calls.is_empty())
                {
                    out.push(format!(
                        "`{}` holds a worker while its calls are out: its holding time includes their response time",
                        s.name
                    ));
                }
            }
            ComponentModel::LoadBalancer(lb) => {
                let backends = &model.services[lb.backends.index()].name;
                match lb.policy {
                    Policy::LeastConnections | Policy::PowerOfTwo | Policy::PowerOfD(2..) => out.push(format!(
                        "`{}` sends each request to a less busy backend, which beats an even split: `{backends}`'s figures are an upper bound",
                        s.name
                    )),
                    Policy::ClientHash => out.push(format!("`{}` hashes users to backends; the twin splits `{backends}`'s load evenly", s.name)),
                    Policy::RoundRobin | Policy::WeightedRoundRobin(_) | Policy::Random | Policy::PowerOfD(_) => {}
                }
                if let Some(a) = &lb.autoscale {
                    out.push(format!(
                        "`{}` autoscales `{backends}` from {} instances; the twin uses all {} (instances_for says how many the load needs)",
                        s.name,
                        a.min,
                        model.services[lb.backends.index()].instances.len()
                    ));
                }
            }
            ComponentModel::Database(d)
                if d.read_your_writes
                    && matches!(s.routing, Routing::PrimaryReplica { reads_from_replicas: true, .. }) =>
            {
                out.push(format!("`{}` sends a replica read that is behind its user's write to the primary; the twin sends every read to the replicas", s.name));
            }
            ComponentModel::Queue(q) => {
                let consumers = &model.services[q.consumers.index()];
                let worker = &model.components[consumers.instances[0].index()].model;
                if matches!(worker, ComponentModel::Server(w) if w.error_rate > 0.0) {
                    out.push(format!(
                        "`{}` retries failed jobs: the twin counts each job's expected receives by `{}`, (1 - e^m) / (1 - e) for error rate e and at most m = {} receives, but not the backoff's bunching",
                        s.name, consumers.name, q.max_receives
                    ));
                }
                if q.autoscale.is_some() {
                    out.push(format!(
                        "`{}` autoscales its workers; the twin uses all {} instances of `{}`",
                        s.name,
                        consumers.instances.len(),
                        consumers.name
                    ));
                }
            }
            _ => {}
        }
        if let Routing::Sharded(scheme) = &s.routing
            && !matches!(scheme, crate::model::Sharding::Range { .. })
        {
            let skewed = model.classes.iter().enumerate().any(|(c, cl)| {
                active[c]
                    && cl.flow.iter().any(|f| f.service.index() == si)
                    && cl.keyspace.is_some_and(|k| model.keyspaces[k.index()].zipf_s > 0.0)
            });
            if skewed {
                out.push(format!("keys follow Zipf's law, so `{}`'s hashed shards see the hottest keys unevenly; the twin splits the load evenly (a shard holding hot keys does worse)", s.name));
            }
        }
        if k > 1 && in_turn(model, nodes, active, si) {
            out.push(format!(
                "`{}`: turns over {k} instances space each one's arrivals more evenly than Poisson; the twin takes them as Poisson, so it overstates the wait (most at high utilization)",
                s.name
            ));
        }
    }
    if nodes.iter().enumerate().any(|(c, ns)| {
        active[c] && ns.iter().any(|n| (n.parallel && n.calls.len() > 1) || n.share.iter().sum::<f64>() > 1.0 + 1e-9)
    }) {
        out.push("parallel calls and scans: the twin takes the slowest mean as the wait for all, a lower bound on the mean of the slowest".into());
    }
    for s in stations.iter().filter(|s| s.reject_share >= 1e-3) {
        out.push(format!(
            "`{}` ({}) turns away {:.1}% of requests (queue full); they make no further calls, which the twin does not subtract below",
            s.service,
            s.role,
            s.reject_share * 100.0
        ));
    }
}
