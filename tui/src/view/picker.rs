//! The scenario picker: the library grouped, the selected scenario's title and lesson.

use super::{Palette, fit};
use crate::app::App;
use crate::catalogue::heading;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let [body, hint] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let [list_area, preview] = Layout::horizontal([Constraint::Length(34), Constraint::Min(1)]).areas(body);

    // Headings and entries as lines; the selected one kept in view.
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_line = 0;
    let mut group = "";
    let width = list_area.width.saturating_sub(2) as usize;
    for (i, e) in app.catalogue.iter().enumerate() {
        if e.group != group {
            group = &e.group;
            if !lines.is_empty() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(fit(heading(group), width), p.bold()));
        }
        if i == app.selected {
            selected_line = lines.len();
            lines.push(Line::styled(fit(&format!("› {}", e.name), width), p.selected()));
        } else {
            lines.push(Line::raw(fit(&format!("  {}", e.name), width)));
        }
    }
    let height = list_area.height.saturating_sub(2) as usize;
    let offset = selected_line.saturating_sub(height.saturating_sub(2));
    let list = Paragraph::new(lines).scroll((offset as u16, 0)).block(Block::bordered().title(" scenarios "));
    frame.render_widget(list, list_area);

    let mut text: Vec<Line> = Vec::new();
    if let Some(e) = app.catalogue.get(app.selected) {
        text.push(Line::styled(e.title.clone(), p.bold()));
        text.push(Line::styled(format!("{} · scalelab tui {}", heading(&e.group), e.name), p.dim()));
        text.push(Line::raw(""));
        for para in e.lesson.split("\n\n") {
            text.push(Line::raw(para.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
    }
    let mut title = " lesson preview ";
    if let Some(m) = app.message.as_deref().filter(|m| m.contains('\n')) {
        // A scenario file that did not parse: its located errors, in full.
        title = " could not open ";
        text = m.lines().map(|l| Line::styled(l.to_string(), p.fg(Color::Red))).collect();
    }
    let preview_widget = Paragraph::new(text).wrap(Wrap { trim: false }).block(Block::bordered().title(title));
    frame.render_widget(preview_widget, preview);

    let line = match &app.message {
        Some(m) if !m.is_empty() && !m.contains('\n') => {
            Line::from(Span::styled(fit(m, area.width as usize), p.fg(Color::Red)))
        }
        _ => Line::styled(" ↑↓ choose · enter open · p open a file by path · ? help · q quit", p.dim()),
    };
    frame.render_widget(Paragraph::new(line), hint);
}
