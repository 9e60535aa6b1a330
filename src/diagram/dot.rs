//! The architecture as a Graphviz digraph for `dot -Tsvg`: every id and label a quoted
//! string, the populations on the top rank.

use super::{Architecture, Shape};
use std::fmt::Write;

/// A DOT quoted string: `"` and `\` escaped, so any name is a valid id.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn dot(arch: &Architecture) -> String {
    let id = |i: usize| quoted(&arch.services[i].name);
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quoted(&arch.name));
    out.push_str("    rankdir=TB;\n    node [shape=box, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (i, s) in arch.services.iter().enumerate() {
        let shape = match s.shape {
            Shape::Population => "oval",
            Shape::Balancer => "hexagon",
            Shape::Storage => "cylinder",
            Shape::Queue => "box3d",
            Shape::Box => "box",
        };
        // `\n` inside a DOT label is a line break.
        let label = quoted(&format!("{}\u{1}{}", s.name, s.detail)).replace('\u{1}', "\\n");
        let _ = writeln!(out, "    {} [shape={shape}, label={label}];", id(i));
    }
    let populations: Vec<String> =
        (0..arch.services.len()).filter(|&i| arch.services[i].shape == Shape::Population).map(id).collect();
    if !populations.is_empty() {
        let _ = writeln!(out, "    {{ rank=source; {}; }}", populations.join("; "));
    }
    for c in &arch.calls {
        let _ = writeln!(out, "    {} -> {} [label={}];", id(c.from), id(c.to), quoted(&c.label()));
    }
    for l in &arch.links {
        let _ = writeln!(
            out,
            "    {} -> {} [dir=none, style=dashed, label={}];",
            id(l.a),
            id(l.b),
            quoted(&l.latency.join(" / "))
        );
    }
    out.push_str("}\n");
    out
}
