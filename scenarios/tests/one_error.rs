//! One bad value gives one error: a declared name whose value is invalid is still
//! registered, so its uses are not reported as unknown names as well (a keyspace with
//! `zipf = -1` also gave `unknown keyspace` at every class that used it).

use scenarios::{Overrides, Source};

const SCENARIO: &str = r#"
name = "one-error"
title = "one error"
[run]
duration = "10s"
[keyspaces.items]
count = 100
[workload]
arrival = "poisson"
rate = 10
[[components]]
id = "web"
kind = "server"
service = "1ms"
[[components]]
id = "db"
kind = "database"
[[links]]
between = ["clients", "web"]
[[links]]
between = ["web", "db"]
[[classes]]
name = "p"
path = ["web"]
calls = ["db"]
keyspace = "items"
"#;

/// The messages of the errors the scenario gets with every `from` replaced by `to`.
fn errors(from: &str, to: &str) -> Vec<String> {
    assert!(SCENARIO.contains(from), "{from}");
    let source = Source { origin: "one.toml".into(), text: SCENARIO.replace(from, to) };
    match scenarios::parse(&source, &Overrides::default()) {
        Ok(_) => panic!("accepted with {to}"),
        Err(d) => d.items.into_iter().map(|d| d.message).collect(),
    }
}

#[test]
fn a_keyspace_with_a_bad_zipf_or_count_is_one_error() {
    assert_eq!(errors("count = 100", "count = 100\nzipf = -1"), ["zipf is -1, outside the accepted range 0 to 10"]);
    assert_eq!(errors("count = 100", "count = 0"), ["count is 0, outside the accepted range 1 to 1000000000000"]);
}

#[test]
fn a_component_with_a_bad_kind_or_id_is_one_error() {
    assert_eq!(errors("kind = \"server\"", "kind = \"sever\""), ["unknown component kind `sever`"]);
    assert_eq!(errors("kind = \"server\"", "kind = 3"), ["`kind` must be a string"]);
    assert_eq!(errors("\"db\"", "\"d.b\""), ["`d.b` is not a valid name: use 1 to 64 letters, digits, `_` or `-`"]);
}
