//! A map from u64 keys to values with open addressing and a fixed hash. sim-core bans
//! std's `HashMap` (its iteration order is random per process); this map has no iteration
//! at all, only lookups, inserts and removals, so nothing about a run can depend on order.

use crate::kernel::hash::splitmix64;

#[derive(Clone, Debug)]
pub struct KeyMap<V: Copy> {
    keys: Vec<u64>,
    values: Vec<V>,
    /// 0 empty, 1 full, 2 deleted (a tombstone keeps probe chains intact).
    state: Vec<u8>,
    len: usize,
    tombstones: usize,
    empty: V,
}

impl<V: Copy> KeyMap<V> {
    /// A map that returns `empty` for absent keys from `get_or`.
    pub fn new(empty: V) -> KeyMap<V> {
        KeyMap { keys: vec![0; 16], values: vec![empty; 16], state: vec![0; 16], len: 0, tombstones: 0, empty }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn find(&self, key: u64) -> (Option<usize>, usize) {
        let mask = self.keys.len() - 1;
        let mut i = (splitmix64(key) as usize) & mask;
        let mut first_free = None;
        loop {
            match self.state[i] {
                0 => return (None, first_free.unwrap_or(i)),
                1 if self.keys[i] == key => return (Some(i), i),
                2 if first_free.is_none() => first_free = Some(i),
                _ => {}
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    pub fn get(&self, key: u64) -> Option<V> {
        self.find(key).0.map(|i| self.values[i])
    }

    #[inline]
    pub fn get_or(&self, key: u64) -> V {
        self.get(key).unwrap_or(self.empty)
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: u64, value: V) -> Option<V> {
        if (self.len + self.tombstones + 1) * 4 > self.keys.len() * 3 {
            self.grow();
        }
        match self.find(key) {
            (Some(i), _) => Some(std::mem::replace(&mut self.values[i], value)),
            (None, i) => {
                if self.state[i] == 2 {
                    self.tombstones -= 1;
                }
                self.state[i] = 1;
                self.keys[i] = key;
                self.values[i] = value;
                self.len += 1;
                None
            }
        }
    }

    pub fn remove(&mut self, key: u64) -> Option<V> {
        let i = self.find(key).0?;
        self.state[i] = 2;
        self.len -= 1;
        self.tombstones += 1;
        Some(self.values[i])
    }

    pub fn clear(&mut self) {
        self.state.iter_mut().for_each(|s| *s = 0);
        self.len = 0;
        self.tombstones = 0;
    }

    fn grow(&mut self) {
        let cap = if self.len * 2 > self.keys.len() { self.keys.len() * 2 } else { self.keys.len() };
        let old = std::mem::replace(self, KeyMap::with_capacity_of(cap, self.empty));
        for i in 0..old.keys.len() {
            if old.state[i] == 1 {
                self.insert(old.keys[i], old.values[i]);
            }
        }
    }

    fn with_capacity_of(slots: usize, empty: V) -> KeyMap<V> {
        KeyMap { keys: vec![0; slots], values: vec![empty; slots], state: vec![0; slots], len: 0, tombstones: 0, empty }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Differential test against a BTreeMap.
        #[test]
        fn behaves_like_a_btreemap(ops in prop::collection::vec((0u8..3, 0u64..64, any::<u32>()), 1..600)) {
            let mut m = KeyMap::new(0u32);
            let mut shadow = BTreeMap::new();
            for (op, k, v) in ops {
                match op {
                    0 => prop_assert_eq!(m.insert(k, v), shadow.insert(k, v)),
                    1 => prop_assert_eq!(m.remove(k), shadow.remove(&k)),
                    _ => prop_assert_eq!(m.get(k), shadow.get(&k).copied()),
                }
                prop_assert_eq!(m.len(), shadow.len());
            }
        }
    }
}
