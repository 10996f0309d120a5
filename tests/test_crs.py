"""CRS: never guessed; analysis in the right CGCS2000 GK zone, UTM abroad, or the data's own metres."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

from gis.crs import metric_crs, require_crs, to_metric
from gis.errors import CRSError


def layer(lon: float, lat: float, crs: int | str | None = 4490) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs=crs)


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [(116.4, 4548), (114.3, 4547), (117.6, 4548), (119.2, 4549), (104.06, 4544), (121.47, 4549), (87.6, 4538)],
)
def test_china_gets_cgcs2000_3_degree_zone(lon, epsg):
    crs = metric_crs(layer(lon, 34.0))
    assert crs.to_epsg() == epsg
    assert f"CM {round(lon / 3) * 3}E" in crs.name


def test_outside_china_gets_utm():
    assert metric_crs(layer(26.94, 60.53, 4326)).to_epsg() == 32635
    assert metric_crs(layer(-74.0, 40.7, 4326)).to_epsg() == 32618


def test_metric_source_is_kept_but_web_mercator_is_not():
    gk = layer(117.6, 34.4).to_crs(4548)
    assert metric_crs(gk).to_epsg() == 4548
    assert metric_crs(layer(117.6, 34.4).to_crs(3857)).to_epsg() == 4548


def test_missing_crs_is_an_error_with_a_fix():
    with pytest.raises(CRSError, match=r"f.csv: the layer has no CRS. Pass `input_crs` \(e.g. EPSG:4490"):
        require_crs(layer(117.6, 34.4, None), source="f.csv")
    assert require_crs(layer(117.6, 34.4, None), source="f.csv", crs="EPSG:4490").crs.to_epsg() == 4490


def test_input_crs_applies_only_to_layers_without_one():
    assert require_crs(layer(117.6, 34.4), source="f.gpkg", crs="EPSG:4548").crs.to_epsg() == 4490


def test_swapped_or_metric_coordinates_in_degrees_are_caught():
    with pytest.raises(CRSError, match="longitude and latitude look swapped"):
        require_crs(layer(34.4, 117.6), source="f.csv")
    with pytest.raises(CRSError, match="look like metres"):
        require_crs(layer(500_000, 3_800_000), source="f.gpkg")


def test_to_metric_refuses_degrees():
    with pytest.raises(CRSError, match="not projected in metres"):
        to_metric(layer(117.6, 34.4), CRS.from_epsg(4490))


def test_gcj02_and_bd09_round_trips_and_known_offsets():
    import numpy as np

    from gis.crs import bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_gcj02

    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(75, 134, 2000), rng.uniform(18, 53, 2000)
    g = wgs84_to_gcj02(lon, lat)
    shift_m = np.hypot((g[0] - lon) * 111_320 * np.cos(np.radians(lat)), (g[1] - lat) * 110_540)
    assert 10 < shift_m.min() and np.median(shift_m) > 200 and shift_m.max() < 1000  # the GCJ-02 trap
    w = gcj02_to_wgs84(*g)
    assert np.abs(w[0] - lon).max() * 111_320 < 0.01 and np.abs(w[1] - lat).max() * 110_540 < 0.01
    b = gcj02_to_bd09(*g)
    back = bd09_to_gcj02(*b)
    assert np.abs(back[0] - g[0]).max() * 111_320 < 0.01
    # Tiananmen: WGS84 116.3912, 39.9073 is about 116.3974, 39.9087 in GCJ-02.
    tl = wgs84_to_gcj02(np.array([116.3912]), np.array([39.9073]))
    assert abs(tl[0][0] - 116.3974) < 2e-4 and abs(tl[1][0] - 39.9087) < 2e-4
    # Outside China nothing moves.
    out = wgs84_to_gcj02(np.array([26.9, -74.0]), np.array([60.5, 40.7]))
    assert np.array_equal(out[0], [26.9, -74.0]) and np.array_equal(out[1], [60.5, 40.7])
