"""`gis units`, `gis review` and the decisions round trip through the review workbook."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from click.testing import CliRunner
from openpyxl import load_workbook

from conftest import DEMO
from gis.cli import cli

CONSTRAINTS = ["--historic-districts", "historic_districts", "--historic-buildings",
               "historic_buildings", "--ancient-trees", "ancient_trees", "--eco-redline",
               "eco_redline", "--development-boundary", "development_boundary",
               "--plan-units", "plan_units"]


def constraint_args() -> list[str]:
    return [a if a.startswith("--") else str(DEMO / f"{a}.gpkg") for a in CONSTRAINTS]


def run(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_units_writes_tables_and_explains_eligibility(tmp_path):
    result = run(["units", "--estates", str(DEMO / "estates.gpkg"), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "units.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    members = pd.read_csv(tmp_path / "unit_members.csv", encoding="utf-8-sig")
    est = gpd.read_file(DEMO / "estates.gpkg")
    assert len(members) == len(est)
    old = members["建成年份"] <= 2000
    shanty = members["小区编号"].isin(est.loc[est["棚改计划"] == "是", "小区编号"])
    assert members.loc[old & ~shanty, "所属单元"].notna().all()
    assert members.loc[~old | shanty, "所属单元"].isna().all()
    assert members.loc[shanty, "改造资格"].str.contains("棚改").all()
    units = gpd.read_file(tmp_path / "units.gpkg", layer="units")
    assert units["n_estates"].sum() == int((old & ~shanty).sum())
    links = gpd.read_file(tmp_path / "units.gpkg", layer="links")
    assert {"gap_m", "facing_m", "crossed", "linked"} <= set(links.columns)


def test_include_2001_2005_adds_estates_marked_as_such(tmp_path):
    base = run(["units", "--estates", str(DEMO / "estates.gpkg"), "--out", str(tmp_path / "a"), "-q"])
    more = run(["units", "--estates", str(DEMO / "estates.gpkg"), "--include-2001-2005",
                "--out", str(tmp_path / "b"), "-q"])
    assert base.exit_code == more.exit_code == 0
    a = pd.read_csv(tmp_path / "a" / "unit_members.csv", encoding="utf-8-sig")
    b = pd.read_csv(tmp_path / "b" / "unit_members.csv", encoding="utf-8-sig")
    added = b["所属单元"].notna() & a["所属单元"].isna()
    assert added.sum() > 0 and b.loc[added, "建成年份"].between(2001, 2005).all()
    assert b.loc[added, "改造资格"].str.contains("按需纳入").all()


def test_review_package_and_decisions_round_trip(tmp_path):
    # Source data in a projected CRS so the two GeoPackages differ.
    est = gpd.read_file(DEMO / "estates.gpkg").to_crs(4548)
    est.to_file(tmp_path / "estates.gpkg")
    out = tmp_path / "review"
    args = ["review", "--estates", str(tmp_path / "estates.gpkg"), *constraint_args(),
            "--out", str(out), "-q"]
    result = run(args)
    assert result.exit_code == 0, result.output
    assert gpd.read_file(out / "units.gpkg", layer="units").crs.to_epsg() == 4490
    assert gpd.read_file(out / "units_source_crs.gpkg", layer="units").crs.to_epsg() == 4548
    conflicts = gpd.read_file(out / "units.gpkg", layer="conflicts")
    assert {"historic_district", "ancient_tree", "eco_redline"} <= set(conflicts["kind"])
    sheets = pd.read_excel(out / "review.xlsx", sheet_name=None)
    assert list(sheets)[:5] == ["审查表", "小区资格", "相邻关系", "冲突明细", "决定执行情况"]
    table = sheets["审查表"]
    assert {"单元编号", "联动依据", "审查冲突", "决定", "说明"} <= set(table.columns)
    assert "老旧小区联动改造单元审查材料" in (out / "review.md").read_text(encoding="utf-8")

    # The reviewer fills in 决定 in the workbook and passes it back.
    joint = table[table["小区数"] >= 2].reset_index(drop=True)
    approve, split = joint.loc[0, "单元编号"], joint.loc[joint["小区数"].idxmax(), "单元编号"]
    book = load_workbook(out / "review.xlsx")
    sheet = book["审查表"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        uid = row[header.index("单元编号")].value
        if uid == approve:
            row[header.index("决定")].value = "通过"
        if uid == split:
            row[header.index("决定")].value = "拆分"
            row[header.index("说明")].value = "规模偏大，分期实施"
    book.save(tmp_path / "decided.xlsx")
    again = run([*args[:-3], "--decisions", str(tmp_path / "decided.xlsx"), "--out",
                 str(tmp_path / "again"), "-q"])
    assert again.exit_code == 0, again.output
    assert "2/2 applied" in again.output
    units = gpd.read_file(tmp_path / "again" / "units.gpkg", layer="units").set_index("unit_id")
    assert units.loc[approve, "decision"] == "approve"
    assert split not in units.index and (units["decision"] == "split").sum() >= 2
    status = pd.read_excel(tmp_path / "again" / "review.xlsx", sheet_name="决定执行情况")
    assert (status["执行情况"] == "已执行").all()


def test_demo_also_writes_the_review_package(tmp_path):
    result = run(["demo", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    review = tmp_path / "review"
    assert {"units.gpkg", "review.xlsx", "review.md"} <= {p.name for p in review.iterdir()}
    units = gpd.read_file(review / "units.gpkg", layer="units")
    assert units["coverage_gaps"].notna().any()  # coverage summary carried into units
    assert "示例数据" in (review / "review.md").read_text(encoding="utf-8")


def test_units_map_words_labels_in_its_language(tmp_path):
    """A review written in Chinese, mapped in English: the development boundary's label and
    the trees' (re-read from their layer) are worded in English; ids and species stay."""
    import re

    trees, edge = str(DEMO / "ancient_trees.gpkg"), str(DEMO / "development_boundary.gpkg")
    out = tmp_path / "review"
    result = run(["review", "--estates", str(DEMO / "estates.gpkg"), "--ancient-trees", trees,
                  "--development-boundary", edge, "--out", str(out), "--no-map", "--no-docx",
                  "-q"])
    assert result.exit_code == 0, result.output
    stored = gpd.read_file(out / "units.gpkg", layer="conflicts")
    assert "城镇开发边界以外" in set(stored["feature_name"])  # the file keeps its words
    assert "GS-001（国槐）" in set(stored["feature_name"])
    page = tmp_path / "m.html"
    result = run(["map", "units", "--units", str(out), "--ancient-trees", trees, "--lang", "en",
                  "--out", str(page)])
    assert result.exit_code == 0, result.output
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)),
                  page.read_text(encoding="utf-8"))
    assert "outside the urban development boundary" in text and "城镇开发边界以外" not in text
    assert '"tip": "GS-001 (国槐)"' in text  # the tree layer's own tooltip
