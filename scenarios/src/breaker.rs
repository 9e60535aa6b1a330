//! `[[breakers]]`: circuit breakers between a calling service and a service it calls,
//! lowered with units and limits into `sim_core::model::breaker::BreakerSpec`. Defaults
//! are resilience4j's, except `slow_call` (off unless given).

use crate::diagnostic::Diagnostic;
use crate::expr::Dim;
use crate::file::BreakerFile;
use crate::values::Values;
use sim_core::SimDuration;
use sim_core::kernel::ids::ServiceId;
use sim_core::model::ClassSpec;
use sim_core::model::breaker::{BreakerSpec, BreakerWindow};
use toml::Spanned;

/// At most this many `[[breakers]]` tables.
pub const MAX_BREAKERS: usize = 1_000;
/// The longest count window, in calls (each caller instance keeps one byte a call).
pub const MAX_WINDOW_CALLS: u64 = 100_000;
/// The longest time window, open duration and slow-call threshold.
pub const MAX_BREAKER_TIME: SimDuration = SimDuration::from_secs(24 * 3600);
const MAX_PROBES: u64 = 10_000;
/// Calls all count windows together may hold (one byte each).
const MAX_WINDOW_BYTES: u64 = 100_000_000;

/// Every `[[breakers]]` table, checked against the services and the calls the classes make.
pub(crate) fn lower_all(
    tables: &[Spanned<BreakerFile>],
    service_names: &[String],
    classes: &[ClassSpec],
    instance_service: &[usize],
    v: &Values,
    errors: &mut Vec<Diagnostic>,
) -> Vec<BreakerSpec> {
    if tables.len() > MAX_BREAKERS {
        errors.push(Diagnostic::new(format!("{} [[breakers]]; the limit is {MAX_BREAKERS}", tables.len())));
        return Vec::new();
    }
    let calls = called_pairs(classes, instance_service);
    // Count windows grow to their size in each calling instance: bound their sum.
    let ring_bytes: u64 = tables
        .iter()
        .filter_map(|t| {
            let from = service_names.iter().position(|n| n == t.get_ref().from.get_ref())?;
            let size = v.count(t.get_ref().window_calls.as_ref()?, "window_calls", 1, MAX_WINDOW_CALLS).ok()?;
            Some(size * instance_service.iter().filter(|&&s| s == from).count() as u64)
        })
        .sum();
    if ring_bytes > MAX_WINDOW_BYTES {
        errors.push(
            Diagnostic::new(format!(
                "the breakers' count windows hold {ring_bytes} calls over all calling instances; the limit is {MAX_WINDOW_BYTES}"
            ))
            .help("use smaller `window_calls`, or a time window (`window = \"10s\"`), which keeps ten buckets"),
        );
        return Vec::new();
    }
    let mut out: Vec<BreakerSpec> = Vec::new();
    for t in tables {
        let Some(spec) = lower(t, service_names, &calls, v, errors) else { continue };
        if out.iter().any(|b| (b.from, b.to) == (spec.from, spec.to)) {
            errors.push(
                Diagnostic::at(
                    format!("a second breaker from `{}` to `{}`", t.get_ref().from.get_ref(), t.get_ref().to.get_ref()),
                    t.span(),
                )
                .help("each caller keeps one breaker per service it calls: merge the two tables"),
            );
            continue;
        }
        out.push(spec);
    }
    out
}

/// Every (caller service, callee service) some class's flow makes a call between.
fn called_pairs(classes: &[ClassSpec], instance_service: &[usize]) -> Vec<(ServiceId, ServiceId)> {
    let mut pairs = Vec::new();
    for c in classes {
        let origin = ServiceId(instance_service[c.origin.index()] as u32);
        pairs.push((origin, c.flow[0].service));
        for node in &c.flow {
            pairs.extend(node.calls.iter().map(|&n| (node.service, c.flow[usize::from(n)].service)));
        }
    }
    pairs.sort();
    pairs.dedup();
    pairs
}

fn service(name: &Spanned<String>, names: &[String], errors: &mut Vec<Diagnostic>) -> Option<ServiceId> {
    let Some(i) = names.iter().position(|n| n == name.get_ref()) else {
        let d = Diagnostic::at(format!("unknown service `{}`", name.get_ref()), name.span());
        errors.push(match crate::diagnostic::did_you_mean(name.get_ref(), names.iter().map(String::as_str)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("declared services: {}", names.join(", "))),
        });
        return None;
    };
    Some(ServiceId(i as u32))
}

/// A share in (0, 1].
fn share(v: &Values, x: &Spanned<toml::Value>, what: &str) -> Result<f64, Diagnostic> {
    let s = v.number_in(x, Dim::Number, what, 0.0, 1.0)?;
    if s == 0.0 {
        return Err(Diagnostic::at(format!("{what} is 0: the breaker would open on its first calls"), x.span())
            .help("a share of the window's calls above 0 and at most 1, such as 0.5"));
    }
    Ok(s)
}

/// A time above zero and at most `MAX_BREAKER_TIME`.
fn time(v: &Values, x: &Spanned<toml::Value>, what: &str) -> Result<SimDuration, Diagnostic> {
    let d = v.duration(x, what)?;
    if d == SimDuration::ZERO {
        return Err(Diagnostic::at(format!("{what} must be above zero"), x.span()).help("write a time such as \"5s\""));
    }
    if d > MAX_BREAKER_TIME {
        return Err(Diagnostic::at(format!("{what} is {d}, longer than the limit of {MAX_BREAKER_TIME}"), x.span())
            .help("a breaker's times are at most a day; use a shorter one"));
    }
    Ok(d)
}

fn lower(
    t: &Spanned<BreakerFile>,
    names: &[String],
    calls: &[(ServiceId, ServiceId)],
    v: &Values,
    errors: &mut Vec<Diagnostic>,
) -> Option<BreakerSpec> {
    let b = t.get_ref();
    let n = errors.len();
    let mut ok = |r: Result<f64, Diagnostic>, default: f64| r.map_err(|e| errors.push(e)).unwrap_or(default);
    let failure_rate = b.failure_rate.as_ref().map_or(0.5, |x| ok(share(v, x, "failure_rate"), 0.5));
    let slow_rate = b.slow_rate.as_ref().map_or(1.0, |x| ok(share(v, x, "slow_rate"), 1.0));
    let min_calls = b
        .min_calls
        .as_ref()
        .map_or(100.0, |x| ok(v.count(x, "min_calls", 1, MAX_WINDOW_CALLS).map(|c| c as f64), 100.0))
        as u32;
    let probes =
        b.probes.as_ref().map_or(10.0, |x| ok(v.count(x, "probes", 1, MAX_PROBES).map(|c| c as f64), 10.0)) as u32;
    let mut dur = |x: &Spanned<toml::Value>, what: &str| time(v, x, what).map_err(|e| errors.push(e)).ok();
    let slow_call = b.slow_call.as_ref().and_then(|x| dur(x, "slow_call"));
    let open_for = b.open_for.as_ref().map_or(Some(SimDuration::from_secs(60)), |x| dur(x, "open_for"));
    let window = match (&b.window, &b.window_calls) {
        (Some(_), Some(c)) => {
            errors.push(Diagnostic::at("both `window` and `window_calls`", c.span()).help(
                "a breaker's window is either a time (`window = \"10s\"`) or a count of calls (`window_calls = 100`)",
            ));
            None
        }
        (Some(w), None) => time(v, w, "window").map_err(|e| errors.push(e)).ok().map(BreakerWindow::Time),
        (None, Some(c)) => v
            .count(c, "window_calls", 1, MAX_WINDOW_CALLS)
            .map_err(|e| errors.push(e))
            .ok()
            .map(|c| BreakerWindow::Calls(c as u32)),
        (None, None) => Some(BreakerWindow::Calls(100)),
    };
    if let (Some(x), None) = (&b.slow_rate, &b.slow_call) {
        errors.push(
            Diagnostic::at("`slow_rate` without `slow_call`", x.span())
                .help("say which calls are slow: `slow_call = \"200ms\"` counts successes slower than 200 ms"),
        );
    }
    let (from, to) = (service(&b.from, names, errors), service(&b.to, names, errors));
    let (Some(from), Some(to), Some(window), Some(open_for)) = (from, to, window, open_for) else { return None };
    if errors.len() > n {
        return None;
    }
    if !calls.contains(&(from, to)) {
        let called: Vec<&str> =
            calls.iter().filter(|(f, _)| *f == from).map(|(_, t)| names[t.index()].as_str()).collect();
        let help = if called.is_empty() {
            format!("`{}` calls no service in any class's flow", names[from.index()])
        } else {
            format!("`{}` calls {}: a breaker goes on one of those", names[from.index()], called.join(", "))
        };
        errors.push(
            Diagnostic::at(
                format!(
                    "`{}` never calls `{}` in any class's flow: this breaker would see no call",
                    names[from.index()],
                    names[to.index()]
                ),
                b.to.span(),
            )
            .help(help),
        );
        return None;
    }
    Some(BreakerSpec { from, to, failure_rate, slow_call, slow_rate, window, min_calls, open_for, probes })
}
