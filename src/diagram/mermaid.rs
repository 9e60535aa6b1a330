//! The architecture as a Mermaid flowchart that GitHub renders: top to bottom, so the
//! populations sit at the top; every label quoted, every id made of letters, digits and
//! underscores.

use super::{Architecture, Shape};
use std::fmt::Write;

/// A Mermaid id for service `name`: `s_` then the name with anything but a letter or a
/// digit as `_` (a bare `end` or `graph` would be read as a keyword), numbered when two
/// names come out the same.
fn ids(arch: &Architecture) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &arch.services {
        let base: String =
            "s_".chars().chain(s.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })).collect();
        let mut id = base.clone();
        let mut n = 2;
        while out.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        out.push(id);
    }
    out
}

/// Text for inside a quoted label: Mermaid reads `#quot;` as `"`, and `<`/`>` as HTML.
fn text(s: &str) -> String {
    s.replace('&', "#amp;").replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;")
}

pub fn mermaid(arch: &Architecture) -> String {
    let ids = ids(arch);
    let mut out = String::from("flowchart TD\n");
    let _ = writeln!(
        out,
        "    %% {}: solid arrows are calls (the classes that make them · the link's latency), dotted lines links no call uses",
        text(&arch.name)
    );
    for (s, id) in arch.services.iter().zip(&ids) {
        let label = format!("\"<b>{}</b><br/>{}\"", text(&s.name), text(&s.detail));
        let node = match s.shape {
            Shape::Population => format!("([{label}])"),
            Shape::Balancer => format!("{{{{{label}}}}}"),
            Shape::Storage => format!("[({label})]"),
            Shape::Queue => format!("[[{label}]]"),
            Shape::Box => format!("[{label}]"),
        };
        let _ = writeln!(out, "    {id}{node}");
    }
    for c in &arch.calls {
        let _ = writeln!(out, "    {} -->|\"{}\"| {}", ids[c.from], text(&c.label()), ids[c.to]);
    }
    for l in &arch.links {
        let _ = match l.latency.join(" / ") {
            t if t.is_empty() => writeln!(out, "    {} -.- {}", ids[l.a], ids[l.b]),
            t => writeln!(out, "    {} -.-|\"{}\"| {}", ids[l.a], text(&t), ids[l.b]),
        };
    }
    out
}
