//! A 4-ary min-heap keyed by `u128`, with keys and payloads in separate arrays: sifting
//! compares and moves only the 16-byte keys' slots, and a 4-ary tree is half as deep as a
//! binary one, so both push and pop touch fewer cache lines than std's `BinaryHeap`.

#[derive(Clone)]
pub struct QuadHeap<E> {
    keys: Vec<u128>,
    items: Vec<E>,
}

impl<E> Default for QuadHeap<E> {
    fn default() -> Self {
        QuadHeap { keys: Vec::new(), items: Vec::new() }
    }
}

impl<E: Copy> QuadHeap<E> {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The smallest key, if any.
    #[inline]
    pub fn peek_key(&self) -> Option<u128> {
        self.keys.first().copied()
    }

    /// Adds an entry: parents larger than `key` move down into the hole, then the entry
    /// lands where the hole stops (one write per level instead of a swap).
    #[inline]
    pub fn push(&mut self, key: u128, item: E) {
        let mut i = self.keys.len();
        self.keys.push(key);
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
    #[inline]
    pub fn pop(&mut self) -> Option<(u128, E)> {
        let last_key = self.keys.pop()?;
        let last_item = self.items.pop().expect("keys and items match");
        let n = self.keys.len();
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
            let end = (first + 4).min(n);
            let mut best = first;
            let mut best_key = self.keys[first];
            for c in first + 1..end {
                let k = self.keys[c];
                if k < best_key {
                    best = c;
                    best_key = k;
                }
            }
            if last_key <= best_key {
                break;
            }
            self.keys[i] = best_key;
            self.items[i] = self.items[best];
            i = best;
        }
        self.keys[i] = last_key;
        self.items[i] = last_item;
        Some(top)
    }
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
