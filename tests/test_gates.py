"""Gates lie on their estate's boundary: far ones stop the run naming their rows, and the
walk from the estate to a gate set back from it is always counted."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from conftest import DEMO, METRIC
from gis.cli import cli
from gis.coverage import living_circle
from gis.errors import InputError


def _scene():
    # A straight street along y = 0; the estate 40..80 m north of it; a clinic on the
    # street 500 m east of the estate's gate.
    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1000, 0)])], crs=METRIC)
    estates = gpd.GeoDataFrame({"estate_id": ["A", "B"], "name": ["甲", "乙"],
                                "households": [10.0, 20.0]},
                               geometry=[shapely.box(100, 40, 160, 80), shapely.box(300, 40, 360, 80)],
                               crs=METRIC)
    services = gpd.GeoDataFrame({"service_id": ["s"], "name": ["诊所"], "category": ["clinic"]},
                                geometry=[shapely.Point(640, 0)], crs=METRIC)
    return streets, estates, services


def test_gate_set_back_from_the_boundary_adds_the_walk_to_it(standard):
    streets, estates, services = _scene()
    # A's gate 30 m south of its boundary (10 m from the street), B's on its boundary.
    gates = gpd.GeoDataFrame({"estate_id": ["A", "B"]},
                             geometry=[shapely.Point(140, 10), shapely.Point(340, 40)], crs=METRIC)
    cov = living_circle(estates, services, standard, streets=streets, gates=gates)
    d = cov.estates.set_index("estate_id")["dist_m_clinic"]
    # A: 30 m estate -> gate, 10 m gate -> street (node at x=140), 500 m along, 0 hop.
    assert d["A"] == pytest.approx(30 + 10 + 500, abs=0.01)
    # B: 0 m to the gate, 40 m hop to the street node at x=340, 300 m along.
    assert d["B"] == pytest.approx(40 + 300, abs=0.01)


def test_gate_far_from_its_estate_is_refused_naming_the_row(standard):
    streets, estates, services = _scene()
    gates = gpd.GeoDataFrame({"estate_id": ["A", "B", "B"]},
                             geometry=[shapely.Point(140, 40), shapely.Point(340, 40),
                                       shapely.Point(900, 60)], crs=METRIC)
    with pytest.raises(InputError, match=r"row 3 \(B, 540 m\) lies farther than 50 m from the "
                                         r"estate's boundary"):
        living_circle(estates, services, standard, streets=streets, gates=gates)
    # A wider tolerance accepts it, and the walk to it is counted.
    cov = living_circle(estates, services, standard, streets=streets, gates=gates,
                        gate_tolerance_m=600)
    assert cov.estates.set_index("estate_id")["dist_m_clinic"]["B"] == pytest.approx(
        min(40 + 300, 540 + 60 + 260), abs=0.01)


def test_cli_gate_2_6_km_away_stops_with_one_line(tmp_path):
    gates = gpd.read_file(DEMO / "gates.gpkg")
    moved = gates.to_crs(4548)
    moved.loc[4, "geometry"] = shapely.affinity.translate(moved.geometry.iloc[4], 2600, 0)
    moved.to_crs(gates.crs).to_file(tmp_path / "gates.gpkg")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "coverage", "--estates", str(DEMO / "estates.gpkg"), "--services", str(DEMO / "services.gpkg"),
        "--streets", str(DEMO / "streets.gpkg"), "--gates", str(tmp_path / "gates.gpkg"),
        "--out", str(out), "-q", "--no-map"])
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误 Error: gates.gpkg: row 5 (")
    assert "farther than 50 m" in lines[0] and "--gate-tolerance-m" in lines[0]
    assert not out.exists() or not any(out.iterdir())
