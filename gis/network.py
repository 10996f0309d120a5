"""The walking network: street lines to a graph, and points and estates onto it.

Distance semantics (every length in metres, in the metric analysis CRS):

* The graph is undirected; an edge joins two consecutive vertices of a street line and
  weighs its straight length. Edges longer than ``settings.max_edge_m`` (20 m) are split
  into equal pieces through nodes of their own, so that a point beside a long straight
  road joins it where it stands (these nodes never join another street). Lines meet only where they share a vertex (within
  ``settings.vertex_snap_m``), so a bridge or tunnel that crosses another street without
  a shared vertex stays unconnected unless ``node_crossings=True``.
* A service point attaches to its nearest graph node at the straight-line length of
  that hop (`snap_points`).
* An estate's access points (`estate_access`) are its gates when a gates layer is given
  (each gate hops to its nearest node); otherwise every node inside the estate or within
  ``access_radius_m`` of its boundary, at the cost of its distance to the polygon (0
  inside); or, if there is none, the single node nearest the polygon at that distance.
* Piece nodes are numbered but made only when asked for (`WalkGraph.node_xy`,
  `WalkGraph.csr`): snapping and access work them out from the street edges, and
  searches run on `search_graph`, the street graph plus just the piece nodes in use,
  where every distance between those nodes is that of the full graph.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import CRS
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from gis import settings
from gis.errors import NetworkError

__all__ = [
    "Access",
    "WalkGraph",
    "build_walk_graph",
    "estate_access",
    "reachable_nodes",
    "search_graph",
    "snap_points",
    "thin_access",
    "with_sources",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalkGraph:
    """An undirected walking graph, its long edges split into pieces of their own.

    Stored compactly: the street nodes (one per merged street vertex), the street edges
    between them, and the rule ``max_edge_m``. A street edge longer than that is split into
    ``k = ceil(length / max_edge_m)`` equal pieces through ``k - 1`` *piece nodes* of its
    own, numbered after the street nodes, edge by edge in edge order, from ``edge_u``
    towards ``edge_v``. At city scale nine nodes in ten are piece nodes, so they are made
    only when asked for (`node_xy`, `csr`); snapping, access and searches work out the
    piece nodes they need from the street edges.

    Attributes
    ----------
    street_xy : ndarray of shape (n_street, 2)
        Street node coordinates in ``crs`` (metres).
    edge_u, edge_v : ndarray of int
        Street edges, ``edge_u < edge_v``, one per node pair.
    edge_m : ndarray of float
        Street edge lengths in metres (the shortest of parallel lines).
    crs : pyproj.CRS
        The metric CRS of the coordinates.
    max_edge_m : float
        Split rule (0: no piece nodes).
    """

    street_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_m: np.ndarray
    crs: CRS
    max_edge_m: float = 0.0

    @cached_property
    def pieces(self) -> np.ndarray:
        """Pieces of each street edge (1 where it is not split)."""
        if not self.max_edge_m or self.max_edge_m <= 0:
            return np.ones(len(self.edge_m), dtype=np.int64)
        return np.maximum(np.ceil(self.edge_m / self.max_edge_m - 1e-9).astype(np.int64), 1)

    @cached_property
    def _long(self) -> tuple[np.ndarray, np.ndarray]:
        """Split street edges and the node number of each one's first piece node."""
        long = np.flatnonzero(self.pieces > 1)
        extra = self.pieces[long] - 1
        first = self.n_street + np.cumsum(extra) - extra
        return long, first

    @property
    def n_street(self) -> int:
        """Number of street nodes."""
        return int(self.street_xy.shape[0])

    @cached_property
    def n_nodes(self) -> int:
        """Number of nodes, piece nodes included."""
        return self.n_street + int((self.pieces - 1).sum())

    @property
    def n_edges(self) -> int:
        """Number of undirected edges, pieces counted."""
        return int(self.pieces.sum())

    @cached_property
    def _street_components(self) -> tuple[int, np.ndarray]:
        return connected_components(
            _symmetric(self.edge_u, self.edge_v, self.edge_m, self.n_street), directed=False
        )

    @property
    def street_component(self) -> np.ndarray:
        """Connected-component label of each street node."""
        return self._street_components[1]

    @property
    def n_components(self) -> int:
        """Number of connected components (piece nodes never start one of their own)."""
        return int(self._street_components[0]) if self.n_street else 0

    @cached_property
    def _materialised(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return _split_long_edges(self.edge_u, self.edge_v, self.edge_m, self.street_xy,
                                 self.pieces)

    @property
    def node_xy(self) -> np.ndarray:
        """Coordinates of every node, piece nodes included (made on first use)."""
        return self._materialised[3]

    @cached_property
    def csr(self) -> sp.csr_matrix:
        """``n × n`` symmetric matrix of edge lengths in metres, pieces included (made on
        first use)."""
        u, v, w, xy = self._materialised
        return _symmetric(u, v, w, len(xy))

    @property
    def component(self) -> np.ndarray:
        """Connected-component label of every node, piece nodes included."""
        long, _ = self._long
        extra = self.pieces[long] - 1
        comp = self.street_component
        return np.concatenate([comp, np.repeat(comp[self.edge_u[long]], extra)])

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Undirected edges as ``(u, v, length_m)`` arrays with ``u < v``, pieces included."""
        u, v, w, _ = self._materialised
        return np.minimum(u, v), np.maximum(u, v), w

    @cached_property
    def kdtree(self) -> cKDTree:
        """KD-tree of the street nodes, built once and shared by every snapping call."""
        # Sliding-midpoint, uncompacted: builds ~3x faster on millions of nodes than the
        # default median split, for queries a few percent slower.
        return cKDTree(self.street_xy, balanced_tree=False, compact_nodes=False)

    @cached_property
    def _piece_index(self) -> list[tuple[float, np.ndarray, cKDTree]]:
        """The split edges' midpoints in KD-trees, one per length class (half-lengths up
        to 2**c metres), so a query can widen its radius by the class's half-length."""
        long, _ = self._long
        mid = (self.street_xy[self.edge_u[long]] + self.street_xy[self.edge_v[long]]) / 2
        # Straight length, plus the 1 cm a merged vertex may have moved.
        half = self.edge_m[long] / 2 + 0.02
        cls = np.ceil(np.log2(np.maximum(half, 1.0))).astype(np.int64)
        index = []
        for c in np.unique(cls):
            members = np.flatnonzero(cls == c)
            index.append((float(2.0**c), members,
                          cKDTree(mid[members], balanced_tree=False, compact_nodes=False)))
        return index

    def _edges_near(self, centre: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query, split edge) pairs where the edge may come within ``reach`` of ``centre``
        (a superset: every edge that does is in it). Edges as positions in ``_long[0]``."""
        qs, ws = [], []
        for half, members, tree in self._piece_index:
            hits = tree.query_ball_point(centre, reach + half, return_sorted=False)
            counts = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
            flat = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64,
                               count=int(counts.sum()))
            qs.append(np.repeat(np.arange(len(centre)), counts))
            ws.append(members[flat])
        if not qs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(qs), np.concatenate(ws)

    def piece_nodes(self, which: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Node number and coordinates of piece node ``j`` (1 … k-1) of split edge
        ``which`` (position in ``_long[0]``)."""
        long, first = self._long
        e = long[which]
        frac = (j / self.pieces[e])[:, None]
        a = self.street_xy[self.edge_u[e]]
        return first[which] + j - 1, a + frac * (self.street_xy[self.edge_v[e]] - a)

    def piece_of(self, node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The inverse of `piece_nodes` for piece nodes (``node >= n_street``): the split
        edge (position in ``_long[0]``) and piece ``j`` (1 … k-1) of each."""
        _, first = self._long
        which = np.searchsorted(first, node, side="right") - 1
        return which, node - first[which] + 1


@dataclass(frozen=True)
class Access:
    """Where each estate joins the network.

    Attributes
    ----------
    estate : ndarray of int
        Row position of the estate, one entry per access point.
    node : ndarray of int
        Graph node of the access point.
    cost_m : ndarray of float
        Metres from the estate to that node (0 for a node inside the estate).
    n_estates : int
        Number of estates (every one has at least one access point).
    """

    estate: np.ndarray
    node: np.ndarray
    cost_m: np.ndarray
    n_estates: int


def build_walk_graph(
    streets: gpd.GeoDataFrame,
    *,
    node_crossings: bool = False,
    vertex_snap_m: float | None = None,
    max_edge_m: float | None = None,
) -> WalkGraph:
    """Build the walking graph from street centre-lines.

    This function is vectorised: all lines are processed in one pass.

    Parameters
    ----------
    streets : GeoDataFrame
        LineStrings in a metric CRS (see `gis.crs.to_metric`).
    node_crossings : bool, default False
        Also join lines where they cross without a shared vertex (at-grade
        junctions digitised without a vertex). Leave off where bridges and tunnels exist.
    vertex_snap_m : float, optional
        Vertices closer than this share a node, in metres. Default:
        ``settings.vertex_snap_m`` (0.01 m).
    max_edge_m : float, optional
        Split lines so no edge is longer, in metres; 0 keeps the drawn vertices. Default:
        ``settings.max_edge_m`` (20 m).

    Returns
    -------
    WalkGraph

    Raises
    ------
    NetworkError
        If no line has a non-zero length.
    """
    if vertex_snap_m is None:
        vertex_snap_m = settings.vertex_snap_m
    if max_edge_m is None:
        max_edge_m = settings.max_edge_m
    lines = np.asarray(streets.geometry.values)
    if shapely.has_z(lines).any():
        lines = shapely.force_2d(lines)
    lines = lines[~shapely.is_empty(lines) & shapely.is_valid_input(lines)]
    if node_crossings and len(lines):
        lines = np.asarray(shapely.get_parts(shapely.node(shapely.multilinestrings(lines))))
    coords, line_idx = shapely.get_coordinates(lines, return_index=True)
    if len(coords) < 2:
        msg = "The street layer has no line with two or more vertices; check the streets file."
        raise NetworkError(msg)
    node_of_vertex, node_xy = merge_vertices(coords, vertex_snap_m)
    same_line = line_idx[1:] == line_idx[:-1]
    u = node_of_vertex[:-1][same_line]
    v = node_of_vertex[1:][same_line]
    length = np.hypot(*(coords[1:][same_line] - coords[:-1][same_line]).T)
    keep = u != v
    u, v, length = u[keep], v[keep], length[keep]
    if len(u) == 0:
        msg = "The street layer has no segment of non-zero length; check the streets file."
        raise NetworkError(msg)
    u, v, length = _undirected_min(u, v, length)
    graph = WalkGraph(street_xy=node_xy, edge_u=u, edge_v=v, edge_m=length,
                      crs=CRS(streets.crs), max_edge_m=float(max_edge_m or 0.0))
    logger.info(
        "Built walking graph: %s nodes, %s edges, %s components%s",
        f"{graph.n_nodes:,}", f"{graph.n_edges:,}", f"{graph.n_components:,}",
        " (crossings noded)" if node_crossings else "",
    )
    return graph


def merge_vertices(coords: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Give vertices within ``tolerance_m`` of each other (chains included) one node.

    Returns the node of every vertex and each node's coordinates. Nodes are numbered in
    coordinate order, so the graph does not depend on the order of the street rows.
    """
    # Identical coordinates first (the bulk), then close pairs joined transitively, so
    # reprojection noise of a few millimetres can never split a junction.
    unique, inverse = _unique_rows(coords)
    pairs = cKDTree(unique).query_pairs(tolerance_m, output_type="ndarray")
    if not len(pairs):
        return inverse, unique
    n = len(unique)
    adj = sp.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    first = np.full(label.max() + 1, n)
    np.minimum.at(first, label, np.arange(n))  # each cluster's lowest coordinate
    rep = first[label]
    is_rep = rep == np.arange(n)
    rank = np.cumsum(is_rep) - 1  # nodes in coordinate order, one per cluster
    return rank[rep][inverse], unique[is_rep]


def _unique_rows(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(xy, axis=0, return_inverse=True)``, many times faster on millions of
    vertices: the same rows in the same (lexicographic) order."""
    xy = np.ascontiguousarray(xy, dtype=np.float64)
    # Complex numbers sort by real then imaginary part: one sort, not two.
    order = np.argsort(xy.view(np.complex128).ravel())
    ordered = xy[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    inverse = np.empty(len(xy), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _undirected_min(
    u: np.ndarray, v: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One edge per node pair (the shortest), stored with ``u < v``."""
    a, b = np.minimum(u, v), np.maximum(u, v)
    n = int(b.max(initial=0)) + 1
    # Pair key (exact in float64 below 2**53, i.e. up to ~94M nodes) + length as one
    # complex number: a single sort orders by pair, then shortest first.
    if n < 2**26:
        order = np.argsort((a.astype(np.float64) * n + b) + 1j * w)
    else:
        order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], w[first]


def _split_long_edges(
    u: np.ndarray, v: np.ndarray, w: np.ndarray, node_xy: np.ndarray, k: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split each edge into its ``k`` equal pieces through new nodes (`WalkGraph` numbering).

    The new nodes belong to their edge alone: they never join another street, even where
    one crosses at exactly that spot, so bridges and tunnels stay unconnected.
    """
    long = k > 1
    if not long.any():
        return u, v, w, node_xy
    kl, ul, vl, wl = k[long], u[long], v[long], w[long]
    n = len(node_xy)
    extra = kl - 1
    offset = np.cumsum(extra) - extra  # first new node of each long edge
    # New nodes: the t-th of an edge sits at t/k of the way from u to v. (np.repeat over
    # per-edge values rather than fancy indexing: this runs over millions of nodes.)
    t = np.arange(1, extra.sum() + 1) - np.repeat(offset, extra)
    frac = (t / np.repeat(kl, extra))[:, None]
    start = node_xy[ul]
    new_xy = np.repeat(start, extra, axis=0) + frac * np.repeat(node_xy[vl] - start, extra, axis=0)
    # Pieces: u -> new_1 -> … -> new_{k-1} -> v; piece p of an edge joins its new nodes
    # p-1 and p, numbered from n + offset.
    p = np.arange(kl.sum()) - np.repeat(offset + np.arange(len(kl)), kl)
    base = np.repeat(n + offset, kl) + p
    src = base - 1
    src[p == 0] = ul
    dst = base
    dst[np.cumsum(kl) - 1] = vl
    return (
        np.concatenate([u[~long], src]),
        np.concatenate([v[~long], dst]),
        np.concatenate([w[~long], np.repeat(wl / kl, kl)]),
        np.vstack([node_xy, new_xy]),
    )


def _symmetric(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """Both directions of each edge. The pairs are already unique (`_undirected_min`, and
    split pieces run through private nodes), so scipy has no duplicates to sum."""
    return sp.csr_matrix(
        (np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n)
    )


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
    """
    n = graph.n_street
    node, est, cost = access.node, access.estate, access.cost_m
    piece = np.flatnonzero(node >= n)
    if not len(piece):
        return access
    x = node[piece]
    which, j = graph.piece_of(x)
    e = graph._long[0][which]
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
    e = graph._long[0][which]  # non-decreasing, j increasing along each edge: virt is sorted
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
    long, _ = graph._long
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


def snap_points(graph: WalkGraph, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Attach points to their nearest graph node.

    This function is vectorised: pass all points in one call.

    Parameters
    ----------
    graph : WalkGraph
    xy : ndarray of shape (m, 2)
        Point coordinates in the graph's CRS (metres).

    Returns
    -------
    (ndarray of int, ndarray of float)
        Nearest node of each point, and the straight-line hop in metres.
    """
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    xy = np.asarray(xy, dtype=float)
    dist, node = graph.kdtree.query(xy)
    node = node.astype(np.int64)
    if not len(graph._long[0]):
        return node, dist
    # A piece node can only beat the nearest street node on an edge nearer than it; on
    # each such edge the nearest piece node is the one nearest the foot of the perpendicular.
    pi, which = graph._edges_near(xy, dist)
    if len(pi):
        long, _ = graph._long
        e = long[which]
        a = graph.street_xy[graph.edge_u[e]]
        d = graph.street_xy[graph.edge_v[e]] - a
        k = graph.pieces[e]
        t = ((xy[pi] - a) * d).sum(axis=1) / (d * d).sum(axis=1)
        j = np.clip(np.rint(t * k), 1, k - 1).astype(np.int64)
        pnode, pxy = graph.piece_nodes(which, j)
        pd = np.hypot(*(xy[pi] - pxy).T)
        order = np.lexsort((pnode, pd, pi))  # per point: nearest, then lowest node
        first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
        better = pd[first] < dist[pi[first]]
        node[pi[first][better]] = pnode[first][better]
        dist[pi[first][better]] = pd[first][better]
    return node, dist


def estate_access(
    graph: WalkGraph,
    estates: gpd.GeoDataFrame,
    *,
    gates: gpd.GeoDataFrame | None = None,
    access_radius_m: float | None = None,
) -> Access:
    """Find where each estate joins the walking network.

    This function is vectorised over all estates.

    Parameters
    ----------
    graph : WalkGraph
    estates : GeoDataFrame
        Polygons in the graph's CRS with an ``estate_id`` column.
    gates : GeoDataFrame, optional
        Gate points with ``estate_id``; estates that have gates use only their gates.
        Estates without a gate fall back to the polygon rule.
    access_radius_m : float, optional
        Nodes within this many metres of the boundary count. Default:
        ``settings.access_radius_m`` (30 m).

    Returns
    -------
    Access
        Every estate has at least one access point.
    """
    if access_radius_m is None:
        access_radius_m = settings.access_radius_m
    polys = np.asarray(estates.geometry.values)
    n = len(polys)
    if n == 0:
        none = np.zeros(0, dtype=np.int64)
        return Access(estate=none, node=none, cost_m=np.zeros(0), n_estates=0)
    est_parts: list[np.ndarray] = []
    node_parts: list[np.ndarray] = []
    cost_parts: list[np.ndarray] = []
    by_polygon = np.ones(n, dtype=bool)
    if gates is not None and len(gates):
        pos = {eid: i for i, eid in enumerate(estates["estate_id"])}
        gate_est = gates["estate_id"].map(pos)
        known = gate_est.notna().to_numpy()
        gate_est = gate_est[known].to_numpy(dtype=np.int64)
        gxy = shapely.get_coordinates(np.asarray(gates.geometry.values)[known])
        gnode, ghop = snap_points(graph, gxy)
        # The walk from the estate to its gate is never skipped (0 for a gate on the boundary).
        ghop = ghop + shapely.distance(polys[gate_est], shapely.points(gxy))
        est_parts.append(gate_est)
        node_parts.append(gnode)
        cost_parts.append(ghop)
        by_polygon[gate_est] = False
    todo = np.flatnonzero(by_polygon)
    if len(todo):
        pi, ni, d = _nodes_near(graph, polys[todo], access_radius_m)
        est_parts.append(todo[pi])
        node_parts.append(ni)
        cost_parts.append(d)
        has = np.zeros(len(todo), dtype=bool)
        has[pi] = True
        lonely = np.flatnonzero(~has)
        if len(lonely):
            lni, ld = _nearest_node(graph, polys[todo][lonely])
            est_parts.append(todo[lonely])
            node_parts.append(lni)
            cost_parts.append(ld)
            logger.info(
                "%d estates have no street node within %.0f m; using the nearest node "
                "(max %.0f m away)", len(lonely), access_radius_m, float(ld.max()),
            )
    access = Access(
        estate=np.concatenate(est_parts).astype(np.int64),
        node=np.concatenate(node_parts).astype(np.int64),
        cost_m=np.concatenate(cost_parts).astype(float),
        n_estates=n,
    )
    logger.info("Linked %d estates to the network at %d access points", n, len(access.node))
    return access


def _nodes_near(
    graph: WalkGraph, polys: np.ndarray, radius_m: float, chunk: int = 2000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (polygon, node) pair within ``radius_m``, with the distance (0 inside).

    Street nodes come from the shared KD-tree (those within reach of each polygon's
    bounding circle), piece nodes from the split edges within ``radius_m``; only these
    candidates become shapely points: a city graph has millions of nodes, and making every
    one a geometry cost more than all the searches.
    """
    bounds = shapely.bounds(polys)
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2
    # Any point within radius_m of the polygon is within half the bbox diagonal plus
    # radius_m of the bbox centre; the small margin absorbs rounding.
    reach = np.hypot(*(bounds[:, 2:] - bounds[:, :2]).T) / 2 + radius_m + 1e-6
    pi_parts, ni_parts, xy_parts = [], [], []
    for lo in range(0, len(polys), chunk):
        hits = graph.kdtree.query_ball_point(
            centre[lo:lo + chunk], reach[lo:lo + chunk], return_sorted=False
        )
        counts = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
        ni = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64,
                         count=int(counts.sum()))
        pi_parts.append(np.repeat(np.arange(lo, lo + len(hits)), counts))
        ni_parts.append(ni)
        xy_parts.append(graph.street_xy[ni])
    pi, ni, xy = _piece_candidates(graph, polys, bounds, np.full(len(polys), radius_m))
    pi = np.concatenate([*pi_parts, pi])
    ni = np.concatenate([*ni_parts, ni])
    xy = np.concatenate([*xy_parts, xy])
    # The circle holds about twice the nodes of the widened box; drop the corners
    # before any geometry is made.
    box = bounds[pi]
    near = ((xy >= box[:, :2] - radius_m) & (xy <= box[:, 2:] + radius_m)).all(axis=1)
    pi, ni, xy = pi[near], ni[near], xy[near]
    d = shapely.distance(polys[pi], shapely.points(xy))
    ok = d <= radius_m
    return pi[ok], ni[ok], d[ok]


def _piece_candidates(
    graph: WalkGraph, polys: np.ndarray, bounds: np.ndarray, radius_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Piece nodes that may lie within ``radius_m[i]`` of polygon ``i``: on split edges
    that near, those whose position falls across the polygon's widened bounding box.

    Returns polygon positions, node numbers and node coordinates.
    """
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 2)))
    if not len(graph._long[0]) or not len(polys):
        return empty
    # A node within reach of the polygon is within the bbox's half-diagonal plus the
    # reach of the bbox centre: edges that may come that close, then only those whose
    # own box meets the widened bbox.
    r = radius_m[:, None] + 1e-6
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2
    pi, which = graph._edges_near(centre, np.hypot(*(bounds[:, 2:] - centre).T) + r[:, 0])
    long, _ = graph._long
    e = long[which]
    a = graph.street_xy[graph.edge_u[e]]
    b = graph.street_xy[graph.edge_v[e]]
    lo, hi = bounds[pi, :2] - r[pi], bounds[pi, 2:] + r[pi]
    meets = ((np.minimum(a, b) <= hi) & (np.maximum(a, b) >= lo)).all(axis=1)
    pi, which, e, a, b, lo, hi = (x[meets] for x in (pi, which, e, a, b, lo, hi))
    if not len(pi):
        return empty
    d = b - a
    k = graph.pieces[e]
    # The widened box's corners, projected on the edge, bound where a near node can sit.
    corners = np.stack([lo, hi, np.c_[lo[:, 0], hi[:, 1]], np.c_[hi[:, 0], lo[:, 1]]], axis=1)
    t = ((corners - a[:, None, :]) * d[:, None, :]).sum(axis=2) / (d * d).sum(axis=1)[:, None]
    j_lo = np.maximum(np.ceil(t.min(axis=1) * k), 1).astype(np.int64)
    j_hi = np.minimum(np.floor(t.max(axis=1) * k), k - 1).astype(np.int64)
    count = np.maximum(j_hi - j_lo + 1, 0)
    rep = np.repeat(np.arange(len(pi)), count)
    j = j_lo[rep] + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    node, xy = graph.piece_nodes(which[rep], j)
    return pi[rep], node, xy


def _nearest_node(graph: WalkGraph, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The node nearest to each polygon (lowest node number on a tie), and its distance."""
    bounds = shapely.bounds(polys)
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2
    half_diag = np.hypot(*(bounds[:, 2:] - bounds[:, :2]).T) / 2
    _, first = graph.kdtree.query(centre)
    # The street node nearest the centre is `bound` from the polygon; the nearest node to
    # the polygon is no farther, so it lies within bound + half the diagonal of the centre.
    bound = shapely.distance(polys, shapely.points(graph.street_xy[first]))
    pi_parts, ni_parts, xy_parts = [], [], []
    for i, hits in enumerate(graph.kdtree.query_ball_point(centre, bound + half_diag + 1e-6)):
        pi_parts.append(np.full(len(hits), i, dtype=np.int64))
        ni_parts.append(np.asarray(hits, dtype=np.int64))
        xy_parts.append(graph.street_xy[ni_parts[-1]])
    pi, ni, xy = _piece_candidates(graph, polys, bounds, bound)
    pi = np.concatenate([*pi_parts, pi])
    ni = np.concatenate([*ni_parts, ni])
    d = shapely.distance(polys[pi], shapely.points(np.concatenate([*xy_parts, xy])))
    order = np.lexsort((ni, d, pi))
    first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
    node = np.empty(len(polys), dtype=np.int64)
    dist = np.empty(len(polys))
    node[pi[first]] = ni[first]
    dist[pi[first]] = d[first]
    return node, dist
