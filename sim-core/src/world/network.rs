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

/// The link by which a node's route reaches it (its predecessor is the link's other end).
type Hop = u32;
/// The hop of a node no route reaches (or of the source itself).
const NO_HOP: Hop = u32::MAX;

/// Every route from one source: the link by which each node is reached (`Network::tree`).
#[derive(Clone, Debug)]
pub struct RouteTree {
    from: usize,
    via: Box<[Hop]>,
}

impl RouteTree {
    /// The source's index.
    pub fn from(&self) -> usize {
        self.from
    }
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
        let via = self.search(from.index(), Some(to.index()));
        self.walk(&via, from.index(), to.index())
    }

    /// Every lowest-mean-latency route from `from` at once: one search, the same rules and
    /// ties as `route` (the search stops early only once `to` is settled, and a settled
    /// node's predecessor never changes), for a sender that talks to many destinations.
    pub fn tree(&self, from: ComponentId) -> RouteTree {
        RouteTree { from: from.index(), via: self.search(from.index(), None) }
    }

    /// The route to `to` in `tree`, if connected.
    pub fn route_in(&self, tree: &RouteTree, to: ComponentId) -> Option<Route> {
        self.walk(&tree.via, tree.from, to.index())
    }

    /// Dijkstra from `src` by mean latency (+1 a hop, so that among zero-latency routes
    /// the shortest wins; ties to the lower-numbered predecessor), never through an
    /// endpoint, until `stop` is settled or every node is: each node's predecessor and the
    /// link from it.
    fn search(&self, src: usize, stop: Option<usize>) -> Box<[Hop]> {
        let n = self.graph.node_count();
        let mut dist = vec![u64::MAX; n];
        let mut via = vec![NO_HOP; n].into_boxed_slice();
        let mut heap = BinaryHeap::new();
        dist[src] = 0;
        heap.push(Reverse((0u64, src)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            if Some(u) == stop {
                break;
            }
            if u != src && self.endpoint[u] {
                continue;
            }
            for e in self.graph.edges(NodeIndex::new(u)) {
                let link = *e.weight();
                let v = if e.source().index() == u { e.target() } else { e.source() }.index();
                let nd = d + self.links[link.index()].latency.mean().as_nanos() + 1;
                let better = nd < dist[v] || (nd == dist[v] && via[v] != NO_HOP && u < self.other_end(via[v], v));
                if better {
                    dist[v] = nd;
                    via[v] = link.0;
                    heap.push(Reverse((nd, v)));
                }
            }
        }
        via
    }

    /// The end of `link` that is not `node`.
    fn other_end(&self, link: Hop, node: usize) -> usize {
        let l = &self.links[link as usize];
        if l.a.index() == node { l.b.index() } else { l.a.index() }
    }

    /// The route to `dst` that `via` (from a search from `src`) records, if it reached it.
    fn walk(&self, via: &[Hop], src: usize, dst: usize) -> Option<Route> {
        if dst != src && via[dst] == NO_HOP {
            return None;
        }
        let mut links = Vec::new();
        let mut at = dst;
        while at != src {
            let link = via[at];
            links.push(LinkId(link));
            at = self.other_end(link, at);
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

    proptest::proptest! {
        /// One search from a source gives, for every destination, exactly the route that
        /// a search for that destination alone gives: same links, same ties.
        #[test]
        fn a_tree_holds_each_destinations_own_route(
            edges in proptest::collection::vec((0u32..8, 0u32..8, 0u64..3), 1..20),
            endpoint in proptest::option::of(0u32..8),
        ) {
            let links: Vec<LinkSpec> = edges
                .iter()
                .enumerate()
                .filter(|(_, (a, b, _))| a != b)
                .map(|(i, &(a, b, ms))| link(&format!("l{i}"), a, b, ms))
                .collect();
            let ends: Vec<ComponentId> = endpoint.map(ComponentId).into_iter().collect();
            let net = Network::new(8, links, 1, &ends);
            for from in 0..8 {
                let tree = net.tree(ComponentId(from));
                for to in 0..8 {
                    let alone = net.route(ComponentId(from), ComponentId(to)).map(|r| r.links);
                    let in_tree = net.route_in(&tree, ComponentId(to)).map(|r| r.links);
                    proptest::prop_assert_eq!(alone, in_tree, "from {} to {}", from, to);
                }
            }
        }
    }

    #[test]
    fn unconnected_components_have_no_route() {
        let net = Network::new(3, vec![link("a", 0, 1, 1)], 1, &[]);
        assert!(net.route(ComponentId(0), ComponentId(2)).is_none());
        assert!(net.route(ComponentId(1), ComponentId(1)).unwrap().links.is_empty());
    }
}
