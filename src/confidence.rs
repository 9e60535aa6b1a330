//! Means over seeds with 95% confidence intervals (Student's t), and the test `compare`
//! uses to tell a win from noise: the intervals do not overlap.

/// The mean of a figure over seeds, with the half-width of its 95% confidence interval
/// (`None` with a single seed: no spread to estimate).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci95: Option<f64>,
}

/// Two-sided 95% quantiles of Student's t for 1..=30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

fn t975(dof: usize) -> f64 {
    T975.get(dof.wrapping_sub(1)).copied().unwrap_or(1.96)
}

pub fn estimate(xs: &[f64]) -> Estimate {
    let n = xs.len();
    let mean = xs.iter().sum::<f64>() / n.max(1) as f64;
    if n < 2 {
        return Estimate { mean, ci95: None };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Estimate { mean, ci95: Some(t975(n - 1) * (var / n as f64).sqrt()) }
}

impl Estimate {
    fn interval(&self) -> (f64, f64) {
        let h = self.ci95.unwrap_or(0.0);
        (self.mean - h, self.mean + h)
    }

    /// Whether the two intervals share a point.
    pub fn overlaps(&self, other: &Estimate) -> bool {
        let ((a0, a1), (b0, b1)) = (self.interval(), other.interval());
        a0 <= b1 && b0 <= a1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_a_known_sample() {
        // 1..=5: mean 3, s = 1.5811, t(4) = 2.776: half-width 1.963.
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.mean, 3.0);
        assert!((e.ci95.unwrap() - 1.963).abs() < 1e-3, "{e:?}");
        assert_eq!(estimate(&[7.0]).ci95, None);
    }

    #[test]
    fn overlap_needs_a_shared_point() {
        let a = Estimate { mean: 10.0, ci95: Some(1.0) };
        assert!(a.overlaps(&Estimate { mean: 11.5, ci95: Some(0.6) }));
        assert!(!a.overlaps(&Estimate { mean: 12.5, ci95: Some(1.0) }));
        let exact = Estimate { mean: 3.0, ci95: Some(0.0) };
        assert!(!exact.overlaps(&Estimate { mean: 3.1, ci95: Some(0.0) }), "deterministic figures that differ");
        assert!(exact.overlaps(&exact));
    }
}
