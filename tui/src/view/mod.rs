//! Pure views: `draw(app, frame)` reads the app state and the latest snapshot and draws;
//! nothing here changes anything. Every symbol that carries meaning is readable without
//! colour; colour only repeats it.

mod components;
mod log;
mod main_screen;
mod overlay;
mod picker;
mod request;
mod steps;
mod why;

use crate::app::{App, Overlay, Screen};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Paragraph, Wrap};

/// The smallest terminal the screens are laid out for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn draw(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    match app.screen {
        Screen::Picker => picker::draw(app, frame, area),
        Screen::Main => match &app.snapshot {
            Some(s) => main_screen::draw(app, s, frame, area),
            None => picker::draw(app, frame, area),
        },
    }
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => overlay::help(app, *scroll, frame, area),
        Overlay::Faults { selected, filter, typing } => overlay::faults(app, *selected, filter, *typing, frame, area),
        Overlay::Partition { sides, selected } => overlay::partition(app, sides, *selected, frame, area),
        Overlay::Path { input, error } => overlay::path(app, input, error.as_deref(), frame, area),
        Overlay::Confirm(leave) => overlay::confirm(app, leave, frame, area),
        Overlay::Detail { instance, scroll } => {
            if let Some(s) = &app.snapshot {
                components::detail(app, s, instance, *scroll, frame, area)
            }
        }
        Overlay::Lesson => {
            if let Some(s) = &app.snapshot {
                overlay::lesson(app, s, frame, area)
            }
        }
    }
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = format!(
        "scalelab needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}. Enlarge it, or press q to quit.",
        area.width, area.height
    );
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).alignment(Alignment::Center), area);
}

/// Colours that vanish when the terminal (or `NO_COLOR`) has none.
#[derive(Clone, Copy)]
pub struct Palette {
    color: bool,
}

impl Palette {
    pub fn of(app: &App) -> Palette {
        Palette { color: app.color }
    }

    pub fn fg(self, c: Color) -> Style {
        if self.color { Style::default().fg(c) } else { Style::default() }
    }

    pub fn bold(self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    pub fn dim(self) -> Style {
        if self.color { Style::default().fg(Color::DarkGray) } else { Style::default() }
    }
}

pub use sim_core::report::thousands;

/// `text` cut to `width` characters, with an ellipsis if cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        out.push('…');
    }
    out
}

/// Which of `total` rows to show in `room` lines so that row `at` is among them: the
/// range `first..end`. A line saying how many are cut above takes the first line when
/// `first > 0`, one saying how many below the last when `end < total`.
pub fn window(total: usize, room: usize, at: usize) -> (usize, usize) {
    if total <= room {
        return (0, total);
    }
    if room < 3 {
        let first = at.min(total - 1);
        return (first, (first + room).min(total));
    }
    if at < room - 1 {
        (0, room - 1)
    } else if at >= total - (room - 1) {
        (total - (room - 1), total)
    } else {
        let first = at - (room - 2) / 2;
        (first, first + room - 2)
    }
}
