"""Summary lines that tell the story of a run: what was decided, and what was not.

Every command ends with a few lines in the user's language (``lang``): what the run
decided, what it could not decide (unknown build years, households, floor areas), what
it left out (rows skipped with ``--invalid skip``) and what it assumed
(``--assume-unknown-eligible``, straight-line distances), each with how to fix it.
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
from gis.units import CAP_LABELS, Units

__all__ = ["coverage_summary", "skipped_line", "units_summary"]


def skipped_line(skipped: list[dict[str, Any]], lang: str = "zh") -> str | None:
    """One line on the rows left out, by layer; None when nothing was left out."""
    if not skipped:
        return None
    by_layer = Counter(r["layer"] for r in skipped)
    if lang == "en":
        parts = ", ".join(f"{layer} {n}" for layer, n in by_layer.items())
        return (f"Not analysed: {len(skipped)} input rows left out ({parts}) because their "
                "geometry is missing or cannot be repaired; the report lists each with its "
                "reason. Redraw them and run again.")
    parts = "，".join(f"{_LAYER_ZH.get(layer, layer)} {n} 行" for layer, n in by_layer.items())
    return (f"未分析：{len(skipped)} 行输入数据因几何缺失或无法修复而未参与分析（{parts}），"
            "报告逐行列出原因；请修正后重新运行。")


_LAYER_ZH = {"estates": "小区", "services": "设施", "streets": "道路", "gates": "出入口",
             "barriers": "障碍"}


def coverage_summary(cov: Coverage, *, lang: str = "zh") -> list[str]:
    """Summary lines of a coverage run (`gis.coverage.living_circle`)."""
    en = lang == "en"
    est = cov.estates
    n = len(est)
    full = int((est["coverage_score"] >= 1).sum())
    lines = [
        f"{n:,} estates analysed: {full:,} reach every facility category, {n - full:,} have "
        "gaps." if en else
        f"已分析 {n:,} 个小区：{full:,} 个全部覆盖，{n - full:,} 个存在缺口。"
    ]
    hh_unknown = int(est["households"].isna().sum()) if "households" in est else n
    if hh_unknown:
        line = (f"Households unknown for {hh_unknown:,} of {n:,} estates: household totals and "
                "rates count the others only; fill in 户数 (households) to include them."
                if en else
                f"{n:,} 个小区中 {hh_unknown:,} 个户数未知：户数合计与户数覆盖率只统计其余小区；"
                "补录户数字段后即可计入。")
        if hh_unknown * 2 > n:
            lines.insert(0, line)
        else:
            lines.append(line)
    if cov.mode == "straight":
        lines.append("Assumed: straight-line distances (no street network); coverage is "
                     "optimistic." if en else "假定：直线距离（未使用路网），覆盖结果偏乐观。")
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
    """
    en = lang == "en"
    status = assessed["eligibility"].value_counts() if "eligibility" in assessed else pd.Series()
    n = len(assessed)
    unknown = int(status.get("unknown", 0))
    assumed = int(status.get("assumed_eligible", 0))
    eligible = int(assessed["eligible"].sum()) if "eligible" in assessed else 0
    left_out = int(status.get("not_analysed", 0))
    not_eligible = n - eligible - unknown - left_out
    hint_zh, hint_en = FILL_IN_HINT
    lines = []
    decided = (
        f"Eligibility of {n:,} estates: {eligible:,} eligible"
        + (f" (of which {assumed:,} ASSUMED: no build year)" if assumed else "")
        + f", {not_eligible:,} not eligible, {unknown:,} unknown (no build year)"
        + (f", {left_out:,} not analysed (geometry left out)." if left_out else ".")
        if en else
        f"{n:,} 个小区的改造资格：纳入 {eligible:,} 个"
        + (f"（其中 {assumed:,} 个建成年份缺失、按假定纳入）" if assumed else "")
        + f"，不纳入 {not_eligible:,} 个，未知 {unknown:,} 个（建成年份缺失）"
        + (f"，未分析 {left_out:,} 个（几何无效，已跳过）。" if left_out else "。")
    )
    if unknown:
        undecided = (f"Could not decide {unknown:,} of {n:,} estates: no build year. To decide, "
                     f"{hint_en}." if en else
                     f"{n:,} 个小区中 {unknown:,} 个无法判定是否纳入改造：建成年份缺失。请{hint_zh}。")
        # Most estates undecided: that is the news, not "0 eligible".
        lines += [undecided, decided] if unknown * 2 > n else [decided, undecided]
    else:
        lines.append(decided)
    if assumed and not unknown:
        lines.append(f"ASSUMED eligible without a build year: {assumed:,} estates "
                     "(--assume-unknown-eligible); verify them." if en else
                     f"假定纳入：{assumed:,} 个小区建成年份缺失，按 --assume-unknown-eligible "
                     "假定纳入，须核实。")
    u = units.units
    joint = int((u["n_estates"] > 1).sum()) if len(u) else 0
    lines.append(f"{len(u):,} renovation units, {joint:,} joint." if en else
                 f"改造单元 {len(u):,} 个，其中联动单元 {joint:,} 个。")
    if "caps_unchecked" in u and len(u):
        open_ = u["caps_unchecked"].astype(str) != ""
        if open_.any():
            keys = sorted({k for v in u.loc[open_, "caps_unchecked"] for k in str(v).split(",")
                           if k}, key=list(CAP_LABELS).index)
            names = ("、" if not en else ", ").join(CAP_LABELS[k][1 if en else 0] for k in keys)
            lines.append(
                f"Size not fully checked for {int(open_.sum()):,} units ({names}): members' "
                "households or floor area are unknown, so their totals are unknown (the known "
                "part is listed); fill in 户数/建筑面积." if en else
                f"{int(open_.sum()):,} 个单元的规模未能全部核验（{names}）：成员小区户数或建筑面积"
                "未知，单元合计记为未知（已知部分另列）；请补录户数/建筑面积。")
    for b in barriers or []:
        k = (blocked or {}).get(b.source, 0)
        lines.append(
            f"Barrier layer {b.source}: {b.barriers:,} of {b.features:,} features acted as "
            f"barriers ({b.rule_en}); {k:,} neighbour pairs kept apart." if en else
            f"障碍图层 {b.source}：{b.features:,} 个要素中 {b.barriers:,} 个作为障碍"
            f"（{b.rule_zh}），{k:,} 对相邻小区因此未联动。")
    line = skipped_line(skipped or [], lang)
    if line:
        lines.append(line)
    return lines
