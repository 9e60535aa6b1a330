//! The little expression language of scenario values: numbers, durations with units,
//! parameter names, `+ - * /` and parentheses, with dimensions checked so that a rate
//! cannot be used where a duration is expected. Examples: `0.8 * servers * service_rate`,
//! `1 / service_rate` (a duration), `think + 500ms`.

use crate::diagnostic::did_you_mean;
use crate::duration::unit_nanos;
use std::ops::Range;

/// What a quantity measures. Times are held in seconds, rates per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    Number,
    Time,
    Rate,
}

impl Dim {
    pub fn describe(self) -> &'static str {
        match self {
            Dim::Number => "a plain number",
            Dim::Time => "a duration (such as `20ms`)",
            Dim::Rate => "a rate per second (such as `200` with unit \"1/s\")",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub dim: Dim,
}

impl Quantity {
    pub fn number(value: f64) -> Quantity {
        Quantity { value, dim: Dim::Number }
    }
}

/// An error at `range` (byte offsets inside the expression text).
#[derive(Clone, Debug, PartialEq)]
pub struct ExprError {
    pub message: String,
    pub help: Option<String>,
    pub range: Range<usize>,
}

fn err<T>(message: impl Into<String>, range: Range<usize>) -> Result<T, ExprError> {
    Err(ExprError { message: message.into(), help: None, range })
}

/// The values an expression may name.
pub trait Scope {
    fn lookup(&self, name: &str) -> Option<Quantity>;
    fn names(&self) -> Vec<&str>;
}

/// Evaluates `text`. Expressions are short, so a fresh recursive-descent parse is fine.
pub fn eval(text: &str, scope: &dyn Scope) -> Result<Quantity, ExprError> {
    let mut p = Parser { text, pos: 0, scope, depth: 0 };
    let q = p.expr()?;
    p.skip_ws();
    if p.pos < text.len() {
        let rest = &text[p.pos..];
        let error = ExprError { message: format!("unexpected `{rest}`"), help: None, range: p.pos..text.len() };
        return Err(match spaced_unit(text, p.pos) {
            Some((number, unit)) => ExprError {
                message: format!("a space between `{number}` and its unit `{unit}`"),
                help: Some(format!("write \"{number}{unit}\": a duration's unit follows its number directly")),
                ..error
            },
            None => error,
        });
    }
    if !q.value.is_finite() {
        return err("the value is not finite (a division by zero?)", 0..text.len());
    }
    Ok(q)
}

/// The number and time unit of `5 ms` when the text left over at `at` is a unit (`ms`)
/// that white space parted from the number before it.
fn spaced_unit(text: &str, at: usize) -> Option<(&str, &str)> {
    let unit_len = text[at..].find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(text.len() - at);
    let unit = &text[at..at + unit_len];
    unit_nanos(unit)?;
    let before = &text[..at];
    let number = before.trim_end();
    if number.len() == before.len() {
        return None;
    }
    let start = number.rfind(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).map_or(0, |i| i + 1);
    let number = &number[start..];
    number.starts_with(|c: char| c.is_ascii_digit() || c == '.').then_some((number, unit))
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    scope: &'a dyn Scope,
    /// Parentheses and unary minus signs open so far: bounded, so no input overflows the stack.
    depth: u32,
}

/// How deep parentheses and unary minus signs may nest.
const MAX_DEPTH: u32 = 64;

impl Parser<'_> {
    /// Skips white space, a character at a time (a no-break space is two bytes).
    fn skip_ws(&mut self) {
        while let Some(c) = self.text[self.pos..].chars().next().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.text[self.pos..].chars().next()
    }

    fn expr(&mut self) -> Result<Quantity, ExprError> {
        let start = self.pos;
        let mut left = self.term()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.pos += 1;
            let right = self.term()?;
            if left.dim != right.dim {
                return err(
                    format!(
                        "cannot {} {} and {}",
                        if op == '+' { "add" } else { "subtract" },
                        left.dim.describe(),
                        right.dim.describe()
                    ),
                    start..self.pos,
                );
            }
            left.value = if op == '+' { left.value + right.value } else { left.value - right.value };
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Quantity, ExprError> {
        let start = self.pos;
        let mut left = self.factor()?;
        while let Some(op @ ('*' | '/')) = self.peek() {
            self.pos += 1;
            let right = self.factor()?;
            use Dim::*;
            let dim = match (op, left.dim, right.dim) {
                (_, d, Number) => Some(d),
                ('*', Number, d) => Some(d),
                ('*', Time, Rate) | ('*', Rate, Time) => Some(Number),
                ('/', Number, Time) => Some(Rate),
                ('/', Number, Rate) => Some(Time),
                ('/', Time, Time) | ('/', Rate, Rate) => Some(Number),
                _ => None,
            };
            let Some(dim) = dim else {
                return err(
                    format!(
                        "cannot {} {} by {}",
                        if op == '*' { "multiply" } else { "divide" },
                        left.dim.describe(),
                        right.dim.describe()
                    ),
                    start..self.pos,
                );
            };
            left = Quantity { value: if op == '*' { left.value * right.value } else { left.value / right.value }, dim };
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Quantity, ExprError> {
        if self.depth >= MAX_DEPTH {
            return err(format!("the expression nests deeper than {MAX_DEPTH} levels"), self.pos..self.pos + 1);
        }
        self.depth += 1;
        let q = self.factor_at_depth();
        self.depth -= 1;
        q
    }

    fn factor_at_depth(&mut self) -> Result<Quantity, ExprError> {
        match self.peek() {
            Some('(') => {
                let open = self.pos;
                self.pos += 1;
                let q = self.expr()?;
                if self.peek() != Some(')') {
                    return err("this parenthesis is never closed", open..open + 1);
                }
                self.pos += 1;
                Ok(q)
            }
            Some('-') => {
                self.pos += 1;
                let q = self.factor()?;
                Ok(Quantity { value: -q.value, dim: q.dim })
            }
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.name(),
            Some(c) => err(format!("unexpected `{c}`"), self.pos..self.pos + c.len_utf8()),
            None => err("expected a number, a duration or a parameter name here", self.pos..self.pos),
        }
    }

    fn number(&mut self) -> Result<Quantity, ExprError> {
        let start = self.pos;
        let rest = &self.text[start..];
        let mut end = 0;
        let bytes = rest.as_bytes();
        while end < bytes.len() {
            let c = bytes[end];
            let exponent_sign = (c == b'+' || c == b'-') && end > 0 && matches!(bytes[end - 1], b'e' | b'E');
            let exponent = (c == b'e' || c == b'E')
                && bytes.get(end + 1).is_some_and(|n| n.is_ascii_digit() || *n == b'-' || *n == b'+');
            if c.is_ascii_digit() || c == b'.' || c == b'_' || exponent || exponent_sign {
                end += 1;
            } else {
                break;
            }
        }
        let digits: String = rest[..end].chars().filter(|c| *c != '_').collect();
        let value: f64 = match digits.parse() {
            Ok(v) => v,
            Err(_) => {
                return err(format!("`{}` is not a number", &rest[..end]), start..start + end);
            }
        };
        self.pos = start + end;
        let unit_len =
            self.text[self.pos..].find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(self.text.len() - self.pos);
        if unit_len == 0 {
            return Ok(Quantity::number(value));
        }
        let unit = &self.text[self.pos..self.pos + unit_len];
        let Some(ns) = unit_nanos(unit) else {
            return Err(ExprError {
                message: format!("unknown time unit `{unit}`"),
                help: Some("units are ns, us, ms, s, m, h and d".into()),
                range: self.pos..self.pos + unit_len,
            });
        };
        self.pos += unit_len;
        Ok(Quantity { value: value * ns / 1e9, dim: Dim::Time })
    }

    fn name(&mut self) -> Result<Quantity, ExprError> {
        let start = self.pos;
        let len = self.text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.text.len() - start);
        let name = &self.text[start..start + len];
        self.pos += len;
        match self.scope.lookup(name) {
            Some(q) => Ok(q),
            None => {
                let names = self.scope.names();
                let help = match did_you_mean(name, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if names.is_empty() => "declare it under [params], with a default".to_string(),
                    None => format!("declare it under [params]; known parameters: {}", names.join(", ")),
                };
                Err(ExprError {
                    message: format!("unknown parameter `{name}`"),
                    help: Some(help),
                    range: start..start + len,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Params;
    impl Scope for Params {
        fn lookup(&self, name: &str) -> Option<Quantity> {
            match name {
                "service_rate" => Some(Quantity { value: 10.0, dim: Dim::Rate }),
                "servers" => Some(Quantity::number(4.0)),
                "think" => Some(Quantity { value: 2.0, dim: Dim::Time }),
                _ => None,
            }
        }
        fn names(&self) -> Vec<&str> {
            vec!["service_rate", "servers", "think"]
        }
    }

    fn ok(text: &str) -> Quantity {
        eval(text, &Params).unwrap()
    }

    #[test]
    fn arithmetic_with_dimensions() {
        assert_eq!(ok("0.8 * servers * service_rate"), Quantity { value: 32.0, dim: Dim::Rate });
        assert_eq!(ok("1 / service_rate"), Quantity { value: 0.1, dim: Dim::Time });
        assert_eq!(ok("think + 500ms"), Quantity { value: 2.5, dim: Dim::Time });
        assert_eq!(ok("(1 + 2) * 3"), Quantity::number(9.0));
        assert_eq!(ok("1e6"), Quantity::number(1e6));
        assert_eq!(ok("1_000_000"), Quantity::number(1e6));
        assert_eq!(ok("-2 * 3"), Quantity::number(-6.0));
        assert_eq!(ok("20ms * service_rate"), Quantity::number(0.2));
    }

    #[test]
    fn errors_point_at_the_culprit() {
        let e = eval("2 * servcie_rate", &Params).unwrap_err();
        assert_eq!(e.range, 4..16);
        assert_eq!(e.help.as_deref(), Some("did you mean `service_rate`?"));
        let e = eval("think + servers", &Params).unwrap_err();
        assert!(e.message.starts_with("cannot add a duration"), "{}", e.message);
        assert!(eval("(1 + 2", &Params).unwrap_err().message.contains("never closed"));
        assert!(eval("5 parsecs", &Params).is_err());
        assert!(eval("1 / 0", &Params).unwrap_err().message.contains("not finite"));
        assert_eq!(eval("3 3", &Params).unwrap_err().range, 2..3);
    }

    /// Regression (issue #15): a no-break space panicked on a char boundary; deep nesting
    /// overflowed the stack.
    #[test]
    fn any_characters_and_any_nesting_give_an_answer_or_an_error() {
        assert_eq!(eval("\u{a0}10\u{a0}", &Params).unwrap().value, 10.0);
        assert!(eval("\u{a0}\u{3000}é", &Params).is_err());
        assert_eq!(eval(&format!("{}1{}", "(".repeat(60), ")".repeat(60)), &Params).unwrap().value, 1.0);
        let deep = format!("{}1{}", "(".repeat(20_000), ")".repeat(20_000));
        assert!(eval(&deep, &Params).unwrap_err().message.contains("deeper than 64"));
        assert!(eval(&format!("{}1", "-".repeat(500_000)), &Params).unwrap_err().message.contains("deeper"));
    }
}
