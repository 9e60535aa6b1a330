//! The closed network: fixed populations of users, each cycling request, answer, think.
//! Every queueing group becomes an MVA station (its members identical copies), and each
//! population's network round trips and pure delays one delay station. Times along a flow
//! add up here, so flows with parallel calls or queues are refused before this is used.

use crate::theory::flow::{Group, Node, Place};
use crate::theory::mva::{self, Kind, Method, Station};
use crate::theory::open::GroupState;

/// A closed population: `users` users thinking `think_s`, each request of class c with
/// probability `classes[..].1`.
pub struct Population {
    pub users: u32,
    pub think_s: f64,
    pub classes: Vec<(usize, f64)>,
}

pub struct Load<'a> {
    pub nodes: &'a [Vec<Node>],
    pub groups: &'a [Group],
    pub populations: &'a [Population],
}

pub struct Solution {
    pub method: Method,
    pub groups: Vec<Option<GroupState>>,
    /// Per class: mean latency in seconds (classes of no population: 0).
    pub latency_s: Vec<f64>,
    /// Per population: requests per second.
    pub throughput: Vec<f64>,
}

/// Per queueing group, per class: (visits, demand in seconds) on one copy per request.
fn per_copy(load: &Load, g: usize, c: usize) -> (f64, f64, bool) {
    let group = &load.groups[g];
    let (mut v, mut d, mut exp) = (0.0, 0.0, true);
    for n in load.nodes[c].iter().filter(|n| n.service == group.service) {
        let share: f64 =
            if group.pooled { group.members.iter().map(|&m| n.share[m]).sum() } else { n.share[group.members[0]] };
        v += n.visits * share;
        d += n.visits * share * n.own.mean_s;
        exp &= n.own.exponential;
    }
    (v, d, exp)
}

/// A class's pure delays per request: round trips, delay stations' own time, hauls, waits
/// for replicas.
fn delay_s(nodes: &[Node]) -> f64 {
    nodes
        .iter()
        .map(|n| {
            let own = if n.place == Place::Delay { n.own.mean_s } else { 0.0 };
            let miss = if n.calls.is_empty() { 0.0 } else { n.pass * n.miss_s };
            n.visits * (n.rtt_s + n.after_s + own + miss)
        })
        .sum()
}

pub fn solve(load: &Load) -> Solution {
    let queueing: Vec<(usize, u32)> = (0..load.groups.len())
        .filter_map(|g| {
            let n = load.nodes.iter().flatten().find(|n| n.service == load.groups[g].service)?;
            match n.place {
                Place::Queue { servers, .. } => Some((g, servers)),
                Place::Delay => None,
            }
        })
        .collect();
    let pops = load.populations;
    let weighted = |g: usize, p: usize| -> (f64, f64) {
        pops[p].classes.iter().fold((0.0, 0.0), |(v, d), &(c, f)| {
            let (vc, dc, _) = per_copy(load, g, c);
            (v + f * vc, d + f * dc)
        })
    };
    let mut stations: Vec<Station> = queueing
        .iter()
        .map(|&(g, servers)| {
            let group = &load.groups[g];
            let members = group.members.len() as u32;
            let (copies, servers) =
                if group.pooled { (1, servers.saturating_mul(members)) } else { (members, servers) };
            Station {
                kind: Kind::Queueing { servers },
                copies,
                demand_s: (0..pops.len()).map(|p| weighted(g, p).1).collect(),
            }
        })
        .collect();
    let delays: Vec<f64> =
        pops.iter().map(|p| p.classes.iter().map(|&(c, f)| f * delay_s(&load.nodes[c])).sum()).collect();
    stations.push(Station { kind: Kind::Delay, copies: 1, demand_s: delays });
    let users: Vec<u32> = pops.iter().map(|p| p.users).collect();
    let think: Vec<f64> = pops.iter().map(|p| p.think_s).collect();
    let sol = mva::solve(&stations, &users, &think);
    let x_total: f64 = sol.throughput.iter().sum();
    let mut groups = vec![None; load.groups.len()];
    for (k, &(g, _)) in queueing.iter().enumerate() {
        let Kind::Queueing { servers } = stations[k].kind else { unreachable!("queueing stations come first") };
        let arrival: f64 = (0..pops.len()).map(|p| sol.throughput[p] * weighted(g, p).0).sum();
        let busy: f64 = (0..pops.len()).map(|p| sol.throughput[p] * stations[k].demand_s[p]).sum();
        let in_system: f64 = sol.queue[k].iter().sum();
        let exp = pops.iter().flat_map(|p| &p.classes).all(|&(c, _)| per_copy(load, g, c).2);
        let members = load.groups[g].members.len();
        groups[g] = Some(GroupState {
            arrival_rps: arrival,
            servers,
            holding_s: if arrival > 0.0 { busy / arrival } else { 0.0 },
            offered: busy / f64::from(servers),
            in_system,
            response_s: if arrival > 0.0 { in_system / arrival } else { 0.0 },
            p_reject: 0.0,
            saturated: None,
            exact: sol.method == Method::Exact && servers == 1 && exp && (members == 1 || load.groups[g].pooled),
            demand_s: if x_total > 0.0 { busy / x_total } else { 0.0 },
        });
    }
    let mut latency_s = vec![0.0; load.nodes.len()];
    for (p, pop) in pops.iter().enumerate() {
        for &(c, _) in &pop.classes {
            let mut r = delay_s(&load.nodes[c]);
            for (k, &(g, _)) in queueing.iter().enumerate() {
                let d_pop = stations[k].demand_s[p];
                let d_class = per_copy(load, g, c).1;
                if d_pop > 0.0 {
                    r += f64::from(stations[k].copies) * d_class * sol.residence_s[k][p] / d_pop;
                }
            }
            latency_s[c] = r;
        }
    }
    Solution { method: sol.method, groups, latency_s, throughput: sol.throughput }
}
