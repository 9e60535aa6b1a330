//! Stage two: from the serde mirror to a validated `Scenario` whose model the engine can
//! run. Names are resolved, units converted, limits checked and routes verified; every
//! problem found is collected (not just the first) with its place in the file.

use crate::components::{self, Fields, serves_requests};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::{Dim, Quantity, eval};
use crate::file::{ClassFile, ScenarioFile, WorkloadFile};
use crate::limits::*;
use crate::values::{Params, Values};
use crate::{Overrides, ParamInfo, Scenario};
use sim_core::ids::{ClassId, ComponentId};
use sim_core::model::{Arrival, ClassSpec, ClientsSpec, ComponentModel, ComponentSpec, Limits, Model};
use sim_core::network::{LinkSpec, Network};
use sim_core::{Delay, SimDuration};
use std::collections::BTreeMap;
use toml::{Spanned, Value};

/// The id of the implicit component that the `[workload]` table describes.
pub const CLIENTS: &str = "clients";

pub fn lower(file: ScenarioFile, source: &str, overrides: &Overrides) -> Result<Scenario, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let (params, param_infos) = params(&file, source, overrides, &mut errors);
    let v = Values { source, params: &params };

    // Components: the clients first (id 0), then the declared ones in file order.
    let mut names: Vec<String> = vec![CLIENTS.to_string()];
    let mut kinds: Vec<String> = vec![CLIENTS.to_string()];
    let mut models: Vec<Option<ComponentModel>> = vec![None];
    if file.components.len() > MAX_COMPONENTS {
        errors.push(Diagnostic::new(format!("{} components; the limit is {MAX_COMPONENTS}", file.components.len())));
    }
    for table in file.components.iter().take(MAX_COMPONENTS) {
        let f = Fields::new(table);
        let id = match f.string("id", "web1") {
            Ok((id, span)) => {
                if let Err(e) = check_id(&id) {
                    errors.push(Diagnostic::at(e, span));
                    continue;
                }
                if id == CLIENTS {
                    errors.push(
                        Diagnostic::at("`clients` is reserved for the [workload] population", span)
                            .help("choose another id"),
                    );
                    continue;
                }
                if names.contains(&id) {
                    errors.push(
                        Diagnostic::at(format!("two components are called `{id}`"), span)
                            .help("component ids must be unique"),
                    );
                    continue;
                }
                id
            }
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let (kind, kind_span) = match f.string("kind", "server") {
            Ok(k) => k,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match components::lower(&kind, kind_span, &f, &v) {
            Ok(m) => models.push(Some(m)),
            Err(mut e) => {
                errors.append(&mut e);
                models.push(None);
            }
        }
        names.push(id);
        kinds.push(kind);
    }
    let resolve = |name: &Spanned<String>, errors: &mut Vec<Diagnostic>| resolve(&names, name, errors);

    // Links.
    let mut links = Vec::new();
    if file.links.len() > MAX_LINKS {
        errors.push(Diagnostic::new(format!("{} links; the limit is {MAX_LINKS}", file.links.len())));
    }
    for l in file.links.iter().take(MAX_LINKS) {
        let ends = l.between.get_ref();
        if ends.len() != 2 {
            errors.push(
                Diagnostic::at(format!("a link joins exactly two components, found {}", ends.len()), l.between.span())
                    .help("write between = [\"web1\", \"db\"]"),
            );
            continue;
        }
        let (a, b) = (resolve(&ends[0], &mut errors), resolve(&ends[1], &mut errors));
        let latency = match &l.latency {
            Some(x) => v.delay(x, "latency").map_err(|e| errors.push(e)).ok(),
            None => Some(Delay::constant(SimDuration::ZERO)),
        };
        if let (Some(a), Some(b), Some(latency)) = (a, b, latency) {
            if a == b {
                errors.push(Diagnostic::at("a link cannot join a component to itself", l.between.span()));
                continue;
            }
            let base = format!("{}-{}", names[a.index()], names[b.index()]);
            let same =
                links.iter().filter(|x: &&LinkSpec| x.name == base || x.name.starts_with(&format!("{base}#"))).count();
            let name = if same == 0 { base } else { format!("{base}#{}", same + 1) };
            links.push(LinkSpec { name, a, b, latency });
        }
    }

    // Classes.
    if file.classes.is_empty() {
        errors.push(
            Diagnostic::new("the scenario has no [[classes]]")
                .help("add one: [[classes]] name = \"view\" path = [\"web1\"]"),
        );
    }
    if file.classes.len() > MAX_CLASSES {
        errors.push(Diagnostic::new(format!("{} classes; the limit is {MAX_CLASSES}", file.classes.len())));
    }
    let mut classes = Vec::new();
    let mut weights = Vec::new();
    for (ci, c) in file.classes.iter().take(MAX_CLASSES).enumerate() {
        if let Err(e) = check_id(c.name.get_ref()) {
            errors.push(Diagnostic::at(e, c.name.span()));
        }
        if file.classes[..ci].iter().any(|o| o.name.get_ref() == c.name.get_ref()) {
            errors.push(Diagnostic::at(format!("two classes are called `{}`", c.name.get_ref()), c.name.span()));
        }
        let weight = match &c.weight {
            Some(w) => v.number_in(w, Dim::Number, "weight", 0.0, 1e12).map_err(|e| errors.push(e)).unwrap_or(1.0),
            None => 1.0,
        };
        weights.push((ClassId(ci as u16), weight));
        if let Some(path) = class_path(c, &names, &kinds, &mut errors) {
            classes.push(ClassSpec { name: c.name.get_ref().clone(), origin: ComponentId(0), path });
        }
        class_services(ci, c, &names, &mut models, &v, &mut errors);
    }
    if !weights.is_empty() && weights.iter().all(|(_, w)| *w == 0.0) {
        errors.push(
            Diagnostic::new("every class has weight 0, so no request would ever be issued")
                .help("give at least one class a positive weight"),
        );
    }
    weights.retain(|(_, w)| *w > 0.0);

    // Run length.
    let duration = match &overrides.duration {
        Some(d) => Some(*d),
        None => v.duration(&file.run.duration, "duration").map_err(|e| errors.push(e)).ok(),
    };
    let warmup = match (&overrides.warmup, &file.run.warmup) {
        (Some(w), _) => Some(*w),
        (None, Some(w)) => v.duration(w, "warmup").map_err(|e| errors.push(e)).ok(),
        (None, None) => Some(SimDuration::ZERO),
    };
    let arrival = workload(&file.workload, &v, &mut errors);

    if !errors.is_empty() {
        return Err(errors);
    }
    let (duration, mut warmup, arrival) =
        (duration.expect("no errors"), warmup.expect("no errors"), arrival.expect("no errors"));
    let mut notes = Vec::new();
    if overrides.duration.is_some() && overrides.warmup.is_none() && warmup >= duration {
        let shorter = SimDuration(duration.as_nanos() / 10);
        notes.push(format!(
            "the scenario's warm-up ({warmup}) does not fit in --duration {duration}; using {shorter} (set it with --warmup)"
        ));
        warmup = shorter;
    }
    if duration == SimDuration::ZERO {
        return Err(vec![
            Diagnostic::at("the run's duration is zero", file.run.duration.span())
                .help("give a duration such as \"10m\""),
        ]);
    }
    if warmup >= duration {
        if overrides.warmup.is_some() {
            return Err(vec![Diagnostic::new(format!("--warmup {warmup} is not shorter than the run ({duration})"))]);
        }
        let span = file.run.warmup.as_ref().map_or(file.run.duration.span(), |w| w.span());
        return Err(vec![
            Diagnostic::at(format!("the warm-up ({warmup}) is not shorter than the run ({duration})"), span)
                .help("shorten the warm-up or lengthen the run"),
        ]);
    }
    let expected = match &arrival {
        Arrival::Poisson { rate_per_sec } => rate_per_sec * duration.as_secs_f64(),
        Arrival::Closed { users, think } => {
            f64::from(*users) * duration.as_secs_f64() / think.mean().as_secs_f64().max(1e-6)
        }
    };
    if expected > MAX_EXPECTED_REQUESTS {
        let span =
            file.workload.rate.as_ref().or(file.workload.users.as_ref()).map_or(file.run.duration.span(), |x| x.span());
        return Err(vec![
            Diagnostic::at(
                format!("this run would issue about {expected:.3e} requests; the limit is {MAX_EXPECTED_REQUESTS:.0e}"),
                span,
            )
            .help("shorten the run (--duration) or lower the load"),
        ]);
    }

    let mut components = vec![ComponentSpec {
        name: CLIENTS.to_string(),
        model: ComponentModel::Clients(ClientsSpec { arrival, class_weights: weights }),
    }];
    for (name, model) in names.iter().zip(models).skip(1) {
        components.push(ComponentSpec { name: name.clone(), model: model.expect("no errors") });
    }
    let model = Model {
        name: file.name.get_ref().clone(),
        components,
        links,
        classes,
        duration,
        warmup,
        limits: Limits { events_max: EVENTS_MAX, ..Limits::default() },
    };
    check_routes(&model, &file)?;
    Ok(Scenario {
        name: file.name.get_ref().clone(),
        title: file.title.get_ref().clone(),
        group: file.group.clone().unwrap_or_else(|| "other".to_string()),
        lesson: file.lesson.trim().to_string(),
        watch: file.watch.clone(),
        params: param_infos,
        seed: file.run.seed.unwrap_or(1),
        model,
        notes,
    })
}

/// The component called `name`, or an error with a suggestion.
fn resolve(names: &[String], name: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> Option<ComponentId> {
    if let Some(i) = names.iter().position(|n| n == name.get_ref()) {
        return Some(ComponentId(i as u32));
    }
    let d = Diagnostic::at(format!("unknown component `{}`", name.get_ref()), name.span());
    errors.push(match did_you_mean(name.get_ref(), names.iter().map(String::as_str)) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!("declared components: {}", names.join(", "))),
    });
    None
}

/// Component and class names become report keys and stream keys: keep them plain.
fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(format!("`{id}` is not a valid name: use 1 to 64 letters, digits, `_` or `-`"));
    }
    Ok(())
}

fn params(
    file: &ScenarioFile,
    source: &str,
    overrides: &Overrides,
    errors: &mut Vec<Diagnostic>,
) -> (Params, Vec<ParamInfo>) {
    let mut values = BTreeMap::new();
    let mut infos = Vec::new();
    if file.params.len() > MAX_PARAMS {
        errors.push(Diagnostic::new(format!("{} params; the limit is {MAX_PARAMS}", file.params.len())));
    }
    // Defaults are literals or expressions over no parameters, so their order is free.
    let empty = Params(BTreeMap::new());
    let v = Values { source, params: &empty };
    for (name, p) in &file.params {
        if let Err(e) = check_id(name.get_ref()) {
            errors.push(Diagnostic::at(e, name.span()));
            continue;
        }
        let dim = match p.unit.as_ref().map(|u| u.get_ref().as_str()) {
            Some("1/s") => Dim::Rate,
            Some("s") => Dim::Time,
            Some("ms" | "us" | "ns" | "m" | "h" | "d") => {
                let u = p.unit.as_ref().expect("matched");
                errors.push(
                    Diagnostic::at("a duration parameter takes unit = \"s\"", u.span())
                        .help("its default carries its own unit, such as default = \"20ms\""),
                );
                continue;
            }
            _ => Dim::Number,
        };
        let default = match v.quantity(&p.default, dim, &format!("default of `{}`", name.get_ref())) {
            Ok(x) => x,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        values.insert(name.get_ref().clone(), Quantity { value: default, dim });
        infos.push(ParamInfo {
            name: name.get_ref().clone(),
            value: default,
            default,
            dim,
            unit: p.unit.as_ref().map(|u| u.get_ref().clone()).unwrap_or_default(),
            description: p.description.clone(),
        });
    }
    for (name, text) in &overrides.set {
        let Some(info) = infos.iter_mut().find(|i| &i.name == name) else {
            let d = Diagnostic::new(format!("--set {name}={text}: the scenario has no parameter `{name}`"));
            let names: Vec<&str> = file.params.keys().map(|k| k.get_ref().as_str()).collect();
            errors.push(match did_you_mean(name, names.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None if names.is_empty() => d.help("this scenario declares no [params]"),
                None => d.help(format!("its parameters: {}", names.join(", "))),
            });
            continue;
        };
        match eval(text, &empty) {
            Ok(q) if q.dim == info.dim || (info.dim == Dim::Rate && q.dim == Dim::Number) => {
                info.value = q.value;
                values.insert(name.clone(), Quantity { value: q.value, dim: info.dim });
            }
            Ok(q) => errors.push(Diagnostic::new(format!(
                "--set {name}={text}: `{name}` is {}, but `{text}` is {}",
                info.dim.describe(),
                q.dim.describe()
            ))),
            Err(e) => errors.push(Diagnostic::new(format!("--set {name}={text}: {}", e.message))),
        }
    }
    (Params(values), infos)
}

fn workload(w: &WorkloadFile, v: &Values, errors: &mut Vec<Diagnostic>) -> Option<Arrival> {
    let missing = |key: &str, example: &str| {
        Diagnostic::at(format!("a `{}` workload needs `{key}`", w.arrival.get_ref()), w.arrival.span())
            .help(format!("add {key} = {example}"))
    };
    let misplaced = |key: &str, x: &toml::Spanned<Value>| {
        Diagnostic::at(format!("`{key}` does not apply to a `{}` workload", w.arrival.get_ref()), x.span())
    };
    match w.arrival.get_ref().as_str() {
        "poisson" => {
            for (key, x) in [("users", &w.users), ("think", &w.think)] {
                if let Some(x) = x {
                    errors.push(misplaced(key, x).help("`users` and `think` belong to arrival = \"closed\""));
                }
            }
            let Some(rate) = &w.rate else {
                errors.push(missing("rate", "100  # requests per second"));
                return None;
            };
            let rate = v.positive(rate, Dim::Rate, "rate", MAX_RATE).map_err(|e| errors.push(e)).ok()?;
            Some(Arrival::Poisson { rate_per_sec: rate })
        }
        "closed" => {
            if let Some(x) = &w.rate {
                errors.push(misplaced("rate", x).help("a closed workload's rate follows from users and think time"));
            }
            let users = match &w.users {
                Some(u) => v.count(u, "users", 1, MAX_USERS).map_err(|e| errors.push(e)).ok(),
                None => {
                    errors.push(missing("users", "100"));
                    None
                }
            };
            let think = match &w.think {
                Some(t) => v.delay(t, "think").map_err(|e| errors.push(e)).ok(),
                None => {
                    errors.push(missing("think", "\"exp(5s)\""));
                    None
                }
            };
            Some(Arrival::Closed { users: users? as u32, think: think? })
        }
        other => {
            let d = Diagnostic::at(format!("unknown arrival process `{other}`"), w.arrival.span());
            errors.push(match did_you_mean(other, ["poisson", "closed"]) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("use \"poisson\" (open loop) or \"closed\" (users with think time)"),
            });
            None
        }
    }
}

fn class_path(
    c: &ClassFile,
    names: &[String],
    kinds: &[String],
    errors: &mut Vec<Diagnostic>,
) -> Option<Vec<ComponentId>> {
    let steps = c.path.get_ref();
    if steps.is_empty() {
        errors.push(
            Diagnostic::at(format!("class `{}` has an empty path", c.name.get_ref()), c.path.span())
                .help("list the components a request visits, such as path = [\"lb\", \"web1\", \"db\"]"),
        );
        return None;
    }
    if steps.len() > MAX_PATH_LEN {
        errors.push(Diagnostic::at(
            format!("the path has {} steps; the limit is {MAX_PATH_LEN}", steps.len()),
            c.path.span(),
        ));
        return None;
    }
    let mut path = Vec::new();
    let mut ok = true;
    for step in steps {
        match resolve(names, step, errors) {
            Some(id) if !serves_requests(&kinds[id.index()]) => {
                errors.push(Diagnostic::at(
                    format!("`{}` is a `{}`, which does not serve requests", names[id.index()], kinds[id.index()]),
                    step.span(),
                ));
                ok = false;
            }
            Some(id) => path.push(id),
            None => ok = false,
        }
    }
    ok.then_some(path)
}

/// Applies a class's `service = { web1 = "exp(30ms)" }` overrides to the servers named.
fn class_services(
    ci: usize,
    c: &ClassFile,
    names: &[String],
    models: &mut [Option<ComponentModel>],
    v: &Values,
    errors: &mut Vec<Diagnostic>,
) {
    for (target, value) in &c.service {
        let on_path = c.path.get_ref().iter().any(|s| s.get_ref() == target.get_ref());
        let Some(i) = names.iter().position(|n| n == target.get_ref()).filter(|_| on_path) else {
            errors.push(
                Diagnostic::at(
                    format!("`{}` is not on class `{}`'s path", target.get_ref(), c.name.get_ref()),
                    target.span(),
                )
                .help("service overrides apply to components on the class's path"),
            );
            continue;
        };
        match (v.delay(value, "service"), &mut models[i]) {
            (Ok(d), Some(ComponentModel::Server(s))) => s.service_by_class.push((ClassId(ci as u16), d)),
            (Ok(_), _) => {}
            (Err(e), _) => errors.push(e),
        }
    }
}

fn check_routes(model: &Model, file: &ScenarioFile) -> Result<(), Vec<Diagnostic>> {
    let net = Network::new(model.components.len(), model.links.clone(), 0);
    let mut errors = Vec::new();
    for (class, cf) in model.classes.iter().zip(file.classes.iter()) {
        let mut at = class.origin;
        for (step, span) in class.path.iter().zip(cf.path.get_ref().iter().map(|s| s.span())) {
            if net.route(at, *step).is_none() {
                let (from, to) = (&model.components[at.index()].name, &model.components[step.index()].name);
                errors.push(
                    Diagnostic::at(format!("class `{}`: no link path from `{from}` to `{to}`", class.name), span)
                        .help(format!("add [[links]] between = [\"{from}\", \"{to}\"]")),
                );
                break;
            }
            at = *step;
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}
