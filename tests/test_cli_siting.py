"""`gis siting` end to end: the demo, a coverage folder with a candidates file, the bundled
OSM extract, and each bad input as one clear line with nothing written."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook

from conftest import DEMO
from gis.cli import cli

CJK = re.compile(r"[\u4e00-\u9fff]")


def run(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def demo_coverage(tmp_path_factory):
    out = tmp_path_factory.mktemp("cov")
    result = run(["coverage", "--estates", str(DEMO / "estates.gpkg"), "--services",
                  str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
                  "--out", str(out), "--no-map", "-q"])
    assert result.exit_code == 0, result.output
    return out


def candidates_file(path, xy, crs, **columns):
    gdf = gpd.GeoDataFrame(columns, geometry=shapely.points(np.asarray(xy)), crs=crs)
    gdf.to_file(path, driver="GPKG")
    return path


def demo_metric_frame():
    est = gpd.read_file(DEMO / "estates.gpkg")
    from gis.crs import metric_crs

    crs = metric_crs(est)
    return est.to_crs(crs), gpd.read_file(DEMO / "streets.gpkg").to_crs(crs), crs


def test_demo_proposes_sites_for_the_worst_gaps(tmp_path):
    result = run(["demo", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "siting"
    names = {p.name for p in out.iterdir()}
    assert names == {"sites.gpkg", "siting_report.md", "siting_report.xlsx", "siting_map.html"}
    sites = gpd.read_file(out / "sites.gpkg", layer="sites")
    est = gpd.read_file(out / "sites.gpkg", layer="estates")
    cov = gpd.read_file(tmp_path / "coverage.gpkg", layer="estates")
    # The three categories lacking the most households, as the gap report counts them.
    lacking = {k: cov.loc[~cov[f"covered_{k}"], "households"].sum()
               for k in [c[8:] for c in cov.columns if c.startswith("covered_")]}
    worst = sorted(lacking, key=lambda k: -lacking[k])[:3]
    assert set(sites["category"]) == set(worst)
    for key in worst:
        sub = sites[sites["category"] == key]
        assert 1 <= len(sub) <= 3 and list(sub["order"]) == list(range(1, len(sub) + 1))
        newly = est[f"covered_after_{key}"] & ~est[f"covered_{key}"]
        assert sub["new_households"].sum() == pytest.approx(est.loc[newly, "households"].sum())
    md = (out / "siting_report.md").read_text(encoding="utf-8")
    assert md.startswith("# 新增设施选址方案") and "示例数据" in md and "精确最优" in md
    sheets = pd.read_excel(out / "siting_report.xlsx", sheet_name=None)
    assert list(sheets) == ["覆盖前后", "建议点位", "无法覆盖", "求解说明", "说明", "运行记录"]
    assert len(sheets["建议点位"]) == len(sites)
    html = (out / "siting_map.html").read_text(encoding="utf-8")
    # Layer names reach the page JSON-escaped.
    for word in ("建议新增", "新增医疗服务中心步行服务范围" if "clinic" in worst else "步行服务范围"):
        assert json.dumps(word)[1:-1] in html, word


def test_siting_from_a_coverage_folder_with_a_candidates_file(tmp_path, demo_coverage):
    est, streets, crs = demo_metric_frame()
    # Candidates on street vertices spread over the town; names are hostile on purpose.
    xy = shapely.get_coordinates(shapely.line_interpolate_point(
        streets.geometry.values[::7], 0.5, normalized=True))[:40]
    names = [f"=HYPERLINK(\"http://x\",\"地块{i}\")" if i % 2 else f"<script>alert({i})</script>"
             for i in range(len(xy))]
    path = candidates_file(tmp_path / "可用地块.gpkg", xy, crs, 地块编号=[f"D{i}" for i in range(len(xy))],
                           名称=names)
    out = tmp_path / "out"
    result = run(["siting", "--coverage", str(demo_coverage), "--streets",
                  str(DEMO / "streets.gpkg"), "--candidates", str(path), "--category", "charging",
                  "--k", "2", "--category", "toilet", "--k", "all", "--out", str(out), "--lang",
                  "en", "-q"])
    assert result.exit_code == 0, result.output
    sites = gpd.read_file(out / "sites.gpkg", layer="sites")
    assert set(sites["source"]) == {"file"} and sites["candidate_id"].str.startswith("D").all()
    assert (sites["category"] == "charging").sum() <= 2
    md = (out / "siting_report_en.md").read_text(encoding="utf-8")
    assert md.startswith("# Siting new facilities") and "Coverage before and after" in md
    # English complete: no Chinese outside data values (estate and candidate names, ids).
    from gis.standards import load_standard

    # The standard's source is a citation of Chinese documents, kept as written.
    data = set(est["小区名称"]) | set(names) | set(sites["name"]) | {load_standard().source}
    text = md
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(str(value), "")
    assert not CJK.search(text.split("## Data notes")[0]), CJK.findall(text)[:10]
    book = load_workbook(out / "siting_report_en.xlsx")
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value
    shown = [c.value for c in book["Sites"]["D"][1:]]
    assert shown == sites["name"].tolist() and len(shown) >= 2  # the names, as text
    html = (out / "siting_map_en.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in html and "Proposed" in html


def test_siting_on_the_bundled_osm_extract(tmp_path):
    pyrosm = pytest.importorskip("pyrosm")
    path = pyrosm.get_data("test_pbf")
    out = tmp_path / "osm"
    result = run(["siting", "--estates", path, "--services", path, "--streets", path,
                  "--category", "clinic", "--k", "all", "--category", "parking", "--k", "1",
                  "--out", str(out), "--no-map", "-q"])
    assert result.exit_code == 0, result.output
    summary = pd.read_excel(out / "siting_report.xlsx", sheet_name="覆盖前后")
    assert len(summary) == 2
    sites = gpd.read_file(out / "sites.gpkg", layer="sites")
    est = gpd.read_file(out / "sites.gpkg", layer="estates")
    # The extract has no clinic: every estate is a gap, LSCP covers all reachable ones.
    assert not est["covered_clinic"].any()
    clinic = sites[sites["category"] == "clinic"]
    assert len(clinic) >= 1 and est["covered_after_clinic"].sum() == clinic["new_estates"].sum()
    assert (sites["category"] == "parking").sum() <= 1


def bad_cases(tmp_path):
    est, streets, crs = demo_metric_frame()
    xy = shapely.get_coordinates(shapely.line_interpolate_point(
        streets.geometry.values[:3], 0.5, normalized=True))
    good = candidates_file(tmp_path / "good.gpkg", xy, crs, candidate_id=["A", "B", "C"])
    dup = candidates_file(tmp_path / "dup.gpkg", xy, crs, candidate_id=["A", "B", "A"])
    away = candidates_file(tmp_path / "away.gpkg", xy + 80_000, crs, candidate_id=["A", "B", "C"])
    minx, miny, maxx, maxy = est.total_bounds
    lone = np.array([[maxx + 700.0, (miny + maxy) / 2]])
    gap = float(shapely.distance(shapely.points(lone[0]), shapely.union_all(streets.geometry.values)))
    assert gap > 200.0  # the oracle for the case below
    far = candidates_file(tmp_path / "far.gpkg", np.vstack([xy, lone]), crs,
                          candidate_id=["A", "B", "C", "FAR"])
    return [
        (["--candidates", str(away), "--category", "clinic", "--k", "1"],
         r"away.gpkg: none of the 3 candidates lies within 1000 m of the estates"),
        (["--candidates", str(good), "--category", "clinic", "--k", "5"],
         r"`--k 5` for clinic: must be between 1 and the 3 usable candidates"),
        (["--candidates", str(good), "--category", "cinema", "--k", "1"],
         r"Unknown category 'cinema'"),
        (["--candidates", str(far), "--category", "clinic", "--k", "1"],
         r"far.gpkg: 1 candidates lie more than 200 m from any street \(FAR"),
        (["--candidates", str(dup), "--category", "clinic", "--k", "1"],
         r"dup.gpkg: 1 candidate_id values repeat \(A\) in rows 1, 3"),
        (["--candidates", str(good), "--category", "clinic"],
         r"1 --category but 0 --k"),
    ]


def test_bad_siting_inputs_give_one_line_and_write_nothing(tmp_path):
    for i, (extra, message) in enumerate(bad_cases(tmp_path)):
        out = tmp_path / f"out{i}"
        result = CliRunner().invoke(cli, [
            "siting", "--estates", str(DEMO / "estates.gpkg"), "--services",
            str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
            "--out", str(out), "-q", *extra])
        assert "Traceback" not in result.output
        assert result.exit_code == 2, (extra, result.output)
        errors = [ln for ln in result.output.splitlines() if ln.startswith("错误 Error:")]
        assert len(errors) == 1 and re.search(message, errors[0]), result.output
        assert not out.exists() or not any(out.iterdir()), "an output was written"


def test_a_stale_coverage_file_is_noted(tmp_path, demo_coverage):
    est = gpd.read_file(demo_coverage / "coverage.gpkg", layer="estates")
    svc = gpd.read_file(demo_coverage / "coverage.gpkg", layer="services")
    est.loc[[0, 1], "covered_clinic"] = ~est.loc[[0, 1], "covered_clinic"]
    stale = tmp_path / "coverage.gpkg"
    est.to_file(stale, layer="estates", driver="GPKG")
    svc.to_file(stale, layer="services", driver="GPKG")
    out = tmp_path / "out"
    result = run(["siting", "--coverage", str(stale), "--streets", str(DEMO / "streets.gpkg"),
                  "--category", "clinic", "--k", "1", "--out", str(out), "--no-map", "-q",
                  "--lang", "en"])
    assert result.exit_code == 0, result.output
    md = (out / "siting_report_en.md").read_text(encoding="utf-8")
    assert "coverage.gpkg: 2 estate-category results differ" in md
