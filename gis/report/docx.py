"""Word reports (python-docx): ``gap_report.docx`` and ``review.docx``.

Offices exchange reports as Word/WPS documents, with maps printed into them. These
documents hold the same numbers as the Markdown and XLSX outputs, plus the print maps
(`gis.maps.printmap`) handed in as PNG bytes, so this module draws nothing itself.

Chinese by default: body text names a CJK font that exists on this machine (see
`gis.report.fonts`) as its East Asian font, falling back to 宋体 (SimSun), which Word and
WPS have; Word substitutes its own default for a font it lacks, so the text is never
lost. Long tables repeat their header row on every page. Data values only ever enter
as text runs, never as markup.
"""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.coverage import Coverage
from gis.i18n import join
from gis.notes import note_text
from gis.report.fonts import DOCX_FALLBACK_FONT, cjk_font

__all__ = ["MAX_UNIT_SHEETS", "gap_report_docx", "review_docx", "sheet_units"]

logger = logging.getLogger(__name__)

#: Units with a page of their own in review.docx at most: a city's thousands of
#: single-estate units would make a document no one files (and minutes of maps).
MAX_UNIT_SHEETS = 300
_FIGURE_CM = 16.0  # text width of A4 portrait with 2.5 cm margins, less a little


class _Doc:
    """A python-docx Document with the house style: fonts, numbered figures and tables."""

    def __init__(self, lang: str):
        import docx
        from docx.oxml.ns import qn
        from docx.shared import Cm, Pt

        self.lang = lang
        self.en = lang == "en"
        self.doc = docx.Document()
        self._qn, self._cm, self._pt = qn, Cm, Pt
        self.n_fig = 0
        self.n_tab = 0
        section = self.doc.sections[0]
        section.page_height, section.page_width = Cm(29.7), Cm(21.0)
        for side in ("left_margin", "right_margin"):
            setattr(section, side, Cm(2.5))
        section.top_margin = section.bottom_margin = Cm(2.2)
        east_asian = cjk_font().family or DOCX_FALLBACK_FONT
        for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Caption"):
            style = self.doc.styles[name]
            style.font.name = "Calibri" if name == "Normal" else style.font.name
            rpr = style.element.get_or_add_rPr()
            fonts = rpr.find(qn("w:rFonts"))
            if fonts is None:
                fonts = rpr.makeelement(qn("w:rFonts"), {})
                rpr.append(fonts)
            fonts.set(qn("w:eastAsia"), east_asian)
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(attr), None)  # a theme font would override the name
        self.doc.styles["Normal"].font.size = Pt(10.5)  # 五号

    # -- text ---------------------------------------------------------------

    def title(self, text: str) -> None:
        self.doc.add_heading(text, level=0)

    def heading(self, text: str, level: int = 1) -> None:
        self.doc.add_heading(text, level=level)

    def para(self, text: str = "", *, bold: bool = False, size: float | None = None,
             italic: bool = False) -> None:
        p = self.doc.add_paragraph()
        run = p.add_run(text)
        run.bold = bold
        run.italic = italic
        if size:
            run.font.size = self._pt(size)

    def bullet(self, text: str) -> None:
        self.doc.add_paragraph(text, style="List Bullet")

    def page_break(self) -> None:
        self.doc.add_page_break()

    # -- figures and tables -------------------------------------------------

    def figure(self, png: bytes | None, caption: str, width_cm: float = _FIGURE_CM) -> None:
        if not png:
            return
        self.n_fig += 1
        self.doc.add_picture(io.BytesIO(png), width=self._cm(width_cm))
        label = f"Figure {self.n_fig}. " if self.en else f"图{self.n_fig}　"
        self.doc.add_paragraph(label + caption, style="Caption")

    def table(self, header: list[str], rows: list[list[object]], caption: str | None = None,
              widths_cm: list[float] | None = None) -> None:
        if caption:
            self.n_tab += 1
            label = f"Table {self.n_tab}. " if self.en else f"表{self.n_tab}　"
            self.doc.add_paragraph(label + caption, style="Caption")
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        head = table.rows[0]
        _repeat_header(head, self._qn)
        for cell, text in zip(head.cells, header):
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(text))
            run.bold = True
        _append_rows(table._tbl, rows, self._qn)
        if widths_cm:
            self._widths(table, widths_cm)
        self.doc.add_paragraph()

    def _widths(self, table: object, widths_cm: list[float]) -> None:
        # Word reads the cells' widths, LibreOffice and WPS the grid's: set both.
        table.autofit = False  # type: ignore[attr-defined]
        for col, w in zip(table.columns, widths_cm):  # type: ignore[attr-defined]
            col.width = self._cm(w)
        for row in table.rows:  # type: ignore[attr-defined]
            for cell, w in zip(row.cells, widths_cm):
                cell.width = self._cm(w)

    def key_values(self, pairs: list[tuple[str, object]]) -> None:
        """A two-column table of labels and values."""
        table = self.doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for k, v in pairs:
            cells = table.add_row().cells
            cells[0].text = ""
            cells[0].paragraphs[0].add_run(str(k)).bold = True
            cells[1].text = _cell(v)
        self._widths(table, [4.5, 11.5])
        self.doc.add_paragraph()

    def save(self, path: Path) -> None:
        self.doc.save(str(path))


def _repeat_header(row: object, qn: object) -> None:
    """Mark a table row as the header Word and WPS repeat at the top of every page."""
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    el = tr_pr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"})  # type: ignore[operator]
    tr_pr.append(el)


def _append_rows(tbl: object, rows: list[list[object]], qn: object) -> None:
    """Append plain-text rows to a table's XML.

    Written as elements directly: python-docx's cell API took about 5 ms a row, 280 s
    for the 40,000 gap rows of a 10,000-estate city; this takes well under a second.
    """
    from lxml import etree

    tr_tag, tc_tag, p_tag, r_tag, t_tag = (qn(t) for t in  # type: ignore[operator]
                                           ("w:tr", "w:tc", "w:p", "w:r", "w:t"))
    space = "{http://www.w3.org/XML/1998/namespace}space"
    for row in rows:
        tr = etree.SubElement(tbl, tr_tag)  # type: ignore[arg-type]
        for value in row:
            run = etree.SubElement(etree.SubElement(etree.SubElement(tr, tc_tag), p_tag), r_tag)
            t = etree.SubElement(run, t_tag)
            t.text = _cell(value).replace("\n", " ")
            t.set(space, "preserve")


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    # Control characters are not allowed in Word XML; a value holding one still shows.
    return "".join(ch if ch in "\t\n" or ord(ch) >= 32 else " " for ch in str(value))


# ---------------------------------------------------------------------------
# Gap report


def gap_report_docx(
    path: str | Path,
    cov: Coverage,
    summary: pd.DataFrame,
    gaps: pd.DataFrame,
    priority: pd.DataFrame,
    t: dict[str, str],
    *,
    figures: dict[str, bytes] | None = None,
    lang: str = "zh",
    illustrative: bool = False,
) -> Path:
    """Write the gap report as a Word document.

    Parameters
    ----------
    path : str or Path
    cov : Coverage
    summary, gaps, priority : DataFrame
        From `gis.coverage.category_summary`, `gis.coverage.gap_list` and the report's
        priorities (as the Markdown report uses them).
    t : dict
        Report wording (`gis.report.coverage.TEXT`).
    figures : dict of str to bytes, optional
        PNG print maps: ``"overview"`` and one per category key with gaps.
    lang : {"zh", "en"}
    illustrative : bool

    Returns
    -------
    Path
    """
    figures = figures or {}
    d = _Doc(lang)
    en = d.en
    std = cov.standard
    est = cov.estates
    d.title(t["title"])
    if illustrative:
        d.para(t["illustrative"], bold=True)
    if cov.mode == "straight":
        d.para(f"{t['mode']}: {t['mode_straight']}", bold=True)
    known = "households" in est and bool(est["households"].notna().any())
    hh = est["households"].sum() if known else np.nan
    d.key_values([
        (t["standard"], std.name_en if en else std.name_zh),
        ("Sources" if en else "依据", std.source),
        (t["mode"], t["mode_" + cov.mode]),
        (t["crs"], f"{cov.analysis_crs.to_string()} ({cov.analysis_crs.name})"),
        (t["estates"], f"{len(est):,}"),
        (t["households"], hh),
        (t["date"], date.today().isoformat()),
    ])
    d.table([t["category"], t["threshold"], "Clause" if en else "依据条款"],
            [[c.label(lang), c.walk_m, c.source] for c in std.categories],
            caption="Facility categories and thresholds" if en else "设施类别与步行距离阈值")
    d.page_break()

    d.heading(t["rates"])
    hh_known = bool(est["households"].notna().any()) if "households" in est else False
    d.table(
        [t["category"], t["threshold"], t["estates_covered"], t["estate_rate"],
         t["households_covered"], t["household_rate"]],
        [[r.name, r.walk_m, f"{r.estates_covered}/{r.estates}", f"{r.estate_rate:.1%}",
          f"{r.households_covered:,.0f}/{r.households:,.0f}" if hh_known else t["unknown"],
          "—" if np.isnan(r.household_rate) else f"{r.household_rate:.1%}"]
         for r in summary.itertuples()],
        caption=t["rates"],
    )
    d.figure(figures.get("overview"),
             "Estates by facility categories missing" if en else "小区生活圈设施覆盖情况（按缺少设施类别数）")
    for c in std.categories:
        if c.key in figures:
            d.figure(figures[c.key], (f"Gaps: {c.label(lang)} ({c.walk_m:.0f} m)" if en
                                      else f"设施缺口：{c.label(lang)}（{c.walk_m:.0f}米）"))

    d.page_break()
    d.heading(t["gaps"])
    if gaps.empty:
        d.para(t["no_gaps"])
    else:
        limits = {c.key: cov.search_factor * c.walk_m for c in std.categories}
        group_cols = [c for c in ("subdistrict", "community") if c in gaps.columns]
        groups = (gaps.groupby(group_cols, sort=False, dropna=False) if group_cols
                  else [((t["all"],), gaps)])
        for key, sub in groups:
            key = key if isinstance(key, tuple) else (key,)
            name = " / ".join(t["unknown"] if _missing(k) else str(k) for k in key)
            n_hh = sub.drop_duplicates("estate_id")["households"].sum(min_count=1)
            n_hh_text = t["unknown"] if _missing(n_hh) else f"{n_hh:,.0f}"
            d.heading(f"{name} ({sub['estate_id'].nunique()} estates, {n_hh_text} households)"
                      if en else f"{name}（{sub['estate_id'].nunique()} 个小区，{n_hh_text} 户）",
                      level=2)
            d.table(
                [t["name"], t["category"], t["dist_m"], t["excess_m"], t["gap_households"],
                 t["nearest"]],
                [[_estate_label(r.name, r.estate_id, en), r.category_name,
                  t["no_facility"] if r.no_facility else (
                      t["beyond"].format(limit=limits[r.category]) if _missing(r.dist_m)
                      else f"{r.dist_m:,.0f}"),
                  "—" if _missing(r.excess_m) else f"{r.excess_m:,.0f}",
                  r.households, r.nearest if isinstance(r.nearest, str) else "—"]
                 for r in sub.itertuples()],
            )
        d.heading(t["priority"])
        d.para(t["priority_note"])
        cols = [c for c in ("subdistrict", "community") if c in priority.columns]
        d.table([*(t[c] for c in cols), t["category"], t["gap_estates"], t["gap_households"]],
                [[*(getattr(r, c) for c in cols), r.category, r.gap_estates, r.gap_households]
                 for r in priority.head(15).itertuples()])
    if cov.notes:
        d.heading(t["notes"])
        for n in cov.notes:
            d.bullet(note_text(n, lang))
    path = Path(path)
    d.save(path)
    return path


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _estate_label(name: object, estate_id: object, en: bool) -> str:
    if str(name) == str(estate_id):
        return str(estate_id)
    return f"{name} ({estate_id})" if en else f"{name}（{estate_id}）"


# ---------------------------------------------------------------------------
# Review


_STATUS_ZH = {"eligible": "纳入改造", "eligible_extended": "2001–2005年建成，按需纳入",
              "extended_not_included": "2001–2005年建成，未纳入", "too_new": "2005年后建成",
              "shantytown": "已纳入棚改计划", "demolish": "拟拆除新建",
              "unknown_year": "建成年份缺失"}


def review_docx(
    path: str | Path,
    units: gpd.GeoDataFrame,
    estates: pd.DataFrame,
    *,
    conflicts: pd.DataFrame | None = None,
    figures: dict[str, bytes] | None = None,
    lang: str = "zh",
    illustrative: bool = False,
    notes: list[str] | None = None,
    sources: list[str] | None = None,
    max_sheets: int = MAX_UNIT_SHEETS,
) -> Path:
    """Write the units review as a Word document: overview, units map, one sheet per unit.

    Each unit's sheet starts on a new page with its totals, members, link reasons,
    living-circle gaps, conflicts, a map of the unit and blank 决定/说明 fields for the
    reviewer (the same decisions ``review.xlsx`` takes back with ``--decisions``).

    Parameters
    ----------
    path : str or Path
    units : GeoDataFrame
        One row per unit with the review checks joined (``unit_id``, ``n_estates``,
        ``households``, ``floor_area_m2``, ``members`` …, ``n_conflicts``,
        ``conflict_summary``/``conflict_summary_en``, ``link_reasons``).
    estates : DataFrame
        Every estate with ``estate_id``, ``name``, ``build_year``, ``households``,
        ``eligibility``, ``eligibility_reason``(``_en``) and ``unit_id``.
    conflicts : DataFrame, optional
        ``unit_id``, ``kind``/``kind_zh``, ``feature_name``, ``overlap_m2``.
    figures : dict of str to bytes, optional
        PNG maps: ``"overview"`` and one per unit id.
    lang : {"zh", "en"}
    illustrative : bool
    notes : list of str, optional
        Notes to list at the end, as text (caps, data notes).
    sources : list of str, optional
        Constraint layers checked.
    max_sheets : int
        At most this many unit sheets (see `sheet_units`); the document says when units
        were left to the table.

    Returns
    -------
    Path
    """
    figures = figures or {}
    d = _Doc(lang)
    en = d.en
    d.title("Combined renovation units: review" if en else "老旧小区联动改造单元审查材料")
    if illustrative:
        d.para("Built from the bundled ILLUSTRATIVE demo data (a fictional county town)." if en
               else "说明：基于内置示例数据（虚构县城），仅用于演示，不代表任何真实地区。", bold=True)
    joint = units[units["n_estates"] > 1]
    eligible = int(estates["eligible"].sum()) if "eligible" in estates else len(
        estates[estates.get("unit_id", pd.Series(index=estates.index)).notna()])
    flagged = (units[units["n_conflicts"].fillna(0) > 0] if "n_conflicts" in units
               else units.iloc[:0])
    d.key_values([
        ("Estates" if en else "小区总数", len(estates)),
        ("Eligible" if en else "纳入改造", eligible),
        ("Units" if en else "改造单元", len(units)),
        ("Joint units" if en else "联动单元", len(joint)),
        ("Households" if en else "户数", float(units["households"].sum())),
        ("Units with conflicts" if en else "存在冲突的单元", len(flagged)),
        ("Constraint layers" if en else "审查图层", join(sources or [], lang) or "—"),
        ("Date" if en else "生成日期", date.today().isoformat()),
    ])
    d.figure(figures.get("overview"), "Combined renovation units" if en else "改造单元总图")
    d.heading("Units" if en else "单元一览")
    d.table(
        ["Unit" if en else "单元编号", "Estates" if en else "小区数",
         "Households" if en else "户数", "Floor area m²" if en else "建筑面积（平方米）",
         "Conflicts" if en else "冲突项数"],
        [[r["unit_id"], r["n_estates"], r.get("households"), r.get("floor_area_m2"),
          r.get("n_conflicts", 0)] for r in units.to_dict("records")],
        caption="Units, totals and conflicts" if en else "改造单元及冲突",
        widths_cm=[5.0, 2.0, 2.5, 4.0, 2.5],
    )
    with_sheet = set(sheet_units(units, max_sheets))
    if len(with_sheet) < len(units):
        d.para((f"{len(units):,} units: the {len(with_sheet):,} with conflicts, joint units "
                "and then the most households have a sheet below; the others are in the "
                "table above and in review.xlsx.") if en else
               (f"共 {len(units):,} 个改造单元：以下仅为其中 {len(with_sheet):,} 个（存在冲突的、"
                "联动单元优先，其次户数多的）各列一页审查表；其余单元见上表及 review.xlsx。"),
               bold=True)
    members_of = estates.groupby("unit_id", sort=False) if "unit_id" in estates else None
    conf_of = (conflicts.groupby("unit_id", sort=False)
               if conflicts is not None and len(conflicts) and "unit_id" in conflicts else None)
    summary_col = ("conflict_summary_en" if en and "conflict_summary_en" in units
                   else "conflict_summary")
    for r in units.to_dict("records"):
        uid = str(r["unit_id"])
        if uid not in with_sheet:
            continue
        d.page_break()
        d.heading(("Unit " if en else "改造单元 ") + uid, level=1)
        lo, hi = r.get("build_year_min"), r.get("build_year_max")
        pairs = [
            ("Estates" if en else "小区数", r.get("n_estates")),
            ("Households" if en else "户数", r.get("households")),
            ("Floor area m²" if en else "建筑面积（平方米）", r.get("floor_area_m2")),
            ("Built" if en else "建成年份", "—" if _missing(lo) and _missing(hi)
             else f"{_year(lo)}–{_year(hi)}"),
            ("Why linked" if en else "联动依据", r.get("link_reasons") or "—"),
        ]
        if "coverage_gaps" in r:
            pairs.append(("Living-circle gaps" if en else "生活圈设施缺口", r.get("coverage_gaps") or "—"))
        pairs.append(("Review" if en else "审查意见（自动检查）", r.get(summary_col) or
                      ("no conflict found" if en else "未发现冲突")))
        if r.get("flags"):
            pairs.append(("Flags" if en else "提示", r.get("flags")))
        if r.get("decision"):
            pairs.append(("Decision applied" if en else "已执行的审查决定", r.get("decision")))
        d.key_values(pairs)
        if members_of is not None and uid in members_of.groups:
            m = members_of.get_group(uid)
            reason = ("eligibility_reason_en" if en and "eligibility_reason_en" in m
                      else "eligibility_reason")
            d.table(
                ["Estate id" if en else "小区编号", "Estate" if en else "小区名称",
                 "Built" if en else "建成年份", "Households" if en else "户数",
                 "Eligibility" if en else "改造资格"],
                [[e.get("estate_id"), e.get("name"), _year(e.get("build_year")),
                  e.get("households"),
                  e.get(reason) or _STATUS_ZH.get(str(e.get("eligibility")), "")]
                 for e in m.to_dict("records")],
            )
        if conf_of is not None and uid in conf_of.groups:
            c = conf_of.get_group(uid)
            kind = "kind" if en or "kind_zh" not in c else "kind_zh"
            d.table(["Constraint" if en else "约束类型", "Feature" if en else "要素名称",
                     "Overlap m²" if en else "重叠面积（平方米）"],
                    [[x.get(kind), x.get("feature_name"), x.get("overlap_m2")]
                     for x in c.to_dict("records")])
        # 13 cm keeps a unit of a dozen members, its map and the decision on one page.
        d.figure(figures.get(uid), (f"Unit {uid}" if en else f"改造单元 {uid}"), width_cm=13.0)
        d.key_values([
            ("Decision" if en else "决定",
             "☐ approve   ☐ reject   ☐ split" if en else "☐ 通过　　☐ 否决　　☐ 拆分"),
            ("Comment" if en else "说明", "\n\n"),
            ("Reviewer / date" if en else "审查人 / 日期", ""),
        ])
    if notes:
        d.page_break()
        d.heading("Notes" if en else "说明")
        for n in notes:
            d.bullet(n)
    path = Path(path)
    d.save(path)
    return path


def sheet_units(units: pd.DataFrame, max_sheets: int = MAX_UNIT_SHEETS) -> list[str]:
    """Ids of the units that get a sheet, in the units' order: all of them when there are
    at most ``max_sheets``; else units with conflicts first, then joint units, then by
    households."""
    ids = units["unit_id"].astype(str)
    if len(units) <= max_sheets:
        return ids.tolist()
    conflicts = (units["n_conflicts"].fillna(0).to_numpy() > 0 if "n_conflicts" in units
                 else np.zeros(len(units), bool))
    joint = units["n_estates"].to_numpy() > 1
    hh = units["households"].fillna(0).to_numpy(dtype=float)
    order = np.lexsort((-hh, ~joint, ~conflicts))[:max_sheets]
    return ids.to_numpy()[np.sort(order)].tolist()


def _year(v: object) -> str:
    if v is None or str(v) in ("", "<NA>", "nan", "None"):
        return "—"
    try:
        return str(int(float(v)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)
