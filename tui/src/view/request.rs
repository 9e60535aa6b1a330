//! A followed request as a waterfall, the way a distributed-tracing viewer draws one: a
//! row per span (a hop and what it did there), indented under the call that made it, a
//! bar over the request's time, and its network, queueing and service time.

use super::{Palette, fit};
use crate::app::App;
use crate::snapshot::Snapshot;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

fn ms(ns: u64) -> String {
    let ms = ns as f64 / 1e6;
    if ms >= 100.0 { format!("{ms:.0}") } else { format!("{ms:.2}") }
}

pub fn waterfall(app: &App, s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let room = area.height.saturating_sub(2) as usize;
    let Some(w) = &s.followed else {
        let text = match &s.following {
            Some(what) => format!("waiting for {what}: play (space) or step (.) until it is issued · T: another class"),
            None => "t follows the next request hop by hop; T the next of another class".to_string(),
        };
        return Paragraph::new(Line::styled(fit(&text, width), p.dim()))
            .block(Block::bordered().title(" followed request "));
    };
    let end = w.end.unwrap_or(s.now);
    let total = end.as_nanos().saturating_sub(w.start.as_nanos()).max(1);
    let status = match (&w.outcome, w.end) {
        (Some(o), Some(_)) => format!("{o} after {} ms", ms(total)),
        _ => format!("in flight, {} ms so far", ms(total)),
    };
    // Narrow boxes get narrower columns, so every figure and the bar still show.
    let (what_w, inst_w, num_w) = if width >= 100 { (24, 12, 8) } else { (17, 10, 7) };
    let header = format!(
        "{:<what_w$}{:<inst_w$}{:>num_w$}{:>num_w$}{:>num_w$}{:>num_w$}{:>num_w$}{:>num_w$}  timeline",
        "span", "instance", "start", "dur", "net", "queue", "svc", "calls"
    );
    let text_w = what_w + inst_w + 6 * num_w + 2;
    let bar_w = width.saturating_sub(text_w).max(8);
    let mut lines = vec![Line::styled(fit(&header, width), p.bold())];
    for row in &w.spans {
        let span = &row.span;
        let from = span.start.as_nanos().saturating_sub(w.start.as_nanos());
        let to = span.end.unwrap_or(s.now).as_nanos().saturating_sub(w.start.as_nanos());
        let col = |t: u64| ((t as f64 / total as f64) * bar_w as f64).round() as usize;
        let (a, b) = (col(from).min(bar_w), col(to).min(bar_w).max(col(from).min(bar_w) + 1).min(bar_w));
        let bar: String = (0..bar_w).map(|c| if c >= a && c < b { '█' } else { '·' }).collect();
        let what = format!("{}{}", "  ".repeat(row.depth), span.what);
        let dur = if span.end.is_some() { ms(to - from) } else { format!("{}…", ms(to - from)) };
        let text = format!(
            "{:<what_w$}{:<inst_w$}{:>num_w$}{:>num_w$}{:>num_w$}{:>num_w$}{:>num_w$}{:>num_w$}  ",
            fit(&what, what_w - 1),
            fit(&span.instance, inst_w - 1),
            ms(from),
            dur,
            ms(span.network_ns),
            ms(span.queue_ns),
            ms(span.service_ns),
            ms(span.calls_ns)
        );
        let failed = span.outcome.as_deref().is_some_and(|o| o != "ok");
        let color = if failed {
            Color::Red
        } else if span.end.is_none() {
            Color::Yellow
        } else {
            Color::Cyan
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{:<text_w$}", fit(&text, text_w))),
            Span::styled(bar, p.fg(color)),
        ]));
    }
    let scroll = app.scroll.min(lines.len().saturating_sub(room));
    let below = lines.len().saturating_sub(scroll + room);
    let mut shown: Vec<Line> = lines.into_iter().skip(scroll).take(room).collect();
    if below > 0 && !shown.is_empty() {
        shown.pop();
        shown.push(Line::styled(format!("↓ {} more spans (↓ scrolls)", below + 1), p.dim()));
    }
    let title = format!(" request #{} ({}) · {status} · ms (svc: in service) · t: follow the next ", w.id, w.class);
    Paragraph::new(shown).block(Block::bordered().title(title))
}
