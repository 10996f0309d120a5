"""The ledger (台账): idempotent all-or-nothing imports, append-only history, validated
transitions, concurrent imports, bad progress sheets; bulletins against a hand count."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import subprocess
import sys
import textwrap

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import ROOT
from gis.errors import InputError
from gis.programme.bulletin import bulletin_figures, write_bulletin
from gis.programme.catalogue import load_catalogue
from gis.programme.ledger import (create_ledger, export_progress, import_progress,
                                  ledger_events, ledger_state)

TODAY = dt.date(2022, 12, 31)
# estate, district, plan year, households, floor area
ESTATES = [("A1", "城关区", 2022, 100, 8000.0), ("A2", "城关区", 2022, 200, 15000.0),
           ("B1", "东城区", 2022, 300, 20000.0), ("B2", "东城区", 2021, 50, 4000.0),
           ("B3", "东城区", None, 80, 6000.0)]


@pytest.fixture
def ledger(tmp_path):
    reg = gpd.GeoDataFrame({
        "estate_id": [e[0] for e in ESTATES], "name": [f"小区{e[0]}" for e in ESTATES],
        "district": [e[1] for e in ESTATES], "subdistrict": "街道",
        "unit_id": [f"U-{e[0]}" for e in ESTATES], "build_year": 1990,
        "households": [e[3] for e in ESTATES], "floor_area_m2": [e[4] for e in ESTATES],
        "priority": 0.5, "has_property_management": [1, 0, 1, 1, 0],
        "covered": ["charging", "", "charging", "", ""],
        "plan_year": pd.array([e[2] for e in ESTATES], dtype="Int64")},
        geometry=[shapely.box(i * 100, 0, i * 100 + 50, 50) for i in range(len(ESTATES))],
        crs="EPSG:4548")
    items = pd.DataFrame([
        ("A1", "water_supply", "basic", "供水"), ("A1", "charging", "improve", "充电设施"),
        ("A2", "roads", "basic", "道路"), ("B1", "market", "upgrade", "便民市场"),
        ("B2", "gas", "basic", "供气")],
        columns=["estate_id", "item_key", "item_class", "name_zh"])
    items["origin_text"] = "摸底调查缺项"
    meta = {"name_zh": "测试", "name_en": "test", "start_by_month": 6,
            "years": [{"year": 2021, "estates": 1}, {"year": 2022, "estates": 3}]}
    path = tmp_path / "台账.gpkg"
    create_ledger(path, reg, items, meta, plan_date="2021-01-01")
    return path


def sheet(tmp_path, rows, name="进度.xlsx", cols=("小区编号", "县区", "进度状态", "日期", "完成内容")):
    path = tmp_path / name
    pd.DataFrame(rows, columns=list(cols)).to_excel(path, index=False)
    return path


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


GOOD = [("A1", "城关区", "设计", "2022-02-01", ""), ("A1", "城关区", "审查", "2022-03-01", ""),
        ("A1", "城关区", "开工", "2022-04-01", ""),
        ("A1", "城关区", "完工", "2022-05-20", "供水、充电设施"),
        ("A2", "城关区", "设计", "2022-02-10", ""), ("A2", "城关区", "审查", "2022-03-10", ""),
        ("A2", "城关区", "开工", "2022-06-15", "")]


def test_import_is_idempotent_and_history_append_only(ledger, tmp_path):
    path = sheet(tmp_path, [*GOOD, ("B1", "东城区", None, None, None)])  # B1: nothing to report
    first = import_progress(ledger, path, district="城关区", today=TODAY)
    assert (first.status_changes, first.items_done) == (7, 2)
    before = ledger_events(ledger)
    again = import_progress(ledger, path, district="城关区", today=TODAY)
    assert again.events == 0
    pd.testing.assert_frame_equal(ledger_events(ledger), before)
    # the exported sheet imports without a change either
    out = export_progress(ledger, tmp_path / "export.xlsx", district="城关区")
    assert import_progress(ledger, out, today=TODAY).events == 0
    # the history refuses edits at the database level
    con = sqlite3.connect(ledger)
    for sql in ("UPDATE programme_events SET new_value='验收'", "DELETE FROM programme_events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(sql)
    con.close()
    # a later import only appends: the earlier events are untouched
    import_progress(ledger, sheet(tmp_path, [("A1", "城关区", "验收", "2022-07-01", "")],
                                  "b.xlsx"), today=TODAY)
    after = ledger_events(ledger)
    pd.testing.assert_frame_equal(after.iloc[:len(before)], before)
    assert after.iloc[-1][["estate_id", "old_value", "new_value"]].tolist() == ["A1", "完工", "验收"]


def test_transitions_are_validated_unless_forced_with_a_note(ledger, tmp_path):
    skip = sheet(tmp_path, [("B1", "东城区", "开工", "2022-03-01", "")])
    h = digest(ledger)
    with pytest.raises(InputError, match=r"B1 计划→开工 skips 设计、审查; record each step"):
        import_progress(ledger, skip, today=TODAY)
    assert digest(ledger) == h
    with pytest.raises(InputError, match="`force` needs a `note`"):
        import_progress(ledger, skip, force=True, today=TODAY)
    r = import_progress(ledger, skip, force=True, note="区住建局确认已完成设计审查", today=TODAY)
    assert r.status_changes == 1
    ev = ledger_events(ledger).iloc[-1]
    assert (ev["forced"], ev["old_value"], ev["new_value"]) == (1, "计划", "开工")
    assert "区住建局确认" in ev["note"]
    back = sheet(tmp_path, [("B1", "东城区", "设计", "2022-04-01", "")], "back.xlsx")
    with pytest.raises(InputError, match=r"开工→设计 goes back"):
        import_progress(ledger, back, today=TODAY)


BAD = [
    ([("A9", "城关区", "设计", "2022-02-01", "")], r"row 3: 小区编号 'A9' is not in the ledger "
                                                 r"\(did you mean A[12]\?\)"),
    ([("A1", "城关区", "设计", "2023-02-01", "")], r"row 3: date 2023-02-01 is in the future"),
    ([("A1", "城关区", "设计", "2020-02-01", "")], r"before the plan starts \(2021-01-01\)"),
    ([("A1", "城关区", "设汁", "2022-02-01", "")], r"status '设汁' is not one of .*did you mean 设计\?"),
    ([("A1", "城关区", "设计", "2022-02-01", ""), ("A1", "城关区", "设计", "2022-02-01", "")],
     r"row 4 repeats row 3"),
    ([("B1", "东城区", "设计", "2022-02-01", "")], r"B1 belongs to 东城区, not to 城关区 \(a sheet of "
                                                 r"another district\?\)"),
    ([("A1", "东城区", "设计", "2022-02-01", "")], r"A1 belongs to 城关区 in the ledger, not 东城区"),
    ([("A1", "城关区", "设计", "2022-02-01", "电梯")], r"'电梯' is not in A1's content list"),
    ([("A1", "城关区", "设计", "昨天", "")], r"date '昨天' is not a date"),
]


@pytest.mark.parametrize(("rows", "message"), BAD)
def test_bad_progress_sheets_leave_the_ledger_untouched(ledger, tmp_path, rows, message):
    # every bad sheet also carries a good row: all or nothing
    path = sheet(tmp_path, [("A2", "城关区", "设计", "2022-02-10", ""), *rows])
    h = digest(ledger)
    with pytest.raises(InputError, match=message) as err:
        import_progress(ledger, path, district="城关区", today=TODAY)
    assert "ledger is unchanged" in str(err.value) and "\n" not in str(err.value)
    assert digest(ledger) == h


def test_merged_header_and_newer_ledger_are_refused(ledger, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(["城关区老旧小区改造进度表（2022年6月）"])
    ws.merge_cells("A1:E1")
    ws.append(["小区编号", "县区", "进度状态", "日期", "完成内容"])
    ws.append(["A1", "城关区", "设计", "2022-02-01", None])
    path = tmp_path / "merged.xlsx"
    book.save(path)
    h = digest(ledger)
    with pytest.raises(InputError, match=r"merged.xlsx: the header is on row 2 under 1 merged "
                                         r"title row\(s\); delete the title rows"):
        import_progress(ledger, path, today=TODAY)
    assert digest(ledger) == h
    con = sqlite3.connect(ledger)
    con.execute("UPDATE programme_meta SET value='2' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(InputError, match=r"written by a newer gis \(schema 2; this version "
                                         r"reads up to 1\)"):
        import_progress(ledger, sheet(tmp_path, GOOD), today=TODAY)


def test_two_processes_importing_at_once_lose_nothing(ledger, tmp_path):
    a = sheet(tmp_path, GOOD, "a.xlsx")
    b = sheet(tmp_path, [("B1", "东城区", "设计", "2022-02-01", ""),
                         ("B1", "东城区", "审查", "2022-03-01", "便民市场"),
                         ("B2", "东城区", "设计", "2021-03-01", "")], "b.xlsx")
    code = textwrap.dedent("""
        import datetime as dt, sys, time
        from gis.programme.ledger import import_progress
        start = float(sys.argv[3])
        while time.time() < start:
            time.sleep(0.005)
        r = import_progress(sys.argv[1], sys.argv[2], today=dt.date(2022, 12, 31))
        print(r.events)
    """)
    import os
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = str(time.time() + 3)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(ledger), str(s), start],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for s in (a, b)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted(int(o[0]) for o in outs) == [4, 9]
    est, items = ledger_state(ledger)
    status = dict(zip(est["estate_id"], est["status"]))
    assert status == {"A1": "完工", "A2": "开工", "B1": "审查", "B2": "设计", "B3": "储备"}
    ev = ledger_events(ledger)
    assert len(ev[ev["source_file"] != "plan"]) == 13
    assert ev["event_id"].is_unique and ev["event_id"].is_monotonic_increasing


def test_bulletin_figures_equal_a_hand_count(ledger, tmp_path):
    import_progress(ledger, sheet(tmp_path, GOOD), today=TODAY)
    import_progress(ledger, sheet(tmp_path, [("B2", "东城区", "设计", "2021-03-01", ""),
                                             ("B2", "东城区", "审查", "2021-04-01", ""),
                                             ("B2", "东城区", "开工", "2021-05-01", "供气")],
                                  "b.xlsx"), today=TODAY)
    cat = load_catalogue()
    f = bulletin_figures(ledger, dt.date(2022, 7, 31), cat)
    prog = f["progress"].set_index("县区")
    # By hand: 2022 plan = A1, A2 (城关区), B1 (东城区). A1 finished 05-20; A2 started
    # 06-15; B1 untouched. B2 (2021) started, never finished. B3 in the reserve.
    assert prog.loc["城关区", ["计划小区", "已开工", "已完工", "已验收"]].tolist() == [2, 2, 1, 0]
    assert prog.loc["东城区", ["计划小区", "已开工", "已完工"]].tolist() == [1, 0, 0]
    assert prog.loc["合计", ["计划小区", "已开工", "已完工"]].tolist() == [3, 2, 1]
    assert prog.loc["合计", "计划户数"] == 100 + 200 + 300
    assert prog.loc["合计", "完工户数"] == 100 and prog.loc["合计", "完工建筑面积m2"] == 8000
    assert prog.loc["城关区", "完工率"] == 0.5
    assert prog.loc["合计", ["开工户数", "开工建筑面积m2"]].tolist() == [300, 23000]
    street = f["by_subdistrict"].set_index(["县区", "街道"])
    assert street.loc[("城关区", "街道"), ["计划小区", "已开工", "已完工"]].tolist() == [2, 2, 1]
    assert street.loc[("东城区", "街道"), ["计划小区", "已开工"]].tolist() == [1, 0]
    assert sorted(f["behind"]["小区编号"]) == ["B1", "B2"]  # B1: not started after June
    items = f["items"].set_index("类别")
    assert items.loc["基础类"].tolist() == [3, 2]  # 供水 (A1), 供气 (B2) of 供水, 道路, 供气
    assert items.loc["完善类"].tolist() == [1, 1] and items.loc["提升类"].tolist() == [1, 0]
    mon = f["monthly"].set_index("月份")
    assert mon.loc["2022-04"].tolist() == [1, 0] and mon.loc["2022-06"].tolist() == [2, 1]
    assert f["target"] == 3
    chk = f["checklist"].set_index("标准")
    # one finished estate (A1): it lacked 供水 and 充电设施, both done, charging covered
    assert chk.loc["水管路畅通", ["完工小区", "达标"]].tolist() == [1, 1]
    assert chk.loc["15分钟生活圈内有充电设施", "达标"] == 1
    # June: A2 not yet started by 05-31 → the May bulletin shows it behind only after June
    may = bulletin_figures(ledger, dt.date(2022, 5, 31), cat)
    assert may["progress"].set_index("县区").loc["合计", ["已开工", "已完工"]].tolist() == [1, 1]
    paths = write_bulletin(ledger, tmp_path / "out", cat, month="2022-07")
    assert set(paths) == {"md", "xlsx", "by_district", "by_month", "map", "html_map"}
    from openpyxl import load_workbook

    ws = load_workbook(paths["xlsx"]).worksheets[0]
    assert len(ws._images) == 3
    assert "已开工2个" in paths["md"].read_text(encoding="utf-8")
    ev = write_bulletin(ledger, tmp_path / "out", cat, year=2021, lang="en")
    text = ev["md"].read_text(encoding="utf-8")
    assert "Yearly evaluation 2021" in text and "| total | 2021 | 1 | 1 | 0 | no |" in text
    assert "| 东城区 | 2021 | 1 | 1 | 0 | no |" in text
    assert "| 东城区 | B2 | 小区B2 | 2021 | started | planned for 2021, not finished by 2021-12-31 |" in text


def test_programme_map_keeps_names_as_text(tmp_path):
    from gis.maps._page import write_map
    from gis.programme.progress_map import programme_map

    geo = gpd.GeoDataFrame({
        "estate_id": ["E1", "E2", "E3"], "name": ["<img src=x onerror=alert(1)>", "乙", "丙"],
        "district": ["城关区", "东城区", None],
        "plan_year": pd.array([2021, 2022, None], dtype="Int64"),
        "status": ["完工", "开工", "储备"]},
        geometry=[shapely.box(i * 100, 0, i * 100 + 50, 50) for i in range(3)], crs="EPSG:4548")
    path = write_map(programme_map(geo, illustrative=True), tmp_path / "m.html")
    text = path.read_text(encoding="utf-8")
    assert "<img src=x" not in text
    assert "&lt;img src=x" in text or "\\u0026lt;img src=x" in text
    assert "改造计划年度与进度（示例数据，虚构县城）" in text
    assert "#d7301f" in text and "#fd8d3c" in text  # finished and started outlines


def test_plan_year_changes_through_the_sheet(ledger, tmp_path):
    cols = ("小区编号", "县区", "进度状态", "日期", "计划年度")
    h = digest(ledger)
    with pytest.raises(InputError, match=r"B3 enters the plan \(储备→计划\) without a 计划年度"):
        import_progress(ledger, sheet(tmp_path, [("B3", "东城区", "计划", "2022-03-01", None)],
                                      cols=cols), today=TODAY)
    with pytest.raises(InputError, match=r"计划年度 '2030' is not a plan year \(2021, 2022\)"):
        import_progress(ledger, sheet(tmp_path, [("B3", "东城区", "计划", "2022-03-01", 2030)],
                                      cols=cols), today=TODAY)
    with pytest.raises(InputError, match=r"A1 计划年度 2021 differs from the ledger's 2022; "
                                         r"changing a plan year needs `force`"):
        import_progress(ledger, sheet(tmp_path, [("A1", "城关区", "计划", "2022-01-01", 2021)],
                                      cols=cols), today=TODAY)
    assert digest(ledger) == h
    r = import_progress(ledger, sheet(tmp_path, [("B3", "东城区", "计划", "2022-03-01", 2022)],
                                      cols=cols), today=TODAY)
    assert (r.status_changes, r.plan_year_changes, r.events) == (1, 1, 2)
    est, _ = ledger_state(ledger)
    assert est.set_index("estate_id").loc["B3", ["status", "plan_year"]].tolist() == ["计划", 2022]
    forced = import_progress(ledger, sheet(tmp_path, [("A1", "城关区", "计划", "2022-01-01",
                                                       2021)], "f.xlsx", cols=cols),
                             force=True, note="区政府调整计划", today=TODAY)
    assert forced.events == 1
    ev = ledger_events(ledger).iloc[-1]
    assert (ev["field"], ev["old_value"], ev["new_value"], ev["forced"]) == (
        "plan_year", "2022", "2021", 1)
