//! The human-readable report of `scalelab run`.

use scenarios::Scenario;
use sim_core::Report;
use sim_core::report::ComponentReport;
use sim_core::world::metrics::LatencySummary;
use std::fmt::Write;

pub use sim_core::report::thousands;

/// A number with about four significant digits, without exponent noise.
fn num(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 || (x.fract() == 0.0 && a < 1e15) {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A component's own figures as `name=value`, by name: what the columns do not show.
fn details(c: &ComponentReport) -> String {
    const IN_COLUMNS: [&str; 5] = ["kind", "utilization", "queue_mean", "queue_max", "sent_to"];
    let serde_json::Value::Object(fields) = serde_json::to_value(c).expect("a report serializes") else {
        unreachable!("a component report is a struct")
    };
    let figures = fields.iter().filter(|(k, _)| !IN_COLUMNS.contains(&k.as_str()));
    figures.filter_map(|(k, v)| Some(format!("{k}={}", num(v.as_f64()?)))).collect::<Vec<_>>().join(" ")
}

fn latency_line(l: &LatencySummary) -> String {
    let ci = l.mean_ci95.map(|c| format!(" ± {}", num(c))).unwrap_or_default();
    format!(
        "mean {}{ci}   p50 {}   p90 {}   p95 {}   p99 {}   p99.9 {}   max {}",
        num(l.mean),
        num(l.p50),
        num(l.p90),
        num(l.p95),
        num(l.p99),
        num(l.p999),
        num(l.max)
    )
}

/// Wraps text to `width` columns, indenting every line.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

pub fn render(s: &Scenario, r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} - {}", r.scenario, s.title);
    if !s.lesson.is_empty() {
        o.push_str(&wrap(&s.lesson, 88, "  "));
    }
    if !s.watch.is_empty() {
        let _ = writeln!(o, "  Watch:");
        for w in &s.watch {
            let _ = writeln!(o, "   - {w}");
        }
    }
    let overridden: Vec<String> =
        s.params.iter().filter(|p| p.value != p.default).map(|p| format!("{}={}", p.name, p.value)).collect();
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "seed {} ({})   simulated {}s (warm-up {}s)   {} events in {:.2}s wall ({:.1}M events/s)",
        r.seed,
        r.rng,
        num(r.sim_seconds),
        num(r.warmup_seconds),
        thousands(r.events),
        r.wall_seconds,
        r.events_per_second / 1e6
    );
    let _ = writeln!(o, "trace hash {}", r.trace_hash);
    if !overridden.is_empty() {
        let _ = writeln!(o, "parameters set: {}", overridden.join(", "));
    }
    if r.truncated {
        let _ = writeln!(o, "WARNING: the run hit its event limit and stopped early; numbers cover the part that ran.");
    }
    let q = &r.requests;
    let _ = writeln!(
        o,
        "\nrequests    generated {}   completed {}   failed {}   in flight {}",
        thousands(q.generated),
        thousands(q.completed),
        thousands(q.failed),
        thousands(q.in_flight)
    );
    let _ = writeln!(o, "throughput  {} req/s   error rate {:.2}%", num(r.throughput_rps), r.error_rate * 100.0);
    let _ = writeln!(o, "latency ms  {}", latency_line(&r.latency_ms));
    if r.classes.len() > 1 {
        let w = r.classes.keys().map(String::len).max().unwrap_or(0).max(5);
        let _ = writeln!(
            o,
            "\n{:<w$} {:>9} {:>8} {:>9} {:>9} {:>9}",
            "class", "req/s", "err%", "mean ms", "p50 ms", "p99 ms"
        );
        for (name, c) in &r.classes {
            if c.requests.completed == 0 && c.requests.in_flight > 0 {
                // Connections held open (WebSockets): they have no latency to show yet.
                let (open, failed) = (thousands(c.requests.in_flight), thousands(c.requests.failed));
                let _ = writeln!(
                    o,
                    "{name:<w$} {:>9} {:>8.2}   {open} held open, {failed} failed",
                    "-",
                    c.error_rate * 100.0
                );
                continue;
            }
            let _ = writeln!(
                o,
                "{name:<w$} {:>9} {:>8.2} {:>9} {:>9} {:>9}",
                num(c.throughput_rps),
                c.error_rate * 100.0,
                num(c.latency_ms.mean),
                num(c.latency_ms.p50),
                num(c.latency_ms.p99)
            );
        }
    }
    if !r.consistency.is_empty() {
        let w = r.consistency.keys().map(String::len).max().unwrap_or(0).max(4);
        let _ = writeln!(
            o,
            "\n{:<w$} {:>9} {:>8} {:>7} {:>7} {:>6} {:>5} {:>11} {:>10}  mode",
            "data", "ops", "avail%", "errors", "stale", "lost", "dup", "unavail ms", "agreed ms"
        );
        for (name, c) in &r.consistency {
            let v = &c.verdict;
            let _ = writeln!(
                o,
                "{name:<w$} {:>9} {:>8.2} {:>7} {:>7} {:>6} {:>5} {:>11} {:>10}  {} on {}",
                thousands(v.operations),
                v.availability * 100.0,
                thousands(v.failed),
                thousands(v.stale_reads),
                thousands(v.lost_writes),
                thousands(v.duplicates),
                num(v.unavailable_ms),
                c.convergence_ms.map_or("-".to_string(), num),
                c.mode,
                c.store
            );
            for e in &v.examples {
                let _ = writeln!(o, "{:w$}   {} (key {}): {}", "", e.anomaly.replace('_', " "), e.key, e.detail);
            }
        }
    }
    if let Some(n) = &r.network_faults {
        let (lost, held) = (thousands(n.messages_lost), thousands(n.messages_held));
        let _ = writeln!(o, "network     {lost} messages lost at partitions or flaky links, {held} held until a heal");
    }
    let c = &r.cost;
    let lines: Vec<String> =
        c.by_component.iter().filter(|(_, v)| **v > 0.0).map(|(k, v)| format!("{k} ${}", num(*v))).collect();
    let _ = writeln!(
        o,
        "cost        ${}/month ({})   ${} per million requests",
        num(c.total_usd_month),
        lines.join(", "),
        num(c.usd_per_million_requests)
    );
    let _ = writeln!(
        o,
        "revenue     break even at {} paying users at $1/month or {} at $10; under 20% of revenue: {} or {}",
        thousands(c.break_even_users.usd_1 as u64),
        thousands(c.break_even_users.usd_10 as u64),
        thousands(c.paying_users_needed.usd_1 as u64),
        thousands(c.paying_users_needed.usd_10 as u64)
    );
    let _ = writeln!(o, "\ncomponent    kind            util   queue mean  queue max  details");
    for (name, c) in &r.components {
        let util = c.utilization.map(|u| format!("{:.1}%", u * 100.0)).unwrap_or_else(|| "-".into());
        let qmean = c.queue_mean.map(num).unwrap_or_else(|| "-".into());
        let qmax = c.queue_max.map(thousands).unwrap_or_else(|| "-".into());
        let _ = writeln!(o, "{name:<12} {:<14} {util:>6} {qmean:>11} {qmax:>10}  {}", c.kind(), details(c));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn wrap_keeps_lines_short() {
        let w = wrap("aaa bbb ccc ddd", 7, "> ");
        assert_eq!(w, "> aaa bbb\n> ccc ddd\n");
    }
}
