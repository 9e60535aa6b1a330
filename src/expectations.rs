//! Prints the verdicts on a scenario's expectations (judged in `scenarios::expect`).

use scenarios::expect::{Check, Expectation};
pub use scenarios::expect::{Verdict, evaluate};

/// `PASS  p99_ms < 200  (actual 143.2)` lines.
pub fn render(verdicts: &[Verdict], expectations: &[Expectation]) -> String {
    let mut out = String::from("\nexpectations\n");
    for (v, e) in verdicts.iter().zip(expectations) {
        let actual = v.actual_text().map_or("no such figure in the report".to_string(), |a| format!("actual {a}"));
        let target = match e.check {
            Check::Near { target, tolerance } => {
                format!(", range {}..{}", short(target - tolerance), short(target + tolerance))
            }
            _ => String::new(),
        };
        out.push_str(&format!("  {}  {}  ({actual}{target})\n", if v.passed { "PASS" } else { "FAIL" }, v.expr));
    }
    out
}

fn short(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn verdicts_read_the_report() {
        let report: Value = serde_json::json!({
            "latency_ms": {"p99": 150.0},
            "classes": {"upload": {"latency_ms": {"p99": 600.0}}},
            "components": {"db-1": {"utilization": 0.95}}
        });
        let parse = |t: &str| scenarios::expect::parse(t, 0, &["upload".into()], &[("db-1".into(), "cache")]).unwrap();
        let e = [
            parse("p99_ms < 200"),
            parse("class.upload.p99_ms < 500"),
            parse("component.db-1.utilization ~ 0.9 +- 10%"),
            parse("component.db-1.hit_ratio > 0"),
        ];
        let v = evaluate(&e, &report);
        assert_eq!(v.iter().map(|v| v.passed).collect::<Vec<_>>(), [true, false, true, false]);
        assert_eq!(v[3].actual, None);
        let text = render(&v, &e);
        assert!(text.contains("  FAIL  class.upload.p99_ms < 500  (actual 600.0)"), "{text}");
        assert!(text.contains("no such figure"), "{text}");
    }

    /// Regression: `actual 0.001` for a failed `< 0.001` read as a contradiction; the value is
    /// printed to the digits that decide the verdict.
    #[test]
    fn a_failing_value_is_printed_to_the_digits_that_fail_it() {
        let report: Value = serde_json::json!({"error_rate": 0.0010004, "latency_ms": {"p99": 100.04, "p50": 0.00099}});
        let parse = |t: &str| scenarios::expect::parse(t, 0, &[], &[]).unwrap();
        let e = [parse("error_rate < 0.001"), parse("p99_ms < 100"), parse("p50_ms < 0.001"), parse("p99_ms > 50")];
        let text = render(&evaluate(&e, &report), &e);
        assert!(text.contains("  FAIL  error_rate < 0.001  (actual 0.0010004)"), "{text}");
        assert!(text.contains("  FAIL  p99_ms < 100  (actual 100.04)"), "{text}");
        assert!(text.contains("  PASS  p50_ms < 0.001  (actual 0.00099)"), "{text}");
        assert!(text.contains("  PASS  p99_ms > 50  (actual 100.0)"), "{text}");
    }
}
