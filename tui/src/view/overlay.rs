//! Boxes drawn over a screen: help (from the keymap table), the fault menu, the path
//! prompt, the whole lesson.

use super::{Palette, fit};
use crate::app::{App, Leave};
use crate::keymap::{BINDINGS, Context};
use crate::snapshot::Snapshot;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// A box of `w`×`h` centred in `area` (shrunk to fit).
fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

fn section(p: Palette, title: &str, ctx: Context, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(title.to_string(), p.bold())];
    for b in BINDINGS.iter().filter(|b| b.context == ctx) {
        lines.push(Line::raw(fit(&format!("{:<7} {}", b.label, b.help), width.saturating_sub(1))));
    }
    lines
}

pub fn help(app: &App, scroll: usize, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let r = centred(area, area.width.min(100), area.height);
    frame.render_widget(Clear, r);
    let inner_w = r.width.saturating_sub(2) as usize;
    let w = inner_w / 2;
    let mut left = section(p, "Main screen", Context::Main, w);
    let mut right = section(p, "Scenario picker", Context::Picker, w);
    right.extend(section(p, "Menus and the detail", Context::Menu, w));
    right.extend(section(p, "Partition builder", Context::Partition, w));
    right.extend(section(p, "Everywhere", Context::Global, w));
    right.push(Line::styled("Symbols", p.bold()));
    for l in [
        "● up  ◐ busy ≥70%  ◉ saturated ≥95%",
        "~ slow  ▽ marked down  ✖ crashed",
        "A B: sides of a partition · ⚠ bottleneck",
        "charts: ✖ crash ✂ cut ~ slow ▲ surge ✚ heal",
    ] {
        right.push(Line::raw(fit(l, w)));
    }
    // Two columns, scrolled together; the last line says what is cut below.
    let rows = left.len().max(right.len());
    left.resize(rows, Line::raw(""));
    right.resize(rows, Line::raw(""));
    let room = r.height.saturating_sub(2) as usize;
    let scroll = scroll.min(rows.saturating_sub(room));
    let below = rows.saturating_sub(scroll + room);
    let take = if below > 0 { room.saturating_sub(1) } else { room };
    let cut = |v: Vec<Line<'static>>| -> Vec<Line<'static>> { v.into_iter().skip(scroll).take(take).collect() };
    let (mut l, r2) = (cut(left), cut(right));
    if below > 0 {
        l.push(Line::styled(format!("↓ {below} more lines (↑↓ scroll)"), p.dim()));
    }
    let block = Block::bordered().title(" keys (esc or ? closes) ");
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let [a, b] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    frame.render_widget(Paragraph::new(l), a);
    frame.render_widget(Paragraph::new(r2), b);
}

pub fn faults(app: &App, selected: usize, filter: &str, typing: bool, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let items = app.menu();
    let r = centred(area, 70, (items.len() as u16 + 3).clamp(4, area.height.saturating_sub(4).max(4)));
    frame.render_widget(Clear, r);
    let room = r.height.saturating_sub(3) as usize;
    let offset = selected.saturating_sub(room.saturating_sub(1));
    let w = r.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = vec![if typing || !filter.is_empty() {
        Line::styled(fit(&format!("filter: {filter}{}", if typing { "█" } else { "" }), w), p.bold())
    } else {
        Line::styled(fit("/ filters · ↑↓ choose · enter applies · esc or q closes", w), p.dim())
    }];
    lines.extend(items.iter().enumerate().skip(offset).take(room).map(|(i, item)| {
        if i == selected {
            Line::styled(fit(&format!("› {}", item.label()), w), p.selected())
        } else {
            Line::raw(fit(&format!("  {}", item.label()), w))
        }
    }));
    if items.is_empty() {
        lines.push(Line::raw(if filter.is_empty() { "nothing to inject yet" } else { "nothing matches the filter" }));
    }
    let more = items.len().saturating_sub(offset + room);
    let title = if more > 0 {
        format!(" inject at the next millisecond ({} of {}, {more} more ↓) ", selected + 1, items.len())
    } else {
        format!(" inject at the next millisecond ({} of {}) ", (selected + 1).min(items.len()), items.len())
    };
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), r);
}

/// The partition builder: every instance with its side, the keys that move it.
pub fn partition(app: &App, sides: &[u8], selected: usize, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let Some(s) = &app.snapshot else { return };
    let r = centred(area, 72, area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let w = r.width.saturating_sub(2) as usize;
    let room = r.height.saturating_sub(4) as usize;
    let count = |k: u8| sides.iter().filter(|&&x| x == k).count();
    let mut lines = vec![
        Line::styled(
            fit("a/b: this instance to side A/B · A/B: its whole service · x: neither (reaches both)", w),
            p.dim(),
        ),
        Line::styled(
            fit(
                &format!(
                    "side A: {} · side B: {} · neither: {} · enter cuts · esc cancels",
                    count(1),
                    count(2),
                    count(0)
                ),
                w,
            ),
            p.bold(),
        ),
    ];
    let offset = selected.saturating_sub(room.saturating_sub(1));
    for (k, ((name, down), side)) in s.instances.iter().zip(sides).enumerate().skip(offset).take(room) {
        let side = match side {
            1 => "A",
            2 => "B",
            _ => "·",
        };
        let text =
            format!("{} [{side}] {name}{}", if k == selected { "›" } else { " " }, if *down { " (down)" } else { "" });
        lines.push(if k == selected { Line::styled(fit(&text, w), p.selected()) } else { Line::raw(fit(&text, w)) });
    }
    let more = s.instances.len().saturating_sub(offset + room);
    let title =
        if more > 0 { format!(" build a partition ({more} more ↓) ") } else { " build a partition ".to_string() };
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), r);
}

/// The path prompt; after a failed open, the path as typed and the error in full, with
/// its file, line and column.
pub fn path(app: &App, input: &str, error: Option<&str>, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let error_lines: Vec<&str> = error.map_or(Vec::new(), |e| e.lines().collect());
    let h = (4 + error_lines.len() as u16 + u16::from(error.is_some())).min(area.height);
    let r = centred(area, area.width.saturating_sub(4).min(100), h);
    frame.render_widget(Clear, r);
    let w = r.width.saturating_sub(4) as usize;
    let shown: String = input.chars().rev().take(w).collect::<Vec<_>>().into_iter().rev().collect();
    let mut lines = Vec::new();
    if error.is_some() {
        lines.push(Line::styled("could not open it:", p.fg(ratatui::style::Color::Red)));
        lines.extend(error_lines.iter().map(|l| Line::raw(l.to_string())));
    }
    lines.push(Line::raw(format!("{shown}█")));
    lines.push(Line::styled("enter opens · esc cancels", p.dim()));
    let title = if error.is_some() {
        " open a scenario file: fix the path or the file, enter again "
    } else {
        " open a scenario file "
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title)), r);
}

/// Leaving would lose hand faults not yet saved.
pub fn confirm(app: &App, leave: &Leave, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let n = app.snapshot.as_ref().map_or(0, |s| s.unsaved);
    let r = centred(area, 70, 6);
    frame.render_widget(Clear, r);
    let what = match leave {
        Leave::Quit => "quit",
        Leave::Restart => "restart",
        Leave::NewSeed => "restart with a new seed",
        Leave::OpenPicker => "open another scenario",
    };
    let lines = vec![
        Line::raw(format!(
            "{n} fault{} or knob{} you made by hand {} not saved.",
            if n == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" }
        )),
        Line::styled(format!("w: save a seed file, then {what}"), p.bold()),
        Line::styled(format!("y: {what} without saving"), p.bold()),
        Line::styled("esc (any other key): stay", p.dim()),
    ];
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(format!(" {what}? "))), r);
}

pub fn lesson(app: &App, s: &Snapshot, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let r = centred(area, area.width.saturating_sub(4), area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let mut lines = Vec::new();
    // The guided step in force first, in full (the bottom box may cut it on a small terminal).
    if let Some(step) = &s.step {
        lines.push(Line::styled(format!("Step {} of {}", step.index, step.of), p.bold()));
        lines.push(Line::raw(step.text.split_whitespace().collect::<Vec<_>>().join(" ")));
        if !step.watch.is_empty() {
            lines.push(Line::raw(format!("Watch: {}", step.watch.join(" · "))));
        }
        if let Some(key) = &step.key {
            lines.push(Line::raw(format!("Try: press {key}")));
        }
        lines.push(Line::raw(""));
    }
    lines.extend([Line::styled(s.title.clone(), p.bold()), Line::raw("")]);
    // The file's line breaks are for the file; paragraphs wrap to the box.
    for para in s.lesson.split("\n\n") {
        lines.push(Line::raw(para.split_whitespace().collect::<Vec<_>>().join(" ")));
        lines.push(Line::raw(""));
    }
    if !s.watch.is_empty() {
        lines.push(Line::styled("Watch:", p.bold()));
        lines.extend(s.watch.iter().map(|w| Line::raw(format!("• {w}"))));
    }
    let block = Block::bordered().title(" lesson (l or esc closes) ");
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), r);
}
