"""Combined renovation units (联动改造单元 / 片区改造单元) from linked neighbouring estates.

Linked estates (see `gis.adjacency`) are grouped into contiguous units that respect the
caps a user sets: at most ``max_households`` households, ``max_floor_area_m2`` square
metres of floor area and ``max_estates`` estates. A connected group that fits is one
unit; a larger group is split by growing units from its outermost estate, always adding
the candidate with the most links into the unit, so every unit is connected in the link
graph and compact. Units below ``min_households`` are merged into a linked neighbour
when the caps allow. Lone eligible estates are units of one.

Everything is deterministic and independent of row order (estates are processed in
``estate_id`` order), and a unit's id is derived from its members' ids, so the same
members give the same id on every run — which is what lets reviewers' decisions stick
(`gis.decisions`).
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import math
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.adjacency import neighbour_links
from gis.crs import metric_crs, to_metric
from gis.decisions import Decisions
from gis.eligibility import assess_eligibility
from gis.i18n import tr
from gis.skipped import not_analysed_estates
from gis.standards import Standard

__all__ = ["CAP_LABELS", "UnitCaps", "Units", "form_units", "link_reason_texts",
           "renovation_units", "unit_gap_texts", "unit_id"]

logger = logging.getLogger(__name__)


# Cap key -> (Chinese, English) label, for the caps a unit was or was not checked against.
CAP_LABELS: dict[str, tuple[str, str]] = {
    "max_households": ("户数上限", "household cap"),
    "max_floor_area_m2": ("建筑面积上限", "floor-area cap"),
    "max_estates": ("小区数上限", "estate-count cap"),
    "min_households": ("最小户数", "minimum households"),
}


@dataclass(frozen=True)
class UnitCaps:
    """Limits on a combined renovation unit; ``None`` means no limit.

    Attributes
    ----------
    max_households : float or None, default 3000
    max_floor_area_m2 : float or None, default 300000
        Total floor area (建筑面积), square metres.
    max_estates : int or None, default 12
    min_households : float or None, default None
        A unit with fewer households is merged into a linked neighbouring unit when the
        caps allow; otherwise it stands and is flagged.
    """

    max_households: float | None = 3000.0
    max_floor_area_m2: float | None = 300_000.0
    max_estates: int | None = 12
    min_households: float | None = None

    def fits(self, households: float, floor_area_m2: float, n_estates: int) -> bool:
        """Whether a unit with these totals respects every maximum."""
        return (
            (self.max_households is None or households <= self.max_households)
            and (self.max_floor_area_m2 is None or floor_area_m2 <= self.max_floor_area_m2)
            and (self.max_estates is None or n_estates <= self.max_estates)
        )


@dataclass(frozen=True)
class Units:
    """Result of `form_units`.

    Attributes
    ----------
    units : GeoDataFrame
        One row per unit (estates' CRS): ``unit_id``, ``n_estates``, ``households``,
        ``floor_area_m2`` (m²; both NaN — unknown, never 0 — when any member's value is
        unknown), ``households_known`` and ``floor_area_known_m2`` (the sum over members
        whose value is known), ``households_unknown_n`` and ``floor_area_unknown_n``
        (members without the value), ``caps_checked`` and ``caps_unchecked`` (","-joined
        cap keys of `CAP_LABELS`: the caps this unit was checked against, and those that
        could not be checked because members' values are unknown), ``size_checked``
        (bool: no cap left unchecked), ``assumed_members`` (members whose eligibility was
        assumed), ``build_year_min``, ``build_year_max``, ``members``,
        ``member_names`` (both "、"-joined), ``flags``, ``decision``, and, when the
        estates carry coverage columns, ``coverage_households_rate`` and
        ``coverage_gaps`` (Chinese text rendered from `gaps`); geometry: union of the
        members.
    membership : DataFrame
        ``estate_id``, ``unit_id``.
    links : GeoDataFrame
        The candidate links given, with ``decision`` (review decision on the link, if any)
        and ``in_unit`` (both ends ended up in the same unit).
    decisions : DataFrame
        Each decision read, with ``status`` ("applied" or why it no longer matches).
    caps : UnitCaps
    """

    units: gpd.GeoDataFrame
    membership: pd.DataFrame
    links: gpd.GeoDataFrame
    decisions: pd.DataFrame
    caps: UnitCaps
    #: Machine form of the living-circle gaps: one row per unit and category lacking it,
    #: ``unit_id``, ``category`` (key), ``name_zh``, ``name_en``, ``n_estates``,
    #: ``households``; None when the estates carry no coverage columns. Reports render
    #: ``coverage_gaps`` in any language from it (`unit_gap_texts`).
    gaps: pd.DataFrame | None = None


def unit_id(members: list[str] | tuple[str, ...]) -> str:
    """Stable id of a unit from its members' estate ids.

    ``U-<first id>`` for a unit of one; ``U-<first id>+<n-1>-<6 hex digits>`` otherwise,
    the digits hashing the sorted member ids, so any change of membership changes the id.

    Examples
    --------
    >>> unit_id(["XQ002"]), unit_id(["XQ024", "XQ023"])
    ('U-XQ002', 'U-XQ023+1-4f0521')

    """
    ids = sorted(str(m) for m in members)
    if len(ids) == 1:
        return f"U-{ids[0]}"
    digest = hashlib.sha1("|".join(ids).encode("utf-8")).hexdigest()[:6]
    return f"U-{ids[0]}+{len(ids) - 1}-{digest}"


def form_units(
    estates: gpd.GeoDataFrame,
    links: gpd.GeoDataFrame,
    *,
    caps: UnitCaps | None = None,
    decisions: Decisions | None = None,
    standard: Standard | None = None,
) -> Units:
    """Group eligible estates into combined renovation units.

    Parameters
    ----------
    estates : GeoDataFrame
        The eligible estates (unique ``estate_id``; ``households``, ``floor_area_m2``,
        ``build_year``, ``name`` where known). Missing households or floor area count as 0
        against the caps while grouping; the unit then says which caps it could not check
        (``caps_unchecked``) and its totals are unknown (NaN), the known part kept.
    links : GeoDataFrame
        From `gis.adjacency.neighbour_links`; rows with ``linked`` True join estates.
        Links to estates not in ``estates`` are ignored.
    caps : UnitCaps, optional
        Default `UnitCaps()`.
    decisions : Decisions, optional
        Reviewers' decisions, applied as described in `gis.decisions`.
    standard : Standard, optional
        With coverage columns (``covered_<key>``) on the estates, adds each unit's
        coverage summary.

    Returns
    -------
    Units

    Examples
    --------
    The eligible estates of the demo town, linked by `gis.adjacency.neighbour_links`:

    >>> from gis.sources import demo_folder
    >>> from gis.adjacency import neighbour_links
    >>> from gis.crs import metric_crs, to_metric
    >>> from gis.eligibility import assess_eligibility
    >>> from gis.layers import read_estates
    >>> from gis.standards import load_standard
    >>> est = assess_eligibility(read_estates(demo_folder() / "estates.gpkg"), load_standard())
    >>> eligible = to_metric(est[est["eligible"]], metric_crs(est))
    >>> units = form_units(eligible, neighbour_links(eligible))
    >>> len(units.units), int((units.units["n_estates"] > 1).sum())
    (48, 29)
    >>> big = units.units.set_index("unit_id").loc["U-XQ080+3-1ac344"]
    >>> big["members"], float(big["households"])
    ('XQ080、XQ081、XQ097、XQ098', 458.0)

    """
    t0 = time.perf_counter()
    caps = caps or UnitCaps()
    est = estates.sort_values("estate_id", kind="stable").reset_index(drop=True)
    ids = est["estate_id"].astype(str).to_numpy()
    pos = {e: k for k, e in enumerate(ids)}
    hh = _numbers(est, "households")
    fa = _numbers(est, "floor_area_m2")
    table = decisions.table.copy() if decisions is not None else _empty_decisions()
    table["status"] = ""

    pairs = set()
    lk = links[links["linked"]] if "linked" in links else links
    for a, b in zip(lk["estate_a"].astype(str), lk["estate_b"].astype(str)):
        if a in pos and b in pos:
            pairs.add((min(a, b), max(a, b)))
    for k, rec in table[table["target"] == "link"].iterrows():
        pair = (rec["estate_a"], rec["estate_b"])
        missing = [e for e in pair if e not in pos]
        if missing:
            table.at[k, "status"] = f"no longer matches: {'、'.join(missing)} not eligible or absent"
        elif rec["decision"] == "reject":
            pairs.discard(pair)
            table.at[k, "status"] = "applied"
        else:
            pairs.add(pair)
            table.at[k, "status"] = "applied"
    nbrs: list[list[int]] = [[] for _ in ids]
    for a, b in sorted(pairs):
        nbrs[pos[a]].append(pos[b])
        nbrs[pos[b]].append(pos[a])

    # Approved units with their members listed are pinned before grouping.
    pinned: list[list[int]] = []
    taken = np.zeros(len(ids), dtype=bool)
    decided: dict[str, str] = {}
    for k, rec in table[(table["target"] == "unit") & (table["decision"] == "approve")].iterrows():
        members = list(rec["members"])
        if not members:
            continue  # matched by id after grouping
        missing = [m for m in members if m not in pos]
        clash = [m for m in members if m in pos and taken[pos[m]]]
        if missing or clash:
            why = "not eligible or absent" if missing else "already in another approved unit"
            table.at[k, "status"] = f"no longer matches: {'、'.join(missing or clash)} {why}"
            continue
        group = sorted(pos[m] for m in members)
        if not _connected(group, nbrs):
            table.at[k, "status"] = "applied (members are no longer all linked)"
        else:
            table.at[k, "status"] = "applied"
        taken[group] = True
        pinned.append(group)
        decided[unit_id([ids[g] for g in group])] = "approve"

    groups = _grow([p for p in range(len(ids)) if not taken[p]], nbrs, hh, fa, caps)
    flags: dict[str, list[str]] = {}
    if caps.min_households is not None:
        groups, small = _merge_small(groups, nbrs, hh, fa, caps)
        for g in small:
            flags.setdefault(unit_id([ids[p] for p in g]), []).append(
                f"低于最小户数（{caps.min_households:,.0f}），无可合并的相邻单元")
    by_id = {unit_id([ids[p] for p in g]): g for g in groups}

    for k, rec in table[table["target"] == "unit"].iterrows():
        if rec["status"]:
            continue
        uid = rec["unit_id"] or unit_id(list(rec["members"]))
        if uid not in by_id:
            table.at[k, "status"] = "no longer matches: no unit with these members this run"
            continue
        group = by_id.pop(uid)
        if rec["decision"] == "approve":
            by_id[uid] = group
            decided[uid] = "approve"
        elif rec["decision"] == "reject":
            for p in group:
                by_id[unit_id([ids[p]])] = [p]
                decided[unit_id([ids[p]])] = "reject"
        else:  # split into at least two contiguous parts
            half = UnitCaps(caps.max_households, caps.max_floor_area_m2,
                            max(1, math.ceil(len(group) / 2)), None)
            for part in _grow(group, nbrs, hh, fa, half):
                part_id = unit_id([ids[p] for p in part])
                by_id[part_id] = part
                decided[part_id] = "split"
        table.at[k, "status"] = "applied"
    for g in pinned:
        by_id[unit_id([ids[p] for p in g])] = g

    for uid, g in by_id.items():
        if len(g) == 1 and not caps.fits(hh[g[0]], fa[g[0]], 1):
            flags.setdefault(uid, []).append("单个小区已超出单元上限")
    units, membership, gaps = _unit_table(est, ids, by_id, flags, decided, standard, caps)
    out_links = links.copy()
    unit_of = dict(zip(membership["estate_id"], membership["unit_id"]))
    out_links["in_unit"] = [
        unit_of.get(a) is not None and unit_of.get(a) == unit_of.get(b)
        for a, b in zip(out_links["estate_a"].astype(str), out_links["estate_b"].astype(str))
    ]
    link_decision = {(r.estate_a, r.estate_b): r.decision
                     for r in table[table["target"] == "link"].itertuples()}
    out_links["decision"] = [link_decision.get((min(a, b), max(a, b)), "") for a, b in
                             zip(out_links["estate_a"].astype(str), out_links["estate_b"].astype(str))]
    logger.info("Formed %d units from %d estates (%d joint) in %.2f s", len(units), len(ids),
                int((units["n_estates"] > 1).sum()), time.perf_counter() - t0)
    return Units(units=units, membership=membership, links=out_links, decisions=table, caps=caps,
                 gaps=gaps)


def _numbers(est: pd.DataFrame, col: str) -> np.ndarray:
    if col not in est:
        return np.zeros(len(est))
    return pd.to_numeric(est[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)


def _empty_decisions() -> pd.DataFrame:
    return pd.DataFrame(columns=["row", "target", "estate_a", "estate_b", "unit_id", "members",
                                 "decision", "comment"])


def _connected(group: list[int], nbrs: list[list[int]]) -> bool:
    inside = set(group)
    seen = {group[0]}
    stack = [group[0]]
    while stack:
        for m in nbrs[stack.pop()]:
            if m in inside and m not in seen:
                seen.add(m)
                stack.append(m)
    return len(seen) == len(inside)


def _grow(
    nodes: list[int], nbrs: list[list[int]], hh: np.ndarray, fa: np.ndarray, caps: UnitCaps
) -> list[list[int]]:
    """Partition ``nodes`` into connected groups within ``caps`` (positions are id ranks)."""
    remaining = set(nodes)
    degree = {n: sum(1 for m in nbrs[n] if m in remaining) for n in nodes}
    seeds = [(degree[n], n) for n in nodes]
    heapq.heapify(seeds)
    groups: list[list[int]] = []
    while remaining:
        d, seed = heapq.heappop(seeds)
        if seed not in remaining or d != degree[seed]:
            continue
        remaining.discard(seed)
        group = [seed]
        tot_h, tot_f = hh[seed], fa[seed]
        count: dict[int, int] = {}
        frontier: list[tuple[int, int]] = []
        blocked: set[int] = set()

        def touch(n: int) -> None:
            for m in nbrs[n]:
                if m in remaining and m not in blocked:
                    count[m] = count.get(m, 0) + 1
                    heapq.heappush(frontier, (-count[m], m))

        touch(seed)
        while frontier:
            c, n = heapq.heappop(frontier)
            if n not in remaining or n in blocked or -c != count[n]:
                continue
            if caps.fits(tot_h + hh[n], tot_f + fa[n], len(group) + 1):
                remaining.discard(n)
                group.append(n)
                tot_h += hh[n]
                tot_f += fa[n]
                touch(n)
            else:
                blocked.add(n)  # totals only grow, so it can never fit later
        for n in group:
            for m in nbrs[n]:
                if m in remaining:
                    degree[m] -= 1
                    heapq.heappush(seeds, (degree[m], m))
        groups.append(sorted(group))
    return groups


def _merge_small(
    groups: list[list[int]], nbrs: list[list[int]], hh: np.ndarray, fa: np.ndarray,
    caps: UnitCaps,
) -> tuple[list[list[int]], list[list[int]]]:
    """Merge units under ``caps.min_households`` into a linked neighbour where caps allow."""
    assert caps.min_households is not None
    label = {}
    members: dict[int, list[int]] = {}
    for k, g in enumerate(groups):
        members[k] = list(g)
        for p in g:
            label[p] = k
    alone: list[list[int]] = []
    for k in sorted(members, key=lambda k: members[k][0]):
        if k not in members:
            continue
        g = members[k]
        h = hh[g].sum()
        if h >= caps.min_households:
            continue
        options = []
        # Estates of approved (pinned) units have no label: they take no merges.
        for other in sorted({label[m] for p in g for m in nbrs[p]
                             if m in label and label[m] != k}):
            merged = members[other] + g
            if caps.fits(hh[merged].sum(), fa[merged].sum(), len(merged)):
                options.append((hh[merged].sum(), members[other][0], other))
        if not options:
            alone.append(sorted(g))
            continue
        _, _, other = min(options)
        members[other] = sorted(members[other] + g)
        for p in g:
            label[p] = other
        del members[k]
    alone_set = {tuple(a) for a in alone}
    final = [sorted(g) for g in members.values()]
    return final, [g for g in final if tuple(g) in alone_set]


def _unit_table(
    est: gpd.GeoDataFrame,
    ids: np.ndarray,
    by_id: dict[str, list[int]],
    flags: dict[str, list[str]],
    decided: dict[str, str],
    standard: Standard | None,
    caps: UnitCaps | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame | None]:
    uids = sorted(by_id)
    label = np.empty(len(ids), dtype=object)
    for uid in uids:
        label[by_id[uid]] = uid
    membership = pd.DataFrame({"estate_id": ids, "unit_id": label})
    frame = pd.DataFrame({
        "unit_id": label,
        "households": _numbers(est, "households"),
        "hh_known": est["households"].notna().to_numpy() if "households" in est
        else np.zeros(len(est), bool),
        "floor_area_m2": _numbers(est, "floor_area_m2"),
        "build_year": pd.to_numeric(est["build_year"], errors="coerce") if "build_year" in est
        else np.nan,
        "estate_id": ids,
        "name": est["name"].astype(str).to_numpy() if "name" in est else ids,
    })
    grouped = frame.groupby("unit_id", sort=True)
    units = pd.DataFrame({
        "n_estates": grouped.size(),
        "households": grouped["households"].sum(),
        "floor_area_m2": grouped["floor_area_m2"].sum().round(1),
        "build_year_min": grouped["build_year"].min().astype("Int64"),
        "build_year_max": grouped["build_year"].max().astype("Int64"),
        "members": grouped["estate_id"].agg("、".join),
        "member_names": grouped["name"].agg("、".join),
    })
    _unknown_totals(units, frame, est, caps or UnitCaps())
    units["flags"] = ["；".join(flags.get(u, [])) for u in units.index]
    units["decision"] = [decided.get(u, "") for u in units.index]
    gaps = None
    if standard is not None and all(f"covered_{k}" in est for k in standard.keys):
        gaps = _add_coverage(units, est, frame, standard)
    dissolved = gpd.GeoDataFrame({"unit_id": label}, geometry=est.geometry.values,
                                 crs=est.crs).dissolve(by="unit_id", sort=True)
    units = gpd.GeoDataFrame(units, geometry=dissolved.geometry.reindex(units.index).values,
                             crs=est.crs)
    return units.reset_index(names="unit_id"), membership, gaps


def _unknown_totals(units: pd.DataFrame, frame: pd.DataFrame, est: pd.DataFrame,
                    caps: UnitCaps) -> None:
    """Unknown stays unknown: totals with an unknown member are NaN, the known part kept.

    A cap is checked when every member's value is known, or when the known part alone
    already decides it (over a maximum, at or above the minimum); otherwise it could not
    be checked and the unit says so.
    """
    fa_known = (est["floor_area_m2"].notna().to_numpy() if "floor_area_m2" in est
                else np.zeros(len(est), bool))
    grouped = frame.assign(fa_known=fa_known).groupby("unit_id", sort=True)
    # The sums so far treat unknown as 0: they are the known parts.
    units["households_known"] = units["households"]
    units["households_unknown_n"] = (grouped.size() - grouped["hh_known"].sum()).astype(int)
    units["floor_area_known_m2"] = units["floor_area_m2"]
    units["floor_area_unknown_n"] = (grouped.size() - grouped["fa_known"].sum()).astype(int)
    units.loc[units["households_unknown_n"] > 0, "households"] = np.nan
    units.loc[units["floor_area_unknown_n"] > 0, "floor_area_m2"] = np.nan
    checked: list[str] = []
    unchecked: list[str] = []
    for uid in units.index:
        hh_k, n_hh = units.at[uid, "households_known"], units.at[uid, "households_unknown_n"]
        fa_k, n_fa = units.at[uid, "floor_area_known_m2"], units.at[uid, "floor_area_unknown_n"]
        done, open_ = [], []
        for key, limit, known, n_unknown, over in (
            ("max_households", caps.max_households, hh_k, n_hh, True),
            ("max_floor_area_m2", caps.max_floor_area_m2, fa_k, n_fa, True),
            ("max_estates", caps.max_estates, 0.0, 0, True),
            ("min_households", caps.min_households, hh_k, n_hh, False),
        ):
            if limit is None:
                continue
            decided = n_unknown == 0 or (known > limit if over else known >= limit)
            (done if decided else open_).append(key)
        checked.append(",".join(done))
        unchecked.append(",".join(open_))
    units["caps_checked"] = checked
    units["caps_unchecked"] = unchecked
    units["size_checked"] = [not u for u in unchecked]
    if "eligibility" in est:
        assumed = (est["eligibility"] == "assumed_eligible").to_numpy()
        units["assumed_members"] = np.bincount(
            frame["unit_id"].map({u: k for k, u in enumerate(units.index)}).to_numpy(dtype=int),
            weights=assumed.astype(float), minlength=len(units)).astype(int)
    else:
        units["assumed_members"] = 0


def _add_coverage(units: pd.DataFrame, est: pd.DataFrame, frame: pd.DataFrame,
                  standard: Standard) -> pd.DataFrame:
    """Add the coverage rate and gap text; return the gaps in machine form (`Units.gaps`)."""
    hh = frame["households"].to_numpy()
    rate_num = np.zeros(len(units))
    index = {u: k for k, u in enumerate(units.index)}
    row_of = frame["unit_id"].map(index).to_numpy()
    rows: list[tuple[int, int, str, str, str, int, float]] = []
    for order, c in enumerate(standard.categories):
        miss = ~est[f"covered_{c.key}"].to_numpy(dtype=bool)
        n_miss = np.bincount(row_of, weights=miss.astype(float), minlength=len(units))
        h_miss = np.bincount(row_of, weights=hh * miss, minlength=len(units))
        rate_num += np.bincount(row_of, weights=hh * ~miss, minlength=len(units))
        rows += [(int(k), order, c.key, c.name_zh, c.name_en, int(n_miss[k]), float(h_miss[k]))
                 for k in np.flatnonzero(n_miss)]
    # Over the households known: a unit with unknown members is rated on the rest.
    total = units["households_known"].fillna(0).to_numpy() * len(standard.categories)
    with np.errstate(invalid="ignore", divide="ignore"):
        units["coverage_households_rate"] = np.where(total > 0, rate_num / total, np.nan)
    gaps = pd.DataFrame(rows, columns=["row", "order", "category", "name_zh", "name_en",
                                       "n_estates", "households"]).sort_values(["row", "order"])
    gaps.insert(0, "unit_id", units.index.to_numpy()[gaps["row"].to_numpy(dtype=int)])
    gaps = gaps.drop(columns=["row", "order"]).reset_index(drop=True)
    units["coverage_gaps"] = unit_gap_texts(gaps, "zh").reindex(units.index).fillna("")
    return gaps


def link_reason_texts(links: pd.DataFrame, unit_of: pd.Series, lang: str = "zh") -> pd.Series:
    """Per unit id, why its members were linked: each link with its gap and facing length.

    ``links`` as in `Units.links` (``in_unit``, ``linked``, ``decision``, ``gap_m``,
    ``facing_m``); ``unit_of`` maps estate ids to unit ids. Words from `gis.i18n`.

    Examples
    --------
    >>> links = pd.DataFrame({"estate_a": ["E1"], "estate_b": ["E2"], "gap_m": [0.34],
    ...                       "facing_m": [118.6], "in_unit": [True], "linked": [True],
    ...                       "decision": [""]})
    >>> link_reason_texts(links, pd.Series({"E1": "U-E1+1"}), "en")["U-E1+1"]
    'E1–E2: gap 0.3 m, facing 119 m'
    """
    decision = links["decision"] if "decision" in links else pd.Series("", index=links.index)
    used = links[links["in_unit"].astype(bool)
                 & (links["linked"].astype(bool) | (decision == "approve"))]
    if used.empty:
        return pd.Series(dtype=object)
    text = pd.Series(
        [tr("link_reason", lang, a=a, b=b, gap_m=g, facing_m=f) for a, b, g, f in zip(
            used["estate_a"], used["estate_b"], used["gap_m"].round(1).astype(str),
            used["facing_m"].round(0).astype(int).astype(str))],
        index=used.index, dtype=object)
    return text.groupby(unit_of.reindex(used["estate_a"].astype(str)).to_numpy()).agg(
        tr("clause_sep", lang).join)


def unit_gap_texts(gaps: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """Per unit id, its living-circle gaps as text in ``lang`` (from `Units.gaps`).

    Examples
    --------
    >>> gaps = pd.DataFrame({"unit_id": ["U-1", "U-1"], "category": ["market", "clinic"],
    ...                      "name_zh": ["菜市场", "卫生服务站"], "name_en": ["Market", "Clinic"],
    ...                      "n_estates": [2, 1], "households": [1200.0, 300.0]})
    >>> unit_gap_texts(gaps, "en")["U-1"]
    'Market (2 estates, 1,200 households); Clinic (1 estates, 300 households)'
    >>> unit_gap_texts(gaps, "zh")["U-1"]
    '菜市场（2个小区，1,200户）；卫生服务站（1个小区，300户）'
    """
    name = tr("analysis.units.gap_name_column", lang)
    text = [tr("unit_gap", lang, category=c, n=n, households=h)
            for c, n, h in zip(gaps[name], gaps["n_estates"], gaps["households"])]
    return pd.Series(text, index=gaps.index, dtype=object).groupby(
        gaps["unit_id"].to_numpy(), sort=False).agg(tr("clause_sep", lang).join)


def renovation_units(
    estates: gpd.GeoDataFrame,
    standard: Standard,
    *,
    include_extended: bool = False,
    assume_unknown_eligible: bool = False,
    gap_m: float = 15.0,
    min_facing_m: float = 10.0,
    barriers: gpd.GeoDataFrame | None = None,
    caps: UnitCaps | None = None,
    decisions: Decisions | None = None,
) -> tuple[Units, gpd.GeoDataFrame]:
    """Eligibility, neighbour links and units in one call, in the estates' own CRS.

    Parameters
    ----------
    estates : GeoDataFrame
        All estates, from `gis.layers.read_estates` (any CRS); may carry coverage columns.
    standard : Standard
        Eligibility years and, for the coverage summary, categories.
    include_extended : bool, default False
        Include estates built in the extended period (2001–2005 by default).
    assume_unknown_eligible : bool, default False
        Take estates without a build year as eligible, marked ``assumed_eligible``.
    gap_m, min_facing_m : float
        Neighbour rule, metres (see `gis.adjacency.neighbour_links`).
    barriers : GeoDataFrame, optional
        From `gis.adjacency.barrier_features` (any CRS).
    caps : UnitCaps, optional
    decisions : Decisions, optional

    Returns
    -------
    (Units, GeoDataFrame)
        Units and links in the estates' CRS, and every estate with its eligibility;
        estates the reader left out (``estates.attrs["skipped"]``, `gis.skipped`) are
        rows with ``analysed`` False and eligibility ``not_analysed`` with the reason.

    Examples
    --------
    The bundled demo town: 85 of 150 estates eligible, in 48 units of which 29 join
    neighbouring estates.

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates
    >>> from gis.standards import load_standard
    >>> units, assessed = renovation_units(read_estates(demo_folder() / "estates.gpkg"),
    ...                                    load_standard())
    >>> int(assessed["eligible"].sum()), len(units.units), int((units.units["n_estates"] > 1).sum())
    (85, 48, 29)
    """
    assessed = assess_eligibility(estates, standard, include_extended=include_extended,
                                  assume_unknown_eligible=assume_unknown_eligible)
    assessed = _with_not_analysed(assessed, estates.attrs.get("skipped", []))
    metric = metric_crs(estates)
    eligible = to_metric(assessed[assessed["eligible"]].drop(columns="analysed"), metric)
    bar = to_metric(barriers, metric) if barriers is not None and len(barriers) else None
    links = neighbour_links(eligible, gap_m=gap_m, min_facing_m=min_facing_m, barriers=bar)
    result = form_units(eligible, links, caps=caps, decisions=decisions, standard=standard)
    back = Units(
        units=result.units.to_crs(estates.crs),
        membership=result.membership,
        links=result.links.to_crs(estates.crs),
        decisions=result.decisions,
        caps=result.caps,
        gaps=result.gaps,
    )
    return back, assessed


def _with_not_analysed(assessed: gpd.GeoDataFrame, skipped: list[dict]) -> gpd.GeoDataFrame:
    """Every estate read, the ones left out by ``invalid="skip"`` as "not analysed"."""
    assessed = assessed.copy()
    assessed["analysed"] = True
    rows = not_analysed_estates(skipped, assessed.crs)
    if rows.empty:
        return assessed
    rows["eligible"] = False
    rows["eligibility"] = "not_analysed"
    rows["eligibility_reason"] = "未分析：" + rows.pop("not_analysed_reason")
    rows["eligibility_reason_en"] = "not analysed: " + rows.pop("not_analysed_reason_en")
    out = pd.concat([assessed, rows], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=assessed.crs)
