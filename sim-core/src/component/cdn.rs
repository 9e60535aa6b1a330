//! CDN: edge caches in several regions in front of an origin (the next service of the
//! flow). A user belongs to one region (a fixed share of users per region); its request
//! costs that region's `edge_latency`; on a miss the edge fetches from the origin, which
//! costs the region's `origin_latency` on top (the long haul from that region to the
//! origin's data centre), and keeps the answer.
//!
//! The hit ratio either follows from the edges' LRU caches (`capacity` entries each, with
//! an optional `ttl`) under the keyspace's popularity, or is set directly (`hit_ratio`,
//! each request hitting independently), as a what-if. Origin offload = 1 - origin
//! fetches / requests.

use super::lru::Lru;
use super::token_slab::TokenSlab;
use crate::ctx::Ctx;
use crate::event::ChildResult;
use crate::event::Input;
use crate::event::Outcome;
use crate::kernel::hash::splitmix64;
use crate::kernel::ids::RequestId;
use crate::kernel::time::SimTime;
use crate::model::Model;
use crate::model::cdn::{CdnSpec, EdgeCache};
use crate::report::ComponentReport;
use crate::report::figures::{CdnFigures, Figures, RegionFigures, Regions};

#[derive(Clone, Copy, Debug)]
enum Pending {
    /// Waiting out the edge latency.
    AtEdge(RequestId, usize),
    /// Waiting out the long haul before the origin fetch.
    ToOrigin(RequestId),
}

#[derive(Clone)]
pub struct Cdn {
    spec: CdnSpec,
    /// Cumulative region shares, for assigning users.
    cumulative: Vec<f64>,
    edges: Vec<Lru<SimTime>>,
    pending: TokenSlab<Pending>,
    warmup_end: SimTime,
    requests: Vec<u64>,
    hits: Vec<u64>,
    origin_fetches: u64,
}

impl Cdn {
    pub fn new(spec: &CdnSpec, model: &Model) -> Cdn {
        let total: f64 = spec.regions.iter().map(|r| r.share).sum();
        let mut acc = 0.0;
        let cumulative = spec
            .regions
            .iter()
            .map(|r| {
                acc += r.share / total;
                acc
            })
            .collect();
        let capacity = match spec.cache {
            EdgeCache::Lru { capacity, .. } => capacity as usize,
            EdgeCache::HitRatio(_) => 1,
        };
        let n = spec.regions.len();
        Cdn {
            spec: spec.clone(),
            cumulative,
            edges: (0..n).map(|_| Lru::new(capacity)).collect(),
            pending: TokenSlab::default(),
            warmup_end: SimTime::ZERO + model.warmup,
            requests: vec![0; n],
            hits: vec![0; n],
            origin_fetches: 0,
        }
    }

    /// A user's region: fixed for the user, with the configured shares.
    fn region_of(&self, user: u32) -> usize {
        let u = (splitmix64(u64::from(user)) >> 11) as f64 / (1u64 << 53) as f64;
        self.cumulative.iter().position(|&c| u < c).unwrap_or(self.cumulative.len() - 1)
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Request(req) => {
                let region = self.region_of(ctx.request(req).user);
                let d = ctx.draw(&self.spec.regions[region].edge_latency);
                let token = self.pending.insert(Pending::AtEdge(req, region));
                ctx.set_timer(d, token);
            }
            Input::Timer(token) => match self.pending.take(token).expect("a CDN timer has its request") {
                Pending::AtEdge(req, region) => self.at_edge(req, region, ctx),
                Pending::ToOrigin(req) => {
                    ctx.proceed(req);
                }
            },
            Input::ChildDone(result) => self.on_origin(&result, ctx),
            Input::Capacity(n) => {
                // Each edge shrinks to the new capacity at once, least recently used first.
                self.edges.iter_mut().for_each(|e| e.set_capacity(n as usize, |_, _| {}));
            }
            Input::Start
            | Input::Restart
            | Input::Pong { .. }
            | Input::Message { .. }
            | Input::Slow(_)
            | Input::Drain
            | Input::Scale(_)
            | Input::Rate(_) => {}
        }
    }

    fn at_edge(&mut self, req: RequestId, region: usize, ctx: &mut Ctx) {
        let key = ctx.request(req).key;
        let now = ctx.now();
        let hit = match &self.spec.cache {
            EdgeCache::HitRatio(p) => ctx.chance(*p),
            EdgeCache::Lru { .. } => match self.edges[region].get(key) {
                Some(expires) if *expires > now => true,
                Some(_) => {
                    self.edges[region].remove(key);
                    false
                }
                None => false,
            },
        };
        if now >= self.warmup_end {
            self.requests[region] += 1;
            self.hits[region] += u64::from(hit);
        }
        if hit {
            ctx.respond(req, Outcome::Ok);
        } else {
            self.origin_fetches += u64::from(now >= self.warmup_end);
            let d = ctx.draw(&self.spec.regions[region].origin_latency);
            let token = self.pending.insert(Pending::ToOrigin(req));
            ctx.set_timer(d, token);
        }
    }

    fn on_origin(&mut self, result: &ChildResult, ctx: &mut Ctx) {
        if result.outcome == Outcome::Ok
            && let EdgeCache::Lru { ttl, .. } = self.spec.cache
        {
            let region = self.region_of(result.user);
            let expires = ttl.map_or(SimTime::MAX, |t| ctx.now() + t);
            self.edges[region].insert(result.key, expires);
        }
        ctx.resume(result);
    }

    pub fn on_crash(&mut self) {
        self.pending.clear();
        self.edges.iter_mut().for_each(Lru::clear);
    }

    pub fn report(&self) -> ComponentReport {
        let (total, hits): (u64, u64) = (self.requests.iter().sum(), self.hits.iter().sum());
        let ratio = |h: u64, n: u64| if n == 0 { 0.0 } else { h as f64 / n as f64 };
        let regions = self.spec.regions.iter().enumerate().map(|(i, region)| RegionFigures {
            name: region.name.clone(),
            hit_ratio: ratio(self.hits[i], self.requests[i]),
            requests: self.requests[i],
        });
        ComponentReport::new(Figures::Cdn(CdnFigures {
            hit_ratio: ratio(hits, total),
            origin_fetches: self.origin_fetches,
            origin_offload: 1.0 - ratio(self.origin_fetches, total),
            regions: Regions(regions.collect()),
        }))
    }
}
