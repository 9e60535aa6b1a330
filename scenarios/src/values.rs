//! Turning spanned TOML values into checked quantities: numbers, counts, durations and
//! delay distributions, each either a TOML literal or an expression string over the
//! scenario's parameters. Every error carries the exact span of the culprit.

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::duration::MAX_DURATION;
use crate::expr::{Dim, ExprError, Quantity, Scope, eval};
use sim_core::{Delay, SimDuration};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::{Spanned, Value};

/// The parameters in force (defaults with `--set` overrides applied).
pub struct Params(pub BTreeMap<String, Quantity>);

impl Scope for Params {
    fn lookup(&self, name: &str) -> Option<Quantity> {
        self.0.get(name).copied()
    }
    fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Reads values against a source file and a parameter scope.
pub struct Values<'a> {
    pub source: &'a str,
    pub params: &'a Params,
}

/// The distributions a delay string may name, for suggestions.
const DISTRIBUTIONS: [&str; 7] = ["exp", "exponential", "const", "constant", "uniform", "lognormal", "pareto"];

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

impl Values<'_> {
    /// Byte offset of a string value's first character (after its opening quotes).
    pub(crate) fn content_start(&self, span: &Range<usize>) -> usize {
        let rest = self.source.get(span.start..).unwrap_or("");
        if rest.starts_with("\"\"\"") || rest.starts_with("'''") { span.start + 3 } else { span.start + 1 }
    }

    fn expr_error(&self, e: ExprError, base: usize) -> Diagnostic {
        let d = Diagnostic::at(e.message, base + e.range.start..base + e.range.end.max(e.range.start + 1));
        match e.help {
            Some(h) => d.help(h),
            None => d,
        }
    }

    /// Evaluates a literal or expression string, checking that it measures `want` (a plain
    /// number is accepted as a rate per second).
    pub fn quantity(&self, v: &Spanned<Value>, want: Dim, what: &str) -> Result<f64, Diagnostic> {
        let span = v.span();
        let q = match v.get_ref() {
            Value::Integer(i) => Quantity::number(*i as f64),
            Value::Float(f) => Quantity::number(*f),
            Value::String(s) => {
                let base = self.content_start(&span);
                eval(s, self.params).map_err(|e| self.expr_error(e, base))?
            }
            other => {
                return Err(Diagnostic::at(
                    format!("{what}: expected {}, found {}", want.describe(), type_name(other)),
                    span,
                ));
            }
        };
        let fits = q.dim == want || (want == Dim::Rate && q.dim == Dim::Number);
        if !fits {
            let mut d =
                Diagnostic::at(format!("{what}: expected {}, found {}", want.describe(), q.dim.describe()), span);
            if want == Dim::Time && q.dim == Dim::Number {
                d = d.help(format!("durations need a unit: write \"{}s\" or \"{}ms\"", q.value, q.value));
            }
            return Err(d);
        }
        if !q.value.is_finite() {
            return Err(Diagnostic::at(format!("{what}: the value is not finite"), span));
        }
        Ok(q.value)
    }

    /// A number within `[min, max]`.
    pub fn number_in(&self, v: &Spanned<Value>, want: Dim, what: &str, min: f64, max: f64) -> Result<f64, Diagnostic> {
        let x = self.quantity(v, want, what)?;
        if x < min || x > max {
            return Err(Diagnostic::at(format!("{what} is {x}, outside the accepted range {min} to {max}"), v.span())
                .help(format!("choose a value between {min} and {max}")));
        }
        Ok(x)
    }

    /// A size in bytes: a whole number, or a string with a unit (`"2MB"`, `"512KiB"`, `"1TB"`;
    /// decimal KB/MB/GB/TB, binary KiB/MiB/GiB/TiB).
    pub fn bytes(&self, v: &Spanned<Value>, what: &str) -> Result<u64, Diagnostic> {
        let help = "write a size such as \"2MB\", \"512KiB\" or a whole number of bytes";
        let x = match v.get_ref() {
            Value::Integer(i) if *i >= 0 => *i as f64,
            Value::String(s) => parse_bytes(s)
                .ok_or_else(|| Diagnostic::at(format!("{what}: `{s}` is not a size"), v.span()).help(help))?,
            _ => return Err(Diagnostic::at(format!("{what}: expected a size"), v.span()).help(help)),
        };
        if !(1.0..=1e18).contains(&x) {
            return Err(Diagnostic::at(format!("{what} must be between 1 byte and 1 EB"), v.span()));
        }
        Ok(x as u64)
    }

    /// A bandwidth in bytes per second: `"100MB/s"`, `"1GiB/s"`.
    pub fn bandwidth(&self, v: &Spanned<Value>, what: &str) -> Result<f64, Diagnostic> {
        let err = || Diagnostic::at(format!("{what}: expected a bandwidth"), v.span()).help("write it as \"100MB/s\"");
        let Value::String(s) = v.get_ref() else { return Err(err()) };
        let x = s.trim().strip_suffix("/s").and_then(parse_bytes).ok_or_else(err)?;
        if !(1.0..=1e15).contains(&x) {
            return Err(Diagnostic::at(format!("{what} must be between 1 B/s and 1 PB/s"), v.span()));
        }
        Ok(x)
    }

    /// A number above zero and at most `max`.
    pub fn positive(&self, v: &Spanned<Value>, want: Dim, what: &str, max: f64) -> Result<f64, Diagnostic> {
        let x = self.quantity(v, want, what)?;
        if x <= 0.0 {
            return Err(Diagnostic::at(format!("{what} must be above zero, found {x}"), v.span()));
        }
        if x > max {
            return Err(Diagnostic::at(format!("{what} is {x}, above the limit of {max}"), v.span())
                .help("the limit keeps a run within memory and time; use a smaller value"));
        }
        Ok(x)
    }

    /// A whole number within `[min, max]`.
    pub fn count(&self, v: &Spanned<Value>, what: &str, min: u64, max: u64) -> Result<u64, Diagnostic> {
        let x = self.quantity(v, Dim::Number, what)?;
        if x.fract() != 0.0 {
            return Err(Diagnostic::at(format!("{what} must be a whole number, found {x}"), v.span()));
        }
        if x < min as f64 || x > max as f64 {
            let help = if x > max as f64 {
                format!("{max} is the limit, so that a run stays within memory and time; use a smaller value")
            } else {
                format!("use at least {min}")
            };
            return Err(Diagnostic::at(format!("{what} is {x}, outside the accepted range {min} to {max}"), v.span())
                .help(help));
        }
        Ok(x as u64)
    }

    /// The period of a timer that re-arms itself (a probe, a flush, a heartbeat): at least
    /// `MIN_INTERVAL`, or a run would spin at one instant and never end.
    pub fn interval(&self, v: &Spanned<Value>, what: &str) -> Result<SimDuration, Diagnostic> {
        let d = self.duration(v, what)?;
        if d < MIN_INTERVAL {
            return Err(Diagnostic::at(format!("{what} is {d}, shorter than {MIN_INTERVAL}"), v.span()).help(format!(
                "a timer that re-arms itself this often would hold the run at one instant; use {MIN_INTERVAL} or more"
            )));
        }
        Ok(d)
    }

    pub fn duration(&self, v: &Spanned<Value>, what: &str) -> Result<SimDuration, Diagnostic> {
        let secs = self.quantity(v, Dim::Time, what)?;
        check_duration(secs, what, v.span())
    }

    /// A delay distribution: `exp(20ms)`, `exp(mean = 1 / service_rate)`, `exp(rate = 50)`,
    /// `const(5ms)` or just `5ms`, `uniform(5ms, 15ms)`, `lognormal(mean = 20ms, cv = 0.5)`,
    /// `pareto(min = 5ms, alpha = 2.5)`.
    pub fn delay(&self, v: &Spanned<Value>, what: &str) -> Result<Delay, Diagnostic> {
        let span = v.span();
        let text = match v.get_ref() {
            Value::String(s) => s.as_str(),
            Value::Integer(_) | Value::Float(_) => {
                return Err(Diagnostic::at(format!("{what}: a delay needs a unit or a distribution"), span)
                    .help("write \"20ms\" for a constant, or \"exp(20ms)\" for an exponential with that mean"));
            }
            other => {
                return Err(Diagnostic::at(
                    format!("{what}: expected a delay string, found {}", type_name(other)),
                    span,
                ));
            }
        };
        let base = self.content_start(&span);
        let call = parse_call(text);
        let Some((name, args_at, args)) = call else {
            let secs = self.time_expr(text, base, what)?;
            return Ok(Delay::constant(check_duration(secs, what, span)?));
        };
        let name_range = base..base + name.len();
        if !DISTRIBUTIONS.contains(&name) {
            let mut d = Diagnostic::at(format!("{what}: unknown distribution `{name}`"), name_range);
            d = d.help(match did_you_mean(name, DISTRIBUTIONS) {
                Some(s) => {
                    format!("did you mean `{s}`? (known: exp, const, uniform, lognormal, pareto)")
                }
                None => "known distributions: exp, const, uniform, lognormal, pareto".to_string(),
            });
            return Err(d);
        }
        let mut args = Args { values: self, args, base: base + args_at, what, used: vec![] };
        let time = |secs: f64| SimDuration::from_secs_f64(secs);
        let delay = match name {
            "exp" | "exponential" => {
                if let Some(rate) = args.named("rate", Dim::Rate)? {
                    if rate <= 0.0 {
                        return Err(Diagnostic::at(format!("{what}: the rate must be above zero"), span));
                    }
                    Delay::exponential(time(1.0 / rate))
                } else {
                    Delay::exponential(time(args.positional_or("mean", 0, Dim::Time)?))
                }
            }
            "const" | "constant" => Delay::constant(time(args.positional_or("value", 0, Dim::Time)?)),
            "uniform" => {
                let low = args.positional_or("low", 0, Dim::Time)?;
                let high = args.positional_or("high", 1, Dim::Time)?;
                Delay::uniform(time(low), time(high))
                    .map_err(|e| Diagnostic::at(format!("{what}: {e}"), span.clone()))?
            }
            "lognormal" => {
                let mean = args.positional_or("mean", 0, Dim::Time)?;
                let cv = args.positional_or("cv", 1, Dim::Number)?;
                Delay::lognormal(time(mean), cv).map_err(|e| Diagnostic::at(format!("{what}: {e}"), span.clone()))?
            }
            "pareto" => {
                let min = args.positional_or("min", 0, Dim::Time)?;
                let alpha = args.positional_or("alpha", 1, Dim::Number)?;
                Delay::pareto(time(min), alpha).map_err(|e| Diagnostic::at(format!("{what}: {e}"), span.clone()))?
            }
            _ => unreachable!("listed in DISTRIBUTIONS"),
        };
        args.finish(name)?;
        check_duration(delay.mean().as_secs_f64(), what, span)?;
        Ok(delay)
    }

    fn time_expr(&self, text: &str, base: usize, what: &str) -> Result<f64, Diagnostic> {
        let q = eval(text, self.params).map_err(|e| self.expr_error(e, base))?;
        if q.dim != Dim::Time {
            let d = Diagnostic::at(
                format!("{what}: expected {}, found {}", Dim::Time.describe(), q.dim.describe()),
                base..base + text.len(),
            );
            return Err(if q.dim == Dim::Number {
                d.help(format!("add a unit, such as \"{}ms\", or name a distribution: \"exp({}ms)\"", q.value, q.value))
            } else {
                d
            });
        }
        Ok(q.value)
    }
}

/// `2MB` -> 2e6; `1.5KiB` -> 1536.
fn parse_bytes(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = t.split_at(split);
    let factor = match unit {
        "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024f64.powi(2),
        "GiB" => 1024f64.powi(3),
        "TiB" => 1024f64.powi(4),
        _ => return None,
    };
    let n: f64 = num.trim().parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some(n * factor)
}

/// Seconds for a message: `1.111e11s (about 3523 years)` rather than eleven decimals.
fn seconds(secs: f64) -> String {
    const YEAR: f64 = 365.0 * 86_400.0;
    if secs.abs() >= YEAR {
        format!("{secs:.3e}s (about {:.0} years)", secs / YEAR)
    } else {
        format!("{}", SimDuration::from_secs_f64(secs.abs()))
    }
}

fn check_duration(secs: f64, what: &str, span: Range<usize>) -> Result<SimDuration, Diagnostic> {
    if secs < 0.0 {
        return Err(Diagnostic::at(format!("{what} is negative (-{})", seconds(secs)), span));
    }
    if secs > MAX_DURATION.as_secs_f64() {
        let msg =
            format!("{what} is {}, longer than the limit of {}", seconds(secs), seconds(MAX_DURATION.as_secs_f64()));
        return Err(Diagnostic::at(msg, span).help("use a shorter duration"));
    }
    Ok(SimDuration::from_secs_f64(secs))
}

/// One argument of a distribution call: an optional `name =`, the expression and its
/// byte offset inside the argument list.
struct Arg<'t> {
    name: Option<&'t str>,
    expr: &'t str,
    at: usize,
}

/// Splits `name(args)` into the name, the offset of the arguments and the arguments.
fn parse_call(text: &str) -> Option<(&str, usize, Vec<Arg<'_>>)> {
    let open = text.find('(')?;
    let name = text[..open].trim();
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || !text.trim_end().ends_with(')')
    {
        return None;
    }
    let inner_start = open + 1;
    let inner = &text[inner_start..text.trim_end().len() - 1];
    let mut args = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in inner.char_indices().chain(std::iter::once((inner.len(), ','))) {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                let piece = &inner[start..i];
                if !piece.trim().is_empty() {
                    let (name, expr, at) = match piece.find('=') {
                        Some(eq) => (Some(piece[..eq].trim()), &piece[eq + 1..], start + eq + 1),
                        None => (None, piece, start),
                    };
                    args.push(Arg { name, expr, at });
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    Some((name, inner_start, args))
}

struct Args<'a, 't> {
    values: &'a Values<'a>,
    args: Vec<Arg<'t>>,
    base: usize,
    what: &'a str,
    used: Vec<usize>,
}

impl Args<'_, '_> {
    fn eval(&mut self, i: usize, want: Dim, label: &str) -> Result<f64, Diagnostic> {
        self.used.push(i);
        let a = &self.args[i];
        let base = self.base + a.at;
        let q = eval(a.expr, self.values.params).map_err(|e| self.values.expr_error(e, base))?;
        if q.dim != want && !(want == Dim::Rate && q.dim == Dim::Number) {
            return Err(Diagnostic::at(
                format!("{}: `{label}` must be {}, found {}", self.what, want.describe(), q.dim.describe()),
                base..base + a.expr.len(),
            ));
        }
        // A negative time would have been clamped to zero when the delay was drawn.
        if want == Dim::Time && q.value < 0.0 {
            let lead = a.expr.len() - a.expr.trim_start().len();
            return Err(Diagnostic::at(
                format!("{}: `{label}` is negative ({} s)", self.what, q.value),
                base + lead..base + a.expr.trim_end().len(),
            )
            .help("a delay is a time from now: give it a positive value"));
        }
        Ok(q.value)
    }

    fn named(&mut self, name: &str, want: Dim) -> Result<Option<f64>, Diagnostic> {
        match self.args.iter().position(|a| a.name == Some(name)) {
            Some(i) => self.eval(i, want, name).map(Some),
            None => Ok(None),
        }
    }

    /// The argument called `name`, or else the `index`-th unnamed one.
    fn positional_or(&mut self, name: &str, index: usize, want: Dim) -> Result<f64, Diagnostic> {
        if let Some(v) = self.named(name, want)? {
            return Ok(v);
        }
        match self.args.iter().enumerate().filter(|(_, a)| a.name.is_none()).nth(index) {
            Some((i, _)) => self.eval(i, want, name),
            None => Err(Diagnostic::at(
                format!("{}: missing argument `{name}`", self.what),
                self.base.saturating_sub(1)..self.base,
            )),
        }
    }

    fn finish(self, dist: &str) -> Result<(), Diagnostic> {
        match (0..self.args.len()).find(|i| !self.used.contains(i)) {
            None => Ok(()),
            Some(i) => {
                let a = &self.args[i];
                let start = self.base + a.at;
                Err(Diagnostic::at(
                    format!("{}: `{dist}` does not take the argument `{}`", self.what, a.name.unwrap_or(a.expr.trim())),
                    start..start + a.expr.len(),
                )
                .help(format!("see README.md, 'Delay distributions', for what `{dist}` takes")))
            }
        }
    }
}

/// The shortest period a self-re-arming timer may have.
pub const MIN_INTERVAL: SimDuration = SimDuration::from_millis(1);

#[cfg(test)]
mod tests {
    use super::*;

    fn delay(text: &str) -> Result<Delay, Diagnostic> {
        let mut p = BTreeMap::new();
        p.insert("service_rate".to_string(), Quantity { value: 10.0, dim: Dim::Rate });
        let params = Params(p);
        let source = format!("x = \"{text}\"");
        let v = Spanned::new(4..source.len(), Value::String(text.into()));
        Values { source: &source, params: &params }.delay(&v, "service")
    }

    /// `"5 ms"` said only "unexpected `ms`": the hint shows the value as it must be written.
    #[test]
    fn a_space_before_a_duration_unit_gets_the_written_form() {
        for (text, written, at) in [("5 ms", "5ms", 7), ("exp(20 ms)", "20ms", 12), ("uniform(1.5  s, 2s)", "1.5s", 18)]
        {
            let e = delay(text).unwrap_err();
            let help = e.help.as_deref().unwrap_or_default();
            assert!(help.starts_with(&format!("write \"{written}\"")), "{text}: {e:?}");
            assert_eq!(e.span.map(|s| s.start), Some(at), "{text}: points at the unit");
        }
        assert!(delay("5 * think").unwrap_err().help.is_none_or(|h| !h.starts_with("write")));
    }

    #[test]
    fn every_distribution_form_parses() {
        let ms = SimDuration::from_millis;
        assert_eq!(delay("exp(20ms)").unwrap(), Delay::exponential(ms(20)));
        assert_eq!(delay("exp(mean = 1 / service_rate)").unwrap(), Delay::exponential(ms(100)));
        assert_eq!(delay("exponential(rate = service_rate)").unwrap(), Delay::exponential(ms(100)));
        assert_eq!(delay("5ms").unwrap(), Delay::constant(ms(5)));
        assert_eq!(delay("const(2 * 5ms)").unwrap(), Delay::constant(ms(10)));
        assert_eq!(delay("uniform(5ms, 15ms)").unwrap().mean(), ms(10));
        assert_eq!(delay("lognormal(mean = 20ms, cv = 0.5)").unwrap().mean(), ms(20));
        assert_eq!(delay("pareto(min = 5ms, alpha = 2)").unwrap().mean(), ms(10));
    }

    #[test]
    fn bad_delays_say_what_and_where() {
        let e = delay("expo(20ms)").unwrap_err();
        assert_eq!(e.span, Some(5..9));
        assert!(e.help.unwrap().contains("did you mean `exp`"));
        let e = delay("exp(20)").unwrap_err();
        assert!(e.message.contains("must be a duration"), "{}", e.message);
        let e = delay("20").unwrap_err();
        assert!(e.help.unwrap().contains("add a unit"));
        let e = delay("lognormal(mean = 20ms)").unwrap_err();
        assert!(e.message.contains("missing argument `cv`"), "{}", e.message);
        let e = delay("exp(20ms, shape = 3)").unwrap_err();
        assert!(e.message.contains("does not take the argument `shape`"), "{}", e.message);
        assert!(delay("pareto(min = 5ms, alpha = 0.5)").unwrap_err().message.contains("above 1"));
    }

    /// Regression (issue #15): negative times inside a distribution were clamped to zero
    /// silently when drawn, so the run reported zero latency.
    #[test]
    fn negative_times_in_a_distribution_are_refused_where_they_stand() {
        for text in
            ["exp(-20ms)", "const(-5ms)", "uniform(-15ms, -5ms)", "exp(20ms - 30ms)", "lognormal(mean = -1s, cv = 1)"]
        {
            let e = delay(text).unwrap_err();
            assert!(e.message.contains("is negative"), "{text}: {}", e.message);
            let span = e.span.clone().unwrap();
            let arg = &format!("x = \"{text}\"")[span];
            assert!(arg.starts_with('-') || arg.starts_with("20ms"), "{text}: points at `{arg}`");
        }
        assert!(delay("-20ms").unwrap_err().message.contains("negative"), "constants were refused already");
        assert!(delay("uniform(0ms, 5ms)").is_ok(), "zero is a time");
    }
}
