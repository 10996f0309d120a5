"""``gis programme``: plan | update | report | template — a thin adapter over the
programme modules (read, call one function, write, print the paths)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import click

from gis.i18n import tr

__all__ = ["make_plan", "programme", "run_demo", "survey_in_layer"]

logger = logging.getLogger("gis")


def _run(job: Any) -> None:
    """Run ``job``; a `GisError` prints ``错误 Error: <message>`` and exits with status 2
    (the same contract as every other `gis` command)."""
    import sys
    import warnings

    from gis.errors import GisError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            job()
    except GisError as err:
        # Library parameters shown as the command's flags: `gis`'s group puts its
        # translation in the shared context (this module may not import gis.cli).
        ctx = click.get_current_context(silent=True)
        as_flags = ctx.meta.get("gis.as_flags", str) if ctx is not None else str
        click.echo(f"错误 Error: {as_flags(str(err))}", err=True)
        sys.exit(2)


@click.group(name="programme")
def programme() -> None:
    """改造计划与台账 — reserve, content lists, annual plan, ledger and bulletins.

    \b
    gis programme template --kind survey --estates 小区.gpkg --out 摸底调查表.xlsx
    gis programme plan --estates 小区.gpkg --survey 摸底调查表.xlsx --coverage 成果/coverage.gpkg \\
                       --programme qinshui_2021_2024 --ledger 台账.gpkg --out 计划/
    gis programme update --ledger 台账.gpkg --progress 进度表.xlsx [--district 东城区]
    gis programme report --ledger 台账.gpkg --month 2022-06 --out 通报/
    """


@programme.command()
@click.option("--estates", "estates_path", required=True, type=click.Path(dir_okay=False),
              help="小区边界 estates (小区编号, 建成年份, 户数, 建筑面积 …); may carry survey fields.")
@click.option("--survey", "survey_path", type=click.Path(dir_okay=False),
              help="摸底调查表 XLSX/CSV keyed by 小区编号 (see `template --kind survey`).")
@click.option("--coverage", "coverage_path", type=click.Path(dir_okay=False),
              help="coverage.gpkg from `gis coverage`: gaps become content items and priority.")
@click.option("--programme", "programme_name", default="qinshui_2021_2024", show_default=True,
              metavar="NAME|FILE", help="Programme TOML: qinshui_2021_2024, "
                                        "lianyungang_2021_2023 or a file.")
@click.option("--catalogue", default=None, type=click.Path(dir_okay=False),
              help="Content catalogue TOML (default: the bundled one).")
@click.option("--units", "units_path", type=click.Path(dir_okay=False),
              help="units.gpkg from `gis units` / `gis review` (reviewed units, decisions "
                   "applied); without it units are formed here with the default caps.")
@click.option("--barriers", "barrier_paths", multiple=True, type=click.Path(dir_okay=False),
              help="Without --units: roads/rivers that keep estates out of one unit.")
@click.option("--barrier-classes", default="主干路,快速路", show_default=True,
              help="Without --units: road classes of --barriers lines that separate estates.")
@click.option("--ledger", required=True, type=click.Path(dir_okay=False),
              help="台账 GeoPackage to create (refused if it exists).")
@click.option("--out", "out_dir", default="plan", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--method", type=click.Choice(["auto", "exact", "greedy"]), default="auto",
              show_default=True)
@click.option("--input-crs", default=None, metavar="EPSG:N")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def plan(**o: Any) -> None:
    """年度计划 — priority, annual plan against the targets, content lists, new ledger."""
    _run(lambda: _echo(make_plan(**o)))


@programme.command()
@click.option("--ledger", required=True, type=click.Path(dir_okay=False))
@click.option("--progress", "progress_path", required=True, type=click.Path(dir_okay=False),
              help="进度表 XLSX/CSV: 小区编号, 进度状态, 日期, optional 县区, 完成内容, 备注.")
@click.option("--district", default=None, help="The district sending the sheet (县区).")
@click.option("--force", is_flag=True, help="Accept skipped or backward steps (needs --note).")
@click.option("--note", default="", help="Why the forced steps are accepted; kept in history.")
def update(ledger: str, progress_path: str, district: str | None, force: bool, note: str) -> None:
    """导入进度 — import a district's progress sheet into the ledger (all or nothing)."""
    from gis.programme.ledger import import_progress

    def job() -> None:
        r = import_progress(ledger, progress_path, district=district, force=force, note=note)
        click.echo(f"{r.source}: {r.rows} 行 rows, {r.status_changes} 个状态变更 status changes, "
                   f"{r.plan_year_changes} 个计划年度变更 plan-year changes, "
                   f"{r.items_done} 项内容完成 items done ({r.events} events appended)")

    _run(job)


@programme.command()
@click.option("--ledger", required=True, type=click.Path(dir_okay=False))
@click.option("--month", default=None, metavar="YYYY-MM", help="Monthly bulletin (月通报).")
@click.option("--year", default=None, type=int, help="Yearly evaluation (年度考评).")
@click.option("--out", "out_dir", default="bulletin", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--catalogue", default=None, type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def report(ledger: str, month: str | None, year: int | None, out_dir: str,
           catalogue: str | None, lang: str) -> None:
    """月通报 / 年度考评 — bulletin or evaluation (MD + XLSX with charts and map)."""
    from gis.errors import GisError
    from gis.programme.bulletin import write_bulletin
    from gis.programme.catalogue import load_catalogue

    def job() -> None:
        if bool(month) == bool(year):
            raise GisError("give exactly one of --month YYYY-MM or --year YYYY.")
        if month:
            try:
                y, m = (int(p) for p in month.split("-"))
                dt.date(y, m, 1)
            except ValueError as err:
                raise GisError(f"--month {month!r}: use YYYY-MM, e.g. 2022-06.") from err
        _echo(write_bulletin(ledger, out_dir, load_catalogue(catalogue), month=month, year=year,
                             lang=lang))

    _run(job)


@programme.command()
@click.option("--kind", type=click.Choice(["survey", "progress"]), required=True,
              help="survey: blank 摸底调查表 for --estates; progress: 进度表 from --ledger.")
@click.option("--estates", "estates_path", type=click.Path(dir_okay=False))
@click.option("--ledger", type=click.Path(dir_okay=False))
@click.option("--district", default=None, help="Only this district's estates (progress).")
@click.option("--catalogue", default=None, type=click.Path(dir_okay=False))
@click.option("--input-crs", default=None, metavar="EPSG:N")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def template(kind: str, estates_path: str | None, ledger: str | None, district: str | None,
             catalogue: str | None, input_crs: str | None, out_path: str, lang: str) -> None:
    """空白表 — the blank survey sheet, or the progress sheet districts send back."""
    from gis.errors import GisError
    from gis.programme.catalogue import load_catalogue

    def job() -> None:
        for given in (estates_path, ledger):
            if given and Path(given).resolve() == Path(out_path).resolve():
                raise GisError(f"--out {out_path} is an input; choose another file.")
        if kind == "survey":
            if not estates_path:
                raise GisError("--kind survey needs --estates.")
            from gis.layers import read_estates
            from gis.programme.survey import survey_template

            est = read_estates(estates_path, crs=input_crs)
            click.echo(str(survey_template(est, load_catalogue(catalogue), out_path, lang=lang)))
        else:
            if not ledger:
                raise GisError("--kind progress needs --ledger.")
            from gis.programme.ledger import export_progress

            click.echo(str(export_progress(ledger, out_path, district=district, lang=lang)))

    _run(job)


def _echo(paths: dict[str, Path]) -> None:
    for key, path in paths.items():
        click.echo(f"  {key:<13} {path}")


def make_plan(*, estates_path: str | None = None, survey_path: str | None = None,
              coverage_path: str | None = None, programme_name: str = "qinshui_2021_2024",
              catalogue: str | None = None, barrier_paths: tuple[str, ...] = (),
              units_path: str | None = None, barrier_classes: str = "主干路,快速路",
              ledger: str, out_dir: str, method: str = "auto", input_crs: str | None = None,
              lang: str = "zh", estates: Any = None, illustrative: bool = False,
              survey: Any = None, **_: Any) -> dict[str, Path]:
    """Read, prioritise, form units, schedule, write the plan and create the ledger.

    ``estates`` (a GeoDataFrame with coverage columns) may replace ``estates_path`` and
    ``coverage_path``, as in `gis demo`; ``survey`` (from `survey_in_layer`) may replace
    ``survey_path``.
    """
    import pandas as pd

    from gis.adjacency import barrier_features
    from gis.errors import GisError
    from gis.layers import read_barriers, read_estates
    from gis.programme.catalogue import load_catalogue, load_programme
    from gis.programme.ledger import create_ledger
    from gis.programme.priority import estate_priority
    from gis.programme.schedule import schedule, units_for_plan
    from gis.programme.survey import content_lists, read_survey
    from gis.report._files import staged_outputs
    from gis.standards import load_standard
    from gis.units import renovation_units

    if Path(ledger).exists():
        raise GisError(f"{ledger}: the ledger already exists; a plan never overwrites a ledger. "
                       "Choose a new --ledger file, or import progress with `gis programme "
                       "update`.")
    prog = load_programme(programme_name)
    cat = load_catalogue(catalogue)
    std = load_standard(prog.standard)
    if estates is None:
        estates = read_estates(estates_path, crs=input_crs)  # type: ignore[arg-type]
        if coverage_path:
            estates = _with_coverage(estates, coverage_path)
    ids = set(estates["estate_id"].astype(str))
    if survey is not None:
        pass  # read by the caller (the QGIS algorithm, from the estates layer)
    elif survey_path:
        survey = read_survey(survey_path, cat, known_ids=ids)
    elif estates_path:
        from gis.layers import read_layer

        raw, _, src = read_layer(estates_path, role="estates", layer=None, crs=input_crs,
                                 encoding=None)
        survey = survey_in_layer(raw, cat, src)
    if units_path:
        from gis.eligibility import assess_eligibility

        assessed = assess_eligibility(estates, std, include_extended=prog.include_extended)
        membership = _read_membership(units_path, ids)
    else:
        classes = tuple(c.strip() for c in barrier_classes.split(",") if c.strip())
        parts = []
        for p in barrier_paths:
            layer = read_barriers(p, crs=input_crs)
            lines = layer.geometry.geom_type.str.contains("Line").all()
            parts.append(barrier_features(layer, kind=Path(p).stem,
                                          road_classes=classes if lines else ())
                         .to_crs(estates.crs))
        barriers = pd.concat(parts, ignore_index=True) if parts else None
        result, assessed = renovation_units(estates, std, include_extended=prog.include_extended,
                                            barriers=barriers)
        membership = result.membership
    prio = estate_priority(assessed, survey, cat, std, prog)
    units = units_for_plan(assessed, membership, prio, survey, std.built_by)
    the_plan = schedule(units, prog, method=method)
    year_of = {m: y for ms, y in zip(the_plan.units["members"], the_plan.units["plan_year"])
               for m in ms.split("、")}
    unit_of = {m: u for ms, u in zip(the_plan.units["members"], the_plan.units["unit_id"])
               for m in ms.split("、")}
    eligible = assessed[assessed["eligible"]].copy()
    eligible["estate_id"] = eligible["estate_id"].astype(str)
    contents = content_lists(eligible, survey, cat, std)
    register = eligible[["estate_id", "name", "geometry"]].copy()
    register["district"] = (survey["district"].reindex(register["estate_id"]).fillna("")
                            .to_numpy() if survey is not None else "")
    for col in ("subdistrict", "build_year", "households", "floor_area_m2"):
        register[col] = eligible[col].to_numpy() if col in eligible else None
    register["unit_id"] = register["estate_id"].map(unit_of)
    register["priority"] = prio["priority"].reindex(register["estate_id"]).to_numpy()
    register["has_property_management"] = (
        survey["has_property_management"].reindex(register["estate_id"]).to_numpy()
        if survey is not None else None)
    cov_cols = [k for k in std.keys if f"covered_{k}" in eligible]
    register["covered"] = ([",".join(k for k in cov_cols if bool(r[f"covered_{k}"]))
                            for _, r in eligible.iterrows()] if cov_cols else None)
    register["plan_year"] = pd.array([year_of.get(e) for e in register["estate_id"]],
                                     dtype="Int64")
    meta = {"name_zh": prog.name_zh, "name_en": prog.name_en, "programme_file": prog.path,
            "start_by_month": prog.start_by_month, "method": the_plan.method,
            "years": [{"year": t.year, "estates": t.estates, "households": t.households,
                       "floor_area_m2": t.floor_area_m2, "source": t.source}
                      for t in prog.years]}
    en = lang == "en"
    estates_sheet = register.drop(columns="geometry").merge(
        prio.reset_index(), on="estate_id", how="left", suffixes=("", "_"))
    estates_sheet = estates_sheet.drop(columns=[c for c in estates_sheet if c.endswith("_")])
    from gis.programme._xlsx import write_book
    from gis.report._files import md_table

    with staged_outputs(out_dir) as stage:
        years = the_plan.years
        sheets = {"years" if en else "年度计划": years,
                  "units" if en else "改造单元": _units_sheet(the_plan.units.sort_values(
                      ["plan_year", "rank_in_year"]), lang),
                  "estates" if en else "小区": estates_sheet,
                  "contents" if en else "改造清单": _contents_sheet(contents, cat, lang)}
        write_book(stage / "plan.xlsx", sheets)
        lines = [f"# {prog.name_en if en else prog.name_zh}", ""]
        if illustrative:
            lines += [tr("demo_banner_md", lang), ""]
        lines += [f"{'Method' if en else '求解方法'}: {the_plan.method}; "
                  f"{'estates above target' if en else '超出目标的小区数'}: {the_plan.overshoot}",
                  "", md_table(["year", "target", "max", "estates", "households", "m²", "units"],
                               [[r.year, "" if pd.isna(r.target_estates) else int(r.target_estates),
                                 "" if pd.isna(r.max_estates) else int(r.max_estates), r.estates,
                                 f"{r.households:,.0f}", f"{r.floor_area_m2:,.0f}", r.units]
                                for r in years.itertuples()]), ""]
        (stage / "plan.md").write_text("\n".join(lines), encoding="utf-8")
        create_ledger(ledger, register, contents, meta, plan_date=f"{prog.first_year}-01-01")
    out = Path(out_dir)
    click.echo(f"{len(the_plan.units)} 个改造单元 units, {int(the_plan.years['estates'].sum())} "
               f"个小区入计划 estates planned ({the_plan.method})")
    return {"plan_md": out / "plan.md", "plan_xlsx": out / "plan.xlsx", "ledger": Path(ledger)}


def survey_in_layer(raw: Any, cat: Any, src: str) -> Any:
    """Survey fields kept in the estates layer itself (`read_estates` keeps only its own
    fields), as a survey table; ``None`` when the layer has none."""
    import pandas as pd

    from gis.layers import find_field
    from gis.programme.survey import SURVEY_FIELDS, survey_from_table

    raw = pd.DataFrame(raw.drop(columns=raw.geometry.name))
    aliases = [*(a for k, v in SURVEY_FIELDS.items() if k != "estate_id" for a in v),
               *(a for it in cat.items for a in (it.name_zh, *it.aliases))]
    own = [c for c in raw.columns if find_field([c], tuple(aliases))]
    return survey_from_table(raw, cat, src) if own else None


def _read_membership(path: str, ids: set[str]) -> Any:
    """``estate_id`` → ``unit_id`` from the estates layer of a units.gpkg."""
    import geopandas as gpd

    from gis.errors import InputError

    try:
        est = gpd.read_file(path, layer="estates", ignore_geometry=True)
    except Exception as err:
        raise InputError(f"{path}: not a units.gpkg from `gis units`/`gis review` ({err}).") \
            from err
    if not {"estate_id", "unit_id"} <= set(est.columns):
        raise InputError(f"{path}: its estates layer has no estate_id / unit_id; rerun "
                         "`gis units`.")
    est["estate_id"] = est["estate_id"].astype(str)
    unknown = sorted(set(est["estate_id"]) - ids)
    if unknown:
        raise InputError(f"{path}: {len(unknown)} estates are not in --estates (e.g. "
                         f"{', '.join(unknown[:5])}); use the units made from the same estates.")
    return est.loc[est["unit_id"].notna(), ["estate_id", "unit_id"]]


def _with_coverage(estates: Any, path: str) -> Any:
    """Add covered_/dist_m_ columns from a coverage.gpkg written by `gis coverage`."""
    import geopandas as gpd

    from gis.errors import InputError

    try:
        cov = gpd.read_file(path, layer="estates", ignore_geometry=True)
    except Exception as err:
        raise InputError(f"{path}: not a coverage.gpkg from `gis coverage` ({err}).") from err
    cols = [c for c in cov.columns if c.startswith(("covered_", "dist_m_"))]
    if "estate_id" not in cov or not cols:
        raise InputError(f"{path}: has no estate_id / covered_<category> columns; rerun "
                         "`gis coverage`.")
    cov["estate_id"] = cov["estate_id"].astype(str)
    missing = set(estates["estate_id"].astype(str)) - set(cov["estate_id"])
    if missing:
        raise InputError(f"{path}: {len(missing)} estates have no coverage result (e.g. "
                         f"{', '.join(sorted(missing)[:5])}); run `gis coverage` on the same "
                         "estates file.")
    return estates.merge(cov[["estate_id", *cols]], on="estate_id", how="left")


def simulated_progress(ledger: str | Path, district: str) -> Any:
    """A deterministic progress sheet for one district of the demo ledger: 2021 estates
    designed, reviewed, started, finished and mostly accepted in 2021; 2022 estates
    partly started and finished by June 2022; some 2023 estates designed."""
    import pandas as pd

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



def _units_sheet(units: Any, lang: str) -> Any:
    """The plan's units as shown in ``lang``: member ids listed with the language's
    separator (the schedule keeps them "、"-joined, ids never contain it)."""
    if lang == "zh" or units.empty:
        return units
    from gis.i18n import join

    shown = units.copy()
    shown["members"] = [join(str(m).split("、"), lang) for m in shown["members"]]
    return shown


def _contents_sheet(contents: Any, cat: Any, lang: str) -> Any:
    """The content lists as shown in ``lang``: in English the item names and origins come
    from the catalogue's and the list's English columns (machine keys stay)."""
    if lang != "en" or contents.empty:
        return contents
    shown = contents.copy()
    shown["name_zh"] = [cat.item(k).name_en for k in shown["item_key"]]
    shown["origin_text"] = shown["origin_text_en"]
    return shown.drop(columns="origin_text_en").rename(columns={"name_zh": "name"})


def run_demo(folder: Path, out_dir: str | Path, estates: Any, *, lang: str = "zh") -> None:
    """`gis demo`'s programme step: plan the demo town's reviewed units (``out_dir``/review/
    units.gpkg) against Qinshui's targets (10/16/7 and the rest by 2024), import a simulated progress sheet per district, write the June 2022
    bulletin and the 2021 evaluation into ``out_dir``/programme/."""
    from gis.programme._xlsx import write_book
    from gis.programme.bulletin import write_bulletin
    from gis.programme.catalogue import load_catalogue
    from gis.programme.ledger import import_progress

    out = Path(out_dir) / "programme"
    out.mkdir(parents=True, exist_ok=True)
    ledger = out / "台账.gpkg"
    if ledger.exists():
        ledger.unlink()  # the demo's own output from an earlier run
    click.echo("改造计划与台账 programme:")
    _echo(make_plan(estates=estates, survey_path=str(folder / "survey.xlsx"),
                    units_path=str(Path(out_dir) / "review" / "units.gpkg"),
                    programme_name="qinshui_2021_2024", ledger=str(ledger), out_dir=str(out),
                    lang=lang, illustrative=True))
    from gis.programme.ledger import ledger_state

    districts = sorted(d for d in ledger_state(ledger)[0]["district"].dropna().unique() if d)
    for d in districts:
        rows = simulated_progress(ledger, d)
        if rows.empty:  # nothing of this district planned before 2024
            continue
        sheet = write_book(out / f"进度表_{d}.xlsx", {"进度表": rows})
        r = import_progress(ledger, sheet, district=d, today=dt.date(2022, 6, 30))
        click.echo(f"  {sheet.name}: {r.status_changes} status changes, {r.items_done} items done")
    cat = load_catalogue()
    _echo(write_bulletin(ledger, out, cat, month="2022-06", lang=lang, illustrative=True))
    _echo(write_bulletin(ledger, out, cat, year=2021, lang=lang, illustrative=True))
