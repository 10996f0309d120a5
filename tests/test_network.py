"""Walking graph: nodes at shared vertices only, shortest parallel edge, exact snapping."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from conftest import METRIC
from gis.errors import NetworkError
from gis.network import build_walk_graph, estate_access, snap_points


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
