"""The bad-input corpus: each broken file gives a documented repair or a one-line error
naming the file, the row or field and the fix; never a traceback, never a partial output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import DEMO
from gis.cli import cli

BAD = Path(__file__).resolve().parent / "bad_inputs"
CSV = ["--input-crs", "EPSG:4326"]

# (file, layer it replaces, extra options, "error" or "ok", what the user must see)
CASES = [
    ("invalid_ring.gpkg", "estates", [], "ok", r"1 invalid polygons repaired with make_valid \(row 3: Self-intersection"),
    ("bowtie.geojson", "estates", [], "ok", r"invalid polygons repaired with make_valid \(row 5"),
    ("empty_geometry.gpkg", "estates", [], "error", r"empty_geometry.gpkg: row 4 has no geometry; draw the estate boundary"),
    ("mixed_types.gpkg", "estates", [], "error", r"mixed_types.gpkg: row 6 is LineString, not polygons"),
    ("z_coordinates.gpkg", "estates", [], "ok", r"z_coordinates.gpkg: 3D coordinates read as 2D"),
    ("no_prj.shp", "estates", [], "error", r"no_prj.shp: the layer has no CRS. Pass `--input-crs`"),
    ("wrong_crs.gpkg", "estates", [], "error", r"wrong_crs.gpkg: coordinates .* cannot be in EPSG:4490 .*look like metres"),
    ("duplicate_ids.gpkg", "estates", [], "error", r"duplicate_ids.gpkg: 1 estate_id values repeat \(XQ002\) in rows 2, 8"),
    ("households_text.gpkg", "estates", [], "error", r"households_text.gpkg: households must be a number but row 7 holds 约二百户"),
    ("negative_floor_area.gpkg", "estates", [], "error", r"negative_floor_area.gpkg: floor_area_m2 is negative in row 9"),
    ("zipped_shapefile.zip", "estates", [], "ok", r"zipped_shapefile.zip: no .cpg file; attributes read as GBK"),
    ("empty_file.gpkg", "estates", [], "error", r"empty_file.gpkg: the file is empty \(0 bytes\); export the layer again"),
    ("estates.dwg", "estates", [], "error", r"estates.dwg: unknown format '.dwg'; use GeoPackage"),
    ("text_named_xlsx.xlsx", "estates", CSV, "error", r"text_named_xlsx.xlsx: not a readable Excel file"),
    ("estate_far_from_streets.gpkg", "estates", [], "ok", r"1 estates are more than 200 m from any street \(XQ900\)"),
    ("bad_year.gpkg", "estates", [], "error", r"bad_year.gpkg: build_year \(建成年份\) is not a year in row 10 \(九十年代\)"),
    ("blank_ids.gpkg", "estates", [], "error", r"blank_ids.gpkg: row 11 has an empty estate_id"),
    ("swapped_latlon.csv", "services", CSV, "error", r"swapped_latlon.csv: .*longitude and latitude look swapped"),
    ("services_gbk.csv", "services", CSV, "ok", r"services_gbk.csv: text read as GBK"),
    ("merged_header.xlsx", "services", CSV, "ok", r"merged_header.xlsx: the header is on row 3; 2 title rows above it skipped"),
    ("header_only.csv", "services", CSV, "error", r"header_only.csv: the table has a header but no rows"),
    ("services_amap_gcj02.csv", "services", CSV, "ok", r'they look like a web-map export. Pass `coords="gcj02"` for the services'),
    ("services_no_category.gpkg", "services", [], "error", r"services_no_category.gpkg: no service matches any category"),
    ("disconnected_streets.gpkg", "streets", [], "ok", r"The street network has \d+ disconnected parts"),
    ("points_as_streets.gpkg", "streets", [], "error", r"points_as_streets.gpkg: rows 1, 2, 3, 4, 5 are Point, not lines"),
    ("unknown_gate_ids.gpkg", "gates", [], "error", r"unknown_gate_ids.gpkg: row 3 names estates that are not in the estates layer \(XQ999\)"),
]


def test_corpus_is_complete():
    files = {p.name for p in BAD.iterdir() if p.suffix not in (".py", ".shx", ".dbf", ".cpg")}
    assert {c[0] for c in CASES} == files
    assert len(CASES) >= 20


@pytest.mark.parametrize(("name", "role", "extra", "expect", "message"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_input(tmp_path, name, role, extra, expect, message):
    layers = {r: str(DEMO / f"{r}.gpkg") for r in ("estates", "services", "streets")}
    layers[role] = str(BAD / name)  # gates only in their own case: they name demo estates
    out = tmp_path / "out"
    args = ["coverage", *[a for r, p in layers.items() for a in (f"--{r}", p)],
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
    else:
        assert result.exit_code == 0, result.output
        report = (out / "gap_report_en.md").read_text(encoding="utf-8")
        assert re.search(message, report), report[-3000:]
        assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_amap_gcj02_export_converted_gives_the_wgs84_result(tmp_path):
    import geopandas as gpd
    import numpy as np

    base = ["--estates", str(DEMO / "estates.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
            "--no-map", "-q"]
    runner = CliRunner()
    wgs = runner.invoke(cli, ["coverage", *base, "--services", str(DEMO / "services.gpkg"),
                              "--out", str(tmp_path / "wgs")], catch_exceptions=False)
    gcj = runner.invoke(cli, ["coverage", *base, "--services", str(BAD / "services_amap_gcj02.csv"),
                              "--input-crs", "EPSG:4326", "--coords", "services=gcj02",
                              "--out", str(tmp_path / "gcj")], catch_exceptions=False)
    assert wgs.exit_code == gcj.exit_code == 0, gcj.output
    a = gpd.read_file(tmp_path / "wgs" / "coverage.gpkg", layer="estates").set_index("estate_id")
    b = gpd.read_file(tmp_path / "gcj" / "coverage.gpkg", layer="estates").set_index("estate_id")
    cols = [c for c in a.columns if c.startswith("dist_m_")]
    diff = np.abs(a[cols].to_numpy(float) - b[cols].to_numpy(float))
    assert np.array_equal(np.isnan(diff), np.isnan(a[cols].to_numpy(float)))
    assert np.nanmax(diff) <= 0.01 + 1e-9  # distances are stored to the centimetre
    assert (a[[c.replace("dist_m_", "covered_") for c in cols]]
            == b[[c.replace("dist_m_", "covered_") for c in cols]]).all().all()
    report = (tmp_path / "gcj" / "gap_report.md").read_text(encoding="utf-8")
    assert "坐标已由 GCJ-02 (Amap/Tencent) 转换为 WGS84" in report


# --- library messages name parameters; the CLI names its flags (issue 12 item 4) ---------

def _read_with_library(name, role, extra):
    from gis.layers import read_estates, read_gates, read_services, read_streets
    from gis.standards import load_standard

    crs = extra[extra.index("--input-crs") + 1] if "--input-crs" in extra else None
    path = str(BAD / name)
    if role == "estates":
        return read_estates(path, input_crs=crs)
    if role == "services":
        return read_services(path, load_standard(None), input_crs=crs)
    if role == "streets":
        return read_streets(path, input_crs=crs)
    return read_gates(path, read_estates(str(DEMO / "estates.gpkg")), input_crs=crs)


@pytest.mark.parametrize(("name", "role", "extra", "message"),
                         [(n, r, e, m) for n, r, e, x, m in CASES if x == "error"],
                         ids=[c[0] for c in CASES if c[3] == "error"])
def test_library_errors_name_no_flag(name, role, extra, message):
    """The readers' GisError for each broken file is the CLI's line (the same file, rows and
    fix) less the flags: inside QGIS or a notebook there is no command line to name."""
    from gis.errors import GisError

    with pytest.raises(GisError) as caught:
        _read_with_library(name, role, extra)
    text = str(caught.value)
    assert "--" not in text, text
    assert re.search(message.replace("`--input-crs`", "`input_crs`"), text), text


def test_cli_names_the_flag_where_the_library_names_the_parameter(tmp_path):
    from gis.errors import CRSError
    from gis.layers import read_estates

    with pytest.raises(CRSError, match=r"Pass `input_crs` \(e\.g\. EPSG:4490"):
        read_estates(str(BAD / "no_prj.shp"))
    args = ["coverage", "--estates", str(BAD / "no_prj.shp"), "--services",
            str(DEMO / "services.gpkg"), "--mode", "straight", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("错误 Error: ") and "Pass `--input-crs` (e.g. EPSG:4490" in line
    assert "input_crs" not in line
    # `gis programme …` prints its errors the same way.
    result = CliRunner().invoke(cli, ["programme", "plan", "--estates", str(BAD / "no_prj.shp"),
                                      "--ledger", str(tmp_path / "ledger.gpkg"),
                                      "--out", str(tmp_path / "p")])
    assert result.exit_code == 2
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("错误 Error: no_prj.shp: the layer has no CRS. Pass `--input-crs`")


def test_console_warnings_name_flags_and_reports_keep_parameters(tmp_path):
    """A row left out: the console's warning says `--invalid skip` (what the user typed),
    the report in the output folder says `invalid="skip"` (read in QGIS too)."""
    out = tmp_path / "o"
    args = ["coverage", "--estates", str(BAD / "empty_geometry.gpkg"), "--services",
            str(DEMO / "services.gpkg"), "--mode", "straight", "--invalid", "skip",
            "--lang", "en", "--no-map", "--out", str(out)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if "row 4 left out" in line]
    assert len(warned) == 1 and "(`--invalid skip`)" in warned[0], result.output
    assert 'invalid="skip"' not in result.output
    report = (out / "gap_report_en.md").read_text(encoding="utf-8")
    assert 'empty_geometry.gpkg: row 4 left out (`invalid="skip"`): no geometry.' in report
    assert "--invalid" not in report


FLAG = re.compile(r"(?<![\w-])--[a-z]")  # `--input-crs`, not an en dash or "a--b"
LIBRARY_CATALOGUES = ("inputs", "analysis", "report", "review", "maps", "programme")


@pytest.mark.parametrize("module", LIBRARY_CATALOGUES)
def test_library_catalogues_name_no_flag(module):
    """The words of the library's messages, notes and reports name parameters: only
    gis/i18n/cli.py (the CLI's own text) may name its flags."""
    import importlib

    messages = importlib.import_module(f"gis.i18n.{module}").MESSAGES
    flagged = {k: v for k, pair in messages.items() for v in pair if FLAG.search(v)}
    assert not flagged, flagged


@pytest.mark.parametrize(("name", "role", "extra"),
                         [(n, r, e) for n, r, e, x, _ in CASES if x == "ok"],
                         ids=[c[0] for c in CASES if c[3] == "ok"])
def test_library_notes_name_no_flag(name, role, extra):
    """The notes and warnings of every repaired file of the corpus name no flag either."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = _read_with_library(name, role, extra)
    texts = [str(n) for n in layer.attrs.get("notes", [])] + [str(w.message) for w in caught]
    zh = [getattr(n, "zh", "") for n in layer.attrs.get("notes", [])]
    assert not [t for t in texts + zh if FLAG.search(t)], texts


def _library_errors(tmp_path):
    """(call raising a GisError, the parameter the library names, the flag the CLI shows)."""
    import geopandas as gpd
    import numpy as np
    import scipy.sparse as sp
    import shapely

    from gis.adjacency import select_barriers
    from gis.candidates import network_candidates
    from gis.coverage import living_circle
    from gis.maps import check_basemap
    from gis.prepare import prepare_estates, prepare_services
    from gis.programme.ledger import import_progress
    from gis.siting import solve
    from gis.standards import load_standard

    crs = "EPSG:4547"
    estates = gpd.GeoDataFrame({"estate_id": ["A"]}, geometry=[shapely.box(0, 0, 50, 50)],
                               crs=crs).translate(500_000, 3_800_000)
    estates = gpd.GeoDataFrame({"estate_id": ["A"]}, geometry=estates.values, crs=crs)
    services = gpd.GeoDataFrame({"category": ["clinic"]}, geometry=[shapely.Point(500_100, 3_800_100)],
                                crs=crs)
    lane = gpd.GeoDataFrame({"名称": ["小巷"]}, geometry=[shapely.LineString([(0, 0), (100, 0)])],
                            crs=crs)
    std = load_standard(None)
    estates, services = prepare_estates(estates), prepare_services(services, standard=std)
    return [
        (lambda: living_circle(estates, services, std, mode="network"),
         "`streets`", "`--streets`"),
        (lambda: check_basemap("tianditu", None), "`token`", "`--token`"),
        (lambda: network_candidates(lane, shapely.box(-1, -1, 101, 1), spacing_m=-5.0),
         "`spacing_m=-5.0`", "`--spacing-m -5.0`"),
        (lambda: solve(sp.csc_array(np.ones((1, 1), bool)), np.ones(1), None, solver="greedy",
                       capacity=np.array([1.0])),
         '`solver="exact"`', "`--solver exact`"),
        (lambda: select_barriers(lane, source="roads.gpkg", road_classes=("主干路", "快速路")),
         '`barrier_classes="主干路,快速路"`', "`--barrier-classes 主干路,快速路`"),
        (lambda: import_progress(tmp_path / "ledger.gpkg", tmp_path / "sheet.xlsx", force=True),
         "`force` needs a `note`", "`--force` needs a `--note`"),
    ]


def test_library_errors_beyond_the_readers_name_parameters_and_the_cli_their_flags(tmp_path):
    """Errors of the analysis, siting, maps and programme code name the parameter a
    notebook user passes; `_as_flags` turns each into the flag a console user types."""
    from gis.cli import _as_flags
    from gis.errors import GisError

    for call, parameter, flag in _library_errors(tmp_path):
        with pytest.raises(GisError) as caught:
            call()
        text = str(caught.value)
        assert parameter in text and not FLAG.search(text), text
        shown = _as_flags(text)
        assert flag in shown and parameter not in shown, shown


def test_the_parameter_the_messages_name_is_the_readers_parameter():
    """"Pass `input_crs`" names a parameter every reader and preparer has (none calls it
    `crs`), and following the advice reads the file the message refused."""
    import inspect

    from gis import batch, candidates, constraints, layers, prepare, sources
    from gis.errors import CRSError

    readers = [layers.read_estates, layers.read_services, layers.read_streets,
               layers.read_barriers, layers.read_gates, layers.read_layer, sources.read_source,
               constraints.read_constraint, candidates.read_candidates, batch.read_cities,
               *(getattr(prepare, name) for name in prepare.__all__)]
    for read in readers:
        params = inspect.signature(read).parameters
        assert "input_crs" in params and "crs" not in params, read.__qualname__
    with pytest.raises(CRSError, match=r"Pass `input_crs`") as caught:
        layers.read_estates(str(BAD / "no_prj.shp"))
    assert "input_crs" in str(caught.value)
    est = layers.read_estates(str(BAD / "no_prj.shp"), input_crs="EPSG:4548")
    assert est.crs.to_epsg() == 4548 and len(est) > 0
    with pytest.raises(TypeError):
        layers.read_estates(str(BAD / "no_prj.shp"), crs="EPSG:4548")  # no alias
