//! Confidence intervals for a steady-state mean by the method of batch means: consecutive
//! observations are grouped into batches whose means are nearly independent, so the spread
//! of the batch means gives an honest interval even though successive response times in a
//! queue are strongly correlated. Memory is constant: when 64 batches are full, adjacent
//! pairs merge and the batch size doubles.

const MAX_BATCHES: usize = 64;

#[derive(Clone, Debug)]
pub struct BatchMeans {
    batch_size: u64,
    current_sum: f64,
    current_count: u64,
    batches: Vec<f64>,
}

impl Default for BatchMeans {
    fn default() -> Self {
        BatchMeans { batch_size: 1, current_sum: 0.0, current_count: 0, batches: Vec::with_capacity(MAX_BATCHES) }
    }
}

impl BatchMeans {
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.current_sum += x;
        self.current_count += 1;
        if self.current_count == self.batch_size {
            self.batches.push(self.current_sum / self.batch_size as f64);
            self.current_sum = 0.0;
            self.current_count = 0;
            if self.batches.len() == MAX_BATCHES {
                self.halve();
            }
        }
    }

    fn halve(&mut self) {
        let merged: Vec<f64> = self.batches.chunks(2).map(|p| (p[0] + p[1]) / 2.0).collect();
        self.batches = merged;
        self.batch_size *= 2;
    }

    /// Half-width of the 95% confidence interval of the mean, or `None` with fewer than
    /// ten complete batches (too few for the interval to mean anything).
    pub fn ci95_half_width(&self) -> Option<f64> {
        ci95_of(&self.batches)
    }
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (df >= 9 here), by the
/// Cornish-Fisher expansion around the normal quantile: within 0.1% for df >= 9.
/// Half-width of the 95% interval of the mean of `batches` (independent batch estimates),
/// or `None` with fewer than 10.
pub fn ci95_of(batches: &[f64]) -> Option<f64> {
    let k = batches.len();
    if k < 10 {
        return None;
    }
    let kf = k as f64;
    let mean = batches.iter().sum::<f64>() / kf;
    let var = batches.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (kf - 1.0);
    Some(student_t975(k - 1) * (var / kf).sqrt())
}

fn student_t975(df: usize) -> f64 {
    let z: f64 = 1.959_963_984_540_054;
    let v = df as f64;
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * v.powi(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        for (df, want) in [(9, 2.262), (20, 2.086), (31, 2.040), (63, 1.998)] {
            assert!((student_t975(df) - want).abs() < 0.003, "df {df}: {}", student_t975(df));
        }
    }

    #[test]
    fn batches_double_and_stay_bounded() {
        let mut b = BatchMeans::default();
        for i in 0..10_000 {
            b.add(f64::from(i % 7));
        }
        assert!(b.batches.len() < MAX_BATCHES && b.batches.len() >= MAX_BATCHES / 2);
        assert_eq!(b.batch_size, 256);
    }

    #[test]
    fn interval_of_independent_noise_has_the_textbook_width() {
        // Uniform(0,1) noise: sd = 0.2887, so the CI of the mean of n draws is about
        // 1.96 * 0.2887 / sqrt(n).
        let mut rng = crate::kernel::rng::stream(3, "ci");
        let mut b = BatchMeans::default();
        let n = 1 << 16;
        for _ in 0..n {
            b.add(rand::RngExt::random::<f64>(&mut rng));
        }
        let want = 1.96 * 0.288_675 / (n as f64).sqrt();
        let got = b.ci95_half_width().unwrap();
        assert!((got / want - 1.0).abs() < 0.35, "half-width {got} vs {want}");
    }
}
