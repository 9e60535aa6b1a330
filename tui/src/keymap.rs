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
    /// The partition builder.
    Partition,
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
    PageUp,
    PageDown,
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
    NextPanel,
    PrevPanel,
    Panel(u8),
    Detail,
    Filter,
    Follow,
    FollowClass,
    SideA,
    SideB,
    SideNone,
    ServiceA,
    ServiceB,
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
use KeyCode::{
    BackTab, Char, Down as KDown, Enter, Esc, Left, PageDown as KPageDown, PageUp as KPageUp, Right, Tab, Up as KUp,
};

pub const BINDINGS: &[Binding] = &[
    b(&[Char(' ')], "space", PlayPause, Main, "play / pause"),
    b(&[Char('.'), Right], ". →", StepEvent, Main, "step one event"),
    b(&[Char(','), Left], ", ←", BackEvent, Main, "step back one event"),
    b(&[Char(']')], "]", StepSecond, Main, "step one simulated second"),
    b(&[Char('[')], "[", BackSecond, Main, "step back one second"),
    b(&[Char('+'), Char('=')], "+", Faster, Main, "faster"),
    b(&[Char('-')], "-", Slower, Main, "slower"),
    b(&[Tab], "tab", NextPanel, Main, "next panel (1-6 pick one)"),
    b(&[BackTab], "⇧tab", PrevPanel, Main, "previous panel"),
    b(&[Char('1')], "1", Panel(0), Main, "components"),
    b(&[Char('2')], "2", Panel(1), Main, "event log"),
    b(&[Char('3')], "3", Panel(2), Main, "event inspector"),
    b(&[Char('4')], "4", Panel(3), Main, "followed request"),
    b(&[Char('5')], "5", Panel(4), Main, "why: bottleneck, failures"),
    b(&[Char('6')], "6", Panel(5), Main, "consistency per data class"),
    b(&[KUp, Char('k')], "↑ k", Up, Main, "select / scroll up"),
    b(&[KDown, Char('j')], "↓ j", Down, Main, "select / scroll down"),
    b(&[KPageUp], "pgup", PageUp, Main, "a page up"),
    b(&[KPageDown], "pgdn", PageDown, Main, "a page down"),
    b(&[Enter, Char('d')], "enter d", Detail, Main, "detail of the selected instance"),
    b(&[Char('/')], "/", Filter, Main, "filter the panel (name, class)"),
    b(&[Char('t')], "t", Follow, Main, "follow the next request hop by hop"),
    b(&[Char('T')], "T", FollowClass, Main, "follow the next of another class"),
    b(&[Char('f')], "f", Faults, Main, "faults, knobs, partitions"),
    b(&[Char('r')], "r", Restart, Main, "restart, same seed, no faults"),
    b(&[Char('n')], "n", NewSeed, Main, "restart with a new seed"),
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
    b(&[KPageUp], "pgup", PageUp, Menu, "a page up"),
    b(&[KPageDown], "pgdn", PageDown, Menu, "a page down"),
    b(&[Enter], "enter", Choose, Menu, "apply (fault menu)"),
    b(&[Char('/')], "/", Filter, Menu, "type to filter the list"),
    b(&[KUp, Char('k')], "↑ k", Up, Partition, "previous instance"),
    b(&[KDown, Char('j')], "↓ j", Down, Partition, "next instance"),
    b(&[Char('a')], "a", SideA, Partition, "put it on side A"),
    b(&[Char('b')], "b", SideB, Partition, "put it on side B"),
    b(&[Char('A')], "A", ServiceA, Partition, "its whole service on side A"),
    b(&[Char('B')], "B", ServiceB, Partition, "its whole service on side B"),
    b(&[Char('x'), Char(' ')], "x", SideNone, Partition, "on no side (reaches both)"),
    b(&[Enter], "enter", Choose, Partition, "cut the network so"),
    b(&[Esc], "esc", Close, Global, "close; back"),
    b(&[Char('?')], "?", Help, Global, "this help"),
    b(&[Char('q')], "q", Quit, Global, "close a box; quit"),
];

/// The action `key` has in `context` (its own bindings first, then the global ones).
pub fn lookup(context: Context, key: KeyCode) -> Option<Action> {
    let find = |ctx: Context| BINDINGS.iter().find(|b| b.context == ctx && b.keys.contains(&key)).map(|b| b.action);
    find(context).or_else(|| find(Global))
}
