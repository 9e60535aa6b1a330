//! Why the run goes as it does (the explanation engine's bottleneck, next wall, sentences
//! and failures by where they arose) and the consistency checker's verdict per data class.

use super::{Palette, fit, thousands};
use crate::app::App;
use crate::snapshot::Snapshot;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

/// Lines scrolled down by `scroll`, the last saying how many more there are below.
fn scrolled(lines: Vec<Line<'static>>, room: usize, scroll: usize, p: Palette) -> Vec<Line<'static>> {
    let scroll = scroll.min(lines.len().saturating_sub(room));
    let below = lines.len().saturating_sub(scroll + room);
    let mut shown: Vec<Line> = lines.into_iter().skip(scroll).take(room).collect();
    if below > 0 && !shown.is_empty() {
        shown.pop();
        shown.push(Line::styled(format!("↓ {} more lines (↓ scrolls)", below + 1), p.dim()));
    }
    shown
}

/// Wraps `text` to `width` columns as plain lines (so scrolling counts real lines).
fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if line.is_empty() && !out.is_empty() {
            line.push_str(indent);
        } else if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

pub fn why(app: &App, s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let room = area.height.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let Some(i) = &s.insight else {
        let text = format!(
            "the explanation covers the window after the warm-up: play or step past {:.0} s",
            s.warmup_end.as_nanos() as f64 / 1e9
        );
        return Paragraph::new(Line::styled(text, p.dim()))
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" why "));
    };
    match &i.bottleneck {
        Some(b) => {
            let text = format!("⚠ bottleneck: {} at {:.0}%: {}", b.service, 100.0 * b.utilization, b.evidence);
            lines.extend(
                wrap(&text, width, "  ").into_iter().map(|l| Line::styled(l, p.fg(Color::Red).patch(p.bold()))),
            );
        }
        None => lines.push(Line::styled("no bottleneck: no service is saturated or rejecting", p.fg(Color::Green))),
    }
    if let Some(n) = &i.next_wall {
        let text =
            format!("next wall as load grows: {} ({:.0}% busy): {}", n.service, 100.0 * n.utilization, n.evidence);
        lines.extend(wrap(&text, width, "  ").into_iter().map(Line::raw));
    }
    lines.push(Line::styled("what happened:", p.bold()));
    for sentence in &i.sentences {
        lines.extend(wrap(&format!("• {sentence}"), width, "  ").into_iter().map(Line::raw));
    }
    if !i.failures.is_empty() {
        lines.push(Line::styled("failures by reason and where they arose:", p.bold()));
        for f in &i.failures {
            let detail = if f.detail.is_empty() { String::new() } else { format!(" ({})", f.detail) };
            lines.push(Line::raw(fit(&format!("{:>10} {} at {}{detail}", thousands(f.count), f.reason, f.at), width)));
        }
    }
    let title = format!(" why, as of {:.0} s (the window since warm-up) ", i.as_of.as_nanos() as f64 / 1e9);
    Paragraph::new(scrolled(lines, room, app.scroll, p)).block(Block::bordered().title(title))
}

pub fn consistency(app: &App, s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let room = area.height.saturating_sub(2) as usize;
    let rows = s.insight.as_ref().map_or(&[][..], |i| &i.consistency[..]);
    if rows.is_empty() {
        let text = if s.checked_data {
            "play or step past the warm-up: the checker's verdict covers the window after it"
        } else {
            "this scenario checks no data class (a keyspace with check = true): open cap-exercise to see CP and AP side by side"
        };
        return Paragraph::new(Line::styled(text, p.dim()))
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" consistency "));
    }
    let header = format!(
        "{:<11}{:<3}{:>8}{:>8}{:>7}{:>5}{:>4}{:>9}{:>9}{:>11}",
        "data", "", "ops", "avail", "stale", "lost", "dup", "down ms", "diverged", "agreed ms"
    );
    let mut lines = vec![Line::styled(fit(&header, width), p.bold())];
    for r in rows {
        let bad = r.stale_reads + r.lost_writes + r.duplicates > 0;
        let text = format!(
            "{:<11}{:<3}{:>8}{:>7.2}%{:>7}{:>5}{:>4}{:>9.0}{:>9}{:>11}",
            fit(&r.data, 10),
            r.mode.get(..2).unwrap_or(&r.mode),
            thousands(r.operations),
            100.0 * r.availability,
            thousands(r.stale_reads),
            thousands(r.lost_writes),
            thousands(r.duplicates),
            r.unavailable_ms,
            r.divergent_keys.map_or("—".into(), thousands),
            r.convergence_ms.map_or("—".into(), |c| format!("{c:.0}")),
        );
        let style = if bad {
            p.fg(Color::Yellow)
        } else if r.availability < 1.0 {
            p.fg(Color::Red)
        } else {
            p.fg(Color::Green)
        };
        lines.push(Line::styled(fit(&text, width), style));
    }
    lines.push(Line::styled(
        fit("CP refuses what it cannot make consistent (avail < 100%); AP answers and may be stale or diverge.", width),
        p.dim(),
    ));
    for r in rows {
        lines.push(Line::styled(fit(&format!("{} in `{}`: {}", r.data, r.store, r.mode), width), p.dim()));
    }
    for r in rows {
        if let Some(e) = &r.example {
            lines.push(Line::raw(fit(&format!("{}: {e}", r.data), width)));
        }
    }
    if let Some(lost) = s.insight.as_ref().and_then(|i| i.messages_lost) {
        lines.push(Line::raw(fit(&format!("messages lost at the cut so far: {}", thousands(lost)), width)));
    }
    let as_of = s.insight.as_ref().map_or(0.0, |i| i.as_of.as_nanos() as f64 / 1e9);
    let title = format!(" consistency per data class, checked, as of {as_of:.0} s ");
    Paragraph::new(scrolled(lines, room, app.scroll, p)).block(Block::bordered().title(title))
}
