"""``gis programme``: plan | update | report | template — a thin adapter over the
programme modules (read, call one function, write, print the paths)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import click

__all__ = ["make_plan", "programme", "run_demo", "simulated_progress", "survey_in_layer"]

logger = logging.getLogger("gis")

#: Library functions once defined here (now gis.programme.plan / .demo), still importable
#: from here; looked up on first use so that ``gis --help`` does not load pandas.
_MOVED = {"make_plan": "plan", "survey_in_layer": "plan", "simulated_progress": "demo"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"gis.programme.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    from gis.programme.plan import make_plan

    _run(lambda: _plan_done(make_plan(**o)))


_LEDGER_HELP = ("The ledger GeoPackage, or the folder holding it (台账.gpkg / ledger.gpkg: "
                "either name is found).")


@programme.command()
@click.option("--ledger", required=True, type=click.Path(), help=_LEDGER_HELP)
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
@click.option("--ledger", required=True, type=click.Path(), help=_LEDGER_HELP)
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
@click.option("--ledger", type=click.Path(), help=_LEDGER_HELP)
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
        from gis.programme.ledger import find_ledger

        for given in (estates_path, ledger and find_ledger(ledger)):
            if given and Path(given).resolve() == Path(out_path).resolve():
                raise GisError(f"--out {out_path} is an input; choose another file.")
        if kind == "survey":
            if not estates_path:
                raise GisError("--kind survey needs --estates.")
            from gis.layers import read_estates
            from gis.programme.survey import survey_template

            est = read_estates(estates_path, input_crs=input_crs)
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


def _plan_done(result: Any) -> None:
    """Print a `gis.programme.plan.ProgrammePlan`: units, estates planned, paths."""
    click.echo(f"{len(result.plan.units)} 个改造单元 units, {result.planned_estates} "
               f"个小区入计划 estates planned ({result.plan.method})")
    _echo(result.paths)


def run_demo(folder: Path, out_dir: str | Path, estates: Any, *, lang: str = "zh") -> None:
    """`gis demo`'s programme step (`gis.programme.demo.demo_programme` on the demo's
    reviewed units), printed."""
    from gis.programme.demo import demo_programme

    click.echo("改造计划与台账 programme:")
    run = demo_programme(folder, out_dir, estates, lang=lang,
                         units_path=Path(out_dir) / "review" / "units.gpkg")
    _plan_done(run.plan)
    for sheet, r in run.imports:
        click.echo(f"  {sheet.name}: {r.status_changes} status changes, {r.items_done} items done")
    for paths in run.bulletins:
        _echo(paths)
