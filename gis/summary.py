"""Summary lines that tell the story of a run: what was decided, and what was not.

Every command ends with a few lines in the user's language (``lang``): what the run
decided, what it could not decide (unknown build years, households, floor areas), what
it left out (rows skipped with ``invalid="skip"``) and what it assumed
(``assume_unknown_eligible=True``, straight-line distances), each with how to fix it.
When most estates could not be decided, that comes first: a run on a layer without
build years must not open with "0 eligible".
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from gis.adjacency import BarrierLayer
from gis.coverage import Coverage
from gis.eligibility import FILL_IN_HINT
from gis.i18n import MESSAGES, join, tr
from gis.notes import pair_text
from gis.units import CAP_LABELS, Units

__all__ = ["coverage_summary", "skipped_line", "units_summary"]


def skipped_line(skipped: list[dict[str, Any]], lang: str = "zh") -> str | None:
    """One line on the rows left out, by layer; None when nothing was left out.

    Examples
    --------
    >>> rows = [{"layer": "estates"}, {"layer": "estates"}, {"layer": "gates"}]
    >>> print(skipped_line(rows, "en"))
    Not analysed: 3 input rows left out (estates 2, gates 1) because their geometry is missing or
    cannot be repaired; the report lists each with its reason. Redraw them and run again.
    >>> print(skipped_line(rows))
    未分析：3 行输入数据因几何缺失或无法修复而未参与分析（小区 2 行，出入口 1 行），报告逐行列出原因；请修正后重新运行。
    >>> skipped_line([]) is None
    True
    """
    if not skipped:
        return None
    by_layer = Counter(r["layer"] for r in skipped)
    parts = tr("summary.skipped_sep", lang).join(
        tr("summary.skipped_part", lang, layer=_layer_name(layer, lang), n=n)
        for layer, n in by_layer.items())
    return tr("summary.skipped", lang, n=len(skipped), parts=parts)


def _layer_name(layer: str, lang: str) -> str:
    """The layer's name in ``lang`` (message ``layer.<name>``), else as given."""
    return tr(f"layer.{layer}", lang) if f"layer.{layer}" in MESSAGES else layer


def coverage_summary(cov: Coverage, *, lang: str = "zh") -> list[str]:
    """Summary lines of a coverage run (`gis.coverage.living_circle`).

    Examples
    --------
    The demo town in straight-line distances:

    >>> from gis.coverage import living_circle
    >>> from gis.layers import read_estates, read_services
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> standard = load_standard(None)
    >>> estates = read_estates(demo_folder() / "estates.gpkg")
    >>> services = read_services(demo_folder() / "services.gpkg", standard)
    >>> cov = living_circle(estates, services, standard, mode="straight")
    >>> for line in coverage_summary(cov, lang="en"):
    ...     print(line)
    150 estates analysed: 140 reach every facility category, 10 have gaps.
    Assumed: straight-line distances (no street network); coverage is optimistic.
    >>> coverage_summary(cov)[0]
    '已分析 150 个小区：140 个全部覆盖，10 个存在缺口。'
    """
    est = cov.estates
    n = len(est)
    full = int((est["coverage_score"] >= 1).sum())
    lines = [tr("summary.coverage", lang, n=n, full=full, gaps=n - full)]
    hh_unknown = int(est["households"].isna().sum()) if "households" in est else n
    if hh_unknown:
        line = tr("summary.households_unknown", lang, n=n, unknown=hh_unknown)
        if hh_unknown * 2 > n:
            lines.insert(0, line)
        else:
            lines.append(line)
    if cov.mode == "straight":
        lines.append(tr("summary.straight", lang))
    line = skipped_line(cov.skipped, lang)
    if line:
        lines.append(line)
    return lines


def units_summary(
    units: Units,
    assessed: pd.DataFrame,
    *,
    barriers: list[BarrierLayer] | None = None,
    blocked: dict[str, int] | None = None,
    skipped: list[dict[str, Any]] | None = None,
    lang: str = "zh",
) -> list[str]:
    """Summary lines of a units run: eligibility decided and not, units, caps, barriers.

    Parameters
    ----------
    units : Units
    assessed : DataFrame
        Every estate with ``eligibility`` (from `gis.eligibility.assess_eligibility`).
    barriers : list of BarrierLayer, optional
        From `gis.adjacency.select_barriers`.
    blocked : dict of str to int, optional
        Links kept apart per barrier layer (`gis.adjacency.blocked_by_layer`).
    skipped : list of dict, optional
        Rows left out (`gis.skipped`).
    lang : {"zh", "en"}

    Examples
    --------
    The demo town's units:

    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> from gis.units import renovation_units
    >>> units, assessed = renovation_units(read_estates(demo_folder() / "estates.gpkg"),
    ...                                    load_standard(None))
    >>> for line in units_summary(units, assessed, lang="en"):
    ...     print(line)
    Eligibility of 150 estates: 85 eligible, 65 not eligible, 0 unknown (no build year).
    48 renovation units, 29 joint.
    """
    status = assessed["eligibility"].value_counts() if "eligibility" in assessed else pd.Series()
    n = len(assessed)
    unknown = int(status.get("unknown", 0))
    assumed = int(status.get("assumed_eligible", 0))
    eligible = int(assessed["eligible"].sum()) if "eligible" in assessed else 0
    left_out = int(status.get("not_analysed", 0))
    not_eligible = n - eligible - unknown - left_out
    hint = pair_text(FILL_IN_HINT, lang)
    lines = []
    decided = tr(
        "summary.eligibility", lang, n=n, eligible=eligible,
        assumed=tr("summary.eligibility_assumed", lang, n=assumed) if assumed else "",
        not_eligible=not_eligible, unknown=unknown,
        end=tr("summary.eligibility_left_out", lang, n=left_out) if left_out
        else tr("summary.full_stop", lang))
    if unknown:
        undecided = tr("summary.undecided", lang, n=n, unknown=unknown, hint=hint)
        # Most estates undecided: that is the news, not "0 eligible".
        lines += [undecided, decided] if unknown * 2 > n else [decided, undecided]
    else:
        lines.append(decided)
    if assumed and not unknown:
        lines.append(tr("summary.assumed", lang, n=assumed))
    u = units.units
    joint = int((u["n_estates"] > 1).sum()) if len(u) else 0
    lines.append(tr("summary.units", lang, n=len(u), joint=joint))
    if "caps_unchecked" in u and len(u):
        open_ = u["caps_unchecked"].astype(str) != ""
        if open_.any():
            keys = sorted({k for v in u.loc[open_, "caps_unchecked"] for k in str(v).split(",")
                           if k}, key=list(CAP_LABELS).index)
            names = join((pair_text(CAP_LABELS[k], lang) for k in keys), lang)
            lines.append(tr("summary.size_unchecked", lang, n=int(open_.sum()), names=names))
    for b in barriers or []:
        k = (blocked or {}).get(b.source, 0)
        lines.append(tr("summary.barrier", lang, source=b.source, barriers=b.barriers,
                        features=b.features, rule=pair_text((b.rule_zh, b.rule_en), lang),
                        kept_apart=k))
    line = skipped_line(skipped or [], lang)
    if line:
        lines.append(line)
    return lines
