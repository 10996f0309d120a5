"""One stray feature never moves the analysis: far estates are refused with their rows
named, far services are ignored with a note, the CRS comes from a median centre, and a
given --crs that is not local and conformal is refused or noted with its scale error."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings, strategies as st
from pyproj import CRS, Geod

from conftest import random_town
from gis.coverage import living_circle
from gis.crs import data_centre, far_from_rest, metric_crs, scale_error_m_per_km, lonlat_sample
from gis.errors import CRSError, InputError
from gis.layers import read_estates

_GEOD = Geod(ellps="WGS84")


def _town_lonlat(seed: int = 2):
    streets, estates, services = random_town(seed)
    return streets.to_crs(4490), estates.to_crs(4490), services.to_crs(4490)


def _with_estate_at(estates: gpd.GeoDataFrame, lon: float, lat: float) -> gpd.GeoDataFrame:
    extra = gpd.GeoDataFrame({"estate_id": ["FAR"], "name": ["远处小区"], "households": [50.0]},
                             geometry=[shapely.box(lon, lat, lon + 0.0005, lat + 0.0005)], crs=4490)
    return pd.concat([estates, extra], ignore_index=True)


def _read(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "estates.gpkg"
        gdf.to_file(path)
        return read_estates(path)


STREETS, ESTATES, SERVICES = _town_lonlat()
CENTRE = data_centre(ESTATES)


@pytest.fixture(scope="module")
def baseline(standard):
    return living_circle(_read(ESTATES), SERVICES, standard, streets=STREETS)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(km=st.one_of(st.floats(0.3, 40.0), st.floats(60.0, 3000.0)), bearing=st.floats(0.0, 360.0))
def test_one_far_estate_never_changes_the_other_estates(standard, baseline, km, bearing):
    lon, lat, _ = _GEOD.fwd(CENTRE[0], CENTRE[1], bearing, km * 1000.0)
    layer = _with_estate_at(ESTATES, lon, lat)
    if km > 55:
        with pytest.raises(InputError) as err:
            _read(layer)
        assert re.search(rf"row {len(layer)} lies more than 50 km from the other estates \(FAR\)",
                         str(err.value))
        return
    cov = living_circle(_read(layer), SERVICES, standard, streets=STREETS)
    assert cov.analysis_crs == baseline.analysis_crs
    got = cov.estates.set_index("estate_id").loc[baseline.estates["estate_id"]]
    want = baseline.estates.set_index("estate_id")
    cols = [c for c in want.columns if c.startswith("dist_m_")]
    a, b = got[cols].to_numpy(float), want[cols].to_numpy(float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.nanmax(np.abs(a - b), initial=0.0) <= 0.01


def test_estate_at_null_island_is_refused_by_the_cli(tmp_path):
    from click.testing import CliRunner

    from conftest import DEMO
    from gis.cli import cli

    est = gpd.read_file(DEMO / "estates.gpkg")
    est.loc[len(est)] = est.iloc[0]
    est.loc[len(est) - 1, "小区编号"] = "XQ-ZERO"
    est.loc[len(est) - 1, "geometry"] = shapely.box(0, 0, 0.001, 0.001)
    est.to_file(tmp_path / "estates.gpkg")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["coverage", "--estates", str(tmp_path / "estates.gpkg"),
                                      "--services", str(DEMO / "services.gpkg"),
                                      "--streets", str(DEMO / "streets.gpkg"),
                                      "--out", str(out), "-q", "--no-map"])
    assert result.exit_code == 2
    assert "row 151 lies more than 50 km from the other estates (XQ-ZERO)" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_median_centre_ignores_a_stray_feature():
    layer = _with_estate_at(ESTATES, 0.0, 0.0)
    assert metric_crs(layer) == metric_crs(ESTATES) == CRS.from_epsg(4548)
    # The bounding box's centre would sit in the Arabian Sea, far outside every GK zone.
    b = layer.total_bounds
    assert abs((b[0] + b[2]) / 2 - data_centre(layer)[0]) > 50


def test_far_services_are_ignored_with_a_note(standard, baseline):
    extra = gpd.GeoDataFrame({"service_id": ["X"], "name": ["远处诊所"], "category": ["clinic"]},
                             geometry=[shapely.Point(CENTRE[0] + 2.0, CENTRE[1])], crs=4490)
    services = pd.concat([SERVICES, extra], ignore_index=True)
    cov = living_circle(_read(ESTATES), services, standard, streets=STREETS)
    note = [n for n in cov.notes if "from every estate" in n]
    assert len(note) == 1 and f"(rows {len(services)})" in note[0]
    cols = [c for c in baseline.estates.columns if c.startswith("dist_m_")]
    pd.testing.assert_frame_equal(cov.estates[cols], baseline.estates[cols])


def test_far_from_rest_groups_by_single_linkage():
    # Two clusters 30 km apart chained to a third 30 km further: all one group (< 50 km
    # links), so nothing is far; a point 80 km from all of them is.
    pts = [(117.0, 34.0), (117.33, 34.0), (117.66, 34.0), (117.0, 34.75)]
    gdf = gpd.GeoDataFrame(geometry=shapely.points(pts), crs=4326)
    assert far_from_rest(gdf).tolist() == [False, False, False, True]


@pytest.mark.parametrize(("crs", "refused", "per_km"), [
    ("EPSG:3857", True, 212.1),   # Web Mercator at 34.4°N
    ("EPSG:32648", True, 16.3),   # UTM 48N: central meridian 105°E, 12.6° west of the data
    ("EPSG:4547", False, 1.4),    # the neighbouring GK zone (CM 114°E): noted
    ("EPSG:4548", False, 0.04),   # the data's own GK zone: silent
])
def test_given_crs_is_checked_for_scale_error(standard, crs, refused, per_km):
    from conftest import DEMO

    from gis.layers import read_services, read_streets

    est = read_estates(DEMO / "estates.gpkg")
    err = scale_error_m_per_km(CRS(crs), lonlat_sample(est))
    assert err == pytest.approx(per_km, abs=0.1)
    svc = read_services(DEMO / "services.gpkg", standard)
    streets = read_streets(DEMO / "streets.gpkg")
    if refused:
        with pytest.raises(CRSError, match=rf"scale error of up to {per_km:,.1f} m per km"):
            living_circle(est, svc, standard, streets=streets, crs=crs)
        return
    cov = living_circle(est, svc, standard, streets=streets, crs=crs)
    noted = [n for n in cov.notes if "scale error" in n]
    assert len(noted) == (1 if per_km > 1 else 0)


def test_osm_extracts_with_distant_towns_are_noted_not_refused():
    from gis.layers import _refuse_far_estates

    layer = _with_estate_at(ESTATES, CENTRE[0] + 1.5, CENTRE[1])  # a town 138 km east
    with pytest.raises(InputError, match=r"row 26 lies more than 50 km"):
        _refuse_far_estates(layer, "estates.gpkg", [])
    notes: list[str] = []
    _refuse_far_estates(layer, "extract.osm.pbf", notes, from_osm=True)
    assert len(notes) == 1 and "1 residential areas lie more than 50 km" in notes[0]
