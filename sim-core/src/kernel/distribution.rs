//! Delay distributions for service times, link latencies and think times. Parameters are
//! held in nanoseconds as `f64`; every sample is rounded to a whole nanosecond at once so
//! the rest of the engine stays in integers.

use crate::kernel::rng::SimRng;
use crate::kernel::time::SimDuration;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, LogNormal, Pareto};
use std::fmt;

/// A non-negative delay distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum Delay {
    /// Always the same delay.
    Constant(SimDuration),
    /// Exponential with the given mean: the memoryless service of queueing theory.
    Exponential { mean_ns: f64 },
    /// Uniform between two bounds.
    Uniform { low_ns: f64, high_ns: f64 },
    /// Log-normal with the given mean and coefficient of variation: the usual shape of
    /// measured service and network latencies (a long right tail, never negative).
    LogNormal { mean_ns: f64, cv: f64, dist: LogNormal<f64> },
    /// Pareto (heavy tail) with minimum `scale_ns` and tail index `shape`.
    Pareto { scale_ns: f64, shape: f64, dist: Pareto<f64> },
}

/// Why a distribution's parameters were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelayError(pub String);

impl fmt::Display for DelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Delay {
    pub fn constant(d: SimDuration) -> Delay {
        Delay::Constant(d)
    }

    pub fn exponential(mean: SimDuration) -> Delay {
        Delay::Exponential { mean_ns: mean.as_nanos() as f64 }
    }

    pub fn uniform(low: SimDuration, high: SimDuration) -> Result<Delay, DelayError> {
        if high < low {
            return Err(DelayError(format!("uniform: high ({high}) is below low ({low})")));
        }
        Ok(Delay::Uniform { low_ns: low.as_nanos() as f64, high_ns: high.as_nanos() as f64 })
    }

    pub fn lognormal(mean: SimDuration, cv: f64) -> Result<Delay, DelayError> {
        if !(cv.is_finite() && cv > 0.0 && cv <= 100.0) {
            return Err(DelayError(format!("lognormal: cv must be in (0, 100], found {cv}")));
        }
        let mean_ns = mean.as_nanos() as f64;
        if mean_ns <= 0.0 {
            return Err(DelayError("lognormal: mean must be above zero".into()));
        }
        let dist = LogNormal::from_mean_cv(mean_ns, cv).map_err(|e| DelayError(format!("lognormal: {e}")))?;
        Ok(Delay::LogNormal { mean_ns, cv, dist })
    }

    pub fn pareto(scale: SimDuration, shape: f64) -> Result<Delay, DelayError> {
        if !(shape.is_finite() && shape > 1.0) {
            return Err(DelayError(format!(
                "pareto: shape (alpha) must be above 1 so that the mean exists, found {shape}"
            )));
        }
        let scale_ns = scale.as_nanos() as f64;
        if scale_ns <= 0.0 {
            return Err(DelayError("pareto: scale (the minimum) must be above zero".into()));
        }
        let dist = Pareto::new(scale_ns, shape).map_err(|e| DelayError(format!("pareto: {e}")))?;
        Ok(Delay::Pareto { scale_ns, shape, dist })
    }

    /// Draws one delay.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        let ns = match self {
            Delay::Constant(d) => return *d,
            Delay::Exponential { mean_ns } => {
                let e: f64 = rng.sample(Exp1);
                e * mean_ns
            }
            Delay::Uniform { low_ns, high_ns } => {
                let u: f64 = rng.random();
                low_ns + u * (high_ns - low_ns)
            }
            Delay::LogNormal { dist, .. } => dist.sample(rng),
            Delay::Pareto { dist, .. } => dist.sample(rng),
        };
        SimDuration::from_nanos_f64(ns)
    }

    /// The distribution's mean, for capacity estimates and reports.
    pub fn mean(&self) -> SimDuration {
        let ns = match self {
            Delay::Constant(d) => return *d,
            Delay::Exponential { mean_ns } => *mean_ns,
            Delay::Uniform { low_ns, high_ns } => (low_ns + high_ns) / 2.0,
            Delay::LogNormal { mean_ns, .. } => *mean_ns,
            Delay::Pareto { scale_ns, shape, .. } => scale_ns * shape / (shape - 1.0),
        };
        SimDuration::from_secs_f64(ns * 1e-9)
    }

    /// The mean in nanoseconds, unrounded: queueing formulas want it exact.
    pub fn mean_ns(&self) -> f64 {
        match self {
            Delay::Constant(d) => d.as_nanos() as f64,
            Delay::Exponential { mean_ns } | Delay::LogNormal { mean_ns, .. } => *mean_ns,
            Delay::Uniform { low_ns, high_ns } => (low_ns + high_ns) / 2.0,
            Delay::Pareto { scale_ns, shape, .. } => scale_ns * shape / (shape - 1.0),
        }
    }

    /// Squared coefficient of variation, variance / mean^2: 1 for exponential, 0 for
    /// constant. It is what the M/G/1 and M/G/c waiting-time formulas need beyond the mean.
    /// Infinite for a Pareto with shape <= 2, whose variance does not exist.
    pub fn scv(&self) -> f64 {
        match self {
            Delay::Constant(_) => 0.0,
            Delay::Exponential { .. } => 1.0,
            Delay::Uniform { low_ns, high_ns } => {
                let m = (low_ns + high_ns) / 2.0;
                if m == 0.0 { 0.0 } else { (high_ns - low_ns).powi(2) / 12.0 / (m * m) }
            }
            Delay::LogNormal { cv, .. } => cv * cv,
            Delay::Pareto { shape, .. } if *shape > 2.0 => 1.0 / (shape * (shape - 2.0)),
            Delay::Pareto { .. } => f64::INFINITY,
        }
    }

    /// True when every sample is zero, so a hop over it needs no waiting at all.
    pub fn is_zero(&self) -> bool {
        matches!(self, Delay::Constant(d) if d.as_nanos() == 0)
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |ns: f64| SimDuration::from_secs_f64(ns * 1e-9);
        match self {
            Delay::Constant(c) => write!(f, "{c}"),
            Delay::Exponential { mean_ns } => write!(f, "exp(mean={})", d(*mean_ns)),
            Delay::Uniform { low_ns, high_ns } => {
                write!(f, "uniform({}..{})", d(*low_ns), d(*high_ns))
            }
            Delay::LogNormal { mean_ns, cv, .. } => {
                write!(f, "lognormal(mean={}, cv={cv})", d(*mean_ns))
            }
            Delay::Pareto { scale_ns, shape, .. } => {
                write!(f, "pareto(min={}, alpha={shape})", d(*scale_ns))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::rng::stream;

    fn sample_mean(d: &Delay, n: usize) -> f64 {
        let mut rng = stream(1, "test");
        (0..n).map(|_| d.sample(&mut rng).as_nanos() as f64).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_the_declared_means() {
        let ms = SimDuration::from_millis;
        let cases = [
            Delay::exponential(ms(10)),
            Delay::uniform(ms(5), ms(15)).unwrap(),
            Delay::lognormal(ms(10), 0.5).unwrap(),
            Delay::pareto(ms(5), 3.0).unwrap(),
        ];
        for d in &cases {
            let want = d.mean().as_nanos() as f64;
            let got = sample_mean(d, 400_000);
            assert!((got - want).abs() / want < 0.01, "{d}: mean {got} vs {want}");
        }
    }

    #[test]
    fn invalid_parameters_are_refused_with_a_reason() {
        assert!(Delay::pareto(SimDuration::from_millis(1), 1.0).unwrap_err().0.contains("above 1"));
        assert!(Delay::lognormal(SimDuration::from_millis(1), -1.0).is_err());
        assert!(Delay::uniform(SimDuration::from_millis(2), SimDuration::from_millis(1)).is_err());
    }

    #[test]
    fn scv_matches_sampled_moments() {
        let ms = SimDuration::from_millis;
        let cases = [
            (Delay::exponential(ms(10)), 1.0),
            (Delay::constant(ms(10)), 0.0),
            (Delay::uniform(ms(0), ms(20)).unwrap(), 1.0 / 3.0),
            (Delay::lognormal(ms(10), 0.5).unwrap(), 0.25),
            (Delay::pareto(ms(5), 3.0).unwrap(), 1.0 / 3.0),
        ];
        for (d, want) in &cases {
            assert!((d.scv() - want).abs() < 1e-12, "{d}: scv {} vs {want}", d.scv());
            assert!((d.mean_ns() - d.mean().as_nanos() as f64).abs() < 1.0, "{d}: mean_ns");
        }
        assert!(Delay::pareto(ms(5), 2.0).unwrap().scv().is_infinite());
    }

    /// Golden draws: a change here means seed files stop replaying. Update only on purpose.
    #[test]
    fn exponential_draws_are_stable() {
        let mut rng = stream(42, "server");
        let d = Delay::exponential(SimDuration::from_millis(100));
        let got: Vec<u64> = (0..3).map(|_| d.sample(&mut rng).as_nanos()).collect();
        assert_eq!(got, GOLDEN_EXP);
    }
    const GOLDEN_EXP: [u64; 3] = [6_361_343, 118_275_933, 34_825_245];
}
