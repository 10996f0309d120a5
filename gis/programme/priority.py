"""The priority score (改造优先级) of every estate and unit.

Five parts, each scaled to 0–1, weighted by the programme file's ``[priority]`` table:

* ``age``: years from completion to ``reference_year``, divided by 40 (capped at 1);
* ``households``: households over the largest estate's households;
* ``basic_lacking``: 基础类 items the survey marks as lacking, over the catalogue's
  基础类 items;
* ``circle_gaps``: living-circle categories not covered, over the standard's categories;
* ``support``: residents' support (居民改造意愿) in %, over 100.

``priority = Σ weight·part / Σ weight``. An unknown part (no build year, no survey) counts 0,
except unknown support, which counts 0.5 so an unsurveyed estate is neither pushed
forward nor held back; the ``priority_unknown`` column names the unknown parts. A unit's
priority is its members' mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.programme.catalogue import Catalogue, Programme
from gis.standards import Standard

__all__ = ["PARTS", "estate_priority"]

PARTS = ("age", "households", "basic_lacking", "circle_gaps", "support")
AGE_SPAN_YEARS = 40.0


def estate_priority(estates: pd.DataFrame, survey: pd.DataFrame | None, catalogue: Catalogue,
                    standard: Standard, programme: Programme) -> pd.DataFrame:
    """Priority parts and score per estate.

    Returns
    -------
    DataFrame
        Index ``estate_id``; ``prio_<part>`` (0–1) for each of `PARTS`, ``priority`` (0–1)
        and ``priority_unknown`` (comma-joined parts that were unknown).

    Examples
    --------
    >>> from gis.layers import read_estates
    >>> from gis.programme.catalogue import load_catalogue, load_programme
    >>> from gis.programme.survey import read_survey
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> cat, prog = load_catalogue(), load_programme("qinshui_2021_2024")
    >>> survey = read_survey(demo_folder() / "survey.xlsx", cat)
    >>> prio = estate_priority(est, survey, cat, load_standard(prog.standard), prog)
    >>> parts = prio.loc["XQ002", ["prio_age", "prio_basic_lacking", "priority"]]
    >>> parts.astype(float).round(3).to_dict()
    {'prio_age': 0.75, 'prio_basic_lacking': 0.429, 'priority': 0.428}
    >>> prio.loc["XQ002", "priority_unknown"]  # no coverage columns: living-circle gaps unknown
    'circle_gaps'
    >>> len(prio), round(float(prio["priority"].max()), 3)
    (150, 0.646)
    """
    ids = estates["estate_id"].astype(str).to_numpy()
    n = len(ids)
    unknown: list[list[str]] = [[] for _ in range(n)]
    year = pd.to_numeric(estates.get("build_year"), errors="coerce") \
        if "build_year" in estates else pd.Series(np.nan, index=estates.index)
    year = np.asarray(year, dtype=float)
    age = np.clip((programme.reference_year - year) / AGE_SPAN_YEARS, 0, 1)
    hh = np.asarray(pd.to_numeric(estates["households"], errors="coerce"), dtype=float) \
        if "households" in estates else np.full(n, np.nan)
    top = np.nanmax(hh) if np.isfinite(hh).any() and np.nanmax(hh) > 0 else 1.0
    households = hh / top
    n_basic = sum(it.cls == "basic" for it in catalogue.items) or 1
    basic_keys = {it.key for it in catalogue.items if it.cls == "basic"}
    basic = np.full(n, np.nan)
    support = np.full(n, np.nan)
    if survey is not None:
        for i, eid in enumerate(ids):
            if eid in survey.index:
                if bool(survey.at[eid, "surveyed"]):
                    basic[i] = len(basic_keys & set(survey.at[eid, "lacking"])) / n_basic
                support[i] = survey.at[eid, "support_pct"] / 100.0
    cov_cols = [f"covered_{k}" for k in standard.keys if f"covered_{k}" in estates]
    if cov_cols:
        gaps = (~estates[cov_cols].astype(bool)).sum(axis=1).to_numpy() / len(standard.keys)
    else:
        gaps = np.full(n, np.nan)
    parts = {"age": age, "households": households, "basic_lacking": basic,
             "circle_gaps": gaps, "support": support}
    out = pd.DataFrame(index=pd.Index(ids, name="estate_id"))
    for name, values in parts.items():
        miss = ~np.isfinite(values)
        for i in np.flatnonzero(miss):
            unknown[i].append(name)
        out[f"prio_{name}"] = np.where(miss, 0.5 if name == "support" else 0.0, values)
    w = programme.weights
    total = sum(w.values()) or 1.0
    out["priority"] = sum(w[p] * out[f"prio_{p}"] for p in PARTS) / total
    out["priority_unknown"] = [",".join(u) for u in unknown]
    return out
