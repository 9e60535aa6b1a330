//! What a run will hold, estimated at validation from its model, so that a file every
//! other cap accepts still cannot make the run exhaust memory. Two limits: the requests a
//! run issues (surges weighed by how long they last, from the workload or from `[[faults]]`), and a memory
//! budget for what grows with the load: timeouts pending in the event queue (at the peak rate) with the time ledgers of their requests, operations
//! recorded for the consistency checker, per-user state and cache entries. Each estimate
//! is an upper bound (every call of a class timed, overlapping surges at their product's peak), so a
//! refusal names the largest part and its size.

use crate::limits::{MAX_EXPECTED_CALLS, MAX_EXPECTED_REQUESTS};
use sim_core::Model;
use sim_core::model::{Arrival, ComponentModel, FaultAction};

/// What a run may hold in memory, estimated: the runs it accepts stay well inside 3 GiB.
pub const MEMORY_BUDGET_BYTES: f64 = 2.0 * (1u64 << 30) as f64;
/// A pending event: a 32-byte heap entry, doubled for the heap's growth slack.
const EVENT_BYTES: f64 = 64.0;
/// A timed request's share of its root's time ledger (three counters a flow node).
const LEDGER_BYTES: f64 = 24.0;
/// An operation in a checked keyspace's history (measured: about 125 bytes).
const HISTORY_OP_BYTES: f64 = 128.0;
/// A closed-loop user's or a session's state.
const USER_BYTES: f64 = 64.0;
/// A cache entry with its LRU links and key map slot.
const CACHE_ENTRY_BYTES: f64 = 64.0;

/// Population `i`'s rate factor over the run, as (mean, peak): its workload's surges
/// (which multiply where they overlap: the mean counts each apart, the peak all at once)
/// and the surge faults aimed at it (each sets the factor until the next) times its rate
/// faults' base rates over `base` (each until the next), each weighed by how long it lasts.
fn surge_factors(model: &Model, i: usize, surges: &[sim_core::model::Surge], base: f64) -> (f64, f64) {
    let run = model.duration.as_secs_f64().max(1e-9);
    let extra = |s: &sim_core::model::Surge| (s.factor - 1.0).max(0.0) * (s.lasting.as_secs_f64() / run).min(1.0);
    let scheduled_mean: f64 = 1.0 + surges.iter().map(extra).sum::<f64>();
    let scheduled_peak: f64 = surges.iter().map(|s| s.factor.max(1.0)).product();
    // (when, the surge factor or the base factor it sets)
    let mut faults: Vec<(f64, Option<f64>, Option<f64>)> = model
        .faults
        .iter()
        .filter(|f| f.target.index() == i)
        .filter_map(|f| match f.action {
            FaultAction::Slow(factor) => Some((f.at.as_secs_f64().min(run), Some(factor), None)),
            FaultAction::Rate(r) => Some((f.at.as_secs_f64().min(run), None, Some(r / base))),
            _ => None,
        })
        .collect();
    // Stable: faults at one instant keep their order, as the engine applies them.
    faults.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut t, mut surge, mut knob, mut area, mut peak) = (0.0, 1.0, 1.0, 0.0, 1.0f64);
    for (at, s, k) in faults {
        area += (at - t) * surge * knob;
        (t, surge, knob) = (at, s.unwrap_or(surge), k.unwrap_or(knob));
        peak = peak.max(surge * knob);
    }
    let factor = surge * knob;
    area += (run - t) * factor;
    (scheduled_mean * (area / run).max(1.0), scheduled_peak * peak)
}

/// The estimate, part by part.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Estimate {
    pub requests: f64,
    /// Calls the requests make, fan-outs multiplied (each is events and a slab slot).
    pub calls: f64,
    pub pending_timeouts: f64,
    pub history_ops: f64,
    pub users: f64,
    pub cache_entries: f64,
}

impl Estimate {
    pub fn of(model: &Model) -> Estimate {
        let secs = model.duration.as_secs_f64();
        let mut e = Estimate::default();
        for (i, c) in model.components.iter().enumerate() {
            match &c.model {
                ComponentModel::Clients(spec) => {
                    // Requests count the mean rate over the run; what is pending at once, the peak.
                    let (rate, peak) = match &spec.arrival {
                        Arrival::Poisson { rate_per_sec } => {
                            let (mean, peak) = surge_factors(model, i, &spec.surges, *rate_per_sec);
                            (*rate_per_sec * mean, *rate_per_sec * peak)
                        }
                        Arrival::Closed { users, think } => {
                            let rate = f64::from(*users) / think.mean().as_secs_f64().max(1e-6);
                            (rate, rate)
                        }
                    };
                    e.users += f64::from(spec.users);
                    let total: f64 = spec.class_weights.iter().map(|(_, w)| w).sum::<f64>().max(f64::MIN_POSITIVE);
                    for &(class, w) in &spec.class_weights {
                        let (rate, peak) = (rate * w / total, peak * w / total);
                        e.requests += rate * secs;
                        let class = &model.classes[class.index()];
                        let calls = class.calls_per_request() as f64;
                        e.calls += rate * secs * calls;
                        if let Some(t) = class.timeout {
                            // Each call's timeout waits in the queue for its whole length.
                            e.pending_timeouts += peak * calls * t.as_secs_f64().min(secs);
                        }
                        let checked = class.keyspace.is_some_and(|k| model.keyspaces[k.index()].check);
                        if checked {
                            let stores = class
                                .flow
                                .iter()
                                .filter(|n| {
                                    model.services[n.service.index()]
                                        .instances
                                        .iter()
                                        .any(|c| model.components[c.index()].model.stores_data())
                                })
                                .count();
                            e.history_ops += rate * secs * stores as f64;
                        }
                    }
                }
                ComponentModel::Cache(spec) => {
                    // Its largest capacity over the run, its resize faults' included.
                    let resized =
                        model.faults.iter().filter(|f| f.target.index() == i).filter_map(|f| match f.action {
                            FaultAction::Capacity(n) => Some(n),
                            _ => None,
                        });
                    e.cache_entries += f64::from(resized.fold(spec.capacity, u32::max));
                }
                _ => {}
            }
        }
        // A cache holds at most one entry per request that reached it.
        e.cache_entries = e.cache_entries.min(e.requests);
        e
    }

    /// The estimated bytes, the largest part in words, and what would shrink it.
    pub fn bytes(&self) -> (f64, String, &'static str) {
        let parts = [
            (
                // Each call pending at once has its timeout queued, and its root a ledger
                // with three counters per flow node (one node a call).
                self.pending_timeouts * (EVENT_BYTES + LEDGER_BYTES),
                format!("{:.3e} timeouts pending at once", self.pending_timeouts),
                "shorten the class's `timeout`, or lower the load",
            ),
            (
                self.history_ops * HISTORY_OP_BYTES,
                format!("{:.3e} operations recorded for the checker", self.history_ops),
                "shorten the run, lower the load, or set `check = false` on the keyspace",
            ),
            (self.users * USER_BYTES, format!("{:.3e} users", self.users), "lower `users`"),
            (
                self.cache_entries * CACHE_ENTRY_BYTES,
                format!("{:.3e} cache entries", self.cache_entries),
                "lower the caches' `capacity`",
            ),
        ];
        let total = parts.iter().map(|p| p.0).sum();
        let (_, largest, help) = parts.into_iter().max_by(|a, b| a.0.total_cmp(&b.0)).expect("four parts");
        (total, largest, help)
    }

    /// Refuses a model over either limit: the message says by how much, and what to change.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.requests.is_nan() || self.requests > MAX_EXPECTED_REQUESTS {
            return Err((
                format!(
                    "this run would issue about {:.3e} requests (surges included); the limit is {MAX_EXPECTED_REQUESTS:.0e}",
                    self.requests
                ),
                "shorten the run (--duration), lower the load or the surges' factors".into(),
            ));
        }
        if self.calls.is_nan() || self.calls > MAX_EXPECTED_CALLS {
            return Err((
                format!(
                    "this run would make about {:.3e} calls (fan-outs multiplied); the limit is {MAX_EXPECTED_CALLS:.0e}",
                    self.calls
                ),
                "shorten the run (--duration), lower the load or the fan-outs".into(),
            ));
        }
        let (bytes, largest, help) = self.bytes();
        if bytes.is_nan() || bytes > MEMORY_BUDGET_BYTES {
            return Err((
                format!(
                    "this run would need about {:.1} GiB of memory, mostly for {largest}; the budget is {:.0} GiB",
                    bytes / (1u64 << 30) as f64,
                    MEMORY_BUDGET_BYTES / (1u64 << 30) as f64
                ),
                help.into(),
            ));
        }
        Ok(())
    }
}
