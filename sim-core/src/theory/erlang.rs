//! One station on its own, fed by Poisson arrivals: M/M/c (Erlang C), M/M/c/K (finite
//! room, exact), M/G/1 (Pollaczek-Khinchine, exact) and M/G/c (Allen-Cunneen, an
//! approximation). Rates are per second and times in seconds.

/// A station's steady state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Steady {
    /// Share of time each server is busy with accepted work.
    pub utilization: f64,
    /// Probability that an accepted request waits for a server.
    pub p_wait: f64,
    /// Probability that an arrival finds no room and is turned away.
    pub p_block: f64,
    pub wait_s: f64,
    pub response_s: f64,
    /// Mean requests in the station, waiting or in service.
    pub in_system: f64,
}

/// Erlang B: the probability that an arrival finds all `c` servers busy in a loss system
/// (no queue) with offered load `a` = lambda * S. The recursion never overflows, and stops
/// once B is below 1e-300: it only falls as servers are added, so a pool of a million
/// servers at a light load costs a few steps.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
        if b < 1e-300 {
            return 0.0;
        }
    }
    b
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load
/// `a` < `c`.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(a >= 0.0 && a < f64::from(c), "Erlang C needs 0 <= a < c, found a = {a}, c = {c}");
    let b = erlang_b(c, a);
    let c = f64::from(c);
    c * b / (c - a * (1.0 - b))
}

/// M/M/c with an unbounded queue, or `None` when it is saturated (lambda * S >= c).
pub fn mmc(c: u32, lambda: f64, service_s: f64) -> Option<Steady> {
    mgc(c, lambda, service_s, 1.0)
}

/// M/G/c with an unbounded queue: the M/M/c wait scaled by (1 + scv) / 2 (Allen-Cunneen,
/// Poisson arrivals). Exact for c = 1 (Pollaczek-Khinchine) and for exponential service
/// (scv = 1); an approximation otherwise. `None` when saturated.
pub fn mgc(c: u32, lambda: f64, service_s: f64, scv: f64) -> Option<Steady> {
    assert!(c >= 1 && lambda >= 0.0 && service_s >= 0.0, "a station needs a server and non-negative rates");
    let a = lambda * service_s;
    if a >= f64::from(c) || !scv.is_finite() {
        return None;
    }
    let p_wait = if a == 0.0 { 0.0 } else { erlang_c(c, a) };
    let wait_mmc = if a == 0.0 { 0.0 } else { p_wait * service_s / (f64::from(c) - a) };
    let wait_s = wait_mmc * (1.0 + scv) / 2.0;
    let response_s = wait_s + service_s;
    Some(Steady {
        utilization: a / f64::from(c),
        p_wait,
        p_block: 0.0,
        wait_s,
        response_s,
        in_system: lambda * response_s,
    })
}

/// M/M/c/K: `c` servers and room for `k` >= `c` requests in all (in service included);
/// an arrival that finds `k` present is turned away. Exact, at any load. The birth-death
/// probabilities are summed in logarithms so large `c` or `k` neither overflow nor vanish.
pub fn mmck(c: u32, k: u32, lambda: f64, service_s: f64) -> Steady {
    assert!(c >= 1 && k >= c && lambda > 0.0 && service_s > 0.0, "M/M/c/K needs k >= c >= 1 and positive rates");
    let ln_a = (lambda * service_s).ln();
    let mut ln_p = Vec::with_capacity(k as usize + 1);
    ln_p.push(0.0);
    for n in 1..=k {
        let prev = ln_p[n as usize - 1];
        ln_p.push(prev + ln_a - f64::from(n.min(c)).ln());
    }
    let top = ln_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = ln_p.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = weights.iter().sum();
    let p = |n: usize| weights[n] / total;
    let p_block = p(k as usize);
    let in_system: f64 = (0..=k as usize).map(|n| n as f64 * p(n)).sum();
    let waits: f64 = (c as usize..k as usize).map(p).sum();
    let accepted = lambda * (1.0 - p_block);
    let response_s = in_system / accepted;
    Steady {
        utilization: accepted * service_s / f64::from(c),
        p_wait: waits / (1.0 - p_block),
        p_block,
        wait_s: (response_s - service_s).max(0.0),
        response_s,
        in_system,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-12)
    }

    #[test]
    fn erlang_c_matches_published_values() {
        // Two servers at offered load 1: P(wait) = 1/3.
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-12));
        // One server: P(wait) = rho.
        assert!(close(erlang_c(1, 0.7), 0.7, 1e-12));
        // The mmc built-in's comment: c = 10, rho = 0.8 gives C = 0.4092.
        assert!(close(erlang_c(10, 8.0), 0.4092, 1e-3));
        // Erlang B, c = 2, a = 1: (1/2) / (1 + 1 + 1/2) = 0.2.
        assert!(close(erlang_b(2, 1.0), 0.2, 1e-12));
        assert_eq!(erlang_b(u32::MAX, 3.0), 0.0, "a huge pool stops early");
    }

    #[test]
    fn mm1_at_rho_09_responds_in_ten_service_times() {
        let s = mmc(1, 9.0, 0.1).unwrap();
        assert!(close(s.response_s, 1.0, 1e-12), "{s:?}");
        assert!(close(s.in_system - s.utilization, 8.1, 1e-12), "Lq = rho^2 / (1 - rho)");
        assert!(mmc(1, 10.0, 0.1).is_none(), "rho = 1 has no steady state");
    }

    #[test]
    fn mmc_gives_the_mmc_builtins_mean() {
        let s = mmc(10, 80.0, 0.1).unwrap();
        assert!(close(s.response_s * 1e3, 120.46, 1e-4), "{s:?}");
    }

    #[test]
    fn pollaczek_khinchine_halves_the_wait_for_constant_service() {
        let m = mmc(1, 5.0, 0.1).unwrap();
        let d = mgc(1, 5.0, 0.1, 0.0).unwrap();
        // M/D/1 at rho 0.5: Wq = rho S / (2 (1 - rho)) = 0.05 s.
        assert!(close(d.wait_s, 0.05, 1e-12) && close(d.wait_s, m.wait_s / 2.0, 1e-12), "{d:?}");
    }

    #[test]
    fn mmck_blocking_matches_hand_computed_values() {
        // M/M/1/3 at rho 0.5: p_n ~ 1, 1/2, 1/4, 1/8, so p_3 = (1/8) / (15/8) = 1/15.
        let s = mmck(1, 3, 0.5, 1.0);
        assert!(close(s.p_block, 1.0 / 15.0, 1e-12), "{s:?}");
        assert!(close(s.in_system, (0.5 + 0.5 + 0.375) / 1.875, 1e-12));
        // M/M/2/2 is Erlang's loss system: blocking = Erlang B.
        assert!(close(mmck(2, 2, 1.0, 1.0).p_block, 0.2, 1e-12));
        // Overloaded but finite: rho = 2 with room for 4 turns most away, yet has a steady state.
        let over = mmck(1, 4, 2.0, 1.0);
        assert!(close(over.p_block, 16.0 / 31.0, 1e-12), "{over:?}");
        // A huge room at moderate load is the unbounded queue.
        let big = mmck(10, 10_000, 80.0, 0.1);
        assert!(close(big.response_s, mmc(10, 80.0, 0.1).unwrap().response_s, 1e-9));
    }
}
