//! Cache (Redis-like): an in-memory key-value store of `capacity` entries with LRU
//! eviction and an optional TTL, in front of the next service of the flow (the database).
//! Every lookup takes `latency` (about half a millisecond for Redis); a hit answers with
//! the cached version, a miss fetches from the next service and keeps the answer.
//!
//! Writes follow one of three policies:
//! - cache-aside: the write goes to the database and the key is invalidated (a read that
//!   fetched the old value just before can still put it back: stale until the TTL);
//! - write-through: the write goes to the database, then the cache keeps the new version;
//! - write-behind: the cache keeps the write, answers at once, and flushes dirty entries to
//!   the database every `flush_interval`; dirty entries die with the node if it crashes.
//!
//! A stampede: when a hot key expires under load, every request that misses before the
//! first fetch returns queries the database. With `single_flight` the first miss fetches
//! and the others wait for its answer: one query per expiry.

use super::lru::Lru;
use super::token_slab::TokenSlab;
use crate::ctx::Ctx;
use crate::event::Input;
use crate::event::{Op, Outcome};
use crate::kernel::ids::{ClassId, RequestId};
use crate::kernel::keymap::KeyMap;
use crate::kernel::time::SimTime;
use crate::model::Model;
use crate::model::cache::{CacheSpec, WritePolicy};
use crate::report::ComponentReport;
use crate::report::figures::{CacheFigures, Figures, WriteBehindFigures};

#[derive(Clone, Copy, Debug)]
struct Entry {
    version: u64,
    expires: SimTime,
    /// Write-behind: not yet in the database; (class, flow node) of the write to replay.
    dirty: Option<(ClassId, u16)>,
}

const FLUSH_TOKEN: u32 = u32::MAX;

#[derive(Clone)]
pub struct Cache {
    spec: CacheSpec,
    entries: Lru<Entry>,
    /// Requests waiting out their lookup latency, by timer token.
    looking_up: TokenSlab<RequestId>,
    /// Single flight: key -> index into `waiters` of the fetch in progress.
    in_flight: KeyMap<u32>,
    waiters: TokenSlab<Vec<RequestId>>,
    /// Write-behind: dirty keys in the order they were written.
    dirty_order: Vec<u64>,
    warmup_end: SimTime,
    hits: u64,
    misses: u64,
    window_hits: u64,
    window_misses: u64,
    /// Misses fetched and misses coalesced, inside the window (as the hit ratio counts).
    fetches: u64,
    coalesced: u64,
    evictions: u64,
    flushed: u64,
    dirty_lost: u64,
}

impl Cache {
    pub fn new(spec: &CacheSpec, model: &Model) -> Cache {
        Cache {
            spec: spec.clone(),
            entries: Lru::new(spec.capacity as usize),
            looking_up: TokenSlab::default(),
            in_flight: KeyMap::new(u32::MAX),
            waiters: TokenSlab::default(),
            dirty_order: Vec::new(),
            warmup_end: SimTime::ZERO + model.warmup,
            hits: 0,
            misses: 0,
            window_hits: 0,
            window_misses: 0,
            fetches: 0,
            coalesced: 0,
            evictions: 0,
            flushed: 0,
            dirty_lost: 0,
        }
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Start | Input::Restart => {
                if self.spec.write_policy == WritePolicy::WriteBehind {
                    ctx.set_timer(self.spec.flush_interval, FLUSH_TOKEN);
                }
            }
            Input::Request(req) => {
                let d = ctx.draw(&self.spec.latency);
                let token = self.looking_up.insert(req);
                ctx.set_timer(d, token);
            }
            Input::Timer(FLUSH_TOKEN) => self.flush(ctx),
            Input::Timer(token) => {
                let req = self.looking_up.take(token).expect("a lookup timer has its request");
                let r = *ctx.request(req);
                match r.op {
                    Op::Write => self.on_write(req, r.key, r.class, ctx),
                    Op::Read | Op::Scan => self.on_read(req, r.key, ctx),
                }
            }
            Input::ChildDone(result) => self.on_fetched(&result, ctx),
            Input::Capacity(n) => self.resize(n as usize, ctx),
            Input::Pong { .. }
            | Input::Message { .. }
            | Input::Slow(_)
            | Input::Drain
            | Input::Scale(_)
            | Input::Rate(_) => {}
        }
    }

    fn on_read(&mut self, req: RequestId, key: u64, ctx: &mut Ctx) {
        let in_window = ctx.now() >= self.warmup_end;
        let now = ctx.now();
        let live = match self.entries.get(key) {
            Some(e) if e.expires > now => Some(e.version),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        };
        if let Some(version) = live {
            self.hits += 1;
            self.window_hits += u64::from(in_window);
            ctx.set_version(req, version);
            ctx.respond(req, Outcome::Ok);
            return;
        }
        self.misses += 1;
        self.window_misses += u64::from(in_window);
        if self.spec.single_flight {
            let w = self.in_flight.get_or(key);
            if w != u32::MAX {
                self.coalesced += u64::from(in_window);
                self.waiters.get_mut(w).expect("in-flight keys have waiters").push(req);
                return;
            }
        }
        self.fetches += u64::from(in_window);
        let answered = ctx.proceed(req);
        if self.spec.single_flight && !answered {
            // A fetch is out: later misses of this key wait for it.
            let w = self.waiters.insert(Vec::new());
            self.in_flight.insert(key, w);
        }
    }

    fn on_write(&mut self, req: RequestId, key: u64, class: ClassId, ctx: &mut Ctx) {
        match self.spec.write_policy {
            WritePolicy::CacheAside => {
                self.entries.remove(key);
                ctx.proceed(req);
            }
            WritePolicy::WriteThrough => {
                ctx.proceed(req);
            }
            WritePolicy::WriteBehind => {
                let next = ctx.next_call_node(req);
                let was_dirty = self.entries.peek(key).is_some_and(|e| e.dirty.is_some());
                let entry = Entry { version: 0, expires: self.expiry(ctx.now()), dirty: next.map(|n| (class, n)) };
                self.insert(key, entry, ctx);
                if !was_dirty && next.is_some() {
                    self.dirty_order.push(key);
                }
                ctx.respond(req, Outcome::Ok);
            }
        }
    }

    fn expiry(&self, now: SimTime) -> SimTime {
        self.spec.ttl.map_or(SimTime::MAX, |t| now + t)
    }

    fn insert(&mut self, key: u64, entry: Entry, ctx: &mut Ctx) {
        if let Some((old_key, old)) = self.entries.insert(key, entry) {
            self.evictions += 1;
            if let Some((class, node)) = old.dirty {
                // An evicted dirty entry must reach the database now.
                ctx.detached_call(class, node, old_key, 0, None, None);
                self.flushed += 1;
            }
        }
    }

    /// A capacity fault: a shrink evicts the least recently used entries down to the new
    /// capacity at once, each dirty one written to the database as any eviction's is.
    fn resize(&mut self, capacity: usize, ctx: &mut Ctx) {
        let mut dirty = Vec::new();
        let mut evicted = 0;
        self.entries.set_capacity(capacity, |key, e| {
            evicted += 1;
            if let Some(to) = e.dirty {
                dirty.push((key, to));
            }
        });
        self.evictions += evicted;
        for (key, (class, node)) in dirty {
            ctx.detached_call(class, node, key, 0, None, None);
            self.flushed += 1;
        }
    }

    /// An answer from the next service: a fetch (read), a write passed through, or a flush.
    fn on_fetched(&mut self, result: &crate::event::ChildResult, ctx: &mut Ctx) {
        if result.parent.is_none() {
            // A write-behind flush came back.
            if result.outcome == Outcome::Ok
                && let Some(e) = self.entries.peek(result.key).copied()
                && e.dirty.is_none()
            {
                self.entries.insert(result.key, Entry { version: result.version, ..e });
            }
            return;
        }
        let key = result.key;
        if result.outcome == Outcome::Ok {
            match result.op {
                Op::Read | Op::Scan => {
                    let e = Entry { version: result.version, expires: self.expiry(ctx.now()), dirty: None };
                    self.insert(key, e, ctx);
                }
                Op::Write if self.spec.write_policy == WritePolicy::WriteThrough => {
                    let e = Entry { version: result.version, expires: self.expiry(ctx.now()), dirty: None };
                    self.insert(key, e, ctx);
                }
                Op::Write => {}
            }
        }
        let parent = result.parent.expect("checked above");
        ctx.resume(result);
        // The fetch is over once the request it serves is answered (it may make more
        // than one call, or scatter to shards).
        if self.spec.single_flight
            && result.op != Op::Write
            && !ctx.holds(parent)
            && let Some(w) = self.in_flight.remove(key)
        {
            for waiter in self.waiters.take(w).expect("registered") {
                if result.outcome == Outcome::Ok && ctx.try_request(waiter).is_some() {
                    ctx.set_version(waiter, result.version);
                }
                if ctx.holds(waiter) {
                    // A waiter fails where the fetch it waited on failed.
                    ctx.respond_with(waiter, result);
                }
            }
        }
    }

    fn flush(&mut self, ctx: &mut Ctx) {
        for key in std::mem::take(&mut self.dirty_order) {
            let Some(e) = self.entries.peek(key).copied() else { continue };
            let Some((class, node)) = e.dirty else { continue };
            self.entries.insert(key, Entry { dirty: None, ..e });
            ctx.detached_call(class, node, key, 0, None, None);
            self.flushed += 1;
        }
        ctx.set_timer(self.spec.flush_interval, FLUSH_TOKEN);
    }

    pub fn on_crash(&mut self) {
        self.dirty_lost += self.dirty_order.len() as u64;
        self.dirty_order.clear();
        self.entries.clear();
        self.looking_up.clear();
        self.in_flight.clear();
        self.waiters.clear();
    }

    /// Share of lookups after warm-up that hit.
    pub fn hit_ratio(&self) -> f64 {
        let n = self.window_hits + self.window_misses;
        if n == 0 { 0.0 } else { self.window_hits as f64 / n as f64 }
    }

    pub fn report(&self) -> ComponentReport {
        let write_behind = (self.spec.write_policy == WritePolicy::WriteBehind)
            .then_some(WriteBehindFigures { flushed: self.flushed, dirty_lost: self.dirty_lost });
        ComponentReport::new(Figures::Cache(CacheFigures {
            hit_ratio: self.hit_ratio(),
            hits: self.window_hits,
            misses: self.window_misses,
            since_start: (self.hits, self.misses),
            fetches: self.fetches,
            coalesced: self.coalesced,
            evictions: self.evictions,
            entries: self.entries.len() as u64,
            write_behind,
        }))
    }
}
