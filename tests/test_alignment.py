"""Web-map offsets between any pair of layers: each layer (or group of layers) shifted
to GCJ-02 or BD-09 in turn is detected and the right `coords` named; a wrong `coords`
is warned about; aligned data (the demo, the random towns) give no warning."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from conftest import DEMO, random_town
from gis.alignment import alignment, offset_notes
from gis.crs import gcj02_to_bd09, gcj02_to_wgs84, metric_crs, wgs84_to_gcj02
from gis.layers import read_estates, read_gates, read_services, read_streets


@pytest.fixture(scope="module")
def demo(standard):
    est = read_estates(DEMO / "estates.gpkg")
    return {"estates": est, "services": read_services(DEMO / "services.gpkg", standard),
            "streets": read_streets(DEMO / "streets.gpkg"),
            "gates": read_gates(DEMO / "gates.gpkg", est)}


def _apply(gdf, func, coords=None):
    out = gdf.copy()
    out["geometry"] = shapely.transform(np.asarray(gdf.geometry.values),
                                        lambda xy: np.column_stack(func(xy[:, 0], xy[:, 1])))
    out.attrs = dict(gdf.attrs)
    if coords:
        out.attrs["coords"] = coords
    return out


def _to(system):
    if system == "gcj02":
        return wgs84_to_gcj02
    return lambda lon, lat: gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def test_aligned_demo_gives_no_warning(demo):
    found = alignment(demo, metric_crs(demo["estates"]))
    assert found is not None and not found.significant
    assert offset_notes(demo, metric_crs(demo["estates"])) == []


@pytest.mark.parametrize("seed", range(1, 9))
def test_random_towns_give_no_warning(seed):
    streets, estates, services = random_town(seed)
    assert offset_notes({"estates": estates, "services": services, "streets": streets},
                        estates.crs) == []


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
@pytest.mark.parametrize("shifted", [
    ("services",),                       # Amap POIs among surveyed estates and streets
    ("estates", "streets", "gates"),     # traced on Amap, services from OSM: the reverse
    ("estates", "streets"),
    ("estates",), ("streets",), ("gates",), ("estates", "gates"),
])
def test_each_shifted_layer_is_detected_and_named(demo, shifted, system):
    layers = {r: _apply(g, _to(system)) if r in shifted else g for r, g in demo.items()}
    notes = offset_notes(layers, metric_crs(demo["estates"]))
    assert len(notes) == 1, notes
    # The library names its parameter, per layer; the CLI shows it as --coords LAYER=SYSTEM.
    fix = " and ".join(f'`coords="{system}"` for the {r}' for r in sorted(shifted))
    assert f"Pass {fix}." in notes[0]
    assert "--" not in notes[0]
    assert "look like a web-map export" in notes[0]


def test_wrong_coords_is_warned_about(demo):
    # Services in WGS84, but the user said they were GCJ-02: the conversion moved them off.
    wrong = dict(demo, services=_apply(demo["services"], gcj02_to_wgs84, coords="gcj02"))
    notes = offset_notes(wrong, metric_crs(demo["estates"]))
    assert len(notes) == 1
    assert '`coords="gcj02"` for the services made the alignment worse' in notes[0]
    # The right conversion of really shifted services is not warned about.
    right = dict(demo, services=_apply(_apply(demo["services"], wgs84_to_gcj02), gcj02_to_wgs84,
                                       coords="gcj02"))
    assert offset_notes(right, metric_crs(demo["estates"])) == []


def test_detection_reports_the_gaps_it_saw(demo):
    layers = dict(demo, services=_apply(demo["services"], wgs84_to_gcj02))
    found = alignment(layers, metric_crs(demo["estates"]))
    assert found.best["services"] == "gcj02"
    before = found.gaps_as_read[("services", "streets")]
    after = found.gaps_best[("services", "streets")]
    # Converting back restores the unshifted gap (same sample, inverse to < 1 cm).
    truth = alignment(demo, metric_crs(demo["estates"])).gaps_as_read[("services", "streets")]
    assert after == pytest.approx(truth, abs=0.05) and before > 1.3 * after


def test_outside_china_is_not_checked():
    streets, estates, services = random_town(1)
    far = {k: v.to_crs(4326) for k, v in
           {"estates": estates, "services": services, "streets": streets}.items()}
    moved = {k: _apply(v, lambda lon, lat: (lon - 120.0, lat + 10.0)) for k, v in far.items()}
    for v in moved.values():
        v.attrs["coords"] = "as labelled"
    assert alignment(moved, metric_crs(moved["estates"])) is None


def test_checks_use_a_sample_of_a_large_layer():
    # 60,000 services: the alignment check measures SAMPLE of them, not every one.
    from gis.alignment import SAMPLE, _sample_points

    rng = np.random.default_rng(0)
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(117.5, 117.7, 60_000),
                                                   rng.uniform(34.3, 34.5, 60_000)), crs=4326)
    xy = _sample_points(pts, "services", np.random.default_rng(1))
    assert len(xy) == SAMPLE == 2000
    assert np.isin(xy[:, 0], shapely.get_coordinates(pts.geometry.values)[:, 0]).all()


def test_a_few_gates_do_not_switch_the_check_off(demo):
    # Five gates cannot be judged, but the services beside them still can.
    layers = dict(demo, gates=demo["gates"].iloc[:5],
                  services=_apply(demo["services"], wgs84_to_gcj02))
    found = alignment(layers, metric_crs(demo["estates"]))
    assert found is not None and ("gates", "estates") not in found.gaps_as_read
    assert found.best["services"] == "gcj02" and found.significant


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weak_signal_services_scattered_off_the_streets(demo, seed):
    # Services scattered up to 60 m from where they stand (entrances, back yards): the old
    # services-to-streets test alone saw the median gap shrink by a fifth at most; the pairs
    # together still name the shift, and never one that is not there.
    import geopandas as gpd

    metric = metric_crs(demo["estates"])
    rng = np.random.default_rng(seed)
    svc = demo["services"].to_crs(metric)
    xy = shapely.get_coordinates(svc.geometry.values) + rng.uniform(-60, 60, (len(svc), 2))
    scattered = svc.set_geometry(gpd.GeoSeries(shapely.points(xy), crs=metric)).to_crs(
        demo["services"].crs)
    scattered.attrs = dict(demo["services"].attrs)
    assert offset_notes(dict(demo, services=scattered), metric) == []
    notes = offset_notes(dict(demo, services=_apply(scattered, wgs84_to_gcj02)), metric)
    assert len(notes) == 1 and 'Pass `coords="gcj02"` for the services.' in notes[0]
