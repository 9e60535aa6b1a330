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
    if !r.explain.what_happened.is_empty() {
        let _ = writeln!(o, "\nwhat happened");
        for sentence in &r.explain.what_happened {
            let w = wrap(sentence, 86, "    ");
            let _ = write!(o, "  - {}", &w[4..]);
        }
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
    let connects: Vec<&sim_core::report::ClassReport> = r.classes.values().filter(|c| c.connections).collect();
    if !connects.is_empty() {
        let (tried, refused) =
            connects.iter().fold((0, 0), |(t, f), c| (t + c.requests.generated, f + c.requests.failed));
        let _ = writeln!(
            o,
            "            of which {} WebSocket connection attempts ({} refused), left out of the figures below",
            thousands(tried),
            thousands(refused)
        );
    }
    let i = &r.intervals;
    let _ = writeln!(
        o,
        "throughput  {}{} req/s   error rate {:.2}%{}",
        num(r.throughput_rps),
        i.throughput_rps.map_or(String::new(), |c| format!(" ± {}", num(c))),
        r.error_rate * 100.0,
        i.error_rate.map_or(String::new(), |c| format!(" ± {:.2}", c * 100.0))
    );
    let _ = writeln!(o, "latency ms  {}{}", latency_line(&r.latency_ms), survivorship(r.error_rate));
    let limited: u64 = r.classes.values().filter_map(|c| c.limited.as_ref()).map(|l| l.count).sum();
    if r.classes.values().any(|c| c.limited.is_some()) {
        let answered: u64 = r.classes.values().map(|c| c.requests.completed + c.requests.failed).sum();
        let _ = writeln!(
            o,
            "limited     {} requests answered 429 ({:.1}% of those answered, warm-up included), not in the error rate",
            thousands(limited),
            limited as f64 / answered.max(1) as f64 * 100.0
        );
    }
    let l = &r.explain.little;
    if l.departures_rps > 0.0 {
        let _ = writeln!(
            o,
            "in system   {} requests on average (Little: L / X = {} ms a request, failed ones included)",
            num(l.in_system_mean),
            num(l.implied_response_ms)
        );
    }
    if r.classes.len() > 1 {
        let w = r.classes.keys().map(String::len).max().unwrap_or(0).max(5);
        let _ = writeln!(
            o,
            "\n{:<w$} {:>9} {:>8} {:>9} {:>9} {:>9} {:>7}",
            "class", "req/s", "err%", "mean ms", "p50 ms", "p99 ms", "stale"
        );
        for (name, c) in &r.classes {
            if c.connections {
                // Connections held open (WebSockets): attempts, not requests.
                let (open, failed) = (thousands(c.requests.in_flight), thousands(c.requests.failed));
                let _ = writeln!(
                    o,
                    "{name:<w$} {:>9} {:>8}   {open} connections held open, {failed} connection attempts refused",
                    "-", "-"
                );
                continue;
            }
            let _ = writeln!(
                o,
                "{name:<w$} {:>9} {:>8.2} {:>9} {:>9} {:>9} {:>7}{}",
                num(c.throughput_rps),
                c.error_rate * 100.0,
                num(c.latency_ms.mean),
                num(c.latency_ms.p50),
                num(c.latency_ms.p99),
                thousands(c.stale_reads),
                survivorship(c.error_rate)
            );
        }
    } else if let Some(c) = r.classes.values().next().filter(|c| c.stale_reads > 0) {
        let _ = writeln!(o, "stale reads {}", thousands(c.stale_reads));
    }
    time_split(&mut o, r);
    failures(&mut o, r);
    retries(&mut o, r);
    hedges(&mut o, r);
    headroom(&mut o, r);
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
    breakers(&mut o, r);
    let c = &r.cost;
    let lines: Vec<String> =
        c.by_component.iter().filter(|(_, v)| **v > 0.0).map(|(k, v)| format!("{k} ${}", num(*v))).collect();
    let served_per_month = r.throughput_rps * sim_core::model::cost::MONTH_SECONDS / 1e6;
    let per_served =
        if served_per_month > 0.0 { format!("${}", num(c.total_usd_month / served_per_month)) } else { "-".into() };
    let _ = writeln!(
        o,
        "cost        ${}/month ({})   {per_served} per million served requests",
        num(c.total_usd_month),
        lines.join(", "),
    );
    if let Some(wasted) = c.wasted_usd_month.filter(|&w| w >= 0.5) {
        let by: Vec<String> = (c.wasted_by_component.iter())
            .filter(|(_, v)| **v >= 0.5)
            .map(|(k, v)| format!("{k} ${}", num(*v)))
            .collect();
        let _ = writeln!(
            o,
            "            ${} of it paid for work whose callers had given up ({})",
            num(wasted),
            by.join(", ")
        );
    }
    let _ = writeln!(
        o,
        "revenue     break even at {} paying users at $1/month or {} at $10; under 20% of revenue: {} or {}",
        thousands(c.break_even_users.usd_1 as u64),
        thousands(c.break_even_users.usd_10 as u64),
        thousands(c.paying_users_needed.usd_1 as u64),
        thousands(c.paying_users_needed.usd_10 as u64)
    );
    let _ = writeln!(o, "\ncomponent    kind            util   queue mean  queue max  details");
    let mut names: Vec<&String> = r.components.keys().collect();
    names.sort_by_key(|n| natural(n));
    for name in names {
        let c = &r.components[name];
        let util = c.utilization.map(|u| format!("{:.1}%", u * 100.0)).unwrap_or_else(|| "-".into());
        let qmean = c.queue_mean.map(num).unwrap_or_else(|| "-".into());
        let qmax = c.queue_max.map(thousands).unwrap_or_else(|| "-".into());
        let _ = writeln!(o, "{name:<12} {:<14} {util:>6} {qmean:>11} {qmax:>10}  {}", c.kind(), details(c));
    }
    o
}

/// Each circuit breaker: time in each state, calls failed fast, and its state changes.
fn breakers(o: &mut String, r: &Report) {
    /// Changes listed per breaker; the rest are counted.
    const SHOWN: usize = 8;
    for b in &r.breakers {
        let _ = writeln!(
            o,
            "breaker     {} -> {}: {}, opened {}x; open {} s, half-open {} s, closed {} s; {} calls failed fast",
            b.caller,
            b.callee,
            b.state.replace('_', "-"),
            b.opened,
            num(b.open_s),
            num(b.half_open_s),
            num(b.closed_s),
            thousands(b.failed_fast)
        );
        let change = |t: &sim_core::report::BreakerTransition| format!("{} s {}", num(t.at_s), t.to.replace('_', "-"));
        let all = &b.transitions;
        let line = if all.len() <= SHOWN {
            all.iter().map(change).collect::<Vec<_>>().join(", ")
        } else {
            // The first changes and the last ones (how it ended), the middle counted.
            let (head, tail) = (&all[..SHOWN - 3], &all[all.len() - 3..]);
            let middle = all.len() - SHOWN + b.transitions_dropped as usize;
            let (head, tail): (Vec<_>, Vec<_>) = (head.iter().map(change).collect(), tail.iter().map(change).collect());
            format!("{}, ... {middle} more ..., {}", head.join(", "), tail.join(", "))
        };
        if !line.is_empty() {
            let _ = writeln!(o, "            {line}");
        }
    }
}

/// "(successful only)" beside a latency figure when many requests failed: the failed
/// ones are not in it, so it flatters the run (survivorship).
fn survivorship(error_rate: f64) -> String {
    if error_rate >= 0.05 { format!("   (successful only: {:.0}% failed)", error_rate * 100.0) } else { String::new() }
}

/// A name's sort key with its digit runs as numbers: web-2 before web-10.
pub fn natural(name: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut n = c.to_digit(10).map_or(0, u64::from);
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n.saturating_mul(10).saturating_add(u64::from(d));
                chars.next();
            }
            out.push((std::mem::take(&mut text), n));
        } else {
            text.push(c);
        }
    }
    out.push((text, 0));
    out
}

/// Where each class's time goes: ms per request by service and phase, for the mean and
/// for the slowest requests (from the p99 up).
fn time_split(o: &mut String, r: &Report) {
    let w = r.classes.keys().map(String::len).max().unwrap_or(0).max(5);
    let sw =
        r.classes.values().flat_map(|c| c.time_split.mean.iter().map(|h| h.service.len())).max().unwrap_or(0).max(7);
    let _ = writeln!(o, "\nwhere the time goes (ms per successful request; tail: the requests from the p99 up)");
    let _ = writeln!(
        o,
        "{:<w$} {:<sw$} {:>9} {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9} {:>9}",
        "class", "service", "network", "queue", "service", "total", "network", "queue", "service", "total"
    );
    for (name, c) in &r.classes {
        if c.requests.completed == 0 {
            continue;
        }
        let tail = &c.time_split.tail;
        for (i, h) in c.time_split.mean.iter().enumerate() {
            let t = tail.hops.get(i);
            let cell = |v: Option<f64>| v.map_or("-".into(), num);
            let _ = writeln!(
                o,
                "{:<w$} {:<sw$} {:>9} {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9} {:>9}",
                if i == 0 { name.as_str() } else { "" },
                h.service,
                num(h.network_ms),
                num(h.queue_ms),
                num(h.service_ms),
                num(h.total_ms),
                cell(t.map(|t| t.network_ms)),
                cell(t.map(|t| t.queue_ms)),
                cell(t.map(|t| t.service_ms)),
                cell(t.map(|t| t.total_ms)),
            );
        }
        let sum: f64 = c.time_split.mean.iter().map(|h| h.total_ms).sum();
        let _ = writeln!(
            o,
            "{:<w$} {:<sw$} {:>9} {:>9} {:>9} {:>9} | {:>29} {:>9}",
            "",
            "= mean",
            "",
            "",
            "",
            num(sum),
            format!("{} requests from {} ms", thousands(tail.requests), num(tail.from_ms)),
            num(tail.mean_ms)
        );
    }
}

/// What each retrying class's retries did: attempts, budget refusals, amplification.
fn retries(o: &mut String, r: &Report) {
    for (name, c) in &r.classes {
        let Some(x) = &c.retry else { continue };
        let _ = writeln!(
            o,
            "retries     {name}: {} attempts, {} retries, {} refused by the budget, {:.2} calls per request",
            thousands(x.attempts),
            thousands(x.retries),
            thousands(x.refused_by_budget),
            x.amplification
        );
    }
}

/// What each hedging class's copies did: sent, won, the extra load on its callees.
fn hedges(o: &mut String, r: &Report) {
    for (name, c) in &r.classes {
        let Some(h) = &c.hedge else { continue };
        let _ = writeln!(
            o,
            "hedges      {name} to {}: {} copies for {} calls, {} answered first, {:.3} calls per call",
            h.hops.join(", "),
            thousands(h.sent),
            thousands(h.calls),
            thousands(h.won),
            h.extra_load
        );
    }
}

/// Every class's failures by reason and where they arose.
fn failures(o: &mut String, r: &Report) {
    if r.requests.failed == 0 {
        return;
    }
    let w = r.classes.keys().map(String::len).max().unwrap_or(0).max(5);
    let _ = writeln!(o, "\nfailures (whole run, by where they arose)");
    for (name, c) in &r.classes {
        for (i, f) in c.failures.iter().enumerate() {
            let what = sim_core::report::explain::describe_failure(f.reason, &f.at, f.detail);
            let _ = writeln!(o, "{:<w$} {:>10}  {what}", if i == 0 { name.as_str() } else { "" }, thousands(f.count));
        }
    }
}

/// Each measured service's load by the utilization law, its headroom, and the bounds.
fn headroom(o: &mut String, r: &Report) {
    let e = &r.explain;
    if e.services.is_empty() {
        return;
    }
    let w = e.services.iter().map(|s| s.service.len()).max().unwrap_or(0).max(7);
    let _ = writeln!(
        o,
        "\n{:<w$} {:<14} {:>5} {:>7} {:>8} {:>9} {:>13} {:>12}",
        "service", "kind", "inst", "util", "offered", "rejected", "saturates at", "inst for 70%"
    );
    for s in &e.services {
        let offered = s.offered_utilization.map_or("-".into(), |u| format!("{:.1}%", u * 100.0));
        let mark = if e.bottleneck.as_ref().is_some_and(|b| b.service == s.service) {
            "  <- bottleneck"
        } else if e.next_wall.as_ref().is_some_and(|b| b.service == s.service) {
            "  <- next wall"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "{:<w$} {:<14} {:>5} {:>6.1}% {:>8} {:>9} {:>12}x {:>12}{mark}",
            s.service,
            s.kind,
            s.instances,
            s.utilization * 100.0,
            offered,
            thousands(s.rejected),
            num(s.saturates_at_load),
            s.instances_for_target
        );
    }
    let b = &e.bounds;
    let mut line =
        format!("bounds      throughput <= {} req/s (1 / D_max, set by {})", num(b.throughput_max_rps), b.limited_by);
    if let Some(n) = b.users_saturating {
        line += &format!("; saturated beyond N* = {} users ((D + Z) / D_max)", num(n));
    }
    let _ = writeln!(o, "{line}");
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
    fn names_sort_with_their_numbers() {
        let mut v = vec!["web-10", "web-2", "db", "web-1", "web-2a"];
        v.sort_by_key(|n| natural(n));
        assert_eq!(v, ["db", "web-1", "web-2", "web-2a", "web-10"]);
    }

    #[test]
    fn wrap_keeps_lines_short() {
        let w = wrap("aaa bbb ccc ddd", 7, "> ");
        assert_eq!(w, "> aaa bbb\n> ccc ddd\n");
    }
}
