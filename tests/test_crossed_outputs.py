"""A review run with barrier layers, in both languages (issue 12 item 5).

A neighbour link's ``crossed`` column holds machine values (each barrier's layer kind and
name); the words are composed when the workbook and the map are rendered. The English
outputs of a `gis review --barriers` run carry no Chinese except data values, and the
Chinese outputs keep, word for word, what the release before this change wrote (the
expected cells and tips below were copied from a run of that release on this town).

The town: five 60 m square estates A–E, 8 m apart. A river polygon (清河, layer 河流)
runs between A|B and C|D; two trunk roads (人民路, 解放路, layer 道路, class 主干路)
run between A and C; a lane (小巷, class 支路, not a barrier) between B and E. So the
river keeps A–B, C–D and the corner pairs A–D, B–C apart, the roads keep A–C apart,
B–D and B–E are linked and D–E meet only at a corner.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely
from click.testing import CliRunner

from gis.adjacency import crossed_barriers
from gis.cli import cli
from test_english_outputs import CJK, _data_values, layer_strings, untranslated

X, Y = 500_000, 3_800_000


def _town(folder: Path) -> None:
    def box(x0: float, y0: float) -> shapely.Polygon:
        return shapely.box(X + x0, Y + y0, X + x0 + 60, Y + y0 + 60)

    gpd.GeoDataFrame(
        {"小区编号": ["A", "B", "C", "D", "E"],
         "小区名称": ["甲小区", "乙小区", "丙小区", "丁小区", "戊小区"],
         "建成年份": [1990, 1992, 1988, 1995, 1991], "户数": [100, 120, 90, 80, 110],
         "建筑面积": [9000.0, 10000.0, 8000.0, 7000.0, 9500.0]},
        geometry=[box(0, 0), box(68, 0), box(0, 68), box(68, 68), box(136, 0)], crs=4548,
    ).to_file(folder / "estates.gpkg")
    gpd.GeoDataFrame({"名称": ["清河"]}, geometry=[shapely.box(X + 61, Y - 10, X + 67, Y + 140)],
                     crs=4548).to_file(folder / "河流.gpkg")
    gpd.GeoDataFrame(
        {"道路名称": ["人民路", "解放路", "小巷"], "道路等级": ["主干路", "主干路", "支路"]},
        geometry=[shapely.LineString([(X - 20, Y + 64), (X + 60, Y + 64)]),
                  shapely.LineString([(X - 20, Y + 65), (X + 60, Y + 65)]),
                  shapely.LineString([(X + 132, Y - 10), (X + 132, Y + 70)])], crs=4548,
    ).to_file(folder / "道路.gpkg")


def _input_values(folder: Path) -> list[str]:
    """Every Chinese string of the town's layers (names, fields, layer names)."""
    return [v for v in layer_strings(folder) if CJK.search(v)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crossed")
    (root / "in").mkdir()
    _town(root / "in")
    for lang in ("zh", "en"):
        result = CliRunner().invoke(cli, [
            "review", "--estates", str(root / "in" / "estates.gpkg"),
            "--barriers", str(root / "in" / "河流.gpkg"),
            "--barriers", str(root / "in" / "道路.gpkg"), "--barrier-classes", "主干路",
            "--out", str(root / lang), "--lang", lang, "-q"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return root


def _link_rows(path: Path, sheet: str) -> list[tuple]:
    return list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))


def _link_tips(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return [html.unescape(t) for t in re.findall(r'"tip": "([^"]*)"', text) if "–" in t]


def test_links_store_the_barriers_as_machine_values(runs):
    zh = gpd.read_file(runs / "zh" / "units.gpkg", layer="links")
    en = gpd.read_file(runs / "en" / "units.gpkg", layer="links")
    assert zh["crossed"].tolist() == en["crossed"].tolist()  # the same in either language
    got = {(r.estate_a, r.estate_b): crossed_barriers(r.crossed) for r in zh.itertuples()}
    river, roads = [("河流", "清河")], [("道路", "人民路"), ("道路", "解放路")]
    assert got == {("A", "B"): river, ("A", "C"): roads, ("A", "D"): river,
                   ("B", "C"): river, ("B", "D"): [], ("B", "E"): [], ("C", "D"): river,
                   ("D", "E"): []}
    first = zh.set_index(["estate_a", "estate_b"]).loc[("A", "C"), "crossed"]
    assert json.loads(first) == [{"kind": "道路", "name": "人民路"},
                                 {"kind": "道路", "name": "解放路"}]


def test_english_review_with_barriers_has_no_chinese_outside_data_values(runs):
    values = sorted({*_data_values(), *_input_values(runs / "in")}, key=len, reverse=True)
    written = {p.suffix for p in (runs / "en").rglob("*")}
    assert {".md", ".xlsx", ".html", ".docx"} <= written
    leaks = {f: sorted(r) for f, r in untranslated(runs / "en", values).items()}
    assert not leaks, f"untranslated Chinese in --lang en outputs: {leaks}"
    rows = _link_rows(runs / "en" / "review_en.xlsx", "Links")
    assert [r[4] for r in rows[1:]] == ["河流: 清河", "道路: 人民路, 道路: 解放路", "河流: 清河",
                                        "河流: 清河", None, None, "河流: 清河", None]
    assert _link_tips(runs / "en" / "units_map_en.html")[:2] == [
        "A–B: gap 8.0 m, facing 60 m, crosses 河流: 清河",
        "A–C: gap 8.0 m, facing 60 m, crosses 道路: 人民路, 道路: 解放路"]


def test_chinese_review_with_barriers_keeps_the_words_of_the_previous_release(runs):
    # Copied from the same run with the release before crossed became machine values.
    assert _link_rows(runs / "zh" / "review.xlsx", "相邻关系") == [
        ("小区A", "小区B", "间距（米）", "相邻边长（米）", "跨越障碍", "是否联动", "说明", "审查决定"),
        ("A", "B", 8, 60, "河流：清河", "否", "间隔道路/河流等障碍", None),
        ("A", "C", 8, 60, "道路：人民路、道路：解放路", "否", "间隔道路/河流等障碍", None),
        ("A", "D", 11.314, 0, "河流：清河", "否", "间隔道路/河流等障碍", None),
        ("B", "C", 11.314, 0, "河流：清河", "否", "间隔道路/河流等障碍", None),
        ("B", "D", 8, 60, None, "是", "相邻（间距与相邻边长均满足）", None),
        ("B", "E", 8, 60, None, "是", "相邻（间距与相邻边长均满足）", None),
        ("C", "D", 8, 60, "河流：清河", "否", "间隔道路/河流等障碍", None),
        ("D", "E", 11.314, 0, None, "否", "相邻边过短（仅角点相接或错位）", None),
    ]
    assert _link_tips(runs / "zh" / "units_map.html") == [
        "A–B：间距 8.0 米，相邻边 60 米，跨越河流：清河",
        "A–C：间距 8.0 米，相邻边 60 米，跨越道路：人民路、道路：解放路",
        "A–D：间距 11.3 米，相邻边 0 米，跨越河流：清河",
        "B–C：间距 11.3 米，相邻边 0 米，跨越河流：清河",
        "B–D：间距 8.0 米，相邻边 60 米",
        "B–E：间距 8.0 米，相邻边 60 米",
        "C–D：间距 8.0 米，相邻边 60 米，跨越河流：清河",
        "D–E：间距 11.3 米，相邻边 0 米",
    ]
