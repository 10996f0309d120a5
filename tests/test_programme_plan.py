"""The plan as a library (`gis.programme.plan`): frames in memory give the command line's
plan; the tool's own file names follow ``--lang``, and every reader finds a ledger under
either language's name.

Oracles: `gis programme plan` run through the CLI on the same files (the plan year,
unit and status of every estate must match `plan_programme` on frames); the Chinese demo
programme step (the English one must write the same ledger under its English name); the
bytes of the ledger file (a reader that finds it under the other name appends to that
very file).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DEMO, ROOT
from gis.cli import cli
from gis.layers import read_estates
from gis.programme.catalogue import load_catalogue, load_programme
from gis.programme.demo import demo_programme
from gis.programme.ledger import LEDGER_NAMES, LedgerError, find_ledger, ledger_state
from gis.programme.plan import plan_programme
from gis.programme.survey import read_survey


def run(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_plan_in_memory_equals_the_command_line(tmp_path):
    ledger = tmp_path / "cli.gpkg"
    r = run(["programme", "plan", "--estates", str(DEMO / "estates.gpkg"), "--survey",
             str(DEMO / "survey.xlsx"), "--ledger", str(ledger), "--out", str(tmp_path / "p")])
    assert r.exit_code == 0, r.output
    est = read_estates(DEMO / "estates.gpkg")
    cat = load_catalogue()
    result = plan_programme(est, load_programme("qinshui_2021_2024"), cat,
                            survey=read_survey(DEMO / "survey.xlsx", cat))
    assert f"{len(result.plan.units)} 个改造单元 units, {result.planned_estates} " in r.output
    state, items = ledger_state(ledger)
    mine = result.register.set_index("estate_id")
    theirs = state.set_index("estate_id")
    assert sorted(mine.index) == sorted(theirs.index)
    assert (mine["plan_year"].astype("Int64") == theirs.loc[mine.index, "plan_year"]
            .astype("Int64")).fillna(True).all()
    assert mine["plan_year"].isna().tolist() == theirs.loc[mine.index, "plan_year"].isna().tolist()
    assert (mine["unit_id"] == theirs.loc[mine.index, "unit_id"]).all()
    assert len(items) == len(result.contents)
    # the years hold what the programme asks: 10, 16, 7 estates
    years = result.plan.years.set_index("year")["estates"]
    assert years.loc[[2021, 2022, 2023]].tolist() == [10, 16, 7]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """The demo's programme step in Chinese, then in English into the same folder (as a
    user re-running `gis demo --lang en` would), and in English into a fresh folder."""
    base = tmp_path_factory.mktemp("names")
    est = read_estates(DEMO / "estates.gpkg")
    zh = demo_programme(DEMO, base / "zh", est, lang="zh")
    zh_state = ledger_state(base / "zh" / "programme" / "台账.gpkg")
    en = demo_programme(DEMO, base / "en", est, lang="en")
    again = demo_programme(DEMO, base / "zh", est, lang="en")
    return base, zh, zh_state, en, again


def test_the_tools_own_file_names_follow_the_language(demo_runs):
    base, zh, zh_state, en, _ = demo_runs
    zh_files = {p.name for p in (base / "zh").glob("programme/*")}
    en_files = {p.name for p in (base / "en" / "programme").iterdir()}
    districts = sorted({s.name.removeprefix("进度表_").removesuffix(".xlsx")
                        for s, _ in zh.imports})
    assert districts and {f"progress_{d}.xlsx" for d in districts} <= en_files
    assert "ledger.gpkg" in en_files
    assert "台账.gpkg" not in en_files and not any(n.startswith("进度表") for n in en_files)
    assert [s.name for s, _ in en.imports] == [f"progress_{d}.xlsx" for d in districts]
    # same plan, same imports: only the names differ
    en_state = ledger_state(base / "en" / "programme" / "ledger.gpkg")
    cols = ["estate_id", "unit_id", "plan_year", "status", "status_date"]
    pd.testing.assert_frame_equal(zh_state[0][cols], en_state[0][cols])
    assert [(r.status_changes, r.items_done) for _, r in zh.imports] == \
        [(r.status_changes, r.items_done) for _, r in en.imports]
    assert en.plan.paths["ledger"].name == "ledger.gpkg"
    assert zh.plan.paths["ledger"].name == "台账.gpkg"
    assert {"plan.xlsx", *(f"进度表_{d}.xlsx" for d in districts)} <= zh_files


def test_an_english_rerun_replaces_the_earlier_chinese_ledger(demo_runs):
    base, *_ = demo_runs
    folder = base / "zh" / "programme"
    assert [n for n in LEDGER_NAMES if (folder / n).exists()] == ["ledger.gpkg"]
    assert find_ledger(folder) == folder / "ledger.gpkg"


def test_readers_find_a_chinese_named_ledger_under_the_english_name(tmp_path):
    r = run(["programme", "plan", "--estates", str(DEMO / "estates.gpkg"), "--survey",
             str(DEMO / "survey.xlsx"), "--ledger", str(tmp_path / "台账.gpkg"),
             "--out", str(tmp_path / "plan")])
    assert r.exit_code == 0, r.output
    before = (tmp_path / "台账.gpkg").read_bytes()
    english = tmp_path / "ledger.gpkg"  # not there: the reader must find 台账.gpkg
    for ledger in (english, tmp_path):
        r = run(["programme", "report", "--ledger", str(ledger), "--year", "2021", "--out",
                 str(tmp_path / "eval"), "--lang", "en"])
        assert r.exit_code == 0, r.output
    md = (tmp_path / "eval" / "evaluation_2021.md").read_text(encoding="utf-8")
    assert "Yearly evaluation 2021" in md and "10 estates planned for 2021 (target 10)" in md
    sheet = tmp_path / "progress.xlsx"
    r = run(["programme", "template", "--kind", "progress", "--ledger", str(english),
             "--district", "城关区", "--out", str(sheet), "--lang", "en"])
    assert r.exit_code == 0, r.output
    table = pd.read_excel(sheet, dtype=object)
    first = table.index[table["plan_year"] == 2021][0]
    table.loc[first, ["status", "date"]] = ["design", "2021-03-01"]
    table.to_excel(sheet, index=False)
    r = run(["programme", "update", "--ledger", str(english), "--progress", str(sheet)])
    assert r.exit_code == 0 and "1 个状态变更" in r.output, r.output
    assert not english.exists()
    assert (tmp_path / "台账.gpkg").read_bytes() != before  # the event went into 台账.gpkg
    state, _ = ledger_state(tmp_path / "台账.gpkg")
    assert state.set_index("estate_id").loc[table.loc[first, "estate_id"], "status"] == "设计"


def test_a_folder_with_both_ledgers_is_refused(tmp_path):
    for name in LEDGER_NAMES:
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(LedgerError, match="台账.gpkg and ledger.gpkg"):
        find_ledger(tmp_path)
    r = CliRunner().invoke(cli, ["programme", "report", "--ledger", str(tmp_path), "--year",
                                 "2021", "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and r.output.startswith("错误 Error:")
    assert find_ledger(tmp_path / "elsewhere.gpkg") == tmp_path / "elsewhere.gpkg"


#: What the command group may import: its library modules' entry points, no analysis.
ANALYSIS = {"gis.units", "gis.eligibility", "gis.adjacency", "gis.coverage",
            "gis.programme.priority", "gis.programme.schedule"}


def test_the_programme_cli_holds_no_analysis():
    tree = ast.parse((ROOT / "gis" / "programme" / "cli.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & ANALYSIS, imported & ANALYSIS
    plain = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)
             and not any(isinstance(d, (ast.Call, ast.Attribute)) for d in node.decorator_list)]
    # besides click commands: error handling, printing and attribute forwarding only
    assert set(plain) <= {"_run", "_echo", "_plan_done", "run_demo", "__getattr__"}, plain
    src = Path(ROOT / "gis" / "programme" / "cli.py").read_text(encoding="utf-8")
    assert "groupby" not in src and "merge(" not in src


def test_the_english_survey_sheet_reads_back_as_its_guide_says(tmp_path):
    """The English template's headers are names `read_survey` knows, and marking an item
    the way the English guide says ("lacking", "yes" or 1) reads as lacking."""
    from openpyxl import load_workbook

    from gis.programme.survey import survey_template

    cat = load_catalogue()
    est = read_estates(DEMO / "estates.gpkg").iloc[:3]
    path = survey_template(est, cat, tmp_path / "survey_en.xlsx", lang="en")
    book = load_workbook(path)
    assert book.sheetnames == ["survey", "guide"]
    guide = [r[0] for r in book["guide"].iter_rows(values_only=True)]
    assert guide[-1].startswith("Mark lacking (or yes, 1)")
    sheet = pd.read_excel(path, sheet_name="survey", dtype=object)
    sheet.loc[0, "drainage"] = "lacking"
    sheet.loc[1, "drainage"] = "yes"
    sheet.loc[2, ["drainage", "support_pct"]] = [1, 70]
    sheet.to_excel(tmp_path / "filled.xlsx", index=False)
    survey = read_survey(tmp_path / "filled.xlsx", cat, known_ids=set(est["estate_id"]))
    assert [("drainage" in lacking) for lacking in survey["lacking"]] == [True, True, True]
    assert survey["support_pct"].tolist()[2] == 70.0
