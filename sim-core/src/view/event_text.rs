//! The event inspector: the last events processed, each in words and ids ("request #12
//! (feed) arrived at web-2 from lb; it started serving #12; it calls redis-1 (redis
//! read)"). Records are kept raw while the run goes (`world::metrics::event_log`) and
//! put into words here, when read.

use crate::engine::Simulation;
use crate::event::{EventKind, Outcome};
use crate::kernel::ids::{ClassId, ComponentId};
use crate::kernel::time::SimDuration;
use crate::model::FaultAction;
use crate::world::metrics::event_log::{Effect, Facts, Fate, Raw};
use crate::world::metrics::failure;

/// One processed event, in words.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// The event's number: `Simulation::events()` just after it was processed.
    pub seq: u64,
    pub t: crate::kernel::time::SimTime,
    /// The instance the event was for (`None` for none).
    pub component: Option<String>,
    pub service: Option<String>,
    /// The class and number (`RequestTrace::id`) of the request it was about, if any.
    pub class: Option<String>,
    pub request: Option<u64>,
    pub text: String,
}

impl Simulation {
    /// Keeps a record of each of the last `capacity` events processed from now on (0 turns
    /// recording off). Recording only observes: the run and its trace hash are unchanged.
    pub fn record_events(&mut self, capacity: usize) {
        self.metrics.log.record(capacity);
    }

    /// The recorded events, oldest first, in words.
    pub fn recent_events(&self) -> impl DoubleEndedIterator<Item = EventRecord> + '_ {
        self.metrics.log.iter().map(|r| self.event_record(r))
    }

    /// The last event processed, if recording was on for it.
    pub fn last_event(&self) -> Option<EventRecord> {
        self.recent_events().next_back()
    }

    fn event_record(&self, r: &Raw) -> EventRecord {
        let subject = r.facts.map(|f| (f.serial, f.class)).or_else(|| {
            r.effects.iter().find_map(|e| match *e {
                Effect::Sent { serial, class, .. } | Effect::Answered { serial, class, .. } if serial > 0 => {
                    Some((u64::from(serial), class))
                }
                _ => None,
            })
        });
        let subject = subject.filter(|(serial, _)| *serial > 0);
        let service = self.model.components[r.target.index()].service;
        // A partition's start and heal concern the network, not the instance they name.
        let network = matches!(r.kind, EventKind::Fault(f) if matches!(
            self.model.faults[f as usize].action,
            FaultAction::Partition(_) | FaultAction::Heal(_) | FaultAction::HealAll
        ));
        EventRecord {
            seq: r.seq,
            t: r.t,
            component: Some(self.component_name(r.target).to_string()).filter(|_| !network),
            service: Some(self.model.services[service.index()].name.clone()).filter(|_| !network),
            class: subject.map(|(_, c)| self.class_name(c).to_string()),
            request: subject.map(|(s, _)| s),
            text: self.text(r),
        }
    }

    fn class_name(&self, c: ClassId) -> &str {
        &self.model.classes[c.index()].name
    }

    /// `request #12 (feed)`, or `a call of no request (feed)` for a component's own call.
    fn request_words(&self, serial: u64, class: ClassId) -> String {
        match serial {
            0 => format!("a background call ({})", self.class_name(class)),
            n => format!("request #{n} ({})", self.class_name(class)),
        }
    }

    fn node_service(&self, class: ClassId, node: u16) -> &str {
        let flow = &self.model.classes[class.index()].flow;
        match flow.get(usize::from(node)) {
            Some(n) => &self.model.services[n.service.index()].name,
            None => "admission",
        }
    }

    fn text(&self, r: &Raw) -> String {
        let me = self.component_name(r.target);
        let my = possessive(me);
        let name = |c: ComponentId| self.component_name(c);
        let req = |f: &Facts| self.request_words(f.serial, f.class);
        let mut text = match (r.kind, r.facts, r.fate) {
            (EventKind::Start, ..) => format!("{me} started"),
            (EventKind::Timer { .. }, _, Fate::TargetDown) => format!("{my} timer passed while it is down: dropped"),
            (EventKind::Timer { .. }, _, Fate::Stale) => format!("{my} timer from before its restart: dropped"),
            (EventKind::Timer { token, .. }, ..) => format!("{my} timer fired (token {token})"),
            (EventKind::Request(_), Some(f), Fate::TargetDown) => {
                format!("{} reached {me} from {}, but {me} is down: refused", req(&f), name(f.caller))
            }
            (EventKind::Request(_), Some(f), _) => format!("{} arrived at {me} from {}", req(&f), name(f.caller)),
            (EventKind::Response(_), None, _) => format!("{me} got an answer to a call already freed: dropped"),
            (EventKind::Response(_), Some(f), fate) => {
                let from = self.node_service(f.class, f.node);
                let base = format!("the answer to {} from {from} ({}) reached {me}", req(&f), f.outcome.name());
                match fate {
                    Fate::Abandoned => format!("{base} after {me} had given up on it: freed"),
                    Fate::TargetDown => format!("{base}, which is down: dropped"),
                    Fate::Stale => format!("{base}, which restarted since the call: dropped"),
                    _ => base,
                }
            }
            (EventKind::Timeout(_), Some(f), Fate::TimedOut { node, detail }) => {
                let waited = SimDuration(r.t.0.saturating_sub(f.created.0));
                let call = if f.root {
                    String::new()
                } else {
                    format!("{my} call to {} for ", self.node_service(f.class, f.node))
                };
                format!(
                    "timeout: {call}{} gave up after {}, {} at {}",
                    req(&f),
                    ms(waited),
                    stuck(detail),
                    self.node_service(f.class, node)
                )
            }
            // A timeout of a call that has ended is no event at all (the engine skips it).
            (EventKind::Timeout(_), ..) => {
                format!("{me}: a call's timeout passed, but {me} no longer waits for that call: nothing to do")
            }
            (EventKind::Hedge(_), Some(f), _) => format!(
                "{my} call to {} for {} has waited its hedge delay: a copy may go out",
                self.node_service(f.class, f.node),
                req(&f)
            ),
            (EventKind::Hedge(_), None, _) => {
                format!("{me}: a hedge delay passed after the call had ended: nothing to do")
            }
            (EventKind::Retry(_), Some(f), _) => format!(
                "{my} retry of its call to {} for {} has waited its backoff: it goes out",
                self.node_service(f.class, f.node),
                req(&f)
            ),
            (EventKind::Retry(_), None, _) => {
                format!("{me}: a retry's backoff passed after its request had ended: nothing to do")
            }
            (EventKind::Ping { from, .. }, _, Fate::TargetDown) => {
                format!("{} health probe found {me} down: it fails", possessive(name(from)))
            }
            (EventKind::Ping { from, .. }, ..) => format!("{me} answered {} health probe", possessive(name(from))),
            (EventKind::Pong { healthy, .. }, _, Fate::TargetDown) => {
                format!("a probe's answer ({}) reached {me}, which is down: dropped", health(healthy))
            }
            (EventKind::Pong { healthy, .. }, ..) => format!("{me} heard a health probe's answer: {}", health(healthy)),
            (EventKind::Message { from, token }, _, Fate::TargetDown) => {
                format!("a message from {} (token {token}) reached {me}, which is down: dropped", name(from))
            }
            (EventKind::Message { from, token }, ..) => {
                format!("{me} got a message from {} (token {token})", name(from))
            }
            (EventKind::Fault(f), ..) => self.fault_text(me, self.model.faults[f as usize].action, r.held),
            (EventKind::Request(_), None, _) => format!("a request reached {me}"),
        };
        for e in &r.effects {
            text.push_str("; ");
            text.push_str(&self.effect_text(e, r.facts.as_ref()));
        }
        text
    }

    fn fault_text(&self, me: &str, action: FaultAction, held: u32) -> String {
        match action {
            FaultAction::Crash if held > 0 => {
                format!("{me} crashed (fault); the {held} requests it held are refused to their callers")
            }
            FaultAction::Crash => format!("{me} crashed (fault)"),
            FaultAction::Restart => format!("{me} restarted (fault), with empty state"),
            FaultAction::Slow(x) => format!("{me} slowed down: service times x{x} (fault)"),
            FaultAction::Drain => format!("{me} drains (fault): it finishes what it holds and takes nothing new"),
            FaultAction::Skew(by) => format!("{} clock jumped {} ahead (fault)", possessive(me), ms(by)),
            FaultAction::Partition(p) => format!("network partition {p} cuts the network (fault)"),
            FaultAction::Heal(p) => format!("network partition {p} healed (fault)"),
            FaultAction::HealAll => "every network partition healed (fault)".to_string(),
            FaultAction::Scale(n) => format!("{me} now keeps {n} backends in service (knob)"),
            FaultAction::Rate(r) => format!("{me} now sends {r} requests a second (knob)"),
            FaultAction::Capacity(c) => format!("{me} now holds at most {c} entries (knob)"),
        }
    }

    fn effect_text(&self, e: &Effect, facts: Option<&Facts>) -> String {
        let name = |c: ComponentId| self.component_name(c);
        match *e {
            Effect::Sent { serial, class, to, root: true, .. } => {
                format!("it issued {} to {}", self.request_words(u64::from(serial), class), name(to))
            }
            Effect::Sent { serial, class, node, to, .. } => {
                format!(
                    "it calls {} for #{serial} ({} {})",
                    name(to),
                    self.node_service(class, node),
                    op(self, class, node)
                )
            }
            Effect::Answered { serial, outcome, to, .. } => {
                format!("it answered #{serial} {} to {}", outcome.name(), name(to))
            }
            Effect::Redirected { serial, to } => format!("it redirected #{serial} to {}", name(to)),
            Effect::Queued { serial } => format!("it queued #{serial}"),
            Effect::Began { serial } => format!("it started serving #{serial}"),
            Effect::Finished { class, outcome, latency } => {
                let serial = facts.map_or(0, |f| f.serial);
                let how = if outcome == Outcome::Ok {
                    "finished ok".to_string()
                } else {
                    format!("failed ({})", outcome.name())
                };
                format!("{} {how} after {}", self.request_words(serial, class), ms(latency))
            }
            Effect::Ping { to } => format!("it probed {}", name(to)),
            Effect::Message { to } => format!("it sent a message to {}", name(to)),
            Effect::Datagram { to } => format!("it sent a datagram to {}", name(to)),
        }
    }
}

fn op(sim: &Simulation, class: ClassId, node: u16) -> &'static str {
    match sim.model.classes[class.index()].flow.get(usize::from(node)).map(|n| n.op) {
        Some(crate::event::Op::Write) => "write",
        Some(crate::event::Op::Scan) => "scan",
        _ => "read",
    }
}

fn ms(d: SimDuration) -> String {
    let v = d.0 as f64 / 1e6;
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.3} ms")
    }
}

/// `web-1's`, `clients'`.
fn possessive(name: &str) -> String {
    if name.ends_with('s') { format!("{name}'") } else { format!("{name}'s") }
}

fn health(healthy: bool) -> &'static str {
    if healthy { "healthy" } else { "unhealthy" }
}

/// Where a timed-out call was, in words (`world::metrics::failure`).
fn stuck(detail: u8) -> &'static str {
    match detail {
        failure::QUEUED => "stuck in the queue",
        failure::SERVING => "still being served",
        failure::IN_TRANSIT => "still on the wire",
        failure::LOST => "lost by the network",
        failure::CRASHED => "at a crashed instance",
        _ => "waiting on its calls",
    }
}
