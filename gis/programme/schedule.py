"""The annual plan (年度计划): which renovation units go in which year.

Every unit (`gis.units`: joint estates are one unit) goes to at most one plan year, so
its estates are always renovated in the same year. Rules:

* a year with a count target holds between ``estates`` and ``estates +
  over_target_estates`` estates (units are never split, so an exact count may be
  impossible), and at least its ``households`` / ``floor_area_m2`` targets;
* every *required* unit (members built by the standard's ``built_by`` year) is scheduled
  in or before ``all_eligible_by``; optional units (2001–2005) only where they help;
* a unit fixed to a year by decision (指定年度) stays there.

Among the plans that keep these rules, the smallest penalty comes first — estates above
the yearly targets, plus every optional (2001–2005) estate scheduled, so those are taken
only where the required ones cannot meet a target —
then the highest priority earliest: the plan maximises ``Σ priority × (n_years − year
index)``. So no two units could swap years to bring a higher-priority unit earlier
without breaking a rule or overshooting a target.

Solved exactly with `scipy.optimize.milp` (HiGHS) in two passes (least overshoot, then
priority) when the problem has at most ``MILP_MAX_VARS`` unit-year pairs and solves in
``MILP_TIME_S``; otherwise greedily (fixed units; each year filled with required units in priority
order, optional ones after them; then units of equal size swapped into priority order),
and the plan says which.
When the targets cannot be met, `InfeasibleTargets` says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.errors import GisError
from gis.programme.catalogue import Programme

__all__ = ["InfeasibleTargets", "Plan", "explain_infeasible", "schedule", "units_for_plan"]

logger = logging.getLogger(__name__)

MILP_MAX_VARS = 12_000  # bench/bench_schedule.py: 2,000 units × 4 years in ~5 s; 8,000 time out
MILP_TIME_S = 30.0


class InfeasibleTargets(GisError, ValueError):
    """The yearly targets cannot all be met; ``reasons`` lists why."""

    def __init__(self, reasons: list[str], method: str) -> None:
        self.reasons = reasons
        self.method = method
        super().__init__("the targets cannot be met: " + "; ".join(reasons) + ".")


@dataclass(frozen=True)
class Plan:
    """Result of `schedule`.

    Attributes
    ----------
    units : DataFrame
        The units given, with ``plan_year`` (Int64, missing = left in the reserve 储备) and
        ``rank_in_year`` (1 = highest priority of its year).
    years : DataFrame
        Per plan year: ``year``, ``target_estates``, ``max_estates``, ``estates``,
        ``households``, ``floor_area_m2``, ``units``, ``target_households``,
        ``target_floor_area_m2``.
    method : str
        "exact (scipy.optimize.milp)" or "greedy".
    overshoot : int
        The penalty: estates above the yearly targets plus optional estates scheduled
        (see the module docstring).
    """

    units: pd.DataFrame
    years: pd.DataFrame
    method: str
    overshoot: int


def _arrays(units: pd.DataFrame, programme: Programme) -> dict:
    years = [t.year for t in programme.years]
    n = units["n_estates"].to_numpy(dtype=float)
    hh = np.nan_to_num(pd.to_numeric(units["households"], errors="coerce").to_numpy(float))
    fa = np.nan_to_num(pd.to_numeric(units["floor_area_m2"], errors="coerce").to_numpy(float))
    fixed = [None if pd.isna(v) else int(v) for v in units["fixed_year"]]
    req = units["required"].to_numpy(dtype=bool)
    allowed = np.ones((len(units), len(years)), dtype=bool)
    if programme.all_eligible_by is not None:
        for j, y in enumerate(years):
            if y > programme.all_eligible_by:
                allowed[req, j] = False
    # Penalty of placing a unit in a year: its estates count above target in a year with a
    # count target (the constant Σ targets is subtracted later), and optional (2001–2005)
    # estates count once more wherever they go, so they are only scheduled where needed.
    pen = np.zeros((len(units), len(years)))
    for j, t in enumerate(programme.years):
        pen[:, j] = (n if t.estates is not None else 0.0) + np.where(req, 0.0, n)
    return {"years": years, "n": n, "hh": hh, "fa": fa, "fixed": fixed, "req": req,
            "allowed": allowed, "pen": pen,
            "p": units["priority"].to_numpy(dtype=float)}


def _penalty(assign: list[int | None], a: dict, programme: Programme) -> float:
    """Estates above target: Σ over assigned units of their penalty − Σ targets."""
    total = sum(a["pen"][u, j] for u, j in enumerate(assign) if j is not None)
    return float(total - sum(t.estates or 0 for t in programme.years))


def _feasible(assign: list[int | None], a: dict, programme: Programme) -> bool:
    for u, j in enumerate(assign):
        if a["fixed"][u] is not None and (j is None or a["years"][j] != a["fixed"][u]):
            return False
        if j is None:
            if a["req"][u] and programme.all_eligible_by is not None:
                return False
            continue
        if not a["allowed"][u, j]:
            return False
    for j, t in enumerate(programme.years):
        members = [u for u, k in enumerate(assign) if k == j]
        cnt = a["n"][members].sum()
        hh = a["hh"][members].sum()
        fa = a["fa"][members].sum()
        mx = programme.max_estates(t.year)
        if t.estates is not None and not (t.estates <= cnt <= mx):
            return False
        if t.households is not None and hh < t.households:
            return False
        if t.floor_area_m2 is not None and fa < t.floor_area_m2:
            return False
    return True


def explain_infeasible(units: pd.DataFrame, programme: Programme) -> list[str]:
    """Reasons the targets cannot be met, found by counting; may be empty when only a
    search could tell (sizes of whole units that cannot add up to a year's range).

    Examples
    --------
    >>> from dataclasses import replace
    >>> from gis.programme.catalogue import YearTarget, load_programme
    >>> prog = replace(load_programme("qinshui_2021_2024"), all_eligible_by=2022,
    ...                years=(YearTarget(2021, 3, None, None, ""),
    ...                       YearTarget(2022, None, None, None, "")))
    >>> units = pd.DataFrame({"unit_id": ["U1", "U2"], "n_estates": [1, 1],
    ...                       "households": [100.0, 80.0], "floor_area_m2": [9e3, 7e3],
    ...                       "priority": [0.5, 0.4], "fixed_year": pd.array([2023, None], "Int64"),
    ...                       "required": [True, True]})
    >>> for reason in explain_infeasible(units, prog):
    ...     print(reason)
    unit U1 is fixed to 2023, which is not a plan year (2021–2022)
    2021: target 3 estates but only 1 eligible estates in units that fit the year could go there
    the yearly targets add up to 3 estates but only 2 eligible estates exist
    """
    a = _arrays(units, programme)
    ids = units["unit_id"].astype(str).to_numpy()
    years = a["years"]
    reasons: list[str] = []
    for u, f in enumerate(a["fixed"]):
        if f is not None and f not in years:
            reasons.append(f"unit {ids[u]} is fixed to {f}, which is not a plan year "
                           f"({years[0]}–{years[-1]})")
        elif f is not None and not a["allowed"][u, years.index(f)]:
            reasons.append(f"unit {ids[u]} is fixed to {f}, after all_eligible_by "
                           f"{programme.all_eligible_by}")
    if "fixed_conflict" in units:
        for u in np.flatnonzero(units["fixed_conflict"].fillna("").astype(str).to_numpy() != ""):
            reasons.append(f"unit {ids[u]}: members fixed to different years "
                           f"({units['fixed_conflict'].iloc[u]}); joint estates share one year")
    for j, t in enumerate(programme.years):
        mx = programme.max_estates(t.year)
        fixed_here = [u for u, f in enumerate(a["fixed"]) if f == t.year]
        fixed_n = a["n"][fixed_here].sum()
        if mx is not None and fixed_n > mx:
            reasons.append(f"{t.year}: decisions fix {fixed_n:.0f} estates to the year, above its "
                           f"maximum {mx} (target {t.estates} + {programme.over_target_estates})")
        free = [u for u in range(len(ids)) if a["allowed"][u, j]
                and (a["fixed"][u] is None or a["fixed"][u] == t.year)]
        if t.estates is not None:
            fits = [u for u in free if a["n"][u] <= mx]
            if a["n"][fits].sum() < t.estates:
                reasons.append(f"{t.year}: target {t.estates} estates but only "
                               f"{a['n'][fits].sum():.0f} eligible estates in units that fit the "
                               f"year could go there")
        if t.households is not None and a["hh"][free].sum() < t.households:
            reasons.append(f"{t.year}: target {t.households:,.0f} households but the units that "
                           f"could go there have {a['hh'][free].sum():,.0f}")
        if t.floor_area_m2 is not None and a["fa"][free].sum() < t.floor_area_m2:
            reasons.append(f"{t.year}: target {t.floor_area_m2:,.0f} m² but the units that could "
                           f"go there have {a['fa'][free].sum():,.0f} m²")
    need = sum(t.estates or 0 for t in programme.years)
    if a["n"].sum() < need:
        reasons.append(f"the yearly targets add up to {need} estates but only "
                       f"{a['n'].sum():.0f} eligible estates exist")
    caps = [programme.max_estates(y) for y in years if y <= (programme.all_eligible_by or 9999)]
    if programme.all_eligible_by is not None and None not in caps:
        req_n = a["n"][a["req"]].sum()
        if req_n > sum(caps):
            reasons.append(f"all {req_n:.0f} estates built by the eligibility year must be "
                           f"scheduled by {programme.all_eligible_by}, but the years up to then "
                           f"hold at most {sum(caps)}")
        big = [u for u in np.flatnonzero(a["req"]) if a["n"][u] > max(caps)]
        for u in big:
            reasons.append(f"unit {ids[u]} has {a['n'][u]:.0f} estates, more than any year up to "
                           f"{programme.all_eligible_by} may hold ({max(caps)}); split it in "
                           f"`gis review` or raise over_target_estates")
    return reasons


def schedule(units: pd.DataFrame, programme: Programme, *, method: str = "auto") -> Plan:
    """Assign renovation units to plan years.

    Parameters
    ----------
    units : DataFrame
        One row per unit: ``unit_id``, ``n_estates`` (eligible members), ``households``,
        ``floor_area_m2`` (m²), ``priority`` (0–1), ``fixed_year`` (Int64, missing = free),
        ``required`` (bool: must be scheduled by ``all_eligible_by``); optional
        ``fixed_conflict`` (text naming members fixed to different years).
    programme : Programme
    method : {"auto", "exact", "greedy"}
        "auto": exact when at most `MILP_MAX_VARS` unit-year pairs, greedy otherwise or
        when the exact search runs out of time.

    Returns
    -------
    Plan

    Raises
    ------
    InfeasibleTargets
        With every reason found (counting checks first; then what the search proved).

    Examples
    --------
    Two years: 2021 takes exactly 3 estates (``over_target_estates`` = 0), 2022 the rest.
    The joint unit U3 (2 estates) is never split; 2021 gets U1, U4 and U2 (priorities
    0.9 + 0.5 + 0.2 = 1.6), which beats U1 and U3 (0.9 + 0.6 = 1.5).

    >>> from dataclasses import replace
    >>> from gis.programme.catalogue import YearTarget, load_programme
    >>> prog = replace(load_programme("qinshui_2021_2024"), all_eligible_by=2022,
    ...                over_target_estates=0,
    ...                years=(YearTarget(2021, 3, None, None, ""),
    ...                       YearTarget(2022, None, None, None, "")))
    >>> units = pd.DataFrame({"unit_id": ["U1", "U2", "U3", "U4"], "n_estates": [1, 1, 2, 1],
    ...                       "households": [100.0, 80.0, 300.0, 60.0],
    ...                       "floor_area_m2": [9e3, 7e3, 25e3, 5e3],
    ...                       "priority": [0.9, 0.2, 0.6, 0.5],
    ...                       "fixed_year": pd.array([None] * 4, "Int64"),
    ...                       "required": [True] * 4})
    >>> plan = schedule(units, prog)
    >>> plan.units[["unit_id", "plan_year", "rank_in_year"]].values.tolist()
    [['U1', 2021, 1], ['U2', 2021, 3], ['U3', 2022, 1], ['U4', 2021, 2]]
    >>> print(plan.years[["year", "estates", "households"]].to_string(index=False))
     year  estates  households
     2021        3       240.0
     2022        2       300.0
    >>> plan.method
    'exact (scipy.optimize.milp)'
    """
    units = units.reset_index(drop=True)
    reasons = explain_infeasible(units, programme)
    if reasons:
        raise InfeasibleTargets(reasons, "counting")
    a = _arrays(units, programme)
    size = len(units) * len(a["years"])
    assign = None
    used = "greedy"
    if method == "exact" or (method == "auto" and size <= MILP_MAX_VARS):
        assign, status = _milp(a, programme)
        used = "exact (scipy.optimize.milp)"
        if assign is None and status == "infeasible":
            raise InfeasibleTargets(
                ["the exact search proved that no assignment of whole units meets every "
                 "year's count range and minimums at once (unit sizes cannot add up to the "
                 "ranges); raise over_target_estates, change fixed years or split units"],
                used)
        if assign is None:
            logger.warning("Exact plan search stopped (%s); planning greedily instead.", status)
            used = "greedy (exact search timed out)"
    if assign is None:
        assign = _greedy(a, programme)
        if not _feasible(assign, a, programme):
            raise InfeasibleTargets(
                ["the greedy plan could not meet every target (the exact search was not run "
                 f"on {len(units)} units × {len(a['years'])} years); check the targets"], used)
    return _result(units, a, assign, programme, used)


def _milp(a: dict, programme: Programme) -> tuple[list[int | None] | None, str]:
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    nu, ny = len(a["n"]), len(a["years"])
    nv = nu * ny
    # variable u * ny + j: unit u goes to year j; constraints built sparse (one row per
    # unit, a few per year), so 10,000 units stay a few megabytes
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(var_idx: np.ndarray, coefs: np.ndarray, low: float, high: float) -> None:
        rows.append(np.full(len(var_idx), len(lo)))
        cols.append(var_idx)
        vals.append(coefs)
        lo.append(low)
        hi.append(high)

    must = a["req"] & (programme.all_eligible_by is not None)
    # one year at most per unit (exactly one for required units): all units in one block
    rows.append(np.repeat(np.arange(nu), ny))
    cols.append(np.arange(nv))
    vals.append(np.ones(nv))
    lo.extend(must.astype(float).tolist())
    hi.extend([1.0] * nu)
    every = np.arange(nu) * ny
    for j, t in enumerate(programme.years):
        mx = programme.max_estates(t.year)
        if t.estates is not None:
            add(every + j, a["n"], t.estates, mx)
        if t.households is not None:
            add(every + j, a["hh"], t.households, np.inf)
        if t.floor_area_m2 is not None:
            add(every + j, a["fa"], t.floor_area_m2, np.inf)
    matrix = sparse.csr_array((np.concatenate(vals), (np.concatenate(rows),
                                                      np.concatenate(cols))),
                              shape=(len(lo), nv))
    lb = np.zeros(nv)
    ub = a["allowed"].reshape(-1).astype(float)
    for u, f in enumerate(a["fixed"]):
        if f is not None:
            ub[u * ny:(u + 1) * ny] = 0
            ub[u * ny + a["years"].index(f)] = 1
            lb[u * ny + a["years"].index(f)] = 1
    pen = a["pen"].reshape(-1)
    cons = [LinearConstraint(matrix, lo, hi)]
    opts = {"time_limit": MILP_TIME_S, "mip_rel_gap": 0.0}
    first = milp(pen, constraints=cons, integrality=np.ones(nv), bounds=Bounds(lb, ub),
                 options=opts)
    if first.status == 2:
        return None, "infeasible"
    if first.status != 0 or first.x is None:
        return None, first.message
    best = float(np.round(first.fun))
    weight = np.array([ny - j for j in range(ny)], dtype=float)
    value = -(a["p"][:, None] * weight[None, :]).reshape(-1)
    cons.append(LinearConstraint(sparse.csr_array(pen[None, :]), -np.inf, best + 0.5))
    second = milp(value, constraints=cons, integrality=np.ones(nv), bounds=Bounds(lb, ub),
                  options=opts)
    if second.status != 0 or second.x is None:
        return None, second.message
    x = np.round(second.x).reshape(nu, ny)
    return [int(np.argmax(x[u])) if x[u].sum() > 0.5 else None for u in range(nu)], "optimal"


def _greedy(a: dict, programme: Programme) -> list[int | None]:
    nu = len(a["n"])
    # required units first (optional ones only where they are needed), each by priority
    order = sorted(range(nu), key=lambda u: (not a["req"][u], -a["p"][u]))
    assign: list[int | None] = [None] * nu
    years = a["years"]
    count = np.zeros(len(years))
    hh = np.zeros(len(years))
    fa = np.zeros(len(years))

    def put(u: int, j: int) -> None:
        assign[u] = j
        count[j] += a["n"][u]
        hh[j] += a["hh"][u]
        fa[j] += a["fa"][u]

    for u, f in enumerate(a["fixed"]):
        if f is not None:
            put(u, years.index(f))
    for j, t in enumerate(programme.years):
        if t.estates is None:
            continue
        mx = programme.max_estates(t.year)
        for u in order:
            short = (count[j] < t.estates or (t.households or 0) > hh[j]
                     or (t.floor_area_m2 or 0) > fa[j])
            if not short:
                break
            if assign[u] is None and a["allowed"][u, j] and count[j] + a["n"][u] <= mx:
                put(u, j)
    if programme.all_eligible_by is not None:
        open_years = [j for j, t in enumerate(programme.years)
                      if t.estates is None and t.year <= programme.all_eligible_by]
        for u in order:
            if assign[u] is None and a["req"][u]:
                room = [j for j, t in enumerate(programme.years) if a["allowed"][u, j]
                        and t.estates is not None
                        and count[j] + a["n"][u] <= programme.max_estates(t.year)]
                target = open_years[-1] if open_years else (room[0] if room else None)
                if target is not None:
                    put(u, target)
    # Units of equal size can trade years without changing any count: put them in
    # priority order (earliest year to the highest priority), fixed units excepted.
    for size in sorted(set(a["n"].tolist())):
        for req in (True, False):
            members = [u for u in range(nu) if a["n"][u] == size and a["fixed"][u] is None
                       and bool(a["req"][u]) == req]
            slots = sorted((assign[u] for u in members),
                           key=lambda j: len(years) if j is None else j)
            trial = list(assign)
            for u, j in zip(sorted(members, key=lambda u: -a["p"][u]), slots):
                trial[u] = j
            if _feasible(trial, a, programme) or not _feasible(assign, a, programme):
                assign = trial
    return assign


def _result(units: pd.DataFrame, a: dict, assign: list[int | None], programme: Programme,
            method: str) -> Plan:
    out = units.copy()
    out["plan_year"] = pd.array([None if j is None else a["years"][j] for j in assign],
                                dtype="Int64")
    out["rank_in_year"] = pd.array([pd.NA] * len(out), dtype="Int64")
    for _, idx in out.groupby("plan_year").groups.items():
        ranked = out.loc[idx].sort_values(["priority", "unit_id"], ascending=[False, True]).index
        out.loc[ranked, "rank_in_year"] = np.arange(1, len(ranked) + 1)
    rows = []
    for j, t in enumerate(programme.years):
        m = [u for u, k in enumerate(assign) if k == j]
        rows.append({"year": t.year, "target_estates": t.estates,
                     "max_estates": programme.max_estates(t.year),
                     "estates": int(a["n"][m].sum()), "households": float(a["hh"][m].sum()),
                     "floor_area_m2": float(a["fa"][m].sum()), "units": len(m),
                     "target_households": t.households,
                     "target_floor_area_m2": t.floor_area_m2, "source": t.source})
    return Plan(out, pd.DataFrame(rows), method, int(round(_penalty(assign, a, programme))))


def units_for_plan(assessed: pd.DataFrame, membership: pd.DataFrame, priority: pd.DataFrame,
                   survey: pd.DataFrame | None, built_by: int) -> pd.DataFrame:
    """The units table `schedule` takes, from eligible estates and their units.

    Parameters
    ----------
    assessed : DataFrame
        Estates with ``eligible`` (from `gis.eligibility.assess_eligibility`),
        ``build_year``, ``households``, ``floor_area_m2``.
    membership : DataFrame
        ``estate_id``, ``unit_id`` (from `gis.units`).
    priority : DataFrame
        From `gis.programme.priority.estate_priority` (index ``estate_id``).
    survey : DataFrame, optional
        Supplies ``fixed_year``.
    built_by : int
        Units with a member built by this year are required.

    Examples
    --------
    >>> assessed = pd.DataFrame({"estate_id": ["XQ1", "XQ2", "XQ3", "XQ4"],
    ...                          "eligible": [True, True, True, False],
    ...                          "build_year": [1990, 1995, 2003, 2015],
    ...                          "households": [100, 80, 60, 200],
    ...                          "floor_area_m2": [9e3, 7e3, 5e3, 2e4]})
    >>> membership = pd.DataFrame({"estate_id": ["XQ1", "XQ2"], "unit_id": ["U1", "U1"]})
    >>> priority = pd.DataFrame({"priority": [0.8, 0.4, 0.5, 0.1]},
    ...                         index=pd.Index(["XQ1", "XQ2", "XQ3", "XQ4"], name="estate_id"))
    >>> units = units_for_plan(assessed, membership, priority, None, built_by=2000)
    >>> units[["unit_id", "members", "n_estates", "households", "priority", "required"]
    ...       ].values.tolist()
    [['U-XQ3', 'XQ3', 1, 60.0, 0.5, False], ['U1', 'XQ1、XQ2', 2, 180.0, 0.6000000000000001, True]]
    """
    est = assessed[assessed["eligible"]].copy()
    est["estate_id"] = est["estate_id"].astype(str)
    est = est.merge(membership.astype({"estate_id": str}), on="estate_id", how="left")
    est["unit_id"] = est["unit_id"].fillna("U-" + est["estate_id"])
    est["priority"] = priority.reindex(est["estate_id"])["priority"].to_numpy()
    fixed = (survey["fixed_year"].reindex(est["estate_id"]).to_numpy()
             if survey is not None else [pd.NA] * len(est))
    est["fixed_year"] = pd.array(fixed, dtype="Int64")
    year = pd.to_numeric(est["build_year"], errors="coerce")
    est["required"] = (year <= built_by).to_numpy()
    rows = []
    for uid, g in est.groupby("unit_id", sort=True):
        years = sorted({int(v) for v in g["fixed_year"].dropna()})
        rows.append({
            "unit_id": uid, "members": "、".join(sorted(g["estate_id"])),
            "n_estates": len(g), "households": float(np.nansum(g["households"].astype(float))),
            "floor_area_m2": float(np.nansum(pd.to_numeric(g.get("floor_area_m2", 0.0),
                                                          errors="coerce"))),
            "priority": float(g["priority"].mean()),
            "fixed_year": years[0] if len(years) == 1 else pd.NA,
            "fixed_conflict": "、".join(map(str, years)) if len(years) > 1 else "",
            "required": bool(g["required"].any()),
        })
    out = pd.DataFrame(rows)
    out["fixed_year"] = pd.array(out["fixed_year"], dtype="Int64")
    return out
