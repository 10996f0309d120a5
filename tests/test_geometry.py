"""The shared helpers written once (issue 12 item 6): polygon repair (`gis.geometry`),
id-to-text and field-name folding (`gis.text`), the metric-CRS test (`gis.crs.is_metric`).

Oracles: shapely's own `make_valid` and overlay areas geometry by geometry; a workbook
written with openpyxl (the ids as typed) read back through pandas; pyproj's axis
information and a CRS in US survey feet; the canonical headers of a decisions table.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from gis.constraints import _cell_text
from gis.crs import is_metric
from gis.decisions import read_decisions
from gis.errors import CRSError
from gis.geometry import polygonal, repair_polygons
from gis.prepare import prepare_estates
from gis.text import id_text, norm_text

SPIKE = shapely.Polygon([(0, 0), (10, 0), (10, 10), (5, 10), (5, 15), (5, 10), (0, 10)])
BOWTIE = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
FLAT = shapely.Polygon([(0, 0), (10, 0), (20, 0)])
SQUARE = shapely.box(0, 0, 5, 5)


def _check_against_make_valid(geoms):
    fix = repair_polygons(geoms)
    for k, g in enumerate(geoms):
        polygon = g.geom_type in ("Polygon", "MultiPolygon")
        if not polygon or g.is_valid:
            assert fix.geoms[k] is g  # untouched, not even copied
            assert k not in fix.repaired and k not in fix.lost
            continue
        oracle = shapely.make_valid(g)  # lines and points in it have no area
        if oracle.area == 0:
            assert k in fix.lost and fix.geoms[k].is_empty
            continue
        assert k in fix.repaired
        got = fix.geoms[k]
        assert got.geom_type in ("Polygon", "MultiPolygon") and got.is_valid
        assert got.area == pytest.approx(oracle.area, rel=1e-12)
        assert got.symmetric_difference(oracle).area == pytest.approx(0, abs=1e-9)
    assert len(fix.reasons) == len(fix.repaired)
    assert all(r.startswith(("Self-intersection", "Ring Self-intersection", "Too few",
                             "Interior is disconnected", "Hole lies outside", "Nested"))
               for r in fix.reasons)
    return fix


def test_repair_matches_make_valid_geometry_by_geometry():
    hole_outside = shapely.Polygon(SQUARE.exterior.coords, [[(7, 7), (8, 7), (8, 8), (7, 8)]])
    geoms = [SPIKE, BOWTIE, FLAT, SQUARE, hole_outside, shapely.Point(1, 1),
             shapely.LineString([(0, 0), (1, 1)]),
             shapely.MultiPolygon([SQUARE, shapely.box(4, 4, 9, 9)])]  # overlapping parts
    fix = _check_against_make_valid(geoms)
    assert fix.repaired.tolist() == [0, 1, 4, 7] and fix.lost.tolist() == [2]
    assert fix.geoms[0].geom_type == "MultiPolygon" and fix.geoms[0].area == 100.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=3, max_size=8))
def test_repair_of_random_rings_matches_make_valid(ring):
    """Random rings of 3-8 grid vertices: most cross themselves, some collapse."""
    _check_against_make_valid([shapely.Polygon(ring)])


def test_polygonal_keeps_the_polygons_of_a_collection():
    square = shapely.box(0, 0, 10, 10)
    other = shapely.box(5, 5, 15, 15)  # overlaps the square: only a dissolve makes it valid
    line = shapely.LineString([(0, 0), (-5, -5)])
    geoms = [shapely.GeometryCollection([square, line]),
             shapely.GeometryCollection([square, other, line]),
             shapely.GeometryCollection([line]), square]
    kept = polygonal(geoms)
    assert [g.geom_type for g in kept] == ["MultiPolygon"] * 3 + ["Polygon"]
    assert kept[0].area == 100.0 and kept[1].area == 200.0 and kept[2].is_empty
    assert kept[3] is square
    dissolved = polygonal(geoms, dissolve=True)
    assert dissolved[0].wkb == square.wkb  # a lone polygon comes back as it was
    assert dissolved[1].is_valid and dissolved[1].area == shapely.union(square, other).area == 175.0
    assert dissolved[2].is_empty


def test_an_estate_repaired_from_a_spike_stays_a_polygon():
    """Estates dissolve (as before the merge): the spike's stray line is dropped and the
    estate is still the Polygon make_valid found."""
    gdf = gpd.GeoDataFrame({"estate_id": ["A", "B"], "name": ["甲", "乙"]},
                           geometry=[SPIKE, shapely.box(100, 0, 150, 40)], crs="EPSG:4547")
    with pytest.warns(UserWarning, match="1 invalid polygons repaired with make_valid"):
        est = prepare_estates(gdf)
    assert list(est.geometry.geom_type) == ["Polygon", "Polygon"]
    oracle = next(g for g in shapely.make_valid(SPIKE).geoms if g.geom_type == "Polygon")
    assert est.geometry.iloc[0].wkb == oracle.wkb and est.geometry.iloc[0].area == 100.0


def test_id_text_gives_the_ids_as_typed_in_a_workbook(tmp_path):
    """Excel stores 101 as a number; pandas reads a column with a blank cell as floats
    (101.0): the id must come back as it was typed."""
    from openpyxl import Workbook

    numbers = [101, None, 2024001, 31]
    mixed = ["A-7", " 12 ", 3.5, 0]
    book = Workbook()
    sheet = book.active
    sheet.append(["estate_id", "code"])
    for a, b in zip(numbers, mixed):
        sheet.append([a, b])
    book.save(tmp_path / "ids.xlsx")
    table = pd.read_excel(tmp_path / "ids.xlsx")
    back = table["estate_id"]
    assert back.dtype == float and back.iloc[0] == 101.0  # the blank made the numbers floats
    got = [None if pd.isna(v) else id_text(v) for v in back]
    assert got == ["101", None, "2024001", "31"]
    assert [id_text(v) for v in table["code"]] == ["A-7", "12", "3.5", "0"]
    expected = got
    # Constraint layers use the same rule, with a missing or blank cell as NA.
    cells = _cell_text(pd.Series([*back.tolist(), "   "], dtype=object))
    assert [None if pd.isna(v) else v for v in cells] == [*expected, None]


def test_norm_text_folds_every_spelling_of_a_header():
    canonical = norm_text("estate_a")
    for header in ("Estate_A", "ESTATE-A", " estate a ", "estate\ta", "ｅｓｔａｔｅ＿Ａ",
                   "(estate a)", "【estate_a】", "estate/a", "estate:a", "ESTATE（A）"):
        assert norm_text(header) == canonical, header
    assert norm_text("小区编号（户數）") == norm_text("小区编号户数")


def test_decisions_read_headers_as_loosely_as_the_layers():
    """The decisions table now folds headers with the layers' rule: full-width letters,
    brackets and tabs in a header read as the canonical columns."""
    rows = [["E1", "E2", "通过"], ["E3", "E4", "不通过"]]
    plain = read_decisions(pd.DataFrame(rows, columns=["estate_a", "estate_b", "decision"]))
    loose = read_decisions(pd.DataFrame(rows, columns=["ＥＳＴＡＴＥ＿Ａ", "Estate\tB", "【决定】"]))
    assert plain.table.to_dict("records") == loose.table.to_dict("records")
    assert plain.table["decision"].tolist() == ["approve", "reject"]


@pytest.mark.parametrize(("epsg", "metric"), [
    (4326, False),   # WGS 84 degrees
    (4490, False),   # CGCS2000 degrees
    (4547, True),    # CGCS2000 3-degree GK CM 114E
    (32650, True),   # UTM 50N
    (3857, True),    # Web Mercator: metres, if badly scaled (crs.metric_crs avoids it)
    (2263, False),   # NAD83 / New York Long Island, US survey feet
    (2249, False),   # NAD83 / Massachusetts Mainland, US survey feet
])
def test_is_metric_agrees_with_pyproj_axes(epsg, metric):
    crs = CRS.from_epsg(epsg)
    units = {a.unit_name for a in crs.axis_info}
    assert is_metric(crs) is metric
    assert metric == (crs.is_projected and units <= {"metre"})


def test_neighbour_links_refuse_a_crs_in_feet():
    """Adjacency measured gaps in whatever unit the CRS had; a CRS in feet read 15 ft as
    15 m. It now uses the one metric test and refuses it."""
    from gis.adjacency import neighbour_links

    est = gpd.GeoDataFrame({"estate_id": ["A", "B"], "households": [100, 100]},
                           geometry=[shapely.box(0, 0, 100, 100), shapely.box(110, 0, 200, 100)],
                           crs="EPSG:2263")
    with pytest.raises(CRSError, match="projected metric CRS"):
        neighbour_links(est)
    assert CRS("EPSG:2263").axis_info[0].unit_name == "US survey foot"
