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
* Searches may run on `contract_chains` of the graph: chains of pass-through nodes
  between the nodes that matter become single edges of the same length, so every
  distance between the remaining nodes is unchanged.
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
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from gis import settings
from gis.errors import NetworkError

__all__ = [
    "Access",
    "WalkGraph",
    "build_walk_graph",
    "contract_chains",
    "estate_access",
    "snap_points",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalkGraph:
    """An undirected walking graph stored for scipy.

    Attributes
    ----------
    csr : scipy.sparse.csr_matrix
        ``n × n`` symmetric matrix; entry ``(i, j)`` is the edge length in metres.
        Parallel edges keep the shortest.
    node_xy : ndarray of shape (n, 2)
        Node coordinates in ``crs`` (metres).
    crs : pyproj.CRS
        The metric CRS of ``node_xy``.
    component : ndarray of shape (n,)
        Connected-component label of each node (largest component first is not implied).
    """

    csr: sp.csr_matrix
    node_xy: np.ndarray
    crs: CRS
    component: np.ndarray

    @cached_property
    def kdtree(self) -> cKDTree:
        """KD-tree of the nodes, built once and shared by every snapping call."""
        # Sliding-midpoint, uncompacted: builds ~3x faster on millions of nodes than the
        # default median split, for queries a few percent slower.
        return cKDTree(self.node_xy, balanced_tree=False, compact_nodes=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.csr.nnz // 2)

    @property
    def n_components(self) -> int:
        """Number of connected components."""
        return int(self.component.max()) + 1 if self.n_nodes else 0

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Undirected edges as ``(u, v, length_m)`` arrays with ``u < v``."""
        coo = self.csr.tocoo()
        keep = coo.row < coo.col
        return coo.row[keep], coo.col[keep], coo.data[keep]


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
    if max_edge_m and max_edge_m > 0:
        u, v, length, node_xy = _split_long_edges(u, v, length, node_xy, max_edge_m)
    csr = _symmetric(u, v, length, len(node_xy))
    _, component = connected_components(csr, directed=False)
    graph = WalkGraph(csr=csr, node_xy=node_xy, crs=CRS(streets.crs), component=component)
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
    reps, node = np.unique(first[label], return_inverse=True)
    return node[inverse], unique[reps]


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
    u: np.ndarray, v: np.ndarray, w: np.ndarray, node_xy: np.ndarray, max_edge_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split edges longer than ``max_edge_m`` into equal pieces through new nodes.

    The new nodes belong to their edge alone: they never join another street, even where
    one crosses at exactly that spot, so bridges and tunnels stay unconnected.
    """
    k = np.maximum(np.ceil(w / max_edge_m - 1e-9).astype(np.int64), 1)
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


def contract_chains(graph: WalkGraph, keep: np.ndarray) -> tuple[WalkGraph, np.ndarray]:
    """The graph with every chain of pass-through nodes replaced by one edge.

    A pass-through node has exactly two neighbours and is not in ``keep``; a chain of them
    between two other nodes becomes a single edge as long as the chain. Shortest-path
    distances between the remaining nodes are unchanged, so searches give the same answer
    on a graph several times smaller (the 20 m pieces of `build_walk_graph` are mostly
    pass-through nodes). Chains that loop back to their start, or that form a ring with
    no remaining node, are dropped: no shortest path between remaining nodes uses them.

    This function is vectorised.

    Parameters
    ----------
    graph : WalkGraph
    keep : ndarray of int
        Nodes that must remain (access points, service nodes), whatever their degree.

    Returns
    -------
    (WalkGraph, ndarray of int)
        The contracted graph, and for each node of ``graph`` its node in the contracted
        graph (-1 if contracted away).
    """
    n = graph.n_nodes
    degree = np.diff(graph.csr.indptr)
    kept = degree != 2
    kept[np.asarray(keep, dtype=np.int64)] = True
    if kept.all():
        return graph, np.arange(n, dtype=np.int64)
    u, v, w = graph.edges()
    ku, kv = kept[u], kept[v]
    # Chains: connected runs of pass-through nodes. Each has degree 2 in the graph, so a
    # run is a path (with exactly two edges out to remaining nodes) or a bare ring.
    through = np.flatnonzero(~kept)
    slot = np.full(n, -1, dtype=np.int64)
    slot[through] = np.arange(len(through))
    inner = ~ku & ~kv
    iu, iv = slot[u[inner]], slot[v[inner]]
    m = len(through)
    _, chain = connected_components(
        sp.csr_matrix((np.ones(len(iu), dtype=np.int8), (iu, iv)), shape=(m, m)), directed=False
    )
    chain_len = np.bincount(chain[iu], weights=w[inner], minlength=int(chain.max(initial=-1)) + 1)
    out = ku ^ kv
    end = np.where(ku[out], u[out], v[out])
    chain_of = chain[slot[np.where(ku[out], v[out], u[out])]]
    order = np.argsort(chain_of, kind="stable")
    chain_of, end, ew = chain_of[order], end[order], w[out][order]
    if len(chain_of) % 2 or (chain_of[0::2] != chain_of[1::2]).any():
        msg = "Internal error: a chain of pass-through nodes does not have two ends."
        raise NetworkError(msg)
    a, b = end[0::2], end[1::2]
    length = ew[0::2] + ew[1::2] + chain_len[chain_of[0::2]]
    both = ku & kv
    nu = np.concatenate([u[both], a])
    nv = np.concatenate([v[both], b])
    nw = np.concatenate([w[both], length])
    loop = nu == nv
    new_of = np.full(n, -1, dtype=np.int64)
    remaining = np.flatnonzero(kept)
    new_of[remaining] = np.arange(len(remaining))
    nu, nv, nw = _undirected_min(new_of[nu[~loop]], new_of[nv[~loop]], nw[~loop])
    small = WalkGraph(
        csr=_symmetric(nu, nv, nw, len(remaining)),
        node_xy=graph.node_xy[remaining],
        crs=graph.crs,
        component=graph.component[remaining],
    )
    return small, new_of


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
    dist, node = graph.kdtree.query(np.asarray(xy, dtype=float))
    return node.astype(np.int64), dist


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
        lonely = np.setdiff1d(np.arange(len(todo)), pi)
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

    The shared KD-tree proposes the nodes within reach of each polygon's bounding circle
    and only those become shapely points: a city graph has millions of nodes, and making
    every one a geometry for an STRtree cost more than all the searches.
    """
    bounds = shapely.bounds(polys)
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2
    # Any point within radius_m of the polygon is within half the bbox diagonal plus
    # radius_m of the bbox centre; the small margin absorbs rounding.
    reach = np.hypot(*(bounds[:, 2:] - bounds[:, :2]).T) / 2 + radius_m + 1e-6
    pi_parts, ni_parts, d_parts = [], [], []
    for lo in range(0, len(polys), chunk):
        hits = graph.kdtree.query_ball_point(
            centre[lo:lo + chunk], reach[lo:lo + chunk], return_sorted=False
        )
        counts = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
        ni = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64,
                         count=int(counts.sum()))
        pi = np.repeat(np.arange(lo, lo + len(hits)), counts)
        # The circle holds about twice the nodes of the widened box; drop the corners
        # before any geometry is made.
        xy = graph.node_xy[ni]
        box = bounds[pi]
        near = ((xy >= box[:, :2] - radius_m) & (xy <= box[:, 2:] + radius_m)).all(axis=1)
        pi, ni, xy = pi[near], ni[near], xy[near]
        d = shapely.distance(polys[pi], shapely.points(xy))
        ok = d <= radius_m
        pi_parts.append(pi[ok])
        ni_parts.append(ni[ok])
        d_parts.append(d[ok])
    return (np.concatenate(pi_parts), np.concatenate(ni_parts), np.concatenate(d_parts))


def _nearest_node(graph: WalkGraph, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The node nearest to each polygon (lowest node number on a tie), and its distance."""
    bounds = shapely.bounds(polys)
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2
    half_diag = np.hypot(*(bounds[:, 2:] - bounds[:, :2]).T) / 2
    _, first = graph.kdtree.query(centre)
    # The node nearest the centre is `bound` from the polygon; the nearest node to the
    # polygon is no farther, so it lies within bound + half the diagonal of the centre.
    bound = shapely.distance(polys, shapely.points(graph.node_xy[first]))
    node = np.empty(len(polys), dtype=np.int64)
    dist = np.empty(len(polys))
    for i, hits in enumerate(graph.kdtree.query_ball_point(centre, bound + half_diag + 1e-6)):
        hits = np.sort(np.asarray(hits, dtype=np.int64))
        d = shapely.distance(polys[i], shapely.points(graph.node_xy[hits]))
        j = int(np.argmin(d))
        node[i], dist[i] = hits[j], d[j]
    return node, dist
