"""Benchmark: the input-data checks on large layers, against the obvious whole-layer way.

Run from the repository root::

    python bench/bench_checks.py                   # 1,000,000 services, 60×60-road town
    python bench/bench_checks.py --services 100000 --roads 30

On the same seeded inputs, in one run:

a. web-map offset detection for N service points around the demo town: the obvious way
   (what gis did before: every point's nearest street, as read and as GCJ-02 and BD-09,
   three medians) against `gis.alignment.offset_notes` (every pair of layers, on samples
   of 2,000) — after checking that both find the same GCJ-02 shift on a shifted copy;
b. the street census of `gis.noding` on an unnoded city of R×R straight roads (one line
   per road, R² crossings) and on the same city noded, beside the time to build the
   walking graph it guards (`gis.network.build_walk_graph`) — after checking the census
   counts R² crossings on the first and none on the second.

Prints one table; nothing is written. Timings on a shared machine vary by ±20 %.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis.alignment import offset_notes  # noqa: E402
from gis.crs import bd09_to_gcj02, gcj02_to_wgs84, metric_crs, to_metric, wgs84_to_gcj02  # noqa: E402
from gis.layers import read_estates, read_streets  # noqa: E402
from gis.network import build_walk_graph  # noqa: E402
from gis.noding import node_streets, street_census  # noqa: E402


def _timed(func):
    t = time.perf_counter()
    out = func()
    return time.perf_counter() - t, out


def every_point_gap(services: gpd.GeoDataFrame, streets_m: gpd.GeoDataFrame, metric) -> dict:
    """The whole-layer way: each point's nearest street, as read, as GCJ-02, as BD-09."""
    tree = shapely.STRtree(np.asarray(streets_m.geometry.values))
    xy = shapely.get_coordinates(services.to_crs(4326).geometry.values)
    out = {}
    for name, fix in (("as read", lambda a, b: (a, b)), ("gcj02", gcj02_to_wgs84),
                      ("bd09", lambda a, b: gcj02_to_wgs84(*bd09_to_gcj02(a, b)))):
        pts = gpd.GeoSeries(shapely.points(*fix(xy[:, 0], xy[:, 1])), crs=4326).to_crs(metric)
        _, d = tree.query_nearest(np.asarray(pts.values), return_distance=True, all_matches=False)
        out[name] = float(np.median(d))
    return out


def bench_offsets(n: int) -> list[str]:
    est = read_estates(ROOT / "layers/demo/estates.gpkg")
    streets = read_streets(ROOT / "layers/demo/streets.gpkg")
    metric = metric_crs(est)
    streets_m = to_metric(streets, metric)
    rng = np.random.default_rng(0)
    # Services near the streets (within 15 m of a random street point), then GCJ-02 shifted.
    lines = np.asarray(streets_m.geometry.values)
    pick = rng.integers(0, len(lines), n)
    base = shapely.line_interpolate_point(lines[pick], rng.uniform(0, 1, n), normalized=True)
    xy = shapely.get_coordinates(base) + rng.uniform(-15, 15, (n, 2))
    svc = gpd.GeoDataFrame({"category": np.full(n, "clinic")}, geometry=shapely.points(xy),
                           crs=metric)
    svc = svc.to_crs(est.crs)
    lon, lat = wgs84_to_gcj02(*shapely.get_coordinates(svc.geometry.values).T)
    shifted = svc.set_geometry(gpd.GeoSeries(shapely.points(lon, lat), crs=svc.crs))
    t_all, gaps = _timed(lambda: every_point_gap(shifted, streets_m, metric))
    t_gis, notes = _timed(lambda: offset_notes({"estates": est, "streets": streets,
                                                "services": shifted}, metric))
    assert gaps["gcj02"] < 0.7 * gaps["as read"], gaps
    assert len(notes) == 1 and "--coords services=gcj02" in notes[0], notes
    return [f"| {n:,} services | {t_gis:.2f} s | {t_all:.2f} s | ×{t_all / t_gis:,.0f} |"]


def bench_census(roads: int) -> list[str]:
    span = roads * 150.0
    lines = ([shapely.LineString([(0, y), (span, y + 7)]) for y in np.linspace(20, span - 20, roads)]
             + [shapely.LineString([(x, 0), (x + 7, span)]) for x in np.linspace(20, span - 20, roads)])
    unnoded = gpd.GeoDataFrame(geometry=lines, crs=4548)
    noded = node_streets(unnoded)
    rows = []
    for label, layer in (("unnoded", unnoded), ("noded", noded)):
        t_census, census = _timed(lambda: street_census(layer))
        t_graph, _ = _timed(lambda: build_walk_graph(layer))
        want = roads * roads if label == "unnoded" else 0
        assert abs(census.unnoded_crossings - want) <= 0.1 * max(want, 1), census
        rows.append(f"| {roads}×{roads} roads {label} ({len(layer):,} lines) | {t_census:.2f} s | "
                    f"{t_graph:.2f} s | {t_census / t_graph:.0%} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=1_000_000)
    ap.add_argument("--roads", type=int, default=60)
    a = ap.parse_args()
    print("| offset check | gis (samples) | every point | ratio |\n|---|---:|---:|---:|")
    for row in bench_offsets(a.services):
        print(row)
    print("\n| street census | census | walking graph | census / graph |\n|---|---:|---:|---:|")
    for row in bench_census(a.roads):
        print(row)


if __name__ == "__main__":
    main()
