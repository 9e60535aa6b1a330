//! The open network: Poisson arrivals at fixed rates, each station solved on its own with
//! the rate that reaches it (Jackson's theorem: exact for exponential stations with room
//! enough, whose departures are again Poisson). A blocking server holds its worker while
//! its calls are out, so its holding time includes their response time, which depends on
//! the waits below: the waits are iterated to a fixed point, starting from none.

use crate::theory::erlang::{self, Steady};
use crate::theory::flow::{Group, Node, Place};

/// Rooms (and pools) up to this size are solved exactly as M/M/c/K; beyond it the queue
/// is taken as unbounded (its tail past a million places is negligible below saturation).
pub const ROOM_EXACT_MAX: u64 = 1_000_000;

/// The load on the network.
pub struct Load<'a> {
    pub nodes: &'a [Vec<Node>],
    pub groups: &'a [Group],
    /// Per service, per instance: its group.
    pub group_of: &'a [Vec<usize>],
    /// Per class: root requests per second (0 for a class left out).
    pub rate: &'a [f64],
    /// Per class, per node: whether its visits count towards the stations' load.
    pub counted: &'a [Vec<bool>],
    /// Per group: room for a pooled group (its queue's capacity).
    pub pooled_room: &'a [u64],
    /// The measured stretch of the run: an overloaded queue that takes longer than this
    /// to fill never reaches its (rejecting) steady state within the run.
    pub horizon_s: f64,
}

/// One queueing group's state at the load.
#[derive(Clone, Debug)]
pub struct GroupState {
    /// Arrivals per second at one member (at the whole pool when pooled).
    pub arrival_rps: f64,
    pub servers: u32,
    pub holding_s: f64,
    /// Offered load per server, lambda * E[H] / c: 1 or more means saturated (or, with
    /// finite room, rejecting a good share).
    pub offered: f64,
    /// Mean requests at one member (at the whole pool when pooled), waiting or served.
    pub in_system: f64,
    /// Mean time from arrival to the end of holding, per visit.
    pub response_s: f64,
    /// Share of arrivals turned away for lack of room.
    pub p_reject: f64,
    /// Why there is no steady state.
    pub saturated: Option<String>,
    pub exact: bool,
    /// Per member, per root request, at zero load: seconds of holding time.
    pub demand_s: f64,
}

pub struct Solution {
    pub groups: Vec<Option<GroupState>>,
    /// Per class, per node: mean response time in seconds, network round trip included.
    pub response_s: Vec<Vec<f64>>,
    /// The same with no waiting anywhere: the latency floor.
    pub floor_s: Vec<Vec<f64>>,
    pub iterations: u32,
}

struct Pass {
    response: Vec<Vec<f64>>,
    /// Per class, per node: (holding mean, E[H^2], exponential).
    holding: Vec<Vec<(f64, f64, bool)>>,
}

/// Responses of every node given each group's mean wait, calls before callers.
fn responses(load: &Load, wait: &[f64]) -> Pass {
    let mut response = Vec::new();
    let mut holding = Vec::new();
    for nodes in load.nodes {
        let mut r = vec![0.0; nodes.len()];
        let mut h = vec![(0.0, 0.0, false); nodes.len()];
        for (i, n) in nodes.iter().enumerate().rev() {
            let calls = n.calls.iter().map(|&c| r[c]);
            let combined = if n.parallel { calls.fold(0.0, f64::max) } else { calls.sum() };
            let down = if n.calls.is_empty() { 0.0 } else { n.pass * (n.miss_s + combined) };
            let total: f64 = n.share.iter().sum();
            let waited: f64 =
                n.share.iter().enumerate().map(|(j, s)| s / total * wait[load.group_of[n.service][j]]).sum();
            let answered = if n.calls_answer { down } else { 0.0 };
            r[i] = n.rtt_s + waited + n.own.mean_s + n.after_s + answered;
            h[i] = match n.place {
                Place::Queue { blocking: true, .. } if answered > 0.0 => {
                    let m = n.own.mean_s + answered;
                    // The calls' time taken as exponential: the response time of an M/M/1 is.
                    (m, n.own.m2 + 2.0 * n.own.mean_s * answered + 2.0 * answered * answered, false)
                }
                _ => (n.own.mean_s, n.own.m2, n.own.exponential),
            };
        }
        response.push(r);
        holding.push(h);
    }
    Pass { response, holding }
}

/// A group's state and its mean wait, or `None` if it is no queue.
fn group_state(load: &Load, g: usize, pass: &Pass, total_rate: f64) -> Option<(GroupState, f64)> {
    let group = &load.groups[g];
    let mut place = None;
    let (mut lambda, mut m1, mut m2, mut exp_same, mut first) = (0.0, 0.0, 0.0, true, None::<f64>);
    for (c, nodes) in load.nodes.iter().enumerate() {
        for (i, n) in nodes.iter().enumerate().filter(|(i, n)| n.service == group.service && load.counted[c][*i]) {
            let Place::Queue { servers, room, .. } = n.place else { return None };
            place = Some((servers, room));
            let share: f64 =
                if group.pooled { group.members.iter().map(|&m| n.share[m]).sum() } else { n.share[group.members[0]] };
            let l = load.rate[c] * n.visits * share;
            if l == 0.0 {
                continue;
            }
            let (h, h2, exp) = pass.holding[c][i];
            lambda += l;
            m1 += l * h;
            m2 += l * h2;
            exp_same &= exp && first.is_none_or(|f| (f - h).abs() <= 1e-12 * f);
            first.get_or_insert(h);
        }
    }
    let (servers, room) = place?;
    let members = group.members.len() as u32;
    let (servers, room) =
        if group.pooled { (servers.saturating_mul(members), load.pooled_room[g]) } else { (servers, room) };
    let mut state = GroupState {
        arrival_rps: lambda,
        servers,
        holding_s: 0.0,
        offered: 0.0,
        in_system: 0.0,
        response_s: 0.0,
        p_reject: 0.0,
        saturated: None,
        exact: exp_same && (members == 1 || group.pooled),
        demand_s: if total_rate > 0.0 { m1 / total_rate } else { 0.0 },
    };
    if lambda == 0.0 || m1 == 0.0 {
        return Some((state, 0.0));
    }
    let (h, scv) = (m1 / lambda, (m2 / lambda) / (m1 / lambda).powi(2) - 1.0);
    state.holding_s = h;
    state.offered = lambda * h / f64::from(servers);
    if !h.is_finite() {
        state.saturated = Some("its servers wait on calls that never finish (a station they call saturates)".into());
        return Some((state, f64::INFINITY));
    }
    // M/M/c/K sums one term per place: kept to rooms and pools of a few million.
    let finite_room = room <= ROOM_EXACT_MAX && u64::from(servers) <= ROOM_EXACT_MAX;
    let steady: Option<Steady> = if exp_same {
        if finite_room {
            Some(erlang::mmck(servers, servers + room as u32, lambda, h))
        } else {
            erlang::mmc(servers, lambda, h)
        }
    } else {
        erlang::mgc(servers, lambda, h, scv.max(0.0))
            .or_else(|| finite_room.then(|| erlang::mmck(servers, servers + room as u32, lambda, h)))
    };
    let capacity = f64::from(servers) / h;
    let fill_s = room as f64 / (lambda - capacity);
    let steady = steady.filter(|_| state.offered < 1.0 || fill_s <= load.horizon_s);
    if let Some(st) = steady {
        (state.in_system, state.response_s, state.p_reject) = (st.in_system, st.response_s, st.p_block);
        return Some((state, st.wait_s));
    }
    let scale = if group.pooled { 1.0 } else { f64::from(members) };
    let (arrival, capacity) = (lambda * scale, capacity * scale);
    state.saturated = Some(if finite_room && fill_s.is_finite() && state.offered >= 1.0 {
        format!(
            "arrival {arrival:.0} rps > capacity {capacity:.0} rps, and its {room} places fill in {fill_s:.0} s, after the run's end"
        )
    } else {
        format!("arrival {arrival:.0} rps > capacity {capacity:.0} rps")
    });
    Some((state, f64::INFINITY))
}

/// Solves the open network at the load.
pub fn solve(load: &Load) -> Solution {
    let total_rate: f64 = load.rate.iter().sum();
    let mut wait = vec![0.0; load.groups.len()];
    let floor = responses(load, &wait);
    let demands: Vec<f64> = (0..load.groups.len())
        .map(|g| group_state(load, g, &floor, total_rate).map_or(0.0, |s| s.0.demand_s))
        .collect();
    let mut groups = Vec::new();
    let mut pass = responses(load, &wait);
    let mut iterations = 0;
    for _ in 0..500 {
        iterations += 1;
        let states: Vec<Option<(GroupState, f64)>> =
            (0..load.groups.len()).map(|g| group_state(load, g, &pass, total_rate)).collect();
        let new: Vec<f64> = states.iter().map(|s| s.as_ref().map_or(0.0, |s| s.1)).collect();
        groups = states.into_iter().map(|s| s.map(|s| s.0)).collect();
        let settled = new.iter().zip(&wait).all(|(a, b)| a == b || (a - b).abs() <= 1e-12 * a.abs().max(1e-9));
        wait = new;
        pass = responses(load, &wait);
        if settled {
            break;
        }
    }
    for (s, d) in groups.iter_mut().zip(demands) {
        if let Some(s) = s {
            s.demand_s = d;
        }
    }
    Solution { groups, response_s: pass.response, floor_s: floor.response, iterations }
}
