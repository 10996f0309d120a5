"""Unnoded street layers: detected with the right counts, noded by default only when they
are detectably unnoded, and then measured as the networkx oracle measures the same town
drawn with a vertex at every junction."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import DEMO, METRIC, random_town
from gis.coverage import living_circle
from gis.crs import metric_crs, to_metric
from gis.layers import read_streets
from gis.noding import grade_separated, node_streets, street_census
from test_coverage import assert_same_distances, oracle_distances

N = 7  # roads each way


def _tilted_grid(seed: int = 0):
    """N roughly east-west and N roughly north-south straight roads, each one line from end
    to end (as Amap draws a named road), plus the same town drawn noded by hand: every road
    split at its analytic intersections with the roads of the other direction."""
    rng = np.random.default_rng(seed)
    x0, y0, span = 500_000.0, 3_800_000.0, 900.0
    ys = y0 + np.linspace(60, span - 60, N) + rng.uniform(-15, 15, N)
    xs = x0 + np.linspace(60, span - 60, N) + rng.uniform(-15, 15, N)
    tilt_h = rng.uniform(-0.05, 0.05, N)  # dy/dx of the east-west roads
    tilt_v = rng.uniform(-0.05, 0.05, N)  # dx/dy of the north-south roads
    # East-west road i: y = ys[i] + tilt_h[i] * (x - x0); north-south road j:
    # x = xs[j] + tilt_v[j] * (y - y0). Each crosses every road of the other direction.
    ew = [((x0, ys[i]), (x0 + span, ys[i] + tilt_h[i] * span)) for i in range(N)]
    ns = [((xs[j], y0), (xs[j] + tilt_v[j] * span, y0 + span)) for j in range(N)]
    cross = np.empty((N, N, 2))
    for i in range(N):
        for j in range(N):
            # Solve y = ys_i + a (x - x0), x = xs_j + b (y - y0).
            a, b = tilt_h[i], tilt_v[j]
            y = (ys[i] + a * (xs[j] - x0) - a * b * y0) / (1 - a * b)
            cross[i, j] = (xs[j] + b * (y - y0), y)
    unnoded = [shapely.LineString(e) for e in ew] + [shapely.LineString(n) for n in ns]
    noded = []
    for i in range(N):
        pts = [ew[i][0], *map(tuple, cross[i, :]), ew[i][1]]
        noded += [shapely.LineString([p, q]) for p, q in zip(pts, pts[1:])]
    for j in range(N):
        pts = [ns[j][0], *map(tuple, cross[:, j]), ns[j][1]]
        noded += [shapely.LineString([p, q]) for p, q in zip(pts, pts[1:])]
    n_est = 20
    cx = rng.uniform(x0 + 50, x0 + span - 50, n_est)
    cy = rng.uniform(y0 + 50, y0 + span - 50, n_est)
    estates = gpd.GeoDataFrame(
        {"estate_id": [f"E{i:02d}" for i in range(n_est)], "name": [f"小区{i}" for i in range(n_est)],
         "households": np.full(n_est, 100.0)},
        geometry=shapely.box(cx - 15, cy - 15, cx + 15, cy + 15), crs=METRIC)
    n_svc = 40
    services = gpd.GeoDataFrame(
        {"service_id": [f"S{i}" for i in range(n_svc)], "name": [f"设施{i}" for i in range(n_svc)],
         "category": rng.choice(["clinic", "toilet", "express", "parking"], n_svc)},
        geometry=shapely.points(rng.uniform(x0, x0 + span, n_svc), rng.uniform(y0, y0 + span, n_svc)),
        crs=METRIC)
    return (gpd.GeoDataFrame(geometry=unnoded, crs=METRIC),
            gpd.GeoDataFrame(geometry=noded, crs=METRIC), estates, services)


def test_unnoded_town_is_counted_exactly():
    unnoded, noded, _, _ = _tilted_grid()
    census = street_census(unnoded)
    assert census.unnoded_crossings == N * N
    assert census.noded_junctions == 0
    assert census.unnoded and census.share == 1.0
    drawn = street_census(noded)
    assert drawn.unnoded_crossings == 0
    assert drawn.noded_junctions == N * N
    assert not drawn.unnoded and drawn.notes(noded=False, forced=None) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unnoded_town_is_noded_by_default_and_matches_the_oracle(standard, seed):
    unnoded, noded, estates, services = _tilted_grid(seed)
    small = standard.with_thresholds({k: 400.0 for k in standard.keys})
    cov = living_circle(estates, services, small, streets=unnoded)
    warned = [n for n in cov.notes if "without a shared vertex" in n]
    assert len(warned) == 1
    assert f"{N * N} street crossings without a shared vertex against 0 noded junctions" in warned[0]
    assert "crossings were joined" in warned[0] and "`node_crossings=False`" in warned[0]
    expected = oracle_distances(noded, estates, services[services["category"].notna()], small)
    assert_same_distances(cov, expected)
    # The hand-noded drawing gives the same distances and no warning.
    same = living_circle(estates, services, small, streets=noded)
    assert not [n for n in same.notes if "shared vertex" in n]
    assert_same_distances(same, expected)


def test_forced_off_keeps_crossings_apart_and_says_so(standard):
    unnoded, _, estates, services = _tilted_grid()
    cov = living_circle(estates, services, standard, streets=unnoded, node_crossings=False)
    warned = [n for n in cov.notes if "without a shared vertex" in n]
    assert len(warned) == 1 and "NOT walkable junctions" in warned[0]
    assert "`node_crossings=True`" in warned[0] and "--" not in warned[0]
    assert cov.graph.n_components == 2 * N  # every road on its own


def test_bridge_crossings_stay_apart_when_noding(standard):
    unnoded, noded, estates, services = _tilted_grid(3)
    bridge = shapely.LineString([(500_000.0, 3_800_000.0), (500_900.0, 3_800_900.0)])
    streets = pd.concat([unnoded.assign(bridge=None),
                         gpd.GeoDataFrame({"bridge": ["yes"]}, geometry=[bridge], crs=METRIC)],
                        ignore_index=True)
    census = street_census(streets)
    assert census.unnoded_crossings == N * N  # the bridge's crossings are not counted
    assert census.separated_lines == 1
    small = standard.with_thresholds({k: 400.0 for k in standard.keys})
    cov = living_circle(estates, services, small, streets=streets)
    assert any("except 1 bridge/tunnel/layer features" in n for n in cov.notes)
    # Oracle: the hand-noded grid plus the bridge as drawn (joined nowhere).
    expected = oracle_distances(pd.concat([noded, gpd.GeoDataFrame(geometry=[bridge], crs=METRIC)],
                                          ignore_index=True),
                                estates, services, small)
    assert_same_distances(cov, expected)


def test_random_towns_with_a_few_overpasses_are_not_noded_but_warned(standard):
    # The shared fixture towns: a noded grid and three lines crossing it without vertices.
    streets, estates, services = random_town(1)
    census = street_census(streets)
    assert 0 < census.unnoded_crossings and not census.unnoded
    cov = living_circle(estates, services, standard, streets=streets)
    warned = [n for n in cov.notes if "without a shared vertex" in n]
    assert len(warned) == 1 and "NOT walkable junctions" in warned[0]
    assert f"{census.unnoded_crossings} street crossings" in warned[0]


def test_demo_streets_are_noded_and_quiet():
    streets = read_streets(DEMO / "streets.gpkg")
    census = street_census(to_metric(streets, metric_crs(streets)))
    assert census.noded_junctions > 300
    assert not census.unnoded
    assert census.notes(noded=False, forced=None) == []


def test_near_miss_ends_are_counted():
    lines = [shapely.LineString([(0, 0), (100, 0)]),
             shapely.LineString([(50, 0.6), (50, 80)]),     # stops 0.6 m short: a near miss
             shapely.LineString([(100, 0), (100, 50)]),     # shares a vertex
             shapely.LineString([(0, 5), (0, 60)])]         # 5 m away: not near
    census = street_census(gpd.GeoDataFrame(geometry=lines, crs=METRIC))
    assert census.near_misses == 1 and census.unnoded_crossings == 0
    notes = census.notes(noded=False, forced=None)
    assert len(notes) == 1 and "1 street line ends stop within 2 m" in notes[0]


def test_t_junction_without_vertex_is_an_unnoded_crossing():
    lines = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(40, 0), (40, 60)])]
    census = street_census(gpd.GeoDataFrame(geometry=lines, crs=METRIC))
    assert census.unnoded_crossings == 1 and census.near_misses == 0
    assert len(node_streets(gpd.GeoDataFrame(geometry=lines, crs=METRIC))) == 3


def test_grade_separation_fields():
    df = pd.DataFrame({"bridge": ["yes", "no", None, "viaduct", ""],
                       "layer": ["0", "1", None, None, "-1"]})
    assert grade_separated(df).tolist() == [True, True, False, True, True]
    assert grade_separated(pd.DataFrame({"桥梁": ["是", "否"]})).tolist() == [True, False]


def test_sampled_census_estimates_the_count():
    n = 40
    lines = ([shapely.LineString([(0, y), (1000, y + 3)]) for y in np.linspace(10, 990, n)]
             + [shapely.LineString([(x, 0), (x + 3, 1000)]) for x in np.linspace(10, 990, n)])
    streets = gpd.GeoDataFrame(geometry=lines, crs=METRIC)
    exact = street_census(streets)
    assert exact.unnoded_crossings == n * n
    est = street_census(streets, sample_lines=30)
    assert est.sampled and abs(est.unnoded_crossings - n * n) <= 0.1 * n * n
    assert "about 1," in est.notes(noded=True, forced=None)[0] or "about " in est.notes(
        noded=True, forced=None)[0]


def test_forced_on_says_so(standard):
    unnoded, noded, estates, services = _tilted_grid(4)
    cov = living_circle(estates, services, standard, streets=unnoded, node_crossings=True)
    warned = [n for n in cov.notes if "without a shared vertex" in n]
    assert len(warned) == 1 and "joined as junctions as asked (`node_crossings=True`)" in warned[0]
    assert cov.graph.n_components == 1
