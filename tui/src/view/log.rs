//! The log of notable moments (faults, failovers, health checks, your actions) and the
//! event inspector (every event processed, in words), both scrolled back from the newest
//! line and filtered by what was typed after `/`.

use super::{Palette, fit};
use crate::app::App;
use crate::snapshot::{LogKind, Snapshot};
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// The last `room` of `lines` before `scroll` lines back, and a title saying what is cut.
fn tail(mut lines: Vec<Line<'static>>, room: usize, scroll: usize) -> (Vec<Line<'static>>, String) {
    let total = lines.len();
    let scroll = scroll.min(total.saturating_sub(room));
    let end = total - scroll;
    let start = end.saturating_sub(room);
    let cut = match (start, scroll) {
        (0, 0) => String::new(),
        (a, 0) => format!(" · {a} earlier (↑ scrolls back)"),
        (a, b) => format!(" · {a} earlier, {b} newer (↓)"),
    };
    lines.truncate(end);
    (lines.split_off(start), cut)
}

fn matches(filter: &str, fields: &[Option<&str>]) -> bool {
    let f = filter.to_lowercase();
    f.is_empty() || fields.iter().flatten().any(|x| x.to_lowercase().contains(&f))
}

pub fn notes(app: &App, s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let room = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = s
        .log
        .iter()
        .filter(|l| matches(&app.filter, &[Some(&l.text)]))
        .map(|l| {
            let color = match l.kind {
                LogKind::Fault | LogKind::Failed => Color::Red,
                LogKind::Alarm => Color::Yellow,
                LogKind::Recovery => Color::Green,
                LogKind::Info => Color::Reset,
            };
            let t = l.t.as_nanos() as f64 / 1e9;
            Line::styled(fit(&format!("{t:>8.3}s {}", l.text), width), p.fg(color))
        })
        .collect();
    let empty = lines.is_empty();
    let (mut body, cut) = tail(lines, room, app.scroll);
    if empty {
        body = vec![Line::styled("nothing notable yet: faults, failovers and health checks show here", p.dim())];
    }
    let filter = if app.filter.is_empty() { String::new() } else { format!(" · filter `{}`", app.filter) };
    Paragraph::new(body).block(Block::bordered().title(format!(" log of notable moments{cut}{filter} ")))
}

pub fn inspector(app: &App, s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let room = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = s
        .recent
        .iter()
        .filter(|e| matches(&app.filter, &[e.component.as_deref(), e.class.as_deref(), Some(&e.text)]))
        .map(|e| {
            let t = e.t.as_nanos() as f64 / 1e9;
            Line::raw(fit(&format!("{t:>10.6}s #{:<9} {}", e.seq, e.text), width))
        })
        .collect();
    let empty = lines.is_empty();
    let (mut body, cut) = tail(lines, room, app.scroll);
    if empty {
        let why = if s.recent.is_empty() { "no event yet: press . to step one" } else { "no event matches the filter" };
        body = vec![Line::styled(why, p.dim())];
    }
    let filter = if app.filter.is_empty() {
        " · / filters by component or class".to_string()
    } else {
        format!(" · filter `{}`", app.filter)
    };
    Paragraph::new(body).block(Block::bordered().title(format!(" last {} events{cut}{filter} ", s.recent.len())))
}
