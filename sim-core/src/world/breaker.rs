//! Circuit breakers, as resilience4j defines them: closed (calls pass, their results fill
//! a sliding window), open (calls fail fast at the caller, with no network and no load on
//! the callee) and half-open (a few probe calls pass; all succeed -> closed, any fails ->
//! open again). `Breaker` is the pure state machine, fed call results and times;
//! `Breakers` holds one per (caller instance, callee service) that the model declares.

use crate::kernel::ids::{ComponentId, ServiceId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::Model;
use crate::model::breaker::{BreakerSpec, BreakerWindow};

/// At most this many state changes are kept per breaker for the timeline; later ones are
/// only counted (the time in each state stays exact).
pub const TRANSITIONS_MAX: usize = 1_000;

/// Buckets of a time window: a call leaves the window within a tenth of it of its age.
const BUCKETS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Calls, failures and slow calls in some stretch of the window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Tally {
    calls: u32,
    failures: u32,
    slow: u32,
}

/// The sliding window of answered calls.
#[derive(Clone, Debug)]
enum Window {
    /// Ten buckets of `width`, each tagged with the number of its stretch of time.
    Time { width: SimDuration, buckets: Box<[(u64, Tally); BUCKETS]> },
    /// A ring of the last calls (bit 0: failed, bit 1: slow) with their running tally.
    Calls { ring: Vec<u8>, next: usize, tally: Tally },
}

impl Window {
    fn new(w: BreakerWindow) -> Window {
        match w {
            BreakerWindow::Time(d) => Window::Time {
                width: SimDuration((d.as_nanos() / BUCKETS as u64).max(1)),
                buckets: Box::new([(u64::MAX, Tally::default()); BUCKETS]),
            },
            // Grown as calls come: a breaker that sees few calls never holds a full ring.
            BreakerWindow::Calls(_) => Window::Calls { ring: Vec::new(), next: 0, tally: Tally::default() },
        }
    }

    fn clear(&mut self) {
        match self {
            Window::Time { buckets, .. } => **buckets = [(u64::MAX, Tally::default()); BUCKETS],
            Window::Calls { ring, next, tally } => {
                ring.clear();
                (*next, *tally) = (0, Tally::default());
            }
        }
    }

    /// Adds one answered call at `now` and returns the window's tally.
    fn record(&mut self, now: SimTime, failed: bool, slow: bool, capacity: u32) -> Tally {
        match self {
            Window::Time { width, buckets } => {
                let stretch = now.as_nanos() / width.as_nanos();
                let b = &mut buckets[(stretch % BUCKETS as u64) as usize];
                if b.0 != stretch {
                    *b = (stretch, Tally::default());
                }
                b.1.calls += 1;
                b.1.failures += u32::from(failed);
                b.1.slow += u32::from(slow);
                let mut sum = Tally::default();
                for (_, t) in buckets.iter().filter(|(s, _)| *s <= stretch && stretch - *s < BUCKETS as u64) {
                    sum.calls += t.calls;
                    sum.failures += t.failures;
                    sum.slow += t.slow;
                }
                sum
            }
            Window::Calls { ring, next, tally } => {
                let bits = u8::from(failed) | u8::from(slow) << 1;
                if ring.len() < capacity as usize {
                    ring.push(bits);
                    tally.calls += 1;
                } else {
                    let old = std::mem::replace(&mut ring[*next], bits);
                    tally.failures -= u32::from(old & 1);
                    tally.slow -= u32::from(old >> 1);
                    *next = (*next + 1) % ring.len();
                }
                tally.failures += u32::from(failed);
                tally.slow += u32::from(slow);
                *tally
            }
        }
    }
}

/// One state change, at a time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    pub at: SimTime,
    pub to: BreakerState,
}

/// One caller instance's breaker for its calls to one service.
#[derive(Clone, Debug)]
pub struct Breaker {
    spec: BreakerSpec,
    state: BreakerState,
    /// When the current state began: results of calls sent before it are ignored (a call
    /// sent while closed that answers once half-open is no probe).
    since: SimTime,
    window: Window,
    probes_sent: u32,
    probes_ok: u32,
    /// Calls refused while open or half-open.
    pub failed_fast: u64,
    /// Time spent in each state before the current one (index: `BreakerState as usize`).
    time_in: [SimDuration; 3],
    transitions: Vec<Transition>,
    /// State changes beyond `TRANSITIONS_MAX`, counted only.
    pub transitions_dropped: u64,
}

impl Breaker {
    pub fn new(spec: &BreakerSpec) -> Breaker {
        Breaker {
            spec: spec.clone(),
            state: BreakerState::Closed,
            since: SimTime::ZERO,
            window: Window::new(spec.window),
            probes_sent: 0,
            probes_ok: 0,
            failed_fast: 0,
            time_in: [SimDuration::ZERO; 3],
            transitions: Vec::new(),
            transitions_dropped: 0,
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    pub fn spec(&self) -> &BreakerSpec {
        &self.spec
    }

    /// The state changes so far (the first `TRANSITIONS_MAX`).
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }

    /// Time spent in `state` up to `now`.
    pub fn time_in(&self, state: BreakerState, now: SimTime) -> SimDuration {
        let current = if self.state == state { now.since(self.since.min(now)) } else { SimDuration::ZERO };
        self.time_in[state as usize] + current
    }

    /// Times it opened (from closed or from half-open), among the transitions kept.
    pub fn opened(&self) -> usize {
        self.transitions.iter().filter(|t| t.to == BreakerState::Open).count()
    }

    /// State changes so far, kept or dropped.
    fn changes(&self) -> u64 {
        self.transitions.len() as u64 + self.transitions_dropped
    }

    fn enter(&mut self, to: BreakerState, now: SimTime) {
        let i = self.state as usize;
        self.time_in[i] = self.time_in[i] + now.since(self.since);
        (self.state, self.since) = (to, now);
        (self.probes_sent, self.probes_ok) = (0, 0);
        self.window.clear();
        if self.transitions.len() < TRANSITIONS_MAX {
            self.transitions.push(Transition { at: now, to });
        } else {
            self.transitions_dropped += 1;
        }
    }

    /// The caller's process died: a breaker lives in its memory, so the restarted process
    /// starts closed with an empty window (calls it had out will never be answered).
    pub fn reset(&mut self, now: SimTime) {
        if self.state == BreakerState::Closed {
            self.window.clear();
        } else {
            self.enter(BreakerState::Closed, now);
        }
    }

    /// Whether a call may go out now. Open turns half-open at the first call after
    /// `open_for` (resilience4j's default: no timer); a refused call counts as failed fast.
    pub fn admit(&mut self, now: SimTime) -> bool {
        if self.state == BreakerState::Open && now >= self.since + self.spec.open_for {
            self.enter(BreakerState::HalfOpen, now);
        }
        let pass = match self.state {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => self.probes_sent < self.spec.probes,
        };
        if !pass {
            self.failed_fast += 1;
        } else if self.state == BreakerState::HalfOpen {
            self.probes_sent += 1;
        }
        pass
    }

    /// A call sent at `sent` was answered at `now`: `failed` for a timeout, refusal,
    /// rejection, error or unavailability; otherwise it took `latency`.
    pub fn on_result(&mut self, now: SimTime, sent: SimTime, failed: bool, latency: SimDuration) {
        if sent < self.since {
            return;
        }
        let slow = !failed && self.spec.slow_call.is_some_and(|s| latency > s);
        match self.state {
            BreakerState::Open => {}
            BreakerState::HalfOpen if failed || slow => self.enter(BreakerState::Open, now),
            BreakerState::HalfOpen => {
                self.probes_ok += 1;
                if self.probes_ok >= self.spec.probes {
                    self.enter(BreakerState::Closed, now);
                }
            }
            BreakerState::Closed => {
                let capacity = match self.spec.window {
                    BreakerWindow::Calls(n) => n,
                    BreakerWindow::Time(_) => 0,
                };
                let t = self.window.record(now, failed, slow, capacity);
                if t.calls < self.spec.min_calls.max(1) {
                    return;
                }
                let calls = f64::from(t.calls);
                let failing = f64::from(t.failures) >= self.spec.failure_rate * calls;
                let slowing = self.spec.slow_call.is_some() && f64::from(t.slow) >= self.spec.slow_rate * calls;
                if failing || slowing {
                    self.enter(BreakerState::Open, now);
                }
            }
        }
    }
}

/// Every breaker of a run, found by (caller instance, callee service).
#[derive(Clone, Debug, Default)]
pub struct Breakers {
    /// Per instance (empty when no breaker is declared): its breakers, by callee service.
    by_caller: Vec<Vec<(ServiceId, u32)>>,
    list: Vec<(ComponentId, Breaker)>,
}

impl Breakers {
    pub fn new(model: &Model) -> Breakers {
        if model.breakers.is_empty() {
            return Breakers::default();
        }
        let mut b = Breakers { by_caller: vec![Vec::new(); model.components.len()], list: Vec::new() };
        for spec in &model.breakers {
            for &caller in &model.services[spec.from.index()].instances {
                b.by_caller[caller.index()].push((spec.to, b.list.len() as u32));
                b.list.push((caller, Breaker::new(spec)));
            }
        }
        b
    }

    /// Whether the model declares any breaker: the one branch the call path pays without.
    #[inline(always)]
    pub fn any(&self) -> bool {
        !self.list.is_empty()
    }

    /// `caller`'s breaker for its calls to `callee`, if it has one.
    pub fn find(&mut self, caller: ComponentId, callee: ServiceId) -> Option<&mut Breaker> {
        let &(_, i) = self.by_caller[caller.index()].iter().find(|(s, _)| *s == callee)?;
        Some(&mut self.list[i as usize].1)
    }

    /// Asks `caller`'s breaker for `callee` whether a call may go out now: `None` if it
    /// has none, else whether it passes and the state it changed to, if it did.
    pub fn admit(
        &mut self,
        caller: ComponentId,
        callee: ServiceId,
        now: SimTime,
    ) -> Option<(bool, Option<BreakerState>)> {
        let b = self.find(caller, callee)?;
        let before = b.changes();
        let pass = b.admit(now);
        Some((pass, (b.changes() != before).then_some(b.state)))
    }

    /// Feeds `caller`'s breaker for `callee` (if any) a call's result; returns the state it
    /// changed to, if it did.
    pub fn on_result(
        &mut self,
        caller: ComponentId,
        callee: ServiceId,
        now: SimTime,
        sent: SimTime,
        failed: bool,
    ) -> Option<BreakerState> {
        let b = self.find(caller, callee)?;
        let before = b.changes();
        b.on_result(now, sent, failed, now.since(sent));
        (b.changes() != before).then_some(b.state)
    }

    /// `caller` crashed: its breakers start again closed. Returns (callee, new state) for
    /// each that changed state, for the notes.
    pub fn on_crash(&mut self, caller: ComponentId, now: SimTime) -> Vec<(ServiceId, BreakerState)> {
        let mut changed = Vec::new();
        for &(callee, i) in &self.by_caller[caller.index()] {
            let b = &mut self.list[i as usize].1;
            let before = b.changes();
            b.reset(now);
            if b.changes() != before {
                changed.push((callee, b.state));
            }
        }
        changed
    }

    /// Every breaker with its caller, in declaration order then caller order.
    pub fn all(&self) -> &[(ComponentId, Breaker)] {
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(window: BreakerWindow) -> BreakerSpec {
        BreakerSpec {
            from: ServiceId(1),
            to: ServiceId(2),
            failure_rate: 0.5,
            slow_call: None,
            slow_rate: 1.0,
            window,
            min_calls: 4,
            open_for: SimDuration::from_secs(5),
            probes: 2,
        }
    }

    fn at(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    /// Feeds one call sent and answered at `ms` (after 1 ms) and returns the state.
    fn call(b: &mut Breaker, ms: u64, failed: bool) -> BreakerState {
        assert!(b.admit(at(ms)), "closed or probing lets the call through");
        b.on_result(at(ms + 1), at(ms), failed, SimDuration::from_millis(1));
        b.state()
    }

    #[test]
    fn opens_at_the_failure_rate_only_once_min_calls_are_in() {
        let mut b = Breaker::new(&spec(BreakerWindow::Calls(10)));
        assert_eq!(call(&mut b, 0, true), BreakerState::Closed, "1 call of 4");
        assert_eq!(call(&mut b, 10, true), BreakerState::Closed);
        assert_eq!(call(&mut b, 20, true), BreakerState::Closed, "3 failures of 3, still under min_calls");
        assert_eq!(call(&mut b, 30, false), BreakerState::Open, "3 of 4 failed: 75% >= 50%");
        assert_eq!(b.transitions(), &[Transition { at: at(31), to: BreakerState::Open }]);
    }

    #[test]
    fn stays_closed_below_the_failure_rate() {
        let mut b = Breaker::new(&spec(BreakerWindow::Calls(10)));
        for i in 0..100 {
            // Every third call fails: at most 4 of any 10 (40% < 50%), 1 of the first 4.
            assert_eq!(call(&mut b, i * 10, i % 3 == 2), BreakerState::Closed);
        }
        assert_eq!(b.failed_fast, 0);
    }

    #[test]
    fn slow_successes_open_it_by_the_slow_rate() {
        let mut s = spec(BreakerWindow::Calls(10));
        (s.slow_call, s.slow_rate) = (Some(SimDuration::from_millis(200)), 0.8);
        let mut b = Breaker::new(&s);
        let feed = |b: &mut Breaker, ms: u64, latency_ms: u64| {
            assert!(b.admit(at(ms)));
            b.on_result(at(ms + latency_ms), at(ms), false, SimDuration::from_millis(latency_ms));
            b.state()
        };
        assert_eq!(feed(&mut b, 0, 300), BreakerState::Closed);
        assert_eq!(feed(&mut b, 1, 300), BreakerState::Closed);
        assert_eq!(feed(&mut b, 2, 200), BreakerState::Closed, "200 ms is not slower than 200 ms");
        assert_eq!(feed(&mut b, 3, 300), BreakerState::Closed, "3 slow of 4: 75% < 80%");
        assert_eq!(feed(&mut b, 4, 300), BreakerState::Open, "4 slow of 5: 80%");
    }

    #[test]
    fn stays_open_for_open_for_then_probes_close_it() {
        let mut b = Breaker::new(&spec(BreakerWindow::Calls(4)));
        for i in 0..4 {
            call(&mut b, i, true);
        }
        assert_eq!(b.state(), BreakerState::Open);
        let opened = at(4);
        assert!(!b.admit(opened + SimDuration::from_millis(4_999)), "open for 5 s: fails fast");
        assert_eq!(b.failed_fast, 1);
        let half = opened + SimDuration::from_secs(5);
        assert!(b.admit(half), "the first call after open_for is a probe");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.admit(half), "second probe");
        assert!(!b.admit(half), "probes = 2: a third call fails fast");
        assert_eq!(b.failed_fast, 2);
        b.on_result(half + SimDuration::from_millis(1), half, false, SimDuration::from_millis(1));
        assert_eq!(b.state(), BreakerState::HalfOpen, "one of two probes back");
        b.on_result(half + SimDuration::from_millis(2), half, false, SimDuration::from_millis(2));
        assert_eq!(b.state(), BreakerState::Closed);
        let end = half + SimDuration::from_secs(1);
        assert_eq!(b.time_in(BreakerState::Open, end), SimDuration::from_secs(5));
        assert_eq!(b.time_in(BreakerState::HalfOpen, end), SimDuration::from_millis(2));
        let states: Vec<_> = b.transitions().iter().map(|t| t.to).collect();
        assert_eq!(states, [BreakerState::Open, BreakerState::HalfOpen, BreakerState::Closed]);
        assert_eq!(call(&mut b, 10_000, true), BreakerState::Closed, "a fresh window after closing");
    }

    #[test]
    fn a_failed_probe_opens_it_again_and_old_calls_are_no_probes() {
        let mut b = Breaker::new(&spec(BreakerWindow::Calls(4)));
        assert!(b.admit(at(0)), "a call sent while closed, answered much later");
        for i in 1..5 {
            call(&mut b, i, true);
        }
        assert_eq!(b.state(), BreakerState::Open);
        let half = at(5) + SimDuration::from_secs(5);
        assert!(b.admit(half));
        b.on_result(half, at(0), true, SimDuration::from_secs(5));
        assert_eq!(b.state(), BreakerState::HalfOpen, "sent before half-open: not a probe");
        b.on_result(half + SimDuration::from_millis(1), half, true, SimDuration::from_millis(1));
        assert_eq!(b.state(), BreakerState::Open, "the probe failed");
        assert!(!b.admit(half + SimDuration::from_secs(1)), "open for another 5 s");
    }

    #[test]
    fn a_crash_of_the_caller_starts_its_breaker_again_closed() {
        let mut b = Breaker::new(&spec(BreakerWindow::Calls(4)));
        for i in 0..4 {
            call(&mut b, i, true);
        }
        assert_eq!(b.state(), BreakerState::Open);
        b.reset(at(100));
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.admit(at(101)), "the restarted process sends again");
        assert_eq!(b.time_in(BreakerState::Open, at(200)), at(100).since(at(4)));
        for i in 0..3 {
            assert_eq!(call(&mut b, 200 + i, true), BreakerState::Closed, "the old window is gone: under min_calls");
        }
    }

    #[test]
    fn a_time_window_forgets_old_calls() {
        // One failure, then later three successes and two failures: with the first failure
        // still in the 10 s window that is 3 of 6 failed (open); 11 s later, 2 of 5 (closed).
        let run = |later_ms: u64| {
            let mut b = Breaker::new(&spec(BreakerWindow::Time(SimDuration::from_secs(10))));
            call(&mut b, 0, true);
            for (i, failed) in [false, false, false, true, true].into_iter().enumerate() {
                call(&mut b, later_ms + i as u64, failed);
            }
            b.state()
        };
        assert_eq!(run(8_000), BreakerState::Open);
        assert_eq!(run(11_000), BreakerState::Closed);
    }

    #[test]
    fn a_count_window_forgets_all_but_the_last_calls() {
        let mut b = Breaker::new(&spec(BreakerWindow::Calls(4)));
        for i in 0..3 {
            call(&mut b, i, false);
        }
        assert_eq!(call(&mut b, 3, true), BreakerState::Closed, "1 of 4");
        for i in 4..7 {
            assert_eq!(call(&mut b, i, false), BreakerState::Closed);
        }
        // The ring holds the last four: a new failure pushes out the old one (1 of 4), a
        // second pushes out a success (2 of 4).
        assert_eq!(call(&mut b, 7, true), BreakerState::Closed, "1 of 4");
        assert_eq!(call(&mut b, 8, true), BreakerState::Open, "2 of 4");
    }
}
