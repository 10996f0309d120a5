"""Which estates the renovation programme covers (改造范围), and why.

Rules, from the standard's ``[eligibility]`` table (default: 2000 and 2005):

* built by the end of ``built_by`` → eligible;
* built after that and by the end of ``extended_built_by`` → eligible only when the
  user includes them (确需改造的2001–2005年小区), and marked so;
* in a shantytown-redevelopment plan (棚改) or to be demolished and rebuilt (拆除新建)
  → excluded, whatever the year;
* unknown build year → status ``unknown`` (neither eligible nor not eligible) until the
  year is filled in; with ``assume_unknown_eligible`` such estates are taken as eligible,
  with status ``assumed_eligible`` so every output can say it was an assumption.
  Exclusions (棚改, 拆除新建) still win: they do not depend on the year.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.standards import Standard

__all__ = ["ELIGIBLE_STATUSES", "FILL_IN_HINT", "STATUSES", "UNDECIDED_STATUSES",
           "assess_eligibility"]

# status -> (Chinese reason template, English reason template)
STATUSES: dict[str, tuple[str, str]] = {
    "eligible": ("{by}年底前建成（{year}年）", "built by end-{by} ({year})"),
    "eligible_extended": (
        "{by1}–{by2}年建成（{year}年），按需纳入",
        "built {by1}–{by2} ({year}), included where needed",
    ),
    "extended_not_included": (
        "{by1}–{by2}年建成（{year}年），未选择纳入（`include_extended`）",
        "built {by1}–{by2} ({year}); not included (`include_extended`)",
    ),
    "too_new": ("{by2}年后建成（{year}年），不在改造范围", "built after {by2} ({year})"),
    "shantytown": ("已纳入棚改计划，不属于老旧小区改造范畴", "in a shantytown-redevelopment plan"),
    "demolish": ("拟拆除新建，不得纳入老旧小区改造计划", "to be demolished and rebuilt"),
    "unknown": (
        "未知：建成年份缺失，无法判定是否纳入；请补录建成年份",
        "unknown: no build year, so eligibility cannot be decided; fill in the year",
    ),
    "assumed_eligible": (
        "建成年份缺失，按假定纳入（`assume_unknown_eligible`），须核实",
        "no build year; ASSUMED eligible (`assume_unknown_eligible`), to be verified",
    ),
}
# Statuses that put an estate into the programme, and those that decide nothing yet.
ELIGIBLE_STATUSES = ("eligible", "eligible_extended", "assumed_eligible")
UNDECIDED_STATUSES = ("unknown", "assumed_eligible")
# How to turn "unknown" into a decision, for consoles and reports (zh, en).
FILL_IN_HINT = (
    "在小区图层中补录建成年份（建成年份/build_year 字段，按小区编号逐一填写），"
    "或使用 `assume_unknown_eligible` 将年份未知的小区假定纳入（各成果中均会标注）",
    "fill in the build year (建成年份/build_year field of the estates layer, one value per "
    "小区编号), or pass `assume_unknown_eligible` to take estates without a year as eligible "
    "(marked as assumed in every output)",
)


def assess_eligibility(
    estates: gpd.GeoDataFrame, standard: Standard, *, include_extended: bool = False,
    assume_unknown_eligible: bool = False,
) -> gpd.GeoDataFrame:
    """Give every estate an eligibility status and reason.

    Parameters
    ----------
    estates : GeoDataFrame
        From `gis.layers.read_estates` (``build_year``; optional ``shantytown``,
        ``demolish`` flags).
    standard : Standard
        Supplies ``built_by`` and ``extended_built_by`` (years).
    include_extended : bool, default False
        Include estates built after ``built_by`` up to ``extended_built_by``.
    assume_unknown_eligible : bool, default False
        Take estates without a build year as eligible (status ``assumed_eligible``)
        instead of leaving them ``unknown``.

    Returns
    -------
    GeoDataFrame
        A copy with ``eligible`` (bool), ``eligibility`` (a key of `STATUSES`),
        ``eligibility_reason`` (Chinese) and ``eligibility_reason_en``.

    Examples
    --------
    The demo town's 150 estates under the default standard:

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates
    >>> from gis.standards import load_standard
    >>> assessed = assess_eligibility(read_estates(demo_folder() / "estates.gpkg"),
    ...                               load_standard())
    >>> assessed["eligibility"].value_counts().sort_index().to_dict()
    {'eligible': 85, 'extended_not_included': 30, 'shantytown': 5, 'too_new': 30}
    """
    out = estates.copy()
    n = len(out)
    year = (
        pd.to_numeric(out["build_year"], errors="coerce").to_numpy(dtype=float)
        if "build_year" in out
        else np.full(n, np.nan)
    )
    flag = {f: out[f].to_numpy(dtype=bool) if f in out else np.zeros(n, bool)
            for f in ("shantytown", "demolish")}
    by1, by2 = standard.built_by, standard.extended_built_by
    # Later conditions win: exclusions override any year.
    status = np.full(n, "assumed_eligible" if assume_unknown_eligible else "unknown",
                     dtype=object)
    status[year <= by1] = "eligible"
    extended = (year > by1) & (year <= by2)
    status[extended] = "eligible_extended" if include_extended else "extended_not_included"
    status[year > by2] = "too_new"
    status[flag["shantytown"]] = "shantytown"
    status[flag["demolish"]] = "demolish"
    out["eligible"] = np.isin(status, ELIGIBLE_STATUSES)
    out["eligibility"] = status
    years = ["?" if np.isnan(y) else str(int(y)) for y in year]
    fmt = {"by": by1, "by1": by1 + 1, "by2": by2}
    out["eligibility_reason"] = [STATUSES[s][0].format(year=y, **fmt) for s, y in zip(status, years)]
    out["eligibility_reason_en"] = [
        STATUSES[s][1].format(year=y, **fmt) for s, y in zip(status, years)
    ]
    return out
