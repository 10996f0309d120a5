"""`gis programme` end to end on the demo town, the survey template and content lists,
and the demo survey regenerated from the script."""

from __future__ import annotations

import runpy

import geopandas as gpd
import pandas as pd
from click.testing import CliRunner
from openpyxl import load_workbook

from conftest import DEMO, ROOT
from gis.cli import cli
from gis.programme.catalogue import load_catalogue
from gis.programme.ledger import ledger_state
from gis.programme.survey import content_lists, read_survey, survey_template
from gis.standards import load_standard


def run(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_programme_end_to_end_on_the_demo(tmp_path):
    cov = run(["coverage", "--estates", str(DEMO / "estates.gpkg"), "--services",
               str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
               "--out", str(tmp_path / "cov"), "--no-map", "-q"])
    assert cov.exit_code == 0, cov.output
    ledger = tmp_path / "台账.gpkg"
    args = ["programme", "plan", "--estates", str(DEMO / "estates.gpkg"), "--survey",
            str(DEMO / "survey.xlsx"), "--coverage", str(tmp_path / "cov" / "coverage.gpkg"),
            "--ledger", str(ledger), "--out", str(tmp_path / "plan")]
    r = run(args)
    assert r.exit_code == 0, r.output
    assert "exact (scipy.optimize.milp)" in r.output
    years = pd.read_excel(tmp_path / "plan" / "plan.xlsx", sheet_name="年度计划")
    assert years.set_index("year").loc[[2021, 2022, 2023], "estates"].tolist() == [10, 16, 7]
    est, items = ledger_state(ledger)
    # joint units are never split across years; fixed pilots stay in 2021
    assert est.groupby("unit_id")["plan_year"].nunique(dropna=False).max() == 1
    survey = pd.read_excel(DEMO / "survey.xlsx", dtype=str)
    pilots = survey.loc[survey["指定年度"].notna(), "小区编号"]
    assert (est.set_index("estate_id").loc[pilots, "plan_year"] == 2021).all()
    # every pre-2000 eligible estate is scheduled by 2024
    demo = gpd.read_file(DEMO / "estates.gpkg")
    old = set(demo.loc[(demo["建成年份"] <= 2000) & (demo["棚改计划"] == "否"), "小区编号"])
    assert old <= set(est.loc[est["plan_year"] <= 2024, "estate_id"])
    # gap-derived items say where they came from
    assert items["origin"].str.contains("生活圈缺口").any()
    # a second plan never overwrites the ledger
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "the ledger already exists" in again.output
    sheet = tmp_path / "进度表.xlsx"
    r = run(["programme", "template", "--kind", "progress", "--ledger", str(ledger),
             "--district", "东城区", "--out", str(sheet)])
    assert r.exit_code == 0, r.output
    r = run(["programme", "update", "--ledger", str(ledger), "--progress", str(sheet),
             "--district", "东城区"])
    assert r.exit_code == 0 and "0 events appended" in r.output, r.output
    table = pd.read_excel(sheet, dtype=object)
    first = table.index[table["计划年度"] == 2021][0]
    table.loc[first, ["进度状态", "日期"]] = ["设计", "2021-03-01"]
    table.to_excel(sheet, index=False)
    r = run(["programme", "update", "--ledger", str(ledger), "--progress", str(sheet)])
    assert r.exit_code == 0 and "1 个状态变更" in r.output, r.output
    typo = table.copy()
    typo.loc[first, "进度状态"] = "开公"
    typo.to_excel(tmp_path / "typo.xlsx", index=False)
    bad = CliRunner().invoke(cli, ["programme", "update", "--ledger", str(ledger), "--progress",
                                   str(tmp_path / "typo.xlsx")])
    assert bad.exit_code == 2 and "did you mean 开工?" in bad.output
    assert bad.output.startswith("错误 Error:") and bad.output.count("\n") == 1
    r = run(["programme", "report", "--ledger", str(ledger), "--month", "2021-06", "--out",
             str(tmp_path / "bulletin")])
    assert r.exit_code == 0, r.output
    md = (tmp_path / "bulletin" / "bulletin_2021-06.md").read_text(encoding="utf-8")
    assert "2021年计划改造10个小区（目标10个）" in md
    bad = CliRunner().invoke(cli, ["programme", "report", "--ledger", str(ledger), "--month",
                                   "2021-13", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2 and "use YYYY-MM" in bad.output


def test_demo_writes_the_programme(tmp_path):
    r = run(["demo", "--out", str(tmp_path), "-q"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "programme"
    for name in ("plan.md", "plan.xlsx", "台账.gpkg", "bulletin_2022-06.md",
                 "bulletin_2022-06.xlsx", "bulletin_2022-06_map.png", "evaluation_2021.xlsx"):
        assert (out / name).is_file(), name
    assert len(load_workbook(out / "bulletin_2022-06.xlsx").worksheets[0]._images) == 3
    # the plan schedules the reviewed units: same membership, one year per unit
    reviewed = gpd.read_file(tmp_path / "review" / "units.gpkg", layer="estates",
                             ignore_geometry=True).dropna(subset=["unit_id"])
    est, _ = ledger_state(out / "台账.gpkg")
    unit_of = dict(zip(est["estate_id"], est["unit_id"]))
    assert all(unit_of[e] == u for e, u in zip(reviewed["estate_id"], reviewed["unit_id"]))
    assert est.groupby("unit_id")["plan_year"].nunique(dropna=False).max() == 1
    years = est["plan_year"].value_counts()
    assert (years.loc[2021], years.loc[2022], years.loc[2023]) == (10, 16, 7)


def test_survey_template_round_trip_keeps_text_as_text(tmp_path):
    cat = load_catalogue()
    est = pd.DataFrame({"estate_id": ["XQ1", "XQ2"], "name": ["=HYPERLINK(\"x\")", "小区"],
                        "subdistrict": ["街道", None]})
    path = survey_template(est, cat, tmp_path / "survey.xlsx")
    cell = load_workbook(path).worksheets[0]["B2"]
    assert cell.value == "=HYPERLINK(\"x\")" and cell.data_type == "s"
    survey = read_survey(path, cat)
    assert survey.loc["XQ1", "lacking"] == () and not survey["surveyed"].isna().any()
    table = pd.read_excel(path, dtype=object)
    table.loc[0, ["供水", "充电设施", "居民改造意愿"]] = ["缺", "缺", "85%"]
    table.to_excel(path, index=False)
    survey = read_survey(path, cat)
    assert survey.loc["XQ1", "lacking"] == ("water_supply", "charging")
    assert survey.loc["XQ1", "support_pct"] == 85
    std = load_standard()
    est["covered_charging"] = [False, False]
    est["dist_m_charging"] = [1320.0, float("nan")]
    lists = content_lists(est, survey, cat, std).set_index(["estate_id", "item_key"])
    assert lists.loc[("XQ1", "charging"), "origin"] == "survey+gap"
    assert "1,320 m > 1,000 m" in lists.loc[("XQ1", "charging"), "origin_text"]
    assert lists.loc[("XQ2", "charging"), "origin_text"] == "生活圈缺口：充电设施 > 2,000 m"
    assert lists.loc[("XQ1", "water_supply"), "item_class"] == "basic"


def test_catalogue_items_all_cite_sources_and_map_gaps_to_known_categories():
    cat = load_catalogue()
    std = load_standard()
    assert {it.cls for it in cat.items} == {"basic", "improve", "upgrade"}
    assert all(it.source for it in cat.items) and all(c.source for c in cat.checks)
    gaps = {g for it in cat.items for g in it.from_gap}
    assert gaps == set(std.keys)  # every living-circle gap becomes an item
    assert {c.group for c in cat.checks} == {"三入", "四通", "四有", "两整", "生活圈"}


def test_demo_survey_regenerates(tmp_path):
    module = runpy.run_path(str(ROOT / "scripts" / "make_demo_data.py"))
    estates = gpd.read_file(DEMO / "estates.gpkg")
    module["write_survey"](estates, str(tmp_path / "survey.xlsx"))
    fresh = pd.read_excel(tmp_path / "survey.xlsx", dtype=str)
    committed = pd.read_excel(DEMO / "survey.xlsx", dtype=str)
    pd.testing.assert_frame_equal(committed, fresh)
    assert fresh["所属县区"].nunique() == 3


def test_lianyungang_targets_on_the_demo_town_are_explained(tmp_path):
    # The demo town has 85 eligible pre-2000 estates (90 built by 2000, 5 in 棚改); the
    # Lianyungang programme asks for 399: the plan must say so and write nothing.
    demo = gpd.read_file(DEMO / "estates.gpkg")
    n = int(((demo["建成年份"] <= 2000) & (demo["棚改计划"] == "否")).sum())
    r = CliRunner().invoke(cli, ["programme", "plan", "--estates", str(DEMO / "estates.gpkg"),
                                 "--survey", str(DEMO / "survey.xlsx"), "--programme",
                                 "lianyungang_2021_2023", "--ledger", str(tmp_path / "l.gpkg"),
                                 "--out", str(tmp_path / "plan")])
    assert r.exit_code == 2
    assert (f"the yearly targets add up to 399 estates but only {n} eligible estates exist"
            in r.output)
    assert f"2021: target 133 estates but only {n} eligible estates" in r.output
    assert not (tmp_path / "l.gpkg").exists() and not list((tmp_path).glob("plan/*"))


def test_survey_fields_in_the_estates_layer_are_read(tmp_path):
    est = gpd.read_file(DEMO / "estates.gpkg")
    survey = pd.read_excel(DEMO / "survey.xlsx", dtype=object)
    merged = est.merge(survey.drop(columns=["小区名称", "所属街道"]), on="小区编号")
    merged.to_file(tmp_path / "with_survey.gpkg", driver="GPKG")
    ledger = tmp_path / "台账.gpkg"
    r = run(["programme", "plan", "--estates", str(tmp_path / "with_survey.gpkg"), "--ledger",
             str(ledger), "--out", str(tmp_path / "plan")])
    assert r.exit_code == 0, r.output
    state, items = ledger_state(ledger)
    district = dict(zip(survey["小区编号"], survey["所属县区"]))
    assert all(district[e] == d for e, d in zip(state["estate_id"], state["district"]))
    lacking = {(e, c) for e, row in survey.set_index("小区编号").iterrows()
               for c in survey.columns[7:] if row[c] == "缺" and e in set(state["estate_id"])}
    cat = load_catalogue()
    names = {it.key: it.name_zh for it in cat.items}
    assert {(e, names[k]) for e, k in zip(items["estate_id"], items["item_key"])} == lacking


def test_bad_survey_cells_are_listed_in_one_line(tmp_path):
    cat = load_catalogue()
    table = pd.DataFrame({"小区编号": ["XQ001", "XQ002", "XQ002", "XQ004"],
                          "居民改造意愿": ["80", "120", "很高", ""],
                          "供水": ["缺", "maybe", "", ""], "指定年度": ["", "明年", "", "2022年"]})
    table.to_excel(tmp_path / "s.xlsx", index=False)
    import pytest

    from gis.errors import InputError

    with pytest.raises(InputError) as err:
        read_survey(tmp_path / "s.xlsx", cat)
    text = str(err.value)
    assert "\n" not in text
    for part in ("小区编号 repeat (XQ002) in rows 3, 4", "row 3: 居民改造意愿 120 is outside 0–100 %",
                 "row 4: 居民改造意愿 '很高' is not a percentage", "row 3: 指定年度 '明年' is not a year",
                 "row 3, column 供水: 'maybe' is neither 缺"):
        assert part in text, text
    ok = table.drop(index=[1, 2])
    ok.to_excel(tmp_path / "ok.xlsx", index=False)
    with pytest.raises(InputError, match=r"1 小区编号 not in the estates layer \(XQ004\) \(did you "
                                         r"mean XQ003\?\)"):
        read_survey(tmp_path / "ok.xlsx", cat, known_ids={"XQ001", "XQ003"})
    survey = read_survey(tmp_path / "ok.xlsx", cat)
    assert survey.loc["XQ004", "fixed_year"] == 2022 and survey.loc["XQ001", "lacking"] == (
        "water_supply",)
