//! Request tracing: chosen root requests followed hop by hop, one span a call, as a
//! distributed-tracing waterfall. Off by default.
//!
//! While no trace is open the tracer's `live` flag is down, and each hook (where a call
//! changes phase, is made, sent or answered) costs the test of it; while one is, the calls
//! being traced are looked up by id in a small map.
//!
//! A span is cut into segments at exactly the instants the latency attribution books a
//! call's time (`ctx::book`): on the wire, in a queue, in service, and waiting on its own
//! calls. So the segments of a span tile it: their lengths add up to its duration, and a
//! successful root span lasts exactly the latency the run measures. A sequential call's
//! span covers exactly one `calls` segment of its parent; the calls of a parallel node (or
//! the shards of a scan) start with one `calls` segment, which ends when the last of them
//! answers: that segment lasts as long as the longest of them.
//!
//! Which roots: `follow` picks the next root issued (of a class, or any), the one a person
//! watches; `sample` picks the first `n` roots issued at or after a given instant (the
//! warm-up's end), for export. "Any class" leaves out classes that open long-lived
//! connections (a WebSocket's connect lasts as long as the connection), as the report does. A trace completes when its root answers, fails or times out;
//! its spans still open then are closed at that instant as `unfinished`, as is any call
//! still out when its own caller stops waiting, so every span lies inside its parent's.

use crate::kernel::ids::{ClassId, RequestId};
use crate::kernel::time::SimTime;
use crate::model::Model;
use std::collections::BTreeMap;
use std::sync::Arc;

/// At most this many spans a trace; further calls are counted in `dropped_spans`.
pub const MAX_SPANS: usize = 10_000;
/// At most this many sampled traces a run.
pub const MAX_TRACES: usize = 10_000;

/// A traced call: its trace, its span once sent, and its parent's span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Call {
    trace: u32,
    span: u32,
    parent: u32,
}

/// No span (yet): a call not sent, or the root's parent.
const NONE: u32 = u32::MAX;

/// A phase of a call's time, as the latency attribution books it, plus the wait on its
/// own calls (booked by them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Network,
    Queue,
    Service,
    Calls,
}

impl Phase {
    fn of(phase: u8) -> Phase {
        [Phase::Network, Phase::Queue, Phase::Service, Phase::Calls][usize::from(phase.min(3))]
    }

    pub fn name(self) -> &'static str {
        match self {
            Phase::Network => "network",
            Phase::Queue => "queue",
            Phase::Service => "service",
            Phase::Calls => "calls",
        }
    }
}

/// A stretch of a span spent in one phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub phase: Phase,
    pub from: SimTime,
    pub to: SimTime,
}

/// One call of a traced request: from its send to the moment its answer reached the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// Its index in the trace's `spans`.
    pub id: u32,
    /// The span of the call that made it (`None` for the root).
    pub parent: Option<u32>,
    pub service: String,
    /// The instance serving it (`a → b` once redirected).
    pub instance: String,
    /// Its flow node in words: the service and the operation, e.g. `redis read`.
    pub what: String,
    /// Its flow node in the class's flow.
    pub node: u16,
    pub start: SimTime,
    /// `None` while it is out.
    pub end: Option<SimTime>,
    pub network_ns: u64,
    pub queue_ns: u64,
    pub service_ns: u64,
    /// Waiting on its own calls.
    pub calls_ns: u64,
    /// Its phases in order, consecutive ones of the same phase merged; they tile
    /// `start..end` (up to the last change of phase while it is still out).
    pub segments: Vec<Segment>,
    /// `ok`, `timed_out`, `refused`..., or `unfinished` (still out when its caller stopped
    /// waiting); `None` while out.
    pub outcome: Option<String>,
}

/// One traced root request and every call made on its behalf.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestTrace {
    /// The root's serial number: the n-th root issued in the run (from 1).
    pub id: u64,
    pub class: String,
    pub start: SimTime,
    pub end: Option<SimTime>,
    pub outcome: Option<String>,
    /// Spans in the order the calls were sent; `spans[0]` is the root's.
    pub spans: Vec<Span>,
    /// Calls past `MAX_SPANS`, not traced.
    pub dropped_spans: u64,
}

/// Names the tracer writes into spans, taken from the model when tracing is first asked for.
struct Names {
    services: Vec<String>,
    instances: Vec<String>,
    classes: Vec<String>,
    /// Per class and flow node: its service and operation in words.
    what: Vec<Vec<String>>,
    /// Per class and flow node: its service.
    service_of: Vec<Vec<usize>>,
    /// Per class: it opens long-lived connections (WebSockets), which "any class" skips.
    connection: Vec<bool>,
}

impl Names {
    fn new(model: &Model) -> Names {
        let op = |o: crate::event::Op| match o {
            crate::event::Op::Read => "read",
            crate::event::Op::Write => "write",
            crate::event::Op::Scan => "scan",
        };
        Names {
            services: model.services.iter().map(|s| s.name.clone()).collect(),
            instances: model.components.iter().map(|c| c.name.clone()).collect(),
            classes: model.classes.iter().map(|c| c.name.clone()).collect(),
            what: model
                .classes
                .iter()
                .map(|c| {
                    c.flow.iter().map(|n| format!("{} {}", model.services[n.service.index()].name, op(n.op))).collect()
                })
                .collect(),
            service_of: model.classes.iter().map(|c| c.flow.iter().map(|n| n.service.index()).collect()).collect(),
            connection: (0..model.classes.len()).map(|c| model.is_connection_class(ClassId(c as u16))).collect(),
        }
    }
}

/// A trace being written.
#[derive(Clone)]
struct Open {
    trace: RequestTrace,
    sampled: bool,
    /// Per span: its calls still out (so closing it closes them without a scan when 0).
    children_out: Vec<u32>,
    closed: bool,
}

/// The tracer's state; it lives in `Metrics` and is cloned with the run.
#[derive(Clone, Default)]
pub struct Tracer {
    /// Roots issued so far: the next one's serial number is this plus one.
    issued: u64,
    names: Option<Arc<Names>>,
    /// Some while the next root issued (of that class, or any) is to be followed.
    follow: Option<Option<ClassId>>,
    /// The followed trace's index in `store`.
    followed: Option<u32>,
    sample_left: usize,
    sample_from: SimTime,
    /// Every trace started, by index; `None` once nothing reads it any more.
    store: Vec<Option<Open>>,
    /// Completed sampled traces, in the order they completed.
    done: Vec<RequestTrace>,
    /// The calls of open traces still out, by request id.
    calls: BTreeMap<RequestId, Call>,
    /// `calls` is not empty: the one test on the hot path.
    live: bool,
}

impl Tracer {
    /// The serial number of a root issued now.
    #[inline(always)]
    pub fn next_serial(&mut self) -> u64 {
        self.issued += 1;
        self.issued
    }

    /// Whether any call is being traced: the test at every hook.
    #[inline(always)]
    pub fn live(&self) -> bool {
        self.live
    }

    fn insert(&mut self, id: RequestId, call: Call) {
        self.calls.insert(id, call);
        self.live = true;
    }

    fn remove(&mut self, id: RequestId) -> Option<Call> {
        let call = self.calls.remove(&id);
        self.live = !self.calls.is_empty();
        call
    }

    /// Forgets the calls of trace `t` (complete, or no longer read).
    fn drop_calls(&mut self, t: u32) {
        self.calls.retain(|_, c| c.trace != t);
        self.live = !self.calls.is_empty();
    }

    /// Whether a root issued now might be traced: the one test on the issue path.
    #[inline(always)]
    pub fn armed(&self) -> bool {
        self.follow.is_some() || self.sample_left > 0
    }

    fn names(&mut self, model: &Model) {
        if self.names.is_none() {
            self.names = Some(Arc::new(Names::new(model)));
        }
    }

    /// Follows the next root issued of `class` (or of any class), in place of the one
    /// followed so far.
    pub fn follow_next(&mut self, model: &Model, class: Option<ClassId>) {
        self.names(model);
        self.follow = Some(class);
        self.unfollow();
    }

    /// Traces the first `n` roots (at most `MAX_TRACES` in all) issued at or after `from`.
    pub fn sample(&mut self, model: &Model, n: usize, from: SimTime) {
        self.names(model);
        self.sample_left = n.min(MAX_TRACES.saturating_sub(self.done.len()));
        self.sample_from = from;
    }

    fn unfollow(&mut self) {
        if let Some(f) = self.followed.take()
            && let Some(open) = &self.store[f as usize]
            && (!open.sampled || open.closed)
        {
            self.store[f as usize] = None;
            self.drop_calls(f);
        }
    }

    pub fn followed(&self) -> Option<&RequestTrace> {
        Some(&self.store[self.followed? as usize].as_ref()?.trace)
    }

    pub fn traces(&self) -> &[RequestTrace] {
        &self.done
    }

    /// Root `id`, numbered `serial`, of `class` is issued now: traced if it is chosen.
    #[cold]
    pub fn on_root(&mut self, id: RequestId, serial: u64, class: ClassId, now: SimTime) {
        let names = self.names.as_ref().expect("names are set when tracing is asked for");
        let any = !names.connection[class.index()];
        let followed = self.follow.is_some_and(|c| c.map_or(any, |c| c == class));
        let sampled = any && self.sample_left > 0 && now >= self.sample_from;
        if !followed && !sampled {
            return;
        }
        let trace = RequestTrace {
            id: serial,
            class: names.classes[class.index()].clone(),
            start: now,
            end: None,
            outcome: None,
            spans: Vec::new(),
            dropped_spans: 0,
        };
        let index = self.store.len() as u32;
        self.store.push(Some(Open { trace, sampled, children_out: Vec::new(), closed: false }));
        if followed {
            self.follow = None;
            self.followed = Some(index);
        }
        if sampled {
            self.sample_left -= 1;
        }
        self.insert(id, Call { trace: index, span: NONE, parent: NONE });
    }

    /// Call `id` (flow node `node` of `class`), made by `parent` (`None` for a root or a
    /// component's own call), is sent now to `instance`: its span opens if its root is
    /// traced (a root is in `calls` from its issue, a call when its parent is there).
    #[cold]
    pub fn on_send(
        &mut self,
        id: RequestId,
        parent: Option<RequestId>,
        class: ClassId,
        node: u16,
        instance: usize,
        now: SimTime,
    ) {
        let call = match parent {
            None => match self.calls.get(&id) {
                Some(&c) if c.span == NONE => c,
                _ => return,
            },
            Some(p) => match self.calls.get(&p) {
                Some(p) if p.span != NONE && !self.calls.contains_key(&id) => {
                    Call { trace: p.trace, span: NONE, parent: p.span }
                }
                _ => return,
            },
        };
        match self.open_span(call, class, node, instance, now) {
            Some(span) => self.insert(id, Call { span, ..call }),
            None => {
                self.remove(id);
            }
        }
    }

    fn open_span(&mut self, call: Call, class: ClassId, node: u16, instance: usize, now: SimTime) -> Option<u32> {
        let parent = Some(call.parent).filter(|&p| p != NONE);
        let names = self.names.clone().expect("names are set when tracing is asked for");
        let open = self.store.get_mut(call.trace as usize)?.as_mut()?;
        if open.closed || parent.is_some_and(|p| open.trace.spans[p as usize].end.is_some()) {
            return None;
        }
        if open.trace.spans.len() >= MAX_SPANS {
            open.trace.dropped_spans += 1;
            return None;
        }
        let id = open.trace.spans.len() as u32;
        let (c, n) = (class.index(), usize::from(node));
        open.trace.spans.push(Span {
            id,
            parent,
            service: names.services[names.service_of[c][n]].clone(),
            instance: names.instances[instance].clone(),
            what: names.what[c][n].clone(),
            node,
            start: now,
            end: None,
            network_ns: 0,
            queue_ns: 0,
            service_ns: 0,
            calls_ns: 0,
            segments: Vec::new(),
            outcome: None,
        });
        open.children_out.push(0);
        if let Some(p) = parent {
            open.children_out[p as usize] += 1;
        }
        Some(id)
    }

    fn span_mut(&mut self, id: RequestId) -> Option<&mut Span> {
        let call = *self.calls.get(&id)?;
        let open = self.store.get_mut(call.trace as usize)?.as_mut()?;
        let span = open.trace.spans.get_mut(call.span as usize)?;
        span.end.is_none().then_some(span)
    }

    /// Call `id` spent `from..to` in `phase` (an attribution phase, `CALLS` included).
    #[cold]
    pub fn on_phase(&mut self, id: RequestId, phase: u8, from: SimTime, to: SimTime) {
        if to <= from {
            return;
        }
        let Some(span) = self.span_mut(id) else { return };
        let phase = Phase::of(phase);
        let ns = to.since(from).0;
        match phase {
            Phase::Network => span.network_ns += ns,
            Phase::Queue => span.queue_ns += ns,
            Phase::Service => span.service_ns += ns,
            Phase::Calls => span.calls_ns += ns,
        }
        match span.segments.last_mut() {
            Some(last) if last.phase == phase && last.to == from => last.to = to,
            _ => span.segments.push(Segment { phase, from, to }),
        }
    }

    /// Call `id` was handed on to `instance` (a replica redirecting to the primary).
    #[cold]
    pub fn on_redirect(&mut self, id: RequestId, instance: usize) {
        let Some(name) = self.names.as_ref().map(|n| n.instances[instance].clone()) else { return };
        if let Some(span) = self.span_mut(id) {
            span.instance = format!("{} → {name}", span.instance);
        }
    }

    /// Call `id` ended now for its caller (answered, refused, timed out): its span closes,
    /// with the calls it still had out; the root's closing completes the trace.
    #[cold]
    pub fn on_end(&mut self, id: RequestId, now: SimTime, outcome: &str) {
        let Some(call) = self.remove(id).filter(|c| c.span != NONE) else { return };
        let at = (call.trace, call.span);
        let Some(Some(open)) = self.store.get_mut(at.0 as usize) else { return };
        if open.closed || open.trace.spans.get(at.1 as usize).is_none_or(|s| s.end.is_some()) {
            return;
        }
        close(open, at.1, now, outcome);
        if at.1 != 0 {
            return;
        }
        open.closed = true;
        (open.trace.end, open.trace.outcome) = (Some(now), Some(outcome.to_string()));
        let sampled = open.sampled;
        self.drop_calls(at.0);
        if !sampled {
            return;
        }
        if self.followed == Some(at.0) {
            let open = self.store[at.0 as usize].as_ref().expect("present");
            self.done.push(open.trace.clone());
        } else {
            let open = self.store[at.0 as usize].take().expect("present");
            self.done.push(open.trace);
        }
    }
}

/// Closes span `id` now with `outcome`, and, first, its calls still out as `unfinished`.
fn close(open: &mut Open, id: u32, now: SimTime, outcome: &str) {
    if open.children_out[id as usize] > 0 {
        let out: Vec<u32> =
            open.trace.spans.iter().filter(|s| s.parent == Some(id) && s.end.is_none()).map(|s| s.id).collect();
        for c in out {
            close(open, c, now, "unfinished");
        }
    }
    let span = &mut open.trace.spans[id as usize];
    (span.end, span.outcome) = (Some(now), Some(outcome.to_string()));
    if let Some(p) = span.parent {
        open.children_out[p as usize] -= 1;
    }
}
