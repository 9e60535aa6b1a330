//! Durations with units, as users write them: `500ms`, `90s`, `10m`, `2h`, `3d`, `1.5s`.

use sim_core::SimDuration;

/// Units accepted after a number, with their length in nanoseconds.
pub const UNITS: [(&str, f64); 7] =
    [("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86400e9)];

/// The longest duration accepted anywhere: ten years of simulated time.
pub const MAX_DURATION: SimDuration = SimDuration(10 * 365 * 86_400 * 1_000_000_000);

/// Nanoseconds per `unit`, if it is one of `UNITS`.
pub fn unit_nanos(unit: &str) -> Option<f64> {
    UNITS.iter().find(|(u, _)| *u == unit).map(|(_, ns)| *ns)
}

/// Parses `<number><unit>`, such as `250ms`. The error says what was expected.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let t = text.trim();
    // The unit is the letters at the end, so an exponent (`1e30s`) stays in the number.
    let split = t.len() - t.chars().rev().take_while(char::is_ascii_alphabetic).count();
    let (num, unit) = t.split_at(split);
    let hint = "write a number and a unit, such as `500ms`, `90s`, `10m`, `2h` or `3d`";
    if unit.is_empty() {
        return Err(format!("`{t}` has no unit; {hint}"));
    }
    let ns_per = unit_nanos(unit).ok_or_else(|| format!("unknown time unit `{unit}` in `{t}`; {hint}"))?;
    let value: f64 = num.trim().parse().map_err(|_| format!("`{t}` is not a duration; {hint}"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{t}`: a duration must be a finite, non-negative number"));
    }
    let ns = value * ns_per;
    if ns > MAX_DURATION.as_nanos() as f64 {
        return Err(format!("`{t}` is longer than the limit of {}", MAX_DURATION));
    }
    Ok(SimDuration::from_secs_f64(ns / 1e9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_unit() {
        let s = SimDuration::from_secs;
        assert_eq!(parse_duration("500ms"), Ok(SimDuration::from_millis(500)));
        assert_eq!(parse_duration("90s"), Ok(s(90)));
        assert_eq!(parse_duration("10m"), Ok(s(600)));
        assert_eq!(parse_duration("2h"), Ok(s(7200)));
        assert_eq!(parse_duration("3d"), Ok(s(259_200)));
        assert_eq!(parse_duration("2000000s"), Ok(s(2_000_000)));
        assert_eq!(parse_duration("1.5us"), Ok(SimDuration::from_nanos(1500)));
    }

    #[test]
    fn refuses_missing_or_unknown_units_and_absurd_lengths() {
        assert!(parse_duration("90").unwrap_err().contains("no unit"));
        assert!(parse_duration("5 parsecs").unwrap_err().contains("unknown time unit"));
        assert!(parse_duration("-1s").unwrap_err().contains("non-negative"));
        assert!(parse_duration("1000000d").unwrap_err().contains("limit"));
        // Regression (issue #15): an exponent was read as the unit `e30s`.
        assert!(parse_duration("1e30s").unwrap_err().contains("limit"), "{:?}", parse_duration("1e30s"));
        assert_eq!(parse_duration("1.5e3ms"), Ok(SimDuration::from_millis(1500)));
    }
}
