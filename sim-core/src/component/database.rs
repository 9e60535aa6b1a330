//! Database: a primary and N replicas (PostgreSQL, MySQL or a MongoDB replica set).
//!
//! Each instance has `max_connections` connections, each running one query at a time for
//! `read_time` or `write_time`; with a pooler (`pool_queue` > 0) excess queries wait for a
//! connection, without one they are refused. Writes go to the primary, which gives each a
//! log sequence number (LSN). With asynchronous replication the primary acknowledges at
//! once and ships the change to every replica after `lag` plus the link latency; a replica
//! applies the log up to the newest LSN it has heard of. So a read on a replica can return
//! an old version: the run counts such stale reads. With synchronous replication the
//! primary acknowledges only once every replica has applied the write: no stale reads on
//! acknowledged data and nothing lost on failover, at the cost of write latency.
//!
//! Read-your-writes: a read that carries its user's last write LSN and reaches a replica
//! that has not applied it yet is redirected to the primary.
//!
//! Failover: replicas probe the primary every `heartbeat`. Once it has failed to answer for
//! a `detection` time (drawn per incident: the seeds' 30-60 s), the lowest-numbered live
//! replica starts a promotion (60-120 s); the most up-to-date live replica becomes primary
//! and starts taking writes, and `dns` later (30 s) callers learn its address. Until then
//! writes go to the dead primary and fail. Under async replication, writes the old primary
//! acknowledged but never shipped are lost: counted. The cluster's shared state (the log,
//! every instance's data, who is primary) lives in `DbGroup`, the model's control plane.

use crate::ctx::Ctx;
use crate::event::Input;
use crate::event::{Op, Outcome};
use crate::kernel::ids::{ComponentId, RequestId, ServiceId};
use crate::kernel::time::{SimDuration, SimTime};
use crate::model::Model;
use crate::model::database::{DatabaseSpec, Replication};
use crate::report::ComponentReport;
use crate::report::figures::{Capacity, ClusterFigures, DatabaseFigures, Figures};
use crate::world::db_group::DbGroup;
use crate::world::metrics::TimeWeighted;
use crate::world::notes::NoteKind;
use crate::world::sharding::{ShardMap, moved_share};
use std::collections::VecDeque;

/// Timer tokens above the request slots.
const HEARTBEAT: u32 = u32::MAX;
const PROMOTE: u32 = u32::MAX - 1;
const DNS: u32 = u32::MAX - 2;
/// Timer token bit for shipping queued changes to replica `token & !SHIP` (request slots,
/// the other timer tokens, stay far below it: the in-flight limit caps them).
const SHIP: u32 = 1 << 30;
/// Message tokens: a replication message carries no LSN (it is in `DbGroup::in_transit`,
/// so LSNs never overflow a token); a sync replica's acknowledgement is `ACK`.
const REPLICATE: u32 = 0;
const ACK: u32 = 1;

#[derive(Clone)]
pub struct Database {
    spec: DatabaseSpec,
    service: ServiceId,
    index: usize,
    busy: u32,
    queue: VecDeque<RequestId>,
    busy_avg: TimeWeighted,
    warmup_end: SimTime,
    /// Queries finished after the warm-up, for throughput and measured capacity.
    measured: u64,
    /// Sync replication: writes waiting until every replica has applied them, by LSN.
    waiting_sync: VecDeque<(u64, RequestId)>,
    /// This instance started a promotion whose timers a crash would lose.
    coordinating: bool,
    /// Primary side: changes waiting to leave for each replica, as (departure, LSN). The
    /// lag is spent here, so a crash loses what has not left; the stream is ordered.
    outbox: Vec<VecDeque<(SimTime, u64)>>,
    /// Replica side of failover: which primary we watch, and when it last answered.
    watching: usize,
    primary_seen: SimTime,
    /// Drawn when the primary first stops answering; cleared when it answers again.
    detection_timeout: Option<SimDuration>,
    promoted_to: Option<usize>,
    reads: u64,
    writes: u64,
    rejected: u64,
    redirected: u64,
    /// Replica side: how long after its commit on the primary each applied change
    /// arrived here (after the warm-up).
    lag: LagStats,
}

/// Replication lag seen by one replica: mean and maximum over applied changes.
#[derive(Clone, Default)]
struct LagStats {
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl LagStats {
    fn record(&mut self, lag: SimDuration) {
        self.count += 1;
        self.sum_ns += u128::from(lag.as_nanos());
        self.max_ns = self.max_ns.max(lag.as_nanos());
    }
}

impl Database {
    pub fn new(me: ComponentId, spec: &DatabaseSpec, model: &Model) -> Database {
        let service = model.components[me.index()].service;
        let index = model.services[service.index()].instances.iter().position(|&i| i == me).expect("listed");
        Database {
            spec: spec.clone(),
            service,
            index,
            busy: 0,
            queue: VecDeque::new(),
            busy_avg: TimeWeighted::new(SimTime::ZERO + model.warmup),
            warmup_end: SimTime::ZERO + model.warmup,
            measured: 0,
            waiting_sync: VecDeque::new(),
            coordinating: false,
            outbox: vec![VecDeque::new(); model.services[service.index()].instances.len()],
            watching: 0,
            primary_seen: SimTime::ZERO,
            detection_timeout: None,
            promoted_to: None,
            reads: 0,
            writes: 0,
            rejected: 0,
            redirected: 0,
            lag: LagStats::default(),
        }
    }

    pub fn service(&self) -> ServiceId {
        self.service
    }

    fn group<'a>(&self, ctx: &'a mut Ctx) -> &'a mut DbGroup {
        ctx.db_group(self.service)
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Start => self.on_start(false, ctx),
            Input::Restart => self.on_start(true, ctx),
            Input::Request(req) => self.on_request(req, ctx),
            Input::Timer(HEARTBEAT) => self.heartbeat(ctx),
            Input::Timer(PROMOTE) => self.promote(ctx),
            Input::Timer(DNS) => self.switch_dns(ctx),
            Input::Timer(t) if t & SHIP != 0 => self.ship((t & !SHIP) as usize, ctx),
            Input::Timer(slot) => self.on_query_done(ctx.request_in_slot(slot), ctx),
            Input::Message { token: ACK, .. } => self.on_ack(ctx),
            Input::Message { from, .. } => {
                let at = self.index;
                let g = self.group(ctx);
                if let Some(lsn) = g.in_transit[at].pop_front() {
                    let committed = lsn.checked_sub(g.log_base).and_then(|i| g.log.get(i as usize)).map(|e| e.1);
                    g.apply_up_to(at, lsn);
                    if let Some(t) = committed.filter(|_| ctx.now() >= self.warmup_end) {
                        self.lag.record(ctx.now().since(t));
                    }
                }
                if self.spec.replication == Replication::Sync {
                    ctx.message(from, ACK);
                }
            }
            Input::Pong { healthy, .. } => {
                if healthy {
                    self.primary_seen = ctx.now();
                    self.detection_timeout = None;
                }
            }
            Input::ChildDone(result) => ctx.resume(&result),
            Input::Slow(_) | Input::Drain | Input::Scale(_) | Input::Rate(_) | Input::Capacity(_) => {}
        }
    }

    fn on_start(&mut self, restarted: bool, ctx: &mut Ctx) {
        let at = self.index;
        let group = self.group(ctx);
        group.members[at] = true;
        // What was shipped while it was down was lost with its messages: the snapshot
        // below covers it, and a stale entry left here would hold it that many writes
        // behind for good (under sync replication, every write after it waited forever).
        group.in_transit[at].clear();
        if group.primary != at && group.applied[at] < group.applied[group.primary] {
            // Back from a crash behind the primary: restore its snapshot (divergent
            // writes of an old primary are rolled back, as pg_rewind would).
            let p = group.primary;
            group.versions[at] = group.versions[p].clone();
            group.applied[at] = group.applied[p];
        }
        let primary = (group.primary != at).then(|| group.instances[group.primary]);
        let sync = self.spec.replication == Replication::Sync && !self.spec.sharded;
        if let Some(primary) = primary.filter(|_| restarted && sync) {
            // Caught up: a synchronous primary waiting on this replica may acknowledge.
            ctx.message(primary, ACK);
        }
        self.primary_seen = ctx.now();
        if let Some(f) = &self.spec.failover {
            let first = SimDuration(ctx.below(f.heartbeat.as_nanos().max(1)));
            ctx.set_timer(first, HEARTBEAT);
        }
    }

    fn on_request(&mut self, req: RequestId, ctx: &mut Ctx) {
        if self.busy < self.spec.max_connections {
            self.busy += 1;
            self.busy_avg.set(ctx.now(), u64::from(self.busy));
            self.start(req, ctx);
        } else if self.queue.len() < self.spec.pool_queue as usize {
            self.queue.push_back(req);
            ctx.queued(req);
        } else {
            self.rejected += 1;
            ctx.respond(req, Outcome::Rejected);
        }
    }

    fn start(&mut self, req: RequestId, ctx: &mut Ctx) {
        ctx.begin_service(req);
        let op = ctx.request(req).op;
        let d = if op == Op::Write { ctx.draw(&self.spec.write_time) } else { ctx.draw(&self.spec.read_time) };
        ctx.set_timer(d, req.slot);
    }

    fn on_query_done(&mut self, req: RequestId, ctx: &mut Ctx) {
        let r = *ctx.request(req);
        self.measured += u64::from(ctx.now() >= self.warmup_end);
        let at = self.index;
        let primary = self.group(ctx).primary;
        match r.op {
            Op::Write if primary != at && !self.spec.sharded => {
                // A replica (or a deposed primary) is read-only.
                ctx.respond(req, Outcome::Error);
            }
            Op::Write => {
                self.writes += 1;
                let now = ctx.now();
                let lsn = self.group(ctx).write(at, r.key, now);
                ctx.set_version(req, lsn);
                // Shards hold disjoint keys: none replicates another's writes.
                let members = if self.spec.sharded { 0 } else { self.group(ctx).instances.len() };
                let mut replicated = false;
                for i in (0..members).filter(|&i| i != at) {
                    let g = self.group(ctx);
                    if !g.members[i] {
                        continue;
                    }
                    let replica = g.instances[i];
                    replicated = true;
                    match &self.spec.replication {
                        Replication::Sync => {
                            self.group(ctx).in_transit[i].push_back(lsn);
                            ctx.message(replica, REPLICATE);
                        }
                        Replication::Async { lag } => {
                            let lag = ctx.draw(lag);
                            let leaves = (ctx.now() + lag).max(self.outbox[i].back().map_or(SimTime::ZERO, |e| e.0));
                            if self.outbox[i].is_empty() {
                                ctx.set_timer(leaves - ctx.now(), SHIP | i as u32);
                            }
                            self.outbox[i].push_back((leaves, lsn));
                        }
                    }
                }
                if self.spec.replication == Replication::Sync && replicated {
                    self.waiting_sync.push_back((lsn, req));
                } else {
                    self.group(ctx).acked.push_back(lsn);
                    ctx.proceed(req);
                }
            }
            Op::Read | Op::Scan => {
                let applied = self.group(ctx).applied[at];
                if self.spec.read_your_writes && primary != at && r.min_version > applied {
                    // Read-your-writes: this replica has not caught up with the user's write.
                    self.redirected += 1;
                    let to = self.group(ctx).instances[primary];
                    ctx.redirect(req, to);
                } else {
                    self.reads += 1;
                    let version = self.group(ctx).versions[at].get_or(r.key);
                    ctx.set_version(req, version);
                    ctx.proceed(req);
                }
            }
        }
        self.release(ctx);
        if r.op == Op::Write && self.writes.is_multiple_of(4096) {
            let (group, down) = ctx.db_group_and_down(self.service);
            group.trim(down);
        }
    }

    /// Sends replica `i` every queued change that is due (the newest LSN covers them all).
    fn ship(&mut self, i: usize, ctx: &mut Ctx) {
        let mut newest = None;
        while self.outbox[i].front().is_some_and(|e| e.0 <= ctx.now()) {
            newest = self.outbox[i].pop_front().map(|e| e.1);
        }
        let to = self.group(ctx).instances[i];
        if let Some(lsn) = newest {
            self.group(ctx).in_transit[i].push_back(lsn);
            ctx.message(to, REPLICATE);
        }
        if let Some(&(next, _)) = self.outbox[i].front() {
            ctx.set_timer(next - ctx.now(), SHIP | i as u32);
        }
    }

    fn release(&mut self, ctx: &mut Ctx) {
        if let Some(next) = self.queue.pop_front() {
            self.start(next, ctx);
        } else {
            self.busy -= 1;
            self.busy_avg.set(ctx.now(), u64::from(self.busy));
        }
    }

    /// Sync replication: a replica acknowledged. A write completes once every replica
    /// in the set has applied it.
    fn on_ack(&mut self, ctx: &mut Ctx) {
        let at = self.index;
        let g = self.group(ctx);
        let everywhere = (0..g.instances.len()).filter(|&i| i != at && g.members[i]).map(|i| g.applied[i]).min();
        let everywhere = everywhere.unwrap_or(u64::MAX);
        let mut done = Vec::new();
        while self.waiting_sync.front().is_some_and(|w| w.0 <= everywhere) {
            done.push(self.waiting_sync.pop_front().expect("non-empty").1);
        }
        for req in done {
            if ctx.holds(req) {
                let lsn = ctx.request(req).version;
                self.group(ctx).acked.push_back(lsn);
                ctx.proceed(req);
            }
        }
    }

    /// Replicas probe the primary; a long enough silence starts a failover.
    fn heartbeat(&mut self, ctx: &mut Ctx) {
        let f = self.spec.failover.clone().expect("heartbeats only with failover");
        ctx.set_timer(f.heartbeat, HEARTBEAT);
        let at = self.index;
        let (primary, promoting) = {
            let g = self.group(ctx);
            (g.primary, g.promoting)
        };
        if primary == at {
            return;
        }
        if self.watching != primary {
            // A new primary: its silence counts from now.
            self.watching = primary;
            self.primary_seen = ctx.now();
            self.detection_timeout = None;
        }
        let to = self.group(ctx).instances[primary];
        ctx.ping(to, 0);
        let silent = ctx.now().since(self.primary_seen);
        if silent <= f.heartbeat {
            return;
        }
        let timeout = match self.detection_timeout {
            Some(t) => t,
            None => {
                let t = ctx.draw(&f.detection);
                self.detection_timeout = Some(t);
                t
            }
        };
        // The lowest-numbered live replica coordinates.
        let coordinator = {
            let (g, down) = ctx.db_group_and_down(self.service);
            (0..g.instances.len()).find(|&i| i != primary && !down[g.instances[i].index()])
        };
        if silent >= timeout && !promoting && coordinator == Some(at) {
            let now = ctx.now();
            let g = self.group(ctx);
            g.promoting = true;
            g.detected_at = Some(now);
            self.coordinating = true;
            let d = ctx.draw(&f.promotion);
            ctx.set_timer(d, PROMOTE);
        }
    }

    /// The most up-to-date live replica becomes primary; writes it never got are lost.
    fn promote(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        let (g, down) = ctx.db_group_and_down(self.service);
        let Some(new) = (0..g.instances.len())
            .filter(|&i| i != g.primary && !down[g.instances[i].index()])
            .max_by_key(|&i| (g.applied[i], std::cmp::Reverse(i)))
        else {
            g.promoting = false;
            self.coordinating = false;
            return;
        };
        let kept = g.applied[new];
        g.lost_writes += g.acked.iter().filter(|&&l| l > kept).count() as u64;
        g.acked.retain(|&l| l <= kept);
        for l in kept + 1..g.next_lsn {
            if l >= g.log_base
                && let Some(e) = g.log.get_mut((l - g.log_base) as usize)
            {
                e.0 = None;
            }
        }
        let old = g.primary;
        g.members[old] = false;
        g.primary = new;
        g.failovers += 1;
        g.promoting = false;
        g.promoted_at = Some(now);
        self.coordinating = false;
        self.promoted_to = Some(new);
        let new_primary = g.instances[new];
        ctx.note_for(new_primary, NoteKind::Failover);
        let f = self.spec.failover.clone().expect("promotion only with failover");
        let d = ctx.draw(&f.dns);
        ctx.set_timer(d, DNS);
    }

    /// DNS now names the new primary: callers' writes reach it.
    fn switch_dns(&mut self, ctx: &mut Ctx) {
        if let Some(new) = self.promoted_to.take() {
            ctx.switch_primary(self.service, new);
            ctx.note(NoteKind::DnsSwitched);
        }
    }

    pub fn on_crash(&mut self, now: SimTime, world: &mut crate::world::World) {
        if self.coordinating {
            // The promotion this replica drove dies with it; another replica will notice.
            world.db_group(self.service).promoting = false;
            self.coordinating = false;
        }
        if let Some(new) = self.promoted_to.take() {
            // The DNS change was already requested from the provider: it still happens.
            world.switch_primary(self.service, new, now);
        }
        world.db_group(self.service).in_transit[self.index].clear();
        self.busy = 0;
        self.queue.clear();
        self.waiting_sync.clear();
        self.detection_timeout = None;
        self.outbox.iter_mut().for_each(VecDeque::clear);
        self.busy_avg.set(now, 0);
    }

    pub fn report(&self, end: SimTime, group: Option<&DbGroup>, shards: Option<&ShardMap>) -> ComponentReport {
        let busy = self.busy_avg.mean(end);
        let utilization = busy / f64::from(self.spec.max_connections);
        let mut f = DatabaseFigures {
            reads: self.reads,
            writes: self.writes,
            rejected: self.rejected,
            read_your_writes_redirects: self.redirected,
            capacity: Capacity::measured(self.measured, end.since(self.warmup_end).as_secs_f64(), utilization, busy),
            ..DatabaseFigures::default()
        };
        if let Some(g) = group {
            f.role_primary = (!self.spec.sharded).then_some(u8::from(g.primary == self.index));
            f.applied_lsn = Some(g.applied[self.index]);
            if self.lag.count > 0 {
                f.replication_lag_ms_mean = Some(self.lag.sum_ns as f64 / self.lag.count as f64 / 1e6);
                f.replication_lag_ms_max = Some(self.lag.max_ns as f64 / 1e6);
            }
            if let (0, Some(map)) = (self.index, shards) {
                // What a migration to one more shard would move, over 100,000 keys.
                let keys = (0..100_000u64).map(|k| crate::world::sharding::data_key(0, k));
                f.keys_moved_adding_a_shard = Some(moved_share(map, &map.with_added_shard(), keys));
            }
            if self.index == 0 && !self.spec.sharded {
                let secs = |t: Option<SimTime>| t.map(|t| t.as_secs_f64());
                f.cluster = Some(ClusterFigures {
                    lost_writes: g.lost_writes,
                    failovers: g.failovers,
                    failover_detected_s: secs(g.detected_at),
                    failover_promoted_s: secs(g.promoted_at),
                    failover_dns_s: secs(g.dns_switched_at),
                });
            }
        }
        let mut r = ComponentReport::new(Figures::Database(f));
        r.utilization = Some(utilization);
        r
    }
}
