//! The UI's state and its one `update` function: keys in, controls for the simulation
//! thread out. The app never touches the simulation; it shows the latest snapshot.

use crate::catalogue::{self, Entry};
use crate::keymap::{self, Action, Context};
use crate::runner::Control;
use crate::session::{FaultRequest, SPEEDS};
use crate::snapshot::Snapshot;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Picker,
    Main,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    None,
    Help,
    Faults {
        selected: usize,
    },
    /// The scenario's whole lesson and what to watch.
    Lesson,
    /// Typing a scenario file's path in the picker.
    Path {
        input: String,
    },
}

/// One line of the fault menu.
#[derive(Clone, Debug, PartialEq)]
pub enum MenuItem {
    Fault(FaultRequest),
    ToggleMode { service: String, mode: &'static str },
}

impl MenuItem {
    pub fn label(&self) -> String {
        match self {
            MenuItem::Fault(f) => f.label(),
            MenuItem::ToggleMode { service, mode } => {
                let to = if *mode == "cp" { "AP" } else { "CP" };
                format!("switch `{service}` from {} to {to} (replays to now)", mode.to_uppercase())
            }
        }
    }
}

pub struct App {
    pub screen: Screen,
    pub overlay: Overlay,
    pub catalogue: Vec<Entry>,
    pub selected: usize,
    pub snapshot: Option<Snapshot>,
    /// Which chart is drawn large.
    pub chart: usize,
    pub color: bool,
    pub quit: bool,
    /// Quit by Ctrl-C: the command exits as after SIGINT.
    pub interrupted: bool,
    /// The last message for the status line (an error, "saved ...").
    pub message: Option<String>,
}

impl App {
    pub fn new(color: bool) -> App {
        App {
            screen: Screen::Picker,
            overlay: Overlay::None,
            catalogue: catalogue::entries(),
            selected: 0,
            snapshot: None,
            chart: 2,
            color,
            quit: false,
            interrupted: false,
            message: None,
        }
    }

    /// A new snapshot from the simulation thread: the main screen shows it.
    pub fn on_snapshot(&mut self, s: Snapshot) {
        if self.snapshot.as_ref().is_none_or(|old| old.name != s.name) {
            self.chart = 2;
        }
        self.snapshot = Some(s);
        self.screen = Screen::Main;
        let last = self.menu().len().saturating_sub(1);
        if let Overlay::Faults { selected } = &mut self.overlay {
            *selected = (*selected).min(last);
        }
    }

    /// A message from the simulation thread (an error opening a file, say).
    pub fn on_message(&mut self, m: String) {
        self.message = Some(m);
    }

    fn context(&self) -> Context {
        match (&self.overlay, self.screen) {
            (Overlay::Faults { .. }, _) => Context::Menu,
            (_, Screen::Picker) => Context::Picker,
            (_, Screen::Main) => Context::Main,
        }
    }

    /// The fault menu, built from the latest snapshot.
    pub fn menu(&self) -> Vec<MenuItem> {
        let Some(s) = &self.snapshot else { return Vec::new() };
        let mut items = Vec::new();
        if s.partitioned {
            items.push(MenuItem::Fault(FaultRequest::HealAll));
        }
        for (name, down) in &s.instances {
            items.push(MenuItem::Fault(if *down {
                FaultRequest::Restart(name.clone())
            } else {
                FaultRequest::Crash(name.clone())
            }));
        }
        for (service, mode) in &s.stores {
            items.push(MenuItem::ToggleMode { service: service.clone(), mode });
        }
        for (name, _) in &s.instances {
            items.push(MenuItem::Fault(FaultRequest::Isolate(name.clone())));
        }
        for (name, _) in &s.instances {
            items.push(MenuItem::Fault(FaultRequest::Slow { instance: name.clone(), factor: 10, for_s: 60 }));
        }
        items
    }

    /// Handles a key; returns what the simulation thread must do.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Control> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            // In raw mode Ctrl-C is a key, not SIGINT; it ends the UI as SIGINT would (130).
            self.interrupted = true;
            self.quit = true;
            return vec![Control::Quit];
        }
        if let Overlay::Path { input } = &mut self.overlay {
            match key.code {
                KeyCode::Esc => self.overlay = Overlay::None,
                KeyCode::Enter => {
                    let path = input.trim().to_string();
                    self.overlay = Overlay::None;
                    if !path.is_empty() {
                        self.message = Some(format!("opening {path}…"));
                        return vec![Control::Open { name: path, seed: None }];
                    }
                }
                KeyCode::Backspace => {
                    input.pop();
                }
                KeyCode::Char(c) if input.chars().count() < 4096 => input.push(c),
                _ => {}
            }
            return Vec::new();
        }
        let Some(action) = keymap::lookup(self.context(), key.code) else { return Vec::new() };
        self.apply(action)
    }

    fn apply(&mut self, action: Action) -> Vec<Control> {
        let playing = self.snapshot.as_ref().is_some_and(|s| s.playing);
        let speed = self.snapshot.as_ref().map_or(1.0, |s| s.speed);
        match action {
            Action::Quit => {
                self.quit = true;
                return vec![Control::Quit];
            }
            Action::Help => {
                self.overlay = if self.overlay == Overlay::Help { Overlay::None } else { Overlay::Help };
            }
            Action::Close => match self.overlay {
                Overlay::None if self.screen == Screen::Picker && self.snapshot.is_some() => self.screen = Screen::Main,
                _ => self.overlay = Overlay::None,
            },
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::Choose => match (&self.overlay, self.screen) {
                (Overlay::Faults { selected }, _) => {
                    let item = self.menu().get(*selected).cloned();
                    self.overlay = Overlay::None;
                    return match item {
                        Some(MenuItem::Fault(f)) => vec![Control::Fault(f)],
                        Some(MenuItem::ToggleMode { service, .. }) => vec![Control::ToggleMode(service)],
                        None => Vec::new(),
                    };
                }
                (_, Screen::Picker) => {
                    if let Some(e) = self.catalogue.get(self.selected) {
                        self.message = None;
                        return vec![Control::Open { name: e.name.clone(), seed: None }];
                    }
                }
                _ => {}
            },
            Action::OpenPath => self.overlay = Overlay::Path { input: String::new() },
            Action::OpenPicker => {
                self.screen = Screen::Picker;
                self.overlay = Overlay::None;
                return if playing { vec![Control::SetPlaying(false)] } else { Vec::new() };
            }
            Action::PlayPause => return vec![Control::SetPlaying(!playing)],
            Action::StepEvent => return vec![Control::StepEvent],
            Action::StepSecond => return vec![Control::StepSecond],
            Action::BackEvent => return vec![Control::BackEvent],
            Action::BackSecond => return vec![Control::BackSecond],
            Action::Faster | Action::Slower => {
                let i = SPEEDS.iter().position(|&s| s == speed).unwrap_or(4);
                let j = if action == Action::Faster { (i + 1).min(SPEEDS.len() - 1) } else { i.saturating_sub(1) };
                return vec![Control::Speed(SPEEDS[j])];
            }
            Action::Restart => return vec![Control::Restart],
            Action::NewSeed => return vec![Control::NewSeed],
            Action::Faults => {
                self.overlay = if matches!(self.overlay, Overlay::Faults { .. }) {
                    Overlay::None
                } else {
                    Overlay::Faults { selected: 0 }
                };
            }
            Action::Save => return vec![Control::Save],
            Action::Lesson => {
                self.overlay = if self.overlay == Overlay::Lesson { Overlay::None } else { Overlay::Lesson };
            }
            Action::NextChart => {
                let n = self.snapshot.as_ref().map_or(1, |s| s.charts.len().max(1));
                self.chart = (self.chart + 1) % n;
            }
        }
        Vec::new()
    }

    fn move_selection(&mut self, by: isize) {
        let len = match self.overlay {
            Overlay::Faults { .. } => self.menu().len(),
            _ => self.catalogue.len(),
        };
        let slot = match &mut self.overlay {
            Overlay::Faults { selected } => selected,
            _ => &mut self.selected,
        };
        if len > 0 {
            *slot = (*slot as isize + by).rem_euclid(len as isize) as usize;
        }
    }
}
