//! A least-recently-used map with O(1) lookup, touch, insert and eviction: a doubly
//! linked list threaded through a Vec, indexed by a `KeyMap`.

use crate::kernel::keymap::KeyMap;

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Node<V> {
    key: u64,
    value: V,
    prev: u32,
    next: u32,
}

#[derive(Clone, Debug)]
pub struct Lru<V: Copy> {
    index: KeyMap<u32>,
    nodes: Vec<Node<V>>,
    free: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used: the next to go.
    tail: u32,
    capacity: usize,
}

impl<V: Copy> Lru<V> {
    pub fn new(capacity: usize) -> Lru<V> {
        assert!(capacity > 0, "an LRU holds at least one entry");
        Lru { index: KeyMap::new(NIL), nodes: Vec::new(), free: Vec::new(), head: NIL, tail: NIL, capacity }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = (self.nodes[i as usize].prev, self.nodes[i as usize].next);
        if prev == NIL {
            self.head = next
        } else {
            self.nodes[prev as usize].next = next
        }
        if next == NIL { self.tail = prev } else { self.nodes[next as usize].prev = prev }
    }

    fn push_front(&mut self, i: u32) {
        self.nodes[i as usize].prev = NIL;
        self.nodes[i as usize].next = self.head;
        if self.head != NIL {
            self.nodes[self.head as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    /// The value for `key`, marking it most recently used.
    pub fn get(&mut self, key: u64) -> Option<&mut V> {
        let i = self.index.get(key)?;
        self.unlink(i);
        self.push_front(i);
        Some(&mut self.nodes[i as usize].value)
    }

    /// The value for `key`, without touching its recency.
    pub fn peek(&self, key: u64) -> Option<&V> {
        self.index.get(key).map(|i| &self.nodes[i as usize].value)
    }

    /// Inserts or replaces `key` as most recently used; returns the entry evicted to make
    /// room, if any.
    pub fn insert(&mut self, key: u64, value: V) -> Option<(u64, V)> {
        if let Some(v) = self.get(key) {
            *v = value;
            return None;
        }
        let evicted = if self.index.len() >= self.capacity { self.pop_lru() } else { None };
        let node = Node { key, value, prev: NIL, next: NIL };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.push_front(i);
        self.index.insert(key, i);
        evicted
    }

    /// Removes and returns the least recently used entry.
    pub fn pop_lru(&mut self) -> Option<(u64, V)> {
        let i = self.tail;
        if i == NIL {
            return None;
        }
        self.unlink(i);
        let n = &self.nodes[i as usize];
        let out = (n.key, n.value);
        self.index.remove(out.0);
        self.free.push(i);
        Some(out)
    }

    /// Holds at most `capacity` entries from now on; a shrink evicts the least recently
    /// used down to it at once, handing each evicted entry to `evicted`.
    pub fn set_capacity(&mut self, capacity: usize, mut evicted: impl FnMut(u64, V)) {
        assert!(capacity > 0, "an LRU holds at least one entry");
        self.capacity = capacity;
        while self.index.len() > capacity {
            let (k, v) = self.pop_lru().expect("over capacity, so not empty");
            evicted(k, v);
        }
    }

    pub fn remove(&mut self, key: u64) -> Option<V> {
        let i = self.index.remove(key)?;
        self.unlink(i);
        self.free.push(i);
        Some(self.nodes[i as usize].value)
    }

    pub fn clear(&mut self) {
        self.index.clear();
        self.nodes.clear();
        self.free.clear();
        self.head = NIL;
        self.tail = NIL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut l = Lru::new(2);
        l.insert(1, 'a');
        l.insert(2, 'b');
        l.get(1);
        assert_eq!(l.insert(3, 'c'), Some((2, 'b')), "2 was used least recently");
        assert_eq!(l.peek(1), Some(&'a'));
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn a_shrink_evicts_the_least_recently_used_down_to_the_new_capacity() {
        let mut l = Lru::new(4);
        for k in 1..=4 {
            l.insert(k, k * 10);
        }
        l.get(1);
        let mut out = Vec::new();
        l.set_capacity(2, |k, v| out.push((k, v)));
        assert_eq!(out, [(2, 20), (3, 30)], "2 then 3 were used least recently; 1 was touched");
        assert_eq!((l.len(), l.peek(1), l.peek(4)), (2, Some(&10), Some(&40)));
        l.set_capacity(3, |_, _| panic!("growing evicts nothing"));
        assert_eq!(l.insert(5, 50), None, "room for a third entry after growing");
    }

    proptest! {
        /// Differential test against a naive LRU (a Vec in recency order).
        #[test]
        fn matches_a_naive_model(ops in prop::collection::vec((0u8..3, 0u64..12), 1..400), cap in 1usize..6) {
            let mut l = Lru::new(cap);
            let mut naive: Vec<(u64, u64)> = Vec::new(); // front = most recent
            for (n, (op, k)) in ops.into_iter().enumerate() {
                let v = n as u64;
                match op {
                    0 => {
                        let got = l.insert(k, v);
                        let want = if let Some(p) = naive.iter().position(|e| e.0 == k) {
                            naive.remove(p);
                            None
                        } else if naive.len() >= cap {
                            naive.pop()
                        } else {
                            None
                        };
                        naive.insert(0, (k, v));
                        prop_assert_eq!(got, want);
                    }
                    1 => {
                        let got = l.get(k).copied();
                        let want = naive.iter().position(|e| e.0 == k).map(|p| {
                            let e = naive.remove(p);
                            naive.insert(0, e);
                            e.1
                        });
                        prop_assert_eq!(got, want);
                    }
                    _ => {
                        let got = l.remove(k);
                        let want = naive.iter().position(|e| e.0 == k).map(|p| naive.remove(p).1);
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(l.len(), naive.len());
            }
        }
    }
}
