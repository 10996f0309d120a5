"""Write renovation units (``gis units``) and the review package (``gis review``).

The review package is what the natural resources bureau (自然资源局) opens: GeoPackages
in CGCS2000 (EPSG:4490) and in the data's own CRS, a workbook with one row per unit and
every check (plus blank 决定 / 说明 columns reviewers fill in and pass back as
``decisions``), and a Markdown summary.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.adjacency import crossed_text
from gis.eligibility import FILL_IN_HINT
from gis.i18n import LANGS, MESSAGES, join, tr
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
from gis.units import Units, link_reason_texts, unit_gap_texts

__all__ = ["unit_sheet", "write_review", "write_units"]

logger = logging.getLogger(__name__)

REVIEW_CRS = "EPSG:4490"  # CGCS2000, what Chinese natural-resources systems expect

# Columns of each sheet in display order; the headers are ``review.unit_col.<column>`` etc.
# in the catalogue (gis.i18n.review).
_UNIT_COLUMNS = ("unit_id", "n_estates", "households", "floor_area_m2", "households_known",
                 "households_unknown_n", "floor_area_known_m2", "floor_area_unknown_n",
                 "caps_checked", "caps_unchecked", "size_checked", "assumed_members",
                 "build_year_min", "build_year_max", "members", "member_names", "flags",
                 "decision", "coverage_households_rate", "coverage_gaps", "link_reasons",
                 "n_conflicts", "conflict_summary")
_ESTATE_COLUMNS = ("estate_id", "name", "build_year", "households", "floor_area_m2",
                   "eligibility_reason", "unit_id")
_LINK_COLUMNS = ("estate_a", "estate_b", "gap_m", "facing_m", "crossed", "linked",
                 "reason_text", "decision")
_CONFLICT_COLUMNS = ("unit_id", "kind", "feature_name", "overlap_m2")
_DECISION_COLUMNS = ("row", "target", "estate_a", "estate_b", "unit_id", "members", "decision",
                     "comment", "status", "sheet")
# Caps in the order the notes list them (`gis.units.UnitCaps` fields).
_CAPS = ("max_households", "max_floor_area_m2", "max_estates", "min_households")

# Text the analysis stores in both languages, by the column the sheets show: the column
# holding it per language, in `gis.i18n.LANGS` order (the Chinese conflict kind is
# ``kind_zh``, the English sheet shows the kind key).
_TEXT_COLUMNS = {"eligibility_reason": ("eligibility_reason", "eligibility_reason_en"),
                 "conflict_summary": ("conflict_summary", "conflict_summary_en"),
                 "kind": ("kind_zh", "kind")}

# `gis.units` stores its text columns (member names and ids "、"-joined, living-circle gaps)
# in Chinese; they are rendered again only for another language.
_STORED_IN = "zh"


def _text_column(column: str, lang: str) -> str:
    """The data column holding ``column``'s text in ``lang``."""
    return _TEXT_COLUMNS[column][LANGS.index(lang)]


def _label(prefix: str, columns: tuple[str, ...], lang: str) -> dict[str, str]:
    """Display headers of ``columns``: message ``<prefix>.<column>`` in ``lang``."""
    return {c: tr(f"{prefix}.{c}", lang) for c in columns}


def _caps_text(value: object, lang: str) -> str:
    """Cap keys stored comma-separated ("max_households,max_estates") as words in ``lang``."""
    return join((tr(f"review.cap.{c}", lang) for c in str(value).split(",")
                 if f"review.cap.{c}" in MESSAGES), lang)


def _reason_text(reason: str, lang: str) -> str:
    """Why two neighbours were (not) linked; an unknown reason key is shown as it is."""
    msg_id = "review.link_reason." + ("neighbours" if reason == "" else str(reason))
    return tr(msg_id, lang) if msg_id in MESSAGES and reason != "neighbours" else reason


def link_reasons(units: Units, lang: str = "zh") -> pd.Series:
    """Per unit, why its members were linked: each link with its gap and facing length.

    The words come from `gis.i18n` (message ``link_reason``); the links keep numbers only.

    Examples
    --------
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> from gis.units import renovation_units
    >>> units, _ = renovation_units(read_estates(demo_folder() / "estates.gpkg"),
    ...                             load_standard())
    >>> link_reasons(units, "en")["U-XQ003+2-e58099"]
    'XQ003–XQ004: gap 0.0 m, facing 121 m; XQ003–XQ013: gap 0.0 m, facing 64 m'
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

    Parameters
    ----------
    units : Units
        From `gis.units.form_units` / `gis.units.renovation_units`.
    checks : DataFrame, optional
        From `gis.review.check_units`, indexed by unit_id: joined as further columns.
    lang : {"zh", "en"}
    estates : DataFrame, optional

    Returns
    -------
    DataFrame
        One row per unit, headers in ``lang`` (catalogue ``review.unit_col.*``).

    Examples
    --------
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> from gis.units import renovation_units
    >>> units, assessed = renovation_units(read_estates(demo_folder() / "estates.gpkg"),
    ...                                    load_standard())
    >>> sheet = unit_sheet(units, lang="en", estates=assessed)
    >>> sheet.shape
    (48, 19)
    >>> sheet.columns[:4].tolist()
    ['Unit id', 'Estates', 'Households', 'Floor area (m²)']
    >>> joint = sheet[sheet["Estates"] > 1].iloc[0]
    >>> joint["Unit id"], joint["Member names"], joint["Why linked"]
    ('U-XQ002+1-2f7241', '建业小区, 公安局家属院', 'XQ002–XQ012: gap 0.0 m, facing 111 m')
    >>> joint["Caps checked"], joint["Size fully checked"]
    ('household cap, floor-area cap, estate-count cap', 'yes')
    >>> unit_sheet(units).loc[0, ["单元编号", "成员小区", "已核验的规模上限"]].tolist()
    ['U-XQ002+1-2f7241', 'XQ002、XQ012', '户数上限、建筑面积上限、小区数上限']
    """
    table = units.units.drop(columns="geometry").set_index("unit_id")
    table["link_reasons"] = link_reasons(units, lang).reindex(table.index).fillna("")
    if lang != _STORED_IN:
        _render_in(table, units, lang, estates)
    if checks is not None:
        checks = checks.copy()
        if "conflict_summary_en" in checks:
            # One summary column, in ``lang``; the other language's column is dropped.
            texts = {"conflict_summary_en": checks.pop("conflict_summary_en")}
            shown = _text_column("conflict_summary", lang)
            if shown in texts:
                checks["conflict_summary"] = texts[shown]
        table = table.join(checks, how="left")
    for col in ("caps_checked", "caps_unchecked"):
        if col in table:
            table[col] = table[col].map(lambda v: _caps_text(v, lang))
    if "size_checked" in table:
        table["size_checked"] = np.where(table["size_checked"].astype(bool),
                                         tr("review.size_checked.yes", lang),
                                         tr("review.size_checked.no", lang))
    order = [c for c in _UNIT_COLUMNS if c in table.columns or c == "unit_id"]
    rest = [c for c in table.columns if c not in order]
    table = table.reset_index()[order + rest]
    return table.rename(columns=_label("review.unit_col", _UNIT_COLUMNS, lang))


def _estate_sheet(estates: gpd.GeoDataFrame, units: Units, lang: str) -> pd.DataFrame:
    est = estates.drop(columns="geometry").merge(units.membership, on="estate_id", how="left")
    reason = _text_column("eligibility_reason", lang)
    if reason in est:
        est["eligibility_reason"] = est[reason]
    cols = [c for c in _ESTATE_COLUMNS if c in est.columns]
    return est[cols].rename(columns=_label("review.estate_col", _ESTATE_COLUMNS, lang))


def _link_sheet(units: Units, lang: str) -> pd.DataFrame:
    links = units.links.drop(columns="geometry").copy()
    links["reason_text"] = links["reason"].map(lambda r: _reason_text(r, lang))
    if "crossed" in links:
        links["crossed"] = links["crossed"].map(lambda v: crossed_text(v, lang))
    links["linked"] = np.where(links["linked"], tr("review.yes", lang), tr("review.no", lang))
    cols = [c for c in _LINK_COLUMNS if c in links.columns]
    return links[cols].rename(columns=_label("review.link_col", _LINK_COLUMNS, lang))


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

    Examples
    --------
    >>> import tempfile
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> from gis.units import renovation_units
    >>> units, assessed = renovation_units(read_estates(demo_folder() / "estates.gpkg"),
    ...                                    load_standard())
    >>> with tempfile.TemporaryDirectory() as out:
    ...     paths = write_units(units, assessed, out, lang="en")
    ...     report = paths["report"].read_text(encoding="utf-8")
    ...     members = paths["membership"].read_text(encoding="utf-8-sig").splitlines()
    >>> {k: p.name for k, p in paths.items()}
    {'gpkg': 'units.gpkg', 'csv': 'units.csv', 'membership': 'unit_members.csv',
     'report': 'units_report_en.md'}
    >>> report.splitlines()[0], len(members) - 1
    ('# Combined renovation units', 150)
    """
    names = {"gpkg": "units.gpkg", "csv": "units.csv", "membership": "unit_members.csv",
             "report": tr("review.file.units_report", lang)}
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
    return "\n".join(["## " + tr("review.notes", lang), "",
                      *[f"- {n}" for n in extra], ""])


def _incomplete_md(units: Units, estates: pd.DataFrame, summary: list[str] | None,
                   skipped: list[dict] | None, lang: str, *, title: bool = False) -> str:
    """Summary, estates whose eligibility is unknown or assumed, units whose size could not
    be checked, and rows not analysed: what the run could not decide, and how to fix it."""
    parts: list[str] = []
    if title:
        parts += ["# " + tr("review.md.units_title", lang), ""]
    if summary:
        parts += ["## " + tr("review.md.summary", lang), "", *[f"- {x}" for x in summary], ""]
    status = estates["eligibility"] if "eligibility" in estates else pd.Series(dtype=object)
    for key in ("unknown", "assumed_eligible"):
        sub = estates[status == key]
        if sub.empty:
            continue
        parts += ["## " + tr(f"review.md.{key}", lang), "",
                  tr("review.md.to_decide", lang, n=len(sub),
                     hint=FILL_IN_HINT[LANGS.index(lang)]), ""]
        parts.append(md_table(
            [tr("review.head.estate_id", lang), tr("review.head.estate", lang)],
            [[str(r.estate_id), str(r.name)] for r in sub.head(200).itertuples()]))
        if len(sub) > 200:
            parts.append(f"… ({len(sub):,})")
        parts.append("")
    u = units.units
    if "caps_unchecked" in u:
        open_ = u[u["caps_unchecked"].astype(str) != ""]
        if len(open_):
            parts += ["## " + tr("review.md.size_unchecked", lang), ""]
            rows = [[str(r.unit_id), str(int(r.n_estates)),
                     _known(r.households, r.households_known, r.households_unknown_n, lang),
                     _known(r.floor_area_m2, r.floor_area_known_m2, r.floor_area_unknown_n, lang),
                     _caps_text(r.caps_unchecked, lang)]
                    for r in open_.itertuples()]
            parts += [md_table([tr(f"review.head.{h}", lang) for h in
                                ("unit", "estates", "households", "floor_area", "not_checked")],
                               rows), ""]
    if skipped:
        table = skipped_table(skipped, lang=lang)
        parts += ["## " + tr("review.md.not_analysed", lang), "",
                  md_table(list(table.columns), table.astype(str).values.tolist()), ""]
    return "\n".join(parts) + ("\n" if parts else "")


def _known(total: float, known: float, n_unknown: int, lang: str) -> str:
    """"1,200" when known; "unknown (known part 1,200; 2 members unknown)" otherwise."""
    if n_unknown == 0 and not pd.isna(total):
        return f"{total:,.0f}"
    return tr("review.total_unknown", lang, known=known, n=n_unknown)


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

    Examples
    --------
    The demo's units checked against its ecological red line, the package in Chinese:

    >>> import tempfile
    >>> import openpyxl
    >>> from gis.crs import metric_crs, to_metric
    >>> from gis.layers import read_estates
    >>> from gis.review import Constraint, check_units, read_constraint
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> from gis.units import renovation_units
    >>> estates = read_estates(demo_folder() / "estates.gpkg")
    >>> units, assessed = renovation_units(estates, load_standard())
    >>> metric = metric_crs(estates)
    >>> red = read_constraint(demo_folder() / "eco_redline.gpkg", "eco_redline")
    >>> checks, conflicts = check_units(to_metric(units.units, metric), [
    ...     Constraint(red.kind, to_metric(red.layer, metric), red.source)])
    >>> sorted(conflicts["unit_id"])
    ['U-XQ095+2-2a4620', 'U-XQ111+1-793c3b', 'U-XQ114']
    >>> with tempfile.TemporaryDirectory() as out:
    ...     paths = write_review(units, assessed, checks, conflicts.to_crs(estates.crs), out,
    ...                          constraint_sources=[red.source])
    ...     sheets = openpyxl.load_workbook(paths["xlsx"]).sheetnames
    ...     md = paths["markdown"].read_text(encoding="utf-8").splitlines()
    >>> sorted(p.name for p in paths.values())
    ['review.md', 'review.xlsx', 'units.gpkg', 'units_source_crs.gpkg']
    >>> sheets
    ['审查表', '小区资格', '相邻关系', '冲突明细', '决定执行情况', '说明']
    >>> md[0], md[4]
    ('# 老旧小区联动改造单元审查材料', '- 小区总数: 150; 纳入改造: 85')
    >>> md[5]
    '- 改造单元: 48 (其中联动单元 29, 涉及小区 66); 户数 10,139'
    >>> md[7]
    '- 审查图层: eco_redline.gpkg'
    """
    names = {"gpkg": "units.gpkg", "gpkg_source": "units_source_crs.gpkg",
             "xlsx": tr("review.file.xlsx", lang), "markdown": tr("review.file.markdown", lang)}
    if figures is not None:
        names["docx"] = tr("review.file.docx", lang)
    sheet = unit_sheet(units, checks, lang=lang, estates=estates)
    sheet[tr("review.col.decision", lang)] = ""
    sheet[tr("review.col.comment", lang)] = ""
    with staged_outputs(out_dir) as stage:
        _gpkg(stage / names["gpkg"], units, estates, checks, REVIEW_CRS, conflicts)
        style_units_gpkg(stage / names["gpkg"], lang=lang)  # QGIS opens it styled
        _gpkg(stage / names["gpkg_source"], units, estates, checks, estates.crs, conflicts)
        style_units_gpkg(stage / names["gpkg_source"], lang=lang)
        with pd.ExcelWriter(stage / names["xlsx"], engine="openpyxl") as xw:
            sheet.to_excel(xw, sheet_name=tr("review.sheet.units", lang), index=False)
            _estate_sheet(estates, units, lang).to_excel(
                xw, sheet_name=tr("review.sheet.eligibility", lang), index=False)
            _link_sheet(units, lang).to_excel(
                xw, sheet_name=tr("review.sheet.links", lang), index=False)
            _conflict_sheet(conflicts, lang).to_excel(
                xw, sheet_name=tr("review.sheet.conflicts", lang), index=False)
            _decision_sheet(units, lang).to_excel(
                xw, sheet_name=tr("review.sheet.decisions", lang), index=False)
            pd.DataFrame({tr("review.notes", lang): _notes(units, illustrative, notes, lang)}
                         ).to_excel(xw, sheet_name=tr("review.notes", lang), index=False)
            if skipped:
                skipped_table(skipped, lang=lang).to_excel(
                    xw, sheet_name=tr("review.sheet.not_analysed", lang), index=False)
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
            if lang != _STORED_IN:
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
    headers = _label("review.conflict_col", _CONFLICT_COLUMNS, lang)
    cols = {(_text_column(c, lang) if c == "kind" else c): head for c, head in headers.items()}
    if conflicts is None or conflicts.empty:
        return pd.DataFrame(columns=list(cols.values()))
    keep = [c for c in cols if c in conflicts.columns]
    return pd.DataFrame(conflicts[keep]).rename(columns=cols)


def _decision_sheet(units: Units, lang: str) -> pd.DataFrame:
    d = units.decisions.copy()
    if d.empty:
        return pd.DataFrame(columns=["row", "target", "decision", "status"])
    d["members"] = d["members"].map(lambda m: join(m, lang) if isinstance(m, tuple) else str(m))
    d["status"] = d["status"].map(lambda s: _status_text(s, lang))
    # Not named like a decision column: `read_decisions` reads every sheet that has
    # one, and this sheet reports what was read rather than asking for a decision.
    return d.rename(columns=_label("review.decision_col", _DECISION_COLUMNS, lang))


def _status_text(status: str, lang: str) -> str:
    """What became of a decision (`gis.units` status: "applied", "applied (…)" or
    "no longer matches: …") in ``lang``."""
    if status == "applied":
        return tr("review.status.applied", lang)
    if status.startswith("applied"):
        return tr("review.status.applied_unlinked", lang)
    why = status.removeprefix("no longer matches: ")
    if why != status:
        return tr("review.status.unmatched", lang, why=why)
    return tr("review.status.other", lang, status=status)


def _notes(units: Units, illustrative: bool, notes: list[str] | None, lang: str) -> list[str]:
    caps = units.caps
    out = []
    if illustrative:
        out.append(tr("review.note.illustrative", lang))
    limits = [(tr(f"review.cap_limit.{c}", lang), getattr(caps, c)) for c in _CAPS]
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
    def head(*keys: str) -> list[str]:
        return [tr(f"review.head.{k}", lang) for k in keys]

    u = units.units.set_index("unit_id")
    if lang != _STORED_IN:
        u = u.copy()
        _render_in(u, units, lang, estates)
    joint = u[u["n_estates"] > 1]
    parts = ["# " + tr("review.md.review_title", lang), ""]
    if illustrative:
        parts += ["> " + tr("review.md.illustrative", lang), ""]
    status = estates["eligibility"].value_counts() if "eligibility" in estates else pd.Series()
    eligible = int(estates["eligible"].sum()) if "eligible" in estates else len(units.membership)
    # Households known (members with a count); units with unknown members say so below.
    hh = u["households_known"].sum() if "households_known" in u else u["households"].sum()
    parts += [
        "## " + tr("review.md.overview", lang), "",
        "- " + tr("review.md.overview_estates", lang, n=len(estates), eligible=eligible),
        "- " + tr("review.md.overview_units", lang, n=len(u), joint=len(joint),
                  joint_estates=int(joint["n_estates"].sum()), households=hh),
        "- " + tr("review.md.overview_date", lang, date=date.today().isoformat()),
    ]
    if sources:
        parts.append("- " + tr("review.md.overview_sources", lang, sources=join(sources, lang)))
    if not status.empty:
        parts += ["", "## " + tr("review.md.eligibility", lang), ""]
        # An unknown status (none today) is counted under its key rather than dropped.
        rows = [[tr(f"review.eligibility.{s}", lang) if f"review.eligibility.{s}" in MESSAGES
                 else str(s), str(n)] for s, n in status.items()]
        parts += [md_table(head("status", "estates"), rows)]
    parts += ["", "## " + tr("review.md.conflicts", lang), ""]
    flagged = checks[checks["n_conflicts"] > 0] if "n_conflicts" in checks else checks.iloc[:0]
    if flagged.empty:
        parts.append(tr("review.md.none", lang))
    else:
        summary = _text_column("conflict_summary", lang)
        summary = summary if summary in flagged else "conflict_summary"
        rows = [[uid, str(int(u.loc[uid, "n_estates"])),
                 _known(u.loc[uid, "households"], u.loc[uid].get("households_known", 0),
                        u.loc[uid].get("households_unknown_n", 0), lang),
                 str(r[summary])] for uid, r in flagged.iterrows()]
        parts.append(md_table(head("unit", "estates", "households", "conflicts"), rows))
    parts += ["", "## " + tr("review.md.joint_units", lang), ""]
    reasons = link_reasons(units, lang)
    rows = [[uid, str(r.member_names),
             _known(r.households, getattr(r, "households_known", 0),
                    getattr(r, "households_unknown_n", 0), lang),
             _known(r.floor_area_m2, getattr(r, "floor_area_known_m2", 0),
                    getattr(r, "floor_area_unknown_n", 0), lang),
             f"{r.build_year_min}–{r.build_year_max}", str(reasons.get(uid, ""))]
            for uid, r in joint.iterrows()]
    parts.append(md_table(
        head("unit", "members", "households", "floor_area", "built", "why_linked"), rows)
        if rows else tr("review.md.none", lang))
    d = units.decisions
    if not d.empty:
        parts += ["", "## " + tr("review.md.decisions", lang), ""]
        rows = [[f"{r.sheet} {r.row}" if getattr(r, "sheet", "") else str(r.row), r.target, r.unit_id or f"{r.estate_a}–{r.estate_b}", r.decision,
                 _status_text(r.status, lang)] for r in d.itertuples()]
        parts.append(md_table(head("row", "target", "unit_or_link", "decision",
                                   "decision_status"), rows))
    extra = _notes(units, illustrative=False, notes=notes, lang=lang)
    if extra:
        parts += ["", "## " + tr("review.notes", lang), ""] + [f"- {md_text(n)}" for n in extra]
    parts.append("")
    return "\n".join(parts)
