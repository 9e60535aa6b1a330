//! The UI's state and its one `update` function: keys in, controls for the simulation
//! thread out. The app never touches the simulation; it shows the latest snapshot.

use crate::catalogue::{self, Entry};
use crate::keymap::{self, Action, Context};
use crate::runner::Control;
use crate::session::FaultRequest;
use crate::snapshot::Snapshot;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Picker,
    Main,
}

/// The panels of the main screen's lower half, in tab order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Components,
    Events,
    Inspector,
    Request,
    Why,
    Consistency,
}

impl Panel {
    pub const ALL: [Panel; 6] =
        [Panel::Components, Panel::Events, Panel::Inspector, Panel::Request, Panel::Why, Panel::Consistency];

    pub fn title(self) -> &'static str {
        match self {
            Panel::Components => "components",
            Panel::Events => "log",
            Panel::Inspector => "inspector",
            Panel::Request => "request",
            Panel::Why => "why",
            Panel::Consistency => "consistency",
        }
    }

    fn index(self) -> usize {
        Panel::ALL.iter().position(|&p| p == self).unwrap_or(0)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    None,
    Faults {
        selected: usize,
        /// Typed after `/`: only items whose label contains it are listed.
        filter: String,
        typing: bool,
    },
    /// Choosing the sides of a partition: one side (0 none, 1 A, 2 B) per instance.
    Partition {
        sides: Vec<u8>,
        selected: usize,
    },
    /// The scenario's whole lesson and what to watch.
    Lesson,
    /// Typing a scenario file's path in the picker; the error of the last try, if any.
    Path {
        input: String,
        error: Option<String>,
    },
    /// One instance, everything the run knows of it.
    Detail {
        instance: String,
        scroll: usize,
    },
    /// Quitting, restarting or opening another scenario would lose hand faults not yet
    /// saved: what to do once the user says so.
    Confirm(Leave),
    /// Every key, from the keymap table; scrolled by ↑↓ when the terminal is short.
    Help {
        scroll: usize,
    },
}

/// What leaves the session (and its unsaved hand faults) behind.
#[derive(Clone, Debug, PartialEq)]
pub enum Leave {
    Quit,
    Restart,
    NewSeed,
    OpenPicker,
}

/// One line of the fault menu.
#[derive(Clone, Debug, PartialEq)]
pub enum MenuItem {
    Fault(FaultRequest),
    ToggleMode {
        service: String,
        mode: &'static str,
    },
    /// Opens the partition builder.
    BuildPartition,
}

impl MenuItem {
    pub fn label(&self) -> String {
        match self {
            MenuItem::Fault(f) => f.label(),
            MenuItem::ToggleMode { service, mode } => {
                let to = if *mode == "cp" { "AP" } else { "CP" };
                format!("switch `{service}` from {} to {to} (replays to now)", mode.to_uppercase())
            }
            MenuItem::BuildPartition => "build a partition: choose each side…".to_string(),
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
    pub panel: Panel,
    /// The selected row of the components panel (an index into `rows()`).
    pub cursor: usize,
    /// Lines scrolled back from the newest in the log and inspector, or down in the others.
    pub scroll: usize,
    /// The panel's filter (typed after `/`), and whether it is being typed.
    pub filter: String,
    pub typing: bool,
    pub color: bool,
    pub quit: bool,
    /// Quit by Ctrl-C: the command exits as after SIGINT.
    pub interrupted: bool,
    /// The last message for the status line (an error, "saved ...").
    pub message: Option<String>,
    /// A file path being opened from the prompt: an error reopens the prompt with it.
    opening: Option<String>,
    /// A scenario was opened: the next snapshot shows the main screen.
    show_main: bool,
    /// Which class `t` follows: 0 any, k the snapshot's class k - 1.
    follow_class: usize,
    /// Saving before leaving: left once a snapshot shows nothing unsaved.
    after_save: Option<Leave>,
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
            panel: Panel::Components,
            cursor: 0,
            scroll: 0,
            filter: String::new(),
            typing: false,
            color,
            quit: false,
            interrupted: false,
            message: None,
            opening: None,
            show_main: true,
            follow_class: 0,
            after_save: None,
        }
    }

    /// A new snapshot from the simulation thread: the main screen shows it.
    pub fn on_snapshot(&mut self, s: Snapshot) -> Vec<Control> {
        // The menu is rebuilt from each snapshot: keep the item selected, not its place.
        let chosen = match &self.overlay {
            Overlay::Faults { selected, .. } => self.menu().get(*selected).map(MenuItem::label),
            _ => None,
        };
        if self.snapshot.as_ref().is_none_or(|old| old.name != s.name) {
            self.chart = 2;
            self.cursor = 0;
            self.scroll = 0;
            self.filter.clear();
        }
        self.snapshot = Some(s);
        if std::mem::take(&mut self.show_main) {
            self.screen = Screen::Main;
        }
        let items: Vec<String> = self.menu().iter().map(MenuItem::label).collect();
        if let Overlay::Faults { selected, .. } = &mut self.overlay {
            let again = chosen.and_then(|c| items.iter().position(|l| *l == c));
            *selected = again.unwrap_or(*selected).min(items.len().saturating_sub(1));
        }
        // A knob that grew the model changed the instances the builder was choosing among.
        let instances = self.snapshot.as_ref().map_or(0, |s| s.instances.len());
        if matches!(&self.overlay, Overlay::Partition { sides, .. } if sides.len() != instances) {
            self.overlay = Overlay::None;
            self.message = Some("the instances changed (a knob replayed the run): build the partition again".into());
        }
        self.cursor = self.cursor.min(self.rows().len().saturating_sub(1));
        if self.after_save.is_some() && self.snapshot.as_ref().is_some_and(|s| s.unsaved == 0) {
            let leave = self.after_save.take().expect("checked");
            self.message = None;
            return self.leave(leave);
        }
        Vec::new()
    }

    /// Leaves the session now, or asks first if it has hand faults not saved.
    fn ask_to_leave(&mut self, leave: Leave) -> Vec<Control> {
        if self.screen == Screen::Main && self.snapshot.as_ref().is_some_and(|s| s.unsaved > 0) {
            self.overlay = Overlay::Confirm(leave);
            return Vec::new();
        }
        self.leave(leave)
    }

    fn leave(&mut self, leave: Leave) -> Vec<Control> {
        match leave {
            Leave::Quit => {
                self.quit = true;
                vec![Control::Quit]
            }
            Leave::Restart => vec![Control::Restart],
            Leave::NewSeed => vec![Control::NewSeed],
            Leave::OpenPicker => {
                self.screen = Screen::Picker;
                self.overlay = Overlay::None;
                vec![Control::SetPlaying(false)]
            }
        }
    }

    /// A message from the simulation thread: an error (opening a file, a fault refused),
    /// or empty when a scenario opened.
    pub fn on_message(&mut self, m: String) {
        if m.is_empty() {
            self.show_main = true;
            self.opening = None;
            self.message = None;
            return;
        }
        // A save that failed: stay, with its error.
        self.after_save = None;
        if let Some(path) = self.opening.take() {
            // Back to the prompt with the path as typed: fix it and press enter again.
            self.screen = Screen::Picker;
            self.overlay = Overlay::Path { input: path, error: Some(m.clone()) };
        }
        self.message = Some(m);
    }

    fn context(&self) -> Context {
        match (&self.overlay, self.screen) {
            (Overlay::Faults { .. } | Overlay::Detail { .. } | Overlay::Help { .. }, _) => Context::Menu,
            (Overlay::Partition { .. }, _) => Context::Partition,
            (Overlay::Confirm(_), _) => Context::Global,
            (_, Screen::Picker) => Context::Picker,
            (_, Screen::Main) => Context::Main,
        }
    }

    /// The components panel's rows: every instance but the users', filtered by name.
    pub fn rows(&self) -> Vec<(usize, usize)> {
        let Some(s) = &self.snapshot else { return Vec::new() };
        let f = self.filter.to_lowercase();
        let mut rows = Vec::new();
        for (k, svc) in s.services.iter().enumerate().filter(|(_, svc)| svc.kind != "clients") {
            for (i, inst) in svc.instances.iter().enumerate() {
                if f.is_empty() || self.panel != Panel::Components || inst.name.to_lowercase().contains(&f) {
                    rows.push((k, i));
                }
            }
        }
        rows
    }

    /// The instance the components panel has selected.
    pub fn selected_instance(&self) -> Option<String> {
        let (k, i) = *self.rows().get(self.cursor)?;
        Some(self.snapshot.as_ref()?.services[k].instances[i].name.clone())
    }

    /// The fault menu, built from the latest snapshot, filtered as typed.
    pub fn menu(&self) -> Vec<MenuItem> {
        let Some(s) = &self.snapshot else { return Vec::new() };
        let mut items = Vec::new();
        if s.partitioned {
            items.push(MenuItem::Fault(FaultRequest::HealAll));
        }
        items.push(MenuItem::BuildPartition);
        items.extend(s.knobs.iter().cloned().map(MenuItem::Fault));
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
        if let Overlay::Faults { filter, .. } = &self.overlay
            && !filter.is_empty()
        {
            let f = filter.to_lowercase();
            items.retain(|i| i.label().to_lowercase().contains(&f));
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
        if let Some(controls) = self.on_text_key(key.code) {
            return controls;
        }
        if let Overlay::Confirm(leave) = &self.overlay {
            let leave = leave.clone();
            self.overlay = Overlay::None;
            return match key.code {
                // Saved first: the session is left once a snapshot shows nothing unsaved
                // (a failed save shows its error and stays).
                KeyCode::Char('w') => {
                    self.after_save = Some(leave);
                    self.message = Some("saving…".into());
                    vec![Control::Save]
                }
                KeyCode::Char('y' | 'q') => self.leave(leave),
                _ => Vec::new(),
            };
        }
        let Some(action) = keymap::lookup(self.context(), key.code) else { return Vec::new() };
        self.apply(action)
    }

    /// Keys typed into a text field (the path prompt, a filter); `None` if none is open.
    fn on_text_key(&mut self, code: KeyCode) -> Option<Vec<Control>> {
        let text = match &mut self.overlay {
            Overlay::Path { input, .. } => input,
            Overlay::Faults { filter, typing: true, .. } => filter,
            Overlay::None if self.typing => &mut self.filter,
            _ => return None,
        };
        match code {
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if text.chars().count() < 4096 => text.push(c),
            KeyCode::Esc => {
                text.clear();
                match &mut self.overlay {
                    Overlay::Faults { typing, .. } => *typing = false,
                    Overlay::Path { .. } => self.overlay = Overlay::None,
                    _ => self.typing = false,
                }
            }
            KeyCode::Enter => match &mut self.overlay {
                Overlay::Path { input, .. } => {
                    let path = input.trim().to_string();
                    self.overlay = Overlay::None;
                    if !path.is_empty() {
                        self.message = Some(format!("opening {path}…"));
                        self.opening = Some(path.clone());
                        return Some(vec![Control::Open { name: path, seed: None }]);
                    }
                }
                Overlay::Faults { typing, .. } => {
                    *typing = false;
                    return Some(self.apply(Action::Choose));
                }
                _ => self.typing = false,
            },
            KeyCode::Up | KeyCode::Down if !matches!(self.overlay, Overlay::Path { .. }) => {
                return Some(self.apply(if code == KeyCode::Up { Action::Up } else { Action::Down }));
            }
            _ => {}
        }
        if let Overlay::Faults { selected, .. } = &mut self.overlay {
            *selected = 0;
        }
        self.cursor = self.cursor.min(self.rows().len().saturating_sub(1));
        Some(Vec::new())
    }

    fn apply(&mut self, action: Action) -> Vec<Control> {
        match action {
            Action::Quit => {
                if self.overlay != Overlay::None {
                    // `q` in a box closes the box; only on a screen does it quit.
                    self.overlay = Overlay::None;
                } else {
                    return self.ask_to_leave(Leave::Quit);
                }
            }
            Action::Help => {
                self.overlay = if matches!(self.overlay, Overlay::Help { .. }) {
                    Overlay::None
                } else {
                    Overlay::Help { scroll: 0 }
                };
            }
            Action::Close => match self.overlay {
                Overlay::None if self.screen == Screen::Picker && self.snapshot.is_some() => self.screen = Screen::Main,
                Overlay::None => self.filter.clear(),
                _ => self.overlay = Overlay::None,
            },
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let by = match action {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::PageUp => -10,
                    _ => 10,
                };
                self.move_selection(by);
            }
            Action::Choose => return self.choose(),
            Action::OpenPath => self.overlay = Overlay::Path { input: String::new(), error: None },
            Action::OpenPicker => return self.ask_to_leave(Leave::OpenPicker),
            Action::PlayPause => return vec![Control::TogglePlaying],
            Action::StepEvent => return vec![Control::StepEvent],
            Action::StepSecond => return vec![Control::StepSecond],
            Action::BackEvent => return vec![Control::BackEvent],
            Action::BackSecond => return vec![Control::BackSecond],
            Action::Faster => return vec![Control::SpeedStep(1)],
            Action::Slower => return vec![Control::SpeedStep(-1)],
            Action::Restart => return self.ask_to_leave(Leave::Restart),
            Action::NewSeed => return self.ask_to_leave(Leave::NewSeed),
            Action::Faults => {
                self.overlay = if matches!(self.overlay, Overlay::Faults { .. }) {
                    Overlay::None
                } else {
                    Overlay::Faults { selected: 0, filter: String::new(), typing: false }
                };
            }
            Action::Filter => match &mut self.overlay {
                Overlay::Faults { typing, .. } => *typing = true,
                Overlay::None => {
                    self.typing = true;
                    self.filter.clear();
                }
                _ => {}
            },
            Action::Save => return vec![Control::Save],
            Action::Lesson => {
                self.overlay = if self.overlay == Overlay::Lesson { Overlay::None } else { Overlay::Lesson };
            }
            Action::NextChart => {
                let n = self.snapshot.as_ref().map_or(1, |s| s.charts.len().max(1));
                self.chart = (self.chart + 1) % n;
            }
            Action::NextPanel | Action::PrevPanel => {
                let n = Panel::ALL.len();
                let k = self.panel.index() + if action == Action::NextPanel { 1 } else { n - 1 };
                self.show_panel(Panel::ALL[k % n]);
            }
            Action::Panel(k) => self.show_panel(Panel::ALL[usize::from(k) % Panel::ALL.len()]),
            Action::Detail => {
                if self.panel != Panel::Components {
                    self.show_panel(Panel::Components);
                } else if let Some(instance) = self.selected_instance() {
                    self.overlay = Overlay::Detail { instance, scroll: 0 };
                }
            }
            Action::Follow | Action::FollowClass => {
                // `T` moves to the next class (any, then each in turn) and follows it; `t`
                // follows the next request of the class chosen last. Decided here, not
                // from a snapshot, so presses typed faster than frames all count.
                let Some(s) = &self.snapshot else { return Vec::new() };
                if action == Action::FollowClass {
                    self.follow_class = (self.follow_class + 1) % (s.classes.len() + 1);
                }
                let class = self.follow_class.checked_sub(1).and_then(|k| s.classes.get(k)).cloned();
                self.show_panel(Panel::Request);
                return vec![Control::Follow(class)];
            }
            Action::SideA | Action::SideB | Action::SideNone | Action::ServiceA | Action::ServiceB => {
                self.set_side(action)
            }
        }
        Vec::new()
    }

    fn show_panel(&mut self, panel: Panel) {
        if self.panel != panel {
            self.panel = panel;
            self.scroll = 0;
            self.filter.clear();
            self.typing = false;
        }
    }

    fn choose(&mut self) -> Vec<Control> {
        match (&self.overlay, self.screen) {
            (Overlay::Faults { selected, .. }, _) => {
                let item = self.menu().get(*selected).cloned();
                self.overlay = Overlay::None;
                match item {
                    Some(MenuItem::Fault(f)) => return vec![Control::Fault(f)],
                    Some(MenuItem::ToggleMode { service, .. }) => return vec![Control::ToggleMode(service)],
                    Some(MenuItem::BuildPartition) => {
                        let n = self.snapshot.as_ref().map_or(0, |s| s.instances.len());
                        self.overlay = Overlay::Partition { sides: vec![0; n], selected: 0 };
                    }
                    None => {}
                }
            }
            (Overlay::Partition { sides, .. }, _) => {
                let Some(s) = &self.snapshot else { return Vec::new() };
                let side = |k: u8| -> Vec<String> {
                    s.instances.iter().zip(sides).filter(|(_, x)| **x == k).map(|(i, _)| i.0.clone()).collect()
                };
                let (a, b) = (side(1), side(2));
                if a.is_empty() || b.is_empty() {
                    self.message = Some("a partition needs an instance on each side: a and b put them there".into());
                    return Vec::new();
                }
                self.overlay = Overlay::None;
                return vec![Control::Fault(FaultRequest::Partition { sides: vec![a, b] })];
            }
            (_, Screen::Picker) => {
                if let Some(e) = self.catalogue.get(self.selected) {
                    self.message = None;
                    self.show_main = true;
                    return vec![Control::Open { name: e.name.clone(), seed: None }];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// The partition builder: puts the selected instance (or its whole service) on a side.
    fn set_side(&mut self, action: Action) {
        let Some(s) = &self.snapshot else { return };
        let Overlay::Partition { sides, selected } = &mut self.overlay else { return };
        let side = match action {
            Action::SideA | Action::ServiceA => 1,
            Action::SideB | Action::ServiceB => 2,
            _ => 0,
        };
        if matches!(action, Action::ServiceA | Action::ServiceB) {
            let Some(svc) = s
                .services
                .iter()
                .find(|svc| svc.instances.iter().any(|i| Some(&i.name) == s.instances.get(*selected).map(|x| &x.0)))
            else {
                return;
            };
            for (k, (name, _)) in s.instances.iter().enumerate() {
                if let Some(x) = sides.get_mut(k)
                    && svc.instances.iter().any(|i| &i.name == name)
                {
                    *x = side;
                }
            }
        } else if let Some(x) = sides.get_mut(*selected) {
            *x = side;
            *selected = (*selected + 1).min(sides.len().saturating_sub(1));
        }
    }

    fn move_selection(&mut self, by: isize) {
        let step = |slot: &mut usize, len: usize, wrap: bool| {
            if len == 0 {
                return;
            }
            *slot = if wrap && by.abs() == 1 {
                (*slot as isize + by).rem_euclid(len as isize) as usize
            } else {
                (*slot as isize + by).clamp(0, len as isize - 1) as usize
            };
        };
        match (&mut self.overlay, self.screen) {
            (Overlay::Faults { .. }, _) => {
                let len = self.menu().len();
                if let Overlay::Faults { selected, .. } = &mut self.overlay {
                    step(selected, len, true);
                }
            }
            (Overlay::Partition { sides, selected }, _) => {
                let len = sides.len();
                step(selected, len, true);
            }
            (Overlay::Detail { scroll, .. } | Overlay::Help { scroll }, _) => {
                *scroll = (*scroll as isize + by).clamp(0, 200) as usize
            }
            (_, Screen::Picker) => {
                let len = self.catalogue.len();
                step(&mut self.selected, len, true);
            }
            (_, Screen::Main) if self.panel == Panel::Components => {
                let len = self.rows().len();
                step(&mut self.cursor, len, false);
            }
            (_, Screen::Main) => {
                // The log and the inspector scroll back from the newest line; the others down.
                let back = matches!(self.panel, Panel::Events | Panel::Inspector);
                let by = if back { -by } else { by };
                // No further than the panel has lines (the view clamps what it draws too).
                let lines = self.snapshot.as_ref().map_or(0, |s| match self.panel {
                    Panel::Events => s.log.len(),
                    Panel::Inspector => s.recent.len(),
                    Panel::Request => s.followed.as_ref().map_or(0, |w| w.spans.len()),
                    Panel::Why => s.insight.as_ref().map_or(0, |i| 8 + 3 * i.sentences.len() + i.failures.len()),
                    _ => s.insight.as_ref().map_or(0, |i| 4 + 2 * i.consistency.len()),
                });
                self.scroll = (self.scroll as isize + by).clamp(0, lines as isize) as usize;
            }
        }
    }
}
