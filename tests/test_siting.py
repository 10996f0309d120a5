"""Siting: the coverage matrix against networkx, the solvers against brute force, and
their properties (greedy bound, monotonicity)."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import given, settings, strategies as st

from conftest import METRIC, random_town, split_graph
from gis.candidates import combine_candidates, estate_candidates, network_candidates
from gis.coverage import living_circle
from gis.errors import GisError, InputError
from gis.network import estate_access
from gis.siting import (
    GREEDY_BOUND,
    coverage_matrix,
    exact_cover,
    greedy_cover,
    site_facilities,
    solve,
)

TOL_M = 0.01


# --- the coverage matrix against a from-scratch networkx oracle ---------------------------


def oracle_matrix(streets, estates, points, walk_m, radius_m=30.0) -> dict:
    """{(estate, candidate): metres} for every pair within ``walk_m``: one networkx
    Dijkstra per candidate, access points and hops by brute force over every node."""
    graph, where = split_graph(streets)
    nodes = list(graph.nodes)
    xy = np.array([where[n] for n in nodes])
    node_pts = shapely.points(xy)
    access = []
    for poly in estates.geometry:
        ds = shapely.distance(poly, node_pts)
        near = np.flatnonzero(ds <= radius_m)
        if not len(near):
            near = [int(np.argmin(ds))]
        access.append({nodes[i]: float(ds[i]) for i in near})
    out = {}
    for j, p in enumerate(points):
        d = np.hypot(xy[:, 0] - p.x, xy[:, 1] - p.y)
        i = int(np.argmin(d))
        graph.add_edge("SRC", nodes[i], length=float(d[i]))
        dist = nx.single_source_dijkstra_path_length(graph, "SRC", cutoff=walk_m + 60,
                                                     weight="length")
        graph.remove_node("SRC")
        for e, acc in enumerate(access):
            best = min((dist.get(n, math.inf) + c for n, c in acc.items()), default=math.inf)
            if best <= walk_m + TOL_M:
                out[e, j] = best
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_coverage_matrix_matches_networkx_per_candidate(seed):
    streets, estates, _ = random_town(seed, n_estates=20)
    rng = np.random.default_rng(seed)
    pts = shapely.points(rng.uniform(499_950, 501_050, 25), rng.uniform(3_799_950, 3_800_850, 25))
    from gis.network import build_walk_graph

    graph = build_walk_graph(streets)
    access = estate_access(graph, estates)
    walk_m = 300.0
    got = coverage_matrix(graph, access, shapely.get_coordinates(pts), walk_m,
                          max_bytes=8 * graph.n_nodes * 3)  # several chunks
    want = oracle_matrix(streets, estates, pts, walk_m)
    coo = got.tocoo()
    pairs = {(int(r), int(c)): float(v) for r, c, v in zip(coo.row, coo.col, coo.data)}
    for pair, v in pairs.items():
        assert pair in want, pair
        assert v == pytest.approx(want[pair], abs=TOL_M)
    for pair, v in want.items():
        if v <= walk_m - TOL_M:
            assert pair in pairs, (pair, v)
    # Enough pairs on both sides of the threshold that the check means something.
    assert len(pairs) > 40 and len(pairs) < got.shape[0] * got.shape[1] / 2
    assert got.shape == (len(estates), len(pts))


def test_matrix_keeps_a_candidate_inside_an_estate_at_zero():
    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (400, 0)])], crs=METRIC)
    estates = gpd.GeoDataFrame({"estate_id": ["A"], "name": ["甲"], "households": [5.0]},
                               geometry=[shapely.box(100, -20, 140, 20)], crs=METRIC)
    from gis.network import build_walk_graph

    graph = build_walk_graph(streets)
    m = coverage_matrix(graph, estate_access(graph, estates), np.array([[120.0, 0.0],
                                                                        [385.0, 0.0]]), 300.0)
    assert m.nnz == 2  # the explicit zero is a stored, covered pair
    assert m[0, 0] == 0.0 and m[0, 1] == pytest.approx(20 + 220 + 5, abs=TOL_M)


# --- the solvers against brute-force enumeration ----------------------------------------


def random_instance(seed: int, rows: int = 12, cands: int = 8, density: float = 0.25):
    rng = np.random.default_rng(seed)
    dense = rng.random((rows, cands)) < density
    w = rng.integers(1, 500, rows).astype(float)
    return sp.csc_array(dense), w, dense


def brute_mclp(dense, w, k):
    best = 0.0
    for combo in itertools.combinations(range(dense.shape[1]), k):
        best = max(best, float(w[dense[:, list(combo)].any(axis=1)].sum()))
    return best


def brute_lscp(dense):
    need = dense.any(axis=1)
    for size in range(0, dense.shape[1] + 1):
        for combo in itertools.combinations(range(dense.shape[1]), size):
            if (dense[:, list(combo)].any(axis=1) >= need).all():
                return size
    raise AssertionError("unreachable")


@pytest.mark.parametrize("seed", range(8))
def test_exact_mclp_and_lscp_match_brute_force(seed):
    cover, w, dense = random_instance(seed)
    for k in (1, 2, 3, 5):
        chosen, value, bound, optimal, _ = exact_cover(cover, w, k)
        assert optimal and len(chosen) <= k
        assert value == pytest.approx(brute_mclp(dense, w, k))
        # The value claimed is the value of the sites returned.
        assert value == pytest.approx(w[dense[:, chosen].any(axis=1)].sum())
    chosen, value, _, optimal, _ = exact_cover(cover, w, None)
    assert optimal and value == len(chosen) == brute_lscp(dense)
    assert (dense[:, chosen].any(axis=1) >= dense.any(axis=1)).all()


def brute_capacitated_mclp(dense, w, cap, k):
    """Every subset, every assignment of each row to one chosen covering site or none."""
    best = 0.0
    rows = range(dense.shape[0])
    for size in range(1, k + 1):
        for combo in itertools.combinations(range(dense.shape[1]), size):
            options = [[None] + [j for j in combo if dense[i, j]] for i in rows]
            for pick in itertools.product(*options):
                load = dict.fromkeys(combo, 0.0)
                for i, j in zip(rows, pick):
                    if j is not None:
                        load[j] += w[i]
                if all(load[j] <= cap[j] for j in combo):
                    best = max(best, sum(w[i] for i, j in zip(rows, pick) if j is not None))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_exact_matches_brute_force(seed):
    cover, w, dense = random_instance(100 + seed, rows=6, cands=5, density=0.45)
    w = np.round(w / 50) + 1
    cap = np.random.default_rng(seed).integers(3, 15, 5).astype(float)
    for k in (1, 2):
        chosen, value, _, optimal, _ = exact_cover(cover, w, k, capacity=cap)
        assert optimal
        assert value == pytest.approx(brute_capacitated_mclp(dense, w, cap, k))


instances = st.tuples(st.integers(0, 10_000), st.integers(4, 14), st.integers(3, 8),
                      st.floats(0.1, 0.5))


@settings(max_examples=40, deadline=None)
@given(inst=instances, k=st.integers(1, 4))
def test_greedy_reaches_the_bound_of_the_optimum(inst, k):
    seed, rows, cands, density = inst
    cover, w, dense = random_instance(seed, rows, cands, density)
    k = min(k, cands)
    chosen, gains, upper = greedy_cover(cover, w, k)
    opt = brute_mclp(dense, w, k)
    value = float(w[dense[:, chosen].any(axis=1)].sum())
    assert value == pytest.approx(gains.sum())
    assert value >= GREEDY_BOUND * opt - 1e-9
    assert upper >= opt - 1e-9  # the data-dependent bound is a true bound


@settings(max_examples=30, deadline=None)
@given(inst=instances, k=st.integers(1, 3), extra_seed=st.integers(0, 10_000))
def test_adding_a_candidate_never_lowers_the_optimum(inst, k, extra_seed):
    seed, rows, cands, density = inst
    cover, w, dense = random_instance(seed, rows, cands, density)
    k = min(k, cands)
    extra = np.random.default_rng(extra_seed).random((rows, 1)) < density
    more = sp.csc_array(np.hstack([dense, extra]))
    _, before, _, _, _ = exact_cover(cover, w, k)
    _, after, _, _, _ = exact_cover(more, w, k)
    assert after >= before - 1e-9
    _, n_before, _, _, _ = exact_cover(cover, w, None)
    # LSCP: a new candidate never makes the old coverable rows need more sites (a column
    # reaching new rows changes the task, so it is cut to the old coverable rows).
    sub = sp.csc_array(np.hstack([dense, extra & dense.any(axis=1, keepdims=True)]))
    _, n_same, _, _, _ = exact_cover(sub, w, None)
    assert n_same <= n_before


@settings(max_examples=30, deadline=None)
@given(inst=instances, k=st.integers(1, 4))
def test_one_more_site_never_covers_less(inst, k):
    seed, rows, cands, density = inst
    cover, w, _ = random_instance(seed, rows, cands, density)
    k = min(k, cands - 1)
    for method in ("exact", "greedy"):
        a = solve(cover, w, k, solver=method)
        b = solve(cover, w, k + 1, solver=method)
        assert b.objective >= a.objective - 1e-9


# --- the whole analysis ---------------------------------------------------------------


def town_candidates(estates, streets, spacing_m=100.0):
    area = shapely.buffer(shapely.convex_hull(shapely.union_all(estates.geometry.values)), 300)
    return combine_candidates([network_candidates(streets, area, spacing_m=spacing_m),
                               estate_candidates(estates)], estates.crs)


@pytest.mark.parametrize("seed", [3, 6])
def test_after_coverage_is_coverage_with_the_sites_added(standard, seed):
    streets, estates, services = random_town(seed)
    std = standard.with_thresholds({k: 300.0 for k in standard.keys})
    cov = living_circle(estates, services, std, streets=streets)
    cands = town_candidates(estates, streets)
    result = site_facilities(cov, cands, [("clinic", 3), ("toilet", None)])
    sites = result.sites
    assert (sites["category"] == "clinic").sum() == 3
    added = gpd.GeoDataFrame(
        {"service_id": "NEW" + sites["candidate_id"], "name": sites["name"],
         "category": sites["category"]}, geometry=sites.geometry.values, crs=sites.crs)
    redo = living_circle(estates, pd.concat([services, added], ignore_index=True), std,
                         streets=streets).estates
    for key in ("clinic", "toilet"):
        np.testing.assert_array_equal(result.estates[f"covered_after_{key}"].to_numpy(),
                                      redo[f"covered_{key}"].to_numpy())
    row = result.summary.set_index("category").loc["clinic"]
    assert row["households_covered_after"] == pytest.approx(
        estates["households"][redo["covered_clinic"]].sum())
    # New households per site add up to the objective, in non-increasing order.
    clinic = sites[sites["category"] == "clinic"]
    assert clinic["new_households"].sum() == pytest.approx(row["objective"])
    assert (np.diff(clinic["new_households"].to_numpy()) <= 1e-9).all()
    # LSCP covers every reachable gap estate.
    toilet = result.summary.set_index("category").loc["toilet"]
    assert toilet["estates_covered_after"] == (
        toilet["estates_covered_before"] + toilet["reachable_estates"])


def test_unreachable_estates_are_listed_with_the_nearest_candidate(standard):
    streets, estates, services = random_town(5)
    std = standard.with_thresholds({"clinic": 150.0})
    cov = living_circle(estates, services, std, streets=streets)
    cands = network_candidates(streets, shapely.box(499_900, 3_799_900, 500_300, 3_800_300),
                               spacing_m=100)
    result = site_facilities(cov, cands, [("clinic", None)])
    lost = result.unreachable
    assert len(lost) > 0
    row = result.summary.iloc[0]
    assert len(lost) == row["gap_estates"] - row["reachable_estates"]
    near = lost["nearest_candidate_m"].dropna()
    assert (near > 150.0).all() and (near <= 300.0 + TOL_M).all()


def test_bad_requests_fail_with_one_clear_message(standard):
    streets, estates, services = random_town(3)
    cov = living_circle(estates, services, standard, streets=streets)
    cands = town_candidates(estates, streets, spacing_m=200.0)
    with pytest.raises(InputError, match=r"`k=100000` for clinic: must be between 1 and"):
        site_facilities(cov, cands, [("clinic", 100_000)])
    with pytest.raises(GisError, match="Unknown category 'cinema'"):
        site_facilities(cov, cands, [("cinema", 2)])
    dup = cands.copy()
    dup.loc[1, "candidate_id"] = dup.loc[0, "candidate_id"]
    with pytest.raises(InputError, match=r"candidate_id values repeat \(N1\) in rows 1, 2"):
        site_facilities(cov, dup, [("clinic", 2)])
    far = cands.set_geometry(cands.geometry.translate(50_000, 0))
    with pytest.raises(InputError, match="none of the .* candidates lies within"):
        site_facilities(cov, far, [("clinic", 2)])
    off = cands.copy()
    off["source"] = "file"
    off.loc[0, "geometry"] = shapely.Point(500_400, 3_799_400)  # 400 m south of the grid
    with pytest.raises(InputError, match=r"1 candidates lie more than 200 m from any street \(N1"):
        site_facilities(cov, off, [("clinic", 2)])


def test_capacities_limit_what_the_sites_serve(standard):
    streets, estates, services = random_town(4)
    std = standard.with_thresholds({k: 300.0 for k in standard.keys})
    cov = living_circle(estates, services, std, streets=streets)
    cands = town_candidates(estates, streets, spacing_m=150.0)
    free = site_facilities(cov, cands, [("clinic", 2)])
    small = cands.assign(capacity_households=400.0)
    capped = site_facilities(cov, small, [("clinic", 2)], use_capacity=True)
    a = free.summary.iloc[0]
    b = capped.summary.iloc[0]
    assert b["method"] == "exact" and b["optimal"]
    # Two sites serving at most 400 households each; less than without capacities.
    assert b["objective"] <= 800.0 + 1e-6 and b["objective"] < a["objective"]
    with pytest.raises(InputError, match="capacities .* cannot serve every gap estate"):
        site_facilities(cov, cands.assign(capacity_households=1.0), [("clinic", None)],
                        use_capacity=True)
    with pytest.raises(InputError, match="Capacities need the exact solver"):
        site_facilities(cov, small, [("clinic", 2)], use_capacity=True, solver="greedy")
