//! `scalelab diagram`: a scenario's architecture as a Mermaid flowchart or a Graphviz
//! graph, drawn from the lowered model (what runs), not from the file's text. One node a
//! service (its kind, instance count, replicas or shards), populations first; one solid
//! edge a pair of services that some class calls along, labelled with the classes and the
//! link's latency; one dotted edge a link no call uses.

mod dot;
mod mermaid;

use sim_core::Model;
use sim_core::event::Op;
use sim_core::model::load_balancer::Policy;
use sim_core::model::{Arrival, ComponentModel, Routing};

pub use dot::dot;
pub use mermaid::mermaid;

/// What a diagram draws, in the model's order so the output is stable.
pub struct Architecture {
    pub name: String,
    pub services: Vec<Service>,
    /// Calls between services (indices into `services`), in the order classes make them.
    pub calls: Vec<Call>,
    /// Links between two different services that no call uses.
    pub links: Vec<Link>,
}

pub struct Service {
    pub name: String,
    pub shape: Shape,
    /// The second line: "×10 server", "database · primary + 2 replicas (async)".
    pub detail: String,
}

/// How a node is drawn: by what the service is, not by its name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    Population,
    Balancer,
    Storage,
    Queue,
    Box,
}

pub struct Call {
    pub from: usize,
    pub to: usize,
    /// The classes that make this call ("upload:write" when not a read, "search ×100"
    /// for a fan-out of 100 copies at once).
    pub classes: Vec<String>,
    /// The latencies of the links between the two services ("~30ms"), if they are linked.
    pub latency: Vec<String>,
}

pub struct Link {
    pub a: usize,
    pub b: usize,
    pub latency: Vec<String>,
}

impl Call {
    pub fn label(&self) -> String {
        let mut s = self.classes.join(", ");
        if !self.latency.is_empty() {
            s.push_str(" · ");
            s.push_str(&self.latency.join(" / "));
        }
        s
    }
}

/// A link's latency as a label: its mean, with `~` when it varies; none for a link with
/// no delay of its own (a CDN's, whose model holds its latencies).
fn latency(d: &sim_core::Delay) -> Option<String> {
    match d {
        sim_core::Delay::Constant(c) if c.as_nanos() == 0 => None,
        sim_core::Delay::Constant(c) => Some(c.to_string()),
        _ => Some(format!("~{}", d.mean())),
    }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}

/// "1,000,000": populations and rates read at a glance.
fn thousands(x: f64) -> String {
    let x = (x * 100.0).round() / 100.0;
    let whole = x.trunc() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    let frac = x - whole as f64;
    if frac > 0.005 {
        out.push_str(format!("{frac:.2}").trim_start_matches('0').trim_end_matches('0'));
    }
    out
}

fn policy(p: &Policy) -> &'static str {
    match p {
        Policy::RoundRobin => "round_robin",
        Policy::LeastConnections => "least_connections",
        Policy::ClientHash => "client_hash",
        Policy::WeightedRoundRobin(_) => "weighted_round_robin",
        Policy::PowerOfTwo => "power_of_two",
        Policy::Random => "random",
        Policy::PowerOfD(_) => "power_of_d",
    }
}

/// The node's second line: what the service is and how its instances share the work.
fn detail(model: &ComponentModel, routing: &Routing, n: usize, self_links: &[String]) -> String {
    let kind = model.kind();
    let mut s = match model {
        ComponentModel::Clients(c) => {
            let mut s = match &c.arrival {
                Arrival::Poisson { rate_per_sec } => {
                    format!("open loop · {} req/s · {} users", thousands(*rate_per_sec), thousands(f64::from(c.users)))
                }
                Arrival::Closed { users, think } => {
                    format!("closed loop · {} users · think {think}", thousands(f64::from(*users)))
                }
            };
            for surge in &c.surges {
                s.push_str(&format!(" · ×{} at {} for {}", surge.factor, surge.at, surge.lasting));
            }
            s
        }
        ComponentModel::LoadBalancer(lb) => format!("load balancer · {}", policy(&lb.policy)),
        ComponentModel::Gateway(g) => format!("{} · auth, limit, {}", plural(n, "API gateway"), policy(&g.policy)),
        _ if n > 1 => format!("×{n} {kind}"),
        _ => kind.to_string(),
    };
    match routing {
        Routing::Sharded(sharding) => s.push_str(&format!(" · {} by key ({})", plural(n, "shard"), sharding.name())),
        Routing::PrimaryReplica { reads_from_replicas, nearest } => {
            s = format!("{kind} · primary + {}", plural(n - 1, "replica"));
            if let ComponentModel::Database(db) = model {
                s.push_str(match db.replication {
                    sim_core::model::database::Replication::Async { .. } => " (async)",
                    sim_core::model::database::Replication::Sync => " (sync)",
                });
            }
            if *nearest {
                s.push_str(" · reads nearest");
            } else if *reads_from_replicas {
                s.push_str(" · reads from replicas");
            }
        }
        Routing::Nearest => s.push_str(" · leaderless, nearest member"),
        Routing::RoundRobin => {}
    }
    if let ComponentModel::Store(st) = model {
        s.push_str(&format!(" · {} W={} R={}", st.mode, st.w, st.r));
    }
    if !self_links.is_empty() {
        s.push_str(&format!(" · {} apart", self_links.join(" / ")));
    }
    s
}

fn shape(model: &ComponentModel) -> Shape {
    match model {
        ComponentModel::Clients(_) => Shape::Population,
        ComponentModel::LoadBalancer(_) | ComponentModel::Gateway(_) => Shape::Balancer,
        ComponentModel::Database(_) | ComponentModel::Store(_) | ComponentModel::ObjectStore(_) => Shape::Storage,
        ComponentModel::Queue(_) | ComponentModel::PubSub(_) => Shape::Queue,
        _ => Shape::Box,
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

impl Architecture {
    pub fn of(model: &Model) -> Architecture {
        let svc = |c: sim_core::kernel::ids::ComponentId| model.components[c.index()].service.index();
        // Links grouped by the unordered pair of services they join.
        let mut links: Vec<Link> = Vec::new();
        for l in &model.links {
            let (a, b) = (svc(l.a).min(svc(l.b)), svc(l.a).max(svc(l.b)));
            let group = match links.iter().position(|g| g.a == a && g.b == b) {
                Some(g) => g,
                None => {
                    links.push(Link { a, b, latency: Vec::new() });
                    links.len() - 1
                }
            };
            if let Some(text) = latency(&l.latency) {
                push_unique(&mut links[group].latency, text);
            }
        }
        // Populations first, then the rest in model order.
        let first = |s: &sim_core::model::ServiceSpec| &model.components[s.instances[0].index()].model;
        let mut order: Vec<usize> = (0..model.services.len()).collect();
        order.sort_by_key(|&i| !matches!(first(&model.services[i]), ComponentModel::Clients(_)));
        let position = |i: usize| order.iter().position(|&o| o == i).expect("every service is ordered");
        let services = order
            .iter()
            .map(|&i| {
                let s = &model.services[i];
                let own: Vec<String> =
                    links.iter().filter(|l| l.a == i && l.b == i).flat_map(|l| l.latency.clone()).collect();
                Service {
                    name: s.name.clone(),
                    shape: shape(first(s)),
                    detail: detail(first(s), &s.routing, s.instances.len(), &own),
                }
            })
            .collect();
        let mut calls: Vec<Call> = Vec::new();
        let mut call = |from: usize, to: usize, class: String| {
            let (from, to) = (position(from), position(to));
            match calls.iter_mut().find(|c| c.from == from && c.to == to) {
                Some(c) => push_unique(&mut c.classes, class),
                None => calls.push(Call { from, to, classes: vec![class], latency: Vec::new() }),
            }
        };
        for class in &model.classes {
            let name = |op: Op| match op {
                Op::Read => class.name.clone(),
                Op::Write => format!("{}:write", class.name),
                Op::Scan => format!("{}:scan", class.name),
            };
            let Some(root) = class.flow.first() else { continue };
            call(svc(class.origin), root.service.index(), name(root.op));
            for node in &class.flow {
                for &c in &node.calls {
                    let next = &class.flow[usize::from(c)];
                    let label = match (next.fanout, next.to_each) {
                        (_, true) => format!("{} ×all", name(next.op)),
                        (1, false) => name(next.op),
                        (n, false) => format!("{} ×{n}", name(next.op)),
                    };
                    call(node.service.index(), next.service.index(), label);
                }
            }
        }
        let mut unused = Vec::new();
        for mut l in links.into_iter().filter(|l| l.a != l.b) {
            let (a, b) = (position(l.a), position(l.b));
            let mut used = false;
            for c in calls.iter_mut().filter(|c| (c.from, c.to) == (a, b) || (c.from, c.to) == (b, a)) {
                c.latency.clone_from(&l.latency);
                used = true;
            }
            if !used {
                (l.a, l.b) = (a, b);
                unused.push(l);
            }
        }
        Architecture { name: model.name.clone(), services, calls, links: unused }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Mermaid,
    Dot,
    /// The Mermaid flowchart, then the DOT graph.
    Both,
}

/// `scalelab diagram`: loads the scenario as `run` does (the same errors) and prints it.
pub fn diagram(args: &crate::cli::DiagramArgs) -> anyhow::Result<i32> {
    let overrides = scenarios::Overrides { set: args.set.clone(), ..Default::default() };
    let scenario = match crate::load(&args.scenario, &overrides) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let arch = Architecture::of(&scenario.model);
    match args.format {
        Format::Mermaid => print!("{}", mermaid(&arch)),
        Format::Dot => print!("{}", dot(&arch)),
        Format::Both => print!("{}\n{}", mermaid(&arch), dot(&arch)),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_at_a_glance() {
        assert_eq!(thousands(1_000_000.0), "1,000,000");
        assert_eq!(thousands(800.0), "800");
        assert_eq!(thousands(801.157), "801.16");
        assert_eq!(thousands(1234.5), "1,234.5");
    }
}
