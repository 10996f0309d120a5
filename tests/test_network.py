"""Walking graph: nodes at shared vertices only, shortest parallel edge, exact snapping."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from conftest import METRIC, random_town
from gis.errors import NetworkError
from gis.network import (
    build_walk_graph,
    estate_access,
    merge_vertices,
    reachable_nodes,
    search_graph,
    snap_points,
    thin_access,
)


def streets(*lines) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.LineString(l) for l in lines], crs=METRIC)


def test_long_lines_are_split_to_max_edge_length():
    g = build_walk_graph(streets([(0, 0), (100, 0)]), max_edge_m=20.0)
    assert g.n_nodes == 6 and g.n_edges == 5
    assert np.allclose(g.edges()[2], 20.0)


def test_close_vertices_merge_even_across_grid_cells():
    g = build_walk_graph(streets([(0, 0), (100.0001, 0)], [(100.0051, 0), (200, 0)]), max_edge_m=0)
    assert g.n_components == 1 and g.n_nodes == 3


def test_lines_join_only_at_shared_vertices():
    g = build_walk_graph(streets([(0, 0), (100, 0)], [(50, -50), (50, 50)], [(100, 0), (100, 80)]), max_edge_m=0)
    assert g.n_nodes == 5 and g.n_edges == 3
    assert g.n_components == 2  # the crossing line at x=50 has no shared vertex
    noded = build_walk_graph(streets([(0, 0), (100, 0)], [(50, -50), (50, 50)], [(100, 0), (100, 80)]),
                             node_crossings=True, max_edge_m=0)
    assert noded.n_components == 1 and noded.n_nodes == 6 and noded.n_edges == 5


def test_vertices_within_snap_tolerance_merge_and_parallel_edges_keep_shortest():
    g = build_walk_graph(streets([(0, 0), (10, 0)], [(10.004, 0.003), (20, 0)],
                                 [(0, 0), (5, 5), (10, 0)]), max_edge_m=0)
    assert g.n_nodes == 4 and g.n_components == 1
    u, v, w = g.edges()
    a = np.flatnonzero((g.node_xy[:, 0] < 1))[0]
    b = np.flatnonzero(np.abs(g.node_xy[:, 0] - 10) < 0.01)[0]
    # Straight 0-10 (10 m) beats nothing: the detour is via (5,5), a different node.
    lengths = {tuple(sorted((i, j))): d for i, j, d in zip(u, v, w)}
    assert lengths[tuple(sorted((a, b)))] == pytest.approx(10.0)


def test_duplicate_lines_do_not_add_up():
    g = build_walk_graph(streets([(0, 0), (10, 0)], [(0, 0), (10, 0)], [(10, 0), (0, 0)]), max_edge_m=0)
    assert g.n_edges == 1
    assert g.edges()[2][0] == pytest.approx(10.0)


def test_snap_points_nearest_node_and_hop():
    g = build_walk_graph(streets([(0, 0), (100, 0), (100, 100)]), max_edge_m=0)
    node, hop = snap_points(g, np.array([[3, 4], [100, 60]]))
    assert g.node_xy[node[0]].tolist() == [0, 0] and hop[0] == pytest.approx(5.0)
    assert g.node_xy[node[1]].tolist() == [100, 100] and hop[1] == pytest.approx(40.0)


def test_estate_access_inside_within_radius_and_fallback():
    g = build_walk_graph(streets([(0, 0), (50, 0), (100, 0), (300, 0)]), max_edge_m=0)
    est = gpd.GeoDataFrame({"estate_id": ["in", "near", "far"]},
                           geometry=[shapely.box(40, -10, 60, 10), shapely.box(70, 20, 90, 40),
                                     shapely.box(290, 200, 310, 220)], crs=METRIC)
    acc = estate_access(g, est)
    by = {}
    for e, n, c in zip(acc.estate, acc.node, acc.cost_m):
        by.setdefault(int(e), []).append((tuple(g.node_xy[n]), round(float(c), 6)))
    assert sorted(by[0]) == [((50.0, 0.0), 0.0)]
    assert sorted(by[1]) == [((50.0, 0.0), pytest.approx(28.28427, abs=1e-4)),
                             ((100.0, 0.0), pytest.approx(22.36068, abs=1e-4))]
    assert by[2] == [((300.0, 0.0), 200.0)]


def test_empty_streets_are_an_error():
    with pytest.raises(NetworkError, match="no line with two or more vertices"):
        build_walk_graph(gpd.GeoDataFrame(geometry=[shapely.LineString()], crs=METRIC))


def test_vertex_merge_matches_numpy_unique():
    rng = np.random.default_rng(0)
    xy = rng.integers(0, 6, size=(500, 2)).astype(float) * 10
    node, node_xy = merge_vertices(xy, 0.01)
    unique, inverse = np.unique(xy, axis=0, return_inverse=True)
    assert np.array_equal(node_xy, unique) and np.array_equal(node, inverse.ravel())


@pytest.mark.parametrize("seed", [1, 2])
def test_estate_access_matches_brute_force_shapely(seed):
    streets_, estates, _ = random_town(seed, n_estates=40)
    # L-shaped estates too: the KD-tree search starts from bounding circles.
    b = shapely.bounds(estates.geometry.values[:10])
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    notch = shapely.box(cx, cy, b[:, 2] + 1, b[:, 3] + 1)
    estates.loc[estates.index[:10], "geometry"] = shapely.difference(
        estates.geometry.values[:10], notch)
    # One estate far from every street: it falls back to the nearest node.
    estates.loc[estates.index[-1], "geometry"] = shapely.box(499_000, 3_799_000, 499_020, 3_799_030)
    g = build_walk_graph(streets_)
    acc = estate_access(g, estates, access_radius_m=30.0)
    nodes = shapely.points(g.node_xy)
    want = set()
    for i, poly in enumerate(estates.geometry.values):
        d = shapely.distance(poly, nodes)
        near = np.flatnonzero(d <= 30.0)
        if not len(near):
            near = np.flatnonzero(d == d.min())[:1]
        want |= {(i, int(n), round(float(d[n]), 6)) for n in near}
    got = {(int(e), int(n), round(float(c), 6)) for e, n, c in zip(acc.estate, acc.node, acc.cost_m)}
    assert got == want


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_snapping_finds_the_nearest_node_pieces_included(seed):
    streets_, _, _ = random_town(seed)
    g = build_walk_graph(streets_)
    rng = np.random.default_rng(seed)
    b = streets_.total_bounds
    xy = np.c_[rng.uniform(b[0] - 50, b[2] + 50, 400), rng.uniform(b[1] - 50, b[3] + 50, 400)]
    xy[:20] = g.node_xy[rng.choice(g.n_nodes, 20)]  # exactly on nodes, pieces too
    node, hop = snap_points(g, xy)
    # Oracle: every node made, brute force.
    d = np.hypot(xy[:, None, 0] - g.node_xy[None, :, 0], xy[:, None, 1] - g.node_xy[None, :, 1])
    assert np.allclose(hop, d.min(axis=1), rtol=0, atol=1e-9)
    assert np.allclose(d[np.arange(len(xy)), node], hop, rtol=0, atol=1e-9)
    assert g.n_nodes > 5 * g.n_street  # most nodes are pieces, never made by snapping


@pytest.mark.parametrize("seed", [1, 2])
def test_search_graph_keeps_every_distance_to_kept_nodes(seed):
    streets_, _, _ = random_town(seed)
    g = build_walk_graph(streets_)
    rng = np.random.default_rng(seed)
    keep = np.r_[rng.choice(np.arange(g.n_street, g.n_nodes), 60, replace=False),
                 rng.choice(g.n_street, 10, replace=False)]
    small, kept = search_graph(g, keep)
    assert small.n_nodes == g.n_street + 60 and small.max_edge_m == 0
    assert np.array_equal(small.node_xy[kept], g.node_xy[keep])
    full = nx.Graph()
    full.add_weighted_edges_from(zip(*(a.tolist() for a in g.edges())))
    got = dijkstra(small.csr, directed=False, indices=kept)
    for row, src in enumerate(keep):
        want = nx.single_source_dijkstra_path_length(full, int(src))
        expect = np.array([want.get(int(t), np.inf) for t in keep])
        assert np.allclose(got[row, kept], expect, rtol=0, atol=1e-6)
        streets_want = np.array([want.get(t, np.inf) for t in range(g.n_street)])
        assert np.allclose(got[row, :g.n_street], streets_want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", [1, 2])
def test_thinned_access_gives_every_estate_the_same_distances(seed):
    streets_, estates, services = random_town(seed, n_estates=40)
    g = build_walk_graph(streets_)
    acc = estate_access(g, estates)
    svc_node, _ = snap_points(g, shapely.get_coordinates(services.geometry.values))
    thin = thin_access(g, acc, svc_node)
    assert len(thin.node) < 0.7 * len(acc.node)  # runs along streets keep their ends
    assert set(np.unique(thin.estate)) == set(np.unique(acc.estate))
    # From every node to each estate over the full graph, both ways of joining.
    dist = dijkstra(g.csr, directed=False, indices=np.unique(svc_node))
    for a in (acc, thin):
        best = np.full((len(dist), len(estates)), np.inf)
        for row in range(len(dist)):
            np.minimum.at(best[row], a.estate, a.cost_m + dist[row, a.node])
        if a is acc:
            full = best
    assert np.allclose(best, full, rtol=0, atol=1e-9)


def test_thinning_keeps_a_gate_that_beats_its_neighbours():
    # A 21 m street edge has one piece node, at 10.5 m. One gate stands on it (hop 0);
    # two more stand 15 m off the edge's ends. The piece's neighbours are access points
    # of the same estate, but dearer than it by more than the 10.5 m between: it stays.
    x, y = 500_000.0, 3_800_000.0
    g = build_walk_graph(streets([(x - 200, y), (x, y), (x + 21, y)]))
    # The estate's boundary runs along the street, so the walk to each gate is 0.
    est = gpd.GeoDataFrame({"estate_id": ["E"]}, geometry=[shapely.box(x - 5, y, x + 26, y + 40)],
                           crs=METRIC)
    gates = gpd.GeoDataFrame({"estate_id": ["E"] * 3}, crs=METRIC, geometry=[
        shapely.Point(x + 10.5, y), shapely.Point(x, y + 15), shapely.Point(x + 21, y + 15)])
    acc = estate_access(g, est, gates=gates)
    svc, _ = snap_points(g, np.array([[x - 200, y]]))
    thin = thin_access(g, acc, svc)
    piece = np.flatnonzero(np.isclose(g.node_xy[:, 0], x + 10.5))[0]
    assert piece in set(thin.node.tolist())
    dist = dijkstra(g.csr, indices=svc[0])
    assert min(c + dist[n] for n, c in zip(thin.node, thin.cost_m)) == pytest.approx(210.5)


def test_no_estates_no_access():
    g = build_walk_graph(streets([(0, 0), (100, 0)]))
    acc = estate_access(g, gpd.GeoDataFrame({"estate_id": []}, geometry=[], crs=METRIC))
    assert acc.n_estates == 0 and len(acc.node) == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("limit", [60.0, 250.0])
def test_reachable_nodes_match_a_search_over_every_node(seed, limit):
    import scipy.sparse as sp

    streets_, _, services = random_town(seed)
    g = build_walk_graph(streets_)
    node, hop = snap_points(g, shapely.get_coordinates(services.geometry.values[:8]))
    node = np.r_[node, node[:2]]  # a repeated source keeps its shortest hop
    hop = np.r_[hop, hop[:2] + 5.0]
    xy, dist = reachable_nodes(g, node, hop, limit)
    # Oracle: one virtual source over the fully split graph.
    u, v, w = g.edges()
    n = g.n_nodes
    best = {}
    for a, h in zip(node.tolist(), hop.tolist()):
        best[a] = min(best.get(a, np.inf), h)
    aug = sp.csr_matrix((np.r_[w, w, list(best.values())],
                         (np.r_[u, v, [n] * len(best)], np.r_[v, u, list(best)])), shape=(n + 1, n + 1))
    want = dijkstra(aug, directed=True, indices=n, limit=limit)[:n]
    inside = np.flatnonzero(want <= limit)
    assert len(xy) == len(inside) > 20
    got = np.lexsort((xy[:, 1], xy[:, 0]))
    exp = inside[np.lexsort((g.node_xy[inside, 1], g.node_xy[inside, 0]))]
    assert np.array_equal(xy[got], g.node_xy[exp])
    assert np.allclose(dist[got], want[exp], rtol=0, atol=1e-6)
    assert (node >= g.n_street).any()  # sources on piece nodes, not only street nodes


def test_moved_names_still_import_from_gis_network():
    """Snapping/access (gis.access) and searching (gis.search) were split out of
    gis.network; the old import path gives the very same objects."""
    import gis.access
    import gis.network
    import gis.search

    for name, module in gis.network._MOVED.items():
        assert getattr(gis.network, name) is getattr({"gis.access": gis.access,
                                                      "gis.search": gis.search}[module], name)
    with pytest.raises(AttributeError):
        gis.network.no_such_name  # noqa: B018
