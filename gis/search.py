"""Searching the walking graph: the graph to search (`search_graph`, `thin_access`),
virtual sources (`with_sources`) and bounded reach (`reachable_nodes`).
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from gis.access import Access
from gis.network import WalkGraph

__all__ = ["reachable_nodes", "search_graph", "thin_access", "with_sources"]

logger = logging.getLogger(__name__)


def thin_access(graph: WalkGraph, access: Access, keep: np.ndarray) -> Access:
    """Drop access points that can never give an estate its shortest route.

    A piece node ``x`` has two neighbours along its street edge, one piece (``w`` metres
    of graph) away, and every route from it passes one of them. If both are access points
    of the same estate, each at most ``cost(x) + w`` from the estate, no route starts
    better at ``x``: runs of access pieces along a street keep only their ends (for the
    polygon rule this always holds, the distance to a polygon changing no faster than
    one walks; for gates it is checked). Nodes in ``keep`` (service nodes: a route may end
    there) always stay. Network distances from every estate are unchanged.

    Parameters
    ----------
    graph : WalkGraph
    access : Access
    keep : ndarray of int
        Nodes that stay access points wherever they are.

    Returns
    -------
    Access

    Examples
    --------
    >>> import shapely
    >>> from gis.access import estate_access, snap_points
    >>> from gis.network import build_walk_graph
    >>> from gis.synthetic import random_town
    >>> streets, estates, services = random_town(1)
    >>> graph = build_walk_graph(streets)
    >>> node, _ = snap_points(graph, shapely.get_coordinates(services.geometry.values))
    >>> access = estate_access(graph, estates)
    >>> len(access.node), len(thin_access(graph, access, node).node)
    (219, 99)
    """
    n = graph.n_street
    node, est, cost = access.node, access.estate, access.cost_m
    piece = np.flatnonzero(node >= n)
    if not len(piece):
        return access
    x = node[piece]
    which, j = graph.piece_of(x)
    e = graph.long_edges[0][which]
    k = graph.pieces[e]
    step = graph.edge_m[e] / k
    before = np.where(j == 1, graph.edge_u[e], x - 1)
    after = np.where(j == k - 1, graph.edge_v[e], x + 1)
    size = np.int64(graph.n_nodes)
    key = est.astype(np.int64) * size + node
    order = np.argsort(key)
    key_sorted = key[order]
    group = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
    # Two gates may share a node: the cheaper one counts.
    cost_sorted = np.minimum.reduceat(cost[order], group) if len(group) else cost
    key_sorted = key_sorted[group]

    def no_dearer(other: np.ndarray) -> np.ndarray:
        """``other`` is an access point of the same estate costing at most cost + step."""
        probe = est[piece].astype(np.int64) * size + other
        at = np.minimum(np.searchsorted(key_sorted, probe), len(key_sorted) - 1)
        return (key_sorted[at] == probe) & (cost_sorted[at] <= cost[piece] + step)

    drop = no_dearer(before) & no_dearer(after)
    keep_sorted = np.sort(np.asarray(keep, dtype=np.int64))
    if len(keep_sorted):
        at = np.minimum(np.searchsorted(keep_sorted, x), len(keep_sorted) - 1)
        drop &= keep_sorted[at] != x
    stay = np.ones(len(node), dtype=bool)
    stay[piece[drop]] = False
    return Access(estate=est[stay], node=node[stay], cost_m=cost[stay],
                  n_estates=access.n_estates)


def search_graph(graph: WalkGraph, keep: np.ndarray) -> tuple[WalkGraph, np.ndarray]:
    """The street graph plus just the piece nodes in ``keep``, every distance exact.

    A split street edge with kept piece nodes becomes the path through them (pieces
    between consecutive kept nodes joined into one edge); every other street edge stays
    whole. Distances between street nodes and kept nodes are those of the full graph, on
    a graph about the size of the street layer instead of ten times it.

    This function is vectorised.

    Parameters
    ----------
    graph : WalkGraph
    keep : ndarray of int
        Nodes of ``graph`` (street or piece nodes) the search must reach.

    Returns
    -------
    (WalkGraph, ndarray of int)
        The search graph (no piece nodes of its own), and each ``keep`` entry's node in it.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> from gis.access import snap_points
    >>> from gis.network import build_walk_graph
    >>> from gis.synthetic import random_town
    >>> streets, estates, services = random_town(1)
    >>> graph = build_walk_graph(streets)
    >>> node, _ = snap_points(graph, shapely.get_coordinates(services.geometry.values))
    >>> small, kept = search_graph(graph, node)
    >>> graph.n_nodes, small.n_nodes
    (745, 142)

    Distances between the kept nodes are those of the full graph:

    >>> from scipy.sparse.csgraph import dijkstra
    >>> full = dijkstra(graph.csr, indices=node[:1])[0, node]
    >>> bool(np.allclose(dijkstra(small.csr, indices=kept[:1])[0, kept], full))
    True
    """
    keep = np.asarray(keep, dtype=np.int64)
    n = graph.n_street
    virt = np.sort(keep[keep >= n])
    virt = virt[np.r_[True, virt[1:] != virt[:-1]]] if len(virt) else virt
    if not len(virt):
        return WalkGraph(street_xy=graph.street_xy, edge_u=graph.edge_u, edge_v=graph.edge_v,
                         edge_m=graph.edge_m, crs=graph.crs), keep
    new_keep = keep.copy()
    new_keep[keep >= n] = n + np.searchsorted(virt, keep[keep >= n])
    which, j = graph.piece_of(virt)
    e = graph.long_edges[0][which]  # non-decreasing, j increasing along each edge: virt is sorted
    _, xy = graph.piece_nodes(which, j)
    ids = n + np.arange(len(virt))
    step = graph.edge_m[e] / graph.pieces[e]
    head = np.r_[True, e[1:] != e[:-1]]
    tail = np.r_[e[1:] != e[:-1], True]
    whole = np.ones(len(graph.edge_m), dtype=bool)
    whole[e] = False
    u = np.concatenate([graph.edge_u[whole], graph.edge_u[e[head]], ids[:-1][~head[1:]],
                        graph.edge_v[e[tail]]])
    v = np.concatenate([graph.edge_v[whole], ids[head], ids[1:][~head[1:]], ids[tail]])
    w = np.concatenate([graph.edge_m[whole], j[head] * step[head],
                        (j[1:] - j[:-1])[~head[1:]] * step[1:][~head[1:]],
                        (graph.pieces[e[tail]] - j[tail]) * step[tail]])
    small = WalkGraph(street_xy=np.vstack([graph.street_xy, xy]), edge_u=u, edge_v=v,
                      edge_m=w, crs=graph.crs)
    return small, new_keep


def with_sources(
    graph: WalkGraph, groups: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[sp.csr_matrix, list[int], list[np.ndarray]]:
    """The graph's matrix plus one virtual source per distinct source node of each group.

    Each virtual source has a single out-edge carrying that node's smallest hop (the
    earlier row on a tie) and no in-edge, so a search from one group's sources never
    passes through another's. Built once for all groups: copying a city-sized graph per
    group costs more than searching it.

    Parameters
    ----------
    graph : WalkGraph
    groups : list of (ndarray of int, ndarray of float)
        Per group, the source nodes and their hops in metres.

    Returns
    -------
    (scipy.sparse.csr_matrix, list of int, list of ndarray of int)
        The directed matrix; per group, the index of its first virtual source, and which
        entry of its ``node`` each of its virtual sources stands for.

    Examples
    --------
    Two groups of sources (clinics, toilets) on one matrix; a search from a group's
    virtual sources gives each node's distance to the nearest source of that group.

    >>> import numpy as np, shapely
    >>> from scipy.sparse.csgraph import dijkstra
    >>> from gis.access import snap_points
    >>> from gis.network import build_walk_graph
    >>> from gis.synthetic import random_town
    >>> streets, estates, services = random_town(1)
    >>> graph = build_walk_graph(streets)
    >>> node, hop = snap_points(graph, shapely.get_coordinates(services.geometry.values))
    >>> groups = [(node[services["category"] == c], hop[services["category"] == c])
    ...           for c in ("clinic", "toilet")]
    >>> matrix, starts, picks = with_sources(graph, groups)
    >>> matrix.shape, starts, [len(p) for p in picks]
    ((756, 756), [745, 750], [5, 6])
    >>> d = dijkstra(matrix, indices=range(starts[0], starts[1]), min_only=True)[:graph.n_nodes]
    >>> reached = np.isfinite(d)  # the town has islands no clinic reaches
    >>> int(reached.sum()), round(float(d[reached].max()), 1)  # metres to the nearest clinic
    (691, 927.2)
    """
    n = graph.n_nodes
    picks, starts, nodes, hops = [], [], [], []
    offset = n
    for node, hop in groups:
        order = np.lexsort((np.arange(len(node)), hop, node))
        first = np.ones(len(order), dtype=bool)
        first[1:] = node[order][1:] != node[order][:-1]
        pick = order[first]
        picks.append(pick)
        starts.append(offset)
        nodes.append(node[pick])
        hops.append(hop[pick])
        offset += len(pick)
    s = offset - n
    base = graph.csr
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.arange(1, s + 1)])
    indices = np.concatenate([base.indices, *nodes]) if s else base.indices
    data = np.concatenate([base.data, *hops]) if s else base.data
    return sp.csr_matrix((data, indices, indptr), shape=(n + s, n + s)), starts, picks


def reachable_nodes(
    graph: WalkGraph, node: np.ndarray, hop: np.ndarray, limit_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Every node, piece nodes included, within ``limit_m`` of the nearest source.

    One bounded search on `search_graph` from a virtual source joined to each source node
    by its hop; the distance of a piece node is then the shorter way along its street
    edge, from either end or from a source on that edge, so the pieces are never all made.

    Parameters
    ----------
    graph : WalkGraph
    node : ndarray of int
        Source nodes (e.g. facilities snapped with `snap_points`).
    hop : ndarray of float
        Metres from each source to its node.
    limit_m : float
        Largest distance kept, metres.

    Returns
    -------
    (ndarray of shape (m, 2), ndarray of float)
        Coordinates and distances (metres) of the nodes within reach.

    Examples
    --------
    The street points within 300 m walk of a clinic in a synthetic town:

    >>> import shapely
    >>> from gis.access import snap_points
    >>> from gis.network import build_walk_graph
    >>> from gis.synthetic import random_town
    >>> streets, estates, services = random_town(1)
    >>> graph = build_walk_graph(streets)
    >>> clinics = services[services["category"] == "clinic"]
    >>> node, hop = snap_points(graph, shapely.get_coordinates(clinics.geometry.values))
    >>> xy, dist_m = reachable_nodes(graph, node, hop, 300.0)
    >>> len(xy), round(float(dist_m.min()), 1), round(float(dist_m.max()), 1)
    (238, 0.0, 299.4)
    """
    node = np.asarray(node, dtype=np.int64)
    hop = np.asarray(hop, dtype=float)
    if not len(node):
        return np.zeros((0, 2)), np.zeros(0)
    small, kept = search_graph(graph, node)
    aug, starts, picks = with_sources(small, [(kept, hop)])
    dist = dijkstra(aug, directed=True, indices=np.arange(starts[0], starts[0] + len(picks[0])),
                    limit=limit_m, min_only=True)[:small.n_nodes]
    n = graph.n_street
    d_street = dist[:n]
    xy_parts = [graph.street_xy[d_street <= limit_m]]
    d_parts = [d_street[d_street <= limit_m]]
    long, _ = graph.long_edges
    if len(long):
        e = long
        k = graph.pieces[e]
        step = graph.edge_m[e] / k
        du, dv = d_street[graph.edge_u[e]], d_street[graph.edge_v[e]]
        # Sources standing on piece nodes (search_graph numbers them n, n + 1, … in
        # node order): their edge (position in `long`), piece and distance.
        src_ids = np.unique(node[node >= n])
        src_which, src_j = graph.piece_of(src_ids)
        src_d = dist[n:n + len(src_ids)]
        near = np.minimum(du, dv) < limit_m
        near[src_which] = True
        which = np.flatnonzero(near)
        count = k[which] - 1
        rep = np.repeat(which, count)
        offset = np.cumsum(count) - count
        j = np.arange(count.sum()) - np.repeat(offset, count) + 1
        d = np.minimum(du[rep] + j * step[rep], dv[rep] + (k[rep] - j) * step[rep])
        # A source on a piece reaches the other pieces of its edge directly.
        slot = np.full(len(long), -1, dtype=np.int64)
        slot[which] = offset
        n_pieces = k[src_which] - 1
        src = np.repeat(np.arange(len(src_ids)), n_pieces)
        at = np.repeat(slot[src_which], n_pieces) + (
            np.arange(n_pieces.sum()) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces))
        np.minimum.at(d, at, src_d[src] + np.abs(j[at] - src_j[src]) * step[src_which[src]])
        ok = d <= limit_m
        xy_parts.append(graph.piece_nodes(rep[ok], j[ok])[1])
        d_parts.append(d[ok])
    return np.concatenate(xy_parts), np.concatenate(d_parts)
