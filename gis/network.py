"""The walking network: street lines to a graph (building only).

Snapping points and estates onto the graph is `gis.access`; searching it is `gis.search`.
The rules below hold across the three.

Distance semantics (every length in metres, in the metric analysis CRS):

* The graph is undirected; an edge joins two consecutive vertices of a street line and
  weighs its straight length. Edges longer than ``Params.max_edge_m`` (20 m) are split
  into equal pieces through nodes of their own, so that a point beside a long straight
  road joins it where it stands (these nodes never join another street). Lines meet only where they share a vertex (within
  ``Params.vertex_snap_m``), so a bridge or tunnel that crosses another street without
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
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from gis.errors import NetworkError
from gis.params import default

__all__ = ["WalkGraph", "build_walk_graph"]  # and, re-exported lazily, see _MOVED

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

    @property
    def long_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Split street edges (positions) and the node number of each one's first piece
        node: what snapping and searching need to find piece nodes."""
        return self._long

    def edges_near(self, centre: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query, split edge) pairs where the edge may come within ``reach`` of ``centre``
        (a superset); edges as positions in ``long_edges[0]``."""
        return self._edges_near(centre, reach)

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
        ``Params.vertex_snap_m`` (0.01 m).
    max_edge_m : float, optional
        Split lines so no edge is longer, in metres; 0 keeps the drawn vertices. Default:
        ``Params.max_edge_m`` (20 m).

    Returns
    -------
    WalkGraph

    Raises
    ------
    NetworkError
        If no line has a non-zero length.

    Examples
    --------
    The demo town's streets, in the Gauss-Krüger zone that `gis.crs.metric_crs` picks:

    >>> from gis.crs import metric_crs, to_metric
    >>> from gis.layers import read_streets
    >>> from gis.sources import demo_folder
    >>> streets = read_streets(demo_folder() / "streets.gpkg")
    >>> graph = build_walk_graph(to_metric(streets, metric_crs(streets)))
    >>> graph.crs.to_string(), graph.n_street, graph.n_nodes, graph.n_components
    ('EPSG:4548', 1660, 5297, 1)
    >>> round(float(graph.edge_m.sum()) / 1000, 1)  # km of walkable street
    89.4

    A synthetic town whose overpasses cross streets without a shared vertex: they join
    only with ``node_crossings=True``; ``max_edge_m=0`` makes no piece nodes.

    >>> from gis.synthetic import random_town
    >>> town_streets = random_town(1)[0]
    >>> build_walk_graph(town_streets).n_components, build_walk_graph(town_streets, node_crossings=True).n_components
    (4, 1)
    >>> build_walk_graph(town_streets, max_edge_m=0).n_nodes
    118
    """
    if vertex_snap_m is None:
        vertex_snap_m = default("vertex_snap_m")
    if max_edge_m is None:
        max_edge_m = default("max_edge_m")
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


# Snapping and access points live in gis.access, searches in gis.search; these names
# stay importable from here for code written before the split. The import is lazy (PEP
# 562) so that this module, upstream of both, never imports them at load time.
_MOVED = {"Access": "gis.access", "estate_access": "gis.access", "snap_points": "gis.access",
          "thin_access": "gis.search", "search_graph": "gis.search",
          "with_sources": "gis.search", "reachable_nodes": "gis.search"}


def __getattr__(name: str) -> object:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    msg = f"module 'gis.network' has no attribute {name!r}"
    raise AttributeError(msg)
