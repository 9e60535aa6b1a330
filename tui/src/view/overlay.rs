//! Boxes drawn over a screen: help (from the keymap table), the fault menu, the path
//! prompt, the whole lesson.

use super::{Palette, fit};
use crate::app::App;
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
        lines.push(Line::raw(fit(&format!("{:<7} {}", b.label, b.help), width)));
    }
    lines
}

pub fn help(app: &App, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let r = centred(area, area.width.min(78), area.height);
    frame.render_widget(Clear, r);
    let block = Block::bordered().title(" keys (esc closes) ");
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    let w = left.width as usize;
    frame.render_widget(Paragraph::new(section(p, "Main screen", Context::Main, w)), left);
    let mut lines = section(p, "Scenario picker", Context::Picker, w);
    lines.extend(section(p, "Menus", Context::Menu, w));
    lines.extend(section(p, "Everywhere", Context::Global, w));
    lines.push(Line::styled("Symbols", p.bold()));
    for l in ["● up  ◐ busy ≥70%  ◉ saturated ≥95%", "~ slow  ▽ marked down  ✖ crashed", "A B: sides of a partition"]
    {
        lines.push(Line::raw(fit(l, w)));
    }
    frame.render_widget(Paragraph::new(lines), right);
}

pub fn faults(app: &App, selected: usize, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let items = app.menu();
    let r = centred(area, 64, (items.len() as u16 + 2).clamp(3, area.height.saturating_sub(4).max(3)));
    frame.render_widget(Clear, r);
    let room = r.height.saturating_sub(2) as usize;
    let offset = selected.saturating_sub(room.saturating_sub(1));
    let w = r.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = items
        .iter()
        .enumerate()
        .skip(offset)
        .take(room)
        .map(|(i, item)| {
            if i == selected {
                Line::styled(fit(&format!("› {}", item.label()), w), p.selected())
            } else {
                Line::raw(fit(&format!("  {}", item.label()), w))
            }
        })
        .collect();
    let body = if lines.is_empty() { vec![Line::raw("nothing to inject yet")] } else { lines };
    let title = format!(" inject at the next millisecond ({} of {}) ", selected + 1, items.len());
    frame.render_widget(Paragraph::new(body).block(Block::bordered().title(title)), r);
}

pub fn path(app: &App, input: &str, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let r = centred(area, 70, 4);
    frame.render_widget(Clear, r);
    let w = r.width.saturating_sub(4) as usize;
    let shown: String = input.chars().rev().take(w).collect::<Vec<_>>().into_iter().rev().collect();
    let lines = vec![Line::raw(format!("{shown}█")), Line::styled("enter opens · esc cancels", p.dim())];
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(" open a scenario file ")), r);
}

pub fn lesson(app: &App, s: &Snapshot, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let r = centred(area, area.width.saturating_sub(4), area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let mut lines = vec![Line::styled(s.title.clone(), p.bold()), Line::raw("")];
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
