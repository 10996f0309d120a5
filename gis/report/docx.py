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
from gis.i18n import MESSAGES, join, tr
from gis.notes import note_text
from gis.report._files import in_lang
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
        label = tr("docx.figure", self.lang, n=self.n_fig)
        self.doc.add_paragraph(label + caption, style="Caption")

    def table(self, header: list[str], rows: list[list[object]], caption: str | None = None,
              widths_cm: list[float] | None = None) -> None:
        if caption:
            self.n_tab += 1
            label = tr("docx.table", self.lang, n=self.n_tab)
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
        From `gis.coverage.category_summary`, `gis.coverage.gap_list` and
        `gis.report.coverage.gap_priorities`.
    figures : dict of str to bytes, optional
        PNG print maps: ``"overview"`` and one per category key with gaps.
    lang : {"zh", "en"}
    illustrative : bool

    Returns
    -------
    Path

    Examples
    --------
    A small seeded town (25 estates) measured along its streets, without print maps:

    >>> import tempfile
    >>> import docx
    >>> from gis.coverage import category_summary, gap_list, living_circle
    >>> from gis.report.coverage import gap_priorities
    >>> from gis.standards import load_standard
    >>> from gis.synthetic import random_town
    >>> streets, estates, services = random_town(1)
    >>> cov = living_circle(estates, services, load_standard(), streets=streets,
    ...                     progress=False)
    >>> gaps = gap_list(cov)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     path = gap_report_docx(Path(out) / "gap_report.docx", cov, category_summary(cov),
    ...                            gaps, gap_priorities(gaps))
    ...     doc = docx.Document(path)
    >>> path.name, doc.paragraphs[0].text, len(doc.tables)
    ('gap_report.docx', '15分钟生活圈设施覆盖缺口报告', 5)
    >>> [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    ['全部（12 个小区，5,578 户）']
    """
    figures = figures or {}
    d = _Doc(lang)
    std = cov.standard
    est = cov.estates

    def words(*what: str) -> list[str]:
        return [tr(f"report.{w}", lang) for w in what]

    d.title(tr("report.title", lang))
    if illustrative:
        d.para(tr("report.illustrative", lang), bold=True)
    if cov.mode == "straight":
        d.para(f"{tr('report.mode', lang)}: {tr('report.mode_straight', lang)}", bold=True)
    known = "households" in est and bool(est["households"].notna().any())
    hh = est["households"].sum() if known else np.nan
    d.key_values([
        (tr("report.standard", lang), in_lang(lang, std.name_zh, std.name_en)),
        (tr("docx.sources", lang), std.source),
        (tr("report.mode", lang), tr(f"report.mode_{cov.mode}", lang)),
        (tr("report.crs", lang), f"{cov.analysis_crs.to_string()} ({cov.analysis_crs.name})"),
        (tr("report.estates", lang), f"{len(est):,}"),
        (tr("report.households", lang), hh),
        (tr("report.date", lang), date.today().isoformat()),
    ])
    d.table([*words("category", "threshold"), tr("docx.clause", lang)],
            [[c.label(lang), c.walk_m, c.source] for c in std.categories],
            caption=tr("docx.categories_caption", lang))
    d.page_break()

    d.heading(tr("report.rates", lang))
    hh_known = bool(est["households"].notna().any()) if "households" in est else False
    d.table(
        words("category", "threshold", "estates_covered", "estate_rate", "households_covered",
              "household_rate"),
        [[r.name, r.walk_m, f"{r.estates_covered}/{r.estates}", f"{r.estate_rate:.1%}",
          (f"{r.households_covered:,.0f}/{r.households:,.0f}" if hh_known
           else tr("report.unknown", lang)),
          "—" if np.isnan(r.household_rate) else f"{r.household_rate:.1%}"]
         for r in summary.itertuples()],
        caption=tr("report.rates", lang),
    )
    d.figure(figures.get("overview"), tr("docx.overview_figure", lang))
    for c in std.categories:
        if c.key in figures:
            d.figure(figures[c.key],
                     tr("docx.gap_figure", lang, category=c.label(lang), walk_m=c.walk_m))

    d.page_break()
    d.heading(tr("report.gaps", lang))
    if gaps.empty:
        d.para(tr("report.no_gaps", lang))
    else:
        limits = {c.key: cov.search_factor * c.walk_m for c in std.categories}
        group_cols = [c for c in ("subdistrict", "community") if c in gaps.columns]
        groups = (gaps.groupby(group_cols, sort=False, dropna=False) if group_cols
                  else [((tr("report.all", lang),), gaps)])
        unknown = tr("report.unknown", lang)
        for key, sub in groups:
            key = key if isinstance(key, tuple) else (key,)
            name = " / ".join(unknown if _missing(k) else str(k) for k in key)
            n_hh = sub.drop_duplicates("estate_id")["households"].sum(min_count=1)
            d.heading(tr("report.group_heading", lang, area=name, n=sub["estate_id"].nunique(),
                         households=unknown if _missing(n_hh) else f"{n_hh:,.0f}"), level=2)
            d.table(
                words("name", "category", "dist_m", "excess_m", "gap_households", "nearest"),
                [[_estate_label(r.name, r.estate_id, lang), r.category_name,
                  tr("report.no_facility", lang) if r.no_facility else (
                      tr("report.beyond", lang, limit=limits[r.category]) if _missing(r.dist_m)
                      else f"{r.dist_m:,.0f}"),
                  "—" if _missing(r.excess_m) else f"{r.excess_m:,.0f}",
                  r.households, r.nearest if isinstance(r.nearest, str) else "—"]
                 for r in sub.itertuples()],
            )
        d.heading(tr("report.priority", lang))
        d.para(tr("report.priority_note", lang))
        cols = [c for c in ("subdistrict", "community") if c in priority.columns]
        d.table(words(*cols, "category", "gap_estates", "gap_households"),
                [[*(getattr(r, c) for c in cols), r.category, r.gap_estates, r.gap_households]
                 for r in priority.head(15).itertuples()])
    if cov.notes:
        d.heading(tr("report.notes", lang))
        for n in cov.notes:
            d.bullet(note_text(n, lang))
    path = Path(path)
    d.save(path)
    return path


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _estate_label(name: object, estate_id: object, lang: str) -> str:
    if str(name) == str(estate_id):
        return str(estate_id)
    return tr("report.estate_label", lang, name=name, estate_id=estate_id)


# ---------------------------------------------------------------------------
# Review


def _status(eligibility: object, lang: str) -> str:
    """Short words for an eligibility status, for an estate whose reason text is missing."""
    msg_id = f"docx.status.{eligibility}"
    return tr(msg_id, lang) if msg_id in MESSAGES else ""


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
    reviewer (the same decisions ``review.xlsx`` takes back as ``decisions``).

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

    Examples
    --------
    Two units of three estates, in English; the estates carry no reason text, so their
    eligibility is named from the status:

    >>> import tempfile
    >>> import docx
    >>> units = pd.DataFrame({"unit_id": ["U-E1+1", "U-E3"], "n_estates": [2, 1],
    ...                       "households": [730.0, 980.0], "floor_area_m2": [52000.0, 61000.0],
    ...                       "link_reasons": ["E1–E2: gap 0.3 m, facing 85 m", ""],
    ...                       "n_conflicts": [0, 1],
    ...                       "conflict_summary_en": ["", "ancient tree: 1"]})
    >>> estates = pd.DataFrame({"estate_id": ["E1", "E2", "E3"],
    ...                         "name": ["海连小区", "利民小区", "新村"],
    ...                         "build_year": [1995, 1998, 2003],
    ...                         "households": [320.0, 410.0, 980.0],
    ...                         "eligibility": ["eligible", "eligible", "eligible_extended"],
    ...                         "eligible": [True, True, True],
    ...                         "unit_id": ["U-E1+1", "U-E1+1", "U-E3"]})
    >>> with tempfile.TemporaryDirectory() as out:
    ...     path = review_docx(Path(out) / "review_en.docx", units, estates, lang="en")
    ...     doc = docx.Document(path)
    >>> path.name, [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    ('review_en.docx', ['Units', 'Unit U-E1+1', 'Unit U-E3'])
    >>> [[c.text for c in row.cells] for row in doc.tables[-2].rows]
    [['Estate id', 'Estate', 'Built', 'Households', 'Eligibility'],
     ['E3', '新村', '2003', '980', 'built 2001–2005, included']]
    """
    figures = figures or {}
    d = _Doc(lang)
    d.title(tr("docx.review_title", lang))
    if illustrative:
        d.para(tr("docx.review_illustrative", lang), bold=True)
    joint = units[units["n_estates"] > 1]
    eligible = int(estates["eligible"].sum()) if "eligible" in estates else len(
        estates[estates.get("unit_id", pd.Series(index=estates.index)).notna()])
    flagged = (units[units["n_conflicts"].fillna(0) > 0] if "n_conflicts" in units
               else units.iloc[:0])
    d.key_values([
        (tr("docx.estates_total", lang), len(estates)),
        (tr("docx.eligible", lang), eligible),
        (tr("docx.units", lang), len(units)),
        (tr("docx.joint_units", lang), len(joint)),
        (tr("docx.households", lang), float(units["households"].sum())),
        (tr("docx.units_with_conflicts", lang), len(flagged)),
        (tr("docx.constraint_layers", lang), join(sources or [], lang) or "—"),
        (tr("docx.date", lang), date.today().isoformat()),
    ])
    d.figure(figures.get("overview"), tr("docx.units_figure", lang))
    d.heading(tr("docx.units_heading", lang))
    d.table(
        [tr(f"docx.{w}", lang) for w in ("unit_id", "n_estates", "households", "floor_area_m2",
                                          "n_conflicts")],
        [[r["unit_id"], r["n_estates"], r.get("households"), r.get("floor_area_m2"),
          r.get("n_conflicts", 0)] for r in units.to_dict("records")],
        caption=tr("docx.units_caption", lang),
        widths_cm=[5.0, 2.0, 2.5, 4.0, 2.5],
    )
    with_sheet = set(sheet_units(units, max_sheets))
    if len(with_sheet) < len(units):
        d.para(tr("docx.sheets_capped", lang, n_units=len(units), n_sheets=len(with_sheet)),
               bold=True)
    members_of = estates.groupby("unit_id", sort=False) if "unit_id" in estates else None
    conf_of = (conflicts.groupby("unit_id", sort=False)
               if conflicts is not None and len(conflicts) and "unit_id" in conflicts else None)
    summary_col = _column(units, "conflict_summary", lang)
    for r in units.to_dict("records"):
        uid = str(r["unit_id"])
        if uid not in with_sheet:
            continue
        d.page_break()
        d.heading(tr("docx.unit_heading", lang, unit_id=uid), level=1)
        lo, hi = r.get("build_year_min"), r.get("build_year_max")
        pairs = [
            (tr("docx.n_estates", lang), r.get("n_estates")),
            (tr("docx.households", lang), r.get("households")),
            (tr("docx.floor_area_m2", lang), r.get("floor_area_m2")),
            (tr("docx.built", lang), "—" if _missing(lo) and _missing(hi)
             else f"{_year(lo)}–{_year(hi)}"),
            (tr("docx.why_linked", lang), r.get("link_reasons") or "—"),
        ]
        if "coverage_gaps" in r:
            pairs.append((tr("docx.gaps", lang), r.get("coverage_gaps") or "—"))
        pairs.append((tr("docx.review", lang),
                      r.get(summary_col) or tr("docx.no_conflict", lang)))
        if r.get("flags"):
            pairs.append((tr("docx.flags", lang), r.get("flags")))
        if r.get("decision"):
            pairs.append((tr("docx.decision_applied", lang), r.get("decision")))
        d.key_values(pairs)
        if members_of is not None and uid in members_of.groups:
            m = members_of.get_group(uid)
            reason = _column(m, "eligibility_reason", lang)
            d.table(
                [tr(f"docx.{w}", lang) for w in ("estate_id", "estate", "built", "households",
                                                  "eligibility")],
                [[e.get("estate_id"), e.get("name"), _year(e.get("build_year")),
                  e.get("households"),
                  e.get(reason) or _status(e.get("eligibility"), lang)]
                 for e in m.to_dict("records")],
            )
        if conf_of is not None and uid in conf_of.groups:
            c = conf_of.get_group(uid)
            # ``kind`` holds the English name of a constraint kind, ``kind_zh`` the Chinese.
            kind = in_lang(lang, "kind_zh", "kind")
            kind = kind if kind in c else "kind"
            d.table([tr(f"docx.{w}", lang) for w in ("constraint", "feature", "overlap_m2")],
                    [[x.get(kind), x.get("feature_name"), x.get("overlap_m2")]
                     for x in c.to_dict("records")])
        # 13 cm keeps a unit of a dozen members, its map and the decision on one page.
        d.figure(figures.get(uid), tr("docx.unit_heading", lang, unit_id=uid), width_cm=13.0)
        d.key_values([
            (tr("docx.decision", lang), tr("docx.decision_boxes", lang)),
            (tr("docx.comment", lang), "\n\n"),
            (tr("docx.reviewer", lang), ""),
        ])
    if notes:
        d.page_break()
        d.heading(tr("docx.notes", lang))
        for n in notes:
            d.bullet(n)
    path = Path(path)
    d.save(path)
    return path


def _column(frame: pd.DataFrame | dict, base: str, lang: str) -> str:
    """``base`` or its English twin ``base_en`` for ``lang``; ``base`` when the twin is absent."""
    col = in_lang(lang, base, f"{base}_en")
    return col if col in frame else base


def sheet_units(units: pd.DataFrame, max_sheets: int = MAX_UNIT_SHEETS) -> list[str]:
    """Ids of the units that get a sheet, in the units' order: all of them when there are
    at most ``max_sheets``; else units with conflicts first, then joint units, then by
    households.

    Examples
    --------
    >>> units = pd.DataFrame({"unit_id": ["U1", "U2", "U3", "U4"],
    ...                       "n_conflicts": [0, 2, 0, 0], "n_estates": [1, 1, 3, 1],
    ...                       "households": [900.0, 100.0, 300.0, 1200.0]})
    >>> sheet_units(units, max_sheets=3)
    ['U2', 'U3', 'U4']
    >>> sheet_units(units)
    ['U1', 'U2', 'U3', 'U4']
    """
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
