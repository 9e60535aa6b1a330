//! The `[[faults]]` tables in two stages. Stage one (`table`) reads each table as the one
//! verb it states, with its keys' spans, and refuses keys that do not belong to that
//! verb (`factor`, `by`, `for`, `loss`, `one_way` and `hold` go with the verbs they modify). Stage two (`lower_all`) resolves units and parameters into `Fault`s and lowers
//! them by name, as chaos schedules and the TUI's menu lower theirs (`fault::Fault::lower`).

use crate::diagnostic::Diagnostic;
use crate::expr::Dim;
use crate::fault::{Fault, FaultKind, Names, Part};
use crate::file::FaultFile;
use crate::limits::{MAX_CACHE_ENTRIES, MAX_RATE, MAX_SCALE_INSTANCES};
use crate::values::Values;
use sim_core::model::{FaultSpec, PartitionSpec};
use std::ops::Range;
use toml::{Spanned, Value};

/// A fault table read as its verb (stage one): values not yet evaluated.
struct Table<'a> {
    at: &'a Spanned<Value>,
    verb: Verb<'a>,
    lasting: Option<&'a Spanned<Value>>,
}

enum Verb<'a> {
    Crash(&'a Spanned<String>),
    Restart(&'a Spanned<String>),
    Drain(&'a Spanned<String>),
    Slow {
        target: &'a Spanned<String>,
        factor: &'a Spanned<Value>,
    },
    Surge {
        target: &'a Spanned<String>,
        factor: &'a Spanned<Value>,
    },
    Skew {
        target: &'a Spanned<String>,
        by: &'a Spanned<Value>,
    },
    HealAll,
    Scale {
        target: &'a Spanned<String>,
        instances: &'a Spanned<Value>,
    },
    Rate {
        target: &'a Spanned<String>,
        to: &'a Spanned<Value>,
    },
    Resize {
        target: &'a Spanned<String>,
        capacity: &'a Spanned<Value>,
    },
    /// Sides of names (a flaky link's two ends are two sides), with a `loss` for flaky.
    Cut {
        sides: Vec<Vec<&'a Spanned<String>>>,
        span: Range<usize>,
        one_way: bool,
        hold: bool,
        loss: Option<&'a Spanned<Value>>,
    },
}

/// Stage one: the verb a table states, or what is wrong with it.
fn table(f: &FaultFile) -> Result<Table<'_>, Diagnostic> {
    let named = [
        ("crash", &f.crash),
        ("restart", &f.restart),
        ("slow", &f.slow),
        ("drain", &f.drain),
        ("surge", &f.surge),
        ("skew", &f.skew),
        ("heal", &f.heal),
        ("scale", &f.scale),
        ("rate", &f.rate),
        ("resize", &f.resize),
    ];
    let given: Vec<_> = named.iter().filter_map(|(verb, t)| t.as_ref().map(|t| (*verb, t))).collect();
    let network = usize::from(f.partition.is_some()) + usize::from(f.flaky.is_some());
    if given.len() + network != 1 {
        return Err(Diagnostic::at(
            "a fault names exactly one of crash, restart, slow, drain, surge, skew, partition, flaky, heal, scale, rate or resize",
            f.at.span(),
        )
        .help("for example { at = \"5m\", crash = \"web-2\" }"));
    }
    let lasting = f.lasting.as_ref();
    knob_keys(f, given.first().map(|(verb, _)| *verb))?;
    if network == 1 {
        return Ok(Table { at: &f.at, verb: cut(f)?, lasting });
    }
    if f.one_way.is_some() || f.hold.is_some() || f.loss.is_some() {
        return Err(Diagnostic::at("`one_way`, `hold` and `loss` belong to partition and flaky faults", f.at.span()));
    }
    let (verb, target) = given[0];
    if verb == "heal" {
        if target.get_ref() != "all" {
            return Err(Diagnostic::at(
                format!("expected `heal = \"all\"`, found `{}`", target.get_ref()),
                target.span(),
            )
            .help("to heal one partition at a given time, give it a `for` duration instead"));
        }
        if f.factor.is_some() || f.lasting.is_some() || f.by.is_some() {
            return Err(Diagnostic::at("a heal takes no `factor`, `for` or `by`", f.at.span()));
        }
        return Ok(Table { at: &f.at, verb: Verb::HealAll, lasting: None });
    }
    if (verb == "skew") != f.by.is_some() {
        return Err(Diagnostic::at("`by` goes with `skew`: how far the clock jumps ahead", f.at.span())
            .help("for example { at = \"2m\", skew = \"meta-2\", by = \"5s\" }"));
    }
    if !matches!(verb, "slow" | "surge" | "skew") && (f.factor.is_some() || f.lasting.is_some()) {
        return Err(Diagnostic::at("`factor` and `for` belong to slow, partition and flaky faults", f.at.span()));
    }
    if verb == "skew" && f.factor.is_some() {
        return Err(Diagnostic::at("`factor` belongs to slow and surge faults; a skew is `by`", f.at.span()));
    }
    let factor = || {
        f.factor.as_ref().ok_or_else(|| {
            Diagnostic::at(format!("a `{verb}` fault needs a `factor`"), f.at.span()).help("add factor = 3")
        })
    };
    let verb = match verb {
        "scale" => Verb::Scale { target, instances: f.instances.as_ref().expect("checked by knob_keys") },
        "rate" => Verb::Rate { target, to: f.to.as_ref().expect("checked by knob_keys") },
        "resize" => Verb::Resize { target, capacity: f.capacity.as_ref().expect("checked by knob_keys") },
        "crash" => Verb::Crash(target),
        "restart" => Verb::Restart(target),
        "drain" => Verb::Drain(target),
        "slow" => Verb::Slow { target, factor: factor()? },
        "surge" => Verb::Surge { target, factor: factor()? },
        _ => Verb::Skew { target, by: f.by.as_ref().expect("checked with skew") },
    };
    Ok(Table { at: &f.at, verb, lasting })
}

/// The knobs' own keys (`instances` with scale, `to` with rate, `capacity` with resize)
/// go with their verbs only, and the knobs take no `for`: each lasts until the next.
fn knob_keys(f: &FaultFile, verb: Option<&str>) -> Result<(), Diagnostic> {
    let keys = [
        ("scale", "instances", &f.instances, "scale = \"web\", instances = 4"),
        ("rate", "to", &f.to, "rate = \"clients\", to = 1500  # requests per second"),
        ("resize", "capacity", &f.capacity, "resize = \"cache\", capacity = 5000  # entries"),
    ];
    for (knob, key, value, example) in keys {
        match (verb == Some(knob), value) {
            (true, None) => {
                return Err(Diagnostic::at(format!("a `{knob}` fault needs `{key}`"), f.at.span())
                    .help(format!("for example {{ at = \"20s\", {example} }}")));
            }
            (false, Some(x)) => {
                return Err(Diagnostic::at(format!("`{key}` goes with `{knob}` faults"), x.span())
                    .help(format!("for example {{ at = \"20s\", {example} }}")));
            }
            _ => {}
        }
    }
    if let (Some(knob @ ("scale" | "rate" | "resize")), Some(x)) = (verb, &f.lasting) {
        return Err(Diagnostic::at(
            format!("a `{knob}` fault takes no `for`: it holds until the next `{knob}`"),
            x.span(),
        )
        .help(format!("add a second `{knob}` fault at the time it should change back")));
    }
    if let (Some("scale" | "rate" | "resize"), Some(x)) = (verb, &f.factor) {
        return Err(Diagnostic::at("`factor` belongs to slow and surge faults", x.span()));
    }
    Ok(())
}

/// Stage one of a `partition` (sides) or `flaky` (two ends and a `loss`) table.
fn cut(f: &FaultFile) -> Result<Verb<'_>, Diagnostic> {
    let (sides, span): (Vec<Vec<&Spanned<String>>>, _) = match (&f.partition, &f.flaky) {
        (Some(p), _) => (p.get_ref().iter().map(|side| side.get_ref().iter().collect()).collect(), p.span()),
        (None, Some(ends)) => (ends.get_ref().iter().map(|e| vec![e]).collect(), ends.span()),
        (None, None) => unreachable!("called for network faults"),
    };
    let flaky = f.flaky.is_some();
    let one_way = f.one_way.unwrap_or(false);
    if sides.len() < 2 || (flaky && sides.len() != 2) || (one_way && sides.len() != 2) {
        let d = Diagnostic::at(format!("{} sides given", sides.len()), span);
        return Err(if flaky {
            d.help("a flaky link joins two components: flaky = [\"web\", \"db\"]")
        } else {
            d.help("a partition splits at least two sides (exactly two if one_way): partition = [[\"db-1\"], [\"db-2\", \"db-3\"]]")
        });
    }
    if let Some(i) = sides.iter().position(|side| side.is_empty()) {
        return Err(Diagnostic::at(format!("side {} of the partition is empty", i + 1), span)
            .help("each side names at least one service or instance: partition = [[\"db-1\"], [\"db-2\", \"db-3\"]]"));
    }
    match (&f.loss, flaky) {
        (None, true) => {
            return Err(Diagnostic::at("a flaky link needs a `loss` rate", span).help("add loss = 0.05"));
        }
        (Some(x), false) => {
            return Err(Diagnostic::at("`loss` belongs to flaky links; a partition loses everything", x.span()));
        }
        _ => {}
    }
    if f.factor.is_some() {
        return Err(Diagnostic::at("`factor` belongs to slow faults", f.at.span()));
    }
    if f.by.is_some() {
        return Err(Diagnostic::at("`by` goes with `skew`: how far the clock jumps ahead", f.at.span()));
    }
    Ok(Verb::Cut { sides, span, one_way, hold: f.hold.unwrap_or(false), loss: f.loss.as_ref() })
}

/// Stage two of one table: units and parameters evaluated, names kept for lowering.
fn resolve(t: &Table, v: &Values) -> Result<Fault, Diagnostic> {
    let at = v.duration(t.at, "at")?;
    let lasting = t.lasting.map(|l| v.duration(l, "for")).transpose()?;
    let name = |s: &Spanned<String>| s.get_ref().clone();
    let factor = |x: &Spanned<Value>| v.number_in(x, Dim::Number, "factor", 0.001, 1e6);
    let kind = match &t.verb {
        Verb::Crash(i) => FaultKind::Crash(name(i)),
        Verb::Restart(i) => FaultKind::Restart(name(i)),
        Verb::Drain(i) => FaultKind::Drain(name(i)),
        Verb::Slow { target, factor: f } => FaultKind::Slow { instance: name(target), factor: factor(f)? },
        Verb::Surge { target, factor: f } => FaultKind::Surge { population: name(target), factor: factor(f)? },
        Verb::Skew { target, by } => FaultKind::Skew { instance: name(target), by: v.duration(by, "by")? },
        Verb::HealAll => FaultKind::HealAll,
        Verb::Scale { target, instances } => FaultKind::Scale {
            service: name(target),
            instances: v.count(instances, "instances", 1, MAX_SCALE_INSTANCES)? as u32,
        },
        Verb::Rate { target, to } => {
            FaultKind::Rate { population: name(target), per_sec: v.positive(to, Dim::Rate, "to", MAX_RATE)? }
        }
        Verb::Resize { target, capacity } => FaultKind::Resize {
            cache: name(target),
            capacity: v.count(capacity, "capacity", 1, MAX_CACHE_ENTRIES)? as u32,
        },
        Verb::Cut { sides, one_way, hold, loss, .. } => {
            let names: Vec<Vec<String>> = sides.iter().map(|s| s.iter().map(|n| name(n)).collect()).collect();
            match loss {
                Some(x) => {
                    let loss = v.number_in(x, Dim::Number, "loss", 0.0, 1.0)?;
                    let [a, b] = <[Vec<String>; 2]>::try_from(names).expect("stage one: two ends");
                    let ends = [a[0].clone(), b[0].clone()];
                    FaultKind::Flaky { ends, loss, one_way: *one_way, hold: *hold }
                }
                None => FaultKind::Partition { sides: names, one_way: *one_way, hold: *hold },
            }
        }
    };
    Ok(Fault { at, kind, lasting })
}

/// Where a lowering error about `part` of table `t` points.
fn span_of(t: &Table, part: Part) -> Range<usize> {
    match (&t.verb, part) {
        (Verb::Cut { sides, .. }, Part::Side(s, n)) => sides[s][n].span(),
        (Verb::Cut { span, .. }, Part::Target) => span.clone(),
        (
            Verb::Crash(target)
            | Verb::Restart(target)
            | Verb::Drain(target)
            | Verb::Slow { target, .. }
            | Verb::Surge { target, .. }
            | Verb::Skew { target, .. },
            _,
        ) => target.span(),
        (
            Verb::Scale { instances: x, .. } | Verb::Rate { to: x, .. } | Verb::Resize { capacity: x, .. },
            Part::Amount,
        ) => x.span(),
        (
            Verb::Scale { target, .. } | Verb::Rate { target, .. } | Verb::Resize { target, .. },
            Part::Target | Part::Side(..),
        ) => target.span(),
        (_, Part::Amount) => t.at.span(),
        (Verb::HealAll, _) => t.at.span(),
    }
}

/// The scenario's faults, in file order: faults appended to a file (by the TUI, by chaos)
/// keep the numbers of those before them, so a run given them while under way and a run
/// of the longer file agree event for event.
pub fn lower_all(
    list: &[FaultFile],
    names: &Names,
    v: &Values,
    errors: &mut Vec<Diagnostic>,
) -> (Vec<FaultSpec>, Vec<PartitionSpec>) {
    let (mut faults, mut partitions) = (Vec::new(), Vec::new());
    for f in list {
        let lowered = table(f).and_then(|t| {
            let fault = resolve(&t, v)?;
            fault.lower(names, &mut faults, &mut partitions).map_err(|e| {
                let d = Diagnostic::at(e.message, span_of(&t, e.part));
                match e.help {
                    Some(h) => d.help(h),
                    None => d,
                }
            })
        });
        if let Err(d) = lowered {
            errors.push(d);
        }
    }
    (faults, partitions)
}
