"""The annual plan: properties against a brute-force enumeration of every assignment of
units to years (or to the reserve) on small instances, and infeasible targets explained."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.programme.catalogue import Programme, YearTarget, load_programme
from gis.programme.schedule import InfeasibleTargets, schedule


def programme(targets, *, over=0, all_by=None, hh=None) -> Programme:
    years = tuple(YearTarget(2021 + i, t, (hh or {}).get(i), None, "test")
                  for i, t in enumerate(targets))
    return Programme("测试", "test", "", "lianyungang_15min", True, all_by, over, 6, years,
                     {k: 1.0 for k in ("age", "households", "basic_lacking", "circle_gaps",
                                       "support")}, 2021)


def oracle_feasible(assign, units, prog) -> bool:
    """Independent check of every rule, written from the module docstring."""
    years = [t.year for t in prog.years]
    for u, y in enumerate(assign):
        f = units["fixed_year"].iloc[u]
        if not pd.isna(f) and y != int(f):
            return False
        if units["required"].iloc[u] and prog.all_eligible_by is not None:
            if y is None or y > prog.all_eligible_by:
                return False
    for t in prog.years:
        sel = [u for u, y in enumerate(assign) if y == t.year]
        n = units["n_estates"].iloc[sel].sum()
        if t.estates is not None and not t.estates <= n <= t.estates + prog.over_target_estates:
            return False
        if t.households is not None and units["households"].iloc[sel].sum() < t.households:
            return False
    assert set(y for y in assign if y is not None) <= set(years)
    return True


def oracle_penalty(assign, units, prog) -> int:
    pen = 0
    for u, y in enumerate(assign):
        if y is None:
            continue
        n = int(units["n_estates"].iloc[u])
        if prog.target(y).estates is not None:
            pen += n
        if not units["required"].iloc[u]:
            pen += n
    return pen - sum(t.estates or 0 for t in prog.years)


def brute_force(units, prog):
    years = [None] + [t.year for t in prog.years]
    return [a for a in itertools.product(years, repeat=len(units))
            if oracle_feasible(list(a), units, prog)]


@st.composite
def instances(draw):
    n = draw(st.integers(1, 6))
    ny = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    prio = draw(st.permutations(list(range(1, n + 1))))
    required = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    targets = draw(st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=ny, max_size=ny))
    fixed = [pd.NA] * n
    if draw(st.booleans()):
        fixed[draw(st.integers(0, n - 1))] = 2021 + draw(st.integers(0, ny - 1))
    units = pd.DataFrame({
        "unit_id": [f"U{i}" for i in range(n)], "n_estates": sizes,
        "households": [100.0 * s for s in sizes], "floor_area_m2": 1000.0,
        "priority": [p / n for p in prio], "fixed_year": pd.array(fixed, dtype="Int64"),
        "required": required})
    prog = programme(targets, over=draw(st.integers(0, 2)),
                     all_by=draw(st.sampled_from([None, 2021 + ny - 1])))
    return units, prog


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_exact_plan_meets_targets_iff_feasible_and_respects_priority(inst):
    units, prog = inst
    feasible = brute_force(units, prog)
    if not feasible:
        with pytest.raises(InfeasibleTargets) as err:
            schedule(units, prog, method="exact")
        assert err.value.reasons and str(err.value)
        return
    plan = schedule(units, prog, method="exact")
    assign = [None if pd.isna(y) else int(y) for y in plan.units["plan_year"]]
    # targets met, fixed decisions kept, every unit in one year (or the reserve)
    assert oracle_feasible(assign, units, prog)
    best = min(oracle_penalty(list(a), units, prog) for a in feasible)
    assert oracle_penalty(assign, units, prog) == best == plan.overshoot
    # priority: no higher-priority unit sits later (or in the reserve) than a lower one
    # when swapping their years keeps every rule and the penalty
    p = units["priority"].to_numpy()
    free = units["fixed_year"].isna().to_numpy()
    rank = {None: 99, **{t.year: i for i, t in enumerate(prog.years)}}
    for a, b in itertools.permutations(range(len(units)), 2):
        if p[a] > p[b] and free[a] and free[b] and rank[assign[a]] > rank[assign[b]]:
            swapped = list(assign)
            swapped[a], swapped[b] = assign[b], assign[a]
            assert not (oracle_feasible(swapped, units, prog)
                        and oracle_penalty(swapped, units, prog) <= best), (a, b, assign)
    # within a year, ranks follow priority
    for _, g in plan.units.dropna(subset=["plan_year"]).groupby("plan_year"):
        assert g.sort_values("rank_in_year")["priority"].is_monotonic_decreasing


@settings(max_examples=60, deadline=None)
@given(instances())
def test_greedy_plan_meets_targets_when_it_returns(inst):
    units, prog = inst
    try:
        plan = schedule(units, prog, method="greedy")
    except InfeasibleTargets as err:
        assert err.reasons
        return
    assign = [None if pd.isna(y) else int(y) for y in plan.units["plan_year"]]
    assert oracle_feasible(assign, units, prog)
    assert plan.method == "greedy"


def unit_table(sizes, required=None, fixed=None):
    n = len(sizes)
    return pd.DataFrame({
        "unit_id": [f"U{i}" for i in range(n)], "n_estates": sizes,
        "households": [100.0] * n, "floor_area_m2": 1000.0,
        "priority": np.linspace(1, 0.1, n),
        "fixed_year": pd.array(fixed or [pd.NA] * n, dtype="Int64"),
        "required": required or [True] * n})


def test_infeasible_targets_say_why():
    with pytest.raises(InfeasibleTargets, match=r"target 10 estates but only 4 eligible"):
        schedule(unit_table([1, 1, 2]), programme([10]))
    with pytest.raises(InfeasibleTargets, match=r"unit U2 has 5 estates, more than any year up "
                                                 r"to 2022 may hold \(3\)"):
        schedule(unit_table([1, 1, 5]), programme([2, 1], over=1, all_by=2022))
    with pytest.raises(InfeasibleTargets, match=r"2021: decisions fix 3 estates to the year, "
                                                 r"above its maximum 2"):
        schedule(unit_table([1, 1, 1, 1], fixed=[2021, 2021, 2021, pd.NA]), programme([2, 2]))
    with pytest.raises(InfeasibleTargets, match=r"households"):
        schedule(unit_table([1, 1]), programme([1], hh={0: 500.0}))
    # sizes 2 and 2 cannot make exactly 3: only the search can tell
    with pytest.raises(InfeasibleTargets, match=r"exact search proved"):
        schedule(unit_table([2, 2]), programme([3]), method="exact")


def test_seed_programmes_load():
    qs = load_programme("qinshui_2021_2024")
    assert [(t.year, t.estates) for t in qs.years] == [(2021, 10), (2022, 16), (2023, 7),
                                                       (2024, None)]
    assert qs.all_eligible_by == 2024 and qs.include_extended
    lyg = load_programme("lianyungang_2021_2023")
    assert lyg.total == {"estates": 399, "households": 74365, "floor_area_m2": 7416800}
    assert sum(t.estates for t in lyg.years) == 399
    for p in (qs, lyg):
        assert all(t.source for t in p.years)
    assert replace(qs, over_target_estates=0).max_estates(2021) == 10


def test_auto_falls_back_to_greedy_and_says_so(monkeypatch):
    import gis.programme.schedule as sched

    units = unit_table([1, 1, 1, 2, 1], required=[True, True, False, True, True])
    prog = programme([2, 2, None], over=1, all_by=2023)
    assert schedule(units, prog).method == "exact (scipy.optimize.milp)"
    monkeypatch.setattr(sched, "MILP_MAX_VARS", 1)
    plan = schedule(units, prog)
    assert plan.method == "greedy"
    assign = [None if pd.isna(y) else int(y) for y in plan.units["plan_year"]]
    assert oracle_feasible(assign, units, prog)


def test_bench_quick_run_checks_every_plan(tmp_path):
    import importlib.util
    import sys

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("bench_schedule",
                                                  ROOT / "bench" / "bench_schedule.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_schedule"] = module
    spec.loader.exec_module(module)
    result = module.main(["--quick", "--out", str(tmp_path / "s.md")])
    assert result["verified"] and result["rows"][0]["exact_penalty"] <= \
        result["rows"][0]["greedy_penalty"]
