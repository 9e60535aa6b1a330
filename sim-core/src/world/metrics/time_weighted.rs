//! Time averages of a piece of state (queue length, busy workers): the exact integral of
//! the value over simulated time, counted only inside the measurement window.

use crate::kernel::time::SimTime;

#[derive(Clone, Debug, Default)]
pub struct TimeWeighted {
    window_start: SimTime,
    last_change: SimTime,
    value: u64,
    area: u128,
    max: u64,
}

impl TimeWeighted {
    pub fn new(window_start: SimTime) -> Self {
        TimeWeighted { window_start, ..Default::default() }
    }

    #[inline]
    pub fn set(&mut self, now: SimTime, value: u64) {
        self.accumulate(now);
        self.value = value;
        if now >= self.window_start {
            self.max = self.max.max(value);
        }
    }

    #[inline]
    fn accumulate(&mut self, now: SimTime) {
        let from = self.last_change.max(self.window_start);
        if now > from {
            self.area += u128::from(self.value) * u128::from(now.0 - from.0);
            // The outgoing value was in effect for part of the window.
            self.max = self.max.max(self.value);
        }
        self.last_change = now;
    }

    pub fn value(&self) -> u64 {
        self.value
    }

    /// The time average over [window start, `end`].
    pub fn mean(&self, end: SimTime) -> f64 {
        let from = self.last_change.max(self.window_start);
        let tail = if end > from { u128::from(self.value) * u128::from(end.0 - from.0) } else { 0 };
        let span = end.0.saturating_sub(self.window_start.0);
        if span == 0 { self.value as f64 } else { (self.area + tail) as f64 / span as f64 }
    }

    /// The largest value seen inside the window (the value at the window start counts).
    pub fn max(&self) -> u64 {
        if self.last_change < self.window_start { self.max.max(self.value) } else { self.max }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_only_inside_the_window() {
        let mut tw = TimeWeighted::new(SimTime(10));
        tw.set(SimTime(0), 100); // before the window: 100 until t=10 is not counted
        tw.set(SimTime(15), 2); // 100 over [10,15)
        tw.set(SimTime(20), 0); // 2 over [15,20)
        // window [10, 30]: (100*5 + 2*5 + 0*10) / 20
        assert_eq!(tw.mean(SimTime(30)), 25.5);
        assert_eq!(tw.max(), 100);
    }
}
