//! The CDN's spec: edge regions, their caches, and the origin behind them.

use crate::kernel::distribution::Delay;
use crate::kernel::time::SimDuration;

#[derive(Clone, Debug)]
pub struct Region {
    pub name: String,
    pub share: f64,
    pub edge_latency: Delay,
    pub origin_latency: Delay,
}

#[derive(Clone, Debug)]
pub enum EdgeCache {
    Lru { capacity: u32, ttl: Option<SimDuration> },
    HitRatio(f64),
}

#[derive(Clone, Debug)]
pub struct CdnSpec {
    pub regions: Vec<Region>,
    pub cache: EdgeCache,
}
