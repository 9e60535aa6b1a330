//! The layer rule of ARCHITECTURE.md, enforced: sim-core's top-level modules are layers,
//! and a file imports only from its own layer or those below it. And no two modules import
//! each other in a circle, within a layer either. Both read the sources as text: every
//! `crate::` and `super::` path outside comments and test modules is an import.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom to top. `lib.rs` stands above them all. `theory` (the analytic twin) reads only
/// the model: it sits right above it, so it can never reach the engine's state.
const LAYERS: [&str; 11] =
    ["kernel", "event", "model", "theory", "world", "ctx", "report", "component", "engine", "view", "harness"];

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// A file's module path: `world/mod.rs` -> ["world"], `world/request.rs` -> ["world", "request"].
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "mod.rs" | "lib.rs" => {}
        other => parts.push(other.trim_end_matches(".rs").to_string()),
    }
    parts
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if !t.starts_with("//") {
            out.push_str(line.split(" // ").next().unwrap());
            out.push('\n');
        }
    }
    out
}

/// Every path a file names that starts at `crate::` or `super::`, use-trees expanded:
/// `crate::a::{b::C, D}` gives `crate::a::b::C` and `crate::a::D`.
fn paths(code: &str) -> Vec<String> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !code.is_char_boundary(i) {
            // Inside a multi-byte character (a `±` in a string): no path starts here.
            i += 1;
            continue;
        }
        let rest = &code[i..];
        let at_word_start =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':');
        if at_word_start && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            let (tree, len) = use_tree(rest);
            out.extend(tree);
            i += len;
        } else {
            i += 1;
        }
    }
    out
}

/// Paths that start at child module `child` of the file's module (`child::Item`).
fn relative_paths(code: &str, child: &str) -> Vec<String> {
    let needle = format!("{child}::");
    let bytes = code.as_bytes();
    code.match_indices(&needle)
        .filter(|(i, _)| {
            *i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':')
        })
        .flat_map(|(i, _)| use_tree(&code[i..]).0)
        .collect()
}

/// Reads a path or use-tree at the start of `s`; returns its expansions and its length.
fn use_tree(s: &str) -> (Vec<String>, usize) {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(s.len());
    let prefix = s[..end].trim_end_matches("::").to_string();
    if !s[end..].starts_with('{') || !s[..end].ends_with("::") {
        return (vec![prefix], end);
    }
    let (mut depth, mut j, mut start) = (0, end, end + 1);
    let mut out = Vec::new();
    for (k, c) in s[end..].char_indices() {
        j = end + k;
        match c {
            '{' => depth += 1,
            '}' | ',' if depth == 1 => {
                let item = s[start..j].trim();
                if !item.is_empty() && item != "self" {
                    let (subs, _) = use_tree(item);
                    out.extend(subs.into_iter().map(|t| format!("{prefix}::{t}")));
                } else if item == "self" {
                    out.push(prefix.clone());
                }
                start = j + 1;
                if c == '}' {
                    break;
                }
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
    (out, j + 1)
}

/// The module a path lands in: the longest prefix that is a module file.
fn target_module(path: &str, from: &[String], modules: &BTreeMap<Vec<String>, PathBuf>) -> Option<Vec<String>> {
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<String> = match segs[0] {
        "crate" => Vec::new(),
        _ => from.to_vec(),
    };
    while segs.first().is_some_and(|s| *s == "super" || *s == "crate" || *s == "self") {
        if segs[0] == "super" {
            base.pop();
        }
        segs.remove(0);
    }
    let mut best = None;
    let mut m = base.clone();
    for s in segs {
        m.push(s.to_string());
        if modules.contains_key(&m) {
            best = Some(m.clone());
        }
    }
    best.or(Some(base))
}

fn layer(module: &[String]) -> Option<usize> {
    module.first().and_then(|top| LAYERS.iter().position(|l| l == top))
}

struct Graph {
    modules: BTreeMap<Vec<String>, PathBuf>,
    edges: BTreeMap<Vec<String>, Vec<(Vec<String>, String)>>,
}

fn graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeMap<Vec<String>, PathBuf> = files.iter().map(|f| (module_of(f), f.clone())).collect();
    let mut edges = BTreeMap::new();
    for (module, file) in &modules {
        let text = code(&std::fs::read_to_string(file).unwrap());
        // Paths relative to this module start at one of its child modules: `cache::Cache`.
        let children = modules.keys().filter(|c| c.len() == module.len() + 1 && c.starts_with(module));
        let relative = children.flat_map(|c| relative_paths(&text, c.last().unwrap()));
        let mut to: Vec<(Vec<String>, String)> = paths(&text)
            .into_iter()
            .chain(relative.map(|p| format!("self::{p}")))
            .filter_map(|p| target_module(&p, module, &modules).map(|t| (t, p)))
            .filter(|(t, _)| t != module)
            .collect();
        to.sort();
        to.dedup_by(|a, b| a.0 == b.0);
        edges.insert(module.clone(), to);
    }
    Graph { modules, edges }
}

#[test]
fn every_file_imports_only_from_its_layer_or_below() {
    let g = graph();
    let mut wrong = Vec::new();
    for (module, to) in &g.edges {
        let Some(own) = layer(module) else { continue };
        for (target, path) in to {
            if layer(target).is_some_and(|l| l > own) {
                wrong.push(format!(
                    "{} ({}) uses `{path}` ({})",
                    module.join("::"),
                    LAYERS[own],
                    LAYERS[layer(target).unwrap()]
                ));
            }
        }
    }
    assert!(g.modules.len() > 40, "the walk found sim-core's files");
    let unplaced: Vec<_> = g.modules.keys().filter(|m| !m.is_empty() && layer(m).is_none()).collect();
    assert!(unplaced.is_empty(), "modules outside every layer (add them to LAYERS and ARCHITECTURE.md): {unplaced:?}");
    assert!(wrong.is_empty(), "imports from a higher layer:\n{}", wrong.join("\n"));
}

#[test]
fn no_two_modules_import_each_other_in_a_circle() {
    let g = graph();
    // Depth-first search with colours; a grey target closes a circle.
    fn visit<'a>(
        m: &'a Vec<String>,
        g: &'a Graph,
        colour: &mut BTreeMap<&'a Vec<String>, u8>,
        stack: &mut Vec<&'a Vec<String>>,
        circles: &mut Vec<String>,
    ) {
        colour.insert(m, 1);
        stack.push(m);
        for (t, _) in g.edges.get(m).into_iter().flatten() {
            match colour.get(t).copied().unwrap_or(0) {
                0 if g.edges.contains_key(t) => visit(t, g, colour, stack, circles),
                1 => {
                    let at = stack.iter().position(|s| *s == t).unwrap();
                    let names: Vec<String> = stack[at..].iter().map(|s| s.join("::")).collect();
                    circles.push(format!("{} -> {}", names.join(" -> "), t.join("::")));
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(m, 2);
    }
    let (mut colour, mut circles) = (BTreeMap::new(), Vec::new());
    for m in g.edges.keys() {
        if !colour.contains_key(m) {
            visit(m, &g, &mut colour, &mut Vec::new(), &mut circles);
        }
    }
    assert!(circles.is_empty(), "modules importing each other in a circle:\n{}", circles.join("\n"));
}

/// The reader itself: use-trees expand, and a path to an item lands in its module.
#[test]
fn paths_expand_use_trees_and_land_in_their_module() {
    let p = paths("use crate::world::{db_group::DbGroup, World};\nlet x = super::Input::Start;");
    assert_eq!(p, ["crate::world::db_group::DbGroup", "crate::world::World", "super::Input::Start"]);
    let modules: BTreeMap<Vec<String>, PathBuf> = [vec!["world".to_string()], vec!["world".into(), "db_group".into()]]
        .into_iter()
        .map(|m| (m, PathBuf::new()))
        .collect();
    let from = vec!["component".to_string(), "cache".to_string()];
    assert_eq!(target_module(&p[0], &from, &modules), Some(vec!["world".into(), "db_group".into()]));
    assert_eq!(target_module(&p[1], &from, &modules), Some(vec!["world".into()]));
    assert_eq!(layer(&["ctx".to_string()]), Some(5));
}
