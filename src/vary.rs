//! `--vary KEY=VALUES`: the values one parameter (or `ID.KEY` component setting) takes in
//! a comparison or a sweep. A list (`lb.policy=round_robin,least_connections`) or an
//! inclusive range with an optional step (`web_servers=1..8`, `rate=100..1000:100`).

/// At most this many values: each is at least one full run.
pub const MAX_VALUES: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    pub key: String,
    /// The values as `--set` takes them.
    pub values: Vec<String>,
    /// The values as numbers, when every one is a number (for plotting).
    pub numbers: Option<Vec<f64>>,
}

fn number(s: &str) -> Option<f64> {
    s.trim().replace('_', "").parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Formats a range value: whole numbers without a decimal point.
fn format(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

pub fn parse(s: &str) -> Result<Vary, String> {
    let usage =
        "expected KEY=LO..HI[:STEP] or KEY=A,B,C, such as web_servers=1..8 or lb.policy=round_robin,least_connections";
    let (key, spec) = s.split_once('=').ok_or_else(|| format!("{usage}; found `{s}`"))?;
    let (key, spec) = (key.trim(), spec.trim());
    if key.is_empty() || spec.is_empty() {
        return Err(format!("{usage}; found `{s}`"));
    }
    let values: Vec<String> = if let Some((lo, rest)) = spec.split_once("..") {
        let (hi, step) = match rest.split_once(':') {
            Some((hi, step)) => (hi, Some(step)),
            None => (rest, None),
        };
        let bad = |what: &str, v: &str| format!("`{v}` is not a number ({what} of `{spec}`); {usage}");
        let lo_n = number(lo).ok_or_else(|| bad("the start", lo))?;
        let hi_n = number(hi).ok_or_else(|| bad("the end", hi))?;
        let step_n = match step {
            Some(st) => number(st).ok_or_else(|| bad("the step", st))?,
            None => 1.0,
        };
        if hi_n < lo_n {
            return Err(format!("the range `{spec}` is empty: write the smaller value first"));
        }
        if step_n <= 0.0 {
            return Err(format!("the step of `{spec}` must be above zero"));
        }
        let count = ((hi_n - lo_n) / step_n + 1e-9).floor() + 1.0;
        if count > MAX_VALUES as f64 {
            return Err(format!(
                "`{spec}` has {count} values; at most {MAX_VALUES} (give a larger step, such as {lo}..{hi}:{})",
                format(((hi_n - lo_n) / 100.0).ceil().max(1.0))
            ));
        }
        (0..count as usize).map(|i| format(lo_n + step_n * i as f64)).collect()
    } else {
        let values: Vec<String> = spec.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            return Err(format!("`{spec}` has an empty value; {usage}"));
        }
        if values.len() > MAX_VALUES {
            return Err(format!("`{spec}` has {} values; at most {MAX_VALUES}", values.len()));
        }
        values
    };
    let numbers: Option<Vec<f64>> = values.iter().map(|v| number(v)).collect();
    Ok(Vary { key: key.to_string(), values, numbers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_lists_and_mistakes() {
        let v = parse("web_servers=1..8").unwrap();
        assert_eq!(v.values, ["1", "2", "3", "4", "5", "6", "7", "8"]);
        assert_eq!(v.numbers.as_deref(), Some(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0][..]));
        assert_eq!(parse("rate=100..1000:300").unwrap().values, ["100", "400", "700", "1000"]);
        assert_eq!(parse("x=0.1..0.3:0.1").unwrap().values.len(), 3);
        let p = parse("lb.policy=round_robin, least_connections").unwrap();
        assert_eq!((p.key.as_str(), p.values.len(), p.numbers), ("lb.policy", 2, None));
        assert!(parse("web_servers").unwrap_err().contains("KEY=LO..HI"));
        assert!(parse("n=8..1").unwrap_err().contains("empty"));
        assert!(parse("n=1..8:0").unwrap_err().contains("above zero"));
        assert!(parse("n=1..1e9").unwrap_err().contains("at most 1000"));
        assert!(parse("n=a..3").unwrap_err().contains("not a number"));
        assert!(parse("n=1,,2").unwrap_err().contains("empty value"));
    }
}
