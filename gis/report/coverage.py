"""Write coverage results: GeoPackage, CSV for Excel, and the gap report (Markdown, XLSX)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from gis.coverage import Coverage, category_summary, gap_list, missing_categories
from gis.i18n import tr
from gis.notes import note_text
from gis.report._files import (
    autofit,
    in_lang,
    md_table,
    md_text,
    staged_outputs,
    text_only_cells,
    write_csv,
)
from gis.report.qgis_styles import style_coverage_gpkg
from gis.skipped import not_analysed_estates, skipped_table

__all__ = ["gap_priorities", "write_coverage"]

logger = logging.getLogger(__name__)


def write_coverage(
    cov: Coverage,
    out_dir: str | Path,
    *,
    lang: str = "zh",
    illustrative: bool = False,
    figures: dict[str, bytes] | None = None,
) -> dict[str, Path]:
    """Write the coverage outputs.

    Parameters
    ----------
    cov : Coverage
        From `gis.coverage.living_circle`.
    out_dir : str or Path
        Folder for the outputs (created if missing).
    lang : {"zh", "en"}, default "zh"
        Language of the CSV headers and the gap report.
    illustrative : bool, default False
        Say in the report that the data are the bundled demo.
    figures : dict of str to bytes, optional
        When given, also write ``gap_report.docx`` (Word) with these PNG print maps
        (``"overview"`` and per category key; see `gis.maps.printmap`); ``{}`` writes it
        without figures.

    Returns
    -------
    dict of str to Path
        ``gpkg``, ``csv``, ``markdown``, ``xlsx`` (and ``docx``).

    Notes
    -----
    ``coverage.gpkg`` keeps machine column names (``dist_m_<key>`` in metres,
    ``covered_<key>``, ``nearest_<key>``, ``coverage_score``) in the estates' own CRS,
    with a ``services`` layer of the classified facilities. ``coverage.csv`` is UTF-8
    with BOM so Excel and WPS open it without garbling Chinese.

    Examples
    --------
    A small seeded town (25 estates) measured along its streets, reported in English:

    >>> import tempfile
    >>> from gis.coverage import living_circle
    >>> from gis.standards import load_standard
    >>> from gis.synthetic import random_town
    >>> streets, estates, services = random_town(1)
    >>> cov = living_circle(estates, services, load_standard(), streets=streets,
    ...                     progress=False)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     paths = write_coverage(cov, out, lang="en")
    ...     report = paths["markdown"].read_text(encoding="utf-8").splitlines()
    ...     names = sorted(p.name for p in paths.values())
    >>> names
    ['coverage.csv', 'coverage.gpkg', 'gap_report_en.md', 'gap_report_en.xlsx']
    >>> report[0]
    '# 15-minute living circle: facility coverage gaps'
    >>> next(line for line in report if line.startswith("| Community service"))
    '| Community service centre | 1,000 | 13/25 | 52.0% | 5,242/10,820 | 48.4% |'
    """
    names = {
        "gpkg": "coverage.gpkg",
        "csv": "coverage.csv",
        "markdown": tr("report.file_markdown", lang),
        "xlsx": tr("report.file_xlsx", lang),
    }
    if figures is not None:
        names["docx"] = tr("report.file_docx", lang)
    summary = category_summary(cov, lang=lang)
    gaps = gap_list(cov, lang=lang)
    priority = gap_priorities(gaps)
    table = _estate_table(cov, lang)
    left_out = not_analysed_estates(cov.skipped, cov.estates.crs)
    if len(left_out):
        # Estates left out by `invalid="skip"` stay in the tables, marked, with the reason.
        reason = left_out[in_lang(lang, "not_analysed_reason", "not_analysed_reason_en")]
        extra = pd.DataFrame({table.columns[0]: left_out["estate_id"].to_numpy(),
                              table.columns[1]: left_out["name"].to_numpy()})
        table = pd.concat([table, extra], ignore_index=True)
        table[tr("report.not_analysed", lang)] = ([""] * (len(table) - len(left_out))
                                                  + reason.tolist())
    with staged_outputs(out_dir) as stage:
        gpkg = stage / names["gpkg"]
        estates = cov.estates.copy()
        estates["analysed"] = True
        if len(left_out):
            estates = pd.concat([estates, left_out], ignore_index=True)
        estates.to_file(gpkg, layer="estates", driver="GPKG")
        services = cov.services.to_crs(cov.estates.crs)
        services.to_file(gpkg, layer="services", driver="GPKG")
        style_coverage_gpkg(gpkg, cov.standard, lang=lang)  # QGIS opens it styled
        write_csv(table, stage / names["csv"])
        (stage / names["markdown"]).write_text(
            _markdown(cov, summary, gaps, priority, lang, illustrative)
            + _skipped_md(cov.skipped, lang), encoding="utf-8"
        )
        _xlsx(stage / names["xlsx"], cov, summary, gaps, priority, table, illustrative, lang)
        if cov.skipped:
            _skipped_sheet(stage / names["xlsx"], cov.skipped, lang)
        if figures is not None:
            from gis.report.docx import gap_report_docx

            gap_report_docx(stage / names["docx"], cov, summary, gaps, priority,
                            figures=figures, lang=lang, illustrative=illustrative)
    paths = {k: Path(out_dir) / v for k, v in names.items()}
    logger.info("Wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths


# ---------------------------------------------------------------------------


def _estate_table(cov: Coverage, lang: str) -> pd.DataFrame:
    est = cov.estates
    base = [c for c in ("estate_id", "name", "subdistrict", "community", "build_year",
                        "households", "floor_area_m2", "buildings", "shantytown") if c in est]
    out = pd.DataFrame({tr(f"report.{c}", lang): est[c].to_numpy() for c in base})
    if "shantytown" in est:
        out[tr("report.shantytown", lang)] = np.where(est["shantytown"], tr("report.yes", lang),
                                                      tr("report.no", lang))
    for c in cov.standard.categories:
        label = c.label(lang)
        out[tr("report.dist_col", lang, name=label)] = est[f"dist_m_{c.key}"].to_numpy()
        out[tr("report.covered_col", lang, name=label)] = np.where(
            est[f"covered_{c.key}"], tr("report.yes", lang), tr("report.no", lang)
        )
        out[tr("report.nearest_col", lang, name=label)] = est[f"nearest_{c.key}"].to_numpy()
    out[tr("report.n_covered", lang)] = est["n_covered"].to_numpy()
    out[tr("report.score", lang)] = est["coverage_score"].to_numpy()
    out[tr("report.missing", lang)] = missing_categories(est, cov.standard, lang)
    out[tr("report.mode", lang)] = tr(f"report.mode_{cov.mode}_short", lang)
    return out


def _skipped_md(skipped: list[dict], lang: str) -> str:
    """The rows left out by ``invalid="skip"``, each with its reason ("" when none)."""
    if not skipped:
        return ""
    table = skipped_table(skipped, lang=lang)
    head = tr("report.not_analysed_heading", lang)
    return "\n".join([f"## {head}", "", md_table(list(table.columns),
                                                   table.astype(str).values.tolist()), ""])


def _skipped_sheet(path: Path, skipped: list[dict], lang: str) -> None:
    """Add a 未分析 / Not analysed sheet: the rows left out, each with its reason."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.create_sheet(tr("report.sheet_not_analysed", lang))
    table = skipped_table(skipped, lang=lang)
    sheet.append(list(table.columns))
    for r, row in enumerate(table.itertuples(index=False), start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=str(value))
            cell.data_type = "s"  # text cells: values from the data never become formulas
    autofit(book)
    book.save(path)


def gap_priorities(gaps: pd.DataFrame) -> pd.DataFrame:
    """Where new facilities would help most: households in gap per community and category.

    Parameters
    ----------
    gaps : DataFrame
        From `gis.coverage.gap_list` (one row per estate and missing category).

    Returns
    -------
    DataFrame
        ``subdistrict`` and ``community`` (those the gaps have), ``category`` (its
        display name), ``gap_estates`` and ``gap_households`` (unknown households count
        as none; all unknown gives NaN), most households first; empty when there are no
        gaps.

    Examples
    --------
    >>> gaps = pd.DataFrame({"estate_id": ["E1", "E2", "E3"], "subdistrict": ["新浦街道"] * 3,
    ...                      "community": ["海连社区", "海连社区", "利民社区"],
    ...                      "category_name": ["菜市场"] * 3,
    ...                      "households": [320.0, 410.0, 980.0]})
    >>> gap_priorities(gaps).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'subdistrict': '新浦街道', 'community': '利民社区', 'category': '菜市场',
      'gap_estates': 1, 'gap_households': 980.0},
     {'subdistrict': '新浦街道', 'community': '海连社区', 'category': '菜市场',
      'gap_estates': 2, 'gap_households': 730.0}]
    """
    if gaps.empty:
        return pd.DataFrame()
    by = [c for c in ("subdistrict", "community") if c in gaps.columns]
    keys = [*by, "category_name"]
    agg = gaps.groupby(keys, sort=False, dropna=False).agg(
        gap_estates=("estate_id", "size"),
        gap_households=("households", lambda h: h.sum(min_count=1)),
    )
    agg = agg.reset_index().sort_values("gap_households", ascending=False, kind="stable")
    return agg.rename(columns={"category_name": "category"}).reset_index(drop=True)


def _fmt_dist(value: float, limit: float, lang: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return tr("report.beyond", lang, limit=limit)
    return f"{value:,.0f}"


def _fmt_int(value: float, lang: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return tr("report.unknown", lang)
    return f"{value:,.0f}"


def _markdown(
    cov: Coverage,
    summary: pd.DataFrame,
    gaps: pd.DataFrame,
    priority: pd.DataFrame,
    lang: str,
    illustrative: bool,
) -> str:
    est = cov.estates
    std = cov.standard
    hh = est["households"].sum() if est["households"].notna().any() else np.nan
    parts = [f"# {tr('report.title', lang)}", ""]
    if illustrative:
        parts += [f"> {tr('report.illustrative', lang)}", ""]
    if cov.mode == "straight":
        parts += [f"> **{tr('report.mode', lang)}: {tr('report.mode_straight', lang)}**", ""]
    parts += [
        f"## {tr('report.overview', lang)}",
        "",
        f"- {tr('report.standard', lang)}: {in_lang(lang, std.name_zh, std.name_en)} "
        f"({std.source})",
        f"- {tr('report.mode', lang)}: {tr(f'report.mode_{cov.mode}', lang)}",
        f"- {tr('report.crs', lang)}: {cov.analysis_crs.to_string()} ({cov.analysis_crs.name})",
        f"- {tr('report.estates', lang)}: {len(est):,}; "
        f"{tr('report.households', lang)}: {_fmt_int(hh, lang)}",
        f"- {tr('report.date', lang)}: {date.today().isoformat()}",
        "",
        f"## {tr('report.rates', lang)}",
        "",
    ]
    hh_known = bool(est["households"].notna().any())
    rows = [
        [
            r.name, f"{r.walk_m:,.0f}", f"{r.estates_covered}/{r.estates}",
            f"{r.estate_rate:.1%}",
            (f"{r.households_covered:,.0f}/{r.households:,.0f}" if hh_known
             else tr("report.unknown", lang)),
            "—" if np.isnan(r.household_rate) else f"{r.household_rate:.1%}",
        ]
        for r in summary.itertuples()
    ]
    parts += [
        md_table(
            [tr(f"report.{k}", lang) for k in ("category", "threshold", "estates_covered",
                                               "estate_rate", "households_covered",
                                               "household_rate")],
            rows,
        ),
        "",
        f"## {tr('report.gaps', lang)}",
        "",
    ]
    if gaps.empty:
        parts += [tr("report.no_gaps", lang), ""]
    else:
        limits = {c.key: cov.search_factor * c.walk_m for c in std.categories}
        group_cols = [c for c in ("subdistrict", "community") if c in gaps.columns]
        groups = (gaps.groupby(group_cols, sort=False, dropna=False) if group_cols
                  else [((tr("report.all", lang),), gaps)])
        for key, sub in groups:
            key = key if isinstance(key, tuple) else (key,)
            title = " / ".join(md_text(_fmt_name(k, lang)) for k in key)
            n_hh = sub.drop_duplicates("estate_id")["households"].sum(min_count=1)
            heading = tr("report.group_heading", lang, area=title, n=sub["estate_id"].nunique(),
                         households=_fmt_int(n_hh, lang))
            parts += [f"### {heading}", ""]
            rows = [
                [
                    _estate_label(r.name, r.estate_id, lang),
                    r.category_name,
                    (tr("report.no_facility", lang) if r.no_facility
                     else _fmt_dist(r.dist_m, limits[r.category], lang)),
                    "—" if np.isnan(r.excess_m) else f"{r.excess_m:,.0f}",
                    _fmt_int(r.households, lang),
                    r.nearest if isinstance(r.nearest, str) else "—",
                ]
                for r in sub.itertuples()
            ]
            parts += [
                md_table(
                    [tr(f"report.{k}", lang) for k in ("name", "category", "dist_m", "excess_m",
                                                       "gap_households", "nearest")],
                    rows,
                ),
                "",
            ]
        parts += [f"## {tr('report.priority', lang)}", "", tr("report.priority_note", lang), ""]
        cols = [c for c in ("subdistrict", "community") if c in priority.columns]
        rows = [
            [*(_fmt_name(getattr(r, c), lang) for c in cols), r.category, str(r.gap_estates),
             _fmt_int(r.gap_households, lang)]
            for r in priority.head(15).itertuples()
        ]
        parts += [
            md_table([tr(f"report.{k}", lang)
                      for k in (*cols, "category", "gap_estates", "gap_households")], rows),
            "",
        ]
    if cov.notes:
        parts += [f"## {tr('report.notes', lang)}", ""]
        parts += [f"- {md_text(note_text(n, lang))}" for n in cov.notes] + [""]
    return "\n".join(parts)


def _estate_label(name: object, estate_id: object, lang: str) -> str:
    if str(name) == str(estate_id):
        return str(estate_id)
    return tr("report.estate_label", lang, name=name, estate_id=estate_id)


def _fmt_name(value: object, lang: str) -> str:
    missing = value is None or (isinstance(value, float) and np.isnan(value))
    return tr("report.unknown", lang) if missing else str(value)


def _xlsx(
    path: Path,
    cov: Coverage,
    summary: pd.DataFrame,
    gaps: pd.DataFrame,
    priority: pd.DataFrame,
    table: pd.DataFrame,
    illustrative: bool,
    lang: str,
) -> None:
    rates = pd.DataFrame(
        {
            tr("report.category", lang): summary["name"],
            tr("report.threshold", lang): summary["walk_m"],
            tr("report.estates", lang): summary["estates"],
            tr("report.estates_covered", lang): summary["estates_covered"],
            tr("report.estate_rate", lang): summary["estate_rate"],
            tr("report.households", lang): summary["households"],
            tr("report.households_covered", lang): summary["households_covered"],
            tr("report.household_rate", lang): summary["household_rate"],
        }
    )
    # gap_list's machine columns -> the report's words for them.
    gap_words = {"estate_id": "estate_id", "name": "name", "subdistrict": "subdistrict",
                 "community": "community", "category_name": "category", "walk_m": "threshold",
                 "dist_m": "dist_m", "excess_m": "excess_m", "households": "gap_households",
                 "nearest": "nearest"}
    gap_sheet = gaps.rename(
        columns={col: tr(f"report.{what}", lang) for col, what in gap_words.items()}
    ).drop(columns=["category", "no_facility"])
    prio = priority.rename(columns={col: tr(f"report.{col}", lang) for col in priority.columns})
    notes = [tr("report.illustrative", lang)] if illustrative else []
    notes += [f"{tr('report.mode', lang)}: {tr(f'report.mode_{cov.mode}', lang)}",
              f"{tr('report.crs', lang)}: {cov.analysis_crs.to_string()}",
              *(note_text(n, lang) for n in cov.notes)]
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        rates.to_excel(xw, sheet_name=tr("report.sheet_rates", lang), index=False)
        gap_sheet.to_excel(xw, sheet_name=tr("report.sheet_gaps", lang), index=False)
        prio.to_excel(xw, sheet_name=tr("report.sheet_priority", lang), index=False)
        table.to_excel(xw, sheet_name=tr("report.sheet_estates", lang), index=False)
        pd.DataFrame({tr("report.notes", lang): notes}).to_excel(
            xw, sheet_name=tr("report.sheet_notes", lang), index=False)
        text_only_cells(xw.book)
        autofit(xw.book)
        ws = xw.book[tr("report.sheet_rates", lang)]
        for name in (tr("report.estate_rate", lang), tr("report.household_rate", lang)):
            idx = list(rates.columns).index(name) + 1
            for row in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                row[0].number_format = "0.0%"
