//! The bottom box: the guided step in force (what is happening, what to watch, what to
//! try), or the scenario's lesson when it has no step yet.

use super::Palette;
use crate::snapshot::{Snapshot, StepView};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

/// `text` wrapped at word boundaries to `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

fn step_lines(step: &StepView, width: usize) -> Vec<String> {
    let mut lines = wrap(&step.text, width.max(1));
    if !step.watch.is_empty() {
        lines.extend(wrap(&format!("Watch: {}", step.watch.join(" · ")), width.max(1)));
    }
    if let Some(key) = &step.key {
        lines.push(format!("Try: press {key}"));
    }
    lines
}

/// The lines a step takes in a box `width` columns wide, inside.
pub fn lines_needed(step: &StepView, width: u16) -> u16 {
    step_lines(step, width.saturating_sub(2) as usize).len() as u16
}

pub fn lesson_or_step(s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    if let Some(step) = &s.step {
        let room = area.height.saturating_sub(2) as usize;
        let mut lines = step_lines(step, area.width.saturating_sub(2) as usize);
        // Cut: the last line says so, and `l` shows the step whole.
        if lines.len() > room && room > 0 {
            lines.truncate(room);
            lines[room - 1] = "… (l shows the whole step)".into();
        }
        let state = if s.playing { "" } else { " · paused: space plays on" };
        let title = format!(
            " step {} of {} at {:.1} s{state} · l: all of it ",
            step.index,
            step.of,
            step.at.as_nanos() as f64 / 1e9
        );
        let lines: Vec<Line> = lines
            .into_iter()
            .map(|l| {
                if l.starts_with("Watch:") || l.starts_with("Try:") { Line::styled(l, p.bold()) } else { Line::raw(l) }
            })
            .collect();
        return Paragraph::new(lines).block(Block::bordered().title(title));
    }
    let mut lines = vec![Line::styled(s.title.clone(), p.bold())];
    lines.extend(s.lesson.split("\n\n").map(|para| Line::raw(para.split_whitespace().collect::<Vec<_>>().join(" "))));
    if !s.watch.is_empty() {
        lines.push(Line::styled("Watch:", p.bold()));
        lines.extend(s.watch.iter().map(|w| Line::raw(format!("• {w}"))));
    }
    Paragraph::new(lines).wrap(Wrap { trim: true }).block(Block::bordered().title(" lesson (l: all of it) "))
}
