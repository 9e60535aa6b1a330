//! Expectations: what a scenario's lesson predicts, checked at the end of a run.
//! `p99_ms < 200`, `error_rate > 0.05`, `class.upload.p99_ms < 500`,
//! `component.db-1.utilization > 0.9`, `mean_ms ~ 1000 +- 2%`.
//!
//! Parsing happens here, with spans, so a typo is a located error when the scenario loads;
//! the binary evaluates expectations against the report.

use crate::diagnostic::{Diagnostic, did_you_mean};
use serde::Serialize;
use serde_json::Value;
use std::ops::Range;

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Check {
    Less(f64),
    LessEq(f64),
    Greater(f64),
    GreaterEq(f64),
    /// Within an absolute tolerance of a target.
    Near {
        target: f64,
        tolerance: f64,
    },
    /// Between two bounds, both included: a range the seed documents give.
    Within {
        low: f64,
        high: f64,
    },
}

impl Check {
    pub fn holds(&self, x: f64) -> bool {
        match *self {
            Check::Less(v) => x < v,
            Check::LessEq(v) => x <= v,
            Check::Greater(v) => x > v,
            Check::GreaterEq(v) => x >= v,
            Check::Near { target, tolerance } => (x - target).abs() <= tolerance,
            Check::Within { low, high } => (low..=high).contains(&x),
        }
    }

    /// The values where the verdict turns.
    pub fn bounds(&self) -> Vec<f64> {
        match *self {
            Check::Less(v) | Check::LessEq(v) | Check::Greater(v) | Check::GreaterEq(v) => vec![v],
            Check::Near { target, tolerance } => vec![target - tolerance, target + tolerance],
            Check::Within { low, high } => vec![low, high],
        }
    }
}

/// Where a metric lives in the report.
#[derive(Clone, Debug, PartialEq)]
pub enum Metric {
    /// A whole-run figure: a path into the JSON report, such as `latency_ms.p99`.
    Run(Vec<String>),
    /// A figure of one request class.
    Class { class: String, path: Vec<String> },
    /// A figure of one component instance.
    Component { id: String, key: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// As written in the scenario.
    pub text: String,
    pub metric: Metric,
    pub check: Check,
}

/// A component instance an expectation may name: its name and its kind.
pub type Component = (String, &'static str);

/// Short names for report fields, valid for the run and for a class.
const ALIASES: [(&str, &[&str]); 16] = [
    ("mean_ms", &["latency_ms", "mean"]),
    ("p50_ms", &["latency_ms", "p50"]),
    ("p90_ms", &["latency_ms", "p90"]),
    ("p95_ms", &["latency_ms", "p95"]),
    ("p99_ms", &["latency_ms", "p99"]),
    ("p999_ms", &["latency_ms", "p999"]),
    ("max_ms", &["latency_ms", "max"]),
    ("error_rate", &["error_rate"]),
    ("throughput_rps", &["throughput_rps"]),
    ("generated", &["requests", "generated"]),
    ("completed", &["requests", "completed"]),
    ("failed", &["requests", "failed"]),
    ("in_flight", &["requests", "in_flight"]),
    ("stale_reads", &["stale_reads"]),
    ("read_your_writes_violations", &["read_your_writes_violations"]),
    ("cost_usd_month", &["cost", "total_usd_month"]),
];

/// Names valid for a class only: its retry, hedging and deadline figures (present when it
/// retries, hedges or propagates its deadline) and its 429s (the run has none of its own:
/// its `error_rate` leaves them out).
const CLASS_ALIASES: [(&str, &[&str]); 10] = [
    ("attempts", &["retry", "attempts"]),
    ("retries", &["retry", "retries"]),
    ("retries_refused", &["retry", "refused_by_budget"]),
    ("amplification", &["retry", "amplification"]),
    ("limited", &["limited", "count"]),
    ("limited_rate", &["limited", "rate"]),
    ("hedges_sent", &["hedge", "sent"]),
    ("hedges_won", &["hedge", "won"]),
    ("hedge_extra_load", &["hedge", "extra_load"]),
    ("deadline_not_sent", &["deadline", "not_sent"]),
];

/// A retried hop's figures, `class.CLASS.hop.SERVICE.KEY` (present when the class's calls
/// to SERVICE retry).
pub const HOP_RETRY_NAMES: [&str; 5] = ["attempts", "retries", "refused_by_budget", "past_deadline", "amplification"];

fn class_alias(name: &str) -> Option<Vec<String>> {
    let own = CLASS_ALIASES.iter().find(|(a, _)| *a == name).map(|(_, p)| p.iter().map(|s| s.to_string()).collect());
    own.or_else(|| alias(name).filter(|_| name != "cost_usd_month"))
}

fn alias(name: &str) -> Option<Vec<String>> {
    ALIASES.iter().find(|(a, _)| *a == name).map(|(_, p)| p.iter().map(|s| s.to_string()).collect())
}

/// Parses one expectation whose text starts at byte `at` of the source. `classes` and
/// `components` are the names it may refer to.
pub fn parse(text: &str, at: usize, classes: &[String], components: &[Component]) -> Result<Expectation, Diagnostic> {
    let span = at..at + text.len();
    if let Some((name, range)) = text.split_once(" in ") {
        let metric = metric(name.trim(), at..at + name.len(), classes, components)?;
        let bounds = range.trim().strip_prefix('[').and_then(|r| r.strip_suffix(']')).and_then(|r| r.split_once(','));
        let Some((low, high)) = bounds else {
            return Err(Diagnostic::at(format!("`{}` is not a range", range.trim()), span)
                .help("write METRIC in [LOW, HIGH], such as capacity_rps in [150, 200]"));
        };
        let number = |s: &str| {
            let s = s.trim();
            s.replace('_', "")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Diagnostic::at(format!("`{s}` is not a finite number"), span.clone()))
        };
        let (low, high) = (number(low)?, number(high)?);
        if low > high {
            return Err(
                Diagnostic::at(format!("the range [{low}, {high}] is empty"), span).help("write the lower bound first")
            );
        }
        return Ok(Expectation { text: text.trim().to_string(), metric, check: Check::Within { low, high } });
    }
    let ops = ["<=", ">=", "==", "<", ">", "~"];
    let Some((i, op)) = ops.iter().filter_map(|op| text.find(op).map(|i| (i, *op))).min_by_key(|(i, _)| *i) else {
        return Err(Diagnostic::at(format!("`{text}` has no comparison"), span)
            .help("write METRIC < VALUE, >, <=, >=, ==, METRIC ~ TARGET +- TOLERANCE (such as 2% or 50), or METRIC in [LOW, HIGH]"));
    };
    let name = text[..i].trim();
    let rest = text[i + op.len()..].trim();
    let name_span = at..at + i;
    let metric = metric(name, name_span.clone(), classes, components)?;
    let number = |s: &str, what: &str| -> Result<f64, Diagnostic> {
        s.trim()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| Diagnostic::at(format!("`{}` is not a finite number ({what})", s.trim()), span.clone()))
    };
    let check = match op {
        "<" => Check::Less(number(rest, "the bound")?),
        "<=" => Check::LessEq(number(rest, "the bound")?),
        ">" => Check::Greater(number(rest, "the bound")?),
        ">=" => Check::GreaterEq(number(rest, "the bound")?),
        "==" => {
            let x = number(rest, "the value")?;
            Check::Within { low: x, high: x }
        }
        _ => {
            let Some((target, tol)) = rest.split_once("+-") else {
                return Err(Diagnostic::at("`~` needs a tolerance", span).help("write METRIC ~ 2100 +- 10%"));
            };
            let target = number(target, "the target")?;
            let tol = tol.trim();
            let tolerance = match tol.strip_suffix('%') {
                Some(p) => target.abs() * number(p, "the tolerance")? / 100.0,
                None => number(tol, "the tolerance")?,
            };
            Check::Near { target, tolerance }
        }
    };
    Ok(Expectation { text: text.trim().to_string(), metric, check })
}

/// Whether an expectation reads the recovery figure (`recovery.KEY`), which a run must
/// then track (`Simulation::track_recovery`): only those runs carry it.
pub fn needs_recovery(expectations: &[Expectation]) -> bool {
    expectations.iter().any(|e| matches!(&e.metric, Metric::Run(path) if path[0] == "recovery"))
}

/// The component an expectation's metric names (`component.ID.KEY ...`), if any.
pub fn component_of(text: &str) -> Option<&str> {
    let rest = text.trim().strip_prefix("component.")?;
    rest.split_once('.').map(|(id, _)| id)
}

/// Reads a metric name (`p99_ms`, `class.NAME.METRIC`, `component.ID.KEY`...) against the
/// classes and components it may name; `span` locates it for the error.
pub fn metric(
    name: &str,
    span: Range<usize>,
    classes: &[String],
    components: &[Component],
) -> Result<Metric, Diagnostic> {
    let parts: Vec<&str> = name.split('.').collect();
    let known = || ALIASES.iter().map(|(a, _)| *a);
    let unknown = |what: &str, word: &str, among: Vec<&str>| {
        let d = Diagnostic::at(format!("unknown {what} `{word}`"), span.clone());
        match did_you_mean(word, among.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("known: {}", among.join(", "))),
        }
    };
    match parts.as_slice() {
        [m] => alias(m).map(Metric::Run).ok_or_else(|| unknown("metric", m, known().collect())),
        ["class", c, m] => {
            if !classes.iter().any(|x| x == c) {
                return Err(unknown("class", c, classes.iter().map(String::as_str).collect()));
            }
            match class_alias(m) {
                Some(path) => Ok(Metric::Class { class: c.to_string(), path }),
                None => {
                    let own = CLASS_ALIASES.iter().map(|(a, _)| *a);
                    Err(unknown("metric", m, known().filter(|k| *k != "cost_usd_month").chain(own).collect()))
                }
            }
        }
        ["class", c, "hop", service, key] => {
            if !classes.iter().any(|x| x == c) {
                return Err(unknown("class", c, classes.iter().map(String::as_str).collect()));
            }
            if !HOP_RETRY_NAMES.contains(key) {
                return Err(unknown("hop retry figure", key, HOP_RETRY_NAMES.to_vec()));
            }
            let path = vec!["hop_retry".into(), service.to_string(), key.to_string()];
            Ok(Metric::Class { class: c.to_string(), path })
        }
        ["recovery", key] => {
            use sim_core::report::figures::RECOVERY_NAMES;
            if !RECOVERY_NAMES.contains(key) {
                return Err(unknown("recovery figure", key, RECOVERY_NAMES.to_vec()));
            }
            Ok(Metric::Run(vec!["recovery".into(), key.to_string()]))
        }
        ["cost", line] => Ok(Metric::Run(vec!["cost".into(), "by_component".into(), line.to_string()])),
        ["consistency", data, key] => Ok(Metric::Run(vec!["consistency".into(), data.to_string(), key.to_string()])),
        ["component", id, key] => {
            let Some((_, kind)) = components.iter().find(|(x, _)| x == id) else {
                return Err(unknown("component", id, components.iter().map(|(n, _)| n.as_str()).collect()));
            };
            use sim_core::report::figures::{COMMON_NAMES, is_figure, names};
            if !is_figure(kind, key) {
                let known = [&COMMON_NAMES[..], names(kind)].concat();
                return Err(unknown(&format!("figure of a {kind}"), key, known));
            }
            Ok(Metric::Component { id: id.to_string(), key: key.to_string() })
        }
        _ => Err(Diagnostic::at(format!("`{name}` is not a metric"), span).help(
            "write a run metric (p99_ms), class.NAME.METRIC, component.ID.KEY, cost.LINE, consistency.DATA.KEY \
             or recovery.KEY",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Expectation, Diagnostic> {
        parse(text, 0, &["upload".into()], &[("db-1".into(), "database")])
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(p("p99_ms < 200").unwrap().check, Check::Less(200.0));
        assert_eq!(p("error_rate >= 0.05").unwrap().check, Check::GreaterEq(0.05));
        assert_eq!(p("cost_usd_month ~ 2100 +- 10%").unwrap().check, Check::Near { target: 2100.0, tolerance: 210.0 });
        assert_eq!(p("mean_ms ~ 1000 +- 20").unwrap().check, Check::Near { target: 1000.0, tolerance: 20.0 });
        let c = p("class.upload.p99_ms < 500").unwrap();
        assert_eq!(c.metric, Metric::Class { class: "upload".into(), path: vec!["latency_ms".into(), "p99".into()] });
        let d = p("component.db-1.utilization > 0.9").unwrap();
        assert_eq!(d.metric, Metric::Component { id: "db-1".into(), key: "utilization".into() });
        assert!(Check::Near { target: 10.0, tolerance: 1.0 }.holds(10.9));
        assert_eq!(
            p("component.db-1.capacity_rps in [150, 200]").unwrap().check,
            Check::Within { low: 150.0, high: 200.0 }
        );
        assert!(Check::Within { low: 150.0, high: 200.0 }.holds(200.0));
        assert_eq!(p("error_rate == 0").unwrap().check, Check::Within { low: 0.0, high: 0.0 });
        let cost = p("cost.cdn ~ 850 +- 5%").unwrap().metric;
        assert_eq!(cost, Metric::Run(vec!["cost".into(), "by_component".into(), "cdn".into()]));
        assert!(!Check::Within { low: 150.0, high: 200.0 }.holds(149.9));
        let r = p("recovery.recovered_after_s < 30").unwrap();
        assert_eq!(r.metric, Metric::Run(vec!["recovery".into(), "recovered_after_s".into()]));
        assert!(needs_recovery(&[r]) && !needs_recovery(&[p("p99_ms < 1").unwrap()]));
        let h = p("class.upload.hop.db.amplification < 2").unwrap();
        let path = ["hop_retry", "db", "amplification"].map(String::from).to_vec();
        assert_eq!(h.metric, Metric::Class { class: "upload".into(), path });
        let e = p("class.upload.hop.db.retrys > 0").unwrap_err();
        assert_eq!(e.message, "unknown hop retry figure `retrys`");
        assert_eq!(e.help.as_deref(), Some("did you mean `retries`?"));
    }

    #[test]
    fn mistakes_are_located_with_suggestions() {
        let e = p("p99ms < 200").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `p99_ms`?"));
        assert!(p("class.uplaod.p99_ms < 1").unwrap_err().help.unwrap().contains("`upload`"));
        assert!(p("component.db.utilization > 1").unwrap_err().message.contains("unknown component `db`"));
        let e = p("component.db-1.lost_write > 0").unwrap_err();
        assert_eq!(e.message, "unknown figure of a database `lost_write`");
        assert_eq!(e.help.as_deref(), Some("did you mean `lost_writes`?"));
        assert!(p("p99_ms 200").unwrap_err().message.contains("no comparison"));
        assert!(p("p99_ms ~ 200").unwrap_err().message.contains("needs a tolerance"));
        assert!(p("p99_ms < fast").unwrap_err().message.contains("not a finite number"));
        assert!(p("p99_ms in 1..2").unwrap_err().message.contains("not a range"));
        assert!(p("p99_ms in [2, 1]").unwrap_err().message.contains("empty"));
        assert!(p("p99_ms in [1, x]").unwrap_err().message.contains("`x` is not a finite number"));
        let e = p("recovery.degraded < 30").unwrap_err();
        assert_eq!(e.message, "unknown recovery figure `degraded`");
        assert_eq!(e.help.as_deref(), Some("did you mean `degraded_s`?"));
        let e = p("recovery.healed_s < 30").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("known: recovered_after_s, degraded_s, trigger_end_s"));
    }
}

/// One expectation's verdict, as it appears in the JSON report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub expr: String,
    pub passed: bool,
    /// The measured value; null if the report has no such figure.
    pub actual: Option<f64>,
    /// The comparison judged, kept so the value can be printed to the digits that decide it.
    #[serde(skip)]
    pub check: Check,
}

impl Verdict {
    /// The measured value as people read it (see [`shown`]); `None` if the report has no such figure.
    pub fn actual_text(&self) -> Option<String> {
        self.actual.map(|x| shown(x, self.check))
    }
}

/// `x` with as few digits as read true: four decimals (one under 100 and above it), or more
/// significant digits when that rounding would read as the other verdict or land on a bound
/// (`actual 0.0010` against `< 0.001` reads as a contradiction; `0.0010004` does not).
/// Ends, at worst, at the shortest text that parses back to `x` exactly.
pub fn shown(x: f64, check: Check) -> String {
    let bounds = check.bounds();
    let reads_true = |text: &str| {
        text.parse::<f64>().is_ok_and(|y| y == x || (check.holds(y) == check.holds(x) && !bounds.contains(&y)))
    };
    let first = if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if !x.is_finite() || reads_true(&first) {
        return first;
    }
    let magnitude = if x == 0.0 { 0 } else { x.abs().log10().floor() as i32 };
    (1..=17)
        .map(|digits: i32| {
            let decimals = (digits - 1 - magnitude).max(0) as usize;
            format!("{x:.decimals$}")
        })
        .find(|text| reads_true(text))
        .unwrap_or_else(|| format!("{x}"))
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

/// The value a metric has in `report` (the JSON report).
pub fn value(report: &Value, metric: &Metric) -> Option<f64> {
    let v = match metric {
        Metric::Run(path) => lookup(report, path),
        Metric::Class { class, path } => report.get("classes")?.get(class).and_then(|c| lookup(c, path)),
        Metric::Component { id, key } => report.get("components")?.get(id)?.get(key),
    };
    v?.as_f64()
}

pub fn evaluate(expectations: &[Expectation], report: &Value) -> Vec<Verdict> {
    expectations
        .iter()
        .map(|e| {
            let actual = value(report, &e.metric);
            Verdict { expr: e.text.clone(), passed: actual.is_some_and(|x| e.check.holds(x)), actual, check: e.check }
        })
        .collect()
}
