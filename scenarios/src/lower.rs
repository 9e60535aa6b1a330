//! Stage two: from the serde mirror to a validated `Scenario` whose model the engine can
//! run. Names are resolved, units converted, limits checked and routes verified; every
//! problem found is collected (not just the first) with its place in the file.
//!
//! Each `[[components]]` entry is a service; `count = N` makes N instances named
//! `id-1` .. `id-N` (just `id` when N is 1). Classes name services; links join services
//! (every instance of one to every instance of the other) or single instances.

use crate::components::{self, Fields, Resolver};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::{Dim, Quantity, eval};
use crate::field_override;
use crate::file::{ClassFile, ParamFile, ScenarioFile, WorkloadFile};
use crate::limits::*;
use crate::values::{Params, Values};
use crate::{Overrides, ParamInfo, Scenario};
use sim_core::event::Op;
use sim_core::kernel::ids::{ClassId, ComponentId, KeyspaceId, ServiceId};
use sim_core::model::LinkSpec;
use sim_core::model::cost::CostSpec;
use sim_core::model::gateway::GatewaySpec;
use sim_core::model::{
    Arrival, ClassSpec, ClientsSpec, ComponentModel, ComponentSpec, FlowNode, KeyspaceSpec, Limits, Model, Routing,
    ServerSpec, ServiceSpec, Surge,
};
use sim_core::{Delay, SimDuration};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use toml::{Spanned, Value};

/// The id of the implicit component that the `[workload]` table describes.
pub const CLIENTS: &str = "clients";

/// Calls time out after this long unless the class says otherwise.
const DEFAULT_TIMEOUT: SimDuration = SimDuration::from_secs(30);

/// A declared service before its model is lowered.
struct Decl<'a> {
    name: String,
    span: Range<usize>,
    kind: String,
    kind_span: Range<usize>,
    count: u32,
    fields: Option<Fields<'a>>,
}

pub fn lower(mut file: ScenarioFile, source: &str, overrides: &Overrides) -> Result<Scenario, Vec<Diagnostic>> {
    let errors = field_override::apply(&mut file, &overrides.set, source.len());
    lower_with(file, source, overrides, errors).map_err(|mut errors| {
        field_override::relocate(&mut errors, &overrides.set, source.len());
        errors
    })
}

/// Stage two, in order: parameters, keyspaces, services and their instances, component
/// models, links, costs, classes and their flows, faults, the run's window and load,
/// then the model, its routes, the expectations and the guided steps. Each step collects its errors; the
/// model is built only when there are none. Kept as one function: it is stage two's table
/// of contents.
fn lower_with(
    file: ScenarioFile,
    source: &str,
    overrides: &Overrides,
    mut errors: Vec<Diagnostic>,
) -> Result<Scenario, Vec<Diagnostic>> {
    let (params, param_infos) = params(&file, source, overrides, &mut errors);
    let v = Values { source, params: &params };
    let keyspaces = keyspaces(&file, &v, &mut errors);
    let mut decls = declare(&file, &v, &mut errors);
    let populations = 1 + file.workloads.len();
    let service_names: Vec<String> = decls.iter().map(|d| d.name.clone()).collect();
    let service_kinds: Vec<String> = decls.iter().map(|d| d.kind.clone()).collect();
    let counts: Vec<u32> = decls.iter().map(|d| d.count).collect();
    let resolver = Resolver { names: &service_names, counts: &counts, kinds: &service_kinds, keyspaces: &keyspaces };
    // Scale faults may need more instances than `count`: lowered with them, held back.
    let lowered = crate::scaling::lowered_counts(&file, &service_names, &counts, &v);
    decls.iter_mut().zip(&lowered).for_each(|(d, &n)| d.count = n);
    let instances = instances(&decls, &service_names, &mut errors).ok_or_else(|| errors.clone())?;
    let (mut models, routings) = component_models(&decls, populations, &v, &resolver, &mut errors);
    crate::scaling::hold_back(&mut models, &counts, &lowered);
    let Instances { names: instance_names, services: service_instances, .. } = &instances;
    let links = links(&file, &service_names, instance_names, service_instances, &v, &mut errors);
    let costs = costs(&file, &decls, &v, &mut errors);
    let (mut classes, weights) = classes(&file, &decls, &resolver, &mut models, &v, &mut errors);
    append_limit_checks(&mut classes, &models);
    check_flows(&file, &classes, &decls, &models, &routings, &mut errors);
    let mut warnings = empty_caches(&file, &classes, &decls);
    field_override::relocate(&mut warnings, &overrides.set, source.len());
    let closed: Vec<bool> = std::iter::once(&file.workload)
        .chain(file.workloads.values())
        .map(|w| w.arrival.get_ref() == "closed")
        .collect();
    let names = crate::fault::Names {
        services: service_names.clone(),
        instances: instance_names.clone(),
        service_instances: service_instances.clone(),
        closed,
        scaling: crate::scaling::scaling(&service_names, &models, service_instances, &classes),
        capacities: crate::scaling::capacities(&models, &instances.service),
    };
    let (faults, partitions) = crate::fault_file::lower_all(&file.faults, &names, &v, &mut errors);
    let breakers =
        crate::breaker::lower_all(&file.breakers, &service_names, &classes, &instances.service, &v, &mut errors);
    let window = run_window(&file, overrides, &v, &mut errors);
    let arrivals: Vec<Option<Population>> =
        std::iter::once(&file.workload).chain(file.workloads.values()).map(|w| workload(w, &v, &mut errors)).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut notes = Vec::new();
    let (duration, warmup) = checked_window(&file, overrides, window.expect("no errors"), &mut notes)?;
    let arrivals: Vec<Population> = arrivals.into_iter().map(|a| a.expect("no errors")).collect();
    check_fault_times(&file, &v, overrides, duration, &mut notes)?;
    check_text(&file)?;
    let (components, services) = assemble(&decls, &instances, models, routings, arrivals, weights);
    let model = Model {
        name: file.name.get_ref().clone(),
        components,
        services,
        links,
        classes,
        keyspaces: keyspaces.into_iter().map(|(_, k)| k).collect(),
        faults,
        partitions,
        breakers,
        costs,
        duration,
        warmup,
        limits: Limits { events_max: EVENTS_MAX, ..Limits::default() },
    };
    check_budget(&file, &model)?;
    check_routes(&model, &file)?;
    let expectations = expectations(&file, &model, overrides, &mut notes)?;
    let overridden = !overrides.set.is_empty() || overrides.duration.is_some();
    let steps = crate::steps::lower(&file.steps, &model, &v, overridden, &mut notes)?;
    let chaos = chaos_limits(file.chaos.as_ref(), &v)?;
    Ok(Scenario {
        chaos,
        name: file.name.get_ref().clone(),
        title: file.title.get_ref().clone(),
        group: file.group.clone().unwrap_or_else(|| "other".to_string()),
        lesson: file.lesson.trim().to_string(),
        watch: file.watch.clone(),
        params: param_infos,
        seed: file.run.seed.unwrap_or(1),
        model,
        expectations,
        steps,
        notes,
        warnings,
        warnings_text: String::new(),
        names,
    })
}

/// The store a server service's rate limit keeps its count in (`rate_limit.store`).
fn limit_store(model: Option<&ComponentModel>) -> Option<ServiceId> {
    match model? {
        ComponentModel::Server(ServerSpec { admission, .. })
        | ComponentModel::Gateway(GatewaySpec { admission, .. }) => {
            Some(admission.as_ref()?.rate_limit?.store?.service)
        }
        _ => None,
    }
}

/// A rate limit kept in a store checks each request with a call to it: one flow node a
/// class and store, appended to each class that visits such a server and called by no
/// other node (`component::admission::check_node` finds it so).
fn append_limit_checks(classes: &mut [ClassSpec], models: &[Option<ComponentModel>]) {
    for class in classes {
        let stores: BTreeSet<ServiceId> =
            class.flow.iter().filter_map(|n| limit_store(models.get(n.service.index())?.as_ref())).collect();
        for store in stores {
            class.flow.push(FlowNode::call(store, Op::Write, vec![]));
        }
    }
}

/// The services: the populations first (the clients are service 0, instance 0; then the
/// named `[workloads]`, one instance each), then the declared components.
fn declare<'a>(file: &'a ScenarioFile, v: &Values, errors: &mut Vec<Diagnostic>) -> Vec<Decl<'a>> {
    let mut decls: Vec<Decl> =
        vec![Decl { name: CLIENTS.into(), span: 0..0, kind: CLIENTS.into(), kind_span: 0..0, count: 1, fields: None }];
    for name in file.workloads.keys() {
        if let Err(e) = check_id(name.get_ref()) {
            errors.push(Diagnostic::at(e, name.span()));
        } else if name.get_ref() == CLIENTS {
            errors.push(
                Diagnostic::at("`clients` is the [workload] population", name.span())
                    .help("name this population after its users, such as [workloads.cursor_users]"),
            );
        }
        let (span, kind) = (name.span(), CLIENTS.to_string());
        decls.push(Decl { name: name.get_ref().clone(), span, kind, kind_span: 0..0, count: 1, fields: None });
    }
    if file.components.len() > MAX_COMPONENTS {
        errors.push(Diagnostic::new(format!("{} components; the limit is {MAX_COMPONENTS}", file.components.len())));
    }
    for table in file.components.iter().take(MAX_COMPONENTS) {
        let f = Fields::new(table);
        let (name, span) = match f.string("id", "web") {
            Ok(x) => x,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        // A bad id or kind is reported once: the component is still declared under its id
        // (its kind left empty, so no model is lowered), and its uses are not unknown names.
        if let Err(e) = check_id(&name) {
            errors.push(Diagnostic::at(e, span.clone()));
        }
        if name == CLIENTS {
            errors.push(
                Diagnostic::at("`clients` is reserved for the [workload] population", span).help("choose another id"),
            );
            continue;
        }
        if decls.iter().any(|d| d.name == name) {
            errors.push(
                Diagnostic::at(format!("two components are called `{name}`"), span)
                    .help("component ids must be unique"),
            );
            continue;
        }
        let (kind, kind_span) = match f.string("kind", "server") {
            Ok(k) => k,
            Err(e) => {
                errors.push(e);
                (String::new(), span.clone())
            }
        };
        let count = components::instance_count(&kind, &f, v).map_err(|e| errors.push(e)).unwrap_or(1);
        decls.push(Decl { name, span, kind, kind_span, count, fields: Some(f) });
    }
    decls
}

/// Every instance: its name, its service, and each service's instances.
struct Instances {
    names: Vec<String>,
    service: Vec<usize>,
    services: Vec<Vec<ComponentId>>,
}

/// Names the instances (`id-1` .. `id-N`); `None` past the limit on instances.
fn instances(decls: &[Decl], service_names: &[String], errors: &mut Vec<Diagnostic>) -> Option<Instances> {
    // Counted before any is named, so that a file over the limit costs nothing to refuse.
    let total: u64 = decls.iter().map(|d| u64::from(d.count)).sum();
    if total > MAX_COMPONENTS as u64 {
        let largest = decls.iter().max_by_key(|d| d.count).expect("some instances");
        errors.push(
            Diagnostic::at(
                format!(
                    "{total} instances in all; the limit is {MAX_COMPONENTS} (`{}` alone has {})",
                    largest.name, largest.count
                ),
                largest.span.clone(),
            )
            .help("lower some `count`"),
        );
        return None;
    }
    let services: BTreeSet<&str> = service_names.iter().map(String::as_str).collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut instance_names: Vec<String> = Vec::new();
    let mut instance_service: Vec<usize> = Vec::new();
    let mut service_instances: Vec<Vec<ComponentId>> = Vec::new();
    for (si, d) in decls.iter().enumerate() {
        let mut ids = Vec::new();
        for k in 1..=d.count {
            let name = if d.count == 1 { d.name.clone() } else { format!("{}-{k}", d.name) };
            if !taken.insert(name.clone()) || (d.count > 1 && services.contains(name.as_str())) {
                errors.push(
                    Diagnostic::at(format!("instance name `{name}` is taken twice"), d.span.clone())
                        .help("rename the component, or the one whose id looks like an instance name"),
                );
            }
            ids.push(ComponentId(instance_names.len() as u32));
            instance_names.push(name);
            instance_service.push(si);
        }
        service_instances.push(ids);
    }
    Some(Instances { names: instance_names, service: instance_service, services: service_instances })
}

/// Each declared component's model and routing (populations get theirs from workloads);
/// they may name any service (a balancer's backends).
fn component_models(
    decls: &[Decl],
    populations: usize,
    v: &Values,
    resolver: &Resolver,
    errors: &mut Vec<Diagnostic>,
) -> (Vec<Option<ComponentModel>>, Vec<Routing>) {
    let mut models: Vec<Option<ComponentModel>> = vec![None; populations];
    let mut routings: Vec<Routing> = vec![Routing::RoundRobin; populations];
    for d in decls.iter().skip(populations) {
        let f = d.fields.as_ref().expect("declared components have fields");
        if d.kind.is_empty() {
            // Its `kind` was missing or not a string: reported in `declare`.
            models.push(None);
            routings.push(Routing::RoundRobin);
            continue;
        }
        match components::lower(&d.kind, d.kind_span.clone(), f, v, resolver) {
            Ok((m, routing)) => {
                models.push(Some(m));
                routings.push(routing);
            }
            Err(mut e) => {
                errors.append(&mut e);
                models.push(None);
                routings.push(Routing::RoundRobin);
            }
        }
    }
    (models, routings)
}

/// The classes, and per population the weights of the classes it issues.
fn classes(
    file: &ScenarioFile,
    decls: &[Decl],
    resolver: &Resolver,
    models: &mut [Option<ComponentModel>],
    v: &Values,
    errors: &mut Vec<Diagnostic>,
) -> (Vec<ClassSpec>, Vec<Vec<(ClassId, f64)>>) {
    let populations = 1 + file.workloads.len();
    let service_names = resolver.names;
    if file.classes.is_empty() {
        errors.push(
            Diagnostic::new("the scenario has no [[classes]]")
                .help("add one: [[classes]] name = \"view\" path = [\"web\"]"),
        );
    }
    if file.classes.len() > MAX_CLASSES {
        errors.push(Diagnostic::new(format!("{} classes; the limit is {MAX_CLASSES}", file.classes.len())));
    }
    let mut classes = Vec::new();
    let mut weights: Vec<Vec<(ClassId, f64)>> = vec![Vec::new(); populations];
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
        let origin = match &c.from {
            None => Some(0),
            Some(from) => {
                let found = service_names[..populations].iter().position(|n| n == from.get_ref());
                if found.is_none() {
                    let d = Diagnostic::at(format!("`{}` is not a user population", from.get_ref()), from.span());
                    errors.push(match did_you_mean(from.get_ref(), service_names[..populations].iter().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!(
                            "populations are `clients` (the [workload]) and the [workloads.NAME] tables; add [workloads.{}]",
                            from.get_ref()
                        )),
                    });
                }
                found
            }
        };
        if let Some(o) = origin {
            weights[o].push((ClassId(ci as u16), weight));
        }
        if let Some(mut class) = class(c, resolver, v, errors) {
            class.origin = ComponentId(origin.unwrap_or(0) as u32);
            classes.push(class);
        }
        class_services(ci, c, service_names, models, v, errors);
    }
    if errors.is_empty() {
        check_weights(decls, &mut weights, errors);
    }
    (classes, weights)
}

/// Every population issues some class with a positive weight; zero weights are dropped.
fn check_weights(decls: &[Decl], weights: &mut [Vec<(ClassId, f64)>], errors: &mut Vec<Diagnostic>) {
    for (pi, w) in weights.iter_mut().enumerate() {
        let (name, span) = (&decls[pi].name, decls[pi].span.clone());
        let at = |m: String| if pi == 0 { Diagnostic::new(m) } else { Diagnostic::at(m, span.clone()) };
        if w.is_empty() {
            errors.push(
                at(format!("the population `{name}` issues no class"))
                    .help(format!("give a class from = \"{name}\", or remove the population")),
            );
        } else if w.iter().all(|(_, w)| *w == 0.0) {
            errors.push(
                at(format!("every class of `{name}` has weight 0, so it would never issue a request"))
                    .help("give at least one class a positive weight"),
            );
        }
        w.retain(|(_, w)| *w > 0.0);
    }
}

/// The run's length and warm-up as the file or the command line gives them.
fn run_window(
    file: &ScenarioFile,
    overrides: &Overrides,
    v: &Values,
    errors: &mut Vec<Diagnostic>,
) -> Option<(SimDuration, SimDuration)> {
    let duration = match &overrides.duration {
        Some(d) => Some(*d),
        None => v.duration(&file.run.duration, "duration").map_err(|e| errors.push(e)).ok(),
    };
    let warmup = match (&overrides.warmup, &file.run.warmup) {
        (Some(w), _) => Some(*w),
        (None, Some(w)) => v.duration(w, "warmup").map_err(|e| errors.push(e)).ok(),
        (None, None) => Some(SimDuration::ZERO),
    };
    Some((duration?, warmup?))
}

/// A window that makes sense: a warm-up that does not fit a `--duration` is shortened
/// (with a note), a zero length or a warm-up as long as the run is refused.
fn checked_window(
    file: &ScenarioFile,
    overrides: &Overrides,
    (duration, mut warmup): (SimDuration, SimDuration),
    notes: &mut Vec<String>,
) -> Result<(SimDuration, SimDuration), Vec<Diagnostic>> {
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
    Ok((duration, warmup))
}

/// A fault at or after the run's end would never happen: refused when the file says so,
/// noted when `--duration` cut the run short of it.
fn check_fault_times(
    file: &ScenarioFile,
    v: &Values,
    overrides: &Overrides,
    duration: SimDuration,
    notes: &mut Vec<String>,
) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    for f in &file.faults {
        let Ok(at) = v.duration(&f.at, "at") else { continue };
        if at < duration {
            continue;
        }
        if overrides.duration.is_some() {
            notes.push(format!("a fault at {at} is after the run's end ({duration}): it does not happen"));
        } else {
            errors.push(
                Diagnostic::at(
                    format!("this fault at {at} is not before the run's end ({duration}): it would never happen"),
                    f.at.span(),
                )
                .help("move it earlier, or lengthen the run"),
            );
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Text the terminal shows (title, lesson, watch list, descriptions) holds no control
/// characters: an escape sequence in a title would reach the terminal raw.
fn check_text(file: &ScenarioFile) -> Result<(), Vec<Diagnostic>> {
    let control =
        |text: &str, lines: bool| text.chars().find(|&c| c.is_control() && !(lines && matches!(c, '\n' | '\r' | '\t')));
    let found = |what: &str, c: char, span: Option<Range<usize>>| {
        let message = format!("{what} holds the control character U+{:04X}", c as u32);
        let d = match span {
            Some(s) => Diagnostic::at(message, s),
            None => Diagnostic::new(message),
        };
        d.help("remove it: the terminal would act on it (an escape sequence can clear the screen)")
    };
    let mut errors = Vec::new();
    if let Some(c) = control(file.title.get_ref(), false) {
        errors.push(found("the title", c, Some(file.title.span())));
    }
    if let Some(c) = file.group.as_deref().and_then(|g| control(g, false)) {
        errors.push(found("the group", c, None));
    }
    if let Some(c) = control(&file.lesson, true) {
        errors.push(found("the lesson", c, None));
    }
    if let Some(c) = file.watch.iter().find_map(|w| control(w, false)) {
        errors.push(found("the watch list", c, None));
    }
    for (name, p) in &file.params {
        if let Some(c) = control(&p.description, true) {
            errors.push(found(&format!("the description of `{}`", name.get_ref()), c, Some(name.span())));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Refuses a run over the request cap or the memory budget (see `budget`), pointing at
/// the load.
fn check_budget(file: &ScenarioFile, model: &Model) -> Result<(), Vec<Diagnostic>> {
    crate::budget::Estimate::of(model).check().map_err(|(message, help)| {
        let span =
            file.workload.rate.as_ref().or(file.workload.users.as_ref()).map_or(file.run.duration.span(), |x| x.span());
        vec![Diagnostic::at(message, span).help(help)]
    })
}

/// The model's instances and services; populations get their workloads.
fn assemble(
    decls: &[Decl],
    instances: &Instances,
    models: Vec<Option<ComponentModel>>,
    routings: Vec<Routing>,
    arrivals: Vec<Population>,
    weights: Vec<Vec<(ClassId, f64)>>,
) -> (Vec<ComponentSpec>, Vec<ServiceSpec>) {
    let populations = arrivals.len();
    let components = instances
        .names
        .iter()
        .zip(&instances.service)
        .map(|(name, &si)| {
            let model = if si < populations {
                let (arrival, users, surges) = arrivals[si].clone();
                ComponentModel::Clients(ClientsSpec { arrival, class_weights: weights[si].clone(), users, surges })
            } else {
                models[si].clone().expect("no errors")
            };
            ComponentSpec { name: name.clone(), service: ServiceId(si as u32), model }
        })
        .collect();
    let services = decls
        .iter()
        .zip(&instances.services)
        .zip(routings)
        .map(|((d, instances), routing)| ServiceSpec { name: d.name.clone(), instances: instances.clone(), routing })
        .collect();
    (components, services)
}

/// The scenario's expectations, parsed against the model's classes and instances.
fn expectations(
    file: &ScenarioFile,
    model: &Model,
    overrides: &Overrides,
    notes: &mut Vec<String>,
) -> Result<Vec<crate::expect::Expectation>, Vec<Diagnostic>> {
    let class_names: Vec<String> = model.classes.iter().map(|c| c.name.clone()).collect();
    let component_names: Vec<crate::expect::Component> =
        model.components.iter().map(|c| (c.name.clone(), c.model.kind())).collect();
    let mut expectations = Vec::new();
    let mut expect_errors = Vec::new();
    for e in &file.expect {
        let at = e.span().start + 1;
        // An override may remove instances an expectation names (`--set web.count=2` and
        // `component.web-5...`): that expectation no longer applies to this run.
        if !overrides.set.is_empty()
            && let Some(id) = crate::expect::component_of(e.get_ref())
            && !component_names.iter().any(|(c, _)| c == id)
        {
            notes.push(format!("expectation `{}` skipped: this run has no `{id}`", e.get_ref().trim()));
            continue;
        }
        match crate::expect::parse(e.get_ref(), at, &class_names, &component_names) {
            Ok(x) => expectations.push(x),
            Err(d) => expect_errors.push(d),
        }
    }
    if !expect_errors.is_empty() {
        return Err(expect_errors);
    }
    Ok(expectations)
}

/// The `[chaos]` table: limits on drawn fault schedules.
fn chaos_limits(c: Option<&crate::file::ChaosFile>, v: &Values) -> Result<crate::ChaosLimits, Vec<Diagnostic>> {
    let mut limits = crate::ChaosLimits::default();
    let Some(c) = c else { return Ok(limits) };
    let mut errors = Vec::new();
    if let Some(m) = &c.max_faults {
        match v.count(m, "max_faults", 1, 100) {
            Ok(n) => limits.max_faults = n as u32,
            Err(e) => errors.push(e),
        }
    }
    if let Some(w) = &c.window {
        let share = |x: &Spanned<Value>| -> Result<f64, Diagnostic> {
            match x.get_ref() {
                Value::String(s) if s.ends_with('%') => s[..s.len() - 1]
                    .trim()
                    .parse::<f64>()
                    .map(|p| p / 100.0)
                    .map_err(|_| Diagnostic::at(format!("`{s}` is not a percentage"), x.span())),
                _ => v.number_in(x, Dim::Number, "window", 0.0, 1.0),
            }
        };
        match w.get_ref().as_slice() {
            [a, b] => match (share(a), share(b)) {
                (Ok(a), Ok(b)) if (0.0..1.0).contains(&a) && a < b && b <= 1.0 => (limits.start, limits.end) = (a, b),
                (Ok(_), Ok(_)) => errors.push(
                    Diagnostic::at("the window must run forward within the run", w.span())
                        .help("such as window = [\"15%\", \"60%\"]"),
                ),
                (Err(e), _) | (_, Err(e)) => errors.push(e),
            },
            _ => errors.push(
                Diagnostic::at(
                    "`window` is two shares of the run: when faults may start and by when they end",
                    w.span(),
                )
                .help("such as window = [\"15%\", \"60%\"]"),
            ),
        }
    }
    if let Some(kinds) = &c.kinds {
        limits.kinds.clear();
        for k in kinds {
            if crate::CHAOS_KINDS.contains(&k.get_ref().as_str()) {
                limits.kinds.push(k.get_ref().clone());
            } else {
                let d = Diagnostic::at(format!("unknown fault kind `{}`", k.get_ref()), k.span());
                errors.push(match did_you_mean(k.get_ref(), crate::CHAOS_KINDS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("kinds: {}", crate::CHAOS_KINDS.join(", "))),
                });
            }
        }
        if kinds.is_empty() {
            errors.push(
                Diagnostic::new("[chaos] kinds is empty").help("list at least one kind, or leave it out for all"),
            );
        }
    }
    if let Some(d) = &c.drain_within {
        match v.duration(d, "drain_within") {
            Ok(d) => limits.drain_within = d,
            Err(e) => errors.push(e),
        }
    }
    if let Some(d) = &c.converge_within {
        match v.duration(d, "converge_within") {
            Ok(d) => limits.converge_within = d,
            Err(e) => errors.push(e),
        }
    }
    if let Some(d) = &c.recover_within {
        match v.duration(d, "recover_within") {
            Ok(d) => limits.recover_within = Some(d),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(limits) } else { Err(errors) }
}

/// Every instance pair a flow joins must be connected by links; the error points at the
/// path step (or call) that cannot be reached.
fn check_routes(model: &Model, file: &ScenarioFile) -> Result<(), Vec<Diagnostic>> {
    let n = model.components.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    // Routes never pass through a population of users (an endpoint): join the other
    // instances, and remember which each population reaches directly.
    let endpoint = |c: ComponentId| matches!(model.components[c.index()].model, ComponentModel::Clients(_));
    let mut reached: Vec<Vec<usize>> = vec![Vec::new(); model.components.len()];
    for l in &model.links {
        if endpoint(l.a) || endpoint(l.b) {
            let (user, other) = if endpoint(l.a) { (l.a, l.b) } else { (l.b, l.a) };
            reached[user.index()].push(other.index());
            continue;
        }
        let (a, b) = (root(&mut parent, l.a.index()), root(&mut parent, l.b.index()));
        parent[a] = b;
    }
    let mut errors = Vec::new();
    for (class, cf) in model.classes.iter().zip(&file.classes) {
        let spans: Vec<Range<usize>> = cf
            .path
            .get_ref()
            .iter()
            .map(|s| s.span())
            .chain(cf.calls.iter().flat_map(|c| c.get_ref()).flat_map(|c| call_steps(c).into_iter().map(|s| s.2)))
            .collect();
        let mut edges = vec![(vec![class.origin], 0usize)];
        for node in &class.flow {
            for &c in &node.calls {
                edges.push((model.services[node.service.index()].instances.clone(), c as usize));
            }
        }
        // The nodes past the file's are rate-limit checks, made by the servers limiting.
        for (check, node) in class.flow.iter().enumerate().skip(spans.len()) {
            for n in &class.flow[..spans.len()] {
                let limiting = &model.services[n.service.index()].instances;
                let store = limit_store(limiting.first().map(|c| &model.components[c.index()].model));
                if store == Some(node.service) {
                    edges.push((limiting.clone(), check));
                }
            }
        }
        'edges: for (callers, callee) in edges {
            for &a in &callers {
                for &b in &model.services[class.flow[callee].service.index()].instances {
                    let target = root(&mut parent, b.index());
                    let connected = if endpoint(a) {
                        reached[a.index()].iter().any(|&x| root(&mut parent, x) == target)
                    } else {
                        root(&mut parent, a.index()) == target
                    };
                    if !connected {
                        let (from, to) = (&model.components[a.index()].name, &model.components[b.index()].name);
                        let (fs, ts) = (
                            &model.services[model.components[a.index()].service.index()].name,
                            &model.services[class.flow[callee].service.index()].name,
                        );
                        errors.push(
                            Diagnostic::at(
                                format!("class `{}`: no link path from `{from}` to `{to}`", class.name),
                                spans.get(callee).cloned().unwrap_or_else(|| cf.path.span()),
                            )
                            .help(format!("add [[links]] between = [\"{fs}\", \"{ts}\"]")),
                        );
                        break 'edges;
                    }
                }
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Prices: the seeds' defaults, a component's `monthly_cost`, and the `[cost]` table.
fn costs(file: &ScenarioFile, decls: &[Decl], v: &Values, errors: &mut Vec<Diagnostic>) -> CostSpec {
    let mut c = CostSpec::seed_defaults(decls.len());
    let usd = |x: &Spanned<Value>, what: &str, errors: &mut Vec<Diagnostic>| {
        v.number_in(x, Dim::Number, what, 0.0, 1e9).map_err(|e| errors.push(e)).ok()
    };
    for (si, d) in decls.iter().enumerate() {
        if let Some(x) = d.fields.as_ref().and_then(|f| f.get("monthly_cost")) {
            c.service_override[si] = usd(x, "monthly_cost", errors);
        }
    }
    let Some(cf) = &file.cost else { return c };
    for (kind, price) in &cf.prices {
        if !c.unit_prices.contains_key(kind.get_ref()) {
            let d = Diagnostic::at(format!("unknown component kind `{}`", kind.get_ref()), kind.span());
            errors.push(match did_you_mean(kind.get_ref(), c.unit_prices.keys().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("prices are per component kind"),
            });
            continue;
        }
        if let Some(p) = usd(price, "price", errors) {
            c.unit_prices.insert(kind.get_ref().clone(), p);
        }
    }
    if let Some(x) = &cf.storage_usd_per_tb {
        c.storage_usd_per_tb_month = usd(x, "storage_usd_per_tb", errors).unwrap_or(c.storage_usd_per_tb_month);
    }
    if let Some(x) = &cf.transfer_usd_per_gb {
        c.transfer_usd_per_gb = usd(x, "transfer_usd_per_gb", errors).unwrap_or(c.transfer_usd_per_gb);
    }
    for (name, x) in &cf.extra {
        if decls.iter().any(|d| &d.name == name.get_ref()) {
            errors.push(
                Diagnostic::at(format!("`{}` is already a component", name.get_ref()), name.span())
                    .help("set that component's `monthly_cost` instead"),
            );
            continue;
        }
        if let Some(p) = usd(x, "extra cost", errors) {
            c.extras.push((name.get_ref().clone(), p));
        }
    }
    c
}

/// The service called `name`, or an error with a suggestion.
fn resolve(names: &[String], name: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> Option<usize> {
    if let Some(i) = names.iter().position(|n| n == name.get_ref()) {
        return Some(i);
    }
    let d = Diagnostic::at(format!("unknown component `{}`", name.get_ref()), name.span());
    errors.push(match did_you_mean(name.get_ref(), names.iter().map(String::as_str)) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!("declared components: {}", names.join(", "))),
    });
    None
}

fn keyspaces(file: &ScenarioFile, v: &Values, errors: &mut Vec<Diagnostic>) -> Vec<(String, KeyspaceSpec)> {
    let mut out = Vec::new();
    // Every declared keyspace is registered, a bad one with stand-in values (its error is
    // reported here, so no model is built): its uses are not reported as unknown as well.
    for (name, k) in &file.keyspaces {
        if let Err(e) = check_id(name.get_ref()) {
            errors.push(Diagnostic::at(e, name.span()));
        }
        let count = v.count(&k.count, "count", 1, MAX_KEYS).map_err(|e| errors.push(e)).unwrap_or(1);
        let zipf_s = match &k.zipf {
            Some(z) => v.number_in(z, Dim::Number, "zipf", 0.0, 10.0).map_err(|e| errors.push(e)).unwrap_or(0.0),
            None => 0.0,
        };
        let (name, check) = (name.get_ref().clone(), k.check);
        out.push((name.clone(), KeyspaceSpec { name, count, zipf_s, check }));
    }
    if out.len() > MAX_KEYSPACES {
        errors.push(Diagnostic::new(format!("{} keyspaces; the limit is {MAX_KEYSPACES}", out.len())));
    }
    out
}

/// The instances a name stands for: every instance of a service, or one instance.
fn members(
    name: &Spanned<String>,
    service_names: &[String],
    instance_names: &[String],
    service_instances: &[Vec<ComponentId>],
    errors: &mut Vec<Diagnostic>,
) -> Option<Vec<ComponentId>> {
    if let Some(i) = service_names.iter().position(|n| n == name.get_ref()) {
        return Some(service_instances[i].clone());
    }
    if let Some(i) = instance_names.iter().position(|n| n == name.get_ref()) {
        return Some(vec![ComponentId(i as u32)]);
    }
    let all = service_names.iter().chain(instance_names).map(String::as_str);
    let d = Diagnostic::at(format!("unknown component `{}`", name.get_ref()), name.span());
    errors.push(match did_you_mean(name.get_ref(), all) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!("declared components: {}", service_names.join(", "))),
    });
    None
}

/// Links join services (every instance of one to every instance of the other) or single
/// instances by name.
fn links(
    file: &ScenarioFile,
    service_names: &[String],
    instance_names: &[String],
    service_instances: &[Vec<ComponentId>],
    v: &Values,
    errors: &mut Vec<Diagnostic>,
) -> Vec<LinkSpec> {
    let mut links: Vec<LinkSpec> = Vec::new();
    // Links per instance pair so far: a second link between the same pair is `a-b#2`.
    let mut named: BTreeMap<String, u32> = BTreeMap::new();
    let ends = |name: &Spanned<String>, errors: &mut Vec<Diagnostic>| {
        members(name, service_names, instance_names, service_instances, errors)
    };
    for l in &file.links {
        let pair = l.between.get_ref();
        if pair.len() != 2 {
            errors.push(
                Diagnostic::at(format!("a link joins exactly two components, found {}", pair.len()), l.between.span())
                    .help("write between = [\"web\", \"db\"]"),
            );
            continue;
        }
        let (a, b) = (ends(&pair[0], errors), ends(&pair[1], errors));
        let latency = match &l.latency {
            Some(x) => v.delay(x, "latency").map_err(|e| errors.push(e)).ok(),
            None => Some(Delay::constant(SimDuration::ZERO)),
        };
        let (Some(a), Some(b), Some(latency)) = (a, b, latency) else { continue };
        if a.len() * b.len() + links.len() > MAX_LINKS {
            errors.push(
                Diagnostic::at(format!("these links pass the limit of {MAX_LINKS}"), l.between.span())
                    .help("join fewer instances, or put a load balancer between large groups"),
            );
            return links;
        }
        // `between = ["db", "db"]` joins a service's instances to each other.
        let mesh = pair[0].get_ref() == pair[1].get_ref();
        if mesh && a.len() < 2 {
            errors.push(
                Diagnostic::at("a link cannot join a component to itself", l.between.span()).help(
                    "a service joined to itself links its instances to each other; this one has a single instance",
                ),
            );
            continue;
        }
        for &x in &a {
            for &y in &b {
                if x == y || (mesh && x > y) {
                    continue;
                }
                let base = format!("{}-{}", instance_names[x.index()], instance_names[y.index()]);
                let same = named.entry(base.clone()).or_insert(0);
                *same += 1;
                let name = if *same == 1 { base } else { format!("{base}#{same}") };
                links.push(LinkSpec { name, a: x, b: y, latency: latency.clone() });
            }
        }
    }
    links
}

/// `read`, `write` or `scan`.
fn op(text: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> Option<Op> {
    op_named(text.get_ref(), text.span(), errors)
}

fn op_named(name: &str, span: Range<usize>, errors: &mut Vec<Diagnostic>) -> Option<Op> {
    match name {
        "read" => Some(Op::Read),
        "write" => Some(Op::Write),
        "scan" => Some(Op::Scan),
        other => {
            let d = Diagnostic::at(format!("unknown operation `{other}`"), span);
            errors.push(match did_you_mean(other, ["read", "write", "scan"]) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("use read, write or scan"),
            });
            None
        }
    }
}

/// The steps of one entry of a class's `calls`: `"jobs>thumbnailer>s3:write"` is three
/// nested calls, each `SERVICE[*N][:OP]` with its span in the source (inside the quotes).
fn call_steps(call: &Spanned<String>) -> Vec<(&str, Option<&str>, Range<usize>)> {
    call_steps_fanned(call).into_iter().map(|(n, o, span, _)| (n, o, span)).collect()
}

/// One step of a calls chain: service, operation, span, multiplicity text.
type FannedStep<'a> = (&'a str, Option<&'a str>, Range<usize>, Option<&'a str>);

/// `call_steps` with each step's multiplicity text (`100` or `all` in `leaf*100`).
fn call_steps_fanned(call: &Spanned<String>) -> Vec<FannedStep<'_>> {
    let mut at = call.span().start + 1;
    call.get_ref()
        .split('>')
        .map(|step| {
            let span = at..at + step.len();
            at += step.len() + 1;
            let (step, op) = match step.split_once(':') {
                Some((n, o)) => (n, Some(o.trim())),
                None => (step, None),
            };
            let (name, times) = step_name(step);
            (name, op, span, times)
        })
        .collect()
}

/// A step's service name and its multiplicity text: `leaf*100` is (`leaf`, `100`).
fn step_name(step: &str) -> (&str, Option<&str>) {
    match step.split_once('*') {
        Some((n, t)) => (n.trim(), Some(t.trim())),
        None => (step.trim(), None),
    }
}

/// A step's multiplicity (`*100`, or `*all` for one call to each of `instances`).
fn fanout_of(times: Option<&str>, instances: u32, span: Range<usize>) -> Result<(u32, bool), Diagnostic> {
    let Some(t) = times else { return Ok((1, false)) };
    if t == "all" {
        return Ok((instances, true));
    }
    match t.parse::<u64>() {
        Ok(n) if (1..=MAX_CALLS_AT_ONCE).contains(&n) => Ok((n as u32, false)),
        Ok(n) if n > MAX_CALLS_AT_ONCE => Err(Diagnostic::at(
            format!("a fan-out of {n} calls; a caller makes at most {MAX_CALLS_AT_ONCE} at once"),
            span,
        )
        .help("use a smaller count, or an aggregation tree such as \"agg*100>leaf*100\"")),
        _ => Err(Diagnostic::at(format!("`*{t}` is not a fan-out"), span)
            .help("write the calls made at once as `leaf*100` (1 to 10000), or `leaf*all` for one to each instance")),
    }
}

/// A class's flow: the path as nested calls, the last service making the `calls`.
fn class(c: &ClassFile, r: &Resolver, v: &Values, errors: &mut Vec<Diagnostic>) -> Option<ClassSpec> {
    let steps = c.path.get_ref();
    if steps.is_empty() {
        errors.push(
            Diagnostic::at(format!("class `{}` has an empty path", c.name.get_ref()), c.path.span())
                .help("list the services a request visits, such as path = [\"lb\", \"web\", \"db\"]"),
        );
        return None;
    }
    let calls = c.calls.as_ref().map(|x| x.get_ref().as_slice()).unwrap_or(&[]);
    let len = steps.len() + calls.iter().map(|c| c.get_ref().split('>').count()).sum::<usize>();
    if len > MAX_PATH_LEN {
        errors.push(Diagnostic::at(format!("the flow has {len} steps; the limit is {MAX_PATH_LEN}"), c.path.span()));
        return None;
    }
    let class_op = match &c.op {
        Some(o) => op(o, errors)?,
        None => Op::Read,
    };
    let flow = flow(c, r, class_op, errors)?;
    let keyspace = match &c.keyspace {
        Some(k) => Some(keyspace_of(k, r, errors)?),
        None => None,
    };
    let timeout = match &c.timeout {
        Some(t) if t.get_ref().as_str() == Some("none") => None,
        Some(t) => Some(v.duration(t, "timeout").map_err(|e| errors.push(e)).ok()?),
        None => Some(DEFAULT_TIMEOUT),
    };
    let retry = match &c.retry {
        Some(r) => Some(crate::retry::lower(r, v).map_err(|e| errors.push(e)).ok()?),
        None => None,
    };
    let low_priority = match &c.priority {
        None => false,
        Some(p) => match p.get_ref().as_str() {
            "high" => false,
            "low" => true,
            other => {
                errors.push(
                    Diagnostic::at(format!("unknown priority `{other}`"), p.span())
                        .help("priority is \"high\" (the default) or \"low\" (shed first)"),
                );
                return None;
            }
        },
    };
    let hedges = crate::hedge::lower(c, &flow, r.names, v).map_err(|e| errors.push(e)).ok()?;
    let hops = crate::hop::lower(c, r.names, v).map_err(|e| errors.push(e)).ok()?;
    let propagate_deadline = crate::hop::propagates(c).map_err(|e| errors.push(e)).ok()?;
    Some(ClassSpec {
        name: c.name.get_ref().clone(),
        origin: ComponentId(0),
        flow,
        keyspace,
        timeout,
        retry,
        low_priority,
        hedges,
        hops,
        propagate_deadline,
    })
}

/// A class's flow: its path, each step calling the next, then its `calls` chains
/// (`a>b>c:op`) hanging from the path's last service.
fn flow(c: &ClassFile, r: &Resolver, class_op: Op, errors: &mut Vec<Diagnostic>) -> Option<Vec<FlowNode>> {
    let steps = c.path.get_ref();
    let calls = c.calls.as_ref().map(|x| x.get_ref().as_slice()).unwrap_or(&[]);
    let mut flow = Vec::new();
    let mut ok = true;
    let serving = |si: usize, span: Range<usize>, errors: &mut Vec<Diagnostic>| {
        let population = r.kinds[si] == CLIENTS;
        if !components::serves_requests(&r.kinds[si]) && !population {
            // An unknown or missing kind: reported where the component is declared.
            return false;
        }
        if !components::serves_requests(&r.kinds[si]) {
            errors.push(Diagnostic::at(
                format!("`{}` is a `{}`, which does not serve requests", r.names[si], r.kinds[si]),
                span,
            ));
            return false;
        }
        true
    };
    // Each node's span and multiplicity text, for the fan-out checks once all are known.
    let mut fans: Vec<(Range<usize>, Option<&str>)> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let (name, times) = step_name(step.get_ref());
        let named = Spanned::new(step.span(), name.to_string());
        match resolve(r.names, &named, errors) {
            Some(si) if serving(si, step.span(), errors) => {
                let next = if i + 1 < steps.len() { vec![(i + 1) as u16] } else { vec![] };
                flow.push(FlowNode::call(ServiceId(si as u32), class_op, next));
                fans.push((step.span(), times));
            }
            _ => ok = false,
        }
    }
    for call in calls {
        // `a>b>c:op`: the path's last service calls a, which calls b, which calls c.
        let mut caller = steps.len() - 1;
        for (name, op_text, span, times) in call_steps_fanned(call) {
            let named = Spanned::new(span.clone(), name.to_string());
            let call_op = match op_text {
                Some(o) => op_named(o, span.clone(), errors),
                None => Some(class_op),
            };
            match (resolve(r.names, &named, errors), call_op) {
                (Some(si), Some(o)) if serving(si, span.clone(), errors) => {
                    let id = flow.len() as u16;
                    flow.push(FlowNode::call(ServiceId(si as u32), o, vec![]));
                    fans.push((span, times));
                    if ok {
                        flow[caller].calls.push(id);
                    }
                    caller = id as usize;
                }
                _ => {
                    ok = false;
                    break;
                }
            }
        }
    }
    if !ok {
        return None;
    }
    flow[steps.len() - 1].parallel = c.parallel;
    fan_outs(&mut flow, &fans, r, errors).then_some(flow)
}

/// Sets each node's multiplicity and checks the fan-out limits: only a server fans out
/// (a balancer, cache or queue forwards each request once), never the client's own call
/// or a scan (it already calls every shard), at most `MAX_CALLS_AT_ONCE` calls at once
/// from one node and `MAX_CALLS_PER_REQUEST` in all. Returns false after an error.
fn fan_outs(
    flow: &mut [FlowNode],
    fans: &[(Range<usize>, Option<&str>)],
    r: &Resolver,
    errors: &mut Vec<Diagnostic>,
) -> bool {
    let before = errors.len();
    let mut parent = vec![None; flow.len()];
    for (i, n) in flow.iter().enumerate() {
        for &c in &n.calls {
            parent[c as usize] = Some(i);
        }
    }
    for (i, (span, times)) in fans.iter().enumerate() {
        if times.is_none() {
            continue;
        }
        let si = flow[i].service.index();
        let refuse = match parent[i] {
            None => Some((
                "a request starts with one call from its population".to_string(),
                "put the fan-out on a later step, such as path = [\"front\", \"leaf*100\"]",
            )),
            Some(p) if r.kinds[flow[p].service.index()] != "server" => Some((
                format!(
                    "`{}` is a {}, which forwards each request once",
                    r.names[flow[p].service.index()],
                    r.kinds[flow[p].service.index()]
                ),
                "only a server fans out: put the fan-out on the step that calls this one",
            )),
            Some(_) if flow[i].op == Op::Scan => {
                Some(("a scan already calls every shard".to_string(), "drop the `*`, or make the step a read"))
            }
            Some(_) => None,
        };
        if let Some((what, help)) = refuse {
            errors.push(
                Diagnostic::at(format!("`{}` cannot fan out here: {what}", r.names[si]), span.clone()).help(help),
            );
            continue;
        }
        match fanout_of(*times, r.counts[si], span.clone()) {
            Ok((n, each)) => (flow[i].fanout, flow[i].to_each) = (n, each),
            Err(e) => errors.push(e),
        }
    }
    if errors.len() > before {
        return false;
    }
    // A scan counts its shards (at most the service's instances).
    let at_once = |c: usize| {
        u64::from(flow[c].fanout)
            * if flow[c].op == Op::Scan { u64::from(r.counts[flow[c].service.index()]) } else { 1 }
    };
    let mut total = vec![0u64; flow.len()];
    for i in 0..flow.len() {
        let n = &flow[i];
        let each = n.calls.iter().map(|&c| at_once(c as usize));
        let most = if n.parallel { each.sum::<u64>() } else { each.max().unwrap_or(0) };
        if most > MAX_CALLS_AT_ONCE {
            let span = fans[i].0.clone();
            errors.push(
                Diagnostic::at(
                    format!(
                        "`{}` makes {most} calls at once; the limit is {MAX_CALLS_AT_ONCE}",
                        r.names[n.service.index()]
                    ),
                    span,
                )
                .help("fan out less, or through an aggregation tier such as \"agg*100>leaf*100\""),
            );
            return false;
        }
        // Nodes come after their callers, so a caller's count is known first.
        total[i] = parent[i].map_or(1, |p| total[p]) * u64::from(n.fanout);
    }
    let calls: u64 = total.iter().sum();
    if calls > MAX_CALLS_PER_REQUEST {
        errors.push(
            Diagnostic::at(
                format!("one request makes {calls} calls in all; the limit is {MAX_CALLS_PER_REQUEST}"),
                fans.last().map_or(0..0, |f| f.0.clone()),
            )
            .help("the fan-outs multiply down the tree: make one of them smaller"),
        );
        return false;
    }
    true
}

/// The keyspace a class names.
fn keyspace_of(k: &Spanned<String>, r: &Resolver, errors: &mut Vec<Diagnostic>) -> Option<KeyspaceId> {
    if let Some(i) = r.keyspaces.iter().position(|(n, _)| n == k.get_ref()) {
        return Some(KeyspaceId(i as u16));
    }
    let d = Diagnostic::at(format!("unknown keyspace `{}`", k.get_ref()), k.span());
    errors.push(match did_you_mean(k.get_ref(), r.keyspaces.iter().map(|(n, _)| n.as_str())) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help("declare it: [keyspaces.images] count = 100000, zipf = 0.8"),
    });
    None
}

/// Applies a class's `service = { web = "exp(30ms)" }` overrides to the servers named.
fn class_services(
    ci: usize,
    c: &ClassFile,
    names: &[String],
    models: &mut [Option<ComponentModel>],
    v: &Values,
    errors: &mut Vec<Diagnostic>,
) {
    for (target, value) in &c.service {
        let on_flow = c
            .path
            .get_ref()
            .iter()
            .map(|s| step_name(s.get_ref()).0)
            .chain(c.calls.iter().flat_map(|x| x.get_ref()).flat_map(|c| call_steps(c).into_iter().map(|s| s.0)))
            .any(|s| s == target.get_ref());
        let Some(i) = names.iter().position(|n| n == target.get_ref()).filter(|_| on_flow) else {
            errors.push(
                Diagnostic::at(
                    format!("`{}` is not on class `{}`'s path", target.get_ref(), c.name.get_ref()),
                    target.span(),
                )
                .help("service overrides apply to components on the class's path or calls"),
            );
            continue;
        };
        match (v.delay(value, "service"), &mut models[i]) {
            (Ok(d), Some(ComponentModel::Server(s))) => s.service_by_class.push((ClassId(ci as u16), d)),
            (Ok(_), Some(_)) => errors.push(Diagnostic::at(
                format!("`{}` is not a server; per-class service times apply to servers", target.get_ref()),
                target.span(),
            )),
            (Ok(_), None) => {}
            (Err(e), _) => errors.push(e),
        }
    }
}

/// Kind-specific rules about where a component may stand in a flow.
fn check_flows(
    file: &ScenarioFile,
    classes: &[ClassSpec],
    decls: &[Decl],
    models: &[Option<ComponentModel>],
    routings: &[Routing],
    errors: &mut Vec<Diagnostic>,
) {
    for (class, cf) in classes.iter().zip(&file.classes) {
        for node in &class.flow {
            let si = node.service.index();
            if matches!(&models[si], Some(ComponentModel::Gateway(_))) && node.calls.len() > 1 {
                errors.push(
                    Diagnostic::at(
                        format!(
                            "class `{}`: gateway `{}` routes each request to one service, but this flow calls {} from it",
                            class.name,
                            decls[si].name,
                            node.calls.len()
                        ),
                        cf.path.span(),
                    )
                    .help("put one service after the gateway, and make the other calls from that service"),
                );
            }
            if let Some(ComponentModel::LoadBalancer(lb)) = &models[si] {
                let next: Vec<usize> = node.calls.iter().map(|&c| class.flow[c as usize].service.index()).collect();
                if next != [lb.backends.index()] {
                    errors.push(
                        Diagnostic::at(
                            format!(
                                "class `{}`: load balancer `{}` must be followed by its backends `{}`",
                                class.name,
                                decls[si].name,
                                decls[lb.backends.index()].name
                            ),
                            cf.path.span(),
                        )
                        .help(format!(
                            "put `{}` right after `{}` in the path",
                            decls[lb.backends.index()].name,
                            decls[si].name
                        )),
                    );
                }
            }
            if let Some(ComponentModel::Queue(q)) = &models[si] {
                let next: Vec<usize> = node.calls.iter().map(|&c| class.flow[c as usize].service.index()).collect();
                if !next.is_empty() && next != [q.consumers.index()] {
                    errors.push(
                        Diagnostic::at(
                            format!(
                                "class `{}`: queue `{}` hands jobs to its consumers `{}` only",
                                class.name,
                                decls[si].name,
                                decls[q.consumers.index()].name
                            ),
                            cf.path.span(),
                        )
                        .help(format!(
                            "put `{}` right after `{}`",
                            decls[q.consumers.index()].name,
                            decls[si].name
                        )),
                    );
                }
            }
            let root = std::ptr::eq(node, &class.flow[0]);
            if matches!(routings[si], Routing::Sharded(_)) && root && node.op == Op::Scan {
                errors.push(Diagnostic::at(
                    format!(
                        "class `{}`: a scan of sharded `{}` needs a component in front to gather the answers",
                        class.name, decls[si].name
                    ),
                    cf.path.span(),
                ));
            }
        }
    }
}

/// Warnings: a cache that calls nothing in a class's flow (`calls = ["cache"]` where
/// `"cache>db"` was meant). Its misses answer without reaching any store, so its hit ratio
/// and the latency of a miss mean nothing; a cache that is itself the store (sessions in
/// Redis) is the one case where this is meant. The flow's nodes are in the order `flow`
/// pushes them: the path's steps, then each `calls` chain's steps.
fn empty_caches(file: &ScenarioFile, classes: &[ClassSpec], decls: &[Decl]) -> Vec<Diagnostic> {
    let stores: Vec<&str> = decls
        .iter()
        .filter(|d| matches!(d.kind.as_str(), "database" | "store" | "object_store"))
        .map(|d| d.name.as_str())
        .collect();
    let store = stores.first().copied().unwrap_or("db");
    let mut warnings = Vec::new();
    for (class, cf) in classes.iter().zip(&file.classes) {
        let steps = cf.path.get_ref().iter().map(|s| (step_name(s.get_ref()).0, s.span(), None));
        let calls = cf.calls.iter().flat_map(|x| x.get_ref()).flat_map(|call| {
            call_steps(call).into_iter().map(move |(name, _, span)| (name, span, Some(call.get_ref().as_str())))
        });
        for (node, (name, span, call)) in class.flow.iter().zip(steps.chain(calls)) {
            if decls[node.service.index()].kind != "cache" || !node.calls.is_empty() {
                continue;
            }
            let fix = match call {
                Some(call) => format!("calls = [\"{call}>{store}\"]"),
                None => format!("calls = [\"{name}>{store}\"] after this path, or `{store}` after `{name}` in it"),
            };
            warnings.push(
                Diagnostic::at(
                    format!(
                        "class `{}`: cache `{name}` has nothing behind it: a miss answers without reaching any store",
                        class.name
                    ),
                    span,
                )
                .help(format!("put the store behind the cache: {fix}")),
            );
        }
    }
    warnings
}

/// Component and class names become report keys and stream keys: keep them plain.
fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(format!("`{id}` is not a valid name: use 1 to 64 letters, digits, `_` or `-`"));
    }
    Ok(())
}
/// The declared parameters, with `--set NAME=VALUE` applied. A default may name other
/// parameters (`default = "2 * base_rate"`): defaults are resolved in the order their
/// names allow, and a parameter set on the command line changes the defaults that name
/// it. A name that leads round in a circle is refused.
fn params(
    file: &ScenarioFile,
    source: &str,
    overrides: &Overrides,
    errors: &mut Vec<Diagnostic>,
) -> (Params, Vec<ParamInfo>) {
    if file.params.len() > MAX_PARAMS {
        errors.push(Diagnostic::new(format!("{} params; the limit is {MAX_PARAMS}", file.params.len())));
        return (Params(BTreeMap::new()), Vec::new());
    }
    let mut decls: Vec<(&Spanned<String>, &ParamFile, Dim)> = Vec::new();
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
        decls.push((name, p, dim));
    }
    let set = set_params(file, overrides, &decls, errors);
    // Every default is evaluated (a broken one is reported even when --set replaces it),
    // then the values in force; an error both passes find is reported once.
    let mut found = Vec::new();
    let defaults = resolve_params(&decls, &BTreeMap::new(), source, &mut found);
    let values = resolve_params(&decls, &set, source, &mut found);
    for d in found {
        if !errors.iter().any(|e| e.message == d.message && e.span == d.span) {
            errors.push(d);
        }
    }
    let infos = decls
        .iter()
        .filter_map(|(name, p, dim)| {
            let name = name.get_ref();
            Some(ParamInfo {
                name: name.clone(),
                value: values.get(name)?.value,
                default: defaults.get(name)?.value,
                dim: *dim,
                unit: p.unit.as_ref().map(|u| u.get_ref().clone()).unwrap_or_default(),
                description: p.description.clone(),
            })
        })
        .collect();
    (Params(values), infos)
}

/// The parameters' values: those in `set` as given, the others their defaults, each
/// evaluated once every parameter its default names has a value.
fn resolve_params(
    decls: &[(&Spanned<String>, &ParamFile, Dim)],
    set: &BTreeMap<String, Quantity>,
    source: &str,
    errors: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Quantity> {
    let declared: BTreeSet<&str> = decls.iter().map(|(n, _, _)| n.get_ref().as_str()).collect();
    // The declared parameters a default's text names (any identifier-like word).
    let names = |p: &ParamFile| -> Vec<String> {
        match p.default.get_ref() {
            Value::String(text) => text
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| declared.contains(w) && !w.starts_with(|c: char| c.is_ascii_digit()))
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut values = set.clone();
    let mut pending: Vec<_> = decls.iter().filter(|(n, _, _)| !set.contains_key(n.get_ref())).collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|(name, p, dim)| {
            if names(p).iter().any(|n| !values.contains_key(n)) {
                return true;
            }
            let scope = Params(values.clone());
            let v = Values { source, params: &scope };
            match v.quantity(&p.default, *dim, &format!("default of `{}`", name.get_ref())) {
                Ok(x) => {
                    values.insert(name.get_ref().clone(), Quantity { value: x, dim: *dim });
                }
                Err(e) => {
                    // A stand-in, so that its uses are not reported as unknown as well.
                    errors.push(e);
                    values.insert(name.get_ref().clone(), Quantity { value: 1.0, dim: *dim });
                }
            }
            false
        });
        if pending.len() == before {
            let circle: Vec<String> = pending.iter().map(|(n, _, _)| format!("`{}`", n.get_ref())).collect();
            let (first, p, _) = pending[0];
            errors.push(
                Diagnostic::at(
                    format!(
                        "the defaults of {} cannot be resolved: their names lead round in a circle",
                        circle.join(", ")
                    ),
                    p.default.span(),
                )
                .help(format!("give `{}` a value that does not depend on the others", first.get_ref())),
            );
            for (name, _, dim) in pending {
                values.insert(name.get_ref().clone(), Quantity { value: 1.0, dim: *dim });
            }
            break;
        }
    }
    values
}

/// The values `--set NAME=VALUE` gives parameters, each read in its parameter's dimension.
fn set_params(
    file: &ScenarioFile,
    overrides: &Overrides,
    decls: &[(&Spanned<String>, &ParamFile, Dim)],
    errors: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Quantity> {
    let empty = Params(BTreeMap::new());
    let mut set = BTreeMap::new();
    for (name, text) in overrides.set.iter().filter(|(n, _)| !field_override::is_field(n)) {
        let Some(&(_, _, dim)) = decls.iter().find(|(n, _, _)| n.get_ref() == name) else {
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
            Ok(q) if q.dim == dim || (dim == Dim::Rate && q.dim == Dim::Number) => {
                set.insert(name.clone(), Quantity { value: q.value, dim });
            }
            Ok(q) => errors.push(Diagnostic::new(format!(
                "--set {name}={text}: `{name}` is {}, but `{text}` is {}",
                dim.describe(),
                q.dim.describe()
            ))),
            Err(e) => errors.push(Diagnostic::new(format!("--set {name}={text}: {}", e.message))),
        }
    }
    set
}

/// A population's arrival process, its users, and its surges.
type Population = (Arrival, u32, Vec<Surge>);

fn surges(w: &WorkloadFile, v: &Values, errors: &mut Vec<Diagnostic>) -> Vec<Surge> {
    let mut out = Vec::new();
    for s in &w.surges {
        let at = v.duration(&s.at, "at").map_err(|e| errors.push(e)).ok();
        let lasting = v.duration(&s.lasting, "for").map_err(|e| errors.push(e)).ok();
        let factor = v.positive(&s.factor, Dim::Number, "factor", 1000.0).map_err(|e| errors.push(e)).ok();
        if let (Some(at), Some(lasting), Some(factor)) = (at, lasting, factor) {
            out.push(Surge { at, lasting, factor });
        }
    }
    out
}

fn workload(w: &WorkloadFile, v: &Values, errors: &mut Vec<Diagnostic>) -> Option<Population> {
    let missing = |key: &str, example: &str| {
        Diagnostic::at(format!("a `{}` workload needs `{key}`", w.arrival.get_ref()), w.arrival.span())
            .help(format!("add {key} = {example}"))
    };
    let misplaced = |key: &str, x: &toml::Spanned<Value>| {
        Diagnostic::at(format!("`{key}` does not apply to a `{}` workload", w.arrival.get_ref()), x.span())
    };
    match w.arrival.get_ref().as_str() {
        "poisson" => {
            if let Some(x) = &w.think {
                errors.push(misplaced("think", x).help("`think` belongs to arrival = \"closed\""));
            }
            let users = match &w.users {
                Some(u) => v.count(u, "users", 1, MAX_USERS).map_err(|e| errors.push(e)).ok()? as u32,
                None => 1000,
            };
            let Some(rate) = &w.rate else {
                errors.push(missing("rate", "100  # requests per second"));
                return None;
            };
            let surges = surges(w, v, errors);
            let rate = v.positive(rate, Dim::Rate, "rate", MAX_RATE).map_err(|e| errors.push(e)).ok()?;
            Some((Arrival::Poisson { rate_per_sec: rate }, users, surges))
        }
        "closed" => {
            if let Some(s) = w.surges.first() {
                errors.push(
                    Diagnostic::at("surges apply to open-loop (poisson) workloads", s.at.span())
                        .help("a closed loop's load follows from `users`; change it with --set instead"),
                );
            }
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
            let users = users? as u32;
            Some((Arrival::Closed { users, think: think? }, users, Vec::new()))
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
