//! Stage two for `[[components]]`: each table's keys depend on its `kind`, so components
//! are read as spanned key/value maps and checked here, key by key.

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::limits::{MAX_QUEUE_CAPACITY, MAX_WORKERS};
use crate::values::Values;
use sim_core::model::{ComponentModel, ServerSpec};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::{Spanned, Value};

/// Component kinds a scenario may declare, with the keys each accepts (besides `id`, `kind`).
pub const KINDS: [(&str, &[&str]); 1] = [("server", &["workers", "queue_capacity", "service"])];

/// Kinds that serve requests, and so may stand on a class's path.
pub fn serves_requests(kind: &str) -> bool {
    kind == "server"
}

/// One component table, with the keys read so far.
pub struct Fields<'a> {
    pub span: Range<usize>,
    map: &'a BTreeMap<Spanned<String>, Spanned<Value>>,
}

impl<'a> Fields<'a> {
    pub fn new(table: &'a Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>) -> Fields<'a> {
        Fields { span: table.span(), map: table.get_ref() }
    }

    pub fn get(&self, key: &str) -> Option<&'a Spanned<Value>> {
        self.map.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
    }

    /// A string field, such as `id` or `kind`.
    pub fn string(&self, key: &str, example: &str) -> Result<(String, Range<usize>), Diagnostic> {
        match self.get(key) {
            Some(v) => match v.get_ref() {
                Value::String(s) => Ok((s.clone(), v.span())),
                _ => Err(Diagnostic::at(format!("`{key}` must be a string"), v.span())
                    .help(format!("for example {key} = \"{example}\""))),
            },
            None => Err(Diagnostic::at(format!("this component has no `{key}`"), self.span.clone())
                .help(format!("add {key} = \"{example}\""))),
        }
    }

    /// Keys not in `allowed`, each with a suggestion.
    pub fn unknown_keys(&self, kind: &str, allowed: &[&str]) -> Vec<Diagnostic> {
        self.map
            .keys()
            .filter(|k| !["id", "kind"].contains(&k.get_ref().as_str()) && !allowed.contains(&k.get_ref().as_str()))
            .map(|k| {
                let d =
                    Diagnostic::at(format!("unknown key `{}` for a component of kind `{kind}`", k.get_ref()), k.span());
                match did_you_mean(k.get_ref(), allowed.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("a `{kind}` accepts: id, kind, {}", allowed.join(", "))),
                }
            })
            .collect()
    }
}

/// Lowers the kind-specific part of one component.
pub fn lower(kind: &str, kind_span: Range<usize>, f: &Fields, v: &Values) -> Result<ComponentModel, Vec<Diagnostic>> {
    let Some((_, allowed)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        let d = Diagnostic::at(format!("unknown component kind `{kind}`"), kind_span);
        return Err(vec![match did_you_mean(kind, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("known kinds: {}", names.join(", "))),
        }]);
    };
    let mut errors = f.unknown_keys(kind, allowed);
    let model = match kind {
        "server" => server(f, v),
        _ => unreachable!("every listed kind is lowered"),
    };
    match model {
        Ok(m) if errors.is_empty() => Ok(m),
        Ok(_) => Err(errors),
        Err(mut e) => {
            errors.append(&mut e);
            Err(errors)
        }
    }
}

fn server(f: &Fields, v: &Values) -> Result<ComponentModel, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let workers = f.get("workers").map_or(Ok(1), |x| v.count(x, "workers", 1, MAX_WORKERS));
    let queue_capacity =
        f.get("queue_capacity").map_or(Ok(1000), |x| v.count(x, "queue_capacity", 0, MAX_QUEUE_CAPACITY));
    let service = match f.get("service") {
        Some(x) => v.delay(x, "service"),
        None => Err(Diagnostic::at("this server has no `service` time", f.span.clone())
            .help("add service = \"exp(20ms)\" (or const, uniform, lognormal, pareto)")),
    };
    let (workers, queue_capacity, service) = match (workers, queue_capacity, service) {
        (Ok(w), Ok(q), Ok(s)) => (w, q, s),
        (w, q, s) => {
            errors.extend(w.err());
            errors.extend(q.err());
            errors.extend(s.err());
            return Err(errors);
        }
    };
    Ok(ComponentModel::Server(ServerSpec {
        workers: workers as u32,
        queue_capacity: queue_capacity as u32,
        service,
        service_by_class: Vec::new(),
    }))
}
