//! One table of key bindings: it drives both what each key does and the `?` overlay, so
//! the help can never disagree with the keys.

use crossterm::event::KeyCode;

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Picker,
    Main,
    /// The fault menu (and other lists).
    Menu,
    /// Everywhere.
    Global,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Close,
    Up,
    Down,
    Choose,
    OpenPath,
    PlayPause,
    StepEvent,
    StepSecond,
    BackEvent,
    BackSecond,
    Faster,
    Slower,
    Restart,
    NewSeed,
    Faults,
    Save,
    NextChart,
    Lesson,
    OpenPicker,
}

pub struct Binding {
    pub keys: &'static [KeyCode],
    /// How the keys are written in the help.
    pub label: &'static str,
    pub action: Action,
    pub context: Context,
    pub help: &'static str,
}

const fn b(
    keys: &'static [KeyCode],
    label: &'static str,
    action: Action,
    context: Context,
    help: &'static str,
) -> Binding {
    Binding { keys, label, action, context, help }
}

use Action::*;
use Context::*;
use KeyCode::{Char, Down as KDown, Enter, Esc, Left, Right, Up as KUp};

pub const BINDINGS: &[Binding] = &[
    b(&[Char(' ')], "space", PlayPause, Main, "play / pause"),
    b(&[Char('.'), Right], ". →", StepEvent, Main, "step one event"),
    b(&[Char(','), Left], ", ←", BackEvent, Main, "step back one event"),
    b(&[Char(']')], "]", StepSecond, Main, "step one simulated second"),
    b(&[Char('[')], "[", BackSecond, Main, "step back one second"),
    b(&[Char('+'), Char('=')], "+", Faster, Main, "faster"),
    b(&[Char('-')], "-", Slower, Main, "slower"),
    b(&[Char('r')], "r", Restart, Main, "restart, same seed, no faults"),
    b(&[Char('n')], "n", NewSeed, Main, "restart with a new seed"),
    b(&[Char('f')], "f", Faults, Main, "faults menu; CP/AP switch"),
    b(&[Char('w')], "w", Save, Main, "save session as a seed file"),
    b(&[Char('c')], "c", NextChart, Main, "show the next chart large"),
    b(&[Char('l')], "l", Lesson, Main, "the whole lesson"),
    b(&[Char('o')], "o", OpenPicker, Main, "open another scenario"),
    b(&[KUp, Char('k')], "↑ k", Up, Picker, "previous scenario"),
    b(&[KDown, Char('j')], "↓ j", Down, Picker, "next scenario"),
    b(&[Enter], "enter", Choose, Picker, "open the scenario"),
    b(&[Char('p')], "p", OpenPath, Picker, "open a file by path"),
    b(&[KUp, Char('k')], "↑ k", Up, Menu, "previous item"),
    b(&[KDown, Char('j')], "↓ j", Down, Menu, "next item"),
    b(&[Enter], "enter", Choose, Menu, "apply"),
    b(&[Esc], "esc", Close, Global, "close; back"),
    b(&[Char('?')], "?", Help, Global, "this help"),
    b(&[Char('q')], "q", Quit, Global, "quit"),
];

/// The action `key` has in `context` (its own bindings first, then the global ones).
pub fn lookup(context: Context, key: KeyCode) -> Option<Action> {
    let find = |ctx: Context| BINDINGS.iter().find(|b| b.context == ctx && b.keys.contains(&key)).map(|b| b.action);
    find(context).or_else(|| find(Global))
}
