"""Shared fixtures: seeded synthetic towns (metric CRS) and the bundled standard."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.standards import Standard, load_standard

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "demo"
METRIC = "EPSG:4548"  # CGCS2000 / 3-degree GK CM 117E
CATEGORIES = ("community_service", "clinic", "toilet", "express", "convenience_store",
              "parking", "charging")


@pytest.fixture(scope="session")
def standard() -> Standard:
    return load_standard()


def random_town(
    seed: int,
    *,
    nx_: int = 9,
    ny_: int = 7,
    spacing: float = 120.0,
    drop: float = 0.15,
    n_estates: int = 25,
    n_services: int = 30,
    categories: tuple[str, ...] = CATEGORIES,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A jittered street grid with missing links, box estates and categorised points.

    Streets are multi-vertex polylines (a whole grid row or column, cut where links are
    missing) so junctions are shared vertices, plus a few stray segments that cross
    without a shared vertex.
    """
    rng = np.random.default_rng(seed)
    x0, y0 = 500_000.0, 3_800_000.0
    gx = x0 + np.arange(nx_) * spacing + rng.uniform(-25, 25, (ny_, nx_))
    gy = y0 + np.arange(ny_)[:, None] * spacing + rng.uniform(-25, 25, (ny_, nx_))
    lines = []
    for j in range(ny_):  # rows
        run = [(gx[j, 0], gy[j, 0])]
        for i in range(1, nx_):
            if rng.random() < drop:
                if len(run) > 1:
                    lines.append(shapely.LineString(run))
                run = [(gx[j, i], gy[j, i])]
            else:
                mid = ((gx[j, i - 1] + gx[j, i]) / 2 + rng.uniform(-8, 8),
                       (gy[j, i - 1] + gy[j, i]) / 2 + rng.uniform(-8, 8))
                run += [mid, (gx[j, i], gy[j, i])]
        if len(run) > 1:
            lines.append(shapely.LineString(run))
    for i in range(nx_):  # columns
        run = [(gx[0, i], gy[0, i])]
        for j in range(1, ny_):
            if rng.random() < drop:
                if len(run) > 1:
                    lines.append(shapely.LineString(run))
                run = [(gx[j, i], gy[j, i])]
            else:
                run.append((gx[j, i], gy[j, i]))
        if len(run) > 1:
            lines.append(shapely.LineString(run))
    for _ in range(3):  # overpasses: cross the grid with no shared vertex
        a = (x0 + rng.uniform(0, nx_ * spacing), y0 - 30)
        b = (x0 + rng.uniform(0, nx_ * spacing), y0 + ny_ * spacing)
        lines.append(shapely.LineString([a, b]))
    streets = gpd.GeoDataFrame({"name": [f"路{i}" for i in range(len(lines))]},
                               geometry=lines, crs=METRIC)
    cx = rng.uniform(x0 - 60, x0 + nx_ * spacing + 60, n_estates)
    cy = rng.uniform(y0 - 60, y0 + ny_ * spacing + 60, n_estates)
    w = rng.uniform(20, 90, n_estates)
    h = rng.uniform(20, 90, n_estates)
    estates = gpd.GeoDataFrame(
        {
            "estate_id": [f"E{i:03d}" for i in range(n_estates)],
            "name": [f"小区{i}" for i in range(n_estates)],
            "households": rng.integers(20, 800, n_estates).astype(float),
        },
        geometry=shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2),
        crs=METRIC,
    )
    sx = rng.uniform(x0 - 40, x0 + nx_ * spacing + 40, n_services)
    sy = rng.uniform(y0 - 40, y0 + ny_ * spacing + 40, n_services)
    services = gpd.GeoDataFrame(
        {
            "service_id": [f"S{i:03d}" for i in range(n_services)],
            "name": [f"设施{i}" for i in range(n_services)],
            "category": rng.choice(list(categories), n_services),
        },
        geometry=shapely.points(sx, sy),
        crs=METRIC,
    )
    # One service exactly on a street vertex: a zero-length hop.
    services.loc[0, "geometry"] = shapely.Point(gx[1, 1], gy[1, 1])
    return streets, estates, services


@pytest.fixture(params=[1, 2, 3, 4, 5])
def town(request: pytest.FixtureRequest):
    return random_town(request.param)
