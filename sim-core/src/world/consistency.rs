//! The consistency checker: a history of operations on replicated data, judged after the
//! run against the data's final state.
//!
//! Each operation is recorded as the caller saw it: when it was invoked and completed, and
//! whether it succeeded. A write carries the id of what it wrote (unique per write: a log
//! sequence number, a write id); a read carries the id of the write whose value it
//! returned (0: none yet). Real-time order is all the checker assumes: operation `a`
//! precedes `b` if `a` completed before `b` was invoked; otherwise they are concurrent and
//! either order is allowed. What it reports:
//! - stale reads: a read returned a value older than a write acknowledged before the read
//!   began (the value's write precedes that acknowledged write, or there was no value);
//! - lost writes: an acknowledged write that the final state neither holds nor has
//!   replaced with a write that followed or overlapped it;
//! - duplicates: a write whose id the final state holds under more than one key;
//! - unavailability: the share of operations that failed, and for how long some did.
//!
//! Operations that failed are not acknowledged: their effects may or may not survive, and
//! neither outcome is an anomaly. Writes still in flight when the run ends are recorded
//! with an unknown completion (`SimTime::MAX`): what they wrote may be in the final state.

use crate::kernel::time::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Read,
    Write,
}

/// One operation as its caller saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    pub key: u64,
    pub kind: OpKind,
    pub invoke: SimTime,
    pub complete: SimTime,
    pub ok: bool,
    /// Write: the id it wrote (0: it wrote nothing). Read: the id of the write it
    /// returned, 0 for none.
    pub value: u64,
}

/// One anomaly with the operations that show it, for a person to follow.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Example {
    pub anomaly: &'static str,
    pub key: u64,
    pub detail: String,
}

/// What the checker found in one data class.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Verdict {
    pub operations: u64,
    /// Operations that failed: the errors users saw.
    pub failed: u64,
    /// Share of operations that succeeded, 0..1.
    pub availability: f64,
    pub write_availability: f64,
    pub read_availability: f64,
    pub stale_reads: u64,
    pub lost_writes: u64,
    pub duplicates: u64,
    /// Total simulated time during which some operation was failing (union of the failed
    /// operations' intervals), in milliseconds.
    pub unavailable_ms: f64,
    /// A few anomalies of each kind, with keys, values and times.
    pub examples: Vec<Example>,
}

const EXAMPLES_PER_KIND: usize = 3;

/// Checks a history against the final state: for each key, the id of the write whose
/// value the data ends with (keys absent: never written, or nothing survived). One pass
/// per anomaly (lost, duplicated, stale), kept together: they share the indexes built first.
pub fn check(history: &[Op], last: &BTreeMap<u64, u64>) -> Verdict {
    let mut v = check_common(history);

    // Every write by id (ids are unique), and each key's acknowledged writes.
    let writes: BTreeMap<u64, &Op> =
        history.iter().filter(|o| o.kind == OpKind::Write && o.value != 0).map(|o| (o.value, o)).collect();
    let mut acked: BTreeMap<u64, Vec<&Op>> = BTreeMap::new();
    for w in history.iter().filter(|o| o.kind == OpKind::Write && o.ok) {
        acked.entry(w.key).or_default().push(w);
    }
    let precedes = |a: &Op, b: &Op| a.complete < b.invoke;
    let mut examples: BTreeMap<&'static str, Vec<Example>> = BTreeMap::new();
    let mut note = |anomaly: &'static str, key: u64, detail: String| {
        let list = examples.entry(anomaly).or_default();
        if list.len() < EXAMPLES_PER_KIND {
            list.push(Example { anomaly, key, detail });
        }
    };

    for r in history.iter().filter(|o| o.kind == OpKind::Read && o.ok) {
        let Some(ws) = acked.get(&r.key) else { continue };
        let returned = writes.get(&r.value).copied();
        // The newest write acknowledged before the read began that the value predates.
        let newer = ws.iter().filter(|w| precedes(w, r)).find(|w| returned.is_none_or(|x| precedes(x, w)));
        if let Some(w) = newer {
            v.stale_reads += 1;
            note(
                "stale_read",
                r.key,
                format!(
                    "read at {}..{} returned {}, but write {} was acknowledged at {}",
                    r.invoke,
                    r.complete,
                    describe(r.value),
                    w.value,
                    w.complete
                ),
            );
        }
    }

    for (key, ws) in &acked {
        // A value no recorded write made comes from a write still in flight at the end:
        // its time is unknown, so the key cannot be judged.
        if last.get(key).is_some_and(|id| !writes.contains_key(id)) {
            continue;
        }
        let survivor = last.get(key).and_then(|id| writes.get(id)).copied();
        for w in ws {
            let kept = survivor.is_some_and(|s| s.value == w.value || !precedes(s, w));
            if !kept {
                v.lost_writes += 1;
                let end = last.get(key).map_or("nothing".to_string(), |id| format!("write {id}"));
                note(
                    "lost_write",
                    *key,
                    format!("write {} acknowledged at {}, but the data ends with {end}", w.value, w.complete),
                );
            }
        }
    }

    let mut holders: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (key, id) in last {
        holders.entry(*id).or_default().push(*key);
    }
    for (id, keys) in holders.iter().filter(|(id, keys)| **id != 0 && keys.len() > 1) {
        v.duplicates += keys.len() as u64 - 1;
        note("duplicate", keys[0], format!("write {id} is held under {} keys: {keys:?}", keys.len()));
    }
    v.examples = examples.into_values().flatten().collect();
    v
}

/// Checks a counter's history: writes are increments (their value is not an id), reads
/// return a count, and `last` holds the count each key converges to.
pub fn check_counter(history: &[Op], last: &BTreeMap<u64, u64>) -> Verdict {
    let mut v = check_common(history);
    let mut examples = Vec::new();
    let mut by_key: BTreeMap<u64, Vec<&Op>> = BTreeMap::new();
    for o in history {
        by_key.entry(o.key).or_default().push(o);
    }
    for (key, ops) in &by_key {
        let acked: Vec<&&Op> = ops.iter().filter(|o| o.kind == OpKind::Write && o.ok).collect();
        for r in ops.iter().filter(|o| o.kind == OpKind::Read && o.ok) {
            let before = acked.iter().filter(|w| w.complete < r.invoke).count() as u64;
            if r.value < before {
                v.stale_reads += 1;
                if examples.iter().filter(|e: &&Example| e.anomaly == "stale_read").count() < EXAMPLES_PER_KIND {
                    examples.push(Example {
                        anomaly: "stale_read",
                        key: *key,
                        detail: format!(
                            "read at {}..{} counted {}, but {before} increments were acknowledged before it began",
                            r.invoke, r.complete, r.value
                        ),
                    });
                }
            }
        }
        let attempted = ops.iter().filter(|o| o.kind == OpKind::Write).count() as u64;
        let end = last.get(key).copied().unwrap_or(0);
        if end < acked.len() as u64 {
            v.lost_writes += acked.len() as u64 - end;
            examples.push(Example {
                anomaly: "lost_write",
                key: *key,
                detail: format!("{} increments acknowledged, but the count ends at {end}", acked.len()),
            });
        }
        if end > attempted {
            v.duplicates += end - attempted;
            examples.push(Example {
                anomaly: "duplicate",
                key: *key,
                detail: format!("{attempted} increments attempted, but the count ends at {end}"),
            });
        }
    }
    examples.sort_by_key(|e| e.anomaly);
    let mut kept: Vec<Example> = Vec::new();
    for e in examples {
        if kept.iter().filter(|k| k.anomaly == e.anomaly).count() < EXAMPLES_PER_KIND {
            kept.push(e);
        }
    }
    v.examples = kept;
    v
}

/// Counts and availability, common to every data type. Operations still in flight at
/// the end (`complete` = `SimTime::MAX`) neither succeeded nor failed: they count only as
/// writes that may have taken effect.
fn check_common(history: &[Op]) -> Verdict {
    let ended: Vec<Op> = history.iter().filter(|o| o.complete != SimTime::MAX).copied().collect();
    let history = &ended[..];
    let share = |kind: Option<OpKind>| {
        let of: Vec<&Op> = history.iter().filter(|o| kind.is_none_or(|k| o.kind == k)).collect();
        if of.is_empty() { 1.0 } else { of.iter().filter(|o| o.ok).count() as f64 / of.len() as f64 }
    };
    Verdict {
        operations: history.len() as u64,
        failed: history.iter().filter(|o| !o.ok).count() as u64,
        availability: share(None),
        write_availability: share(Some(OpKind::Write)),
        read_availability: share(Some(OpKind::Read)),
        unavailable_ms: failing_time(history) as f64 / 1e6,
        ..Verdict::default()
    }
}

fn describe(value: u64) -> String {
    if value == 0 { "nothing".into() } else { format!("write {value}") }
}

/// Length of the union of the failed operations' [invoke, complete] intervals.
fn failing_time(history: &[Op]) -> u64 {
    let mut spans: Vec<(u64, u64)> = history.iter().filter(|o| !o.ok).map(|o| (o.invoke.0, o.complete.0)).collect();
    spans.sort_unstable();
    let (mut total, mut open) = (0, None::<(u64, u64)>);
    for (a, b) in spans {
        open = match open {
            Some((s, e)) if a <= e => Some((s, e.max(b))),
            Some((s, e)) => {
                total += e - s;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    total + open.map_or(0, |(s, e)| e - s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(key: u64, at: (u64, u64), id: u64, ok: bool) -> Op {
        Op { key, kind: OpKind::Write, invoke: SimTime(at.0), complete: SimTime(at.1), ok, value: id }
    }

    fn r(key: u64, at: (u64, u64), saw: u64) -> Op {
        Op { key, kind: OpKind::Read, invoke: SimTime(at.0), complete: SimTime(at.1), ok: true, value: saw }
    }

    fn last(pairs: &[(u64, u64)]) -> BTreeMap<u64, u64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn a_correct_history_reports_nothing() {
        let h = [
            w(1, (0, 10), 1, true),
            r(1, (20, 30), 1),
            // Concurrent with the write of 2: either value is fine.
            w(1, (40, 60), 2, true),
            r(1, (45, 50), 1),
            r(1, (50, 70), 2),
            r(1, (80, 90), 2),
            // A failed write may or may not take effect.
            w(2, (100, 110), 3, false),
            r(2, (120, 130), 3),
        ];
        let v = check(&h, &last(&[(1, 2), (2, 3)]));
        assert_eq!((v.stale_reads, v.lost_writes, v.duplicates), (0, 0, 0), "{:?}", v.examples);
        assert!(v.examples.is_empty());
        assert_eq!(v.operations, 8);
        assert!((v.write_availability - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(v.read_availability, 1.0);
        assert_eq!(v.unavailable_ms, 10.0 / 1e6);
    }

    #[test]
    fn a_read_older_than_an_acknowledged_write_is_stale() {
        let h = [w(1, (0, 10), 1, true), w(1, (20, 30), 2, true), r(1, (40, 50), 1), r(1, (41, 45), 0)];
        let v = check(&h, &last(&[(1, 2)]));
        assert_eq!(v.stale_reads, 2);
        let e = &v.examples[0];
        assert_eq!((e.anomaly, e.key), ("stale_read", 1));
        assert!(e.detail.contains("returned write 1, but write 2 was acknowledged at"), "{}", e.detail);
        assert!(v.examples[1].detail.contains("returned nothing"));
    }

    #[test]
    fn an_acknowledged_write_missing_from_the_end_is_lost_unless_overwritten() {
        // Write 2 was acknowledged after write 1 finished, but the data ends with 1: lost.
        // Write 4 was replaced by 5, which began after it: an overwrite, not a loss.
        let h = [w(1, (0, 10), 1, true), w(1, (20, 30), 2, true), w(2, (0, 10), 4, true), w(2, (20, 30), 5, true)];
        let v = check(&h, &last(&[(1, 1), (2, 5)]));
        assert_eq!(v.lost_writes, 1);
        assert_eq!(v.examples[0].detail, "write 2 acknowledged at t=30ns, but the data ends with write 1");
        // A key that ends with nothing lost all its acknowledged writes.
        assert_eq!(check(&h, &last(&[(2, 5)])).lost_writes, 2);
        // A value from a write still in flight at the end (id 9, unrecorded): not judged.
        assert_eq!(check(&h, &last(&[(1, 9), (2, 5)])).lost_writes, 0);
        // Concurrent writes: the one kept may be either.
        let c = [w(1, (0, 30), 1, true), w(1, (10, 20), 2, true)];
        assert_eq!(check(&c, &last(&[(1, 1)])).lost_writes, 0);
        assert_eq!(check(&c, &last(&[(1, 2)])).lost_writes, 0);
    }

    #[test]
    fn a_write_held_under_two_keys_is_a_duplicate() {
        let h = [w(1, (0, 10), 7, true)];
        let v = check(&h, &last(&[(1, 7), (9, 7), (10, 7)]));
        assert_eq!(v.duplicates, 2);
        assert_eq!(v.examples[0].anomaly, "duplicate");
    }

    #[test]
    fn counters_count_stale_reads_lost_and_duplicated_increments() {
        let inc = |at: (u64, u64), ok| w(1, at, 1, ok);
        let h = [inc((0, 10), true), inc((20, 30), true), r(1, (40, 50), 2), r(1, (41, 45), 1), inc((60, 70), false)];
        let ok = check_counter(&h, &last(&[(1, 2)]));
        assert_eq!((ok.stale_reads, ok.lost_writes, ok.duplicates), (1, 0, 0));
        assert!(ok.examples[0].detail.contains("counted 1, but 2 increments were acknowledged"));
        // The failed increment may count: 3 is fine, 1 loses one, 4 counts one twice.
        assert_eq!(check_counter(&h, &last(&[(1, 3)])).lost_writes, 0);
        assert_eq!(check_counter(&h, &last(&[(1, 1)])).lost_writes, 1);
        assert_eq!(check_counter(&h, &last(&[(1, 4)])).duplicates, 1);
        // An increment still in flight at the end may be counted: not a duplicate, and not
        // a failure either.
        let mut flying = h.to_vec();
        flying.push(Op { complete: SimTime::MAX, ..inc((80, 0), false) });
        let v = check_counter(&flying, &last(&[(1, 4)]));
        assert_eq!((v.duplicates, v.operations), (0, 5));
        // A correct counter history reports nothing.
        let clean = check_counter(&[inc((0, 10), true), r(1, (5, 8), 0), r(1, (20, 30), 1)], &last(&[(1, 1)]));
        assert_eq!((clean.stale_reads, clean.lost_writes, clean.duplicates), (0, 0, 0));
        assert!(clean.examples.is_empty());
    }

    #[test]
    fn failing_time_is_the_union_of_failed_intervals() {
        let h = [w(1, (0, 10), 1, false), w(1, (5, 20), 2, false), w(1, (30, 40), 3, false), w(1, (50, 60), 4, true)];
        assert_eq!(failing_time(&h), 30);
    }
}
