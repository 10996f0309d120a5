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
from gis.network import build_walk_graph, contract_chains, estate_access, merge_vertices, snap_points


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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_contracted_graph_keeps_every_distance_between_remaining_nodes(seed):
    streets_, _, _ = random_town(seed)
    g = build_walk_graph(streets_)  # 20 m pieces: most nodes pass through
    rng = np.random.default_rng(seed)
    keep = rng.choice(g.n_nodes, 40, replace=False)
    small, new_of = contract_chains(g, keep)
    assert small.n_nodes < g.n_nodes / 3
    remaining = np.flatnonzero(new_of >= 0)
    assert set(keep) <= set(remaining)
    assert np.array_equal(small.node_xy, g.node_xy[remaining])
    # Oracle: networkx on the full graph, from each kept node to every remaining node.
    full = nx.Graph()
    full.add_weighted_edges_from(zip(*(a.tolist() for a in g.edges())))
    got = dijkstra(small.csr, directed=False, indices=new_of[keep])
    for row, src in enumerate(keep):
        want = nx.single_source_dijkstra_path_length(full, int(src))
        expect = np.array([want.get(int(r), np.inf) for r in remaining])
        assert np.allclose(got[row], expect, rtol=0, atol=1e-6)


def test_contraction_keeps_junctions_and_drops_rings_and_spurs_back_to_one_node():
    lines = streets([(0, 0), (100, 0)], [(100, 0), (100, 100)], [(100, 0), (200, 0)],
                    [(0, 0), (-50, 50), (-50, -50), (0, 0)],  # a loop back to (0, 0)
                    [(500, 500), (540, 500), (540, 540), (500, 500)])  # a ring, no junction
    g = build_walk_graph(lines)
    small, new_of = contract_chains(g, np.array([], dtype=np.int64))
    xy = {tuple(p) for p in small.node_xy.round(6).tolist()}
    # (0,0) meets the loop (degree 3); (100,0) is a junction; line ends have degree 1.
    assert xy == {(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (200.0, 0.0)}
    u, v, w = small.edges()
    assert sorted(w.round(6).tolist()) == [100.0, 100.0, 100.0]


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
