//! A class's `retry = { ... }` table lowered into a `RetrySpec`: attempts, backoff and
//! jitter by name, durations with units, the outcomes retried, the budget's share.

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::Dim;
use crate::file::RetryFile;
use crate::values::Values;
use sim_core::SimDuration;
use sim_core::event::Outcome;
use sim_core::model::retry::{Backoff, DEFAULT_ON, Jitter, RETRIABLE, RetrySpec, outcome_bits};
use toml::Spanned;

/// Attempts in all: more would multiply a struggling callee's load beyond any lesson.
pub const MAX_ATTEMPTS: u64 = 10;
const DEFAULT_BASE: SimDuration = SimDuration::from_millis(100);
const DEFAULT_CAP: SimDuration = SimDuration::from_secs(10);
/// The longest backoff: requests waiting to be re-sent are held by their clients, so a
/// longer wait would let a file pile them up without bound.
const MAX_BACKOFF: SimDuration = SimDuration::from_secs(60);
const BACKOFFS: [&str; 2] = ["constant", "exponential"];
const JITTERS: [&str; 4] = ["none", "full", "equal", "decorrelated"];

pub fn lower(r: &Spanned<RetryFile>, v: &Values) -> Result<RetrySpec, Diagnostic> {
    let f = r.get_ref();
    let attempts = v.count(&f.attempts, "retry attempts", 1, MAX_ATTEMPTS)? as u32;
    let backoff = match &f.backoff {
        None => Backoff::Exponential,
        Some(b) => match b.get_ref().as_str() {
            "constant" => Backoff::Constant,
            "exponential" => Backoff::Exponential,
            other => return Err(unknown("backoff", other, &BACKOFFS, b)),
        },
    };
    let jitter = match &f.jitter {
        None => Jitter::Full,
        Some(j) => match j.get_ref().as_str() {
            "none" => Jitter::None,
            "full" => Jitter::Full,
            "equal" => Jitter::Equal,
            "decorrelated" => Jitter::Decorrelated,
            other => return Err(unknown("jitter", other, &JITTERS, j)),
        },
    };
    let base = match &f.base {
        Some(b) => v.duration(b, "retry base")?,
        None => DEFAULT_BASE,
    };
    let cap = match &f.cap {
        Some(c) => v.duration(c, "retry cap")?,
        None => DEFAULT_CAP.max(base),
    };
    for (what, d, at) in [("base", base, &f.base), ("cap", cap, &f.cap)] {
        if d > MAX_BACKOFF {
            let span = at.as_ref().map_or(r.span(), |x| x.span());
            return Err(Diagnostic::at(format!("retry {what} is {d}, longer than {MAX_BACKOFF}"), span)
                .help(format!("a backoff is at most {MAX_BACKOFF}; use a shorter one")));
        }
    }
    if cap < base {
        let span = f.cap.as_ref().map_or(r.span(), |c| c.span());
        return Err(Diagnostic::at(format!("retry cap {cap} is shorter than its base {base}"), span)
            .help("the cap bounds the longest backoff: make it at least the base"));
    }
    let on = match &f.on {
        None => outcome_bits(&DEFAULT_ON),
        Some(list) => {
            let mut outcomes = Vec::new();
            for o in list.get_ref() {
                match RETRIABLE.iter().find(|x| x.name() == o.get_ref()) {
                    Some(x) => outcomes.push(*x),
                    None => {
                        let names: Vec<&str> = RETRIABLE.iter().map(|x| x.name()).collect();
                        return Err(unknown("retried outcome", o.get_ref(), &names, o));
                    }
                }
            }
            outcome_bits(&outcomes)
        }
    };
    let budget = match &f.budget {
        Some(b) => Some(v.number_in(b, Dim::Number, "retry budget", 0.0, 10.0)?),
        None => None,
    };
    debug_assert!(on & (1 << Outcome::Ok as u8) == 0);
    Ok(RetrySpec { attempts, backoff, base, cap, jitter, on, budget })
}

fn unknown(what: &str, found: &str, names: &[&str], at: &Spanned<String>) -> Diagnostic {
    let d = Diagnostic::at(format!("unknown {what} `{found}`"), at.span());
    match did_you_mean(found, names.iter().copied()) {
        Some(m) => d.help(format!("did you mean `{m}`? (one of: {})", names.join(", "))),
        None => d.help(format!("use one of: {}", names.join(", "))),
    }
}
