//! The network: components are nodes of a petgraph topology, links are its edges, each
//! with a latency distribution and its own random stream. A message between two components
//! follows the lowest-mean-latency route (ties broken by node index, so routing never
//! depends on hash order) and takes the sum of one latency draw per link.

use crate::kernel::ids::{ComponentId, LinkId};
use crate::kernel::rng::{SimRng, stream};
use crate::kernel::time::SimDuration;
use crate::model::LinkSpec;
use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A precomputed route: the links a message crosses, in order.
#[derive(Clone, Debug, Default)]
pub struct Route {
    pub links: Vec<LinkId>,
    /// True when every link on the route has zero latency, so sending needs no draw.
    pub instant: bool,
}

#[derive(Clone)]
pub struct Network {
    graph: UnGraph<ComponentId, LinkId, u32>,
    links: Vec<LinkSpec>,
    rngs: Vec<SimRng>,
    /// Nodes that are endpoints only (the users' side): a route may start or end there
    /// but never pass through.
    endpoint: Vec<bool>,
}

impl Network {
    /// `endpoints` lists the nodes no route may pass through.
    pub fn new(component_count: usize, links: Vec<LinkSpec>, seed: u64, endpoints: &[ComponentId]) -> Network {
        let mut graph = UnGraph::with_capacity(component_count, links.len());
        for i in 0..component_count {
            graph.add_node(ComponentId(i as u32));
        }
        for (i, l) in links.iter().enumerate() {
            graph.add_edge(NodeIndex::new(l.a.index()), NodeIndex::new(l.b.index()), LinkId(i as u32));
        }
        let rngs = links.iter().map(|l| stream(seed, &format!("link:{}", l.name))).collect();
        let mut endpoint = vec![false; component_count];
        endpoints.iter().for_each(|e| endpoint[e.index()] = true);
        Network { graph, links, rngs, endpoint }
    }

    /// Mean one-way latency of the route from `from` to `to`, if they are connected.
    pub fn mean_latency(&self, from: ComponentId, to: ComponentId) -> Option<SimDuration> {
        let route = self.route(from, to)?;
        Some(SimDuration(route.links.iter().map(|l| self.links[l.index()].latency.mean().as_nanos()).sum()))
    }

    pub fn links(&self) -> &[LinkSpec] {
        &self.links
    }

    /// The lowest-mean-latency route from `from` to `to`, or `None` if they are not
    /// connected. A component reaches itself with an empty route.
    pub fn route(&self, from: ComponentId, to: ComponentId) -> Option<Route> {
        let (src, dst) = (NodeIndex::new(from.index()), NodeIndex::new(to.index()));
        let n = self.graph.node_count();
        let mut dist = vec![u64::MAX; n];
        let mut via: Vec<Option<(NodeIndex, LinkId)>> = vec![None; n];
        let mut heap = BinaryHeap::new();
        dist[src.index()] = 0;
        heap.push(Reverse((0u64, src.index())));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            if u == dst.index() {
                break;
            }
            if u != src.index() && self.endpoint[u] {
                continue;
            }
            for e in self.graph.edges(NodeIndex::new(u)) {
                let link = *e.weight();
                let v = if e.source().index() == u { e.target() } else { e.source() };
                // +1 per hop so that among zero-latency routes the shortest wins.
                let nd = d + self.links[link.index()].latency.mean().as_nanos() + 1;
                let better = nd < dist[v.index()]
                    || (nd == dist[v.index()] && via[v.index()].is_some_and(|(p, _)| u < p.index()));
                if better {
                    dist[v.index()] = nd;
                    via[v.index()] = Some((NodeIndex::new(u), link));
                    heap.push(Reverse((nd, v.index())));
                }
            }
        }
        if dist[dst.index()] == u64::MAX {
            return None;
        }
        let mut links = Vec::new();
        let mut at = dst;
        while at != src {
            let (prev, link) = via[at.index()].expect("a reached node has a predecessor");
            links.push(link);
            at = prev;
        }
        links.reverse();
        let instant = links.iter().all(|l| self.links[l.index()].latency.is_zero());
        Some(Route { links, instant })
    }

    /// Draws the one-way latency of a message along `route`.
    #[inline]
    pub fn sample(&mut self, route: &Route) -> SimDuration {
        if route.instant {
            return SimDuration::ZERO;
        }
        let mut total = SimDuration::ZERO;
        for l in &route.links {
            total = total + self.links[l.index()].latency.sample(&mut self.rngs[l.index()]);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::distribution::Delay;

    fn link(name: &str, a: u32, b: u32, ms: u64) -> LinkSpec {
        LinkSpec {
            name: name.into(),
            a: ComponentId(a),
            b: ComponentId(b),
            latency: Delay::constant(SimDuration::from_millis(ms)),
        }
    }

    #[test]
    fn routes_take_the_lowest_latency_path_in_both_directions() {
        // 0 -5ms- 1 -5ms- 2, and a slow direct 0 -20ms- 2.
        let mut net = Network::new(3, vec![link("a", 0, 1, 5), link("b", 1, 2, 5), link("c", 0, 2, 20)], 1, &[]);
        let r = net.route(ComponentId(0), ComponentId(2)).unwrap();
        assert_eq!(r.links, vec![LinkId(0), LinkId(1)]);
        assert_eq!(net.sample(&r), SimDuration::from_millis(10));
        let back = net.route(ComponentId(2), ComponentId(0)).unwrap();
        assert_eq!(back.links, vec![LinkId(1), LinkId(0)]);
    }

    #[test]
    fn routes_never_pass_through_an_endpoint() {
        // 1 and 2 are both 1 ms from the users' node 0, and 20 ms from each other.
        let net =
            Network::new(3, vec![link("a", 0, 1, 1), link("b", 0, 2, 1), link("c", 1, 2, 20)], 1, &[ComponentId(0)]);
        assert_eq!(net.route(ComponentId(1), ComponentId(2)).unwrap().links, vec![LinkId(2)]);
        assert_eq!(net.route(ComponentId(0), ComponentId(2)).unwrap().links, vec![LinkId(1)]);
    }

    #[test]
    fn unconnected_components_have_no_route() {
        let net = Network::new(3, vec![link("a", 0, 1, 1)], 1, &[]);
        assert!(net.route(ComponentId(0), ComponentId(2)).is_none());
        assert!(net.route(ComponentId(1), ComponentId(1)).unwrap().links.is_empty());
    }
}
