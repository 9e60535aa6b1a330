//! The scenario picker's list: the built-in library grouped the way a course runs
//! (the PixelCraft story, the twelve stages, focused lessons, CAP, queueing theory).

use scenarios::{Overrides, Source, builtin};

/// Groups in the order the picker shows them, with their headings.
pub const GROUPS: [(&str, &str); 6] = [
    ("pixelcraft", "PixelCraft: 100 users to 1 million"),
    ("zero to millions", "Zero to millions: twelve stages"),
    ("lessons", "Focused lessons"),
    ("cap", "CAP: partitions and consistency"),
    ("resilience", "Resilience under overload"),
    ("queueing", "Queueing theory"),
];

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    pub group: String,
    pub title: String,
    pub lesson: String,
}

/// Every built-in scenario, grouped and in library order within a group (parsed once).
pub fn entries() -> Vec<Entry> {
    static ENTRIES: std::sync::OnceLock<Vec<Entry>> = std::sync::OnceLock::new();
    ENTRIES.get_or_init(parse_all).clone()
}

fn parse_all() -> Vec<Entry> {
    let mut all: Vec<Entry> = builtin::names()
        .filter_map(|name| {
            let text = builtin::get(name)?;
            let source = Source { origin: format!("builtin:{name}"), text: text.into() };
            let s = scenarios::parse(&source, &Overrides::default()).ok()?;
            Some(Entry { name: name.into(), group: s.group, title: s.title, lesson: s.lesson })
        })
        .collect();
    let rank = |g: &str| GROUPS.iter().position(|(k, _)| *k == g).unwrap_or(GROUPS.len());
    all.sort_by_key(|e| rank(&e.group));
    all
}

/// The heading of a group.
pub fn heading(group: &str) -> &str {
    GROUPS.iter().find(|(k, _)| *k == group).map_or(group, |(_, h)| h)
}
