"""Points and estates onto the walking graph: service snapping and estate access points.

See `gis.network` for the distance rules; the graph is built there, searched in
`gis.search`.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from gis.network import WalkGraph
from gis.params import default

__all__ = ["Access", "estate_access", "snap_points"]

logger = logging.getLogger(__name__)


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

    Examples
    --------
    >>> import shapely
    >>> from gis.network import build_walk_graph
    >>> from gis.synthetic import random_town
    >>> streets, estates, services = random_town(1)
    >>> graph = build_walk_graph(streets)
    >>> node, hop_m = snap_points(graph, shapely.get_coordinates(services.geometry.values))
    >>> node[:3].tolist(), hop_m[:3].round(1).tolist(), round(float(hop_m.max()), 1)
    ([18, 414, 411], [0.0, 27.5, 13.8], 122.0)
    """
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    xy = np.asarray(xy, dtype=float)
    dist, node = graph.kdtree.query(xy)
    node = node.astype(np.int64)
    if not len(graph.long_edges[0]):
        return node, dist
    # A piece node can only beat the nearest street node on an edge nearer than it; on
    # each such edge the nearest piece node is the one nearest the foot of the perpendicular.
    pi, which = graph.edges_near(xy, dist)
    if len(pi):
        long, _ = graph.long_edges
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
        ``Params.access_radius_m`` (30 m).

    Returns
    -------
    Access
        Every estate has at least one access point.

    Examples
    --------
    The demo town: every node within 30 m of an estate, or, for the estates with gates
    (大门), only their gates.

    >>> from gis.crs import metric_crs, to_metric
    >>> from gis.layers import read_estates, read_gates, read_streets
    >>> from gis.network import build_walk_graph
    >>> from gis.sources import demo_folder
    >>> streets = read_streets(demo_folder() / "streets.gpkg")
    >>> crs = metric_crs(streets)
    >>> graph = build_walk_graph(to_metric(streets, crs))
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> gates = read_gates(demo_folder() / "gates.gpkg", est)
    >>> by_polygon = estate_access(graph, to_metric(est, crs))
    >>> by_gates = estate_access(graph, to_metric(est, crs), gates=to_metric(gates, crs))
    >>> by_polygon.n_estates, len(by_polygon.node), len(by_gates.node)
    (150, 3952, 2358)
    >>> round(float(by_polygon.cost_m.max()), 1)  # metres from the boundary, at most the radius
    30.0
    """
    if access_radius_m is None:
        access_radius_m = default("access_radius_m")
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
    if not len(graph.long_edges[0]) or not len(polys):
        return empty
    # A node within reach of the polygon is within the bbox's half-diagonal plus the
    # reach of the bbox centre: edges that may come that close, then only those whose
    # own box meets the widened bbox.
    r = radius_m[:, None] + 1e-6
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2
    pi, which = graph.edges_near(centre, np.hypot(*(bounds[:, 2:] - centre).T) + r[:, 0])
    long, _ = graph.long_edges
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
