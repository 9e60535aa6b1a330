//! What a component may do while it handles one input: timers, calls along its request's
//! flow, answers, pings and messages to other instances, draws from its own random
//! stream. Every effect goes through here, so the engine keeps the invariants (requests
//! are conserved; a call is answered at most once; a stale id is never acted on).

use crate::event::Event;
use crate::event::{ChildResult, EventKind};
use crate::event::{Op, Outcome};
use crate::kernel::distribution::Delay;
use crate::kernel::ids::{ClassId, ComponentId, RequestId, ServiceId};
use crate::kernel::rng::SimRng;
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::Routing;
use crate::world::World;
use crate::world::db_group::DbGroup;
use crate::world::metrics::Metrics;
use crate::world::metrics::attribution::{CALLS, NETWORK, NO_LEDGER, QUEUE, SERVICE};
use crate::world::metrics::event_log::Effect;
use crate::world::notes::{Note, NoteKind};
use crate::world::request::{Holder, Request, Requests};
use crate::world::store_group::StoreGroup;
use rand::Rng;

/// One component's hands for one input. Private fields: a component reads what it may
/// (its time, its id, the requests it holds) and changes the world only by the verbs
/// below, so every effect keeps the engine's invariants.
pub struct Ctx<'a> {
    now: SimTime,
    me: ComponentId,
    rng: &'a mut SimRng,
    requests: &'a mut Requests,
    metrics: &'a mut Metrics,
    world: &'a mut World,
}

impl<'a> Ctx<'a> {
    #[inline(always)]
    pub(crate) fn new(
        now: SimTime,
        me: ComponentId,
        rng: &'a mut SimRng,
        requests: &'a mut Requests,
        metrics: &'a mut Metrics,
        world: &'a mut World,
    ) -> Ctx<'a> {
        Ctx { now, me, rng, requests, metrics, world }
    }
}

impl Ctx<'_> {
    /// The simulated time of the input being handled.
    #[inline(always)]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The instance handling it.
    #[inline(always)]
    pub fn me(&self) -> ComponentId {
        self.me
    }

    /// A request this component holds or called (the engine guarantees it is live).
    #[inline]
    pub fn request(&self, id: RequestId) -> &Request {
        self.requests.get(id).expect("a component reads only live requests")
    }

    /// A request that may have ended already (a parent answered by a failure).
    #[inline]
    pub fn try_request(&self, id: RequestId) -> Option<&Request> {
        self.requests.get(id)
    }

    /// The live request in slot `slot` (components key their timers by slot).
    #[inline]
    pub fn request_in_slot(&self, slot: u32) -> RequestId {
        self.requests.id_in_slot(slot)
    }

    /// Stamps the data version `req` carries back (what was read or written).
    #[inline]
    pub fn set_version(&mut self, req: RequestId, version: u64) {
        self.requests.get_mut(req).expect("live").version = version;
    }

    /// Tags `req` with a number of the component's own (a balancer's chosen backend).
    #[inline]
    pub fn set_tag(&mut self, req: RequestId, tag: u32) {
        self.requests.get_mut(req).expect("live").tag = tag;
    }

    /// Draws from any distribution with this component's random stream.
    #[inline]
    pub fn sample<D: rand_distr::Distribution<f64>>(&mut self, d: &D) -> f64 {
        d.sample(self.rng)
    }

    /// A user read data older than their own last write.
    pub fn count_read_your_writes_violation(&mut self, class: ClassId) {
        self.metrics.classes[class.index()].read_your_writes_violations += 1;
    }

    /// How far a skew fault has set this instance's clock ahead.
    pub fn clock_ahead(&self) -> SimDuration {
        self.world.clock_ahead[self.me.index()]
    }

    /// The shared state of the replicated store `service` (this instance's group).
    pub fn store_group(&mut self, service: ServiceId) -> &mut StoreGroup {
        self.world.stores[service.index()].as_mut().expect("stores have a group")
    }

    /// The shared count of `service`'s rate limit kept in a store (this instance's own
    /// service's, which only its servers touch, when the store's answer comes back).
    pub fn shared_limiter(&mut self, service: ServiceId) -> &mut crate::world::rate_limiter::RateLimiter {
        self.world.limits[service.index()].as_mut().expect("a shared limit has a count")
    }

    /// The shared state of database cluster `service`.
    pub fn db_group(&mut self, service: ServiceId) -> &mut DbGroup {
        self.world.db_group(service)
    }

    /// The cluster's state together with which instances are down: what its control
    /// plane sees when it picks a replica.
    pub fn db_group_and_down(&mut self, service: ServiceId) -> (&mut DbGroup, &[bool]) {
        let world = &mut *self.world;
        (world.db[service.index()].as_mut().expect("databases have a group"), &world.down)
    }

    /// DNS now names `service`'s instance number `new` as the primary (a failover's end).
    pub fn switch_primary(&mut self, service: ServiceId, new: usize) {
        self.world.switch_primary(service, new, self.now);
    }

    /// Draws from `delay` with this component's random stream.
    #[inline]
    pub fn draw(&mut self, delay: &Delay) -> SimDuration {
        delay.sample(self.rng)
    }

    /// A uniform draw in `0..n` (multiply-shift: portable, no rejection loop).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.rng.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        chance(self.rng, p)
    }

    /// Records a notable event of this component, now (for the log people watch).
    pub fn note(&mut self, kind: NoteKind) {
        self.note_for(self.me, kind);
    }

    /// Records a notable event of another instance (a failover names the new primary).
    pub fn note_for(&mut self, component: ComponentId, kind: NoteKind) {
        self.world.notes.push(Note { time: self.now, component, kind });
    }

    /// Wakes this component with `Timer(token)` after `after`.
    #[inline]
    pub fn set_timer(&mut self, after: SimDuration, token: u32) {
        let epoch = self.world.epoch[self.me.index()];
        self.world.queue.push(self.now + after, Event::new(self.me, EventKind::Timer { token, epoch }));
    }

    #[inline]
    fn send(&mut self, from: ComponentId, to: ComponentId, kind: EventKind) {
        if !self.world.partitions.is_empty() && !self.crosses_cut(from, to, kind) {
            return;
        }
        let delay = self.world.latency(from, to);
        self.world.queue.push(self.now + delay, Event::new(to, kind));
    }

    /// Asks the partitions in force about a message: true if it goes on now. A lost
    /// request or answer is marked so that its caller's timeout frees it.
    #[cold]
    fn crosses_cut(&mut self, from: ComponentId, to: ComponentId, kind: EventKind) -> bool {
        self.crosses_cut_as(from, to, kind, matches!(kind, EventKind::Message { .. }))
    }

    /// `crosses_cut`, saying whether the message belongs to a stream (held at a cut).
    #[cold]
    fn crosses_cut_as(&mut self, from: ComponentId, to: ComponentId, kind: EventKind, stream: bool) -> bool {
        let rng = &mut *self.rng;
        let verdict = self.world.partitions.judge(from, to, kind, stream, |p| chance(rng, p));
        if verdict == crate::world::partition::Verdict::Drop
            && let EventKind::Request(id) | EventKind::Response(id) = kind
            && let Some(r) = self.requests.get_mut(id)
        {
            if r.abandoned {
                // Its caller gave up already and no answer will come: nobody else frees it.
                self.metrics.series.abandoned -= 1;
                self.requests.remove(id);
            } else {
                r.holder = Holder::Lost;
            }
        }
        verdict == crate::world::partition::Verdict::Deliver
    }

    /// Sends a health probe; the target's engine answers `Pong { token, healthy }` if it is up.
    pub fn ping(&mut self, to: ComponentId, token: u32) {
        if self.metrics.log.on() {
            self.metrics.log.effect(Effect::Ping { to });
        }
        self.send(self.me, to, EventKind::Ping { from: self.me, token });
    }

    /// Sends a datagram (a leaderless store's replication): a partition loses it.
    pub fn datagram(&mut self, to: ComponentId, token: u32) {
        if self.metrics.log.on() {
            self.metrics.log.effect(Effect::Datagram { to });
        }
        let kind = EventKind::Message { from: self.me, token };
        if !self.world.partitions.is_empty() && !self.crosses_cut_as(self.me, to, kind, false) {
            return;
        }
        let latency = self.world.latency(self.me, to);
        self.world.queue.push(self.now + latency, Event::new(to, kind));
    }

    /// Sends a protocol message (replication, job hand-off) to another instance.
    pub fn message(&mut self, to: ComponentId, token: u32) {
        self.message_after(to, token, SimDuration::ZERO);
    }

    /// Sends a message that leaves after `delay` (replication lag, for instance).
    pub fn message_after(&mut self, to: ComponentId, token: u32, delay: SimDuration) {
        if self.metrics.log.on() {
            self.metrics.log.effect(Effect::Message { to });
        }
        let kind = EventKind::Message { from: self.me, token };
        if !self.world.partitions.is_empty() && !self.crosses_cut(self.me, to, kind) {
            return;
        }
        let latency = self.world.latency(self.me, to);
        let event = Event::new(to, kind);
        self.world.queue.push(self.now + delay + latency, event);
    }

    /// Hands `req` to another instance of the same service (a replica sending a read to
    /// the primary): its answer goes straight to the original caller.
    pub fn redirect(&mut self, req: RequestId, instance: ComponentId) {
        let now = self.now;
        let r = self.requests.get_mut(req).expect("redirect a live request");
        debug_assert_eq!(r.holder, Holder::At(self.me), "only the holder redirects");
        book(self.metrics, req, r, now, NETWORK);
        r.holder = Holder::InTransit;
        if self.metrics.spans.live() {
            self.metrics.spans.on_redirect(req, instance.index());
        }
        if self.metrics.log.on() {
            self.metrics.log.effect(Effect::Redirected { serial: r.serial, to: instance });
        }
        self.send(self.me, instance, EventKind::Request(req));
    }

    /// True while this component holds `req` (it has not answered it yet).
    #[inline]
    pub fn holds(&self, req: RequestId) -> bool {
        self.requests.get(req).is_some_and(|r| r.holder == Holder::At(self.me))
    }

    /// Issues a new root request of `class` and sends it to its first service. Returns
    /// `None` (after recording a shed failure) when the run's in-flight limit is reached.
    #[inline]
    pub fn issue(&mut self, class: ClassId, user: u32, key: u64, min_version: u64) -> Option<RequestId> {
        self.metrics.on_generated(self.now, class);
        self.send_root(class, user, key, min_version, None)
    }

    /// Re-sends a root request of `class` that failed (a client's retry): the same user
    /// request, so `generated` does not count it again, and its latency runs from `first`,
    /// when its first attempt was issued. The time since then (earlier attempts and the
    /// backoff) is booked as waiting in the queue of the first service, so a successful
    /// retried root's bookings still add up to its latency. Returns `None` (after recording
    /// the request as shed) when the run's in-flight limit is reached.
    pub fn reissue(
        &mut self,
        class: ClassId,
        user: u32,
        key: u64,
        min_version: u64,
        first: SimTime,
    ) -> Option<RequestId> {
        self.send_root(class, user, key, min_version, Some(first))
    }

    /// Stores a root call of `class` and sends it to its first service: created now, or at
    /// `first` for a retry (whose time since then is booked as waiting in that queue).
    #[inline(always)]
    fn send_root(
        &mut self,
        class: ClassId,
        user: u32,
        key: u64,
        min_version: u64,
        first: Option<SimTime>,
    ) -> Option<RequestId> {
        let created = first.unwrap_or(self.now);
        if self.requests.live() >= self.world.in_flight_max as usize {
            let none = crate::world::request::NO_NODE;
            self.metrics.on_finished(self.now, class, created, Outcome::Shed, none, 0);
            return None;
        }
        let op = self.world.flows[class.index()][0].op;
        let mut call = self.new_call(class, 0, op, key, user, None);
        call.min_version = min_version;
        call.created = created;
        let serial = self.metrics.spans.next_serial();
        call.serial = serial as u32;
        let root = self.requests.insert(call);
        if self.metrics.spans.armed() {
            self.metrics.spans.on_root(root, serial, class, self.now);
        }
        self.requests.get_mut(root).expect("live").ledger = root;
        self.metrics.attribution.open(root, class);
        if let Some(first) = first {
            self.metrics.attribution.book(root, 0, QUEUE, self.now - first);
        }
        self.route_call(root);
        Some(root)
    }

    /// Counts a root call sent under a retry policy: a first attempt, or a retry.
    pub fn count_attempt(&mut self, class: ClassId, retry: bool) {
        let c = &mut self.metrics.classes[class.index()];
        c.attempts += 1;
        c.retries += u64::from(retry);
    }

    /// Counts a retry that a retry budget refused.
    pub fn count_retry_refused(&mut self, class: ClassId) {
        self.metrics.classes[class.index()].retries_refused += 1;
    }

    /// `req`'s service here ends now: if nobody waits for its answer any more (its caller,
    /// or a caller above it, gave up), the service time since `begin_service` was wasted.
    /// Counted only when some caller retries; otherwise one branch.
    #[inline(always)]
    pub fn count_if_wasted(&mut self, req: RequestId) {
        if !self.metrics.wasted_ns.is_empty() && self.now >= self.metrics.warmup_end() {
            self.count_wasted(req);
        }
    }

    #[cold]
    fn count_wasted(&mut self, req: RequestId) {
        let served = self.now - self.request(req).mark;
        let mut at = Some(req);
        // A call's ancestors are at most a flow deep; a parent already freed waits no more.
        let given_up = loop {
            match at.map(|id| self.requests.get(id)) {
                None => break false,
                Some(None) => break true,
                Some(Some(r)) if r.abandoned => break true,
                Some(Some(r)) => at = r.parent,
            }
        };
        if given_up {
            self.metrics.wasted_ns[self.me.index()] += served.as_nanos();
        }
    }

    /// This instance is done with its own work on `req`: make the next call of its flow
    /// node (all of them at once for a parallel node), or answer `Ok` when none is left.
    /// Returns true if it answered (the instance no longer holds `req`).
    #[inline]
    pub fn proceed(&mut self, req: RequestId) -> bool {
        let r = self.requests.get(req).expect("proceed on a live request");
        let node = &self.world.flows[r.class.index()][r.node as usize];
        let next = r.next_call as usize;
        if next >= node.calls.len() {
            self.respond(req, Outcome::Ok);
            return true;
        } else if node.parallel {
            // By index, not a clone of the list: the hot path allocates nothing.
            let (class, at, count) = (r.class.index(), r.node as usize, node.calls.len());
            self.requests.get_mut(req).expect("live").next_call = count as u16;
            for k in 0..count {
                let c = self.world.flows[class][at].calls[k];
                self.fan_out(req, c, true);
            }
        } else {
            let c = node.calls[next];
            self.requests.get_mut(req).expect("live").next_call += 1;
            self.fan_out(req, c, false);
        }
        false
    }

    /// Makes flow node `node`'s call on behalf of `parent`: once, or `fanout` copies at
    /// once, each booking into its own ledger as parallel calls do (the one answering
    /// last is the critical path).
    #[inline]
    fn fan_out(&mut self, parent: RequestId, node: u16, parallel: bool) {
        let class = self.requests.get(parent).expect("live").class;
        let n = &self.world.flows[class.index()][node as usize];
        let (fanout, to_each, service) = (n.fanout, n.to_each, n.service);
        if fanout == 1 && !to_each {
            let child = self.new_child(parent, node, parallel);
            self.route_call(child);
            return;
        }
        for k in 0..fanout as usize {
            let child = self.new_child(parent, node, true);
            if to_each {
                let instance = self.world.services[service.index()].instances[k];
                self.dispatch(child, instance);
            } else {
                self.route_call(child);
            }
        }
    }

    /// Takes the next call of `req`'s flow node, if any is left, and returns its node.
    pub fn next_call_node(&mut self, req: RequestId) -> Option<u16> {
        let r = self.requests.get_mut(req).expect("live");
        let calls = &self.world.flows[r.class.index()][r.node as usize].calls;
        let node = *calls.get(r.next_call as usize)?;
        r.next_call += 1;
        Some(node)
    }

    /// Calls flow node `node` on behalf of `parent`, choosing the instance by the
    /// service's routing.
    pub fn call(&mut self, parent: RequestId, node: u16) {
        let child = self.new_child(parent, node, false);
        self.route_call(child);
    }

    /// `req` leaves this instance's queue and starts being served: its time since it
    /// arrived (or since `queued`) was waiting.
    #[inline(always)]
    pub fn begin_service(&mut self, req: RequestId) {
        let now = self.now;
        let r = self.requests.get_mut(req).expect("serve a live request");
        book(self.metrics, req, r, now, SERVICE);
        if self.metrics.log.on() {
            self.metrics.log.effect(Effect::Began { serial: r.serial });
        }
    }

    /// `req` waits in this instance's queue (for a worker, a connection) from now.
    #[inline(always)]
    pub fn queued(&mut self, req: RequestId) {
        let now = self.now;
        let r = self.requests.get_mut(req).expect("queue a live request");
        book(self.metrics, req, r, now, QUEUE);
        if self.metrics.log.on() {
            self.metrics.log.effect(Effect::Queued { serial: r.serial });
        }
    }

    /// A call this component makes on its own account (a cache flushing a dirty entry, a
    /// queue handing a job to a worker): it belongs to no request, so its answer arrives
    /// as a `ChildDone` with no parent. `timeout` replaces the class's.
    pub fn detached_call(
        &mut self,
        class: ClassId,
        node: u16,
        key: u64,
        user: u32,
        instance: Option<ComponentId>,
        timeout: Option<SimDuration>,
    ) -> RequestId {
        let op = self.world.flows[class.index()][node as usize].op;
        let req = self.requests.insert(self.new_call(class, node, op, key, user, None));
        match instance {
            Some(i) => {
                if let Some(t) = timeout {
                    self.world.queue.push_fixed_delay(self.now + t, Event::new(self.me, EventKind::Timeout(req)));
                }
                if self.world.deadlines.on {
                    self.world.deadlines.set(req, timeout.map_or(SimTime::MAX, |t| self.now + t));
                }
                self.send(self.me, i, EventKind::Request(req));
            }
            None => self.route_call(req),
        }
        req
    }

    /// A call aside from `parent`'s flow (a rate limiter asking its store): flow node
    /// `node`, for `key` rather than the parent's, given up after `timeout` rather than the
    /// class's. The parent waits for it as for any call; `settle` takes its answer.
    pub fn call_aside(&mut self, parent: RequestId, node: u16, key: u64, timeout: SimDuration) {
        let child = self.new_child(parent, node, false);
        self.requests.get_mut(child).expect("live").key = key;
        let (class, instance) = self.target(child).expect("a call aside is not a scan");
        if self.metrics.spans.live() || self.metrics.log.on() {
            self.on_send(child, class, instance);
        }
        self.world.queue.push_fixed_delay(self.now + timeout, Event::new(self.me, EventKind::Timeout(child)));
        if self.world.deadlines.on {
            self.world.deadlines.set(child, self.now + timeout);
        }
        self.send(self.me, instance, EventKind::Request(child));
    }

    /// The answer to a call aside (`call_aside`) arrived or timed out: the parent stops
    /// waiting for it, and a failure of it is not the parent's (the caller decides what
    /// it means). Returns whether this instance still holds the parent.
    pub fn settle(&mut self, result: &ChildResult) -> bool {
        let me = self.me;
        let Some(p) = result.parent.and_then(|p| self.requests.get_mut(p)) else { return false };
        if p.holder != Holder::At(me) {
            return false;
        }
        p.pending -= 1;
        p.origin = crate::world::request::NO_NODE;
        p.detail = 0;
        true
    }

    /// Calls flow node `node` on `instance` (a load balancer's choice).
    pub fn call_to(&mut self, parent: RequestId, node: u16, instance: ComponentId) {
        let child = self.new_child(parent, node, false);
        self.dispatch(child, instance);
    }

    /// A call of flow node `node` made by `parent`, which waits for it from now. A call
    /// made beside others at once (`parallel`) books into a ledger of its own, merged into
    /// the parent's only if it answers last (see `metrics::attribution`).
    fn new_child(&mut self, parent: RequestId, node: u16, parallel: bool) -> RequestId {
        let now = self.now;
        let p = self.requests.get_mut(parent).expect("a call's parent is live");
        p.pending += 1;
        book(self.metrics, parent, p, now, CALLS);
        let p = *p;
        let op = self.world.flows[p.class.index()][node as usize].op;
        let mut call = self.new_call(p.class, node, op, p.key, p.user, Some(parent));
        call.min_version = p.min_version;
        call.ledger = p.ledger;
        call.serial = p.serial;
        let child = self.requests.insert(call);
        if parallel && p.ledger != NO_LEDGER {
            self.requests.get_mut(child).expect("live").ledger = child;
            self.metrics.attribution.open(child, p.class);
        }
        self.requests.get_mut(parent).expect("live").last_call = child;
        child
    }

    /// A fresh call from this component, made now.
    #[inline]
    fn new_call(&self, class: ClassId, node: u16, op: Op, key: u64, user: u32, parent: Option<RequestId>) -> Request {
        Request {
            class,
            node,
            next_call: 0,
            pending: 0,
            op,
            outcome: Outcome::Pending,
            abandoned: false,
            holder: Holder::InTransit,
            key,
            user,
            parent,
            caller: self.me,
            caller_epoch: self.world.epoch[self.me.index()],
            created: self.now,
            version: 0,
            min_version: 0,
            expected_version: 0,
            tag: 0,
            mark: self.now,
            phase: NETWORK,
            ledger: NO_LEDGER,
            last_call: NO_LEDGER,
            origin: crate::world::request::NO_NODE,
            detail: 0,
            serial: 0,
        }
    }

    /// Sends `req` to an instance of its flow node's service, chosen by the routing rule;
    /// a scan of a sharded service goes to every shard (the parent waits for all).
    #[inline]
    fn route_call(&mut self, req: RequestId) {
        if let Some((class, instance)) = self.target(req) {
            self.dispatch_class(req, class, instance);
        }
    }

    /// The instance `req` goes to by its service's routing (`None`: a scan, scattered to
    /// every shard already).
    #[inline]
    fn target(&mut self, req: RequestId) -> Option<(ClassId, ComponentId)> {
        let r = self.requests.get(req).expect("live");
        let (class, op, key) = (r.class, r.op, r.key);
        let service = self.world.flows[class.index()][r.node as usize].service;
        let state = &mut self.world.services[service.index()];
        let instance = match &state.routing {
            Routing::RoundRobin if state.instances.len() == 1 => state.instances[0],
            Routing::RoundRobin => {
                let n = state.instances.len() as u64;
                state.next = if state.next + 1 >= n { 0 } else { state.next + 1 };
                state.instances[state.next as usize]
            }
            Routing::Sharded(_) if op == Op::Scan => {
                self.scatter(req, service);
                return None;
            }
            Routing::Sharded(_) => {
                let map = state.shard_map.as_ref().expect("sharded services have a map");
                state.instances[map.shard(key) as usize]
            }
            Routing::Nearest => {
                let me = self.me;
                self.world.nearest_member(service, me)
            }
            Routing::PrimaryReplica { nearest: true, .. } if op != Op::Write => {
                let me = self.me;
                self.world.nearest_member(service, me)
            }
            Routing::PrimaryReplica { reads_from_replicas, .. } => {
                if op == Op::Write || !*reads_from_replicas || state.readers.is_empty() {
                    state.instances[state.dns_primary]
                } else {
                    // Reads go to the replicas behind the reader endpoint, in turn.
                    state.next = if state.next + 1 >= state.readers.len() as u64 { 0 } else { state.next + 1 };
                    state.instances[state.readers[state.next as usize]]
                }
            }
        };
        if op == Op::Read && self.world.versioned[service.index()] {
            let expected = self.metrics.acked_version(key);
            self.requests.get_mut(req).expect("live").expected_version = expected;
        }
        Some((class, instance))
    }

    /// Replaces a scan with one child per shard, all children of the scan's parent.
    fn scatter(&mut self, scan: RequestId, service: ServiceId) {
        let r = self.requests.remove(scan);
        let parent = r.parent.expect("a scan is a call from a component");
        self.requests.get_mut(parent).expect("live").pending -= 1;
        let instances = self.world.services[service.index()].instances.clone();
        for instance in instances {
            let child = self.new_child(parent, r.node, true);
            self.dispatch(child, instance);
        }
    }

    fn dispatch(&mut self, req: RequestId, instance: ComponentId) {
        let class = self.requests.get(req).expect("live").class;
        self.dispatch_class(req, class, instance);
    }

    #[inline]
    fn dispatch_class(&mut self, req: RequestId, class: ClassId, instance: ComponentId) {
        // A call not sent, its deadline passed, is neither traced nor recorded as sent.
        let give_up = if self.world.deadlines.on {
            match self.deadline_of(req, class) {
                Some(at) => at,
                None => return,
            }
        } else {
            self.world.timeouts[class.index()].map(|t| self.now + t)
        };
        if self.metrics.spans.live() || self.metrics.log.on() {
            self.on_send(req, class, instance);
        }
        if self.world.breakers.any() && !self.breaker_admits(req, class) {
            return;
        }
        if let Some(at) = give_up {
            let timeout = Event::new(self.me, EventKind::Timeout(req));
            if self.world.deadlines.on {
                self.world.queue.push_timeout_at(at, timeout);
            } else {
                self.world.queue.push_fixed_delay(at, timeout);
            }
        }
        if self.world.hedges.on {
            self.on_hedged_send(req, class);
        }
        if self.world.hop_retries.on {
            self.on_retried_send(req, class);
        }
        self.send(self.me, instance, EventKind::Request(req));
    }

    /// A call leaves while some hop retries: if its hop does, count it (a first attempt
    /// also in its caller's budget).
    #[cold]
    fn on_retried_send(&mut self, req: RequestId, class: ClassId) {
        let r = self.requests.get(req).expect("live");
        let Some(hop) = self.world.hop_retries.hop(class.index(), r.node).filter(|_| r.parent.is_some()) else {
            return;
        };
        self.world.hop_retries.on_send(hop, self.me, req, self.now);
    }

    /// Makes attempt `attempt` of `failed`'s call, first made at `first` (it failed, so
    /// `parent` still waits for one answer of it), and sends it after `backoff`. The wait
    /// is booked as queueing at the callee's node; a call with a ledger of its own
    /// (parallel) starts it with all the time since the first attempt, so a successful
    /// root's bookings still add up.
    pub(crate) fn retry_call(
        &mut self,
        parent: RequestId,
        failed: &Request,
        backoff: SimDuration,
        attempt: u32,
        first: SimTime,
    ) {
        let p = self.requests.get_mut(parent).expect("a retried call's parent is live");
        p.pending -= 1;
        (p.origin, p.detail) = (crate::world::request::NO_NODE, 0);
        let class = p.class.index();
        let at = &self.world.flows[class];
        let node = &at[failed.node as usize];
        let parallel = at[p.node as usize].parallel || node.fanout > 1 || node.to_each;
        let child = self.new_child(parent, failed.node, parallel);
        let now = self.now;
        let r = self.requests.get_mut(child).expect("live");
        (r.key, r.phase) = (failed.key, QUEUE);
        if r.ledger == child {
            self.metrics.attribution.book(child, failed.node, QUEUE, now - first);
        }
        self.world.hop_retries.mark(child, attempt, backoff, first);
        self.world.queue.push(now + backoff, Event::new(self.me, EventKind::Retry(child)));
    }

    /// A retried call has waited its backoff: it leaves by its service's routing.
    pub(crate) fn send_retry(&mut self, call: RequestId) {
        let now = self.now;
        let r = self.requests.get_mut(call).expect("a retried call is live");
        book(self.metrics, call, r, now, NETWORK);
        // Its own latency (a breaker's slow calls, a hedge's percentile) runs from now.
        r.created = now;
        self.route_call(call);
    }

    /// Asks this instance's breaker for the called service, if it has one. A refused call
    /// fails fast: answered `CircuitOpen` to this caller now, never sent, no load on the
    /// callee.
    #[inline(never)]
    fn breaker_admits(&mut self, req: RequestId, class: ClassId) -> bool {
        let node = self.requests.get(req).expect("live").node;
        let service = self.world.flows[class.index()][node as usize].service;
        let Some((pass, changed)) = self.world.breakers.admit(self.me, service, self.now) else { return true };
        if let Some(state) = changed {
            self.note(NoteKind::Breaker(service, state));
        }
        if pass {
            return true;
        }
        let r = self.requests.get_mut(req).expect("live");
        r.outcome = Outcome::CircuitOpen;
        (r.origin, r.detail) = (node, crate::world::metrics::failure::FAILED_FAST);
        self.world.queue.push(self.now, Event::new(self.me, EventKind::Response(req)));
        false
    }

    /// A call leaves while some class keeps deadlines: when its caller gives up on it
    /// (`Some(None)`: never), the least of its own timeout and its parent's deadline. A
    /// call whose parent's deadline has passed (its caller gave up, and this instance
    /// worked on regardless) is not sent (`None`): it times out here now, at no cost to
    /// the callee.
    #[inline(never)]
    fn deadline_of(&mut self, req: RequestId, class: ClassId) -> Option<Option<SimTime>> {
        let r = self.requests.get(req).expect("live");
        let (node, parent) = (r.node, r.parent);
        match self.world.deadlines.on_send(req, class.index(), node, parent, self.now) {
            crate::world::deadline::Send::GiveUpAt(at) => Some(at),
            crate::world::deadline::Send::Passed => {
                let r = self.requests.get_mut(req).expect("live");
                r.outcome = Outcome::TimedOut;
                (r.origin, r.detail) = (node, crate::world::metrics::failure::DEADLINE_PASSED);
                self.world.queue.push(self.now, Event::new(self.me, EventKind::Response(req)));
                None
            }
        }
    }

    /// A call leaves while some hop is hedged: if its hop is, count it and, unless it is
    /// its hop's last copy, wake its caller after the hop's `after` to send another.
    #[cold]
    fn on_hedged_send(&mut self, req: RequestId, class: ClassId) {
        let r = self.requests.get(req).expect("live");
        let hedges = &mut self.world.hedges;
        let Some(hop) = hedges.hop(class.index(), r.node).filter(|_| r.parent.is_some()) else { return };
        let rank = hedges.rank(req);
        let h = &mut hedges.hops[hop];
        if rank == 0 {
            h.calls += 1;
        } else {
            h.sent += 1;
        }
        if rank < h.max
            && let Some(after) = hedges.after(hop, self.me)
        {
            self.world.queue.push(self.now + after, Event::new(self.me, EventKind::Hedge(req)));
        }
    }

    /// Sends a copy of `call`, which has waited its hop's `after` unanswered, through the
    /// service's routing (round robin moves on to another instance). The copy is the
    /// same call to the parent, which still waits for one answer; the first answer wins
    /// (the engine abandons the others). Each copy books into a ledger of its own that
    /// starts with what the call had booked, so the winner's is the critical path.
    pub(crate) fn hedge(&mut self, call: RequestId) {
        let now = self.now;
        let o = self.requests.get_mut(call).expect("a hedged call is live");
        let phase = o.phase;
        book(self.metrics, call, o, now, phase);
        let o = *o;
        let mut copy = self.new_call(o.class, o.node, o.op, o.key, o.user, o.parent);
        copy.min_version = o.min_version;
        copy.serial = o.serial;
        let id = self.requests.insert(copy);
        if o.ledger != NO_LEDGER {
            self.metrics.attribution.open(id, o.class);
            if o.ledger == call {
                self.metrics.attribution.merge(call, id);
            } else {
                // The call's time so far is in its parent's ledger already.
                self.metrics.attribution.open(call, o.class);
                self.requests.get_mut(call).expect("live").ledger = call;
            }
            self.requests.get_mut(id).expect("live").ledger = id;
        }
        self.world.hedges.pair(call, id);
        self.route_call(id);
    }

    /// A call leaves for `instance` while it may be traced or recorded.
    #[cold]
    fn on_send(&mut self, req: RequestId, class: ClassId, instance: ComponentId) {
        let r = self.requests.get(req).expect("live");
        let (serial, node, root, parent) = (r.serial, r.node, r.parent.is_none() && r.serial != 0, r.parent);
        self.metrics.spans.on_send(req, parent, class, node, instance.index(), self.now);
        if self.metrics.log.on() {
            self.metrics.log.effect(Effect::Sent { serial, class, node, to: instance, root });
        }
    }

    /// Answers `req` to its caller with `outcome`.
    #[inline(always)]
    pub fn respond(&mut self, req: RequestId, outcome: Outcome) {
        let now = self.now;
        let r = self.requests.get_mut(req).expect("respond to a live request");
        debug_assert_eq!(r.holder, Holder::At(self.me), "only the holder answers");
        book(self.metrics, req, r, now, NETWORK);
        if outcome != Outcome::Ok && r.origin == crate::world::request::NO_NODE {
            r.origin = r.node;
        }
        r.outcome = outcome;
        r.holder = Holder::InTransit;
        let caller = r.caller;
        if self.metrics.log.on() {
            self.metrics.log.effect(Effect::Answered { serial: r.serial, class: r.class, outcome, to: caller });
        }
        self.send(self.me, caller, EventKind::Response(req));
    }

    /// Answers `req` with a failure that arose here, saying what it was doing
    /// (`world::metrics::failure`), as load shedding tells its refusals from a full queue.
    pub fn respond_because(&mut self, req: RequestId, outcome: Outcome, detail: u8) {
        debug_assert_ne!(outcome, Outcome::Ok);
        if let Some(r) = self.requests.get_mut(req)
            && r.origin == crate::world::request::NO_NODE
        {
            r.origin = r.node;
            r.detail = detail;
        }
        self.respond(req, outcome);
    }

    /// Answers `req` with the outcome of another call (`result`, which it waited on): a
    /// failure keeps the place where that call's failure arose.
    pub fn respond_with(&mut self, req: RequestId, result: &ChildResult) {
        if result.outcome != Outcome::Ok
            && let Some(r) = self.requests.get_mut(req)
            && r.origin == crate::world::request::NO_NODE
        {
            r.origin = if result.origin == crate::world::request::NO_NODE { result.node } else { result.origin };
            r.detail = result.detail;
        }
        self.respond(req, result.outcome);
    }

    /// The standard continuation when a call ends: a failure is answered upwards at once;
    /// a success counts down the parent's outstanding calls and, when none is left, moves
    /// the parent on to its next call. Does nothing if the parent was already answered.
    pub fn resume(&mut self, result: &ChildResult) {
        let Some(parent) = result.parent else { return };
        let me = self.me;
        let Some(p) = self.requests.get_mut(parent) else { return };
        if p.holder != Holder::At(me) {
            return;
        }
        p.pending -= 1;
        p.version = p.version.max(result.version);
        if result.outcome != Outcome::Ok {
            self.respond(parent, result.outcome);
        } else if p.pending == 0 {
            self.proceed(parent);
        }
    }

    /// The client got the answer to one of its root requests: record it.
    pub fn finish_root(&mut self, result: &ChildResult) {
        let m = &mut *self.metrics;
        m.on_finished(self.now, result.class, result.created, result.outcome, result.origin, result.detail);
        if m.log.on() {
            let (class, outcome, latency) = (result.class, result.outcome, self.now - result.created);
            m.log.effect(Effect::Finished { class, outcome, latency });
        }
        if result.outcome == Outcome::Ok && self.now >= m.warmup_end() {
            m.attribution.commit(result.child, result.class, self.now - result.created);
        }
    }
}

/// True with probability `p`, from 53 random bits.
#[inline]
pub(crate) fn chance(rng: &mut SimRng, p: f64) -> bool {
    p > 0.0 && (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < p
}

/// A uniform draw in [0, 1), from 53 random bits (as `Ctx::below(1 << 53)` draws them).
#[inline]
pub(crate) fn uniform(rng: &mut SimRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Books `r`'s time since its mark in its current phase, and starts `next` now. A traced
/// call's span is cut at the same instants, so its phases add up as the ledger's do.
#[inline(always)]
pub(crate) fn book(metrics: &mut Metrics, id: RequestId, r: &mut Request, now: SimTime, next: u8) {
    metrics.attribution.book(r.ledger, r.node, r.phase, now - r.mark);
    if metrics.spans.live() {
        metrics.spans.on_phase(id, r.phase, r.mark, now);
    }
    r.mark = now;
    r.phase = next;
}
