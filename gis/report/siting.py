"""Write a siting result: sites.gpkg and the siting section of the gap report (MD, XLSX)."""

from __future__ import annotations

import logging
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from gis.i18n import MESSAGES, clause_join, tr
from gis.notes import note_text
from gis.report._files import autofit, in_lang, md_table, staged_outputs
from gis.report.qgis_styles import style_sites_gpkg
from gis.siting import GREEDY_BOUND, Siting

__all__ = ["write_siting"]

logger = logging.getLogger(__name__)


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

    Examples
    --------
    One new community service centre for a small seeded town (25 estates), chosen among
    one candidate inside each estate:

    >>> import tempfile
    >>> from gis.candidates import estate_candidates
    >>> from gis.coverage import living_circle
    >>> from gis.siting import site_facilities
    >>> from gis.standards import load_standard
    >>> from gis.synthetic import random_town
    >>> streets, estates, services = random_town(1)
    >>> cov = living_circle(estates, services, load_standard(), streets=streets,
    ...                     progress=False)
    >>> siting = site_facilities(cov, estate_candidates(cov.estates),
    ...                          [("community_service", 1)])
    >>> with tempfile.TemporaryDirectory() as out:
    ...     paths = write_siting(siting, out, lang="en")
    ...     report = paths["markdown"].read_text(encoding="utf-8").splitlines()
    ...     names = sorted(p.name for p in paths.values())
    >>> names
    ['sites.gpkg', 'siting_report_en.md', 'siting_report_en.xlsx']
    >>> next(line for line in report if line.startswith("| 1 |"))
    '| 1 | E:E000 | 小区0 | inside estate | 4,843 | 11 | 4,843 | 93.2% |'
    """
    names = {"gpkg": "sites.gpkg",
             "markdown": tr("siting.file_markdown", lang),
             "xlsx": tr("siting.file_xlsx", lang)}
    summary = _summary_table(siting, lang)
    sites = _sites_table(siting, lang)
    lost = _unreachable_table(siting, lang)
    solving = _solving_table(siting, lang)
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
            _markdown(siting, summary, sites, lost, solving, lang, illustrative, spacing_m),
            encoding="utf-8")
        _xlsx(stage / names["xlsx"], siting, summary, sites, lost, solving, lang, illustrative)
    paths = {k: Path(out_dir) / v for k, v in names.items()}
    logger.info("Wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths


# ---------------------------------------------------------------------------


def _label(row: pd.Series | object, lang: str) -> str:
    return str(getattr(row, in_lang(lang, "name_zh", "name_en")))


def _method(row: object, lang: str) -> str:
    if row.method == "exact":  # type: ignore[attr-defined]
        proven = row.optimal  # type: ignore[attr-defined]
        return tr("siting.exact" if proven else "siting.exact_gap", lang)
    message = row.message  # type: ignore[attr-defined]
    exact_tried = isinstance(message, str) and message.startswith("exact not proven")
    return tr("siting.greedy_unproven" if exact_tried else "siting.greedy", lang)


def _pct(value: float) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.1%}"


def _num(value: float, lang: str) -> str:
    if value is None or not np.isfinite(value):
        return tr("report.unknown", lang)
    return f"{value:,.0f}"


def _summary_table(siting: Siting, lang: str) -> pd.DataFrame:
    rows = []
    for r in siting.summary.itertuples(index=False):
        model = (tr("siting.mclp", lang, k=int(r.k)) if r.model == "mclp"
                 else tr("siting.lscp", lang))
        rows.append({
            tr("report.category", lang): _label(r, lang),
            tr("report.threshold", lang): r.walk_m,
            tr("siting.model", lang): model,
            tr("siting.method", lang): _method(r, lang),
            tr("siting.sites", lang): r.sites,
            tr("siting.estates_before_after", lang):
                f"{r.estates_covered_before} → {r.estates_covered_after} / {r.estates}",
            tr("siting.households_before_after", lang):
                f"{_num(r.households_covered_before, lang)} → "
                f"{_num(r.households_covered_after, lang)}",
            tr("siting.rate_before_after", lang):
                f"{_pct(r.household_rate_before)} → {_pct(r.household_rate_after)}",
            tr("siting.gap", lang): _pct(r.gap),
        })
    return pd.DataFrame(rows)


#: Columns of the proposed-sites table, by message id.
_SITE_COLUMNS = ("report.category", "siting.order", "siting.candidate_id", "siting.name",
                 "siting.source", "siting.new_households", "siting.new_estates",
                 "siting.cum_households", "siting.rate_after")


def _sites_table(siting: Siting, lang: str) -> pd.DataFrame:
    s = siting.sites
    if not len(s):
        return pd.DataFrame(columns=[tr(c, lang) for c in _SITE_COLUMNS])
    sources = [tr(f"siting.src_{v}", lang) if f"siting.src_{v}" in MESSAGES else str(v)
               for v in s["source"]]
    values = [s[in_lang(lang, "category_name_zh", "category_name_en")].to_numpy(),
              s["order"].to_numpy(), s["candidate_id"].astype(str).to_numpy(),
              s["name"].astype(str).to_numpy(), sources, s["new_households"].to_numpy(),
              s["new_estates"].to_numpy(), s["cum_households"].to_numpy(),
              s["household_rate_after"].to_numpy()]
    return pd.DataFrame({tr(c, lang): v for c, v in zip(_SITE_COLUMNS, values)})


def _unreachable_table(siting: Siting, lang: str) -> pd.DataFrame:
    u = siting.unreachable
    names = {r.category: _label(r, lang) for r in siting.summary.itertuples(index=False)}
    limits = {r.category: siting.coverage.search_factor * r.walk_m
              for r in siting.summary.itertuples(index=False)}
    return pd.DataFrame({
        tr("report.category", lang): [names.get(c, c) for c in u["category"]],
        tr("siting.estate", lang): [tr("report.estate_label", lang, name=n, estate_id=i)
                                    for n, i in zip(u["name"], u["estate_id"])],
        tr("siting.households", lang): u["households"].to_numpy(),
        tr("siting.nearest_candidate_m", lang): [
            tr("report.beyond", lang, limit=limits[c]) if not np.isfinite(d) else f"{d:,.0f}"
            for c, d in zip(u["category"], u["nearest_candidate_m"].astype(float))],
        tr("siting.nearest_candidate", lang): [str(v) if isinstance(v, str) else "—"
                                               for v in u["nearest_candidate"]],
    })


def _solving_table(siting: Siting, lang: str) -> pd.DataFrame:
    rows = []
    for r in siting.summary.itertuples(index=False):
        rows.append({
            tr("report.category", lang): _label(r, lang),
            tr("siting.model", lang): r.model.upper(),
            tr("siting.method", lang): _method(r, lang),
            tr("siting.greedy_value", lang): r.greedy_objective,
            tr("siting.exact_value", lang): r.exact_objective,
            tr("siting.bound_value", lang): r.bound,
            tr("siting.gap", lang): _pct(r.gap),
            tr("siting.greedy_share", lang): _pct(r.greedy_share),
            tr("siting.seconds", lang): round(float(r.seconds), 2),
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


def _md(df: pd.DataFrame, lang: str, drop: tuple[str, ...] = ()) -> str:
    cols = [c for c in df.columns if c not in drop]
    pct = {tr("siting.rate_after", lang)}
    dec = {tr("siting.seconds", lang): 2}
    rows = [[_cell(r[c], c in pct, dec.get(c, 0)) for c in cols]
            for r in df.to_dict("records")]
    return md_table(cols, rows)


def _markdown(siting: Siting, summary: pd.DataFrame, sites: pd.DataFrame, lost: pd.DataFrame,
              solving: pd.DataFrame, lang: str, illustrative: bool,
              spacing_m: float | None) -> str:
    std = siting.coverage.standard
    parts = [f"# {tr('siting.title', lang)}", ""]
    if illustrative:
        parts += [f"> {tr('report.illustrative', lang)}", ""]
    src = siting.candidates["source"].value_counts() if "source" in siting.candidates else {}
    kinds = []
    for kind in ("file", "network", "estate"):
        if src.get(kind, 0):
            text = tr(f"siting.cand_{kind}", lang,
                      spacing=f"{spacing_m:.0f}" if spacing_m else "?")
            kinds.append(tr("siting.cand_count", lang, kind=text, n=src[kind]))
    candidates = (f"{len(siting.candidates):,}" + tr("paren_open", lang)
                  + clause_join(kinds, lang) + tr("paren_close", lang))
    parts += [
        tr("siting.lead", lang), "",
        f"## {tr('report.overview', lang)}", "",
        f"- {tr('report.standard', lang)}: {in_lang(lang, std.name_zh, std.name_en)} "
        f"({std.source})",
        f"- {tr('siting.distance', lang)}: {tr('siting.distance_rule', lang)}",
        f"- {tr('siting.candidates', lang)}: {candidates}",
        f"- {tr('siting.solver_rule', lang)}: "
        f"{tr('siting.solver_rule_text', lang, bound=GREEDY_BOUND)}",
        f"- {tr('report.date', lang)}: {date.today().isoformat()}",
        "",
        f"## {tr('siting.before_after', lang)}", "",
        _md(summary, lang),
        "",
        f"## {tr('siting.proposals', lang)}", "",
    ]
    category = tr("report.category", lang)
    if sites.empty:
        parts += [tr("siting.no_sites", lang), ""]
    else:
        for cat, sub in sites.groupby(category, sort=False):
            parts += [f"### {cat}", ""]
            parts += [_md(sub, lang, drop=(category,)), ""]
    if not lost.empty:
        parts += [f"## {tr('siting.unreachable', lang)}", "", tr("siting.unreachable_note", lang),
                  "", _md(lost, lang), ""]
    parts += [f"## {tr('siting.solving', lang)}", "", tr("siting.objective_note", lang), "",
              _md(solving, lang), ""]
    notes = [*siting.coverage.notes, *siting.notes]
    if notes:
        parts += [f"## {tr('report.notes', lang)}", ""]
        parts += [f"- {note_text(n, lang)}" for n in notes] + [""]
    return "\n".join(parts)


def _xlsx(path: Path, siting: Siting, summary: pd.DataFrame, sites: pd.DataFrame,
          lost: pd.DataFrame, solving: pd.DataFrame, lang: str, illustrative: bool) -> None:
    notes = [tr("report.illustrative", lang)] if illustrative else []
    notes += [tr("siting.lead", lang), tr("siting.objective_note", lang),
              *(note_text(n, lang) for n in [*siting.coverage.notes, *siting.notes])]
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        summary.to_excel(xw, sheet_name=tr("siting.sheet_summary", lang), index=False)
        sites.to_excel(xw, sheet_name=tr("siting.sheet_sites", lang), index=False)
        lost.to_excel(xw, sheet_name=tr("siting.sheet_unreachable", lang), index=False)
        solving.to_excel(xw, sheet_name=tr("siting.sheet_solving", lang), index=False)
        pd.DataFrame({tr("report.notes", lang): notes}).to_excel(
            xw, sheet_name=tr("report.sheet_notes", lang), index=False)
        for ws in xw.book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    # Names are data, never formulas: "=HYPERLINK(…)" in a name stays text.
                    if cell.data_type == "f":
                        cell.data_type = "s"
        ws = xw.book[tr("siting.sheet_sites", lang)]
        col = list(sites.columns).index(tr("siting.rate_after", lang)) + 1
        for row in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            row[0].number_format = "0.0%"
        autofit(xw.book)
