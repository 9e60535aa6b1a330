//! The components panel (every instance, selectable, scrolling, "N more" when cut) and
//! one instance's detail: its figures, its sparkline, what it calls, its failures.

use super::main_screen::{health_color, spark};
use super::{Palette, fit};
use crate::app::App;
use crate::snapshot::Snapshot;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use sim_core::world::breaker::BreakerState;

pub fn table(app: &App, s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let name_w = s
        .services
        .iter()
        .flat_map(|svc| svc.instances.iter().map(|i| i.name.chars().count()))
        .max()
        .unwrap_or(8)
        .clamp(8, 18)
        + 1;
    let header =
        format!("{:<w$}{:<13}{:>5}{:>7}  {}", " instance", "state", "util", "wait", "its own figure", w = name_w + 1);
    let mut lines = vec![Line::styled(fit(&header, width), p.bold())];
    let pct = |x: Option<f64>| x.map_or("—".to_string(), |u| format!("{:.0}%", 100.0 * u));
    let num =
        |x: Option<f64>| x.map_or("—".to_string(), |w| if w >= 100.0 { format!("{w:.0}") } else { format!("{w:.1}") });
    let rows = app.rows();
    // The box's inside less the header.
    let room = (area.height.saturating_sub(3) as usize).max(1);
    let (first, end) = super::window(rows.len(), room, app.cursor);
    if first > 0 {
        lines.push(Line::styled(format!("  ↑ {first} more"), p.dim()));
    }
    for (n, &(k, j)) in rows.iter().enumerate().take(end).skip(first) {
        let i = &s.services[k].instances[j];
        let side = if i.side > 0 { format!("side {}", char::from(b'A' + i.side - 1)) } else { String::new() };
        let note =
            [i.note.as_str(), side.as_str()].iter().filter(|x| !x.is_empty()).copied().collect::<Vec<_>>().join(" · ");
        let marker = if n == app.cursor { "›" } else { " " };
        let text = format!(
            "{marker}{:<w$}{:<13}{:>5}{:>7}  {note}",
            fit(&i.name, name_w - 1),
            format!("{} {}", i.health.symbol(), i.health.word()),
            pct(i.util),
            num(i.waiting),
            w = name_w
        );
        let style = if n == app.cursor { p.selected() } else { p.fg(health_color(i.health)) };
        lines.push(Line::styled(fit(&text, width), style));
    }
    if end < rows.len() {
        lines.push(Line::styled(format!("  ↓ {} more · ↑↓ scroll · / filter", rows.len() - end), p.dim()));
    }
    if rows.is_empty() {
        lines.push(Line::styled(format!("no instance matches `{}` (esc clears)", app.filter), p.dim()));
    }
    let filter = if app.filter.is_empty() { String::new() } else { format!(" · filter `{}`", app.filter) };
    let title = if s.now < s.warmup_end {
        format!(" components (warm-up: load from {:.0} s){filter} ", s.warmup_end.as_nanos() as f64 / 1e9)
    } else {
        format!(
            " components {}/{} · util, wait: last simulated second · enter: detail{filter} ",
            (app.cursor + 1).min(rows.len()),
            rows.len()
        )
    };
    Paragraph::new(lines).block(Block::bordered().title(title))
}

/// A box of `w`×`h` centred in `area` (shrunk to fit).
pub fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// Everything about one instance, live: state, load, its service's calls, failures at
/// its service, its utilization over time and every figure of its report.
pub fn detail(app: &App, s: &Snapshot, instance: &str, scroll: usize, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let r = centred(area, area.width.saturating_sub(4).min(110), area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let w = r.width.saturating_sub(2) as usize;
    let found = s.services.iter().find_map(|svc| svc.instances.iter().find(|i| i.name == instance).map(|i| (svc, i)));
    let Some((svc, i)) = found else {
        let block = Block::bordered().title(format!(" {instance} "));
        frame.render_widget(Paragraph::new("no longer in this run").block(block), r);
        return;
    };
    let pct = |x: Option<f64>| x.map_or("—".to_string(), |u| format!("{:.0}%", 100.0 * u));
    let mut lines: Vec<Line> = vec![
        Line::from(vec![
            Span::styled(format!("{} {}", i.health.symbol(), i.health.word()), p.fg(health_color(i.health))),
            Span::raw(format!(
                " · {} of service `{}` ({} instance{}) · {}",
                svc.kind,
                svc.name,
                svc.instances.len(),
                if svc.instances.len() == 1 { "" } else { "s" },
                if i.side > 0 { format!("partition side {}", char::from(b'A' + i.side - 1)) } else { "no cut".into() }
            )),
        ]),
        Line::raw(fit(
            &format!(
                "last simulated second: utilization {}, waiting {} · {}",
                pct(i.util),
                i.waiting.map_or("—".into(), |x| format!("{x:.2} requests")),
                if i.note.is_empty() { "—".to_string() } else { i.note.clone() }
            ),
            w,
        )),
        Line::raw(fit(
            &format!(
                "service `{}`: {} · calls {}",
                svc.name,
                if svc.detail.is_empty() { "—" } else { &svc.detail },
                if svc.calls.is_empty() { "nothing".to_string() } else { svc.calls.join(", ") }
            ),
            w,
        )),
        Line::from(vec![
            Span::styled("utilization per second ", p.dim()),
            Span::styled(spark(&i.util_history, w.saturating_sub(32)), p.fg(Color::Cyan)),
            Span::styled(
                format!(
                    " max {}",
                    pct(i
                        .util_history
                        .iter()
                        .map(|x| x.1)
                        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v)))))
                ),
                p.dim(),
            ),
        ]),
    ];
    let failures: Vec<String> = s
        .insight
        .iter()
        .flat_map(|ins| ins.failures.iter().filter(|f| f.at == svc.name))
        .map(|f| {
            let detail = if f.detail.is_empty() { String::new() } else { format!(" ({})", f.detail) };
            format!("{:>9} {}{detail}", super::thousands(f.count), f.reason)
        })
        .collect();
    if !i.breakers.is_empty() {
        lines.push(Line::styled("circuit breakers (its own, per service it calls):", p.bold()));
    }
    for b in &i.breakers {
        let (word, colour) = match b.state {
            BreakerState::Open => ("⚡ open", Color::Red),
            BreakerState::HalfOpen => ("half-open", Color::Yellow),
            BreakerState::Closed => ("closed", Color::Reset),
        };
        let style = if b.state == BreakerState::Closed { p.dim() } else { p.fg(colour) };
        lines.push(Line::from(vec![
            Span::raw(format!("  → {:<16} ", fit(&b.to, 16))),
            Span::styled(format!("{word:<10}"), style),
            Span::raw(fit(
                &format!(" opened {}x · {} calls failed fast", b.opened, super::thousands(b.failed_fast)),
                w.saturating_sub(30),
            )),
        ]));
    }
    lines.push(Line::styled(format!("failures that arose at `{}` (every class, whole run):", svc.name), p.bold()));
    if failures.is_empty() {
        lines.push(Line::styled("  none", p.dim()));
    }
    lines.extend(failures.into_iter().map(|f| Line::raw(fit(&f, w))));
    lines.push(Line::styled("its report (window since warm-up; cumulative counts; names say their units):", p.bold()));
    // Figures in two columns when there is room.
    let cols = if w >= 80 { 2 } else { 1 };
    let cell = w / cols;
    let cells: Vec<String> =
        i.figures.iter().map(|(k, v)| fit(&format!("{:<28} {v}", fit(k, 28)), cell.saturating_sub(1))).collect();
    for chunk in cells.chunks(cols) {
        lines.push(Line::raw(chunk.iter().map(|c| format!("{c:<cell$}")).collect::<String>()));
    }
    let room = r.height.saturating_sub(2) as usize;
    let scroll = scroll.min(lines.len().saturating_sub(room));
    let below = lines.len().saturating_sub(scroll + room);
    let mut shown: Vec<Line> = lines.into_iter().skip(scroll).take(room).collect();
    if below > 0 && !shown.is_empty() {
        shown.pop();
        shown.push(Line::styled(format!("↓ {} more lines (↑↓ scroll)", below + 1), p.dim()));
    }
    let title = format!(" {} · esc or q closes ", i.name);
    frame.render_widget(Paragraph::new(shown).block(Block::bordered().title(title)), r);
}
