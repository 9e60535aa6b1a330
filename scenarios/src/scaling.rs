//! What scale and resize faults need from the lowering: a service that scale faults grow
//! is lowered with as many instances as its largest target (the extras out of service
//! until a scale adds them), and the names a fault may scale or resize, with the reason
//! when it may not. A file without scale faults is lowered exactly as before.

use crate::fault::Scaling;
use crate::file::ScenarioFile;
use crate::limits::MAX_SCALE_INSTANCES;
use crate::values::Values;
use sim_core::kernel::ids::ComponentId;
use sim_core::model::cdn::EdgeCache;
use sim_core::model::load_balancer::Policy;
use sim_core::model::{ClassSpec, ComponentModel};

/// Per service, the most instances any scale fault in the file asks of it (at least
/// `counts`). Values that do not evaluate are left to the fault's own lowering to report.
pub fn lowered_counts(file: &ScenarioFile, names: &[String], counts: &[u32], v: &Values) -> Vec<u32> {
    let mut out = counts.to_vec();
    for f in &file.faults {
        let (Some(service), Some(n)) = (&f.scale, &f.instances) else { continue };
        let Some(s) = names.iter().position(|x| x == service.get_ref()) else { continue };
        if let Ok(n) = v.count(n, "instances", 1, MAX_SCALE_INSTANCES) {
            out[s] = out[s].max(n as u32);
        }
    }
    out
}

/// Each load balancer whose backends were lowered with more instances than their `count`
/// starts with only `count` of them in service.
pub fn hold_back(models: &mut [Option<ComponentModel>], counts: &[u32], lowered: &[u32]) {
    for m in models.iter_mut().flatten() {
        if let ComponentModel::LoadBalancer(lb) = m {
            let s = lb.backends.index();
            if lowered[s] > counts[s] {
                lb.start_in_service = Some(counts[s]);
            }
        }
    }
}

/// Per service, whether scale faults may size it: only through load balancers that
/// alone send to it, neither autoscaling it nor weighing its instances one by one.
pub fn scaling(
    names: &[String],
    models: &[Option<ComponentModel>],
    service_instances: &[Vec<ComponentId>],
    classes: &[ClassSpec],
) -> Vec<Scaling> {
    let refused = |message: String, help: &str| Scaling::Refused { message, help: help.to_string() };
    (0..names.len())
        .map(|s| {
            let name = &names[s];
            let fronts: Vec<usize> = (0..models.len())
                .filter(|&b| matches!(&models[b], Some(ComponentModel::LoadBalancer(lb)) if lb.backends.index() == s))
                .collect();
            if fronts.is_empty() {
                return refused(
                    format!("`{name}` is not behind a load balancer"),
                    "scale a service that a load balancer's `backends` names: only a balancer can take added \
                     instances into service",
                );
            }
            for &b in &fronts {
                let Some(ComponentModel::LoadBalancer(lb)) = &models[b] else { unreachable!("filtered") };
                if lb.autoscale.is_some() {
                    return refused(
                        format!("`{name}` is autoscaled by `{}`, whose scaler sets its size", names[b]),
                        "remove the balancer's `autoscale` to set the size by hand",
                    );
                }
                if matches!(lb.policy, Policy::WeightedRoundRobin(_)) {
                    return refused(
                        format!(
                            "`{}` gives each instance of `{name}` its own weight, so their number is fixed",
                            names[b]
                        ),
                        "use another policy to scale the service",
                    );
                }
            }
            let direct = classes.iter().find_map(|c| {
                let caller = |i: usize| {
                    let parent = c.flow.iter().find(|n| n.calls.contains(&(i as u16)));
                    parent.map_or("its users".to_string(), |p| format!("`{}`", names[p.service.index()]))
                };
                let from_balancer = |i: usize| {
                    c.flow
                        .iter()
                        .find(|n| n.calls.contains(&(i as u16)))
                        .is_some_and(|p| fronts.contains(&p.service.index()))
                };
                (0..c.flow.len())
                    .find(|&i| c.flow[i].service.index() == s && !from_balancer(i))
                    .map(|i| (c.name.clone(), caller(i)))
            });
            if let Some((class, caller)) = direct {
                return refused(
                    format!("class `{class}`: `{name}` is called directly by {caller}, not through its load balancer"),
                    "route every call to the service through the balancer, which alone knows which instances are \
                     in service",
                );
            }
            Scaling::Balanced(fronts.iter().flat_map(|&b| service_instances[b].iter().copied()).collect())
        })
        .collect()
}

/// Per instance, its LRU capacity in entries if it has one (a cache, a CDN with LRU edges).
pub fn capacities(models: &[Option<ComponentModel>], instance_service: &[usize]) -> Vec<Option<u32>> {
    instance_service
        .iter()
        .map(|&s| match &models[s] {
            Some(ComponentModel::Cache(c)) => Some(c.capacity),
            Some(ComponentModel::Cdn(c)) => match c.cache {
                EdgeCache::Lru { capacity, .. } => Some(capacity),
                EdgeCache::HitRatio(_) => None,
            },
            _ => None,
        })
        .collect()
}
