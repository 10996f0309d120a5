"""Write renovation units (``gis units``) and the review package (``gis review``).

The review package is what the natural resources bureau (自然资源局) opens: GeoPackages
in CGCS2000 (EPSG:4490) and in the data's own CRS, a workbook with one row per unit and
every check (plus blank 决定 / 说明 columns reviewers fill in and pass back with
``--decisions``), and a Markdown summary.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.eligibility import FILL_IN_HINT
from gis.i18n import join
from gis.notes import note_text
from gis.report._files import (
    autofit,
    md_table,
    md_text,
    staged_outputs,
    text_only_cells,
    write_csv,
)
from gis.report.qgis_styles import style_units_gpkg
from gis.skipped import skipped_table
from gis.units import CAP_LABELS, Units, link_reason_texts, unit_gap_texts

__all__ = ["unit_sheet", "write_review", "write_units"]

logger = logging.getLogger(__name__)

REVIEW_CRS = "EPSG:4490"  # CGCS2000, what Chinese natural-resources systems expect

_UNIT_COLUMNS = {
    "unit_id": ("单元编号", "Unit id"),
    "n_estates": ("小区数", "Estates"),
    "households": ("户数", "Households"),
    "floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)"),
    "households_known": ("已知户数（户数已知的成员合计）", "Households known (members with a count)"),
    "households_unknown_n": ("户数未知的成员小区数", "Members without households"),
    "floor_area_known_m2": ("已知建筑面积（平方米）", "Floor area known (m²)"),
    "floor_area_unknown_n": ("建筑面积未知的成员小区数", "Members without floor area"),
    "caps_checked": ("已核验的规模上限", "Caps checked"),
    "caps_unchecked": ("未能核验的规模上限", "Caps not checkable"),
    "size_checked": ("规模已全部核验", "Size fully checked"),
    "assumed_members": ("假定纳入的成员小区数", "Members assumed eligible"),
    "build_year_min": ("最早建成年份", "Built from"),
    "build_year_max": ("最晚建成年份", "Built to"),
    "members": ("成员小区", "Members"),
    "member_names": ("成员小区名称", "Member names"),
    "flags": ("提示", "Flags"),
    "decision": ("已执行的审查决定", "Decision applied"),
    "coverage_households_rate": ("生活圈设施户数覆盖率", "Living-circle household coverage"),
    "coverage_gaps": ("生活圈设施缺口", "Living-circle gaps"),
    "link_reasons": ("联动依据", "Why linked"),
    "n_conflicts": ("冲突项数", "Conflicts"),
    "conflict_summary": ("审查冲突", "Conflict summary"),
}
_ESTATE_COLUMNS = {
    "estate_id": ("小区编号", "Estate id"),
    "name": ("小区名称", "Estate"),
    "build_year": ("建成年份", "Built"),
    "households": ("户数", "Households"),
    "floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)"),
    "eligibility_reason": ("改造资格", "Eligibility"),
    "unit_id": ("所属单元", "Unit"),
}
_LINK_COLUMNS = {
    "estate_a": ("小区A", "Estate A"),
    "estate_b": ("小区B", "Estate B"),
    "gap_m": ("间距（米）", "Gap (m)"),
    "facing_m": ("相邻边长（米）", "Facing (m)"),
    "crossed": ("跨越障碍", "Crossed"),
    "linked": ("是否联动", "Linked"),
    "reason_text": ("说明", "Note"),
    "decision": ("审查决定", "Decision"),
}
_REASONS = {
    "": ("相邻（间距与相邻边长均满足）", "neighbours (gap and facing length met)"),
    "short_facing": ("相邻边过短（仅角点相接或错位）", "facing too short (corner-only contact)"),
    "barrier": ("间隔道路/河流等障碍", "separated by a barrier"),
    "overlap": ("边界相互重叠，请核对边界（未联动）", "boundaries overlap: check them (not linked)"),
    "inside": ("一个小区位于另一小区范围内，请核对是否重复（未联动）",
               "one estate lies inside the other: check for a duplicate (not linked)"),
}


def _label(columns: dict[str, tuple[str, str]], lang: str) -> dict[str, str]:
    k = 1 if lang == "en" else 0
    return {c: names[k] for c, names in columns.items()}


def link_reasons(units: Units, lang: str = "zh") -> pd.Series:
    """Per unit, why its members were linked: each link with its gap and facing length.

    The words come from `gis.i18n` (message ``link_reason``); the links keep numbers only.
    """
    unit_of = units.membership.set_index("estate_id")["unit_id"]
    return link_reason_texts(units.links, unit_of, lang)


def _render_in(table: pd.DataFrame, units: Units, lang: str,
               estates: pd.DataFrame | None) -> None:
    """Re-render the text columns stored in Chinese (member names list, gaps) in ``lang``.

    ``table`` is indexed by unit id. The names are joined again from `Units.membership`
    and the estates' names (in the members' order), never by splitting the stored text.
    """
    if "member_names" in table and estates is not None and "name" in estates:
        name_of = dict(zip(estates["estate_id"].astype(str), estates["name"].astype(str)))
        m = units.membership
        names = pd.Series([name_of.get(str(e), str(e)) for e in m["estate_id"]], index=m.index)
        joined = names.groupby(m["unit_id"].to_numpy(), sort=False).agg(
            lambda s: join(s, lang))
        table["member_names"] = joined.reindex(table.index).fillna(table["member_names"])
    if "members" in table:
        m = units.membership
        ids = m["estate_id"].astype(str).groupby(m["unit_id"].to_numpy(), sort=False).agg(
            lambda s: join(s, lang))
        table["members"] = ids.reindex(table.index).fillna(table["members"])
    if "coverage_gaps" in table and units.gaps is not None:
        table["coverage_gaps"] = unit_gap_texts(units.gaps, lang).reindex(table.index).fillna("")


def unit_sheet(units: Units, checks: pd.DataFrame | None = None, *, lang: str = "zh",
               estates: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit with totals, link reasons, coverage and checks, display headers.

    ``estates`` (with ``estate_id`` and ``name``) lets the member-name lists be joined in
    ``lang``; without it they stay as stored.
    """
    table = units.units.drop(columns="geometry").set_index("unit_id")
    table["link_reasons"] = link_reasons(units, lang).reindex(table.index).fillna("")
    if lang != "zh":
        _render_in(table, units, lang, estates)
    if checks is not None:
        checks = checks.copy()
        if "conflict_summary_en" in checks:
            en_text = checks.pop("conflict_summary_en")
            if lang == "en":
                checks["conflict_summary"] = en_text
        table = table.join(checks, how="left")
    k = 1 if lang == "en" else 0
    for col in ("caps_checked", "caps_unchecked"):
        if col in table:
            table[col] = table[col].map(lambda v: ("、" if k == 0 else ", ").join(
                CAP_LABELS[c][k] for c in str(v).split(",") if c in CAP_LABELS))
    if "size_checked" in table:
        yes, no = ("yes", "NO: unknown members") if k else ("是", "否（成员数据未知）")
        table["size_checked"] = np.where(table["size_checked"].astype(bool), yes, no)
    order = [c for c in _UNIT_COLUMNS if c in table.columns or c == "unit_id"]
    rest = [c for c in table.columns if c not in order]
    table = table.reset_index()[order + rest]
    return table.rename(columns=_label(_UNIT_COLUMNS, lang))


def _estate_sheet(estates: gpd.GeoDataFrame, units: Units, lang: str) -> pd.DataFrame:
    est = estates.drop(columns="geometry").merge(units.membership, on="estate_id", how="left")
    if lang == "en" and "eligibility_reason_en" in est:
        est["eligibility_reason"] = est["eligibility_reason_en"]
    cols = [c for c in _ESTATE_COLUMNS if c in est.columns]
    return est[cols].rename(columns=_label(_ESTATE_COLUMNS, lang))


def _link_sheet(units: Units, lang: str) -> pd.DataFrame:
    links = units.links.drop(columns="geometry").copy()
    k = 1 if lang == "en" else 0
    links["reason_text"] = links["reason"].map(lambda r: _REASONS.get(r, (r, r))[k])
    yes, no = ("yes", "no") if lang == "en" else ("是", "否")
    links["linked"] = np.where(links["linked"], yes, no)
    cols = [c for c in _LINK_COLUMNS if c in links.columns]
    return links[cols].rename(columns=_label(_LINK_COLUMNS, lang))


def write_units(
    units: Units, estates: gpd.GeoDataFrame, out_dir: str | Path, *, lang: str = "zh",
    summary: list[str] | None = None, notes: list[str] | None = None,
    skipped: list[dict] | None = None,
) -> dict[str, Path]:
    """Write ``units.gpkg`` (layers units, estates, links; estates' CRS), ``units.csv``,
    ``unit_members.csv`` and ``units_report.md`` (summary, rows not analysed, notes).

    Parameters
    ----------
    units : Units
        From `gis.units.form_units`.
    estates : GeoDataFrame
        Every estate with its eligibility (from `gis.eligibility.assess_eligibility`), in
        the CRS the outputs should use.
    out_dir : str or Path
    lang : {"zh", "en"}
    summary : list of str, optional
        Summary lines (`gis.summary.units_summary`), first in the report.
    notes : list of str, optional
        Data notes (field mappings, repairs, barrier layers).
    skipped : list of dict, optional
        Rows left out (`gis.skipped`), listed in the report.

    Returns
    -------
    dict of str to Path
    """
    names = {"gpkg": "units.gpkg", "csv": "units.csv", "membership": "unit_members.csv",
             "report": "units_report.md" if lang != "en" else "units_report_en.md"}
    with staged_outputs(out_dir) as stage:
        _gpkg(stage / names["gpkg"], units, estates, None, estates.crs)
        style_units_gpkg(stage / names["gpkg"], lang=lang)  # QGIS opens it styled
        write_csv(unit_sheet(units, lang=lang, estates=estates), stage / names["csv"])
        write_csv(_estate_sheet(estates, units, lang), stage / names["membership"])
        (stage / names["report"]).write_text(
            _incomplete_md(units, estates, summary, skipped, lang, title=True)
            + _notes_md(units, notes, lang), encoding="utf-8")
    return {k: Path(out_dir) / v for k, v in names.items()}


def _notes_md(units: Units, notes: list[str] | None, lang: str) -> str:
    extra = _notes(units, illustrative=False, notes=notes, lang=lang)
    if not extra:
        return ""
    return "\n".join(["## " + ("Notes" if lang == "en" else "说明"), "",
                      *[f"- {n}" for n in extra], ""])


def _incomplete_md(units: Units, estates: pd.DataFrame, summary: list[str] | None,
                   skipped: list[dict] | None, lang: str, *, title: bool = False) -> str:
    """Summary, estates whose eligibility is unknown or assumed, units whose size could not
    be checked, and rows not analysed: what the run could not decide, and how to fix it."""
    en = lang == "en"
    parts: list[str] = []
    if title:
        parts += ["# " + ("Combined renovation units" if en else "老旧小区联动改造单元"), ""]
    if summary:
        parts += ["## " + ("Summary" if en else "摘要"), "", *[f"- {x}" for x in summary], ""]
    status = estates["eligibility"] if "eligibility" in estates else pd.Series(dtype=object)
    for key, head_en, head_zh in (
        ("unknown", "Eligibility unknown (no build year)", "改造资格未知（建成年份缺失）"),
        ("assumed_eligible", "ASSUMED eligible (no build year, --assume-unknown-eligible)",
         "假定纳入（建成年份缺失，--assume-unknown-eligible）"),
    ):
        sub = estates[status == key]
        if sub.empty:
            continue
        parts += [f"## {head_en if en else head_zh}", "",
                  (f"{len(sub):,} estates. To decide: {FILL_IN_HINT[1]}." if en
                   else f"共 {len(sub):,} 个小区。请{FILL_IN_HINT[0]}。"), ""]
        parts.append(md_table(["Estate id" if en else "小区编号", "Estate" if en else "小区名称"],
                              [[str(r.estate_id), str(r.name)] for r in sub.head(200).itertuples()]))
        if len(sub) > 200:
            parts.append(f"… ({len(sub):,})")
        parts.append("")
    u = units.units
    if "caps_unchecked" in u:
        open_ = u[u["caps_unchecked"].astype(str) != ""]
        if len(open_):
            k = 1 if en else 0
            parts += ["## " + ("Units whose size could not be checked" if en
                               else "规模未能核验的单元"), ""]
            rows = [[str(r.unit_id), str(int(r.n_estates)),
                     _known(r.households, r.households_known, r.households_unknown_n, en),
                     _known(r.floor_area_m2, r.floor_area_known_m2, r.floor_area_unknown_n, en),
                     ("、" if not en else ", ").join(CAP_LABELS[c][k]
                                                      for c in str(r.caps_unchecked).split(","))]
                    for r in open_.itertuples()]
            parts += [md_table(["Unit" if en else "单元编号", "Estates" if en else "小区数",
                                "Households" if en else "户数",
                                "Floor area m²" if en else "建筑面积（平方米）",
                                "Not checked" if en else "未能核验"], rows), ""]
    if skipped:
        table = skipped_table(skipped, lang=lang)
        parts += ["## " + ("Not analysed (rows left out, with the reason)" if en
                           else "未分析的要素（已跳过的行及原因）"), "",
                  md_table(list(table.columns), table.astype(str).values.tolist()), ""]
    return "\n".join(parts) + ("\n" if parts else "")


def _known(total: float, known: float, n_unknown: int, en: bool) -> str:
    """"1,200" when known; "unknown (known part 1,200; 2 members unknown)" otherwise."""
    if n_unknown == 0 and not pd.isna(total):
        return f"{total:,.0f}"
    if en:
        return f"unknown (known part {known:,.0f}; {n_unknown} members unknown)"
    return f"未知（已知部分 {known:,.0f}；{n_unknown} 个成员小区未知）"


def write_review(
    units: Units,
    estates: gpd.GeoDataFrame,
    checks: pd.DataFrame,
    conflicts: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    lang: str = "zh",
    illustrative: bool = False,
    notes: list[str] | None = None,
    constraint_sources: list[str] | None = None,
    summary: list[str] | None = None,
    skipped: list[dict] | None = None,
    figures: dict[str, bytes] | None = None,
) -> dict[str, Path]:
    """Write the review package.

    Files: ``units.gpkg`` (EPSG:4490; layers units, estates, links, conflicts),
    ``units_source_crs.gpkg`` (the same in the estates' CRS), ``review.xlsx`` (审查表 one
    row per unit with every check and blank 决定/说明 columns; 小区资格; 相邻关系;
    冲突明细; 决定执行情况; 说明) and ``review.md``.

    Parameters
    ----------
    units : Units
    estates : GeoDataFrame
        Every estate with eligibility, in the source CRS.
    checks : DataFrame
        From `gis.review.check_units`, indexed by unit_id.
    conflicts : GeoDataFrame
        From `gis.review.check_units`.
    out_dir : str or Path
    lang : {"zh", "en"}
    illustrative : bool
        Say the data are the bundled demo.
    notes : list of str, optional
        Data notes to list.
    constraint_sources : list of str, optional
        Constraint files checked, listed in the summary.
    summary : list of str, optional
        Summary lines (`gis.summary.units_summary`), at the top of ``review.md``.
    skipped : list of dict, optional
        Rows left out (`gis.skipped`): listed in ``review.md`` and a 未分析 sheet.
    figures : dict of str to bytes, optional
        When given, also write ``review.docx`` (Word: overview, units map, one sheet per
        unit with its map and blank 决定/说明 fields) with these PNG maps (``"overview"``
        and per unit id; see `gis.maps.printmap`); ``{}`` writes it without maps.

    Returns
    -------
    dict of str to Path
    """
    en = lang == "en"
    names = {"gpkg": "units.gpkg", "gpkg_source": "units_source_crs.gpkg",
             "xlsx": "review.xlsx" if not en else "review_en.xlsx",
             "markdown": "review.md" if not en else "review_en.md"}
    if figures is not None:
        names["docx"] = "review.docx" if not en else "review_en.docx"
    sheet = unit_sheet(units, checks, lang=lang, estates=estates)
    decision_col, comment_col = ("Decision", "Comment") if en else ("决定", "说明")
    sheet[decision_col] = ""
    sheet[comment_col] = ""
    with staged_outputs(out_dir) as stage:
        _gpkg(stage / names["gpkg"], units, estates, checks, REVIEW_CRS, conflicts)
        style_units_gpkg(stage / names["gpkg"], lang=lang)  # QGIS opens it styled
        _gpkg(stage / names["gpkg_source"], units, estates, checks, estates.crs, conflicts)
        style_units_gpkg(stage / names["gpkg_source"], lang=lang)
        with pd.ExcelWriter(stage / names["xlsx"], engine="openpyxl") as xw:
            sheet.to_excel(xw, sheet_name="Units" if en else "审查表", index=False)
            _estate_sheet(estates, units, lang).to_excel(
                xw, sheet_name="Eligibility" if en else "小区资格", index=False)
            _link_sheet(units, lang).to_excel(
                xw, sheet_name="Links" if en else "相邻关系", index=False)
            _conflict_sheet(conflicts, lang).to_excel(
                xw, sheet_name="Conflicts" if en else "冲突明细", index=False)
            _decision_sheet(units, lang).to_excel(
                xw, sheet_name="Decisions" if en else "决定执行情况", index=False)
            pd.DataFrame({"Notes" if en else "说明": _notes(units, illustrative, notes, lang)}
                         ).to_excel(xw, sheet_name="Notes" if en else "说明", index=False)
            if skipped:
                skipped_table(skipped, lang=lang).to_excel(
                    xw, sheet_name="Not analysed" if en else "未分析", index=False)
            text_only_cells(xw.book)
            autofit(xw.book)
        text = _markdown(units, estates, checks, lang, illustrative, notes, constraint_sources)
        head, _, rest = text.partition("\n\n")  # the summary goes right under the title
        (stage / names["markdown"]).write_text(
            head + "\n\n" + _incomplete_md(units, estates, summary, skipped, lang) + rest,
            encoding="utf-8",
        )
        if figures is not None:
            from gis.report.docx import review_docx

            shown = units.units.set_index("unit_id")
            if lang != "zh":
                _render_in(shown, units, lang, estates)
            reviewed = shown.reset_index().merge(checks, left_on="unit_id", right_index=True,
                                                 how="left")
            reviewed["link_reasons"] = link_reasons(units, lang).reindex(
                reviewed["unit_id"]).fillna("").to_numpy()
            review_docx(stage / names["docx"], reviewed,
                        estates.merge(units.membership, on="estate_id", how="left"),
                        conflicts=conflicts, figures=figures, lang=lang,
                        illustrative=illustrative,
                        notes=_notes(units, illustrative, notes, lang)[1 if illustrative else 0:],
                        sources=constraint_sources)
    paths = {k: Path(out_dir) / v for k, v in names.items()}
    logger.info("Wrote review package %s", ", ".join(str(p) for p in paths.values()))
    return paths


def _gpkg(
    path: Path,
    units: Units,
    estates: gpd.GeoDataFrame,
    checks: pd.DataFrame | None,
    crs: object,
    conflicts: gpd.GeoDataFrame | None = None,
) -> None:
    u = units.units.copy()
    u["link_reasons"] = link_reasons(units).reindex(u["unit_id"]).fillna("").to_numpy()
    if checks is not None:
        u = u.merge(checks, left_on="unit_id", right_index=True, how="left")
    u.to_crs(crs).to_file(path, layer="units", driver="GPKG")
    est = estates.merge(units.membership, on="estate_id", how="left")
    est.to_crs(crs).to_file(path, layer="estates", driver="GPKG")
    units.links.to_crs(crs).to_file(path, layer="links", driver="GPKG")
    if conflicts is not None and len(conflicts):
        conflicts.to_crs(crs).to_file(path, layer="conflicts", driver="GPKG")


def _conflict_sheet(conflicts: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    en = lang == "en"
    cols = {"unit_id": "Unit" if en else "单元编号",
            ("kind" if en else "kind_zh"): "Constraint" if en else "约束类型",
            "feature_name": "Feature" if en else "要素名称",
            "overlap_m2": "Overlap (m²)" if en else "重叠面积（平方米）"}
    if conflicts is None or conflicts.empty:
        return pd.DataFrame(columns=list(cols.values()))
    keep = [c for c in cols if c in conflicts.columns]
    return pd.DataFrame(conflicts[keep]).rename(columns=cols)


def _decision_sheet(units: Units, lang: str) -> pd.DataFrame:
    d = units.decisions.copy()
    if d.empty:
        return pd.DataFrame(columns=["row", "target", "decision", "status"])
    d["members"] = d["members"].map(lambda m: "、".join(m) if isinstance(m, tuple) else str(m))
    d["status"] = d["status"].map(lambda s: _status_text(s, lang))
    # Not named like a decision column: `read_decisions` reads every sheet that has
    # one, and this sheet reports what was read rather than asking for a decision.
    if lang == "en":
        return d.rename(columns={"decision": "decision read"})
    return d.rename(columns={"row": "行号", "target": "对象", "estate_a": "小区A",
                             "estate_b": "小区B", "unit_id": "单元编号", "members": "成员小区",
                             "decision": "已读入的决定", "comment": "说明", "status": "执行情况",
                             "sheet": "工作表"})


def _status_text(status: str, lang: str) -> str:
    if lang == "en":
        return status
    if status == "applied":
        return "已执行"
    if status.startswith("applied"):
        return "已执行（成员小区已不全部相邻）"
    return "未匹配：" + status.removeprefix("no longer matches: ")


def _notes(units: Units, illustrative: bool, notes: list[str] | None, lang: str) -> list[str]:
    en = lang == "en"
    caps = units.caps
    out = []
    if illustrative:
        out.append("Built from the bundled ILLUSTRATIVE demo data (a fictional town)." if en
                   else "本审查包基于内置示例数据（虚构县城），仅用于演示。")
    limits = [
        ("max households" if en else "单元户数上限", caps.max_households),
        ("max floor area m²" if en else "单元建筑面积上限（平方米）", caps.max_floor_area_m2),
        ("max estates" if en else "单元小区数上限", caps.max_estates),
        ("min households to stand alone" if en else "单元最小户数", caps.min_households),
    ]
    out += [f"{k}: {v:,.0f}" for k, v in limits if v is not None]
    out += [note_text(n, lang) for n in (notes or [])]
    return out


def _markdown(
    units: Units,
    estates: gpd.GeoDataFrame,
    checks: pd.DataFrame,
    lang: str,
    illustrative: bool,
    notes: list[str] | None,
    sources: list[str] | None,
) -> str:
    en = lang == "en"
    u = units.units.set_index("unit_id")
    if lang != "zh":
        u = u.copy()
        _render_in(u, units, lang, estates)
    joint = u[u["n_estates"] > 1]
    parts = ["# " + ("Combined renovation units: review package" if en
                     else "老旧小区联动改造单元审查材料"), ""]
    if illustrative:
        parts += ["> " + ("ILLUSTRATIVE demo data (a fictional county town)." if en
                          else "说明：基于内置示例数据（虚构县城），仅用于演示，不代表任何真实地区。"), ""]
    status = estates["eligibility"].value_counts() if "eligibility" in estates else pd.Series()
    eligible = int(estates["eligible"].sum()) if "eligible" in estates else len(units.membership)
    # Households known (members with a count); units with unknown members say so below.
    hh = u["households_known"].sum() if "households_known" in u else u["households"].sum()
    parts += [
        "## " + ("Overview" if en else "概况"), "",
        f"- {'Estates' if en else '小区总数'}: {len(estates):,}; "
        f"{'eligible' if en else '纳入改造'}: {eligible:,}",
        f"- {'Units' if en else '改造单元'}: {len(u):,} "
        f"({'joint' if en else '其中联动单元'} {len(joint):,}, "
        f"{'estates in joint units' if en else '涉及小区'} {int(joint['n_estates'].sum()):,}); "
        f"{'households' if en else '户数'} {hh:,.0f}",
        f"- {'Date' if en else '生成日期'}: {date.today().isoformat()}",
    ]
    if sources:
        parts.append(f"- {'Constraint layers' if en else '审查图层'}: {join(sources, lang)}")
    if not status.empty:
        parts += ["", "## " + ("Eligibility" if en else "改造资格"), ""]
        rows = [[s, str(n)] for s, n in status.items()]
        if not en:
            zh = {"eligible": "2000年底前建成，纳入", "eligible_extended": "2001–2005年建成，按需纳入",
                  "extended_not_included": "2001–2005年建成，未纳入", "too_new": "2005年后建成",
                  "shantytown": "已纳入棚改计划", "demolish": "拟拆除新建",
                  "unknown": "未知：建成年份缺失", "assumed_eligible": "建成年份缺失，假定纳入",
                  "not_analysed": "未分析（几何无效）"}
            rows = [[zh.get(s, s), str(n)] for s, n in status.items() if s in zh]
        parts += [md_table(["Status" if en else "类别", "Estates" if en else "小区数"], rows)]
    parts += ["", "## " + ("Units with conflicts" if en else "存在冲突的单元"), ""]
    flagged = checks[checks["n_conflicts"] > 0] if "n_conflicts" in checks else checks.iloc[:0]
    if flagged.empty:
        parts.append("None." if en else "无。")
    else:
        rows = [[uid, str(int(u.loc[uid, "n_estates"])),
                 _known(u.loc[uid, "households"], u.loc[uid].get("households_known", 0),
                        u.loc[uid].get("households_unknown_n", 0), en),
                 str(r.conflict_summary_en if en and "conflict_summary_en" in flagged
                     else r.conflict_summary)] for uid, r in flagged.iterrows()]
        parts.append(md_table(["Unit" if en else "单元编号", "Estates" if en else "小区数",
                               "Households" if en else "户数",
                               "Conflicts" if en else "冲突"], rows))
    parts += ["", "## " + ("Joint units" if en else "联动单元"), ""]
    reasons = link_reasons(units, lang)
    rows = [[uid, str(r.member_names),
             _known(r.households, getattr(r, "households_known", 0),
                    getattr(r, "households_unknown_n", 0), en),
             _known(r.floor_area_m2, getattr(r, "floor_area_known_m2", 0),
                    getattr(r, "floor_area_unknown_n", 0), en),
             f"{r.build_year_min}–{r.build_year_max}", str(reasons.get(uid, ""))]
            for uid, r in joint.iterrows()]
    parts.append(md_table(
        ["Unit" if en else "单元编号", "Members" if en else "成员小区",
         "Households" if en else "户数", "Floor area m²" if en else "建筑面积（平方米）",
         "Built" if en else "建成年份", "Why linked" if en else "联动依据"], rows) if rows
        else ("None." if en else "无。"))
    d = units.decisions
    if not d.empty:
        parts += ["", "## " + ("Review decisions" if en else "审查决定执行情况"), ""]
        rows = [[f"{r.sheet} {r.row}" if getattr(r, "sheet", "") else str(r.row), r.target, r.unit_id or f"{r.estate_a}–{r.estate_b}", r.decision,
                 _status_text(r.status, lang)] for r in d.itertuples()]
        parts.append(md_table(["Row" if en else "行号", "Target" if en else "对象",
                               "Unit / link" if en else "单元/相邻关系",
                               "Decision" if en else "决定", "Status" if en else "执行情况"], rows))
    extra = _notes(units, illustrative=False, notes=notes, lang=lang)
    if extra:
        parts += ["", "## " + ("Notes" if en else "说明"), ""] + [f"- {md_text(n)}" for n in extra]
    parts.append("")
    return "\n".join(parts)
