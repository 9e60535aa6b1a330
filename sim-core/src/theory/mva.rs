//! Mean-value analysis of a closed network: fixed populations of users that send a
//! request, wait for the answer, think, and send the next.
//!
//! Multi-server stations use the Seidmann approximation: a station of `c` servers with
//! demand D becomes a single server of demand D/c followed by a pure delay of D(c-1)/c. It
//! is exact for c = 1 and at both ends of the load (one user, and saturation at c/D), and
//! it fits every solver below, so one treatment serves all. Several classes are solved by
//! exact MVA while the population lattice is small (product of (N_c + 1) at most 10^6 and,
//! times the stations, at most 2 * 10^7 numbers held), else by Schweitzer-Bard's
//! approximate MVA; `Solution::method` says which.

/// How a station treats the requests that reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `servers` identical servers share one FIFO queue.
    Queueing { servers: u32 },
    /// No queue: every request is served at once (think time, a network hop).
    Delay,
}

/// A station of the network: `copies` identical stations (instances behind an even
/// split), each with the given demand.
#[derive(Clone, Debug, PartialEq)]
pub struct Station {
    pub kind: Kind,
    pub copies: u32,
    /// Per class: seconds of service one request needs from one copy over its whole cycle.
    pub demand_s: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Exact,
    Schweitzer,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    pub method: Method,
    /// Per class: cycles (requests) per second.
    pub throughput: Vec<f64>,
    /// Per class: response time of one request, think excluded.
    pub response_s: Vec<f64>,
    /// [station][class]: time one request spends at one copy.
    pub residence_s: Vec<Vec<f64>>,
    /// [station][class]: mean requests at one copy.
    pub queue: Vec<Vec<f64>>,
}

/// The lattice size up to which several classes are solved exactly.
pub const EXACT_STATES_MAX: u64 = 1_000_000;
const EXACT_NUMBERS_MAX: u64 = 20_000_000;

/// A Seidmann-expanded station: a single server or a delay, per-copy demands by class.
struct Flat {
    queueing: bool,
    copies: f64,
    demand: Vec<f64>,
    /// The original station it came from.
    of: usize,
}

fn flatten(stations: &[Station]) -> Vec<Flat> {
    let mut out = Vec::new();
    for (i, s) in stations.iter().enumerate() {
        let copies = f64::from(s.copies);
        match s.kind {
            Kind::Delay => out.push(Flat { queueing: false, copies, demand: s.demand_s.clone(), of: i }),
            Kind::Queueing { servers } => {
                let c = f64::from(servers);
                out.push(Flat { queueing: true, copies, demand: s.demand_s.iter().map(|d| d / c).collect(), of: i });
                if servers > 1 {
                    let rest = s.demand_s.iter().map(|d| d * (c - 1.0) / c).collect();
                    out.push(Flat { queueing: false, copies, demand: rest, of: i });
                }
            }
        }
    }
    out
}

/// Solves the network for `users[c]` users of class c thinking `think_s[c]` between
/// requests.
pub fn solve(stations: &[Station], users: &[u32], think_s: &[f64]) -> Solution {
    assert_eq!(users.len(), think_s.len(), "one think time per class");
    assert!(stations.iter().all(|s| s.demand_s.len() == users.len() && s.copies >= 1), "one demand per class");
    let flat = flatten(stations);
    let states: u64 = users.iter().map(|&n| u64::from(n) + 1).product();
    let exact = states <= EXACT_STATES_MAX && states.saturating_mul(flat.len() as u64) <= EXACT_NUMBERS_MAX;
    let (method, (x, r)) = if exact {
        (Method::Exact, exact_mva(&flat, users, think_s))
    } else {
        (Method::Schweitzer, schweitzer(&flat, users, think_s))
    };
    let classes = users.len();
    let mut residence_s = vec![vec![0.0; classes]; stations.len()];
    let mut queue = vec![vec![0.0; classes]; stations.len()];
    for (f, rf) in flat.iter().zip(&r) {
        for c in 0..classes {
            residence_s[f.of][c] += rf[c];
            queue[f.of][c] += x[c] * rf[c];
        }
    }
    let response_s = (0..classes).map(|c| flat.iter().zip(&r).map(|(f, rf)| f.copies * rf[c]).sum()).collect();
    Solution { method, throughput: x, response_s, residence_s, queue }
}

/// Throughput per class and residence [flat station][class] on one copy.
type Solved = (Vec<f64>, Vec<Vec<f64>>);

/// One step of MVA: residence times and throughputs at population `n`, given the
/// per-copy queue lengths `q_minus[c][k]` seen by an arriving class-c request.
fn step(flat: &[Flat], n: &[u32], think_s: &[f64], q_minus: impl Fn(usize, usize) -> f64) -> Solved {
    let classes = n.len();
    let mut r = vec![vec![0.0; classes]; flat.len()];
    let mut x = vec![0.0; classes];
    for c in (0..classes).filter(|&c| n[c] > 0) {
        let mut cycle = think_s[c];
        for (k, f) in flat.iter().enumerate() {
            r[k][c] = if f.queueing { f.demand[c] * (1.0 + q_minus(c, k)) } else { f.demand[c] };
            cycle += f.copies * r[k][c];
        }
        x[c] = if cycle > 0.0 { f64::from(n[c]) / cycle } else { 0.0 };
    }
    (x, r)
}

/// Exact MVA over the whole population lattice, in mixed-radix order so that every
/// population one user smaller has been solved before.
fn exact_mva(flat: &[Flat], users: &[u32], think_s: &[f64]) -> Solved {
    let classes = users.len();
    let radix: Vec<usize> = users.iter().map(|&n| n as usize + 1).collect();
    let stride: Vec<usize> = (0..classes).map(|c| radix[..c].iter().product()).collect();
    let states: usize = radix.iter().product();
    let kn = flat.len();
    // Per-copy queue length at each station, summed over classes, for every population.
    let mut q = vec![0.0; states * kn];
    let mut n = vec![0u32; classes];
    let mut last = (vec![0.0; classes], vec![vec![0.0; classes]; kn]);
    for s in 1..states {
        for c in 0..classes {
            n[c] = ((s / stride[c]) % radix[c]) as u32;
        }
        let (x, r) = step(flat, &n, think_s, |c, k| q[(s - stride[c]) * kn + k]);
        for k in 0..kn {
            q[s * kn + k] = (0..classes).map(|c| x[c] * r[k][c]).sum();
        }
        last = (x, r);
    }
    last
}

/// Schweitzer-Bard: a request arriving at population N sees the queues at N with its own
/// share scaled by (N_c - 1) / N_c; iterated to a fixed point.
fn schweitzer(flat: &[Flat], users: &[u32], think_s: &[f64]) -> Solved {
    let classes = users.len();
    let kn = flat.len();
    let spread = flat.iter().map(|f| f.copies).sum::<f64>().max(1.0);
    let mut q: Vec<Vec<f64>> = vec![users.iter().map(|&n| f64::from(n) / spread).collect(); kn];
    let mut out = (vec![0.0; classes], vec![vec![0.0; classes]; kn]);
    for _ in 0..100_000 {
        let seen = |c: usize, k: usize| {
            let total: f64 = q[k].iter().sum();
            total - q[k][c] / f64::from(users[c].max(1))
        };
        let (x, r) = step(flat, users, think_s, seen);
        let mut change: f64 = 0.0;
        for k in 0..kn {
            for c in 0..classes {
                let new = x[c] * r[k][c];
                change = change.max((new - q[k][c]).abs());
                q[k][c] = new;
            }
        }
        out = (x, r);
        if change < 1e-10 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(servers: u32, d: f64) -> Station {
        Station { kind: Kind::Queueing { servers }, copies: 1, demand_s: vec![d] }
    }

    /// A balanced network of K stations of demand D, no think time, has
    /// X(N) = N / ((N + K - 1) D) exactly (Lazowska et al., ch. 5's balanced job bounds
    /// are attained).
    #[test]
    fn balanced_network_matches_the_closed_form() {
        let net = vec![single(1, 0.1); 3];
        let s = solve(&net, &[5], &[0.0]);
        assert_eq!(s.method, Method::Exact);
        assert!((s.throughput[0] - 5.0 / 0.7).abs() < 1e-9, "{s:?}");
    }

    /// Lazowska et al. ch. 6 style: CPU D = 0.2 s, two disks 0.1 s and 0.05 s, think 1 s.
    /// By hand, N = 1: R = 0.35, X = 1/1.35. N = 2: queues at N = 1 are (0.2, 0.1, 0.05)/1.35,
    /// so R = 0.2 (1 + 0.2/1.35) + 0.1 (1 + 0.1/1.35) + 0.05 (1 + 0.05/1.35) and X = 2/(1 + R).
    #[test]
    fn three_station_network_matches_hand_computation_and_its_bound() {
        let net = vec![single(1, 0.2), single(1, 0.1), single(1, 0.05)];
        let x1 = solve(&net, &[1], &[1.0]).throughput[0];
        assert!((x1 - 1.0 / 1.35).abs() < 1e-12);
        let r2 = 0.2 * (1.0 + 0.2 / 1.35) + 0.1 * (1.0 + 0.1 / 1.35) + 0.05 * (1.0 + 0.05 / 1.35);
        let s2 = solve(&net, &[2], &[1.0]);
        assert!((s2.throughput[0] - 2.0 / (1.0 + r2)).abs() < 1e-12, "{s2:?}");
        assert!((s2.response_s[0] - r2).abs() < 1e-12);
        // N -> infinity: X -> 1 / D_max = 5 per second.
        let big = solve(&net, &[400], &[1.0]);
        assert!((big.throughput[0] - 5.0).abs() < 1e-6, "{big:?}");
        assert!(big.queue[0][0] > 390.0, "the CPU holds nearly everyone");
    }

    #[test]
    fn seidmann_is_exact_for_one_user_and_at_saturation() {
        let net = vec![single(4, 0.4)];
        assert!((solve(&net, &[1], &[0.0]).response_s[0] - 0.4).abs() < 1e-12);
        assert!((solve(&net, &[500], &[0.0]).throughput[0] - 10.0).abs() < 1e-6, "c / D");
    }

    #[test]
    fn two_identical_classes_behave_as_one_and_schweitzer_comes_close() {
        let two = vec![
            Station { kind: Kind::Queueing { servers: 1 }, copies: 2, demand_s: vec![0.05, 0.05] },
            Station { kind: Kind::Delay, copies: 1, demand_s: vec![0.02, 0.02] },
        ];
        let one: Vec<Station> = two.iter().map(|s| Station { demand_s: vec![s.demand_s[0]], ..s.clone() }).collect();
        let exact = solve(&two, &[3, 3], &[0.5, 0.5]);
        let merged = solve(&one, &[6], &[0.5]);
        assert_eq!(exact.method, Method::Exact);
        let total = exact.throughput[0] + exact.throughput[1];
        assert!((total - merged.throughput[0]).abs() < 1e-9, "{total} vs {merged:?}");
        let approx = schweitzer(&flatten(&two), &[3, 3], &[0.5, 0.5]);
        let approx_total = approx.0[0] + approx.0[1];
        assert!((approx_total - total).abs() / total < 0.05, "{approx_total} vs {total}");
        // A lattice of 1001^2 states is past the exact limit.
        assert_eq!(solve(&two, &[1000, 1000], &[0.5, 0.5]).method, Method::Schweitzer);
    }
}
