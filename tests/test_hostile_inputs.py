"""The hostile-input corpus (issue 11, data side): each file through `gis coverage` gives
either one line naming the file, the rows and the fix with exit status 2 and nothing
written, or a finished run whose report says what was repaired or suspicious. Never a
traceback. Files: tests/hostile_inputs/data/, written by make_hostile_data.py."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import DEMO
from gis.cli import cli

DATA = Path(__file__).resolve().parent / "hostile_inputs" / "data"
CSV = ["--input-crs", "EPSG:4326"]

# (case id, {layer or "standard": file}, extra options, expectation, what the user must see)
# expectation: "error" (exit 2, one line), "ok" (report shows it), "ok-without" (report
# must not show it).
CASES = [
    # 1 unnoded streets
    ("unnoded_auto", {"streets": "streets_one_line_per_road.gpkg"}, [], "ok",
     r"\d+ street crossings without a shared vertex against 0 noded junctions \(100%\): the "
     r"street layer is unnoded .* so crossings were joined"),
    ("unnoded_forced_off", {"streets": "streets_one_line_per_road.gpkg"}, ["--no-node-crossings"],
     "ok", r"those crossings are NOT walkable junctions in this run, as you asked"),
    ("near_miss", {"streets": "streets_near_miss.gpkg"}, [], "ok",
     r"\d+ street line ends stop within 2 m of another line without touching it"),
    # 2 web-map offsets in either direction, a wrong --coords, every conversion listed
    ("estates_streets_gcj02", {"estates": "estates_gcj02.gpkg", "streets": "streets_gcj02.gpkg"},
     [], "ok", r'Pass `coords="gcj02"` for the estates and `coords="gcj02"` for the streets'),
    ("wrong_coords", {}, ["--coords", "services=gcj02"], "ok",
     r'`coords="gcj02"` for the services made the alignment worse'),
    ("both_converted", {"estates": "estates_gcj02.gpkg", "streets": "streets_gcj02.gpkg"},
     ["--coords", "estates=gcj02", "--coords", "streets=gcj02"], "ok",
     r"(?s)estates_gcj02.gpkg: coordinates converted from GCJ-02.*streets_gcj02.gpkg: "
     r"coordinates converted from GCJ-02"),
    # 3 one stray feature; a CRS that is not local
    ("estate_at_null_island", {"estates": "estate_at_null_island.gpkg"}, [], "error",
     r"estate_at_null_island.gpkg: row 151 lies more than 50 km from the other estates "
     r"\(XQ-ZERO\).*Correct their coordinates or delete them"),
    ("service_far_away", {"services": "services_one_far_away.gpkg"}, [], "ok",
     r"1 services lie more than 50 km from every estate \(rows 165\)"),
    ("web_mercator_crs", {}, ["--crs", "EPSG:3857"], "error",
     r"The analysis CRS EPSG:3857 .* scale error of up to 212\.\d m per km over the estates.*"
     r"Leave `--crs` out to use EPSG:4548"),
    ("neighbouring_gk_zone", {}, ["--crs", "EPSG:4547"], "ok",
     r"The analysis CRS EPSG:4547 has a scale error of up to 1\.\d m per km"),
    # 4 a gate far from its estate
    ("gate_far_from_estate", {"gates": "gate_far_from_estate.gpkg"}, [], "error",
     r"gate_far_from_estate.gpkg: row 5 \(XQ\d+, 2,\d{3} m\) lies farther than 50 m from the "
     r"estate's boundary.*--gate-tolerance-m"),
    # 9 non-finite values and malformed standards
    ("streets_nan_vertex", {"streets": "streets_nan_vertex.gpkg"}, [], "error",
     r"streets_nan_vertex.gpkg: row 7 has non-finite coordinates \(inf or NaN in 1 vertices\)"),
    ("services_inf_lon", {"services": "services_inf_lon.csv"}, CSV, "error",
     r"services_inf_lon.csv: row 4 has non-finite coordinates"),
    ("households_inf", {"estates": "households_inf.gpkg"}, [], "error",
     r"households_inf.gpkg: households must be a finite number but row 8 holds infinity"),
    ("standard_table_is_text", {"standard": "standard_table_is_text.toml"}, [], "error",
     r"standard_table_is_text.toml: \[standard\] must be a table, not 'x'"),
    ("standard_poi_words_text", {"standard": "standard_poi_words_text.toml"}, [], "error",
     r"category 'clinic': poi_words must be a list, not '诊所'"),
    ("standard_walk_m_nan", {"standard": "standard_walk_m_nan.toml"}, [], "error",
     r"category 'clinic': walk_m must be a positive number of metres, not nan"),
    ("standard_keys_differ_in_case", {"standard": "standard_keys_differ_in_case.toml"}, [],
     "error", r"category keys differ only in case \(Clinic, clinic\)"),
    # 10 ambiguous tables, other scripts, overlapping and implausible estates
    ("households_twice_differ", {"estates": "households_twice_differ.gpkg"}, [], "error",
     r"households_twice_differ.gpkg: columns households and 户数 both give households but "
     r"differ in rows 1, 2, 3, 4, 5 … \(150 in all\)"),
    ("households_twice_agree", {"estates": "households_twice_agree.gpkg"}, [], "ok",
     r"columns households and 户数 could both be households and agree; households is used"),
    ("services_traditional", {"services": "services_traditional.gpkg"}, [], "ok-without",
     r"match no category"),
    ("estates_overlapping_implausible", {"estates": "estates_overlapping_implausible.gpkg"}, [],
     "ok", r"(?s)1 estates lie inside another \(XQ002 in XQ001\).*1 pairs of estates overlap "
     r"\(XQ003/XQ004 [\d,]+ m²\).*more than 20,000 households \(XQ006\).*built after \d{4} "
     r"\(XQ007\)"),
    # 12 Shapefile names cut mid-character: the diagnosis, and no --encoding loop
    ("truncated_names", {"estates": "truncated_names/estates.shp"}, [], "error",
     r"estates.shp: 7 field names were cut at the Shapefile's 10-byte limit in the middle of a "
     r"Chinese character \(小区编…"),
    ("truncated_names_gbk", {"estates": "truncated_names/estates.shp"}, ["--encoding", "gbk"],
     "error", r"field names were cut at the Shapefile's 10-byte limit"),
]


def test_corpus_is_complete():
    used = {f for _, files, *_ in CASES for f in files.values()}
    on_disk = {str(p.relative_to(DATA)) for p in DATA.rglob("*")
               if p.is_file() and p.suffix not in (".shx", ".dbf", ".cpg", ".prj")}
    assert used == on_disk


@pytest.mark.parametrize(("case", "files", "extra", "expect", "message"), CASES,
                         ids=[c[0] for c in CASES])
def test_hostile_input(tmp_path, case, files, extra, expect, message):
    layers = {r: str(DEMO / f"{r}.gpkg") for r in ("estates", "services", "streets")}
    if "gates" in files:
        layers["gates"] = str(DEMO / "gates.gpkg")
    layers.update({r: str(DATA / f) for r, f in files.items() if r != "standard"})
    standard = ["--standard", str(DATA / files["standard"])] if "standard" in files else []
    out = tmp_path / "out"
    args = ["coverage", *[a for r, p in layers.items() for a in (f"--{r}", p)], *standard,
            "--out", str(out), "--lang", "en", "--no-map", "-q", *extra]
    result = CliRunner().invoke(cli, args)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if expect == "error":
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("错误 Error:")]
        assert len(errors) == 1, result.output
        assert re.search(message, errors[0]), errors[0]
        assert not out.exists() or not any(out.iterdir()), "an output was written"
        return
    assert result.exit_code == 0, result.output
    report = (out / "gap_report_en.md").read_text(encoding="utf-8")
    if expect == "ok":
        assert re.search(message, report), report[-3000:]
    else:
        assert not re.search(message, report), report[-3000:]


def test_traditional_and_full_width_categories_give_the_demo_result(tmp_path):
    runner = CliRunner()
    base = ["coverage", "--estates", str(DEMO / "estates.gpkg"), "--streets",
            str(DEMO / "streets.gpkg"), "--no-map", "-q"]
    a = runner.invoke(cli, [*base, "--services", str(DEMO / "services.gpkg"), "--out",
                            str(tmp_path / "a")], catch_exceptions=False)
    b = runner.invoke(cli, [*base, "--services", str(DATA / "services_traditional.gpkg"), "--out",
                            str(tmp_path / "b")], catch_exceptions=False)
    assert a.exit_code == b.exit_code == 0
    ca = gpd.read_file(tmp_path / "a" / "coverage.gpkg", layer="services")
    cb = gpd.read_file(tmp_path / "b" / "coverage.gpkg", layer="services")
    # The three full-width CONVENIENCE_STORE rows were 便民服务中心/卫生服务站 in the demo;
    # every other row keeps its category.
    assert (ca["category"].iloc[3:].to_numpy() == cb["category"].iloc[3:].to_numpy()).all()
    assert (cb["category"].iloc[:3] == "convenience_store").all()


def test_unnoded_roads_measure_like_the_same_roads_noded_by_hand(tmp_path):
    """Auto-noding the one-line-per-road layer equals running on it noded beforehand."""
    import shapely

    roads = gpd.read_file(DATA / "streets_one_line_per_road.gpkg").to_crs(4548)
    noded = gpd.GeoDataFrame(geometry=list(shapely.get_parts(shapely.node(
        shapely.multilinestrings(np.asarray(roads.geometry.values))))), crs=4548)
    noded.to_crs(4490).to_file(tmp_path / "noded.gpkg")
    runner = CliRunner()
    base = ["coverage", "--estates", str(DEMO / "estates.gpkg"), "--services",
            str(DEMO / "services.gpkg"), "--no-map", "-q"]
    auto = runner.invoke(cli, [*base, "--streets", str(DATA / "streets_one_line_per_road.gpkg"),
                               "--out", str(tmp_path / "auto")], catch_exceptions=False)
    hand = runner.invoke(cli, [*base, "--streets", str(tmp_path / "noded.gpkg"),
                               "--out", str(tmp_path / "hand")], catch_exceptions=False)
    assert auto.exit_code == hand.exit_code == 0
    a = gpd.read_file(tmp_path / "auto" / "coverage.gpkg", layer="estates")
    b = gpd.read_file(tmp_path / "hand" / "coverage.gpkg", layer="estates")
    cols = [c for c in a.columns if c.startswith("dist_m_")]
    x, y = a[cols].to_numpy(float), b[cols].to_numpy(float)
    assert np.array_equal(np.isnan(x), np.isnan(y))
    assert np.nanmax(np.abs(x - y)) <= 0.02
    report = (tmp_path / "hand" / "gap_report.md").read_text(encoding="utf-8")
    assert "无公共节点" not in report
