//! Mean network delay between instances. The engine sends every message along the
//! lowest-mean-latency route (`world::network`, which this layer may not use), so this
//! recomputes the same routes with the same cost (mean latency in ns plus one per hop,
//! never passing through a population of users) and keeps each route's mean latency.
//! Ties between equal-cost routes may differ by a nanosecond a hop: nothing here notices.

use crate::model::{ComponentModel, Model};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// One-way mean latencies from each source asked about, computed once per source.
pub struct Routes<'m> {
    model: &'m Model,
    /// Per component: (neighbour, mean latency in ns) over each link.
    adjacent: Vec<Vec<(usize, f64)>>,
    from: BTreeMap<usize, Vec<Option<f64>>>,
}

impl<'m> Routes<'m> {
    pub fn new(model: &'m Model) -> Routes<'m> {
        let mut adjacent = vec![Vec::new(); model.components.len()];
        for l in &model.links {
            let ns = l.latency.mean_ns();
            adjacent[l.a.index()].push((l.b.index(), ns));
            adjacent[l.b.index()].push((l.a.index(), ns));
        }
        Routes { model, adjacent, from: BTreeMap::new() }
    }

    /// Mean one-way latency in seconds from component `a` to component `b`, or `None`
    /// when no route joins them.
    pub fn one_way_s(&mut self, a: usize, b: usize) -> Option<f64> {
        if !self.from.contains_key(&a) {
            let d = self.dijkstra(a);
            self.from.insert(a, d);
        }
        self.from[&a][b].map(|ns| ns * 1e-9)
    }

    fn dijkstra(&self, src: usize) -> Vec<Option<f64>> {
        let n = self.adjacent.len();
        let endpoint = |i: usize| matches!(self.model.components[i].model, ComponentModel::Clients(_));
        // Costs are whole nanoseconds plus hops, as in the engine, so they order exactly.
        let mut cost = vec![u64::MAX; n];
        let mut latency = vec![None; n];
        let mut heap = BinaryHeap::new();
        cost[src] = 0;
        latency[src] = Some(0.0);
        heap.push(Reverse((0u64, src)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > cost[u] || (u != src && endpoint(u)) {
                continue;
            }
            for &(v, ns) in &self.adjacent[u] {
                let nd = d + ns as u64 + 1;
                if nd < cost[v] {
                    cost[v] = nd;
                    latency[v] = latency[u].map(|l| l + ns);
                    heap.push(Reverse((nd, v)));
                }
            }
        }
        latency
    }
}
