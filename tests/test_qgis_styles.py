"""QGIS styles in the GeoPackages, the plugin ZIP and the missing-library message —
everything about issue 15 that needs no QGIS (tests/test_qgis.py opens them in QGIS)."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pyogrio
import pytest

from conftest import random_town
from gis.coverage import living_circle
from gis.maps import coverage as coverage_map_module
from gis.maps import units as units_map_module
from gis.report import qgis_styles as qs
from gis.report import write_coverage

ROOT = Path(__file__).resolve().parents[1]


def test_colours_are_the_html_maps_colours():
    # The reports cannot import the maps (import order), so the values are repeated there.
    assert qs.CATEGORY_COLOURS == coverage_map_module.CATEGORY_COLOURS
    assert qs.MISSING_COLOURS == coverage_map_module._MISSING_COLOURS
    assert qs.ELIGIBILITY_COLOURS == {**units_map_module._ELIGIBLE, **units_map_module._UNDECIDED}
    assert qs.OTHER_COLOUR == units_map_module._OTHER
    assert qs.CONSTRAINT_STYLE == units_map_module._CONSTRAINT_STYLE


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_style_is_well_formed_qml_and_sld(standard, lang):
    styles = {**qs.coverage_styles(standard, lang), **qs.units_styles(lang),
              **{f"sites_{k}": v for k, v in qs.siting_styles(
                  standard, list(standard.keys), lang).items()}}
    for name, style in styles.items():
        for kind in ("fill", "line", "marker"):
            qml = ET.fromstring(qs.layer_qml(style, kind).split("\n", 1)[1])
            cats = qml.find("renderer-v2/categories")
            assert [c.get("label") for c in cats] == [r.label for r in style.rules], name
            assert [c.get("value") for c in cats] == [r.value for r in style.rules], name
            assert qml.get("labelsEnabled") == ("1" if style.label_expression else "0")
            sld = ET.fromstring(qs.layer_sld(name, style, kind).split("\n", 1)[1])
            assert len(sld.findall(".//{http://www.opengis.net/se}Rule")) == len(style.rules)


def test_hostile_labels_survive_as_text():
    label = '<b>"&amp;\'</b> 小区'
    style = qs.LayerStyle('"x"', (qs.StyleRule("<v>&", label, "#102030"),),
                          label_expression="'<' || \"name\" || '&'")
    qml = ET.fromstring(qs.layer_qml(style, "fill").split("\n", 1)[1])
    cat = qml.find("renderer-v2/categories/category")
    assert cat.get("label") == label and cat.get("value") == "<v>&"
    assert qml.find("labeling/settings/text-style").get("fieldName") == "'<' || \"name\" || '&'"
    sld = ET.fromstring(qs.layer_sld("l<&", style, "fill").split("\n", 1)[1])
    assert sld.find(".//{http://www.opengis.net/se}Title").text == label


def test_coverage_gpkg_carries_default_styles(tmp_path, standard):
    streets, estates, services = random_town(3)
    cov = living_circle(estates, services, standard, streets=streets)
    for lang in ("zh", "en"):
        paths = write_coverage(cov, tmp_path / lang, lang=lang)
        con = sqlite3.connect(paths["gpkg"])
        rows = con.execute("SELECT f_table_name, f_geometry_column, useAsDefault, styleQML, "
                           "styleSLD FROM layer_styles ORDER BY f_table_name").fetchall()
        kind = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = "
                           "'layer_styles'").fetchone()
        con.close()
        assert [r[0] for r in rows] == ["estates", "services"]
        assert all(r[1] == "geom" and r[2] == 1 for r in rows)
        assert kind == ("attributes",)
        first = "设施齐全" if lang == "zh" else "all present"
        assert f'label="{first}"' in rows[0][3]
        assert standard.categories[0].label(lang) in rows[1][3]
        # GDAL still reads the layers (the styles table is an attributes table beside them).
        layers = {str(n) for n in pyogrio.list_layers(paths["gpkg"])[:, 0]}
        assert {"estates", "services"} <= layers


def test_styling_twice_leaves_one_default_per_layer(tmp_path, standard):
    streets, estates, services = random_town(4)
    cov = living_circle(estates, services, standard, streets=streets)
    gpkg = write_coverage(cov, tmp_path, lang="zh")["gpkg"]
    assert qs.style_coverage_gpkg(gpkg, standard, lang="en") == ["estates", "services"]
    con = sqlite3.connect(gpkg)
    rows = con.execute("SELECT f_table_name, COUNT(*), MAX(styleQML LIKE '%all present%') "
                       "FROM layer_styles GROUP BY f_table_name").fetchall()
    con.close()
    assert rows == [("estates", 1, 1), ("services", 1, 0)]


def test_sites_gpkg_carries_default_styles_in_one_call(tmp_path):
    """`gis siting` writes sites.gpkg with every layer styled: Chinese by default, English
    with --lang en; site colours are the maps' colours of each category's place in the
    standard (gis.maps.coverage.siting_layers)."""
    from click.testing import CliRunner

    from gis.cli import cli
    from gis.standards import load_standard

    demo = ROOT / "layers" / "demo"
    std = load_standard()
    for lang in ("zh", "en"):
        out = tmp_path / lang
        res = CliRunner().invoke(cli, [
            "siting", "--estates", str(demo / "estates.gpkg"), "--services",
            str(demo / "services.gpkg"), "--streets", str(demo / "streets.gpkg"),
            "--category", "parking", "--k", "2", "--category", "clinic", "--k", "all",
            "--lang", lang, "--no-map", "--out", str(out), "-q"], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        con = sqlite3.connect(out / "sites.gpkg")
        rows = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles "
                                "WHERE useAsDefault").fetchall())
        con.close()
        assert set(rows) == {"sites", "service_areas", "estates", "candidates"}
        sites = ET.fromstring(rows["sites"].split("\n", 1)[1])
        cats = sites.find("renderer-v2/categories")
        assert [c.get("value") for c in cats] == ["parking", "clinic"]
        colours = [sym.find("layer/Option/Option[@name='color']").get("value")
                   for sym in sites.find("renderer-v2/symbols")]
        want = [qs._rgba(coverage_map_module.CATEGORY_COLOURS[std.keys.index(k)])
                for k in ("parking", "clinic")]
        assert colours == want
        label = sites.find("labeling/settings/text-style").get("fieldName")
        assert ("'第' || \"order\"" in label) == (lang == "zh")
        assert "new_households" in label
        areas = ET.fromstring(rows["service_areas"].split("\n", 1)[1])
        assert {o.get("value") for o in areas.iter("Option")
                if o.get("name") == "outline_style"} == {"dash"}
        first = "设施齐全" if lang == "zh" else "all present"
        assert f'label="{first}"' in rows["estates"]
        layers = {str(n) for n in pyogrio.list_layers(out / "sites.gpkg")[:, 0]}
        assert {"sites", "service_areas", "estates", "candidates"} <= layers


def test_plugin_zip_builds(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_qgis_plugin"),
                          str(tmp_path)], capture_output=True, text=True, check=True)
    zip_path = Path(res.stdout.strip())
    assert zip_path.parent == tmp_path and zip_path.suffix == ".zip"
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        meta = zf.read("gis_estate_renewal/metadata.txt").decode("utf-8")
    assert {"gis_estate_renewal/__init__.py", "gis_estate_renewal/provider.py",
            "gis_estate_renewal/algorithms.py", "gis_estate_renewal/frames.py"} <= set(names)
    assert all(n.startswith("gis_estate_renewal/") and "__pycache__" not in n for n in names)
    assert "qgisMinimumVersion=3.22" in meta and "hasProcessingProvider=yes" in meta
    assert not list(tmp_path.glob("*.part"))


def _plugin_library():
    path = ROOT / "qgis_plugin" / "gis_estate_renewal" / "library.py"
    spec = importlib.util.spec_from_file_location("gis_plugin_library", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plugin_says_how_to_install_gis_when_missing(monkeypatch):
    library = _plugin_library()
    assert library.library_error() is None  # installed here
    monkeypatch.setitem(sys.modules, "gis", None)  # as in a QGIS without the library
    message = library.library_error()
    assert message is not None
    assert "pip install --break-system-packages /path/to/gis" in message
    assert "OSGeo4W Shell" in message and "Inside QGIS" in message


# --- readers on layers already in memory (what the plugin hands them) -----------------


def _demo_frame(name: str):
    import geopandas as gpd

    frame = gpd.read_file(ROOT / "layers" / "demo" / f"{name}.gpkg")
    frame.attrs["source"] = f"{name}.gpkg"
    return frame


def test_readers_take_frames_with_the_same_result(standard):
    import pandas as pd

    from gis.layers import read_estates, read_gates, read_services, read_streets
    from gis.review import read_constraint

    demo = ROOT / "layers" / "demo"
    est = read_estates(_demo_frame("estates"))
    pd.testing.assert_frame_equal(est, read_estates(demo / "estates.gpkg"))
    assert est.attrs["source"] == "estates.gpkg"
    pd.testing.assert_frame_equal(read_services(_demo_frame("services"), standard),
                                  read_services(demo / "services.gpkg", standard))
    pd.testing.assert_frame_equal(read_streets(_demo_frame("streets")),
                                  read_streets(demo / "streets.gpkg"))
    pd.testing.assert_frame_equal(read_gates(_demo_frame("gates"), est),
                                  read_gates(demo / "gates.gpkg", est))
    a = read_constraint(_demo_frame("ancient_trees"), "ancient_tree")
    b = read_constraint(demo / "ancient_trees.gpkg", "ancient_tree")
    assert a.source == b.source == "ancient_trees.gpkg"
    pd.testing.assert_frame_equal(a.layer, b.layer)


def test_frames_are_refused_like_files():
    from gis.errors import CRSError, GeometryError, InputError
    from gis.layers import read_estates

    frame = _demo_frame("estates")
    with pytest.raises(InputError, match=r"^estates\.gpkg: the estates layer is empty"):
        read_estates(frame.iloc[:0])
    no_crs = frame.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"estates\.gpkg"):
        read_estates(no_crs)
    import shapely

    bad = frame.copy()
    bad.loc[3, "geometry"] = shapely.Polygon([(0, 0), (float("inf"), 0), (1, 1)])
    with pytest.raises(GeometryError, match=r"^estates\.gpkg: row 4 has non-finite"):
        read_estates(bad)
    assert "_row" not in frame  # the caller's frame is not changed


def test_decisions_from_a_table_in_memory_read_as_the_file(tmp_path):
    """What the plugin hands `read_decisions` for a QGIS table layer: the same decisions as
    the CSV file, and the same one-line errors naming the layer."""
    import geopandas as gpd
    import pandas as pd

    from gis.decisions import read_decisions
    from gis.errors import InputError

    rows = pd.DataFrame({"unit_id": ["U-1", "", ""], "estate_a": ["", "XQ002", "XQ009"],
                         "estate_b": ["", "XQ001", "XQ010"],
                         "决定": ["拆分", "否决", ""], "说明": ["太大", "", ""]})
    rows.to_csv(tmp_path / "d.csv", index=False)
    from_file = read_decisions(tmp_path / "d.csv").table
    frame = gpd.GeoDataFrame(rows, geometry=[None] * 3)  # a table layer: no geometry
    frame.attrs["source"] = "decisions layer"
    got = read_decisions(frame)
    assert got.source == "decisions layer"
    pd.testing.assert_frame_equal(got.table, from_file)
    assert got.links("reject") == {("XQ001", "XQ002")}
    assert got.units("split")["unit_id"].tolist() == ["U-1"]
    bad = frame.assign(决定=["拆分", "maybe", ""])
    with pytest.raises(InputError, match=r"^decisions layer: line 3: decision 'maybe'"):
        read_decisions(bad)
