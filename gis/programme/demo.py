"""The programme on the bundled demo town: `gis demo`'s programme step and small ledgers
for examples.

`demo_programme` plans the demo town's reviewed units against Qinshui's targets, imports a
simulated progress sheet per district (`simulated_progress`: deterministic, so the
bulletins are the same on every run) and writes the June 2022 bulletin and the 2021
evaluation. It prints nothing: the CLI prints what it returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gis.i18n import tr
from gis.programme.ledger import LEDGER_NAMES, ImportResult, ledger_name
from gis.programme.plan import ProgrammePlan

__all__ = ["DemoProgramme", "demo_ledger", "demo_programme", "simulated_progress"]


@dataclass(frozen=True)
class DemoProgramme:
    """What `demo_programme` wrote: the plan (with its paths), each district's imported
    progress sheet and its import, and the bulletins' paths (month, then year)."""

    plan: ProgrammePlan
    imports: list[tuple[Path, ImportResult]]
    bulletins: list[dict[str, Path]]


def demo_programme(folder: str | Path, out_dir: str | Path, estates: Any, *,
                   units_path: str | Path | None = None, lang: str = "zh") -> DemoProgramme:
    """`gis demo`'s programme step: plan the demo town's units against Qinshui's targets
    (10/16/7 and the rest by 2024), import a simulated progress sheet per district, write
    the June 2022 bulletin and the 2021 evaluation into ``out_dir``/programme/.

    Parameters
    ----------
    folder : path
        The demo data (`gis.sources.demo_folder`): its ``survey.xlsx`` is read.
    out_dir : path
    estates : GeoDataFrame
        The demo estates, with coverage columns in `gis demo`.
    units_path : path, optional
        The reviewed units (`gis demo` passes its review/units.gpkg); without it units
        are formed with the default caps.
    lang : {"zh", "en"}
        The ledger and progress sheets are named in ``lang`` (`ledger_name`); a ledger of
        an earlier demo run, under either language's name, is replaced.

    Examples
    --------
    >>> import tempfile
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     run = demo_programme(demo_folder(), tmp, est, lang="en")
    ...     names = sorted(p.name for p in (Path(tmp) / "programme").glob("*.*"))
    >>> [(sheet.name, r.status_changes) for sheet, r in run.imports]
    [('progress_东城区.xlsx', 45), ('progress_城关区.xlsx', 59)]
    >>> [n for n in names if not n.startswith(("bulletin", "evaluation"))]
    ['ledger.gpkg', 'plan.md', 'plan.xlsx', 'progress_东城区.xlsx', 'progress_城关区.xlsx']
    """
    from gis.programme._xlsx import write_book
    from gis.programme.bulletin import write_bulletin
    from gis.programme.catalogue import load_catalogue
    from gis.programme.ledger import import_progress, ledger_state
    from gis.programme.plan import make_plan

    folder = Path(folder)
    out = Path(out_dir) / "programme"
    out.mkdir(parents=True, exist_ok=True)
    for name in LEDGER_NAMES:  # the demo's own output of an earlier run, in either language
        if (out / name).exists():
            (out / name).unlink()
    ledger = out / ledger_name(lang)
    plan = make_plan(estates=estates, survey_path=str(folder / "survey.xlsx"),
                     units_path=None if units_path is None else str(units_path),
                     programme_name="qinshui_2021_2024", ledger=str(ledger), out_dir=str(out),
                     lang=lang, illustrative=True)
    districts = sorted(d for d in ledger_state(ledger)[0]["district"].dropna().unique() if d)
    imports = []
    for d in districts:
        rows = simulated_progress(ledger, d)
        if rows.empty:  # nothing of this district planned before 2024
            continue
        # The sheet is in the import format districts fill in (Chinese headers, 进度表).
        sheet = write_book(out / tr("programme.file.progress", lang, district=d),
                           {"进度表": rows})
        imports.append((sheet, import_progress(ledger, sheet, district=d,
                                               today=dt.date(2022, 6, 30))))
    cat = load_catalogue()
    bulletins = [write_bulletin(ledger, out, cat, month="2022-06", lang=lang, illustrative=True),
                 write_bulletin(ledger, out, cat, year=2021, lang=lang, illustrative=True)]
    return DemoProgramme(plan, imports, bulletins)


def simulated_progress(ledger: str | Path, district: str) -> pd.DataFrame:
    """A deterministic progress sheet for one district of the demo ledger: 2021 estates
    designed, reviewed, started, finished and mostly accepted in 2021; 2022 estates
    partly started and finished by June 2022; some 2023 estates designed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     rows = simulated_progress(demo_ledger(tmp), "城关区")
    >>> len(rows), rows["进度状态"].value_counts().to_dict()
    (12, {'设计': 4, '审查': 3, '开工': 3, '完工': 1, '验收': 1})
    """
    from gis.programme.ledger import ledger_state

    est, items = ledger_state(ledger)
    est = est[est["district"] == district].sort_values("estate_id")
    names = items.groupby("estate_id")["name_zh"].agg("、".join)
    rows = []
    steps = {2021: [("设计", "2021-03-01"), ("审查", "2021-04-01"), ("开工", "2021-05-10"),
                    ("完工", "2021-10-20"), ("验收", "2021-12-10")],
             2022: [("设计", "2022-02-15"), ("审查", "2022-03-20"), ("开工", "2022-05-05"),
                    ("完工", "2022-06-20")],
             2023: [("设计", "2022-06-01")]}
    for i, rec in enumerate(est.to_dict("records")):
        year = rec["plan_year"]
        if pd.isna(year) or int(year) not in steps:
            continue
        plan = steps[int(year)]
        # some estates lag: a 2021 estate never finished, 2022 estates at different stages
        stop = len(plan) - (i % 7 == 3) * 2 - (i % 5 == 1) if int(year) == 2021 else \
            (len(plan) - i % 3 if int(year) == 2022 else len(plan))
        for status, date in plan[:max(stop, 1)]:
            rows.append({"小区编号": rec["estate_id"], "县区": district, "进度状态": status,
                         "日期": date,
                         "完成内容": names.get(rec["estate_id"], "") if status == "完工" else "",
                         "备注": ""})
    return pd.DataFrame(rows, columns=["小区编号", "县区", "进度状态", "日期", "完成内容", "备注"])


def demo_ledger(folder: str | Path, *, estates: int = 8, lang: str = "zh") -> Path:
    """A small ledger of the first ``estates`` demo estates in ``folder`` (for examples and
    trials): their survey district and content lists, plan years 2021, 2022, 2023 in
    turn and the last one left in the reserve, Qinshui's programme description.

    Returns
    -------
    Path
        ``folder``/`ledger_name` (``lang``).

    Examples
    --------
    >>> import tempfile
    >>> from gis.programme.ledger import ledger_state
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = demo_ledger(tmp)
    ...     est, items = ledger_state(path)
    >>> path.name, len(est), est["status"].value_counts().to_dict(), len(items)
    ('台账.gpkg', 8, {'计划': 7, '储备': 1}, 86)
    """
    from gis.layers import read_estates
    from gis.programme.catalogue import load_catalogue, load_programme
    from gis.programme.ledger import create_ledger
    from gis.programme.survey import content_lists, read_survey
    from gis.sources import demo_folder
    from gis.standards import load_standard

    prog = load_programme("qinshui_2021_2024")
    cat = load_catalogue()
    est = read_estates(demo_folder() / "estates.gpkg").iloc[:estates].copy()
    est["estate_id"] = est["estate_id"].astype(str)
    survey = read_survey(demo_folder() / "survey.xlsx", cat)
    register = est[["estate_id", "name", "subdistrict", "build_year", "households",
                    "floor_area_m2", "geometry"]].copy()
    register["district"] = survey["district"].reindex(register["estate_id"]).to_numpy()
    register["plan_year"] = pd.array([None if i == estates - 1 else 2021 + i % 3
                                      for i in range(len(register))], dtype="Int64")
    items = content_lists(est, survey, cat, load_standard(prog.standard))
    meta = {"name_zh": prog.name_zh, "name_en": prog.name_en, "programme_file": prog.path,
            "start_by_month": prog.start_by_month, "method": "demo",
            "years": [{"year": t.year, "estates": t.estates, "households": t.households,
                       "floor_area_m2": t.floor_area_m2, "source": t.source}
                      for t in prog.years]}
    return create_ledger(Path(folder) / ledger_name(lang), register, items, meta,
                         plan_date=f"{prog.first_year}-01-01")
