//! The bottom box: the guided step in force (what is happening, what to watch, what to
//! try), or the scenario's lesson when it has no step yet.

use super::Palette;
use crate::snapshot::Snapshot;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

pub fn lesson_or_step(s: &Snapshot, p: Palette) -> Paragraph<'static> {
    if let Some(step) = &s.step {
        let mut lines = vec![Line::raw(step.text.split_whitespace().collect::<Vec<_>>().join(" "))];
        if !step.watch.is_empty() {
            lines.push(Line::styled(format!("Watch: {}", step.watch.join(" · ")), p.bold()));
        }
        if let Some(key) = &step.key {
            lines.push(Line::styled(format!("Try: press {key}"), p.bold()));
        }
        let title = format!(
            " step {} of {} at {:.1} s · paused: space plays on · l: whole lesson ",
            step.index,
            step.of,
            step.at.as_nanos() as f64 / 1e9
        );
        return Paragraph::new(lines).wrap(Wrap { trim: true }).block(Block::bordered().title(title));
    }
    let mut lines = vec![Line::styled(s.title.clone(), p.bold())];
    lines.extend(s.lesson.split("\n\n").map(|para| Line::raw(para.split_whitespace().collect::<Vec<_>>().join(" "))));
    if !s.watch.is_empty() {
        lines.push(Line::styled("Watch:", p.bold()));
        lines.extend(s.watch.iter().map(|w| Line::raw(format!("• {w}"))));
    }
    Paragraph::new(lines).wrap(Wrap { trim: true }).block(Block::bordered().title(" lesson (l: all of it) "))
}
