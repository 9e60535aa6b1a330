//! `--set ID.KEY=VALUE`: replace (or add) one key of a `[[components]]` table, as if the
//! file said so. `--set lb.policy=least_connections`, `--set web.count=8`.
//!
//! The value is read as a TOML value when it is one (`8`, `true`, `"x"`), else as a
//! string (`least_connections`, `25ms`, `lognormal(mean = 25ms, cv = 0.5)`). It then goes
//! through the same checks as the file's own keys; a problem with it is reported against
//! the `--set` that gave it, since it has no place in the file.

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::file::ScenarioFile;
use std::ops::Range;
use toml::{Spanned, Value};

/// Whether an override names a component field rather than a parameter.
pub fn is_field(name: &str) -> bool {
    name.contains('.')
}

/// Spans past the end of the source mark values that came from an override: override
/// `i` owns `STRIDE` positions from `source_len + 1 + i * STRIDE`, so that an error at an
/// offset inside its value (an expression's unknown name, past the opening quote) still
/// names override `i`, not the next one. No command-line argument is this long.
const STRIDE: usize = 1 << 24;

fn span(source_len: usize, i: usize) -> Range<usize> {
    let at = source_len + 1 + i * STRIDE;
    at..at
}

fn value(text: &str) -> Value {
    match format!("v = {text}").parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").expect("parsed the key"),
        Err(_) => Value::String(text.to_string()),
    }
}

/// Applies the field overrides among `set` to `file`'s components.
pub fn apply(file: &mut ScenarioFile, set: &[(String, String)], source_len: usize) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for (i, (name, text)) in set.iter().enumerate().filter(|(_, (n, _))| is_field(n)) {
        let (id, key) = name.split_once('.').expect("a field override has a dot");
        if matches!(key, "id" | "kind") {
            errors.push(
                Diagnostic::new(format!("--set {name}={text}: a component's `{key}` cannot be overridden"))
                    .help("copy the scenario (`scalelab show NAME`) and edit the file"),
            );
            continue;
        }
        let known: Vec<String> = file
            .components
            .iter()
            .filter_map(|c| c.get_ref().iter().find(|(k, _)| k.get_ref() == "id"))
            .filter_map(|(_, v)| v.get_ref().as_str().map(str::to_string))
            .collect();
        let Some(table) = file
            .components
            .iter_mut()
            .find(|c| c.get_ref().iter().any(|(k, v)| k.get_ref() == "id" && v.get_ref().as_str() == Some(id)))
        else {
            let d = Diagnostic::new(format!("--set {name}={text}: the scenario has no component `{id}`"));
            errors.push(match did_you_mean(id, known.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}.{key}`?")),
                None => d.help(format!("its components: {}", known.join(", "))),
            });
            continue;
        };
        let span = span(source_len, i);
        let map = table.get_mut();
        map.retain(|k, _| k.get_ref() != key);
        map.insert(Spanned::new(span.clone(), key.to_string()), Spanned::new(span, value(text)));
    }
    errors
}

/// Turns diagnostics located at an override's value into ones that name the override.
pub fn relocate(diagnostics: &mut [Diagnostic], set: &[(String, String)], source_len: usize) {
    for d in diagnostics {
        let Some(at) = d.span.clone().filter(|s| s.start > source_len) else { continue };
        if let Some((name, text)) = set.get((at.start - source_len - 1) / STRIDE) {
            d.message = format!("--set {name}={text}: {}", d.message);
            d.span = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::value;
    use toml::Value;

    #[test]
    fn values_are_toml_when_they_parse_and_strings_otherwise() {
        assert_eq!(value("8"), Value::Integer(8));
        assert_eq!(value("true"), Value::Boolean(true));
        assert_eq!(value("least_connections"), Value::String("least_connections".into()));
        assert_eq!(value("25ms"), Value::String("25ms".into()));
        assert_eq!(value("\"a b\""), Value::String("a b".into()));
    }
}
