//! `scalelab diagram`: every service and every call of the model is drawn, the Mermaid and
//! DOT texts are well formed, a small scenario's diagram is as committed, and bad input
//! gets the same errors as `run`.

mod common;

use std::collections::BTreeSet;

/// The model's services and the (caller, callee) pairs its classes' flows call along.
fn model_graph(name: &str) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let scenario = scenarios::load(name, &scenarios::Overrides::default()).expect("a built-in loads");
    let m = &scenario.model;
    let service = |i: usize| m.services[i].name.clone();
    let mut calls = BTreeSet::new();
    for class in &m.classes {
        let origin = m.components[class.origin.index()].service.index();
        calls.insert((service(origin), service(class.flow[0].service.index())));
        for node in &class.flow {
            for &c in &node.calls {
                calls.insert((service(node.service.index()), service(class.flow[usize::from(c)].service.index())));
            }
        }
    }
    (m.services.iter().map(|s| s.name.clone()).collect(), calls)
}

/// Brackets, braces and parentheses close in the order they opened, over the whole text,
/// and unescaped quotes pair up on every line.
fn assert_balanced(text: &str) {
    let mut open = Vec::new();
    for line in text.lines() {
        for c in line.chars() {
            match c {
                '(' | '[' | '{' => open.push(c),
                ')' | ']' | '}' => {
                    let want = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    assert_eq!(open.pop(), Some(want), "`{c}` closes what it did not open: {line}");
                }
                _ => {}
            }
        }
        let quotes = line.matches('"').count() - line.matches("\\\"").count();
        assert!(quotes.is_multiple_of(2), "odd quotes: {line}");
    }
    assert!(open.is_empty(), "left open: {open:?}");
}

/// A Mermaid flowchart's nodes (id to service name, from the bold first line of the label)
/// and its solid (call) edges as name pairs; every edge's ends must be declared nodes.
fn mermaid_graph(text: &str) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    assert!(text.starts_with("flowchart TD\n"), "{text}");
    let mut nodes = std::collections::BTreeMap::new();
    let mut calls = BTreeSet::new();
    let mut edges = Vec::new();
    for line in text.lines().skip(1).map(str::trim).filter(|l| !l.starts_with("%%")) {
        if let Some((from, rest)) = line.split_once(" -->|") {
            let to = rest.rsplit_once("| ").expect("a labelled edge").1;
            edges.push((from.to_string(), to.to_string(), true));
        } else if let Some((a, rest)) = line.split_once(" -.-") {
            edges.push((a.to_string(), rest.rsplit(' ').next().unwrap().to_string(), false));
        } else {
            let id: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let name = line.split_once("<b>").and_then(|(_, r)| r.split_once("</b>")).expect("a node").0;
            assert!(nodes.insert(id, name.to_string()).is_none(), "declared twice: {line}");
        }
    }
    for (a, b, call) in edges {
        let name = |id: &str| nodes.get(id).unwrap_or_else(|| panic!("edge end `{id}` is not declared")).clone();
        let pair = (name(&a), name(&b));
        if call {
            calls.insert(pair);
        }
    }
    (nodes.into_values().collect(), calls)
}

/// A DOT graph's nodes and its call edges (those without `dir=none`), by name.
fn dot_graph(text: &str) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    assert!(text.starts_with("digraph \"") && text.ends_with("}\n"), "{text}");
    let unquote = |s: &str| s.trim().trim_matches('"').to_string();
    let mut nodes = BTreeSet::new();
    let mut calls = BTreeSet::new();
    let mut edges = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some((a, rest)) = line.split_once(" -> ") {
            let (b, attrs) = rest.split_once(" [").expect("edge attributes");
            edges.push((unquote(a), unquote(b), !attrs.contains("dir=none")));
        } else if line.starts_with('"') && line.contains(" [shape=") {
            nodes.insert(unquote(line.split_once(" [").unwrap().0));
        }
    }
    for (a, b, call) in edges {
        assert!(nodes.contains(&a) && nodes.contains(&b), "edge {a} -> {b} has an undeclared end");
        if call {
            calls.insert((a, b));
        }
    }
    (nodes, calls)
}

#[test]
fn pixelcraft_diagrams_draw_every_service_and_every_call_of_the_model() {
    let (services, calls) = model_graph("pixelcraft-1m");
    assert!(services.len() >= 12 && calls.len() >= 14, "{services:?} {calls:?}");
    let mermaid = common::ok(&["diagram", "pixelcraft-1m"]);
    assert_balanced(&mermaid);
    assert_eq!(mermaid_graph(&mermaid), (services.clone(), calls.clone()));
    let dot = common::ok(&["diagram", "pixelcraft-1m", "--format", "dot"]);
    assert_balanced(&dot);
    assert_eq!(dot_graph(&dot), (services, calls));
    assert_eq!(common::ok(&["diagram", "pixelcraft-1m", "--format", "both"]), format!("{mermaid}\n{dot}"));
}

#[test]
fn pixelcraft_nodes_say_kind_count_replicas_and_shards_and_edges_their_latency() {
    let mermaid = common::ok(&["diagram", "pixelcraft-1m"]);
    for want in [
        r#"s_web["<b>web</b><br/>×10 server"]"#,
        r#"s_redis["<b>redis</b><br/>×3 cache · 3 shards by key (hash_mod)"]"#,
        "<b>mongo</b><br/>database · primary + 2 replicas (async) · reads from replicas · 1ms apart",
        r#"s_clients -->|"view_image, feed, analytics_event:write, upload:write · ~30ms"| s_lb"#,
        r#"s_web -->|"upload:write · 5ms"| s_s3"#,
        r#"s_ws -.-|"500us"| s_bus"#,
    ] {
        assert!(mermaid.contains(want), "no `{want}` in\n{mermaid}");
    }
    // The populations come first, so a top-down chart puts them at the top.
    let first: Vec<&str> = mermaid.lines().skip(2).take(2).collect();
    assert!(first[0].starts_with("    s_clients([") && first[1].starts_with("    s_cursor_users(["), "{first:?}");
    // --set changes what is drawn, as it changes what runs.
    let four = common::ok(&["diagram", "pixelcraft-1m", "--set", "web.count=4"]);
    assert!(four.contains(r#"s_web["<b>web</b><br/>×4 server"]"#), "{four}");
}

#[test]
fn stage_04_diagrams_are_as_committed() {
    insta::assert_snapshot!("stage_04_mermaid", common::ok(&["diagram", "stage-04"]));
    insta::assert_snapshot!("stage_04_dot", common::ok(&["diagram", "stage-04", "--format", "dot"]));
}

#[test]
fn bad_names_and_files_get_the_errors_run_gives() {
    for bad in ["pixelcraft-1n", "tests/bad_scenarios/dangling_reference.toml", "tests/no-such-file.toml"] {
        let run = common::scalelab(&["run", bad]);
        let diagram = common::scalelab(&["diagram", bad]);
        assert_eq!(diagram.status.code(), Some(1), "{bad}");
        assert_eq!(run.status.code(), diagram.status.code(), "{bad}");
        assert!(!common::stderr(&diagram).is_empty() && diagram.stdout.is_empty(), "{bad}");
        assert_eq!(common::stderr(&run), common::stderr(&diagram), "{bad}");
    }
    let o = common::scalelab(&["diagram", "stage-04", "--format", "png"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("possible values: mermaid, dot, both"), "{}", common::stderr(&o));
}
