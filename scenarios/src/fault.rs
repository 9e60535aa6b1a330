//! One fault type for every source of faults: the scenario file's `[[faults]]` tables (read
//! by `fault_file`), the schedules `scalelab chaos` draws, and the TUI's fault menu. A
//! fault names instances and services as the scenario does; `lower` turns it into the
//! model's fault specs, and `to_toml` writes it back as the `[[faults]]` table a seed file
//! embeds, which parses to the same fault.

use crate::diagnostic::did_you_mean;
use sim_core::SimDuration;
use sim_core::kernel::ids::ComponentId;
use sim_core::model::{FaultAction, FaultSpec, PartitionSpec};

#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// When it starts, from the beginning of the run.
    pub at: SimDuration,
    pub kind: FaultKind,
    /// How long a slow instance, surge, skew, partition or flaky link lasts (forever if
    /// `None`); a crash lasts until a `Restart`.
    pub lasting: Option<SimDuration>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    Crash(String),
    Restart(String),
    Drain(String),
    /// Service times multiplied by `factor`.
    Slow {
        instance: String,
        factor: f64,
    },
    /// An open-loop population's rate multiplied by `factor`.
    Surge {
        population: String,
        factor: f64,
    },
    /// The instance's clock runs `by` ahead.
    Skew {
        instance: String,
        by: SimDuration,
    },
    /// Sides of services or instances that cannot reach each other.
    Partition {
        sides: Vec<Vec<String>>,
        one_way: bool,
        hold: bool,
    },
    /// A link between two components that loses a share `loss` of what crosses it, only
    /// from the first end to the second if `one_way`; `hold` as a partition's.
    Flaky {
        ends: [String; 2],
        loss: f64,
        one_way: bool,
        hold: bool,
    },
    /// Every partition and flaky link in force heals.
    HealAll,
    /// A service behind a load balancer runs `instances` from now on (the lowest-numbered).
    Scale {
        service: String,
        instances: u32,
    },
    /// An open-loop population's base rate is `per_sec` from now on, until the next; surges
    /// multiply it.
    Rate {
        population: String,
        per_sec: f64,
    },
    /// A cache's (or each CDN edge's) capacity is `capacity` entries from now on.
    Resize {
        cache: String,
        capacity: u32,
    },
}

/// Whether scale faults may set a service's size, as the lowering found it.
#[derive(Clone, Debug, PartialEq)]
pub enum Scaling {
    /// Behind these load balancers, which alone send to it: they keep its active prefix.
    Balanced(Vec<ComponentId>),
    /// Why not, and what to do instead.
    Refused { message: String, help: String },
}

/// Which part of a fault a lowering error is about, for the parser to point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Target,
    /// The fault's number: a scale's `instances`, a resize's `capacity`.
    Amount,
    /// Name `.1` of side `.0` (a flaky link's ends are sides of one name each).
    Side(usize, usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct FaultError {
    pub part: Part,
    pub message: String,
    pub help: Option<String>,
}

impl FaultError {
    fn new(part: Part, message: String, help: Option<String>) -> FaultError {
        FaultError { part, message, help }
    }
}

impl std::fmt::Display for FaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.help {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// The names a fault may use, as the scenario declared them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Names {
    pub services: Vec<String>,
    pub instances: Vec<String>,
    pub service_instances: Vec<Vec<ComponentId>>,
    /// Per population of users (the first services): true if it is a closed loop.
    pub closed: Vec<bool>,
    /// Per service: whether scale faults may size it.
    pub scaling: Vec<Scaling>,
    /// Per instance: its LRU capacity in entries, if it is a cache or a CDN with LRU edges.
    pub capacities: Vec<Option<u32>>,
}

impl Names {
    fn instance(&self, name: &str) -> Option<ComponentId> {
        self.instances.iter().position(|n| n == name).map(|i| ComponentId(i as u32))
    }

    /// A service's instances, or one instance.
    fn members(&self, name: &str, part: Part) -> Result<Vec<ComponentId>, FaultError> {
        if let Some(i) = self.services.iter().position(|n| n == name) {
            return Ok(self.service_instances[i].clone());
        }
        if let Some(c) = self.instance(name) {
            return Ok(vec![c]);
        }
        let all = self.services.iter().chain(&self.instances).map(String::as_str);
        let help = match did_you_mean(name, all) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("declared components: {}", self.services.join(", ")),
        };
        Err(FaultError::new(part, format!("unknown component `{name}`"), Some(help)))
    }

    /// The one instance a process fault names (a service of one instance counts).
    fn target(&self, name: &str) -> Result<ComponentId, FaultError> {
        if let Some(c) = self.instance(name) {
            return Ok(c);
        }
        let many = self.services.iter().position(|n| n == name).filter(|&s| self.service_instances[s].len() > 1);
        let help = match many {
            Some(s) => Some(format!(
                "`{name}` has {} instances; name one, such as `{}`",
                self.service_instances[s].len(),
                self.instances[self.service_instances[s][0].index()]
            )),
            None => {
                did_you_mean(name, self.instances.iter().map(String::as_str)).map(|s| format!("did you mean `{s}`?"))
            }
        };
        Err(FaultError::new(Part::Target, format!("unknown instance `{name}`"), help))
    }

    fn is_population(&self, c: ComponentId) -> bool {
        c.index() < self.closed.len()
    }

    /// The service a scale fault names, with the balancers that keep its size.
    fn scaled(&self, name: &str, instances: u32) -> Result<&[ComponentId], FaultError> {
        let Some(s) = self.services.iter().position(|n| n == name) else {
            let help = match self.instance(name) {
                Some(_) => "scale names a service (the `id` of a [[components]] entry), not one instance".to_string(),
                None => match did_you_mean(name, self.services.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("declared services: {}", self.services.join(", ")),
                },
            };
            return Err(FaultError::new(Part::Target, format!("unknown service `{name}`"), Some(help)));
        };
        let balancers = match self.scaling.get(s) {
            Some(Scaling::Balanced(b)) => b,
            Some(Scaling::Refused { message, help }) => {
                return Err(FaultError::new(Part::Target, message.clone(), Some(help.clone())));
            }
            None => {
                return Err(FaultError::new(
                    Part::Target,
                    format!("`{name}` is not behind a load balancer"),
                    Some("scale a service that a load balancer's `backends` names".into()),
                ));
            }
        };
        if instances == 0 {
            return Err(FaultError::new(
                Part::Amount,
                format!("`{name}` cannot run 0 instances"),
                Some("scale to at least 1; to stop every instance, crash or drain them".into()),
            ));
        }
        let have = self.service_instances[s].len();
        if instances as usize > have {
            return Err(FaultError::new(
                Part::Amount,
                format!("scaling `{name}` to {instances} needs instances this model does not have (it has {have})"),
                Some(format!("{RESHAPES}: put the fault in the scenario's file and load it again")),
            ));
        }
        Ok(balancers)
    }
}

/// Why a scale fault beyond a service's lowered size cannot join a parsed scenario.
pub const RESHAPES: &str =
    "a scale fault that adds instances changes the model's shape, so the scenario is lowered again with them";

impl Fault {
    /// Appends this fault's specs to `faults` (and its cut to `partitions`). The engine
    /// numbers faults by their place in the list, and the trace sees the numbers, so the
    /// order is fixed: a slow instance or a surge lists its end first, every other fault
    /// its start first (as the file format always has).
    pub fn lower(
        &self,
        names: &Names,
        faults: &mut Vec<FaultSpec>,
        partitions: &mut Vec<PartitionSpec>,
    ) -> Result<(), FaultError> {
        let at = self.at;
        let end_first = matches!(self.kind, FaultKind::Slow { .. } | FaultKind::Surge { .. });
        let mut push = |target: ComponentId, start: FaultAction, end: Option<FaultAction>| {
            let end = self.lasting.zip(end).map(|(d, action)| FaultSpec { at: at + d, target, action });
            let start = FaultSpec { at, target, action: start };
            match end {
                Some(end) if end_first => faults.extend([end, start]),
                Some(end) => faults.extend([start, end]),
                None => faults.push(start),
            }
        };
        match &self.kind {
            FaultKind::HealAll => push(ComponentId(0), FaultAction::HealAll, None),
            FaultKind::Partition { sides, one_way, hold } => {
                let spec = cut(names, sides, *one_way, *hold, 1.0)?;
                let id = partitions.len() as u16;
                partitions.push(spec);
                push(ComponentId(0), FaultAction::Partition(id), Some(FaultAction::Heal(id)));
            }
            FaultKind::Flaky { ends, loss, one_way, hold } => {
                let sides = [vec![ends[0].clone()], vec![ends[1].clone()]];
                let spec = cut(names, &sides, *one_way, *hold, *loss)?;
                let id = partitions.len() as u16;
                partitions.push(spec);
                push(ComponentId(0), FaultAction::Partition(id), Some(FaultAction::Heal(id)));
            }
            FaultKind::Surge { population, factor } => {
                let c = names.target(population)?;
                if !names.is_population(c) || names.closed[c.index()] {
                    return Err(FaultError::new(
                        Part::Target,
                        format!("`{population}` is not an open-loop population of users"),
                        Some("a surge multiplies the request rate of `clients` or a poisson [workloads.NAME]".into()),
                    ));
                }
                push(c, FaultAction::Slow(*factor), Some(FaultAction::Slow(1.0)));
            }
            FaultKind::Crash(i) | FaultKind::Restart(i) | FaultKind::Drain(i) => {
                let c = process(names, i)?;
                let action = match self.kind {
                    FaultKind::Crash(_) => FaultAction::Crash,
                    FaultKind::Restart(_) => FaultAction::Restart,
                    _ => FaultAction::Drain,
                };
                push(c, action, None);
            }
            FaultKind::Slow { instance, factor } => {
                let c = process(names, instance)?;
                push(c, FaultAction::Slow(*factor), Some(FaultAction::Slow(1.0)));
            }
            FaultKind::Skew { instance, by } => {
                let c = process(names, instance)?;
                push(c, FaultAction::Skew(*by), Some(FaultAction::Skew(SimDuration::ZERO)));
            }
            FaultKind::Scale { service, instances } => {
                for &lb in names.scaled(service, *instances)? {
                    push(lb, FaultAction::Scale(*instances), None);
                }
            }
            FaultKind::Rate { population, per_sec } => {
                let c = names.target(population)?;
                if !names.is_population(c) {
                    return Err(FaultError::new(
                        Part::Target,
                        format!("`{population}` is not a population of users"),
                        Some("a rate fault sets the request rate of `clients` or a [workloads.NAME]".into()),
                    ));
                }
                if names.closed[c.index()] {
                    return Err(FaultError::new(
                        Part::Target,
                        format!("`{population}` is a closed loop: its rate follows from its users and think time"),
                        Some(
                            "change its `users` in the file and run again; rate faults set open-loop (poisson) rates"
                                .into(),
                        ),
                    ));
                }
                push(c, FaultAction::Rate(*per_sec), None);
            }
            FaultKind::Resize { cache, capacity } => {
                let members = names.members(cache, Part::Target)?;
                if *capacity == 0 {
                    return Err(FaultError::new(
                        Part::Amount,
                        format!("`{cache}` cannot hold 0 entries"),
                        Some("give a capacity of at least 1".into()),
                    ));
                }
                for c in members {
                    if names.capacities.get(c.index()).copied().flatten().is_none() {
                        return Err(FaultError::new(
                            Part::Target,
                            format!("`{}` has no LRU capacity to resize", names.instances[c.index()]),
                            Some("resize names a cache, or a CDN whose edges have a `capacity`".into()),
                        ));
                    }
                    push(c, FaultAction::Capacity(*capacity), None);
                }
            }
        }
        Ok(())
    }

    /// The `[[faults]]` table that states this fault.
    pub fn to_toml(&self) -> String {
        let quoted = |names: &[String]| names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
        let body = match &self.kind {
            FaultKind::Crash(i) => format!("crash = \"{i}\"\n"),
            FaultKind::Restart(i) => format!("restart = \"{i}\"\n"),
            FaultKind::Drain(i) => format!("drain = \"{i}\"\n"),
            FaultKind::Slow { instance, factor } => format!("slow = \"{instance}\"\nfactor = {factor}\n"),
            FaultKind::Surge { population, factor } => format!("surge = \"{population}\"\nfactor = {factor}\n"),
            FaultKind::Skew { instance, by } => format!("skew = \"{instance}\"\nby = \"{}\"\n", duration(*by)),
            FaultKind::Partition { sides, one_way, hold } => {
                let sides: Vec<String> = sides.iter().map(|s| format!("[{}]", quoted(s))).collect();
                format!("partition = [{}]\n{}", sides.join(", "), cut_options(*one_way, *hold))
            }
            FaultKind::Flaky { ends, loss, one_way, hold } => {
                format!("flaky = [{}]\nloss = {loss}\n{}", quoted(ends), cut_options(*one_way, *hold))
            }
            FaultKind::HealAll => "heal = \"all\"\n".to_string(),
            FaultKind::Scale { service, instances } => format!("scale = \"{service}\"\ninstances = {instances}\n"),
            FaultKind::Rate { population, per_sec } => format!("rate = \"{population}\"\nto = {per_sec}\n"),
            FaultKind::Resize { cache, capacity } => format!("resize = \"{cache}\"\ncapacity = {capacity}\n"),
        };
        // Only the faults that end take a `for`, as the parser wants.
        let ends = !matches!(
            self.kind,
            FaultKind::Crash(_)
                | FaultKind::Restart(_)
                | FaultKind::Drain(_)
                | FaultKind::HealAll
                | FaultKind::Scale { .. }
                | FaultKind::Rate { .. }
                | FaultKind::Resize { .. }
        );
        let lasting = self.lasting.filter(|_| ends).map(|d| format!("for = \"{}\"\n", duration(d)));
        let lasting = lasting.unwrap_or_default();
        format!("[[faults]]\nat = \"{}\"\n{body}{lasting}", duration(self.at))
    }
}

/// The `one_way` and `hold` lines of a cut, when set.
fn cut_options(one_way: bool, hold: bool) -> String {
    let mut t = String::new();
    if one_way {
        t.push_str("one_way = true\n");
    }
    if hold {
        t.push_str("hold = true\n");
    }
    t
}

/// A duration in the largest unit that states it exactly: `90s`, `1500ms`, `7ns`.
fn duration(d: SimDuration) -> String {
    let ns = d.as_nanos();
    match ns {
        0 => "0s".into(),
        _ if ns.is_multiple_of(1_000_000_000) => format!("{}s", ns / 1_000_000_000),
        _ if ns.is_multiple_of(1_000_000) => format!("{}ms", ns / 1_000_000),
        _ if ns.is_multiple_of(1_000) => format!("{}us", ns / 1_000),
        _ => format!("{ns}ns"),
    }
}

/// The instance a crash, restart, drain, slow or skew fault hits: never the users.
fn process(names: &Names, name: &str) -> Result<ComponentId, FaultError> {
    let c = names.target(name)?;
    if names.is_population(c) {
        return Err(FaultError::new(
            Part::Target,
            format!("`{name}` is a population of users, which cannot fail"),
            Some("fail the components they talk to".into()),
        ));
    }
    Ok(c)
}

/// The cut a partition (loss 1) or flaky link makes between `sides`.
fn cut(
    names: &Names,
    sides: &[Vec<String>],
    one_way: bool,
    hold: bool,
    loss: f64,
) -> Result<PartitionSpec, FaultError> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (s, group) in sides.iter().enumerate() {
        let mut side = Vec::new();
        for (n, name) in group.iter().enumerate() {
            let part = Part::Side(s, n);
            let found = names.members(name, part)?;
            if found.iter().any(|&c| names.is_population(c)) {
                return Err(FaultError::new(
                    part,
                    format!("`{name}` is a population of users"),
                    Some("users stay on no side and reach every side; cut between components".into()),
                ));
            }
            for c in found {
                if !seen.insert(c) {
                    return Err(FaultError::new(
                        part,
                        format!("`{}` is on two sides", names.instances[c.index()]),
                        Some("each instance belongs to at most one side".into()),
                    ));
                }
                side.push(c);
            }
        }
        out.push(side);
    }
    Ok(PartitionSpec { sides: out, one_way, hold, loss })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let not = |message: &str| Scaling::Refused { message: message.into(), help: "h".into() };
        Names {
            services: vec!["clients".into(), "web".into(), "db".into(), "lb".into(), "cache".into()],
            instances: vec!["clients".into(), "web-1".into(), "web-2".into(), "db".into(), "lb".into(), "cache".into()],
            service_instances: vec![
                vec![ComponentId(0)],
                vec![ComponentId(1), ComponentId(2)],
                vec![ComponentId(3)],
                vec![ComponentId(4)],
                vec![ComponentId(5)],
            ],
            closed: vec![false],
            scaling: vec![
                not("`clients` is not behind a load balancer"),
                Scaling::Balanced(vec![ComponentId(4)]),
                not("`db` is not behind a load balancer"),
                not("`lb` is not behind a load balancer"),
                not("`cache` is not behind a load balancer"),
            ],
            capacities: vec![None, None, None, None, None, Some(100)],
        }
    }

    fn at(ms: u64) -> SimDuration {
        SimDuration::from_millis(ms)
    }

    #[test]
    fn a_fault_with_a_duration_lowers_to_its_start_and_its_end() {
        let f = Fault {
            at: at(1000),
            kind: FaultKind::Slow { instance: "web-2".into(), factor: 4.0 },
            lasting: Some(at(500)),
        };
        let (mut faults, mut cuts) = (Vec::new(), Vec::new());
        f.lower(&names(), &mut faults, &mut cuts).unwrap();
        assert_eq!(
            faults,
            [
                FaultSpec { at: at(1500), target: ComponentId(2), action: FaultAction::Slow(1.0) },
                FaultSpec { at: at(1000), target: ComponentId(2), action: FaultAction::Slow(4.0) },
            ],
            "a slow fault's end first, as files have always numbered it"
        );
        assert!(cuts.is_empty());
    }

    #[test]
    fn a_partition_resolves_services_to_their_instances() {
        let sides = vec![vec!["web".into()], vec!["db".into()]];
        let f = Fault { at: at(0), kind: FaultKind::Partition { sides, one_way: false, hold: true }, lasting: None };
        let (mut faults, mut cuts) = (Vec::new(), Vec::new());
        f.lower(&names(), &mut faults, &mut cuts).unwrap();
        assert_eq!(cuts[0].sides, [vec![ComponentId(1), ComponentId(2)], vec![ComponentId(3)]]);
        assert_eq!(faults[0].action, FaultAction::Partition(0));
        assert_eq!(faults.len(), 1, "no heal without a duration");
    }

    #[test]
    fn wrong_names_say_what_to_write() {
        let crash = |name: &str| Fault { at: at(0), kind: FaultKind::Crash(name.into()), lasting: None };
        let lower = |f: Fault| f.lower(&names(), &mut Vec::new(), &mut Vec::new()).unwrap_err();
        let e = lower(crash("web"));
        assert_eq!(e.message, "unknown instance `web`");
        assert_eq!(e.help.as_deref(), Some("`web` has 2 instances; name one, such as `web-1`"));
        assert_eq!(lower(crash("clients")).message, "`clients` is a population of users, which cannot fail");
        let sides = vec![vec!["web-1".into()], vec!["web".into()]];
        let e = lower(Fault {
            at: at(0),
            kind: FaultKind::Partition { sides, one_way: false, hold: false },
            lasting: None,
        });
        assert_eq!((e.part, e.message.as_str()), (Part::Side(1, 0), "`web-1` is on two sides"));
    }

    fn lower_one(kind: FaultKind) -> Result<Vec<FaultSpec>, FaultError> {
        let mut faults = Vec::new();
        Fault { at: at(2000), kind, lasting: None }.lower(&names(), &mut faults, &mut Vec::new())?;
        Ok(faults)
    }

    #[test]
    fn a_scale_lowers_onto_the_balancer_and_within_the_instances_the_model_has() {
        let scale = |service: &str, instances| FaultKind::Scale { service: service.into(), instances };
        assert_eq!(
            lower_one(scale("web", 1)).unwrap(),
            [FaultSpec { at: at(2000), target: ComponentId(4), action: FaultAction::Scale(1) }],
            "the balancer keeps the active prefix; a scale has no end"
        );
        let e = lower_one(scale("web", 3)).unwrap_err();
        assert_eq!(e.part, Part::Amount);
        assert_eq!(e.message, "scaling `web` to 3 needs instances this model does not have (it has 2)");
        assert!(e.help.unwrap().starts_with(RESHAPES));
        assert_eq!(lower_one(scale("web", 0)).unwrap_err().message, "`web` cannot run 0 instances");
        assert_eq!(lower_one(scale("db", 2)).unwrap_err().message, "`db` is not behind a load balancer");
        let e = lower_one(scale("web-1", 2)).unwrap_err();
        assert_eq!(e.message, "unknown service `web-1`");
        assert!(e.help.unwrap().contains("not one instance"));
    }

    #[test]
    fn a_rate_needs_an_open_loop_and_a_resize_an_lru() {
        let rate = FaultKind::Rate { population: "clients".into(), per_sec: 250.0 };
        assert_eq!(lower_one(rate).unwrap()[0].action, FaultAction::Rate(250.0));
        let mut closed = names();
        closed.closed = vec![true];
        let f =
            Fault { at: at(0), kind: FaultKind::Rate { population: "clients".into(), per_sec: 1.0 }, lasting: None };
        let e = f.lower(&closed, &mut Vec::new(), &mut Vec::new()).unwrap_err();
        assert!(e.message.starts_with("`clients` is a closed loop"), "{e}");
        let e = lower_one(FaultKind::Rate { population: "db".into(), per_sec: 1.0 }).unwrap_err();
        assert_eq!(e.message, "`db` is not a population of users");
        let resize = |cache: &str, capacity| FaultKind::Resize { cache: cache.into(), capacity };
        assert_eq!(
            lower_one(resize("cache", 10)).unwrap(),
            [FaultSpec { at: at(2000), target: ComponentId(5), action: FaultAction::Capacity(10) }]
        );
        assert_eq!(lower_one(resize("web", 10)).unwrap_err().message, "`web-1` has no LRU capacity to resize");
        assert_eq!(lower_one(resize("cache", 0)).unwrap_err().part, Part::Amount);
    }

    #[test]
    fn knobs_write_their_tables_without_a_for() {
        let f = |kind| Fault { at: at(20_000), kind, lasting: Some(at(5)) }.to_toml();
        assert_eq!(
            f(FaultKind::Scale { service: "web".into(), instances: 5 }),
            "[[faults]]\nat = \"20s\"\nscale = \"web\"\ninstances = 5\n"
        );
        assert_eq!(
            f(FaultKind::Rate { population: "clients".into(), per_sec: 1500.0 }),
            "[[faults]]\nat = \"20s\"\nrate = \"clients\"\nto = 1500\n"
        );
    }

    #[test]
    fn to_toml_writes_the_largest_exact_units() {
        let f = Fault {
            at: at(90_000),
            kind: FaultKind::Flaky { ends: ["web".into(), "db".into()], loss: 0.05, one_way: false, hold: false },
            lasting: Some(at(1500)),
        };
        assert_eq!(f.to_toml(), "[[faults]]\nat = \"90s\"\nflaky = [\"web\", \"db\"]\nloss = 0.05\nfor = \"1500ms\"\n");
        let heal = Fault { at: SimDuration(7), kind: FaultKind::HealAll, lasting: None };
        assert_eq!(heal.to_toml(), "[[faults]]\nat = \"7ns\"\nheal = \"all\"\n");
    }
}
