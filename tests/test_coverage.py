"""Coverage distances against an independent networkx oracle, and their properties."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings, strategies as st

from conftest import DEMO, METRIC, random_town, split_graph
from gis.coverage import category_summary, gap_list, living_circle
from gis.errors import InputError

TOL_M = 0.01


def oracle_distances(streets, estates, services, standard, *, gates=None, radius_m=30.0,
                     factor=2.0, snap_m=0.01, max_edge_m=20.0) -> pd.DataFrame:
    """Per-estate networkx Dijkstra with the documented snapping rules, written from scratch."""
    graph, where = split_graph(streets, snap_m, max_edge_m)
    nodes = list(graph.nodes)
    node_arr = shapely.points([where[n] for n in nodes])
    xy = np.array([where[n] for n in nodes])

    def nearest_node(p):
        d = np.hypot(xy[:, 0] - p.x, xy[:, 1] - p.y)
        i = int(np.argmin(d))
        return nodes[i], float(d[i])

    svc = []
    for row in services.itertuples():
        n, hop = nearest_node(row.geometry)
        svc.append((row.category, n, hop))
    out = {}
    for est in estates.itertuples():
        access: dict = {}
        own_gates = [] if gates is None else list(
            gates.geometry[gates["estate_id"] == est.estate_id])
        if own_gates:
            for g in own_gates:
                n, hop = nearest_node(g)
                access[n] = min(access.get(n, math.inf), hop)
        else:
            ds = shapely.distance(est.geometry, node_arr)  # brute force: every node
            for i in np.flatnonzero(ds <= radius_m):
                access[nodes[i]] = min(access.get(nodes[i], math.inf), float(ds[i]))
            if not access:
                i = int(np.argmin(ds))
                access[nodes[i]] = float(ds[i])
        for n, c in access.items():
            graph.add_edge("SRC", n, length=c)
        cutoff = factor * max(c.walk_m for c in standard.categories)
        dist = nx.single_source_dijkstra_path_length(graph, "SRC", cutoff=cutoff, weight="length")
        graph.remove_node("SRC")
        row = {}
        for c in standard.categories:
            best = min((dist.get(n, math.inf) + hop for cat, n, hop in svc if cat == c.key),
                       default=math.inf)
            row[f"dist_m_{c.key}"] = best if best <= factor * c.walk_m else np.nan
        out[est.estate_id] = row
    return pd.DataFrame.from_dict(out, orient="index")


def assert_same_distances(cov, expected: pd.DataFrame) -> None:
    got = cov.estates.set_index("estate_id")[expected.columns].loc[expected.index]
    for col in expected.columns:
        a, b = got[col].to_numpy(float), expected[col].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        ok = ~np.isnan(a)
        np.testing.assert_allclose(a[ok], b[ok], atol=TOL_M, rtol=0, err_msg=col)


def test_network_distances_match_networkx_oracle(town, standard):
    streets, estates, services = town
    small = standard.with_thresholds({k: 300.0 for k in standard.keys})
    cov = living_circle(estates, services, small, streets=streets)
    expected = oracle_distances(streets, estates, services, small)
    assert_same_distances(cov, expected)
    # The oracle must see both reached and unreached pairs, or it proves little.
    values = expected.to_numpy(float)
    assert np.isnan(values).any() and (~np.isnan(values)).sum() > 20


@pytest.mark.parametrize("use_gates", [False, True])
def test_demo_distances_match_networkx_oracle(standard, use_gates):
    from gis.crs import metric_crs
    from gis.layers import read_estates, read_gates, read_services, read_streets

    estates = read_estates(DEMO / "estates.gpkg")
    services = read_services(DEMO / "services.gpkg", standard)
    streets = read_streets(DEMO / "streets.gpkg")
    gates = read_gates(DEMO / "gates.gpkg", estates) if use_gates else None
    cov = living_circle(estates, services, standard, streets=streets, gates=gates)
    crs = metric_crs(estates)
    expected = oracle_distances(
        streets.to_crs(crs), estates.to_crs(crs), services.to_crs(crs), standard,
        gates=None if gates is None else gates.to_crs(crs),
    )
    assert_same_distances(cov, expected)
    values = expected.to_numpy(float)
    assert (values > 1000).sum() > 10  # real gaps, not a trivially covered town


def test_gates_replace_polygon_access(standard):
    streets, estates, services = random_town(11)
    gates = gpd.GeoDataFrame(
        {"estate_id": estates["estate_id"].iloc[:10].tolist() * 2},
        geometry=list(shapely.get_exterior_ring(estates.geometry.iloc[:10]).interpolate(0.3, normalized=True))
        + list(shapely.get_exterior_ring(estates.geometry.iloc[:10]).interpolate(0.8, normalized=True)),
        crs=METRIC,
    )
    small = standard.with_thresholds({k: 400.0 for k in standard.keys})
    with_gates = living_circle(estates, services, small, streets=streets, gates=gates)
    assert_same_distances(with_gates, oracle_distances(streets, estates, services, small, gates=gates))
    without = living_circle(estates, services, small, streets=streets)
    cols = [f"dist_m_{k}" for k in small.keys]
    # Estates without gates are unchanged; gated ones differ somewhere.
    rest = with_gates.estates[cols].iloc[10:].fillna(-1).to_numpy()
    np.testing.assert_allclose(rest, without.estates[cols].iloc[10:].fillna(-1).to_numpy())
    assert not np.allclose(with_gates.estates[cols].iloc[:10].fillna(-1),
                           without.estates[cols].iloc[:10].fillna(-1))


def test_facility_across_a_long_straight_road_is_near(standard):
    # A 1.2 km road drawn with two vertices: the clinic across it is 15 m away, not 1.2 km.
    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1200, 0)])], crs=METRIC)
    estates = gpd.GeoDataFrame({"estate_id": ["A"], "name": ["甲"], "households": [10.0]},
                               geometry=[shapely.box(580, 5, 620, 40)], crs=METRIC)
    services = gpd.GeoDataFrame({"service_id": ["s"], "name": ["诊所"], "category": ["clinic"]},
                                geometry=[shapely.Point(600, -10)], crs=METRIC)
    cov = living_circle(estates, services, standard, streets=streets)
    assert cov.estates["dist_m_clinic"].iloc[0] == pytest.approx(15.0, abs=0.01)
    assert not any("200 m from any street" in n for n in cov.notes)


def test_overpass_stays_unconnected_unless_noded(standard):
    # Two streets cross as an X with no shared vertex; one service at the end of the other.
    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (200, 0)]),
                                         shapely.LineString([(100, -100), (100, 100)])], crs=METRIC)
    estates = gpd.GeoDataFrame({"estate_id": ["A"], "name": ["甲"], "households": [10.0]},
                               geometry=[shapely.box(-20, -10, -5, 10)], crs=METRIC)
    services = gpd.GeoDataFrame({"service_id": ["s"], "name": ["诊所"], "category": ["clinic"]},
                                geometry=[shapely.Point(100, 105)], crs=METRIC)
    apart = living_circle(estates, services, standard, streets=streets)
    noded = living_circle(estates, services, standard, streets=streets, node_crossings=True)
    # Not connected: nearest clinic reached only if the hop from (100,105) lands on our line.
    assert math.isnan(apart.estates["dist_m_clinic"].iloc[0])
    # Noded: 5 (access) + 100 along x + 100 up + 5 hop = 210 m.
    assert noded.estates["dist_m_clinic"].iloc[0] == pytest.approx(210.0, abs=TOL_M)


def test_straight_mode_is_boundary_to_point(standard):
    _, estates, services = random_town(3)
    cov = living_circle(estates, services, standard, mode="straight")
    for c in standard.categories:
        pts = services[services["category"] == c.key].geometry
        expected = [min(e.distance(p) for p in pts) if len(pts) else np.inf
                    for e in estates.geometry]
        expected = np.where(np.array(expected) <= 2 * c.walk_m, expected, np.nan)
        got = cov.estates[f"dist_m_{c.key}"].to_numpy(float)
        np.testing.assert_allclose(got, expected, atol=TOL_M)
    assert cov.mode == "straight"
    assert any("Straight-line" in n for n in cov.notes)


def test_network_mode_needs_streets(standard):
    _, estates, services = random_town(3)
    with pytest.raises(InputError, match="needs a streets layer"):
        living_circle(estates, services, standard)


def test_summary_and_gaps_are_consistent(standard):
    streets, estates, services = random_town(7, n_estates=40)
    cov = living_circle(estates, services, standard.with_thresholds({"clinic": 150.0}),
                        streets=streets)
    summary = category_summary(cov).set_index("category")
    gaps = gap_list(cov)
    for key in standard.keys:
        n_gaps = (gaps["category"] == key).sum()
        assert summary.loc[key, "estates_covered"] + n_gaps == len(estates)
        hh_gap = gaps.loc[gaps["category"] == key, "households"].sum()
        assert summary.loc[key, "households_covered"] + hh_gap == estates["households"].sum()
    clinic = gaps[gaps["category"] == "clinic"]
    known = clinic["dist_m"].notna()
    assert (clinic.loc[known, "excess_m"] > 0).all()
    np.testing.assert_allclose(clinic.loc[known, "excess_m"], clinic.loc[known, "dist_m"] - 150.0,
                               atol=TOL_M)
    score = cov.estates[[f"covered_{k}" for k in standard.keys]].mean(axis=1)
    np.testing.assert_allclose(cov.estates["coverage_score"], score, atol=1e-4)


# --- properties -------------------------------------------------------------

seeds = st.integers(min_value=0, max_value=10_000)


@settings(max_examples=15, deadline=None)
@given(seed=seeds, x=st.floats(0, 1000), y=st.floats(0, 800), cat=st.sampled_from(["clinic", "toilet"]))
def test_adding_a_service_never_increases_distance(standard, seed, x, y, cat):
    streets, estates, services = random_town(seed, n_estates=15)
    before = living_circle(estates, services, standard, streets=streets).estates
    extra = gpd.GeoDataFrame({"service_id": ["NEW"], "name": ["新设施"], "category": [cat]},
                             geometry=[shapely.Point(500_000 + x, 3_800_000 + y)], crs=METRIC)
    after = living_circle(estates, pd.concat([services, extra], ignore_index=True), standard,
                          streets=streets).estates
    for k in standard.keys:
        b = before[f"dist_m_{k}"].fillna(np.inf).to_numpy()
        a = after[f"dist_m_{k}"].fillna(np.inf).to_numpy()
        assert (a <= b + 1e-9).all()
        assert (after[f"covered_{k}"] | ~before[f"covered_{k}"]).all()


@settings(max_examples=15, deadline=None)
@given(seed=seeds, low=st.floats(50, 800), extra=st.floats(0, 800))
def test_raising_a_threshold_never_uncovers(standard, seed, low, extra):
    streets, estates, services = random_town(seed, n_estates=15)
    lo = living_circle(estates, services, standard.with_thresholds({k: low for k in standard.keys}),
                       streets=streets).estates
    hi = living_circle(estates, services,
                       standard.with_thresholds({k: low + extra for k in standard.keys}),
                       streets=streets).estates
    for k in standard.keys:
        assert (hi[f"covered_{k}"] | ~lo[f"covered_{k}"]).all()
    assert (hi["n_covered"] >= lo["n_covered"]).all()


@settings(max_examples=10, deadline=None)
@given(seed=seeds, perm_seed=seeds)
def test_results_do_not_depend_on_row_order(standard, seed, perm_seed):
    streets, estates, services = random_town(seed, n_estates=15)
    rng = np.random.default_rng(perm_seed)
    base = living_circle(estates, services, standard, streets=streets).estates
    shuffled = living_circle(
        estates.iloc[rng.permutation(len(estates))],
        services.iloc[rng.permutation(len(services))],
        standard,
        streets=streets.iloc[rng.permutation(len(streets))],
    ).estates
    cols = [c for c in base.columns if c.startswith(("dist_m_", "covered_"))]
    a = base.set_index("estate_id")[cols].sort_index()
    b = shuffled.set_index("estate_id")[cols].sort_index()
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-6)


def test_service_areas_are_valid_merged_polygons(standard):
    from gis.coverage import service_areas

    streets, estates, services = random_town(4)
    # An origin off the grid, as real data is.
    streets, estates, services = (g.set_geometry(g.geometry.translate(0.123456, 0.654321))
                                  for g in (streets, estates, services))
    cov = living_circle(estates, services, standard.with_thresholds({k: 300.0 for k in standard.keys}),
                        streets=streets)
    areas = service_areas(cov.graph, cov.services.to_crs(cov.analysis_crs), cov.standard)
    geoms = np.asarray(areas.geometry.values)
    assert shapely.is_valid(geoms).all()
    # Grid squares must merge: a few parts per category, not one per square.
    assert (shapely.get_num_geometries(geoms) <= 10).all()
    # Oracle: the cells of every node of the fully split graph within the threshold, by a
    # search over all of them (networkx), widened by one cell, as the docstring says.
    g = cov.graph
    svc = cov.services.to_crs(cov.analysis_crs)
    from gis.network import snap_points

    node, hop = snap_points(g, shapely.get_coordinates(svc.geometry.values))
    full = nx.Graph()
    full.add_weighted_edges_from(zip(*(a.tolist() for a in g.edges())))
    span = g.node_xy.max(axis=0) - g.node_xy.min(axis=0)
    cell = float(np.ceil(max(50.0, np.sqrt(span[0] * span[1] / 200_000))))
    origin = np.floor(g.node_xy.min(axis=0) / cell) * cell
    for row in areas.itertuples():
        rows = np.flatnonzero(svc["category"].to_numpy() == row.category)
        full.add_weighted_edges_from([("src", int(node[r]), float(hop[r])) for r in rows])
        dist = nx.single_source_dijkstra_path_length(full, "src", cutoff=300.0)
        full.remove_node("src")
        near = np.array([k for k, d in dist.items() if k != "src" and d <= 300.0])
        ij = np.unique(np.floor((g.node_xy[near] - origin) / cell).astype(int), axis=0)
        ij = np.unique((ij[:, None, :] + np.array([(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)])
                        ).reshape(-1, 2), axis=0)
        squares = shapely.box(origin[0] + ij[:, 0] * cell, origin[1] + ij[:, 1] * cell,
                              origin[0] + (ij[:, 0] + 1) * cell, origin[1] + (ij[:, 1] + 1) * cell)
        want = shapely.simplify(shapely.coverage_union_all(squares), cell / 2)
        assert shapely.symmetric_difference(row.geometry, want).area < 1.0
