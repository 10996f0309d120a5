"""The command line end to end: demo, straight-line mode, gates, real OSM, and bad input."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DEMO
from gis.cli import cli


def run(args: list[str]):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result


def demo_args(out, *extra: str) -> list[str]:
    return ["coverage", "--estates", str(DEMO / "estates.gpkg"), "--services",
            str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
            "--out", str(out), "-q", *extra]


def test_demo_writes_report_tables_and_map(tmp_path):
    result = run(["demo", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert {"coverage.gpkg", "coverage.csv", "gap_report.md", "gap_report.xlsx",
            "coverage_map.html"} <= names
    assert not [n for n in names if n.startswith(".")], "staging files left behind"
    est = gpd.read_file(tmp_path / "coverage.gpkg", layer="estates")
    assert len(est) == 150 and est.crs.to_epsg() == 4490
    assert {f"dist_m_{k}" for k in ("clinic", "toilet", "charging")} <= set(est.columns)
    raw = (tmp_path / "coverage.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel/WPS read UTF-8
    csv = pd.read_csv(tmp_path / "coverage.csv", encoding="utf-8-sig")
    assert csv.columns[0] == "小区编号" and len(csv) == 150
    md = (tmp_path / "gap_report.md").read_text(encoding="utf-8")
    assert md.startswith("# 15分钟生活圈设施覆盖缺口报告") and "示例数据" in md
    assert "字段对应 小区编号→estate_id" in md  # notes speak Chinese too
    assert (csv["距离计算方式"] == "路网步行距离").all() and (est["dist_mode"] == "network").all()
    sheets = pd.read_excel(tmp_path / "gap_report.xlsx", sheet_name=None)
    assert list(sheets) == ["覆盖率", "缺口清单", "补点建议", "小区明细", "说明", "运行记录"]
    gaps = sheets["缺口清单"]
    n_gaps = int((~est[[c for c in est.columns if c.startswith("covered_")]]).sum().sum())
    assert len(gaps) == n_gaps > 0
    html = (tmp_path / "coverage_map.html").read_text(encoding="utf-8")
    assert "示例数据" in html and "cdn.jsdelivr" not in html and "L.map(" in html


def test_gates_change_some_distances(tmp_path):
    plain = run(demo_args(tmp_path / "a", "--no-map"))
    gated = run(demo_args(tmp_path / "b", "--no-map", "--gates", str(DEMO / "gates.gpkg")))
    assert plain.exit_code == 0 and gated.exit_code == 0
    a = gpd.read_file(tmp_path / "a" / "coverage.gpkg", layer="estates").set_index("estate_id")
    b = gpd.read_file(tmp_path / "b" / "coverage.gpkg", layer="estates").set_index("estate_id")
    gates = gpd.read_file(DEMO / "gates.gpkg")
    gated_ids = set(gates["小区编号"])
    others = [i for i in a.index if i not in gated_ids]
    cols = [c for c in a.columns if c.startswith("dist_m_")]
    pd.testing.assert_frame_equal(a.loc[others, cols], b.loc[others, cols])
    # Gated estates are entered only through their gates, so some of their distances move.
    assert (a.loc[sorted(gated_ids), cols].fillna(1e9) != b.loc[sorted(gated_ids), cols].fillna(1e9)).any().any()


def test_straight_mode_is_labelled(tmp_path):
    result = run(["coverage", "--estates", str(DEMO / "estates.gpkg"), "--services",
                  str(DEMO / "services.gpkg"), "--mode", "straight", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "gap_report.md").read_text(encoding="utf-8")
    assert "直线距离" in md
    csv = pd.read_csv(tmp_path / "coverage.csv", encoding="utf-8-sig")
    assert (csv["距离计算方式"] == "直线距离").all()
    est = gpd.read_file(tmp_path / "coverage.gpkg", layer="estates")
    assert (est["dist_mode"] == "straight").all()
    assert "直线距离" in (tmp_path / "coverage_map.html").read_text(encoding="utf-8")


def test_english_report(tmp_path):
    result = run(demo_args(tmp_path, "--lang", "en", "--no-map"))
    assert result.exit_code == 0
    md = (tmp_path / "gap_report_en.md").read_text(encoding="utf-8")
    assert md.startswith("# 15-minute living circle: facility coverage gaps")
    assert "Public toilet" in md


def test_real_osm_pbf_through_the_cli(tmp_path):
    pyrosm = pytest.importorskip("pyrosm")
    pbf = pyrosm.get_data("test_pbf")
    result = run(["coverage", "--estates", pbf, "--services", pbf, "--streets", pbf,
                  "--out", str(tmp_path), "-q", "--no-map"])
    assert result.exit_code == 0, result.output
    est = gpd.read_file(tmp_path / "coverage.gpkg", layer="estates")
    analysed = est[est["analysed"].astype(bool)]
    assert len(analysed) == 24 and analysed["dist_m_parking"].notna().sum() >= 20
    # The extract's collapsed areas stay in the table as not analysed, with the reason.
    left_out = est[~est["analysed"].astype(bool)]
    assert len(left_out) == 1 and left_out["not_analysed_reason"].str.contains("面积为零").all()


def test_bad_input_exits_2_with_message_and_writes_nothing(tmp_path):
    bad = tmp_path / "estates.gpkg"
    est = gpd.read_file(DEMO / "estates.gpkg")
    est.loc[3, "小区编号"] = est.loc[0, "小区编号"]
    est.to_file(bad)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, demo_args(out)[:2] + [str(bad)] + demo_args(out)[3:])
    assert result.exit_code == 2
    assert "estates.gpkg" in result.output and "XQ001" in result.output and "rows 1, 4" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_failure_while_writing_leaves_previous_outputs_untouched(tmp_path, monkeypatch):
    assert run(demo_args(tmp_path, "--no-map")).exit_code == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    import gis.report.coverage

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(gis.report.coverage, "_xlsx", broken)
    # A write failure is one line and exit 2, not a traceback.
    result = run(demo_args(tmp_path, "--no-map", "--lang", "zh"))
    assert result.exit_code == 2 and "disk full" in result.output
    assert "Traceback" not in result.output
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # nothing half-written, nothing replaced, no staging folder left


def test_help_speaks_planner():
    result = run(["coverage", "--help"])
    assert result.exit_code == 0
    for words in ("小区边界", "步行路网", "coverage.csv", "metres", "--input-crs"):
        assert words in result.output
