//! Sharding: which shard owns a key. Four schemes, as the seeds describe them:
//! - `HashMod`: hash(key) mod N. Simple and even, but adding a shard remaps almost every
//!   key (going from N to N+1 moves N/(N+1) of them: 80% from 4 to 5).
//! - `Consistent`: a hash ring with `vnodes` virtual nodes a shard; adding a shard moves
//!   only the keys the new shard takes over, about 1/(N+1) (20% from 4 to 5).
//! - `Range`: contiguous key ranges of equal width over `0..key_count`; adding a shard
//!   re-splits the ranges, and a popular range makes a hot shard.
//! - `Directory`: a lookup table of `buckets` buckets; adding a shard moves just enough
//!   buckets to even the load, about 1/(N+1) of the keys, at the cost of the lookup table.

use crate::kernel::hash::{fnv1a64, splitmix64};
use crate::model::Sharding;

/// Data keys are `keyspace << 48 | rank`; this mask takes the rank.
pub const RANK_MASK: u64 = (1 << 48) - 1;

/// The data key of `rank` in keyspace number `keyspace`. The packing has this one owner:
/// `keyspace_of` and `rank_of` unpack it.
pub fn data_key(keyspace: u16, rank: u64) -> u64 {
    u64::from(keyspace) << 48 | (rank & RANK_MASK)
}

/// The keyspace a data key belongs to.
#[inline]
pub fn keyspace_of(key: u64) -> u16 {
    (key >> 48) as u16
}

/// A data key's rank within its keyspace (how the scenario numbers its keys).
#[inline]
pub fn rank_of(key: u64) -> u64 {
    key & RANK_MASK
}

/// A built shard map for a given scheme and shard count.
#[derive(Clone, Debug)]
pub struct ShardMap {
    scheme: Sharding,
    shards: u32,
    /// Consistent hashing: (point, shard), sorted by point.
    ring: Vec<(u64, u32)>,
    /// Directory: bucket -> shard.
    table: Vec<u32>,
}

impl ShardMap {
    pub fn new(scheme: Sharding, shards: u32) -> ShardMap {
        assert!(shards > 0, "a shard map needs a shard");
        let mut map = ShardMap { scheme: scheme.clone(), shards, ring: Vec::new(), table: Vec::new() };
        match scheme {
            Sharding::Consistent { vnodes } => {
                for s in 0..shards {
                    map.add_ring_points(s, vnodes);
                }
            }
            Sharding::Directory { buckets } => {
                map.table = (0..buckets).map(|b| b % shards).collect();
            }
            Sharding::HashMod | Sharding::Range { .. } => {}
        }
        map
    }

    fn add_ring_points(&mut self, shard: u32, vnodes: u32) {
        for v in 0..vnodes {
            let point = fnv1a64(format!("shard-{shard}#{v}").as_bytes());
            self.ring.push((splitmix64(point), shard));
        }
        self.ring.sort_unstable();
    }

    pub fn shards(&self) -> u32 {
        self.shards
    }

    /// The shard that owns `key`.
    #[inline]
    pub fn shard(&self, key: u64) -> u32 {
        match &self.scheme {
            Sharding::HashMod => (splitmix64(key) % u64::from(self.shards)) as u32,
            Sharding::Consistent { .. } => {
                let h = splitmix64(key);
                let i = self.ring.partition_point(|(p, _)| *p < h);
                self.ring[if i == self.ring.len() { 0 } else { i }].1
            }
            Sharding::Range { key_count } => {
                // Ranges are over the key's rank within its keyspace (the low 48 bits).
                let width = key_count.div_ceil(u64::from(self.shards)).max(1);
                ((rank_of(key) / width).min(u64::from(self.shards) - 1)) as u32
            }
            Sharding::Directory { .. } => self.table[(splitmix64(key) % self.table.len() as u64) as usize],
        }
    }

    /// The same scheme with one more shard, as a migration would leave it.
    pub fn with_added_shard(&self) -> ShardMap {
        let new = self.shards;
        match &self.scheme {
            Sharding::Consistent { vnodes } => {
                let mut m = self.clone();
                m.shards += 1;
                m.add_ring_points(new, *vnodes);
                m
            }
            Sharding::Directory { .. } => {
                // Move buckets from the fullest shards to the new one until it holds its share.
                let mut m = self.clone();
                m.shards += 1;
                let target = m.table.len() / m.shards as usize;
                let mut counts = vec![0usize; m.shards as usize];
                m.table.iter().for_each(|s| counts[*s as usize] += 1);
                for b in 0..m.table.len() {
                    if counts[new as usize] >= target {
                        break;
                    }
                    let s = m.table[b] as usize;
                    if counts[s] > target {
                        counts[s] -= 1;
                        counts[new as usize] += 1;
                        m.table[b] = new;
                    }
                }
                m
            }
            Sharding::HashMod | Sharding::Range { .. } => ShardMap::new(self.scheme.clone(), self.shards + 1),
        }
    }
}

/// The share of `keys` whose shard differs between two maps.
pub fn moved_share(before: &ShardMap, after: &ShardMap, keys: impl Iterator<Item = u64>) -> f64 {
    let (mut moved, mut total) = (0u64, 0u64);
    for k in keys {
        total += 1;
        moved += u64::from(before.shard(k) != after.shard(k));
    }
    if total == 0 { 0.0 } else { moved as f64 / total as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #3, item 7: from 4 to 5 shards, mod N moves about 80% of keys and consistent
    /// hashing about 20% (the seed's figures), measured over 100,000 keys.
    #[test]
    fn adding_a_fifth_shard_moves_80_percent_under_mod_n_and_20_under_consistent_hashing() {
        let keys = || 0..100_000u64;
        let m = ShardMap::new(Sharding::HashMod, 4);
        let mod_n = moved_share(&m, &m.with_added_shard(), keys());
        assert!((mod_n - 0.80).abs() < 0.01, "mod N moved {mod_n}");
        let c = ShardMap::new(Sharding::Consistent { vnodes: 256 }, 4);
        let consistent = moved_share(&c, &c.with_added_shard(), keys());
        assert!((consistent - 0.20).abs() < 0.03, "consistent hashing moved {consistent}");
        let d = ShardMap::new(Sharding::Directory { buckets: 1024 }, 4);
        let directory = moved_share(&d, &d.with_added_shard(), keys());
        assert!((directory - 0.20).abs() < 0.02, "directory moved {directory}");
    }

    #[test]
    fn every_scheme_spreads_keys_evenly_over_shards() {
        for scheme in [
            Sharding::HashMod,
            Sharding::Consistent { vnodes: 256 },
            Sharding::Range { key_count: 100_000 },
            Sharding::Directory { buckets: 1024 },
        ] {
            let m = ShardMap::new(scheme.clone(), 4);
            let mut counts = [0u32; 4];
            (0..100_000u64).for_each(|k| counts[m.shard(k) as usize] += 1);
            for c in counts {
                assert!((f64::from(c) / 25_000.0 - 1.0).abs() < 0.10, "{scheme:?}: {counts:?}");
            }
        }
    }

    #[test]
    fn range_sharding_puts_the_hottest_keys_on_one_shard() {
        let m = ShardMap::new(Sharding::Range { key_count: 100_000 }, 4);
        assert!((0..1000).all(|k| m.shard(k) == 0), "low (hot) ranks all live on shard 0");
    }
}
