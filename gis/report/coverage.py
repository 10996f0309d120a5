"""Write coverage results: GeoPackage, CSV for Excel, and the gap report (Markdown, XLSX)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from gis.coverage import Coverage, category_summary, gap_list, missing_categories
from gis.notes import note_text
from gis.report._files import (
    autofit,
    md_table,
    md_text,
    staged_outputs,
    text_only_cells,
    write_csv,
)
from gis.report.qgis_styles import style_coverage_gpkg
from gis.skipped import not_analysed_estates, skipped_table

__all__ = ["TEXT", "write_coverage"]

logger = logging.getLogger(__name__)

# Report wording, Chinese first.
TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "15分钟生活圈设施覆盖缺口报告",
        "illustrative": "说明：本报告基于内置示例数据（虚构县城），仅用于演示，不代表任何真实地区。",
        "overview": "概况",
        "standard": "标准",
        "mode": "距离计算方式",
        "mode_network": "步行路网距离（小区出入口或边界附近路网节点 → 设施）",
        "mode_straight": "直线距离（未使用路网，结果偏乐观，仅供参考）",
        "mode_network_short": "路网步行距离",
        "mode_straight_short": "直线距离",
        "crs": "分析坐标系",
        "estates": "小区数",
        "households": "总户数",
        "categories": "设施类别",
        "rates": "分类覆盖率",
        "category": "设施类别",
        "threshold": "步行距离阈值（米）",
        "estates_covered": "覆盖小区数",
        "estate_rate": "小区覆盖率",
        "households_covered": "覆盖户数",
        "household_rate": "户数覆盖率",
        "gaps": "缺口清单",
        "no_gaps": "所有小区均已覆盖全部设施类别。",
        "estate_id": "小区编号",
        "name": "小区名称",
        "subdistrict": "所属街道",
        "community": "所属社区",
        "dist_m": "最近距离（米）",
        "excess_m": "超出阈值（米）",
        "nearest": "最近设施",
        "gap_households": "缺口户数",
        "priority": "优先补点建议（按缺口户数）",
        "priority_note": "各社区内缺少该类设施的户数合计；户数越多，新增设施受益越大。",
        "gap_estates": "缺口小区数",
        "notes": "数据处理说明",
        "beyond": "> {limit:.0f}（超出搜索范围）",
        "no_facility": "无此类设施（输入数据中没有）",
        "unknown": "未知",
        "date": "生成日期",
        "score": "覆盖得分",
        "missing": "缺少的设施",
        "yes": "是",
        "no": "否",
        "dist_col": "{name}_距离米",
        "covered_col": "{name}_是否覆盖",
        "nearest_col": "{name}_最近设施",
        "build_year": "建成年份",
        "floor_area_m2": "建筑面积（平方米）",
        "buildings": "楼栋数",
        "shantytown": "棚改计划",
        "n_covered": "覆盖类别数",
        "sheet_rates": "覆盖率",
        "sheet_gaps": "缺口清单",
        "sheet_priority": "补点建议",
        "sheet_estates": "小区明细",
        "sheet_notes": "说明",
        "all": "全部",
    },
    "en": {
        "title": "15-minute living circle: facility coverage gaps",
        "illustrative": "Note: built from the bundled ILLUSTRATIVE demo data (a fictional county "
        "town); it describes no real place.",
        "overview": "Overview",
        "standard": "Standard",
        "mode": "Distance",
        "mode_network": "walking network distance (estate gates or nearby street nodes → facility)",
        "mode_straight": "STRAIGHT-LINE distance (no street network; optimistic, indicative only)",
        "mode_network_short": "walking network",
        "mode_straight_short": "straight line",
        "crs": "Analysis CRS",
        "estates": "Estates",
        "households": "Households",
        "categories": "Categories",
        "rates": "Coverage by category",
        "category": "Category",
        "threshold": "Walking threshold (m)",
        "estates_covered": "Estates covered",
        "estate_rate": "Estate rate",
        "households_covered": "Households covered",
        "household_rate": "Household rate",
        "gaps": "Gaps",
        "no_gaps": "Every estate reaches every category.",
        "estate_id": "Estate id",
        "name": "Estate",
        "subdistrict": "Subdistrict",
        "community": "Community",
        "dist_m": "Nearest (m)",
        "excess_m": "Over threshold (m)",
        "nearest": "Nearest facility",
        "gap_households": "Households in gap",
        "priority": "Where new facilities would help most (households in gap)",
        "priority_note": "Households lacking the category, per community; more households, "
        "more benefit from a new facility.",
        "gap_estates": "Estates in gap",
        "notes": "Data notes",
        "beyond": "> {limit:.0f} (beyond search)",
        "no_facility": "none in the input data",
        "unknown": "unknown",
        "date": "Date",
        "score": "Coverage score",
        "missing": "Missing",
        "yes": "yes",
        "no": "no",
        "dist_col": "{name} distance m",
        "covered_col": "{name} covered",
        "nearest_col": "{name} nearest",
        "build_year": "Build year",
        "floor_area_m2": "Floor area (m²)",
        "buildings": "Buildings",
        "shantytown": "Shantytown plan",
        "n_covered": "Categories covered",
        "sheet_rates": "Coverage",
        "sheet_gaps": "Gaps",
        "sheet_priority": "Priorities",
        "sheet_estates": "Estates",
        "sheet_notes": "Notes",
        "all": "All",
    },
}


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
    """
    t = TEXT["en" if lang == "en" else "zh"]
    names = {
        "gpkg": "coverage.gpkg",
        "csv": "coverage.csv",
        "markdown": "gap_report.md" if lang != "en" else "gap_report_en.md",
        "xlsx": "gap_report.xlsx" if lang != "en" else "gap_report_en.xlsx",
    }
    if figures is not None:
        names["docx"] = "gap_report.docx" if lang != "en" else "gap_report_en.docx"
    summary = category_summary(cov, lang=lang)
    gaps = gap_list(cov, lang=lang)
    priority = _priorities(gaps, t)
    table = _estate_table(cov, t, lang)
    left_out = not_analysed_estates(cov.skipped, cov.estates.crs)
    if len(left_out):
        # Estates left out by --invalid skip stay in the tables, marked, with the reason.
        reason = left_out["not_analysed_reason_en" if lang == "en" else "not_analysed_reason"]
        extra = pd.DataFrame({table.columns[0]: left_out["estate_id"].to_numpy(),
                              table.columns[1]: left_out["name"].to_numpy()})
        table = pd.concat([table, extra], ignore_index=True)
        label = "Not analysed" if lang == "en" else "未分析原因"
        table[label] = [""] * (len(table) - len(left_out)) + reason.tolist()
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
            _markdown(cov, summary, gaps, priority, t, lang, illustrative)
            + _skipped_md(cov.skipped, lang), encoding="utf-8"
        )
        _xlsx(stage / names["xlsx"], cov, summary, gaps, priority, table, t, illustrative, lang)
        if cov.skipped:
            _skipped_sheet(stage / names["xlsx"], cov.skipped, lang)
        if figures is not None:
            from gis.report.docx import gap_report_docx

            gap_report_docx(stage / names["docx"], cov, summary, gaps, priority, t,
                            figures=figures, lang=lang, illustrative=illustrative)
    paths = {k: Path(out_dir) / v for k, v in names.items()}
    logger.info("Wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths


# ---------------------------------------------------------------------------


def _estate_table(cov: Coverage, t: dict[str, str], lang: str) -> pd.DataFrame:
    est = cov.estates
    base = [c for c in ("estate_id", "name", "subdistrict", "community", "build_year",
                        "households", "floor_area_m2", "buildings", "shantytown") if c in est]
    out = pd.DataFrame({t.get(c, c): est[c].to_numpy() for c in base})
    if "shantytown" in est:
        out[t["shantytown"]] = np.where(est["shantytown"], t["yes"], t["no"])
    for c in cov.standard.categories:
        label = c.label(lang)
        out[t["dist_col"].format(name=label)] = est[f"dist_m_{c.key}"].to_numpy()
        out[t["covered_col"].format(name=label)] = np.where(
            est[f"covered_{c.key}"], t["yes"], t["no"]
        )
        out[t["nearest_col"].format(name=label)] = est[f"nearest_{c.key}"].to_numpy()
    out[t["n_covered"]] = est["n_covered"].to_numpy()
    out[t["score"]] = est["coverage_score"].to_numpy()
    out[t["missing"]] = missing_categories(est, cov.standard, lang)
    out[t["mode"]] = t["mode_" + cov.mode + "_short"]
    return out


def _skipped_md(skipped: list[dict], lang: str) -> str:
    """The rows left out by ``--invalid skip``, each with its reason ("" when none)."""
    if not skipped:
        return ""
    table = skipped_table(skipped, lang=lang)
    head = ("Not analysed (rows left out, with the reason)" if lang == "en"
            else "未分析的要素（已跳过的行及原因）")
    return "\n".join([f"## {head}", "", md_table(list(table.columns),
                                                   table.astype(str).values.tolist()), ""])


def _skipped_sheet(path: Path, skipped: list[dict], lang: str) -> None:
    """Add a 未分析 / Not analysed sheet: the rows left out, each with its reason."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.create_sheet("Not analysed" if lang == "en" else "未分析")
    table = skipped_table(skipped, lang=lang)
    sheet.append(list(table.columns))
    for r, row in enumerate(table.itertuples(index=False), start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=str(value))
            cell.data_type = "s"  # text cells: values from the data never become formulas
    autofit(book)
    book.save(path)


def _priorities(gaps: pd.DataFrame, t: dict[str, str]) -> pd.DataFrame:
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


def _fmt_dist(value: float, limit: float, t: dict[str, str]) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return t["beyond"].format(limit=limit)
    return f"{value:,.0f}"


def _fmt_int(value: float, t: dict[str, str]) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return t["unknown"]
    return f"{value:,.0f}"


def _markdown(
    cov: Coverage,
    summary: pd.DataFrame,
    gaps: pd.DataFrame,
    priority: pd.DataFrame,
    t: dict[str, str],
    lang: str,
    illustrative: bool,
) -> str:
    est = cov.estates
    std = cov.standard
    hh = est["households"].sum() if est["households"].notna().any() else np.nan
    parts = [f"# {t['title']}", ""]
    if illustrative:
        parts += [f"> {t['illustrative']}", ""]
    if cov.mode == "straight":
        parts += [f"> **{t['mode']}: {t['mode_straight']}**", ""]
    parts += [
        f"## {t['overview']}",
        "",
        f"- {t['standard']}: {std.name_en if lang == 'en' else std.name_zh} ({std.source})",
        f"- {t['mode']}: {t['mode_' + cov.mode]}",
        f"- {t['crs']}: {cov.analysis_crs.to_string()} ({cov.analysis_crs.name})",
        f"- {t['estates']}: {len(est):,}; {t['households']}: {_fmt_int(hh, t)}",
        f"- {t['date']}: {date.today().isoformat()}",
        "",
        f"## {t['rates']}",
        "",
    ]
    hh_known = bool(est["households"].notna().any())
    rows = [
        [
            r.name, f"{r.walk_m:,.0f}", f"{r.estates_covered}/{r.estates}",
            f"{r.estate_rate:.1%}",
            f"{r.households_covered:,.0f}/{r.households:,.0f}" if hh_known else t["unknown"],
            "—" if np.isnan(r.household_rate) else f"{r.household_rate:.1%}",
        ]
        for r in summary.itertuples()
    ]
    parts += [
        md_table(
            [t["category"], t["threshold"], t["estates_covered"], t["estate_rate"],
             t["households_covered"], t["household_rate"]],
            rows,
        ),
        "",
        f"## {t['gaps']}",
        "",
    ]
    if gaps.empty:
        parts += [t["no_gaps"], ""]
    else:
        limits = {c.key: cov.search_factor * c.walk_m for c in std.categories}
        group_cols = [c for c in ("subdistrict", "community") if c in gaps.columns]
        groups = gaps.groupby(group_cols, sort=False, dropna=False) if group_cols else [((t["all"],), gaps)]
        for key, sub in groups:
            key = key if isinstance(key, tuple) else (key,)
            title = " / ".join(md_text(_fmt_name(k, t)) for k in key)
            n_hh = sub.drop_duplicates("estate_id")["households"].sum(min_count=1)
            parts += [f"### {title}（{sub['estate_id'].nunique()} 个小区，{_fmt_int(n_hh, t)} 户）"
                      if lang != "en" else
                      f"### {title} ({sub['estate_id'].nunique()} estates, {_fmt_int(n_hh, t)} households)",
                      ""]
            rows = [
                [
                    _estate_label(r.name, r.estate_id, lang),
                    r.category_name,
                    t["no_facility"] if r.no_facility else _fmt_dist(r.dist_m, limits[r.category], t),
                    "—" if np.isnan(r.excess_m) else f"{r.excess_m:,.0f}",
                    _fmt_int(r.households, t),
                    r.nearest if isinstance(r.nearest, str) else "—",
                ]
                for r in sub.itertuples()
            ]
            parts += [
                md_table(
                    [t["name"], t["category"], t["dist_m"], t["excess_m"], t["gap_households"],
                     t["nearest"]],
                    rows,
                ),
                "",
            ]
        parts += [f"## {t['priority']}", "", t["priority_note"], ""]
        cols = [c for c in ("subdistrict", "community") if c in priority.columns]
        rows = [
            [*(_fmt_name(getattr(r, c), t) for c in cols), r.category, str(r.gap_estates),
             _fmt_int(r.gap_households, t)]
            for r in priority.head(15).itertuples()
        ]
        parts += [
            md_table([*(t[c] for c in cols), t["category"], t["gap_estates"],
                       t["gap_households"]], rows),
            "",
        ]
    if cov.notes:
        parts += [f"## {t['notes']}", ""] + [f"- {md_text(note_text(n, lang))}" for n in cov.notes] + [""]
    return "\n".join(parts)


def _estate_label(name: object, estate_id: object, lang: str) -> str:
    if str(name) == str(estate_id):
        return str(estate_id)
    return f"{name}（{estate_id}）" if lang != "en" else f"{name} ({estate_id})"


def _fmt_name(value: object, t: dict[str, str]) -> str:
    return t["unknown"] if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _xlsx(
    path: Path,
    cov: Coverage,
    summary: pd.DataFrame,
    gaps: pd.DataFrame,
    priority: pd.DataFrame,
    table: pd.DataFrame,
    t: dict[str, str],
    illustrative: bool,
    lang: str,
) -> None:
    rates = pd.DataFrame(
        {
            t["category"]: summary["name"],
            t["threshold"]: summary["walk_m"],
            t["estates"]: summary["estates"],
            t["estates_covered"]: summary["estates_covered"],
            t["estate_rate"]: summary["estate_rate"],
            t["households"]: summary["households"],
            t["households_covered"]: summary["households_covered"],
            t["household_rate"]: summary["household_rate"],
        }
    )
    gap_cols = {c: t.get(c, c) for c in ("estate_id", "name", "subdistrict", "community")}
    gap_sheet = gaps.rename(
        columns={**gap_cols, "category_name": t["category"], "walk_m": t["threshold"],
                 "dist_m": t["dist_m"], "excess_m": t["excess_m"],
                 "households": t["gap_households"], "nearest": t["nearest"]}
    ).drop(columns=["category", "no_facility"])
    prio = priority.rename(
        columns={"subdistrict": t["subdistrict"], "community": t["community"],
                 "category": t["category"], "gap_estates": t["gap_estates"],
                 "gap_households": t["gap_households"]}
    )
    notes = [t["illustrative"]] if illustrative else []
    notes += [f"{t['mode']}: {t['mode_' + cov.mode]}", f"{t['crs']}: {cov.analysis_crs.to_string()}",
              *(note_text(n, lang) for n in cov.notes)]
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        rates.to_excel(xw, sheet_name=t["sheet_rates"], index=False)
        gap_sheet.to_excel(xw, sheet_name=t["sheet_gaps"], index=False)
        prio.to_excel(xw, sheet_name=t["sheet_priority"], index=False)
        table.to_excel(xw, sheet_name=t["sheet_estates"], index=False)
        pd.DataFrame({t["notes"]: notes}).to_excel(xw, sheet_name=t["sheet_notes"], index=False)
        text_only_cells(xw.book)
        autofit(xw.book)
        ws = xw.book[t["sheet_rates"]]
        for name in (t["estate_rate"], t["household_rate"]):
            idx = list(rates.columns).index(name) + 1
            for row in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                row[0].number_format = "0.0%"
