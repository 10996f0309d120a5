"""Write a siting result: sites.gpkg and the siting section of the gap report (MD, XLSX)."""

from __future__ import annotations

import logging
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from gis.notes import note_text
from gis.report._files import autofit, md_table, staged_outputs
from gis.report.qgis_styles import style_sites_gpkg
from gis.siting import GREEDY_BOUND, Siting

__all__ = ["SITING_TEXT", "write_siting"]

logger = logging.getLogger(__name__)

SITING_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "新增设施选址方案（补短板）",
        "lead": "本节为缺口报告的选址部分：在候选点位中选择新增设施位置，使步行可达覆盖的户数最多"
                "（给定点位数，MCLP），或用最少点位覆盖全部可覆盖的缺口小区（LSCP）。"
                "已被现有设施覆盖的小区不计入目标。",
        "illustrative": "说明：本报告基于内置示例数据（虚构县城），仅用于演示，不代表任何真实地区。",
        "overview": "概况",
        "standard": "标准",
        "distance": "距离计算方式",
        "distance_rule": "步行路网距离，与覆盖分析规则相同（小区出入口或边界附近路网节点 → 候选点，"
                         "候选点按直线接入最近路网节点）",
        "candidates": "候选点位",
        "cand_file": "文件提供",
        "cand_network": "沿路网每 {spacing} 米生成",
        "cand_estate": "小区内部各一处",
        "solver_rule": "求解规则",
        "solver_rule_text": "精确求解（整数规划，HiGHS）在时限内证明最优时采用精确解，否则采用贪心解"
                            "（CELF 懒惰评估，理论上不低于最优值的 {bound:.1%}）。",
        "date": "生成日期",
        "before_after": "覆盖前后对比",
        "category": "设施类别",
        "threshold": "步行距离阈值（米）",
        "model": "模型",
        "mclp": "最大覆盖（MCLP，{k} 处）",
        "lscp": "全覆盖最少点位（LSCP）",
        "method": "采用解",
        "exact": "精确最优",
        "exact_gap": "精确解（未证明最优）",
        "greedy": "贪心解",
        "greedy_unproven": "贪心解（精确求解未在时限内证明最优）",
        "sites": "新增点位数",
        "estates_before_after": "覆盖小区数（前→后）",
        "households_before_after": "覆盖户数（前→后）",
        "rate_before_after": "户数覆盖率（前→后）",
        "gap": "最优性差距",
        "proposals": "建议点位",
        "order": "序号",
        "candidate_id": "候选编号",
        "name": "名称",
        "source": "来源",
        "src_file": "候选文件",
        "src_network": "路网生成",
        "src_estate": "小区内部",
        "new_households": "新增覆盖户数",
        "new_estates": "新增覆盖小区数",
        "cum_households": "累计新增覆盖户数",
        "rate_after": "累计户数覆盖率",
        "no_sites": "无需新增：没有可由候选点覆盖的缺口小区。",
        "unreachable": "候选点无法覆盖的缺口小区",
        "unreachable_note": "这些小区在阈值内没有任何候选点，需增加候选地块（或在小区内部设置）。",
        "estate": "小区",
        "households": "户数",
        "nearest_candidate_m": "最近候选点距离（米）",
        "nearest_candidate": "最近候选点",
        "beyond": "> {limit:.0f}（超出搜索范围）",
        "solving": "求解说明",
        "greedy_value": "贪心目标值",
        "exact_value": "精确目标值",
        "bound_value": "最优值上/下界",
        "greedy_share": "贪心/最优",
        "seconds": "用时（秒）",
        "objective_note": "MCLP 目标值为新增覆盖户数；LSCP 目标值为点位数。",
        "notes": "数据处理说明",
        "unknown": "未知",
        "sheet_summary": "覆盖前后",
        "sheet_sites": "建议点位",
        "sheet_unreachable": "无法覆盖",
        "sheet_solving": "求解说明",
        "sheet_notes": "说明",
    },
    "en": {
        "title": "Siting new facilities (closing the gaps)",
        "lead": "The siting section of the gap report: where to add facilities among the "
                "candidate sites to newly cover the most households on foot (k sites, MCLP), or "
                "to cover every coverable gap estate with the fewest sites (LSCP). Estates "
                "already covered by an existing facility are not targets.",
        "illustrative": "Note: built from the bundled ILLUSTRATIVE demo data (a fictional county "
                        "town); it describes no real place.",
        "overview": "Overview",
        "standard": "Standard",
        "distance": "Distance",
        "distance_rule": "walking network distance by the coverage rules (estate gates or nearby "
                         "street nodes → candidate; a candidate joins its nearest street node "
                         "in a straight line)",
        "candidates": "Candidate sites",
        "cand_file": "from file",
        "cand_network": "every {spacing} m along the streets",
        "cand_estate": "one inside each estate",
        "solver_rule": "Solver rule",
        "solver_rule_text": "the exact solution (integer programme, HiGHS) when it is proven "
                            "optimal within the time limit, else the greedy one (CELF lazy "
                            "evaluation; at least {bound:.1%} of the optimum in theory).",
        "date": "Date",
        "before_after": "Coverage before and after",
        "category": "Category",
        "threshold": "Walking threshold (m)",
        "model": "Model",
        "mclp": "maximal covering (MCLP, {k} sites)",
        "lscp": "cover all with fewest sites (LSCP)",
        "method": "Solution kept",
        "exact": "exact, proven optimal",
        "exact_gap": "exact, not proven optimal",
        "greedy": "greedy",
        "greedy_unproven": "greedy (exact not proven within the time limit)",
        "sites": "New sites",
        "estates_before_after": "Estates covered (before → after)",
        "households_before_after": "Households covered (before → after)",
        "rate_before_after": "Household rate (before → after)",
        "gap": "Optimality gap",
        "proposals": "Proposed sites",
        "order": "Order",
        "candidate_id": "Candidate id",
        "name": "Name",
        "source": "Source",
        "src_file": "candidates file",
        "src_network": "along streets",
        "src_estate": "inside estate",
        "new_households": "Households newly covered",
        "new_estates": "Estates newly covered",
        "cum_households": "Cumulative households newly covered",
        "rate_after": "Cumulative household rate",
        "no_sites": "None needed: no gap estate can be covered by a candidate.",
        "unreachable": "Gap estates no candidate can cover",
        "unreachable_note": "No candidate lies within the threshold of these estates; add "
                            "candidate sites (or sites inside the estates).",
        "estate": "Estate",
        "households": "Households",
        "nearest_candidate_m": "Nearest candidate (m)",
        "nearest_candidate": "Nearest candidate",
        "beyond": "> {limit:.0f} (beyond search)",
        "solving": "Solver details",
        "greedy_value": "Greedy objective",
        "exact_value": "Exact objective",
        "bound_value": "Bound on the optimum",
        "greedy_share": "Greedy / optimum",
        "seconds": "Seconds",
        "objective_note": "MCLP objective: households newly covered; LSCP objective: sites.",
        "notes": "Data notes",
        "unknown": "unknown",
        "sheet_summary": "Before-after",
        "sheet_sites": "Sites",
        "sheet_unreachable": "Unreachable",
        "sheet_solving": "Solver",
        "sheet_notes": "Notes",
    },
}


def write_siting(
    siting: Siting,
    out_dir: str | Path,
    *,
    lang: str = "zh",
    illustrative: bool = False,
    spacing_m: float | None = None,
) -> dict[str, Path]:
    """Write ``sites.gpkg`` and the siting report (Markdown and XLSX), all or nothing.

    Parameters
    ----------
    siting : Siting
        From `gis.siting.site_facilities`.
    out_dir : str or Path
    lang : {"zh", "en"}, default "zh"
    illustrative : bool, default False
        Say the data are the bundled demo.
    spacing_m : float, optional
        Spacing of generated network candidates, for the overview.

    Returns
    -------
    dict of str to Path
        ``gpkg``, ``markdown``, ``xlsx``.

    Notes
    -----
    ``sites.gpkg`` (estates' CRS) has layers ``sites`` (chosen sites in proposal order
    per category, machine column names), ``service_areas`` (walkable area of each
    category's new sites), ``estates`` (with ``covered_after_<key>`` and ``site_<key>``)
    and ``candidates`` (every candidate considered, with ``hop_m``).
    """
    t = SITING_TEXT["en" if lang == "en" else "zh"]
    en = lang == "en"
    names = {"gpkg": "sites.gpkg",
             "markdown": "siting_report_en.md" if en else "siting_report.md",
             "xlsx": "siting_report_en.xlsx" if en else "siting_report.xlsx"}
    summary = _summary_table(siting, t, lang)
    sites = _sites_table(siting, t, lang)
    lost = _unreachable_table(siting, t, lang)
    solving = _solving_table(siting, t, lang)
    with staged_outputs(out_dir) as stage:
        gpkg = stage / names["gpkg"]
        siting.sites.to_file(gpkg, layer="sites", driver="GPKG")
        if len(siting.areas):
            siting.areas.to_file(gpkg, layer="service_areas", driver="GPKG")
        est = siting.estates.copy()
        for col in [c for c in est.columns if c.startswith("site_")]:
            est[col] = est[col].astype(object)
        est.to_file(gpkg, layer="estates", driver="GPKG")
        siting.candidates.to_file(gpkg, layer="candidates", driver="GPKG")
        # QGIS opens every layer styled (numbered sites, dashed service areas …).
        style_sites_gpkg(gpkg, siting.coverage.standard, list(siting.summary["category"])
                         if len(siting.summary) else [], lang=lang)
        (stage / names["markdown"]).write_text(
            _markdown(siting, summary, sites, lost, solving, t, lang, illustrative, spacing_m),
            encoding="utf-8")
        _xlsx(stage / names["xlsx"], siting, summary, sites, lost, solving, t, lang, illustrative)
    paths = {k: Path(out_dir) / v for k, v in names.items()}
    logger.info("Wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths


# ---------------------------------------------------------------------------


def _label(row: pd.Series | object, lang: str) -> str:
    return str(getattr(row, "name_en" if lang == "en" else "name_zh"))


def _method(row: object, t: dict[str, str]) -> str:
    if row.method == "exact":  # type: ignore[attr-defined]
        return t["exact"] if row.optimal else t["exact_gap"]  # type: ignore[attr-defined]
    exact_tried = isinstance(row.message, str) and row.message.startswith("exact not proven")  # type: ignore[attr-defined]
    return t["greedy_unproven"] if exact_tried else t["greedy"]


def _pct(value: float) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.1%}"


def _num(value: float, t: dict[str, str]) -> str:
    return t["unknown"] if value is None or not np.isfinite(value) else f"{value:,.0f}"


def _summary_table(siting: Siting, t: dict[str, str], lang: str) -> pd.DataFrame:
    rows = []
    for r in siting.summary.itertuples(index=False):
        rows.append({
            t["category"]: _label(r, lang),
            t["threshold"]: r.walk_m,
            t["model"]: t["mclp"].format(k=int(r.k)) if r.model == "mclp" else t["lscp"],
            t["method"]: _method(r, t),
            t["sites"]: r.sites,
            t["estates_before_after"]: f"{r.estates_covered_before} → {r.estates_covered_after}"
                                       f" / {r.estates}",
            t["households_before_after"]: f"{_num(r.households_covered_before, t)} → "
                                          f"{_num(r.households_covered_after, t)}",
            t["rate_before_after"]: f"{_pct(r.household_rate_before)} → "
                                    f"{_pct(r.household_rate_after)}",
            t["gap"]: _pct(r.gap),
        })
    return pd.DataFrame(rows)


def _sites_table(siting: Siting, t: dict[str, str], lang: str) -> pd.DataFrame:
    s = siting.sites
    if not len(s):
        return pd.DataFrame(columns=[t["category"], t["order"], t["candidate_id"], t["name"],
                                     t["source"], t["new_households"], t["new_estates"],
                                     t["cum_households"], t["rate_after"]])
    return pd.DataFrame({
        t["category"]: s["category_name_en" if lang == "en" else "category_name_zh"].to_numpy(),
        t["order"]: s["order"].to_numpy(),
        t["candidate_id"]: s["candidate_id"].astype(str).to_numpy(),
        t["name"]: s["name"].astype(str).to_numpy(),
        t["source"]: [t.get(f"src_{v}", str(v)) for v in s["source"]],
        t["new_households"]: s["new_households"].to_numpy(),
        t["new_estates"]: s["new_estates"].to_numpy(),
        t["cum_households"]: s["cum_households"].to_numpy(),
        t["rate_after"]: s["household_rate_after"].to_numpy(),
    })


def _unreachable_table(siting: Siting, t: dict[str, str], lang: str) -> pd.DataFrame:
    u = siting.unreachable
    names = {r.category: _label(r, lang) for r in siting.summary.itertuples(index=False)}
    limits = {r.category: siting.coverage.search_factor * r.walk_m
              for r in siting.summary.itertuples(index=False)}
    return pd.DataFrame({
        t["category"]: [names.get(c, c) for c in u["category"]],
        t["estate"]: [f"{n}（{i}）" if lang != "en" else f"{n} ({i})"
                      for n, i in zip(u["name"], u["estate_id"])],
        t["households"]: u["households"].to_numpy(),
        t["nearest_candidate_m"]: [t["beyond"].format(limit=limits[c]) if not np.isfinite(d)
                                   else f"{d:,.0f}"
                                   for c, d in zip(u["category"], u["nearest_candidate_m"].astype(float))],
        t["nearest_candidate"]: [str(v) if isinstance(v, str) else "—"
                                 for v in u["nearest_candidate"]],
    })


def _solving_table(siting: Siting, t: dict[str, str], lang: str) -> pd.DataFrame:
    rows = []
    for r in siting.summary.itertuples(index=False):
        rows.append({
            t["category"]: _label(r, lang),
            t["model"]: r.model.upper(),
            t["method"]: _method(r, t),
            t["greedy_value"]: r.greedy_objective,
            t["exact_value"]: r.exact_objective,
            t["bound_value"]: r.bound,
            t["gap"]: _pct(r.gap),
            t["greedy_share"]: _pct(r.greedy_share),
            t["seconds"]: round(float(r.seconds), 2),
        })
    return pd.DataFrame(rows)


def _cell(value: object, pct: bool = False, decimals: int = 0) -> str:
    """A Markdown cell: numbers with thousands separators, rates as percentages."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "—"
        return f"{value:.1%}" if pct else f"{value:,.{decimals}f}"
    return str(value)


def _md(df: pd.DataFrame, t: dict[str, str], drop: tuple[str, ...] = ()) -> str:
    cols = [c for c in df.columns if c not in drop]
    pct = {t["rate_after"]}
    dec = {t["seconds"]: 2}
    rows = [[_cell(r[c], c in pct, dec.get(c, 0)) for c in cols]
            for r in df.to_dict("records")]
    return md_table(cols, rows)


def _markdown(siting: Siting, summary: pd.DataFrame, sites: pd.DataFrame, lost: pd.DataFrame,
              solving: pd.DataFrame, t: dict[str, str], lang: str, illustrative: bool,
              spacing_m: float | None) -> str:
    std = siting.coverage.standard
    parts = [f"# {t['title']}", ""]
    if illustrative:
        parts += [f"> {t['illustrative']}", ""]
    src = siting.candidates["source"].value_counts() if "source" in siting.candidates else {}
    kinds = []
    for kind in ("file", "network", "estate"):
        if src.get(kind, 0):
            text = t[f"cand_{kind}"].format(spacing=f"{spacing_m:.0f}" if spacing_m else "?")
            kinds.append(f"{src[kind]:,} {text}" if lang == "en" else f"{text} {src[kind]:,} 处")
    parts += [
        t["lead"], "",
        f"## {t['overview']}", "",
        f"- {t['standard']}: {std.name_en if lang == 'en' else std.name_zh} ({std.source})",
        f"- {t['distance']}: {t['distance_rule']}",
        f"- {t['candidates']}: {len(siting.candidates):,}（{'；'.join(kinds)}）" if lang != "en"
        else f"- {t['candidates']}: {len(siting.candidates):,} ({'; '.join(kinds)})",
        f"- {t['solver_rule']}: {t['solver_rule_text'].format(bound=GREEDY_BOUND)}",
        f"- {t['date']}: {date.today().isoformat()}",
        "",
        f"## {t['before_after']}", "",
        _md(summary, t),
        "",
        f"## {t['proposals']}", "",
    ]
    if sites.empty:
        parts += [t["no_sites"], ""]
    else:
        for cat, sub in sites.groupby(t["category"], sort=False):
            parts += [f"### {cat}", ""]
            parts += [_md(sub, t, drop=(t["category"],)), ""]
    if not lost.empty:
        parts += [f"## {t['unreachable']}", "", t["unreachable_note"], "",
                  _md(lost, t),
                  ""]
    parts += [f"## {t['solving']}", "", t["objective_note"], "",
              _md(solving, t),
              ""]
    notes = [*siting.coverage.notes, *siting.notes]
    if notes:
        parts += [f"## {t['notes']}", ""] + [f"- {note_text(n, lang)}" for n in notes] + [""]
    return "\n".join(parts)


def _xlsx(path: Path, siting: Siting, summary: pd.DataFrame, sites: pd.DataFrame,
          lost: pd.DataFrame, solving: pd.DataFrame, t: dict[str, str], lang: str,
          illustrative: bool) -> None:
    notes = [t["illustrative"]] if illustrative else []
    notes += [t["lead"], t["objective_note"],
              *(note_text(n, lang) for n in [*siting.coverage.notes, *siting.notes])]
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        summary.to_excel(xw, sheet_name=t["sheet_summary"], index=False)
        sites.to_excel(xw, sheet_name=t["sheet_sites"], index=False)
        lost.to_excel(xw, sheet_name=t["sheet_unreachable"], index=False)
        solving.to_excel(xw, sheet_name=t["sheet_solving"], index=False)
        pd.DataFrame({t["notes"]: notes}).to_excel(xw, sheet_name=t["sheet_notes"], index=False)
        for ws in xw.book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    # Names are data, never formulas: "=HYPERLINK(…)" in a name stays text.
                    if cell.data_type == "f":
                        cell.data_type = "s"
        ws = xw.book[t["sheet_sites"]]
        col = list(sites.columns).index(t["rate_after"]) + 1
        for row in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            row[0].number_format = "0.0%"
        autofit(xw.book)
