//! A 4-ary min-heap keyed by `u128`, with keys and payloads in separate arrays: sifting
//! compares and moves only the 16-byte keys' slots, and a 4-ary tree is half as deep as a
//! binary one, so both push and pop touch fewer cache lines than std's `BinaryHeap`.
//!
//! The keys array runs `PAD` empty keys past the last entry, so that a node's four
//! children are always four readable keys: the pop's sift takes the least of a fixed
//! four without bounds checks or a loop (a quarter of pixelcraft-1m's instructions went
//! to the variable-length loop it replaces).

/// A key no entry has (a real key's sequence half never reaches `u64::MAX`): it loses
/// every comparison, so it stands for a missing child.
const EMPTY: u128 = u128::MAX;
/// Empty keys kept past the last entry: a last node's group of children reaches three
/// slots beyond it.
const PAD: usize = 3;

#[derive(Clone)]
pub struct QuadHeap<E> {
    /// `items.len() + PAD` keys, the last `PAD` of them `EMPTY`.
    keys: Vec<u128>,
    items: Vec<E>,
}

impl<E> Default for QuadHeap<E> {
    fn default() -> Self {
        QuadHeap { keys: vec![EMPTY; PAD], items: Vec::new() }
    }
}

impl<E: Copy> QuadHeap<E> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The smallest key, if any.
    #[inline]
    pub fn peek_key(&self) -> Option<u128> {
        (!self.items.is_empty()).then(|| self.keys[0])
    }

    /// The entry with the smallest key, if any.
    #[inline]
    pub fn peek(&self) -> Option<(u128, E)> {
        self.items.first().map(|&e| (self.keys[0], e))
    }

    /// Adds an entry: parents larger than `key` move down into the hole, then the entry
    /// lands where the hole stops (one write per level instead of a swap).
    #[inline]
    pub fn push(&mut self, key: u128, item: E) {
        debug_assert!(key != EMPTY, "no entry has the empty key");
        let mut i = self.items.len();
        self.keys.push(EMPTY);
        self.items.push(item);
        while i > 0 {
            let parent = (i - 1) / 4;
            let pk = self.keys[parent];
            if pk <= key {
                break;
            }
            self.keys[i] = pk;
            self.items[i] = self.items[parent];
            i = parent;
        }
        self.keys[i] = key;
        self.items[i] = item;
    }

    /// Removes and returns the entry with the smallest key: the last entry fills the root's
    /// hole, which sinks towards the smallest child.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(u128, E)> {
        let last_item = self.items.pop()?;
        let n = self.items.len();
        let last_key = std::mem::replace(&mut self.keys[n], EMPTY);
        self.keys.pop();
        if n == 0 {
            return Some((last_key, last_item));
        }
        let top = (self.keys[0], self.items[0]);
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let (best, best_key) = least_of_four(&self.keys[first..first + 4]);
            if last_key <= best_key {
                break;
            }
            self.keys[i] = best_key;
            self.items[i] = self.items[first + best];
            i = first + best;
        }
        self.keys[i] = last_key;
        self.items[i] = last_item;
        Some(top)
    }
}

/// The position and value of the least of four keys, in three comparisons that compile to
/// conditional moves.
#[inline(always)]
fn least_of_four(g: &[u128]) -> (usize, u128) {
    let &[k0, k1, k2, k3] = g else { unreachable!("a group of children is four keys") };
    let (a, ka) = if k1 < k0 { (1, k1) } else { (0, k0) };
    let (b, kb) = if k3 < k2 { (3, k3) } else { (2, k2) };
    if kb < ka { (b, kb) } else { (a, ka) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pops come out in key order, whatever the interleaving of pushes and pops.
        #[test]
        fn pops_in_key_order(ops in prop::collection::vec(prop::option::of(0u128..50), 1..500)) {
            let mut h = QuadHeap::default();
            let mut shadow = std::collections::BTreeMap::new();
            for (seq, op) in ops.into_iter().enumerate() {
                match op {
                    Some(k) => {
                        let key = k << 64 | seq as u128;
                        h.push(key, seq);
                        shadow.insert(key, seq);
                    }
                    None => prop_assert_eq!(h.pop(), shadow.pop_first()),
                }
                prop_assert_eq!(h.len(), shadow.len());
            }
        }
    }
}
