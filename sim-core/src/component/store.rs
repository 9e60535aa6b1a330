//! Store: a leaderless replicated key-value store (Dynamo, Cassandra, Riak), the model for
//! choosing CP or AP per data class.
//!
//! A call reaches the nearest live replica, which coordinates it. A write is stamped with
//! the coordinator's clock (synchronized within `clock_skew`, and set ahead by skew
//! faults), applied there, and sent to every other replica; it is acknowledged once `w`
//! replicas have applied it. With strict quorums (w + r > n) a register write first reads
//! `r` replicas and stamps itself above the newest timestamp it saw (as a hybrid logical
//! clock does), so no clock can put it behind a write acknowledged before it. A read asks
//! `r` replicas and returns the newest value among them. A coordinator that cannot gather
//! its `w` or `r` answers within `quorum_timeout` answers "unavailable", except that a read
//! may fall back to its own copy when `stale_reads` allows it. So the consistency is the
//! quorum sizes: `cp` defaults to majorities (w + r > n: a read always meets the newest
//! acknowledged write, and a minority side refuses); `ap` to w = r = 1 (every side
//! answers, and sides drift apart during a partition). Any w and r can be set, wrong ones
//! included.
//!
//! Data types: a `register` keeps the value with the highest timestamp (last writer
//! wins, so a skewed clock can silently discard a later write); a `counter` is a grow-only
//! CRDT (each replica counts its own increments; merging takes the maximum per replica),
//! which never loses an increment. Replication messages are datagrams: a partition loses
//! them, and anti-entropy repairs the difference: every `anti_entropy` each replica sends
//! each peer the keys it changed since the peer last confirmed a sync. The store reports,
//! per partition heal, how many keys had diverged and how long they took to agree again.

use crate::ctx::Ctx;
use crate::event::Input;
use crate::event::{Op, Outcome};
use crate::kernel::ids::{ComponentId, RequestId, ServiceId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::Model;
use crate::model::store::{Data, StoreSpec};
use crate::report::ComponentReport;
use crate::report::figures::{Figures, StoreFigures};
use crate::world::store_group::{NO_PENDING, Payload, StoreGroup};

/// A coordinated operation waiting for its quorum.
#[derive(Clone, Copy, Debug)]
struct Pending {
    /// Tells this operation from an earlier one in the same slot (16 bits, in the token).
    generation: u32,
    req: RequestId,
    write: bool,
    /// Gathering `r` replicas' values: a read, or a write's first phase.
    reading: bool,
    answers: u32,
    best: ((u64, u64), u64),
    version: u64,
}

/// Timer tokens: the request slot for a replica's own work; these flags otherwise. A
/// quorum timer carries the pending slot (low 15 bits) and its generation (next 16).
const ANTI_ENTROPY: u32 = u32::MAX;
const QUORUM_BIT: u32 = 1 << 31;
const SLOT_BITS: u32 = 15;
const MAX_PENDING: usize = 1 << SLOT_BITS;

#[derive(Clone)]
pub struct Store {
    spec: StoreSpec,
    service: ServiceId,
    index: usize,
    /// This replica's clock offset, in nanoseconds.
    skew_ns: i64,
    pending: Vec<Option<Pending>>,
    generation: u32,
    writes: u64,
    reads: u64,
    unavailable: u64,
}

impl Store {
    pub fn new(spec: &StoreSpec, model: &Model, me: ComponentId) -> Store {
        let service = model.components[me.index()].service;
        let index = model.services[service.index()].instances.iter().position(|&c| c == me).expect("a member");
        Store {
            spec: spec.clone(),
            service,
            index,
            skew_ns: 0,
            pending: Vec::new(),
            generation: 0,
            writes: 0,
            reads: 0,
            unavailable: 0,
        }
    }

    pub fn service(&self) -> ServiceId {
        self.service
    }

    fn group<'a>(&self, ctx: &'a mut Ctx) -> &'a mut StoreGroup {
        ctx.store_group(self.service)
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Start => {
                let skew = self.spec.clock_skew.as_nanos();
                self.skew_ns = if skew == 0 { 0 } else { ctx.below(2 * skew + 1) as i64 - skew as i64 };
                // Replicas run their rounds independently: spread the first over a round.
                let first = SimDuration(ctx.below(self.spec.anti_entropy.as_nanos().max(1)));
                ctx.set_timer(first, ANTI_ENTROPY);
            }
            Input::Restart => ctx.set_timer(self.spec.anti_entropy, ANTI_ENTROPY),
            Input::Request(req) => {
                let d = ctx.draw(&self.spec.latency);
                ctx.set_timer(d, req.slot);
            }
            Input::Timer(ANTI_ENTROPY) => self.anti_entropy(ctx),
            Input::Timer(t) if t & QUORUM_BIT != 0 => {
                let (slot, generation) = ((t & (MAX_PENDING as u32 - 1)) as usize, (t & !QUORUM_BIT) >> SLOT_BITS);
                self.quorum_timeout(slot, generation, ctx);
            }
            Input::Timer(slot) => self.coordinate(ctx.request_in_slot(slot), ctx),
            Input::Message { from, token } => self.on_datagram(from, token, ctx),
            Input::ChildDone(_) => unreachable!("a store makes no calls"),
            Input::Pong { .. }
            | Input::Slow(_)
            | Input::Drain
            | Input::Scale(_)
            | Input::Rate(_)
            | Input::Capacity(_) => {}
        }
    }

    /// Sends a replication datagram to replica `to`.
    fn send(&self, ctx: &mut Ctx, to: usize, p: Payload) {
        let g = self.group(ctx);
        let token = g.payloads.len() as u32;
        g.payloads.push(p);
        let target = g.instances[to];
        ctx.datagram(target, token);
    }

    /// Starts a read or write as its coordinator. With strict quorums (w + r > n) a
    /// register write first reads r replicas' timestamps and stamps itself above the
    /// newest, so a skewed clock cannot put it behind an acknowledged write.
    fn coordinate(&mut self, req: RequestId, ctx: &mut Ctx) {
        let r = *ctx.request(req);
        let me = self.index;
        let write = r.op == Op::Write;
        self.generation = (self.generation + 1) & 0xffff;
        let mut p = Pending {
            generation: self.generation,
            req,
            write,
            reading: !write,
            answers: 1,
            best: ((0, 0), 0),
            version: 0,
        };
        let g = self.group(ctx);
        let n = g.instances.len() as u32;
        p.best = g.local(me, r.key);
        let register = g.spec.data == Data::Register;
        if write && register && self.spec.w + self.spec.r > n && self.spec.r > 1 {
            p.reading = true;
        }
        if p.reading {
            self.reads += u64::from(!write);
            if self.spec.r <= 1 {
                self.answer(&p, Outcome::Ok, ctx);
                return;
            }
            let Some(slot) = self.park(p, ctx) else { return };
            for peer in (0..n as usize).filter(|&i| i != me) {
                self.send(ctx, peer, Payload::Query { key: r.key, pending: slot });
            }
        } else {
            self.write_phase(p, None, ctx);
        }
    }

    /// Keeps an operation until its quorum answers or its timer fires; None if shed.
    fn park(&mut self, p: Pending, ctx: &mut Ctx) -> Option<u32> {
        let slot = self.pending.iter().position(Option::is_none).unwrap_or(self.pending.len());
        if slot == MAX_PENDING {
            // Too many operations in flight at this coordinator: shed this one.
            self.answer(&p, Outcome::Unavailable, ctx);
            return None;
        }
        if slot == self.pending.len() {
            self.pending.push(None);
        }
        self.pending[slot] = Some(p);
        ctx.set_timer(self.spec.quorum_timeout, QUORUM_BIT | p.generation << SLOT_BITS | slot as u32);
        Some(slot as u32)
    }

    /// Applies a write here, sends it to every other replica, and answers once `w` have
    /// it. `slot`: the write is already parked there (after its read phase).
    fn write_phase(&mut self, mut p: Pending, slot: Option<usize>, ctx: &mut Ctx) {
        let me = self.index;
        let key = ctx.request(p.req).key;
        let now_ns = ctx.now().since(SimTime::ZERO).as_nanos();
        // A skew fault sets this replica's clock ahead on top of its own offset.
        let ahead = ctx.clock_ahead().as_nanos() as i64;
        let g = self.group(ctx);
        let n = g.instances.len();
        let stamp = match g.spec.data {
            Data::Register => {
                let id = g.next_write;
                g.next_write += 1;
                let clock = (now_ns as i64 + self.skew_ns + ahead).max(1) as u64;
                // After a read phase, above the newest timestamp seen; otherwise the clock's,
                // as plain last-writer-wins does.
                let stamp = if slot.is_some() { (clock.max(p.best.0.0 + 1), id) } else { (clock, id) };
                g.apply_register(me, key, stamp);
                p.version = id;
                stamp
            }
            Data::Counter => {
                let count = g.counts[me][me].get_or(key) + 1;
                g.apply_count(me, me, key, count);
                p.version = count;
                (count, 0)
            }
        };
        g.touched.insert(key);
        self.writes += 1;
        // The write exists from now on, whatever its caller hears: it must name it.
        ctx.set_version(p.req, p.version);
        p.reading = false;
        p.answers = 1;
        let pending = if self.spec.w <= 1 {
            if let Some(s) = slot {
                self.pending[s] = None;
            }
            self.answer(&p, Outcome::Ok, ctx);
            NO_PENDING
        } else if let Some(s) = slot {
            self.pending[s] = Some(p);
            s as u32
        } else {
            let Some(s) = self.park(p, ctx) else { return };
            s
        };
        for peer in (0..n).filter(|&i| i != me) {
            self.send(ctx, peer, Payload::Update { key, stamp, origin: me as u32, pending });
        }
    }

    fn answer(&mut self, p: &Pending, outcome: Outcome, ctx: &mut Ctx) {
        let version = if p.write {
            p.version
        } else {
            match self.spec.data {
                Data::Register => p.best.0.1,
                Data::Counter => p.best.1,
            }
        };
        // A failed write still names what it wrote: it may survive, and the checker must
        // know when it was made.
        if outcome == Outcome::Ok || p.write {
            ctx.set_version(p.req, version);
        }
        if outcome != Outcome::Ok {
            self.unavailable += 1;
        }
        ctx.respond(p.req, outcome);
    }

    fn quorum_timeout(&mut self, slot: usize, generation: u32, ctx: &mut Ctx) {
        if !self.pending.get(slot).is_some_and(|p| p.is_some_and(|p| p.generation == generation)) {
            return;
        }
        let p = self.pending[slot].take().expect("checked");
        let outcome = if !p.write && self.spec.stale_reads { Outcome::Ok } else { Outcome::Unavailable };
        self.answer(&p, outcome, ctx);
    }

    fn on_datagram(&mut self, from: ComponentId, token: u32, ctx: &mut Ctx) {
        let me = self.index;
        let g = self.group(ctx);
        let sender = g.instances.iter().position(|&c| c == from).expect("a peer");
        match g.payloads[token as usize] {
            Payload::Update { key, stamp, origin, pending } => {
                match g.spec.data {
                    Data::Register => g.apply_register(me, key, stamp),
                    Data::Counter => g.apply_count(me, origin as usize, key, stamp.0),
                }
                if pending != NO_PENDING {
                    self.send(ctx, sender, Payload::Ack { pending });
                }
            }
            Payload::Query { key, pending } => {
                let (stamp, counts) = g.local(me, key);
                self.send(ctx, sender, Payload::Reply { pending, stamp, counts });
            }
            Payload::Ack { pending } => self.on_answer(pending as usize, None, ctx),
            Payload::Reply { pending, stamp, counts } => self.on_answer(pending as usize, Some((stamp, counts)), ctx),
            Payload::Sync { from: f, lo, hi } => {
                let keys: Vec<u64> = g.changes[f as usize][lo as usize..hi as usize].to_vec();
                for key in keys {
                    g.merge_from(me, f as usize, key);
                }
                let now = ctx.now();
                self.group(ctx).check_converged(now);
                self.send(ctx, sender, Payload::SyncAck { hi });
            }
            Payload::SyncAck { hi } => {
                let c = &mut g.confirmed[me][sender];
                *c = (*c).max(hi);
            }
        }
    }

    /// A peer acknowledged a write or answered a read.
    fn on_answer(&mut self, slot: usize, read: Option<((u64, u64), u64)>, ctx: &mut Ctx) {
        let Some(Some(p)) = self.pending.get_mut(slot) else { return };
        // A late reply from a write's read phase is not an acknowledgement, nor the reverse.
        if p.reading != read.is_some() {
            return;
        }
        p.answers += 1;
        if let Some((stamp, counts)) = read {
            p.best = (p.best.0.max(stamp), p.best.1.max(counts));
        }
        let needed = if p.reading { self.spec.r } else { self.spec.w };
        if p.answers < needed {
            return;
        }
        let p = *p;
        if p.write && p.reading {
            self.write_phase(p, Some(slot), ctx);
        } else {
            self.pending[slot] = None;
            self.answer(&p, Outcome::Ok, ctx);
        }
    }

    fn anti_entropy(&mut self, ctx: &mut Ctx) {
        ctx.set_timer(self.spec.anti_entropy, ANTI_ENTROPY);
        let me = self.index;
        let g = self.group(ctx);
        let hi = g.changes[me].len() as u32;
        let behind: Vec<(usize, u32)> = (0..g.instances.len())
            .filter(|&i| i != me)
            .map(|i| (i, g.confirmed[me][i]))
            .filter(|&(_, lo)| lo < hi)
            .collect();
        for (peer, lo) in behind {
            self.send(ctx, peer, Payload::Sync { from: me as u32, lo, hi });
        }
    }

    pub fn on_crash(&mut self) {
        self.pending.clear();
    }

    pub fn report(&self, group: Option<&StoreGroup>) -> ComponentReport {
        let first = group.filter(|_| self.index == 0);
        ComponentReport::new(Figures::Store(StoreFigures {
            writes: self.writes,
            reads: self.reads,
            unavailable: self.unavailable,
            divergent_keys_at_heal: first.map(|g| g.divergent_keys),
            convergence_ms: first.and_then(|g| g.convergence_ms),
        }))
    }
}
